#!/bin/bash
# Run every test: the cmocka unit tests of the engine, then each end-to-end
# script in tests/e2e/ inside its own network namespace (loopback only).
# Ends with "N passed, N failed" and exits non-zero on any failure.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
case $build in /*) ;; *) build=$top/$build ;; esac
pass=0 fail=0 skip=0
failed_names=()
only=${1:-} # words: run only what contains one of them
# SOCKSHIM_FRONTEND=seccomp (make test FRONTEND=seccomp): the end-to-end
# scripts that say they apply to both front ends (a line "# frontends:
# preload, seccomp") run their programs under the seccomp supervisor.
frontend=${SOCKSHIM_FRONTEND:-preload}

selected() { # NAME: is it among what $only asks for?
	[ -z "$only" ] && return 0
	local w
	for w in $only; do [[ $1 == *$w* ]] && return 0; done
	return 1
}

count_tap() { # name output
	local p f
	p=$(grep -c '^ok - ' <<<"$2")
	f=$(grep -c '^not ok - ' <<<"$2")
	pass=$((pass + p)); fail=$((fail + f))
	[ "$f" -gt 0 ] && failed_names+=("$1")
	return 0
}

for t in "$build"/tests/unit-*; do
	[ -x "$t" ] || continue
	[ "$frontend" = preload ] || continue # the engine's: the same for both
	selected "$(basename "$t")" || continue
	out=$(CMOCKA_MESSAGE_OUTPUT=stdout timeout 120 "$t" 2>&1); rc=$?
	echo "$out" | grep -E '^\[ +(OK|FAILED|PASSED|ERROR) +\]|^\[  FAILED  \]' | grep -v '^\[ *OK *\]' || true
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' <<<"$out" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' <<<"$out" | tail -1)
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
	if [ $rc -ne 0 ] && [ "${f:-0}" -eq 0 ]; then fail=$((fail + 1)); fi
	[ $rc -ne 0 ] && { failed_names+=("$(basename "$t")"); echo "$out" | tail -30; }
	echo "$(basename "$t"): ${p:-0} passed, ${f:-0} failed"
done

# A sanitized build (make test SANITIZE=...): every report goes to a file
# under $T.san, and a report fails the script. The sanitizer's runtime comes
# in as the library's dependency, after libc, in programs that are not built
# with it (python3, curl): the shim's own code is still checked (stack,
# globals, UB), libc's malloc is not replaced. Our probes are built with the
# sanitizer and get all of it. (Preloading the runtime into every process
# instead makes curl hang and bash crash under TSan.)
san_rt=$(ldd "$build/libsockshim.so" 2>/dev/null | awk '$1 ~ /^lib(asan|tsan|ubsan)\.so/ { print $3; exit }')

# Each script runs in new network and PID namespaces: only loopback, and when
# the script ends the kernel kills whatever it left running. Its /dev/shm is
# its own, so host-scope rotation files from earlier runs (named after a
# policy file's inode, which a new file may reuse) cannot leak into it.
# Its System V IPC namespace too: the same for host-scope cursor segments.
netns() {
	# A minimal system (debootstrap's minbase) may have no /etc/hosts or no
	# nsswitch.conf (then glibc asks DNS first): there, a copy of /etc is
	# mounted over it in the namespace with localhost as 127.0.0.1 and
	# "hosts: files dns", and nothing outside changes
	local local_etc='{ { [ -e /etc/nsswitch.conf ] && grep -qs "^[^#]*[[:space:]]localhost" /etc/hosts; } || { d=/dev/shm/.etc && mkdir "$d" && cp -a /etc/. "$d"/ 2>/dev/null; { grep -qs "^[^#]*[[:space:]]localhost" "$d/hosts" || printf "127.0.0.1 localhost\n" >>"$d/hosts"; } && { [ -e "$d/nsswitch.conf" ] || printf "hosts: files dns\n" >"$d/nsswitch.conf"; } && mount --bind "$d" /etc; }; }'
	if [ "$(id -u)" = 0 ]; then
		unshare -n -p -i -f -m --mount-proc -- sh -c "ip link set lo up && mount -t tmpfs -o mode=1777 tmpfs /dev/shm && $local_etc"' && exec "$@"' sh "$@"
	else
		unshare -rn -p -i -f -m --mount-proc -- sh -c "ip link set lo up && mount -t tmpfs -o mode=1777 tmpfs /dev/shm && $local_etc"' && exec "$@"' sh "$@"
	fi
}

for s in "$top"/tests/e2e/*.sh "$top"/examples/*/test.sh; do
	[ -f "$s" ] || continue
	name=${s#"$top"/}
	selected "$name" || continue
	[ "$frontend" = preload ] || grep -q '^# frontends: .*seccomp' "$s" || continue
	T=$(mktemp -d)
	san_env=()
	if [ -n "$san_rt" ]; then
		mkdir -p "$T.san"
		# the runtime comes after the shim in the list, and programs that
		# are not ours leak by design: leaks are the unit tests' and fuzzers' job
		san_env=(ASAN_OPTIONS="verify_asan_link_order=0:detect_leaks=0:log_path=$T.san/asan"
			UBSAN_OPTIONS="print_stacktrace=1:log_path=$T.san/ubsan"
			TSAN_OPTIONS="log_path=$T.san/tsan")
	fi
	# output to a file, not a pipe: nothing left behind can hold the runner
	(cd "$T" && env "${san_env[@]}" SHIM=$build/libsockshim.so BUILD=$build TOP=$top T=$T SOCKSHIM_FRONTEND=$frontend \
		timeout -k 5 300 bash -c "$(declare -f netns); netns bash '$s'" >"$T.out" 2>&1 </dev/null)
	rc=$?
	if [ -n "$san_rt" ]; then
		for r in "$T.san"/*; do
			[ -f "$r" ] || continue
			echo "not ok - sanitizer report $(basename "$r"):" >>"$T.out"
			sed 's/^/#   | /' "$r" | head -40 >>"$T.out"
			rc=1
		done
		rm -rf "$T.san"
	fi
	out=$(cat "$T.out")
	rm -rf "$T" "$T.out"
	if [ $rc -eq 77 ]; then
		skip=$((skip + 1)); echo "$name: skipped ($(tail -1 <<<"$out"))"; continue
	fi
	count_tap "$name" "$out"
	if [ $rc -ne 0 ] && ! grep -q '^not ok - ' <<<"$out"; then
		fail=$((fail + 1)); failed_names+=("$name (exit $rc)")
	fi
	if [ $rc -ne 0 ]; then
		echo "$out" | sed "s|^|$name: |"
	else
		echo "$name: $(grep -c '^ok - ' <<<"$out") passed"
	fi
done

[ ${#failed_names[@]} -gt 0 ] && printf 'failed: %s\n' "${failed_names[@]}"
if [ $skip -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ $fail -eq 0 ]

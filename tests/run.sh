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
only=${1:-}

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
	[ -n "$only" ] && [[ $(basename "$t") != *$only* ]] && continue
	out=$(CMOCKA_MESSAGE_OUTPUT=stdout timeout 120 "$t" 2>&1); rc=$?
	echo "$out" | grep -E '^\[ +(OK|FAILED|PASSED|ERROR) +\]|^\[  FAILED  \]' | grep -v '^\[ *OK *\]' || true
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' <<<"$out" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' <<<"$out" | tail -1)
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
	if [ $rc -ne 0 ] && [ "${f:-0}" -eq 0 ]; then fail=$((fail + 1)); fi
	[ $rc -ne 0 ] && { failed_names+=("$(basename "$t")"); echo "$out" | tail -30; }
	echo "$(basename "$t"): ${p:-0} passed, ${f:-0} failed"
done

# Each script runs in new network and PID namespaces: only loopback, and when
# the script ends the kernel kills whatever it left running.
netns() {
	if [ "$(id -u)" = 0 ]; then
		unshare -n -p -f -m --mount-proc -- sh -c 'ip link set lo up && exec "$@"' sh "$@"
	else
		unshare -rn -p -f -m --mount-proc -- sh -c 'ip link set lo up && exec "$@"' sh "$@"
	fi
}

for s in "$top"/tests/e2e/*.sh "$top"/examples/*/test.sh; do
	[ -f "$s" ] || continue
	name=${s#"$top"/}
	[ -n "$only" ] && [[ $name != *$only* ]] && continue
	T=$(mktemp -d)
	# output to a file, not a pipe: nothing left behind can hold the runner
	(cd "$T" && SHIM=$build/libsockshim.so BUILD=$build TOP=$top T=$T timeout -k 5 300 \
		bash -c "$(declare -f netns); netns bash '$s'" >"$T.out" 2>&1 </dev/null)
	rc=$?
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

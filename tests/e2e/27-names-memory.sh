#!/bin/bash
# 27: rewritten results are ordinary memory to the program: getaddrinfo and
# freeaddrinfo of rewritten (IPv4, IPv6, a list of three) and refused names,
# 3,000 rounds with varied hints, are clean under AddressSanitizer with leak
# detection (nameprobe built with -fsanitize=address,undefined, the shim
# preloaded after the ASan runtime; in a SANITIZE build, the suite's own
# sanitized probe) and under valgrind --leak-check=full. Controls: the same
# loop that never frees its results (of localhost, from libc) is reported by
# both.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/names.sh"
names_preload_only

P=$(policy mem.ini <<'INI'
[global]
log = none

[v4]
on = resolve
host = v4.example.test
rewrite = 127.0.0.1

[v6]
on = resolve
host = v6.example.test
rewrite = ::1

[multi]
on = resolve
host = multi.example.test
rewrite = 127.0.0.3, ::1, 127.0.0.1

[refused]
on = resolve
host = *.refused.test
deny = EAI_NONAME
INI
)
# the controls' policy: one that loads today, whatever the shim knows of names
C=$(policy control.ini <<'INI'
[global]
log = none
INI
)
NAMES="v4.example.test v6.example.test multi.example.test x.refused.test"

if ldd "$SHIM" | grep -q libasan; then
	# the suite's sanitized build: its probe has ASan; tests/run.sh fails
	# the test on any report (log_path), leaks are asked for here
	for n in $NAMES; do
		out=$(ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=1" shim "$P" "$NAMEPROBE" loop "$n" 3000 2>&1)
		expect_match "ASan build: $n, 3000 rounds" "$out" '^loop 3000 '
	done
else
	ASAN_RT=$(gcc -print-file-name=libasan.so)
	if [ -e "$ASAN_RT" ]; then
		gcc -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
			-o "$T/nameprobe-asan" "$TOP/tests/helpers/nameprobe.c" -lpthread
		asan() { timeout 60 env ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1 \
			SOCKSHIM_POLICY="$P" LD_PRELOAD="$ASAN_RT:$SHIM" "$T/nameprobe-asan" "$@" 2>&1; }
		for n in $NAMES; do
			out=$(asan loop "$n" 3000); rc=$?
			case $n in x.refused.test) want='^loop 3000 entries=0 errors=3000$' ;; *) want='^loop 3000 entries=[1-9][0-9]* errors=[0-9]+$' ;; esac
			expect_match "ASan: $n, 3000 getaddrinfo/freeaddrinfo rounds" "$out" "$want"
			check "ASan: $n: no report, exit 0 (rc=$rc)" sh -c "[ $rc = 0 ] && ! grep -q Sanitizer <<'X'
$out
X"
		done
		out=$(P=$C asan loop localhost 300); rc=$?
		expect_match "control: ASan with the shim, libc's own answers freed: clean (rc=$rc)" "$rc/$out" '^0/loop 300 entries=[1-9]'
		out=$(P=$C asan loop localhost 100 leak)
		expect_match "control: ASan reports results never freed" "$out" 'LeakSanitizer: detected memory leaks'
	else
		not_ok "no ASan runtime ($ASAN_RT; Debian package libasan8)"
	fi
	if command -v valgrind >/dev/null; then
		vg() { timeout 120 env SOCKSHIM_POLICY="$P" LD_PRELOAD="$SHIM" valgrind -q --leak-check=full \
			--errors-for-leak-kinds=definite --error-exitcode=9 "$NAMEPROBE" "$@" 2>&1; }
		for n in v4.example.test multi.example.test; do
			out=$(vg loop "$n" 300); rc=$?
			expect_eq "valgrind: $n, 300 rounds: no error, nothing definitely lost" "$rc" 0
			[ $rc = 0 ] || printf '%s\n' "$out" | head -30 | sed 's/^/#   /'
		done
		P=$C vg loop localhost 50 >/dev/null
		expect_eq "control: valgrind with the shim, libc's own answers freed: clean" "$?" 0
		P=$C vg loop localhost 20 leak >/dev/null
		expect_eq "control: valgrind reports results never freed (exit 9)" "$?" 9
	fi
fi
finish

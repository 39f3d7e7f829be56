#!/bin/bash
# frontends: preload, seccomp
# 36: a blocking connect that a rule rewrites to an address that never
# answers (veth neighbours whose MAC nobody has: the SYNs vanish),
# interrupted by a signal (EINTR) and then closed by the program, leaves no
# socket behind: ss shows no SYN-SENT connection while the program lives
# on, as bare. The supervisor used to make that connect itself in a worker
# whose duplicate of the socket kept the attempt alive (SYNs to the
# rewritten address) after the program had closed its fd.
. "$TOP/tests/lib.sh"

if ! ip link add rwe0 type veth peer name rwe1 2>/dev/null; then
	echo "skipped: cannot make a veth pair here"
	exit 77
fi
ip link set rwe0 up && ip link set rwe1 up
ip addr add 10.9.0.1/24 dev rwe0
ip neigh add 10.9.0.2 lladdr 02:00:00:00:00:02 dev rwe0 nud permanent
ip neigh add 10.9.0.5 lladdr 02:00:00:00:00:05 dev rwe0 nud permanent

synsent() { ss -Htn state syn-sent | wc -l | tr -d ' '; }

# run WHO: the program (bare or under the rule) in the background; ss
# 0.5 s after its start (in its connect) and 2.5 s (1.5 s after its close)
run() {
	if [ "$1" = bare ]; then
		"$BUILD/tests/eintr_close" 10.9.0.2 80 3 >"$T/$1.out" &
	else
		shim "$T/rw.ini" timeout 20 "$BUILD/tests/eintr_close" 10.9.0.2 80 3 >"$T/$1.out" 2>"$T/$1.log" &
	fi
	pid=$!
	sleep 0.5
	during=$(ss -Htn state syn-sent | awk '{print $4}' | sort | uniq -c | awk '{print $2 "=" $1}')
	sleep 2
	left=$(synsent)
	ss -Htnp state syn-sent >"$T/$1.ss"
	wait $pid
}

run bare
expect_eq "bare: EINTR, then closed (control)" "$(cat "$T/bare.out")" "connect rc=-1 errno=EINTR
closed"
expect_eq "bare: in its connect, one SYN-SENT to 10.9.0.2:80 (control)" "$during" "10.9.0.2:80=1"
expect_eq "bare: no SYN-SENT socket after the close (control)" "$left" 0

policy rw.ini >/dev/null <<'INI'
[rw]
on = connect
addr = 10.9.0.2
rewrite = 10.9.0.5:80
INI
run rw
expect_eq "rewrite: EINTR, then closed" "$(cat "$T/rw.out")" "connect rc=-1 errno=EINTR
closed"
expect_eq "rewrite: in its connect, one SYN-SENT to 10.9.0.5:80" "$during" "10.9.0.5:80=1"
expect_eq "rewrite: no SYN-SENT socket after the close" "$left" 0
finish

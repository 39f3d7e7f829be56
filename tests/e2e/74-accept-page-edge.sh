#!/bin/bash
# 72: accept and accept4 read the peer address only within what the program
# passed. A dual-stack listener's peer is a 28-byte v4-mapped sockaddr_in6;
# the program passes a 16-byte buffer that ends where an unmapped page
# begins (tests/helpers/accept_edge.c). The kernel copies 16 bytes and sets
# the length to 28: a shim that reads 28 bytes there dies of SIGSEGV. Under
# an empty policy, a policy with rules, and the debug log (which writes the
# peer address), the program must finish as bare does, with the same
# (rc, errno, length, family) for every call.
. "$TOP/tests/lib.sh"
# its checks that the shim ran read the start line of processes that log nothing else
export SOCKSHIM_LOG_START=always

H=$BUILD/tests/accept_edge
bare=$(timeout 20 "$H" 2>&1); brc=$?
expect_eq "bare (control): exits 0" "$brc" 0
expect_match "bare (control): the kernel reports 28 bytes for a 16-byte buffer" "$bare" \
	'^accept-16-at-page-edge rc=ok errno=0 len=28 family=10$'
check "bare (control): five calls reported" test "$(grep -c ' rc=' <<<"$bare")" -eq 5

empty=$(policy empty.ini </dev/null)
rules=$(policy rules.ini <<'INI'
[bind-any]
on = bind
sockopt = SO_KEEPALIVE=1

[out]
on = connect
addr = 127.0.0.1
source = 127.0.0.1
INI
)

# under NAME POLICY [LEVEL]
under() {
	out=$(SOCKSHIM_LOG=file:$T/$1.log SOCKSHIM_LOG_LEVEL=${3:-info} shim "$2" timeout 20 "$H" 2>&1)
	rc=$?
	expect_eq "$1: exits 0 (no SIGSEGV)" "$rc" 0
	expect_eq "$1: the same calls, rc, errno and lengths as bare" "$out" "$bare"
	expect_eq "$1: the shim ran (one start line)" "$(grep -c ' start .*program=accept_edge' "$T/$1.log")" 1
}
under empty "$empty"
under rules "$rules"
under debug "$empty" debug
check "debug: the accepts are logged" grep -q ' debug accept4\? .*fd=' "$T/debug.log"
finish

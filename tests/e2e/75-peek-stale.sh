#!/bin/bash
# 75: memory the kernel would refuse is never read by the shim, however it
# got that way (tests/helpers/peek_stale.c): an address whose page was
# readable at the previous connect and is now unmapped or PROT_NONE, and an
# address in a guard page named from a signal handler on an alternate stack
# just below the stack it guards (a thread's, and the main thread's). Bare,
# every such call is EFAULT; under a policy that watches connect (a rule
# that matches none of them, so the answers are the kernel's) the program
# must finish with the same (rc, errno) for every call, not die of SIGSEGV.
. "$TOP/tests/lib.sh"
# its checks that the shim ran read the start line of processes that log nothing else
export SOCKSHIM_LOG_START=always

H=$BUILD/tests/peek_stale
pol=$(policy watch.ini <<'INI'
[elsewhere]
on = connect, bind, send
port = 9
deny = EACCES
INI
)
for c in unmap protect altstack mainalt; do
	bare=$(timeout 20 "$H" $c 2>&1); brc=$?
	expect_eq "$c bare (control): exits 0" "$brc" 0
	expect_match "$c bare (control): the unreadable address gets EFAULT" "$bare" '(gone|altstack) rc=-1 errno=EFAULT'
	for lvl in info debug; do
		out=$(SOCKSHIM_LOG=file:$T/$c-$lvl.log SOCKSHIM_LOG_LEVEL=$lvl shim "$pol" timeout 20 "$H" $c 2>&1)
		rc=$?
		expect_eq "$c $lvl: exits 0 (no SIGSEGV)" "$rc" 0
		expect_eq "$c $lvl: the same rc and errno as bare for every call" "$out" "$bare"
		expect_eq "$c $lvl: the shim ran (one start line)" "$(grep -c ' start .*program=peek_stale' "$T/$c-$lvl.log")" 1
	done
done
finish

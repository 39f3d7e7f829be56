#!/bin/bash
# 73: fd numbers that move between threads. Threads open, configure and
# close sockets at once (tests/helpers/fd_churn.c), so one thread's close
# frees a number another thread's socket() gets at once, while a rule that
# rotates source ports makes the shim keep every socket's options (optlog).
# The program must finish with every call as bare: all sockets made, no
# setsockopt or close failed. Under make test SANITIZE=thread the run must
# also leave no ThreadSanitizer report: the shim's per-fd records change
# owner with the fd number, and that hand-over must be ordered (acquire and
# release on the record), since TSan does not see the kernel's fd ordering.
. "$TOP/tests/lib.sh"
# its checks that the shim ran read the start line of processes that log nothing else
export SOCKSHIM_LOG_START=always

P=$(policy window.ini <<'INI'
[window]
on = connect
addr = 127.0.0.1
source_port = 42000-42099
INI
)
THREADS=4 ROUNDS=3000
bare=$(timeout 60 "$BUILD/tests/fd_churn" $THREADS $ROUNDS)
expect_eq "bare (control): every call succeeded" "$bare" "sockets=$((THREADS * ROUNDS)) setsockopt-failed=0 close-failed=0"
out=$(SOCKSHIM_LOG=file:$T/churn.log shim "$P" timeout 120 "$BUILD/tests/fd_churn" $THREADS $ROUNDS)
rc=$?
expect_eq "shim: exits 0" "$rc" 0
expect_eq "shim: every call as bare" "$out" "$bare"
expect_eq "shim: the shim ran, with the window rule (one start line)" "$(grep -c ' start .*program=fd_churn' "$T/churn.log")" 1
finish

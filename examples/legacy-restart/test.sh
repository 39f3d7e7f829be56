#!/bin/bash
# examples/legacy-restart: run.sh as written, then the facts from its output.
# Kernel facts: SO_REUSEADDR as getsockopt reports it on each listener, the
# TIME_WAIT entries ss counts before each restart, the pid of the process
# that answered each curl request.
# Control: the bare restart fails with "Address already in use".
. "$TOP/tests/lib.sh"

out=$(SOCKSHIM=$BUILD/sockshim timeout 60 "$TOP/examples/legacy-restart/run.sh" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
expect_eq "run.sh exits 0" "$rc" 0

bare=$(sed -n '/^== without/,/^$/p' <<<"$out")
shim=$(sed -n '/^== under sockshim/,/^$/p' <<<"$out")

# ---- control: bare ----
expect_match "bare: first start has SO_REUSEADDR=0 (getsockopt)" "$bare" \
	'pid [0-9]+ listening on 127\.0\.0\.1:7070 \(SO_REUSEADDR=0\)'
expect_eq "bare: it answered 2 requests" "$(grep -c '^curl: hello from pid' <<<"$bare")" 2
expect_match "bare: TIME_WAIT left on port 7070 (ss)" "$bare" 'TIME_WAIT entries on port 7070 \(ss\): [1-9]'
expect_match "bare: the restart fails with EADDRINUSE" "$bare" 'cannot start on 127\.0\.0\.1:7070: Address already in use'

# ---- under sockshim: start + 3 restarts ----
expect_eq "shim: 4 starts, each listener with SO_REUSEADDR=1 (getsockopt)" \
	"$(grep -cE 'pid [0-9]+ listening on 127\.0\.0\.1:7071 \(SO_REUSEADDR=1\)' <<<"$shim")" 4
tw=$(sed -n 's/.*TIME_WAIT entries on port 7071 (ss): //p' <<<"$shim" | tr '\n' ' ')
expect_match "shim: TIME_WAIT on port 7071 before every restart, and growing (ss: $tw)" "$tw" '^[1-9][0-9]* ([0-9]+ ){3}$'
check "shim: TIME_WAIT grows run after run" test "$(awk '{print ($4 > $1)}' <<<"$tw")" = 1
pids=$(sed -n 's/^curl: hello from pid //p' <<<"$shim")
expect_eq "shim: 8 requests answered" "$(wc -l <<<"$pids")" 8
expect_eq "shim: by 4 different processes, 2 each" "$(sort <<<"$pids" | uniq -c | awk '{print $1}' | tr '\n' ' ')" "2 2 2 2 "
listeners=$(sed -n 's/.*pid \([0-9]*\) listening on 127\.0\.0\.1:7071.*/\1/p' <<<"$shim" | sort | tr '\n' ' ')
expect_eq "shim: the answering pids are the started servers" "$(sort -u <<<"$pids" | tr '\n' ' ')" "$listeners"
expect_eq "shim: the log shows 4 forced binds" \
	"$(grep -cE 'bind fd=[0-9]+ tcp 127\.0\.0\.1:7071 rule=legacy actions=reuseaddr=force rc=0' <<<"$out")" 4

finish

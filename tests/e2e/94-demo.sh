#!/bin/bash
# 93: `make demo` (examples/quickstart/run.sh) shows what the README says it
# shows, and ends on its own: bare, the python3 server serves curl and its
# restart fails with EADDRINUSE while ss counts the TIME_WAIT on its port;
# under sockshim with conf/sockshim.ini both runs serve and the restart
# succeeds; the decision log has the forced SO_REUSEADDR on its bind.
. "$TOP/tests/lib.sh"

start=$(date +%s)
out=$(SOCKSHIM=$BUILD/sockshim timeout 60 bash "$TOP/examples/quickstart/run.sh" 2>"$T/demo.err")
rc=$?
echo "# demo: $(($(date +%s) - start)) s"
expect_eq "the demo ends by itself, exit 0" "$rc" 0
expect_eq "bare: the first run served curl" "$(printf '%s\n' "$out" | sed -n '/^== bare/,/^first run/p' | grep -c '^client: got hello$')" 1
expect_match "bare: the restart failed with EADDRINUSE" "$out" \
	'^server: cannot start: Address already in use
restart without sockshim: exit 1 '
expect_match "bare: ss counted the TIME_WAIT on the port" "$out" '^   TIME_WAIT on :8765 now: 1 connection\(s\)$'
expect_eq "sockshim: both runs served curl" \
	"$(printf '%s\n' "$out" | sed -n '/^== under sockshim/,$p' | grep -c '^client: got hello$')" 2
expect_match "sockshim: the restart succeeded" "$out" '^restart under sockshim: exit 0$'
expect_eq "sockshim: the server's two binds had SO_REUSEADDR forced" \
	"$(grep -c ' info bind fd=[0-9]* tcp 127\.0\.0\.1:8766 rule=listeners actions=reuseaddr=force rc=0' "$T/demo.err")" 2
finish

#!/bin/bash
# frontends: preload, seccomp
# 31: a connect repeated on a socket whose first connect failed (refused)
# is not re-bound, and the log says whose bind that was: skip=bound when
# the rule's source was bound by sockshim, skip=app-bound when the program
# bound the socket itself, under both front ends alike (the supervisor
# said app-bound for its own bind). Kernel truth: getsockname shows the
# source, and the server sees it.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"

serve tcp tcp 127.0.0.1 9000 || exit 1
P=$(policy pin.ini <<'INI'
[pin]
on = connect
addr = 127.0.0.1
source = 127.0.0.2
INI
)
out=$(shim "$P" "$PROBE" tcp4 connect=127.0.0.1:9 connect=127.0.0.1:9 connect=127.0.0.1:9000 name 2>"$T/ours.log")
expect_match "ours: refused twice, then connected from 127.0.0.2" "$out" \
	"connect=127\.0\.0\.1:9 rc=-1 errno=ECONNREFUSED
connect=127\.0\.0\.1:9 rc=-1 errno=ECONNREFUSED
connect=127\.0\.0\.1:9000 rc=0 errno=0
name rc=0 errno=0 local=127\.0\.0\.2:[0-9]+"
wait_peers tcp 1
expect_eq "ours: the server sees 127.0.0.2" "$(peers tcp | tail -1 | cut -d' ' -f1)" 127.0.0.2
expect_eq "ours: the first connect binds the source" \
	"$(grep -c ' info connect fd=[0-9]* tcp 127\.0\.0\.1:9 rule=pin actions=source=127\.0\.0\.2[ ,]' "$T/ours.log")" 1
expect_eq "ours: both repeats say skip=bound" \
	"$(grep -Ec ' info connect fd=[0-9]+ tcp 127\.0\.0\.1:(9|9000) rule=pin actions=skip=bound[ ,]' "$T/ours.log")" 2
check "ours: none says app-bound" bash -c "! grep -q 'skip=app-bound' '$T/ours.log'"

out=$(shim "$P" "$PROBE" tcp4 bind=127.0.0.2:0 connect=127.0.0.1:9 connect=127.0.0.1:9000 name 2>"$T/app.log")
expect_match "app: bound by the program, refused, then connected" "$out" \
	"connect=127\.0\.0\.1:9000 rc=0 errno=0
name rc=0 errno=0 local=127\.0\.0\.2:[0-9]+"
expect_eq "app: both connects say skip=app-bound (control)" \
	"$(grep -c ' rule=pin actions=skip=app-bound[ ,]' "$T/app.log")" 2
finish

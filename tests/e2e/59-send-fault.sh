#!/bin/bash
# 59 (send fault): a UDP send naming a destination from an unmapped data
# buffer, under a rule that matches it (a sockopt, so the call is the
# shim's): the answer and side effects are the kernel's, in the kernel's
# order: ENETUNREACH for a destination without a route (checked before the
# data), EFAULT for a reachable one after the automatic bind (getsockname
# shows a port). The same with a rule rewriting the destination: as bare
# to the rewritten address.
# frontends: preload, seccomp
. "$TOP/tests/lib.sh"

P=$TOP/tests/helpers/sendfault.py
opt=$(policy opt.ini <<EOF
[any-send]
on = send
proto = udp
sockopt = SO_KEEPALIVE=1
EOF
)
rw=$(policy rw.ini <<EOF
[move]
on = send
proto = udp
port = 9741
rewrite = 10.99.0.2:9742
EOF
)
bare=$(python3 "$P" 9740 2>&1)
expect_match "bare: no route is ENETUNREACH (after the automatic bind)" "$bare" '^sendto-unreachable rc=-1 errno=ENETUNREACH bound=yes$'
expect_match "bare: loopback is EFAULT, auto-bound" "$bare" '^sendmsg-loopback rc=-1 errno=EFAULT bound=yes$'
under=$(shim "$opt" python3 "$P" 9740 2>/dev/null)
expect_eq "a matching rule: every send as bare" "$under" "$bare"
# every send of the run goes to 10.99.0.2:9742 under the rewrite
moved=$(shim "$rw" python3 "$P" 9741 2>/dev/null | grep loopback)
expect_eq "a rewrite: as bare to the rewritten address" "$moved" "$(printf '%s\n' "$bare" | grep unreachable | sed 's/unreachable/loopback/')"
finish

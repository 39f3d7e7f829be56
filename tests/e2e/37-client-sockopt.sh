#!/bin/bash
# frontends: preload, seccomp
# 37: `sockopt` on connect: SO_KEEPALIVE=1, TCP_NODELAY=1, IP_TOS=16,
# TCP_KEEPIDLE=30, SO_MARK=7 are in place on the connected socket, as
# getsockopt reads them back after connect (probe get=...). Control: the
# kernel defaults without the shim (0, 0, 0, 7200, 0).
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"

serve tcp tcp 127.0.0.1 9000 || exit 1
serve tcp6 tcp ::1 9006 || exit 1

steps="get=keepalive get=nodelay get=tos get=keepidle get=mark"
values() { sed -n 's/^get=\([a-z]*\) rc=0 errno=0 value=\(-\{0,1\}[0-9]*\)$/\1=\2/p' | tr '\n' ' ' | sed 's/ $//'; }

out=$("$PROBE" tcp4 connect=127.0.0.1:9000 $steps)
expect_eq "bare (control): kernel defaults" "$(values <<<"$out")" "keepalive=0 nodelay=0 tos=0 keepidle=7200 mark=0"

P=$(policy opts.ini <<'INI'
[opts]
on = connect
addr = 127.0.0.1, ::1
sockopt = SO_KEEPALIVE=1, TCP_NODELAY=1, IP_TOS=16, TCP_KEEPIDLE=30, SO_MARK=7
INI
)
out=$(shim "$P" "$PROBE" tcp4 connect=127.0.0.1:9000 $steps 2>"$T/opts.log")
expect_match "connect succeeds" "$out" '^connect=127\.0\.0\.1:9000 rc=0 errno=0$'
expect_eq "after connect: the options as the policy set them" "$(values <<<"$out")" "keepalive=1 nodelay=1 tos=16 keepidle=30 mark=7"
expect_match "logged, none failed" "$(cat "$T/opts.log")" \
	'rule=opts actions=sockopt=SO_KEEPALIVE=1,sockopt=TCP_NODELAY=1,sockopt=IP_TOS=16,sockopt=TCP_KEEPIDLE=30,sockopt=SO_MARK=7(,continue)? rc=0'
check "no failed= action" bash -c "! grep -q 'actions=.*failed=' '$T/opts.log'"

# The same through python3's socket module (non-blocking connect under a
# timeout), read back with getsockopt.
out=$(shim "$P" "$PY" -c '
import socket
s = socket.create_connection(("127.0.0.1", 9000), timeout=5)
g = lambda l, o: s.getsockopt(l, o)
print(g(socket.SOL_SOCKET, socket.SO_KEEPALIVE), g(socket.IPPROTO_TCP, socket.TCP_NODELAY),
      g(socket.IPPROTO_IP, socket.IP_TOS), g(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
      g(socket.SOL_SOCKET, socket.SO_MARK))
' 2>/dev/null)
expect_eq "python client: getsockopt after connect" "$out" "1 1 16 30 7"

# An IPv6 socket: the IPv4-only IP_TOS is skipped (logged), the rest applies.
out=$(shim "$P" "$PROBE" tcp6 connect=[::1]:9006 get=keepalive get=nodelay get=keepidle get=mark 2>"$T/opts6.log")
expect_eq "tcp6: the other options applied" "$(values <<<"$out")" "keepalive=1 nodelay=1 keepidle=30 mark=7"
expect_match "tcp6: IP_TOS skipped" "$(cat "$T/opts6.log")" 'skip=IP_TOS'

# Not matched (another address): defaults stay.
out=$(shim "$P" "$PROBE" tcp4 connect=127.0.0.3:9 $steps 2>/dev/null)
expect_eq "unmatched destination: kernel defaults" "$(values <<<"$out")" "keepalive=0 nodelay=0 tos=0 keepidle=7200 mark=0"
finish

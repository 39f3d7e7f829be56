#!/bin/bash
# frontends: preload, seccomp
# 47: a connect whose rule pins only `source`, made by the kernel with the
# program's own arguments. The supervisor binds the socket to the source
# and lets the program's call continue (the decision line says so:
# `continue`, with the preparation's rc); the preload binds and calls
# connect itself. Either way the server sees the source and getsockname
# says it, for blocking and non-blocking connects, and a connect that
# fails fails as it does bare: ECONNREFUSED from a closed port,
# EINPROGRESS then SO_ERROR ECONNREFUSED when non-blocking, EINPROGRESS
# then SO_ERROR 0 and EISCONN when it works.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"

P=$(policy pin.ini <<'INI'
[pin]
on = connect
addr = 127.0.0.1
source = 127.0.0.2
INI
)
serve tcp tcp 127.0.0.1 9000 || exit 1
CLOSED=9009 # nothing listens here
seccomp() { [ "${SOCKSHIM_FRONTEND:-preload}" = seccomp ]; }
# rc/errno of each step, without the addresses (bare and shim differ there)
errnos() { sed 's/ local=.*//; s/ remote=.*//'; }
local_of() { sed -n 's/^name rc=0 errno=0 local=\(127\.0\.0\.[0-9]*\):\([0-9]*\)$/\1 \2/p' <<<"$1"; }

# ---- blocking ----
steps="connect=127.0.0.1:9000 name"
bare=$("$PROBE" tcp4 $steps)
expect_eq "bare (control): connected from 127.0.0.1" "$(local_of "$bare" | cut -d' ' -f1)" 127.0.0.1
out=$(shim "$P" "$PROBE" tcp4 $steps 2>"$T/block.log")
expect_eq "blocking: same rc/errno as bare" "$(errnos <<<"$out")" "$(errnos <<<"$bare")"
expect_eq "blocking: getsockname is the source" "$(local_of "$out" | cut -d' ' -f1)" 127.0.0.2
wait_peers tcp 2
expect_eq "blocking: the server sees the same address and port" "$(peers tcp | tail -1)" "$(local_of "$out")"

# ---- non-blocking: EINPROGRESS, then SO_ERROR 0, then EISCONN ----
steps="nonblock connect=127.0.0.1:9000 wait connect=127.0.0.1:9000 name"
bare=$("$PROBE" tcp4 $steps)
expect_match "bare (control): EINPROGRESS first" "$bare" '^connect=127\.0\.0\.1:9000 rc=-1 errno=EINPROGRESS$'
out=$(shim "$P" "$PROBE" tcp4 $steps 2>"$T/nb.log")
expect_eq "non-blocking: same rc/errno sequence as bare" "$(errnos <<<"$out")" "$(errnos <<<"$bare")"
expect_eq "non-blocking: getsockname is the source" "$(local_of "$out" | cut -d' ' -f1)" 127.0.0.2
wait_peers tcp 4
expect_eq "non-blocking: the server sees the same address and port" "$(peers tcp | tail -1)" "$(local_of "$out")"
expect_eq "non-blocking: one decision for two connect calls" "$(grep -c 'connect .*rule=pin' "$T/nb.log")" 1

# ---- a closed port: the kernel's ECONNREFUSED, blocking and not ----
steps="connect=127.0.0.1:$CLOSED name"
bare=$("$PROBE" tcp4 $steps)
expect_match "bare (control): ECONNREFUSED" "$bare" "^connect=127\.0\.0\.1:$CLOSED rc=-1 errno=ECONNREFUSED\$"
out=$(shim "$P" "$PROBE" tcp4 $steps 2>"$T/refused.log")
expect_eq "closed port, blocking: same rc/errno as bare" "$(errnos <<<"$out")" "$(errnos <<<"$bare")"
steps="nonblock connect=127.0.0.1:$CLOSED wait"
bare=$("$PROBE" tcp4 $steps)
expect_match "bare (control): SO_ERROR ECONNREFUSED after EINPROGRESS" "$bare" 'ECONNREFUSED'
out=$(shim "$P" "$PROBE" tcp4 $steps 2>"$T/nbrefused.log")
expect_eq "closed port, non-blocking: same rc/errno and SO_ERROR as bare" "$(errnos <<<"$out")" "$(errnos <<<"$bare")"
expect_eq "the server saw only the two connections that worked, twice" "$(npeers tcp)" 4

# ---- raw sockets naming TCP or UDP are not TCP or UDP sockets: untouched ----
# raw.py PROTO: connect a raw socket of PROTO to 127.0.0.1, print its local address
cat >"$T/raw.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, getattr(socket, "IPPROTO_" + sys.argv[1]))
s.connect(("127.0.0.1", 9000))
print(s.getsockname()[0])
PY
if [ "$("$PY" "$T/raw.py" TCP 2>&1)" = 127.0.0.1 ]; then # (CAP_NET_RAW)
	for p in TCP UDP; do
		expect_eq "raw IPPROTO_$p socket: connected from 127.0.0.1, as bare" "$(shim "$P" "$PY" "$T/raw.py" $p 2>&1)" 127.0.0.1
	done
fi

# ---- the decision lines ----
if seccomp; then
	# the kernel made the connect: rc and errno are the preparation's
	line='rule=pin actions=source=127\.0\.0\.2,continue rc=0 via=seccomp$'
else
	line='rule=pin actions=source=127\.0\.0\.2 rc=0$'
fi
expect_match "blocking: the decision line" "$(cat "$T/block.log")" "connect fd=[0-9]+ tcp 127\.0\.0\.1:9000 $line"
seccomp || line='rule=pin actions=source=127\.0\.0\.2 rc=-1 errno=EINPROGRESS$'
expect_match "non-blocking: the decision line" "$(cat "$T/nb.log")" "connect fd=[0-9]+ tcp 127\.0\.0\.1:9000 $line"
seccomp || line='rule=pin actions=source=127\.0\.0\.2 rc=-1 errno=ECONNREFUSED$'
expect_match "closed port: the decision line" "$(cat "$T/refused.log")" "connect fd=[0-9]+ tcp 127\.0\.0\.1:$CLOSED $line"

# ---- a window: the port picked (and a taken one retried) by the supervisor,
# the handshake waited for by the program's own blocking connect ----
W=$(policy win.ini <<'INI'
[win]
on = connect
addr = 127.0.0.1
source = 127.0.0.2
source_port = 41000-41009
INI
)
steps="connect=127.0.0.1:9000 name"
bare=$("$PROBE" tcp4 $steps)
out=$(shim "$W" "$PROBE" tcp4 $steps 2>"$T/win.log")
expect_eq "window, blocking: same rc/errno as bare" "$(errnos <<<"$out")" "$(errnos <<<"$bare")"
expect_match "window, blocking: getsockname is the source and a port of the window" "$out" 'local=127\.0\.0\.2:4100[0-9]$'
wait_peers tcp 6
expect_eq "window, blocking: the server sees the same address and port" "$(peers tcp | tail -1)" "$(local_of "$out")"
steps="connect=127.0.0.1:$CLOSED"
bare=$("$PROBE" tcp4 $steps)
out=$(shim "$W" "$PROBE" tcp4 $steps 2>"$T/winrefused.log")
expect_eq "window, closed port, blocking: ECONNREFUSED as bare" "$(errnos <<<"$out")" "$(errnos <<<"$bare")"
seccomp && line=',continue rc=0 via=seccomp$' || line=' rc=0$'
expect_match "window, blocking: the decision line" "$(cat "$T/win.log")" "rule=win actions=source=127\.0\.0\.2:4100[0-9]$line"
finish

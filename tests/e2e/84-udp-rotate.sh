#!/bin/bash
# frontends: preload, seccomp
# 84: UDP source pinning and rotation never hands one port to two live
# sockets, even when the application asks for SO_REUSEADDR.
# Control (bare): two UDP sockets with SO_REUSEADDR bind the same port and
# the server's reply to one of them is delivered to the other (stolen).
# Under `proto = udp, source = 127.0.0.2, source_port = 45000-45001`:
# - connect: two sockets get the two ports, each receives its own echo, a
#   third gets the kernel's EADDRINUSE (the window is full) — although every
#   socket set SO_REUSEADDR; the kernel reports SO_REUSEADDR off on them, and
#   turning it back on is ignored (logged);
# - first sendto without connect: the same.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/rot.sh"
PY=$(python3 -c 'import sys; print(sys.executable)')

serve udp 127.0.0.1 9200 "$T/peers" || exit 1

# ---- control: the kernel lets two reuse sockets share a port ----
ctl=$("$PY" - <<'PYEOF'
import socket
socks = []
for _ in range(2):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.2", 45000))
    s.connect(("127.0.0.1", 9200))
    s.settimeout(1)
    socks.append(s)
socks[0].send(b"for-the-first")
try:
    print("first got", socks[0].recv(100).decode())
except socket.timeout:
    print("first got nothing")
PYEOF
)
expect_eq "bare: both bind 127.0.0.2:45000, the first socket's reply is stolen" "$ctl" "first got nothing"

P=$(policy udp.ini <<'INI'
[udp]
on = connect, send
proto = udp
source = 127.0.0.2
source_port = 45000-45001
INI
)
for mode in connect sendto; do
	flag=-u; [ $mode = sendto ] && flag=-S
	out=$(shim "$P" "$RC" $flag -r -n 3 -w 1 -f "$T/$mode.ports" 127.0.0.1 9200 2>"$T/$mode.log")
	expect_eq "$mode: two sockets get the two ports, the third fails" "$(field ok "$out")/$(field fail "$out")" "2/1"
	expect_match "$mode: with the kernel's EADDRINUSE" "$out" '^errno EADDRINUSE=1$'
	expect_eq "$mode: distinct ports" "$(sort "$T/$mode.ports" | tr '\n' ' ')" "127.0.0.2 45000 127.0.0.2 45001 "
	expect_eq "$mode: every reply reached its own socket" "$(field reply-lost "$out")" 0
	expect_match "$mode: log says the port was made exclusive" "$(cat "$T/$mode.log")" 'actions=exclusive=udp,source=127\.0\.0\.2:4500[01] rc='
	expect_match "$mode: and that the window was full" "$(cat "$T/$mode.log")" 'exclusive=udp,busy-ports=2,failed=source:EADDRINUSE rc=-1 errno=EADDRINUSE( via=seccomp)?$'
done

out=$(shim "$P" "$BUILD/tests/probe" udp4 set=reuseaddr:1 connect=127.0.0.1:9200 get=reuseaddr set=reuseaddr:1 get=reuseaddr name 2>"$T/probe.log")
expect_match "kernel: SO_REUSEADDR off after the pinned bind" "$(sed -n 3p <<<"$out")" 'value=0'
expect_match "kernel: and still off after the application turns it on" "$(sed -n 5p <<<"$out")" 'value=0'
expect_match "the application's undo is logged as ignored" "$(cat "$T/probe.log")" 'ignored=SO_REUSEADDR=1'

finish

#!/bin/bash
# frontends: preload, seccomp
# 41: what no rule may touch passes through untouched: AF_UNIX sockets (socat
# over a unix socket, unix datagrams) under a policy that denies every connect
# and send; TCP/UDP traffic that matches no rule (other address, other
# protocol, other operation) reaches the server from the kernel's own source,
# with no decision logged. Controls: the deny-all policy does refuse TCP.
. "$TOP/tests/lib.sh"
# its checks that the shim ran read the start line of processes that log nothing else
export SOCKSHIM_LOG_START=always
. "$TOP/tests/helpers/peerwatch.sh"

serve tcp tcp 127.0.0.1 9000 || exit 1
serve udp udp 127.0.0.1 9100 || exit 1

denyall=$(policy deny-all.ini <<'INI'
[global]
log_level = debug

[nothing-leaves]
on = connect, send
deny = EACCES
INI
)
# ---- control: the policy is live ----
out=$(shim "$denyall" "$PROBE" tcp4 connect=127.0.0.1:9000 2>"$T/ctl.log")
expect_eq "deny-all (control): TCP connect refused" "$out" "connect=127.0.0.1:9000 rc=-1 errno=EACCES"
out=$(shim "$denyall" "$PROBE" udp4 sendto=127.0.0.1:9100 2>/dev/null)
expect_eq "deny-all (control): UDP sendto refused" "$out" "sendto=127.0.0.1:9100 rc=-1 errno=EACCES"

# ---- AF_UNIX stream: socat client and server, both under the shim ----
sock="$T/echo.sock"
# (env, not the shim function, so that the pid killed at exit is socat's;
# stdout away from the test's output pipe so an orphan could never hold it)
bg env SOCKSHIM_POLICY="$denyall" LD_PRELOAD="$SHIM" timeout 20 socat -T 5 UNIX-LISTEN:"$sock",fork EXEC:cat \
	</dev/null >/dev/null 2>"$T/unix-srv.log"
i=0
while [ $i -lt 100 ] && [ ! -S "$sock" ]; do sleep 0.05; i=$((i + 1)); done
out=$(echo "through the unix socket" | shim "$denyall" socat -T 3 - UNIX-CONNECT:"$sock" 2>"$T/unix.log")
expect_eq "unix stream: socat echoes through the unix socket" "$out" "through the unix socket"
check "unix stream: shim ran in the client (start line)" grep -q ' start ' "$T/unix.log"
check "unix stream: no rule decided for it" bash -c "! grep -q 'rule=nothing-leaves' '$T/unix.log' '$T/unix-srv.log'"

# ---- AF_UNIX datagram: sendto a named unix socket ----
out=$(shim "$denyall" "$PY" -c '
import os, socket, sys
path = sys.argv[1]
r = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
r.bind(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"unix-dgram", path)
s.connect(path)
s.send(b"again")
r.settimeout(2)
print(r.recv(100).decode(), r.recv(100).decode())
' "$T/dgram.sock" 2>"$T/unixd.log")
expect_eq "unix datagram: sendto and connect+send pass" "$out" "unix-dgram again"

# ---- socketpair ----
out=$(shim "$denyall" "$PY" -c '
import socket
a, b = socket.socketpair()
a.sendall(b"pair")
print(b.recv(10).decode())
' 2>/dev/null)
expect_eq "socketpair: untouched" "$out" "pair"

# ---- TCP/UDP that no rule matches ----
narrow=$(policy narrow.ini <<'INI'
[other-host]
on = connect, send
addr = 127.0.0.5
deny = EACCES

[other-host-pin]
on = connect, send
addr = 127.0.0.6
source = 127.0.0.3

[udp-only]
on = connect, send
proto = udp
port = 9000
deny = EPERM

[tcp-only]
on = connect
proto = tcp
port = 9100
deny = EPERM

[sends-only]
on = send
port = 9000
deny = EPERM
INI
)
out=$(shim "$narrow" "$PY" "$PW" connect 127.0.0.1 9000 1 2>"$T/narrow.log")
expect_match "TCP to 127.0.0.1:9000 (no rule matches): connects from 127.0.0.1" "$out" '^local 127\.0\.0\.1 [0-9]+$'
expect_eq "TCP: the server sees the kernel's source" "$(peers tcp | tail -1)" "$(sed -n 's/^local //p' <<<"$out")"
check "TCP: no decision logged at info" bash -c "! grep -q ' connect ' '$T/narrow.log'"
check "TCP: the shim ran (start line)" grep -q ' start ' "$T/narrow.log"
out=$(shim "$narrow" "$PROBE" udp4 sendto=127.0.0.1:9100 name 2>/dev/null)
expect_match "UDP sendto 127.0.0.1:9100 (rule is TCP-only / other port): passes" "$out" '^sendto=127\.0\.0\.1:9100 rc=1 errno=0$'
expect_match "UDP: kernel's source" "$out" 'local=0\.0\.0\.0:[0-9]+$'
wait_peers udp 1
expect_eq "UDP: the server got it from 127.0.0.1" "$(peer_addrs udp)" 127.0.0.1
out=$(shim "$narrow" "$PROBE" tcp4 connect=127.0.0.5:9 2>/dev/null)
expect_eq "the narrow policy is live (control): 127.0.0.5 refused" "$out" "connect=127.0.0.5:9 rc=-1 errno=EACCES"
finish

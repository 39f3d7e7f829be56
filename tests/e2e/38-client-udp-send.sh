#!/bin/bash
# frontends: preload, seccomp
# 38: UDP, `on = send`: sendto/sendmsg/sendmmsg naming a destination on an
# unconnected socket. Under `source = 127.0.0.2` the server sees the datagrams
# come from 127.0.0.2, and the second sendto keeps the same source (no
# re-bind); `deny` makes sendto fail with the errno and nothing arrives;
# `rewrite` redirects the datagram; sendmsg and sendmmsg obey the same rules;
# a connected UDP socket (`on = connect`) gets its source too.
# Controls: without the shim the datagrams come from 127.0.0.1.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"

serve udp udp 127.0.0.1 9100 || exit 1
# $T/udpc.py ADDR PORT N: N sendto's from one socket; prints getsockname
# after each send, or "error ERRNAME".
cat >"$T/udpc.py" <<'PY'
import errno, socket, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(n):
    try:
        s.sendto(b"d%d" % i, (host, port))
        print("local", *s.getsockname())
    except OSError as e:
        print("error", errno.errorcode[e.errno])
PY
new_peers() { peers udp | tail -n +$(($1 + 1)); }

# ---- control ----
"$PY" "$T/udpc.py" 127.0.0.1 9100 2 >/dev/null
wait_peers udp 2
expect_eq "bare (control): datagrams from 127.0.0.1" "$(peer_addrs udp)" 127.0.0.1

# ---- source on send ----
P=$(policy send-src.ini <<'INI'
[pin]
on = send
proto = udp
addr = 127.0.0.1
source = 127.0.0.2
INI
)
n0=$(npeers udp)
out=$(shim "$P" "$PY" "$T/udpc.py" 127.0.0.1 9100 3 2>"$T/src.log")
wait_peers udp $((n0 + 3))
expect_eq "source: all three sendto succeed" "$(grep -c '^local 127\.0\.0\.2 ' <<<"$out")" 3
expect_eq "source: server sees three datagrams, all from 127.0.0.2" "$(new_peers "$n0" | cut -d' ' -f1 | tr '\n' ' ')" "127.0.0.2 127.0.0.2 127.0.0.2 "
expect_eq "source: one source port for the socket (no re-bind)" "$(new_peers "$n0" | cut -d' ' -f2 | sort -u | wc -l | tr -d ' ')" 1
expect_eq "source: getsockname agrees with the server" "$(sed -n 's/^local //p' <<<"$out" | sort -u)" "$(new_peers "$n0" | sort -u)"
expect_eq "source: bound on the first send only" "$(grep -c 'actions=source=127\.0\.0\.2 ' "$T/src.log")" 1
expect_eq "source: later sends say the socket is bound" "$(grep -c 'actions=skip=bound ' "$T/src.log")" 2

# ---- source_port window on send: successive sockets, successive ports ----
pol_w=$(policy send-win.ini <<'INI'
[win]
on = send
proto = udp
source = 127.0.0.2
source_port = 43000-43004
INI
)
n0=$(npeers udp)
shim "$pol_w" "$PY" -c '
import socket
for i in range(7):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"w", ("127.0.0.1", 9100))
    s.close()
' 2>/dev/null
wait_peers udp $((n0 + 7))
ports=$(new_peers "$n0" | cut -d' ' -f2 | tr '\n' ' ')
check "window on send: 7 sockets from successive ports of 43000-43004 ($ports)" \
	awk -v RS=' ' 'NF { if ($1 < 43000 || $1 > 43004) bad = 1; if (n++ && $1 != 43000 + (p - 43000 + 1) % 5) bad = 1; p = $1 } END { exit bad || n != 7 }' <<<"$ports"

# ---- deny on send ----
pol_d=$(policy send-deny.ini <<'INI'
[block]
on = send
port = 9100
deny = EACCES
INI
)
n0=$(npeers udp)
out=$(shim "$pol_d" "$PY" "$T/udpc.py" 127.0.0.1 9100 1 2>"$T/deny.log")
expect_eq "deny: sendto fails with EACCES" "$out" "error EACCES"
out=$(shim "$pol_d" "$PROBE" udp4 sendto=127.0.0.1:9100 sendmsg=127.0.0.1:9100 sendmmsg=127.0.0.1:9100,127.0.0.1:9100 name 2>/dev/null)
expect_eq "deny: sendto, sendmsg, sendmmsg all fail with EACCES; socket left unbound" "$out" "sendto=127.0.0.1:9100 rc=-1 errno=EACCES
sendmsg=127.0.0.1:9100 rc=-1 errno=EACCES
sendmmsg rc=-1 errno=EACCES
name rc=0 errno=0 local=0.0.0.0:0"
expect_match "deny: logged" "$(cat "$T/deny.log")" 'send fd=[0-9]+ udp 127\.0\.0\.1:9100 rule=block actions=deny=EACCES rc=-1 errno=EACCES'
sleep 0.3
expect_eq "deny: the server received nothing" "$(npeers udp)" "$n0"

# ---- rewrite on send ----
pol_r=$(policy send-rw.ini <<'INI'
[dns-to-mock]
on = send
addr = 127.0.0.9
port = 53
rewrite = 127.0.0.1:9100
INI
)
n0=$(npeers udp)
"$PROBE" udp4 sendto=127.0.0.9:53 >/dev/null
sleep 0.2
expect_eq "bare (control): a datagram to 127.0.0.9:53 does not reach the server" "$(npeers udp)" "$n0"
out=$(shim "$pol_r" "$PROBE" udp4 sendto=127.0.0.9:53 sendmsg=127.0.0.9:53 sendmmsg=127.0.0.9:53,127.0.0.9:53 2>/dev/null)
expect_eq "rewrite: every send succeeds" "$out" "sendto=127.0.0.9:53 rc=1 errno=0
sendmsg=127.0.0.9:53 rc=1 errno=0
sendmmsg rc=2 errno=0"
wait_peers udp $((n0 + 4))
expect_eq "rewrite: sendto + sendmsg + 2x sendmmsg = 4 datagrams at the server" "$(npeers udp)" $((n0 + 4))

# ---- sendmsg / sendmmsg under source ----
n0=$(npeers udp)
out=$(shim "$P" "$PROBE" udp4 sendmsg=127.0.0.1:9100 name 2>/dev/null)
expect_match "sendmsg: getsockname 127.0.0.2" "$out" 'name rc=0 errno=0 local=127\.0\.0\.2:[0-9]+$'
wait_peers udp $((n0 + 1))
expect_eq "sendmsg: server sees 127.0.0.2" "$(new_peers "$n0" | cut -d' ' -f1)" 127.0.0.2
n0=$(npeers udp)
out=$(shim "$P" "$PROBE" udp4 sendmmsg=127.0.0.1:9100,127.0.0.1:9100,127.0.0.1:9100 name 2>/dev/null)
expect_match "sendmmsg: all three sent" "$out" '^sendmmsg rc=3 errno=0$'
wait_peers udp $((n0 + 3))
expect_eq "sendmmsg: server sees three datagrams from one 127.0.0.2 port" \
	"$(new_peers "$n0" | sort -u | wc -l | tr -d ' ') $(new_peers "$n0" | cut -d' ' -f1 | sort -u)" "1 127.0.0.2"

# A batch whose second message is denied: the first goes out, sendmmsg says 1.
pol_mix=$(policy send-mix.ini <<'INI'
[block]
on = send
port = 9999
deny = EPERM

[pin]
on = send
source = 127.0.0.2
INI
)
n0=$(npeers udp)
out=$(shim "$pol_mix" "$PROBE" udp4 sendmmsg=127.0.0.1:9100,127.0.0.1:9999,127.0.0.1:9100 2>/dev/null)
expect_eq "mixed batch: stops at the denied message (rc=1)" "$out" "sendmmsg rc=1 errno=0"
sleep 0.2
expect_eq "mixed batch: exactly one datagram, from 127.0.0.2" "$(new_peers "$n0")" "$(new_peers "$n0" | head -1 | grep '^127\.0\.0\.2 ')"
expect_eq "mixed batch: exactly one datagram arrived" "$(npeers udp)" $((n0 + 1))

# ---- connected UDP: on = connect ----
pol_c=$(policy udp-connect.ini <<'INI'
[pin]
on = connect
proto = udp
source = 127.0.0.2
INI
)
n0=$(npeers udp)
out=$(shim "$pol_c" "$PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("127.0.0.1", 9100))
print(*s.getsockname())
s.send(b"c1")
s.send(b"c2")
' 2>"$T/conn.log")
expect_match "connected UDP: getsockname 127.0.0.2" "$out" '^127\.0\.0\.2 [0-9]+$'
wait_peers udp $((n0 + 2))
expect_eq "connected UDP: server sees both datagrams from that address and port" "$(new_peers "$n0" | sort -u)" "$out"
out=$("$PROBE" udp4 connect=127.0.0.1:9100 name)
expect_match "connected UDP, bare (control): 127.0.0.1" "$out" 'local=127\.0\.0\.1:'
finish

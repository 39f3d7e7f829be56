# `deny` on bind: the server's bind fails with exactly the rule's errno, the
# frontends: preload, seccomp
# real bind is never made (the socket stays unbound) and nothing listens.
# Binds outside the rule, and the same server without the shim, work.
. "$TOP/tests/lib.sh"

# expect_nomatch NAME ACTUAL REGEX (grep -E): passes when no line matches
expect_nomatch() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then not_ok "$1"; echo "#   /$3/ found in:"; printf '%s\n' "$2" | sed 's/^/#   | /' | head -20; else ok "$1"; fi
}

PY=$(python3 -c 'import sys; print(sys.executable)')
PROBE=$BUILD/tests/probe

pol=$(policy deny.ini <<EOF
[global]
log = file:$T/shim.log

[no-8080]
on = bind
proto = tcp
port = 8080
deny = EACCES

[no-loopback-2]
on = bind
addr = 127.0.0.2
deny = EADDRNOTAVAIL

[no-v6-8443]
on = bind
family = ipv6
port = 8443
deny = EPERM

[no-probe-8090]
on = bind
port = 8090
program = probe
deny = ECONNREFUSED

[no-udp-5353]
on = bind
proto = udp
port = 5353
deny = EADDRINUSE
EOF
)
SH="env SOCKSHIM_POLICY=$pol LD_PRELOAD=$SHIM"

# A real server: socketserver.TCPServer; prints what bind/listen gave and
# whether anything listens on the port while it is still alive.
cat > "$T/server.py" <<'EOF'
import errno, socket, socketserver, subprocess, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
class Server(socketserver.TCPServer):
    address_family = fam
port = int(sys.argv[2])
try:
    srv = Server((sys.argv[1], port), socketserver.BaseRequestHandler)
    print("listening %s %d" % srv.socket.getsockname()[:2])
except OSError as e:
    print("bind-failed %s" % errno.errorcode.get(e.errno, e.errno))
out = subprocess.run(["ss", "-Hltn", "sport = :%d" % port], capture_output=True, text=True).stdout
print("listeners %d" % len(out.splitlines()), flush=True)
EOF

# ---- EACCES on 8080 ----
out=$(timeout 10 $SH "$PY" "$T/server.py" 127.0.0.1 8080 2>&1)
expect_match "EACCES: server's bind fails with EACCES" "$out" '^bind-failed EACCES$'
expect_match "EACCES: nothing listens on 8080" "$out" '^listeners 0$'
out=$(timeout 10 "$PY" "$T/server.py" 127.0.0.1 8080 2>&1)
expect_match "EACCES: bare control listens on 8080" "$out" '^listening 127\.0\.0\.1 8080$'
expect_match "EACCES: bare control has one listener" "$out" '^listeners 1$'
expect_match "EACCES: log line" "$(cat "$T/shim.log")" \
	'bind fd=[0-9]+ tcp 127\.0\.0\.1:8080 rule=no-8080 actions=deny=EACCES rc=-1 errno=EACCES'

# the real bind was never made: the socket is still unbound afterwards
out=$($SH "$PROBE" tcp4 bind=127.0.0.1:8080 name listen name 2>&1)
expect_match "EACCES: probe bind rc=-1 EACCES" "$out" '^bind=127\.0\.0\.1:8080 rc=-1 errno=EACCES$'
expect_match "EACCES: socket left unbound (0.0.0.0:0)" "$out" '^name rc=0 errno=0 local=0\.0\.0\.0:0$'
expect_nomatch "EACCES: a later listen autobinds elsewhere, never 8080" "$out" 'local=.*:8080'

# ---- EADDRNOTAVAIL by address, any port ----
out=$(timeout 10 $SH "$PY" "$T/server.py" 127.0.0.2 8081 2>&1)
expect_match "EADDRNOTAVAIL: bind to 127.0.0.2 refused" "$out" '^bind-failed EADDRNOTAVAIL$'
expect_match "EADDRNOTAVAIL: nothing listens on 8081" "$out" '^listeners 0$'
out=$(timeout 10 $SH "$PY" "$T/server.py" 127.0.0.3 8081 2>&1)
expect_match "EADDRNOTAVAIL: 127.0.0.3 (outside the rule) listens" "$out" '^listening 127\.0\.0\.3 8081$'

# an IPv4-mapped IPv6 address matches the IPv4 address of the rule
out=$($SH "$PROBE" tcp6 bind=[::ffff:127.0.0.2]:8082 name 2>&1)
expect_match "EADDRNOTAVAIL: [::ffff:127.0.0.2] on an IPv6 socket refused too" "$out" \
	'^bind=\[::ffff:127\.0\.0\.2\]:8082 rc=-1 errno=EADDRNOTAVAIL$'
out=$("$PROBE" tcp6 bind=[::ffff:127.0.0.2]:8082 name 2>&1)
expect_match "EADDRNOTAVAIL: bare control binds [::ffff:127.0.0.2]:8082" "$out" \
	'^name rc=0 errno=0 local=\[::ffff:127\.0\.0\.2\]:8082$'

# ---- program = probe: the probe is refused, a python server is not ----
out=$($SH "$PROBE" tcp4 bind=127.0.0.1:8090 2>&1)
expect_match "program: probe's bind refused with ECONNREFUSED" "$out" '^bind=127\.0\.0\.1:8090 rc=-1 errno=ECONNREFUSED$'
out=$(timeout 10 $SH "$PY" "$T/server.py" 127.0.0.1 8090 2>&1)
expect_match "program: python server on 8090 listens" "$out" '^listening 127\.0\.0\.1 8090$'

# ---- IPv6 EPERM; an IPv4 bind on the same port is not matched ----
out=$(timeout 10 $SH "$PY" "$T/server.py" ::1 8443 2>&1)
expect_match "EPERM: v6 bind refused" "$out" '^bind-failed EPERM$'
expect_match "EPERM: nothing listens on 8443" "$out" '^listeners 0$'
out=$(timeout 10 $SH "$PY" "$T/server.py" 127.0.0.1 8443 2>&1)
expect_match "EPERM: v4 bind on 8443 (family = ipv6 rule) listens" "$out" '^listening 127\.0\.0\.1 8443$'

# ---- UDP deny: only the UDP socket, not TCP on the same port ----
out=$($SH "$PROBE" udp4 bind=127.0.0.1:5353 name new=tcp4 bind=127.0.0.1:5353 name 2>&1)
expect_match "udp: UDP bind refused with EADDRINUSE" "$out" '^bind=127\.0\.0\.1:5353 rc=-1 errno=EADDRINUSE$'
expect_match "udp: UDP socket left unbound" "$out" '^name rc=0 errno=0 local=0\.0\.0\.0:0$'
expect_match "udp: TCP bind on 5353 allowed" "$out" '^name rc=0 errno=0 local=127\.0\.0\.1:5353$'

finish

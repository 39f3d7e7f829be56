# `rewrite` on bind: the server listens where the rule says, whatever it asked.
# frontends: preload, seccomp
#   rewrite = 127.0.0.5:9000  a server binding 0.0.0.0:8000 listens on
#                             127.0.0.5:9000 (its getsockname, ss, a client)
#   rewrite = :9001           the port changes, the address is kept
#   rewrite = [::1]:9002      an AF_INET6 server binding [::]:8002
#   rewrite = 127.0.0.6       the address changes, the port is kept
# and a bind outside the rules (or without the shim) stays where it asked.
. "$TOP/tests/lib.sh"

# expect_nomatch NAME ACTUAL REGEX (grep -E): passes when no line matches
expect_nomatch() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then not_ok "$1"; echo "#   /$3/ found in:"; printf '%s\n' "$2" | sed 's/^/#   | /' | head -20; else ok "$1"; fi
}

PY=$(python3 -c 'import sys; print(sys.executable)')
PROBE=$BUILD/tests/probe
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done' EXIT

pol=$(policy rewrite.ini <<EOF
[global]
log = file:$T/shim.log

[move-all]
on = bind
proto = tcp
port = 8000
rewrite = 127.0.0.5:9000

[port-only]
on = bind
port = 8001
rewrite = :9001

[v6]
on = bind
family = ipv6
port = 8002
rewrite = [::1]:9002

[addr-only]
on = bind
port = 8003
rewrite = 127.0.0.6
EOF
)
SH="env SOCKSHIM_POLICY=$pol LD_PRELOAD=$SHIM"

# A real server: binds (family, host, port), prints getsockname, answers one
# client with the local address of the accepted connection, exits.
cat > "$T/server.py" <<'EOF'
import socket, socketserver, sys

fam = socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET

class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.sendall(("%s %d\n" % self.request.getsockname()[:2]).encode())

class Server(socketserver.TCPServer):
    address_family = fam

srv = Server((sys.argv[2], int(sys.argv[3])), Handler)
print("bound %s %d" % srv.socket.getsockname()[:2], flush=True)
srv.timeout = 5
srv.handle_request()
srv.server_close()
EOF

cat > "$T/client.py" <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
print(s.makefile().readline().strip())
EOF

# listening ADDR:PORT: the exact local address ss shows for a listener
listening() { ss -Hltn | awk '{print $4}' | grep -qxF -- "$1"; }

# ---- control: bare, the server binds where it asked ----
timeout 10 "$PY" "$T/server.py" 4 0.0.0.0 8000 > "$T/bare.out" 2>&1 &
pids="$pids $!"; p=$!
wait_port 8000
check "bare: ss shows 0.0.0.0:8000" listening 0.0.0.0:8000
timeout 10 "$PY" "$T/client.py" 127.0.0.1 8000 > /dev/null 2>&1
wait $p
expect_eq "bare: getsockname 0.0.0.0 8000" "$(cat "$T/bare.out")" "bound 0.0.0.0 8000"

# ---- rewrite = 127.0.0.5:9000 ----
timeout 10 $SH "$PY" "$T/server.py" 4 0.0.0.0 8000 > "$T/a.out" 2>&1 &
p=$!; pids="$pids $p"
wait_port 9000
check "rewrite: ss shows 127.0.0.5:9000" listening 127.0.0.5:9000
expect_nomatch "rewrite: nothing listens on port 8000" "$(ss -Hltn 'sport = :8000')" .
expect_eq "rewrite: server's getsockname is 127.0.0.5 9000" "$(head -1 "$T/a.out")" "bound 127.0.0.5 9000"
out=$(timeout 10 "$PY" "$T/client.py" 127.0.0.1 8000 2>&1)
expect_match "rewrite: 127.0.0.1:8000 refuses connections" "$out" 'ConnectionRefused'
out=$(timeout 10 "$PY" "$T/client.py" 127.0.0.5 9000 2>&1)
expect_eq "rewrite: a client reaches the server at 127.0.0.5:9000" "$out" "127.0.0.5 9000"
wait $p
expect_match "rewrite: log shows the app's address and the rewrite" "$(cat "$T/shim.log")" \
	'bind fd=[0-9]+ tcp 0\.0\.0\.0:8000 rule=move-all actions=rewrite=127\.0\.0\.5:9000 rc=0'

# ---- rewrite = :9001 keeps the address ----
out=$($SH "$PROBE" tcp4 bind=127.0.0.2:8001 listen name 2>&1)
expect_match "port-only: bind succeeds" "$out" '^bind=127\.0\.0\.2:8001 rc=0 errno=0$'
expect_match "port-only: getsockname 127.0.0.2:9001" "$out" '^name rc=0 errno=0 local=127\.0\.0\.2:9001$'
timeout 10 $SH "$PY" "$T/server.py" 4 127.0.0.3 8001 > "$T/b.out" 2>&1 &
p=$!; pids="$pids $p"
wait_port 9001
check "port-only: ss shows 127.0.0.3:9001" listening 127.0.0.3:9001
out=$(timeout 10 "$PY" "$T/client.py" 127.0.0.3 9001 2>&1)
expect_eq "port-only: a client reaches 127.0.0.3:9001" "$out" "127.0.0.3 9001"
wait $p

# ---- IPv6: rewrite = [::1]:9002 for an AF_INET6 server ----
timeout 10 $SH "$PY" "$T/server.py" 6 :: 8002 > "$T/c.out" 2>&1 &
p=$!; pids="$pids $p"
wait_port 9002
check "v6: ss shows [::1]:9002" listening '[::1]:9002'
expect_eq "v6: server's getsockname is ::1 9002" "$(head -1 "$T/c.out")" "bound ::1 9002"
out=$(timeout 10 "$PY" "$T/client.py" ::1 9002 2>&1)
expect_eq "v6: a client reaches [::1]:9002" "$out" "::1 9002"
wait $p
expect_match "v6: log shows [::]:8002 -> [::1]:9002" "$(cat "$T/shim.log")" \
	'bind fd=[0-9]+ tcp \[::\]:8002 rule=v6 actions=rewrite=\[::1\]:9002 rc=0'
out=$($SH "$PROBE" tcp4 bind=127.0.0.1:8002 name 2>&1)
expect_match "v6: rule with family = ipv6 leaves an IPv4 bind alone" "$out" 'local=127\.0\.0\.1:8002'

# ---- rewrite = 127.0.0.6 keeps the port; IPv6 socket gets it v4-mapped ----
out=$($SH "$PROBE" tcp4 bind=127.0.0.1:8003 listen name 2>&1)
expect_match "addr-only: getsockname 127.0.0.6:8003" "$out" '^name rc=0 errno=0 local=127\.0\.0\.6:8003$'
out=$($SH "$PROBE" tcp6 set=v6only:0 bind=[::]:8003 listen name 2>&1)
expect_match "addr-only: IPv6 socket lands on [::ffff:127.0.0.6]:8003" "$out" \
	'^name rc=0 errno=0 local=\[::ffff:127\.0\.0\.6\]:8003$'

# ---- outside the rules nothing moves ----
out=$($SH "$PROBE" tcp4 bind=0.0.0.0:8004 name 2>&1)
expect_match "unmatched port: stays 0.0.0.0:8004" "$out" '^name rc=0 errno=0 local=0\.0\.0\.0:8004$'
out=$("$PROBE" tcp4 bind=127.0.0.2:8001 name 2>&1)
expect_match "bare probe: stays 127.0.0.2:8001" "$out" '^name rc=0 errno=0 local=127\.0\.0\.2:8001$'

finish

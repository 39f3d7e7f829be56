# A real socketserver.TCPServer that does NOT set SO_REUSEADDR closes its one
# frontends: preload, seccomp
# connection first (TIME_WAIT on the server's port) and exits; restarted at
# once on the same port:
#   bare                                   -> bind fails with EADDRINUSE
#   both runs under reuseaddr = force       -> the restart binds and serves
#   first run bare, restart under the shim  -> still EADDRINUSE (PITFALLS 11:
#     the TIME_WAIT leftover inherits the flag from the old listener)
# TIME_WAIT is checked with ss, the bind result is what Python's bind() got.
. "$TOP/tests/lib.sh"

PY=$(python3 -c 'import sys; print(sys.executable)')
PROBE=$BUILD/tests/probe
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done' EXIT

cat > "$T/server.py" <<'EOF'
import errno, socket, socketserver, sys

class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.sendall(b"hello\n")
        # returning makes the server shut down and close first: active close

class Server(socketserver.TCPServer):
    allow_reuse_address = False   # the legacy server under test never sets it

try:
    srv = Server(("127.0.0.1", int(sys.argv[1])), Handler)
except OSError as e:
    print("bind-failed", errno.errorcode.get(e.errno, e.errno), flush=True)
    sys.exit(3)
ra = srv.socket.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
print("listening reuseaddr=%d" % (1 if ra else 0), flush=True)
srv.timeout = 5
srv.handle_request()
srv.server_close()
print("served", flush=True)
EOF

cat > "$T/client.py" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
data = b""
while True:
    b = s.recv(100)
    if not b:
        break
    data += b
s.close()              # after the server's FIN: the server side goes TIME_WAIT
print(data.decode().strip())
EOF

# time_wait PORT: wait (2 s at most) until a TIME_WAIT socket has local port PORT
time_wait() {
	i=0
	while [ $i -lt 40 ]; do
		ss -Htan state time-wait "( sport = :$1 )" | grep -q . && return 0
		sleep 0.05; i=$((i + 1))
	done
	return 1
}

# first_run PORT [POLICY]: a server (under the shim with POLICY) that serves
# one client and exits. timeout stays outside the preload so $! is its pid.
first_run() {
	port=$1
	if [ $# -gt 1 ]; then set -- env SOCKSHIM_POLICY="$2" LD_PRELOAD="$SHIM"; else set --; fi
	timeout 10 "$@" "$PY" "$T/server.py" "$port" > "$T/first.$port" 2> "$T/first.$port.err" &
	pid=$!; pids="$pids $pid"
	wait_port "$port"
	client=$(timeout 10 "$PY" "$T/client.py" "$port" 2>&1)
	wait $pid
	expect_eq "port $port: first server served a client" "$client" "hello"
}

pol=$(policy restart.ini <<'EOF'
[legacy-restart]
on = bind
proto = tcp
port = 9000-9099
reuseaddr = force
EOF
)

# ---- bare: the restart fails ----
first_run 9010
check "bare: server's port 9010 is in TIME_WAIT" time_wait 9010
out=$(timeout 10 "$PY" "$T/server.py" 9010 2>&1); rc=$?
expect_eq "bare: restart exits 3" "$rc" "3"
expect_match "bare: restart fails with EADDRINUSE" "$out" '^bind-failed EADDRINUSE$'
expect_match "bare: first run had SO_REUSEADDR=0" "$(cat "$T/first.9010")" 'reuseaddr=0'

# ---- both runs under the shim: the restart succeeds ----
first_run 9020 "$pol"
check "shim: server's port 9020 is in TIME_WAIT" time_wait 9020
expect_match "shim: first run's listener had SO_REUSEADDR=1 (kernel)" "$(cat "$T/first.9020")" 'listening reuseaddr=1'
expect_eq "shim: first run logged one start line" "$(grep -c ' start .*program=python' "$T/first.9020.err")" "1"
expect_match "shim: first run logged the forced bind" "$(cat "$T/first.9020.err")" \
	'bind fd=[0-9]+ tcp 127\.0\.0\.1:9020 rule=legacy-restart actions=reuseaddr=force rc=0'
timeout 10 env SOCKSHIM_POLICY="$pol" LD_PRELOAD="$SHIM" "$PY" "$T/server.py" 9020 > "$T/second.9020" 2> "$T/second.9020.err" &
pid=$!; pids="$pids $pid"
if wait_port 9020; then
	ok "shim: restart listens on 9020 despite TIME_WAIT"
	check "shim: TIME_WAIT still there while the restart listens" time_wait 9020
	client=$(timeout 10 "$PY" "$T/client.py" 9020 2>&1)
	expect_eq "shim: restarted server serves a client" "$client" "hello"
else
	not_ok "shim: restart listens on 9020 despite TIME_WAIT"
fi
wait $pid; rc=$?
expect_eq "shim: restart exits 0" "$rc" "0"
expect_match "shim: restart output" "$(cat "$T/second.9020")" 'listening reuseaddr=1'
expect_match "shim: restart log line rc=0" "$(cat "$T/second.9020.err")" \
	'bind fd=[0-9]+ tcp 127\.0\.0\.1:9020 rule=legacy-restart actions=reuseaddr=force rc=0'

# ---- first run bare, restart under the shim: still fails (PITFALLS 11) ----
first_run 9030
check "bare then shim: port 9030 in TIME_WAIT" time_wait 9030
out=$(timeout 10 env SOCKSHIM_POLICY="$pol" LD_PRELOAD="$SHIM" "$PY" "$T/server.py" 9030 2> "$T/third.err"); rc=$?
expect_eq "bare then shim: restart still fails (old TIME_WAIT lacks the flag)" "$rc/$out" "3/bind-failed EADDRINUSE"
expect_match "bare then shim: log shows the failed bind" "$(cat "$T/third.err")" \
	'bind fd=[0-9]+ tcp 127\.0\.0\.1:9030 rule=legacy-restart actions=reuseaddr=force rc=-1 errno=EADDRINUSE'

# ---- a port outside the rule is untouched under the shim ----
out=$(shim "$pol" "$PROBE" tcp4 bind=127.0.0.1:9200 get=reuseaddr 2>/dev/null)
expect_match "shim: port outside the rule keeps SO_REUSEADDR=0" "$out" 'get=reuseaddr rc=0 errno=0 value=0'

finish

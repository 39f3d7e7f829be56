# Two copies of a real socketserver.TCPServer on one TCP port:
# frontends: preload, seccomp
#   bare                    -> the second copy's bind fails with EADDRINUSE
#   reuseport = force       -> both listen (ss -ltn shows two listeners) and
#                              40 client connections reach BOTH copies; each
#                              copy reports how many it served.
. "$TOP/tests/lib.sh"

PY=$(python3 -c 'import sys; print(sys.executable)')
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done' EXIT
PORT=9100
N=40

cat > "$T/server.py" <<'EOF'
import errno, signal, socket, socketserver, sys

name, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
served = 0

class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        global served
        served += 1
        self.request.sendall(name.encode() + b"\n")

class Server(socketserver.TCPServer):
    allow_reuse_address = False   # a plain server: sets neither option itself

def report(*_):
    with open(out, "w") as f:
        f.write("%s served=%d\n" % (name, served))
    sys.exit(0)

signal.signal(signal.SIGTERM, report)
try:
    srv = Server(("127.0.0.1", port), Handler)
except OSError as e:
    with open(out, "w") as f:
        f.write("%s bind-failed %s\n" % (name, errno.errorcode.get(e.errno, e.errno)))
    sys.exit(3)
rp = srv.socket.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)
print("%s listening reuseport=%d" % (name, 1 if rp else 0), flush=True)
srv.timeout = 10
while True:
    srv.handle_request()   # one at a time; SIGTERM writes the report
EOF

cat > "$T/client.py" <<'EOF'
import collections, socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
seen = collections.Counter()
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    data = b""
    while True:
        b = s.recv(100)
        if not b:
            break
        data += b
    s.close()
    seen[data.decode().strip()] += 1
print(" ".join("%s=%d" % kv for kv in sorted(seen.items())))
EOF

# stop_server PID: SIGTERM, then wait (bounded by the server's own timeout)
stop_server() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

listeners() { ss -Hltn "sport = :$PORT" | wc -l; }

# ---- bare: the second copy cannot bind ----
timeout 20 "$PY" "$T/server.py" A $PORT "$T/bare.A" > /dev/null 2>&1 &
a=$!; pids="$pids $a"
wait_port $PORT
timeout 10 "$PY" "$T/server.py" B $PORT "$T/bare.B" > /dev/null 2>&1; rc=$?
expect_eq "bare: second copy exits 3" "$rc" "3"
expect_eq "bare: second copy's bind fails with EADDRINUSE" "$(cat "$T/bare.B" 2>/dev/null)" "B bind-failed EADDRINUSE"
expect_eq "bare: ss shows one listener" "$(listeners)" "1"
stop_server $a
expect_eq "bare: first copy served nobody" "$(cat "$T/bare.A" 2>/dev/null)" "A served=0"

# ---- under reuseport = force: both listen and share the connections ----
pol=$(policy reuseport.ini <<EOF
[global]
log = file:$T/shim.log

[two-copies]
on = bind
proto = tcp
addr = 127.0.0.1
port = $PORT
reuseport = force
EOF
)
timeout 20 env SOCKSHIM_POLICY="$pol" LD_PRELOAD="$SHIM" "$PY" "$T/server.py" A $PORT "$T/shim.A" > "$T/A.out" 2>&1 &
a=$!; pids="$pids $a"
wait_port $PORT
timeout 20 env SOCKSHIM_POLICY="$pol" LD_PRELOAD="$SHIM" "$PY" "$T/server.py" B $PORT "$T/shim.B" > "$T/B.out" 2>&1 &
b=$!; pids="$pids $b"
i=0
while [ "$(listeners)" -lt 2 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
expect_eq "shim: ss -ltn shows two listeners on $PORT" "$(listeners)" "2"
expect_eq "shim: A's listener has SO_REUSEPORT=1 (kernel)" "$(cat "$T/A.out")" "A listening reuseport=1"
expect_eq "shim: B's listener has SO_REUSEPORT=1 (kernel)" "$(cat "$T/B.out")" "B listening reuseport=1"

counts=$(timeout 30 "$PY" "$T/client.py" $PORT $N 2>&1)
expect_match "shim: clients reached both copies" "$counts" '^A=[1-9][0-9]* B=[1-9][0-9]*$'
stop_server $a
stop_server $b
sa=$(sed -n 's/^A served=//p' "$T/shim.A" 2>/dev/null)
sb=$(sed -n 's/^B served=//p' "$T/shim.B" 2>/dev/null)
check "shim: copy A reports serving some connections ($sa)" test "${sa:-0}" -gt 0
check "shim: copy B reports serving some connections ($sb)" test "${sb:-0}" -gt 0
expect_eq "shim: the copies served $N connections in total" "$((${sa:-0} + ${sb:-0}))" "$N"
expect_eq "shim: servers' counts agree with the clients'" "A=${sa:-?} B=${sb:-?}" "$counts"

log=$(cat "$T/shim.log")
expect_eq "shim: two start lines (one per copy)" "$(grep -c ' start ' <<<"$log")" "2"
expect_eq "shim: two forced binds logged" \
	"$(grep -cE "bind fd=[0-9]+ tcp 127\.0\.0\.1:$PORT rule=two-copies actions=reuseport=force rc=0" <<<"$log")" "2"

finish

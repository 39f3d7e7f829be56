#!/bin/bash
# Quick start: the default policy (conf/sockshim.ini) against real programs.
#
# A python3 socketserver that does not set SO_REUSEADDR serves one request
# (fetched with curl) and closes the connection first, leaving TIME_WAIT on
# its port. Restarted at once it fails bare; under sockshim it starts, and
# the decision log shows why. Everything stays on 127.0.0.1.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# In a network namespace of its own when it can have one (loopback only): a
# TIME_WAIT left by an earlier run, or another program on the port, would
# change what the bare run shows.
if [ "${SOCKSHIM_EXAMPLE_NETNS:-}" != 1 ]; then
	if [ "$(id -u)" = 0 ]; then ns=(unshare -n); else ns=(unshare -rn); fi
	"${ns[@]}" true 2>/dev/null && SOCKSHIM_EXAMPLE_NETNS=1 exec "${ns[@]}" -- "$BASH" "$0" "$@"
	echo "(no private network namespace here: on this machine's loopback)"
else
	ip link set lo up
fi
port=${DEMO_PORT:-8765}
shim=("${SOCKSHIM:-$top/build/sockshim}" -p "$top/conf/sockshim.ini" --)

server() { # serve one request on $port, closing first; print what happened
	"$@" python3 - "$port" <<'PY'
import socketserver, sys
class Hello(socketserver.StreamRequestHandler):
    def handle(self):
        self.rfile.readline()
        # no Content-Length: the body ends when the server closes, so the
        # client waits for that and the TIME_WAIT is always the server's
        self.wfile.write(b"HTTP/1.0 200 OK\r\n\r\nhello\n")
try:
    srv = socketserver.TCPServer(("127.0.0.1", int(sys.argv[1])), Hello)  # no SO_REUSEADDR
except OSError as e:
    print(f"server: cannot start: {e.strerror}", flush=True); sys.exit(1)
print("server: listening", flush=True)
srv.timeout = 10  # a client that never comes does not hold the demo
srv.handle_request()
srv.server_close()
PY
}

run_once() { # label, then the command prefix for server and client
	local label=$1; shift
	server "$@" & local pid=$!
	for _ in $(seq 200); do ss -Hltn "sport = :$port" | grep -q . && break; kill -0 $pid 2>/dev/null || break; sleep 0.05; done
	"$@" curl -s --max-time 5 "http://127.0.0.1:$port/" | sed "s/^/client: got /"
	wait $pid
	echo "$label: exit $?"
}

echo "== bare: serve, then restart at once"
run_once "first run"
server & pid=$!; wait $pid; echo "restart without sockshim: exit $? (EADDRINUSE expected: TIME_WAIT)"
echo "   TIME_WAIT on :$port now: $(ss -Htan state time-wait "sport = :$port" | wc -l) connection(s)"
sleep 0.2

echo "== under sockshim with conf/sockshim.ini (log on stderr)"
port=$((port + 1))
run_once "first run" "${shim[@]}"
run_once "restart under sockshim" "${shim[@]}"

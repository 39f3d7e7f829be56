#!/bin/bash
# pinned-egress: curl and a python3 client leave from a chosen source address.
#
# peer_server.py answers every request with the peer address it sees. Bare,
# curl and python3 arrive from 127.0.0.1, the kernel's choice for a loopback
# destination. Under sockshim with policy.ini (source = 127.0.0.2 for
# connects to 127.0.0.1:7090) the same commands arrive from 127.0.0.2:
# sockshim binds the socket to that address before the program's connect.
#
# It runs in a private network namespace of its own (loopback only).
# Needs python3 and curl only (what the README's first command installs).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"

in_private_netns "$@"

find_python
for c in curl; do command -v $c >/dev/null || { echo "$c not found (apt-get install $c)"; exit 1; }; done
tmp=$(mktemp -d)
private_policy "$tmp"
"$py" "$here/peer_server.py" 7090 >"$tmp/server" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do grep -q listening "$tmp/server" && break; sleep 0.05; done

# clients [sockshim ... --]: one request with curl, one with a python3 socket
get='import socket
s = socket.create_connection(("127.0.0.1", 7090), 5)
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
print(b"".join(iter(lambda: s.recv(4096), b"")).decode().splitlines()[-1])'
clients() {
	echo "curl:    $("$@" curl -s --max-time 5 http://127.0.0.1:7090/)"
	echo "python3: $("$@" "$py" -c "$get")"
}

echo "== without sockshim"
clients
echo
echo "== under sockshim -p policy.ini (source = 127.0.0.2)"
clients "$sockshim" -p "$tmp/policy.ini" -l "$tmp/shim.log" --
echo
echo "== the server's own log"
grep connection "$tmp/server"
echo
echo "== what sockshim decided (its log, -l)"
grep ' connect ' "$tmp/shim.log" | sed 's/^[^ ]* //'
echo "(both connect non-blocking: rc=-1 errno=EINPROGRESS is the connect under way, as bare)"

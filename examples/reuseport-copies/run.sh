#!/bin/bash
# reuseport-copies: three copies of one unmodified server on one port.
#
# copy_server.py answers each request with its pid and sets neither
# SO_REUSEADDR nor SO_REUSEPORT: bare, a second copy cannot bind the port.
# Under sockshim with policy.ini (reuseport = force), three copies listen on
# 127.0.0.1:7080 (ss shows them), 60 curl requests are spread over all three
# by the kernel, and one copy is replaced while a client keeps asking: the
# new copy starts first, then the old one stops, and not one request is
# refused. For comparison, the classic restart (stop, then start) of a single
# copy while the same client runs.
#
# The namespace sets net.ipv4.tcp_migrate_req = 1 (Linux 5.14+): connections
# already queued at a copy when it closes its listener move to the other
# copies instead of being reset. Set it on a real host too.
#
# It runs in a private network namespace of its own (loopback only).
# Needs python3, curl and ss (iproute2).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"

in_private_netns "$@"
sysctl -qw net.ipv4.tcp_migrate_req=1 2>/dev/null ||
	echo "(no net.ipv4.tcp_migrate_req here: a request queued at the stopping copy may be reset)"

find_python
port=7080
tmp=$(mktemp -d)
private_policy "$tmp"
shim=("$sockshim" -p "$tmp/policy.ini" -l "$tmp/shim.log" --)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
status=0

# start [sockshim ... --]: start a copy in the background; its pid in $copy.
start() {
	local out=$tmp/copy.$RANDOM
	"$@" "$py" "$here/copy_server.py" $port >"$out" 2>&1 &
	copy=$!; pids+=("$copy")
	for _ in $(seq 100); do grep -q . "$out" && break; sleep 0.05; done
	cat "$out"
	grep -q listening "$out"
}
stop() { kill -TERM "$1"; wait "$1"; }
listeners() { ss -Hltn "sport = :$port" | wc -l; }
# wait_listeners N: until ss shows N listeners on the port (5 s at most)
wait_listeners() {
	for _ in $(seq 100); do [ "$(listeners)" -eq "$1" ] && return 0; sleep 0.05; done
	echo "unexpected: $(listeners) listeners, not $1"; status=1
}
# client_start / client_stop: the client loop, in the background
client_start() { rm -f "$tmp/stop"; "$py" "$here/client_loop.py" $port "$tmp/stop" >"$tmp/client" & client=$!; sleep 0.3; }
client_stop() { sleep 0.3; touch "$tmp/stop"; wait "$client"; cat "$tmp/client"; }

echo "== without sockshim: two copies on port $port"
start; first=$copy
start && { echo "unexpected: the second copy started"; status=1; }
echo "-> the second copy cannot bind the port"
stop $first

echo
echo "== under sockshim -p policy.ini (reuseport = force): three copies on port $port"
copies=()
for _ in 1 2 3; do start "${shim[@]}" || status=1; copies+=("$copy"); done
wait_listeners 3
echo "ss -ltnp:"
ss -Hltnp "sport = :$port" | awk '{print "  " $1, $4, $6}'

echo
echo "== 60 requests with curl, spread by the kernel"
curl -s --max-time 10 "http://127.0.0.1:$port/[1-60]" | sort | uniq -c | awk '{print "  " $2, $3 ": " $1 " requests"}'

echo
echo "== replace the copy pid ${copies[0]} while a client keeps asking: start the new one, then stop the old"
client_start
start "${shim[@]}" || status=1
new=$copy
wait_listeners 4
echo "started pid $new: $(listeners) listeners"
stop "${copies[0]}"
wait_listeners 3
echo "stopped pid ${copies[0]}: $(listeners) listeners"
client_stop
for p in "${copies[@]:1}" $new; do stop "$p"; done

echo
echo "== for comparison, the classic restart of a single copy: stop it, then start it"
start "${shim[@]}" || status=1
old=$copy
client_start
stop $old
echo "stopped pid $old"
start "${shim[@]}" || status=1
client_stop
stop $copy

echo
echo "== what sockshim decided (its log, -l): one line per copy started, e.g."
grep -m1 ' bind ' "$tmp/shim.log" | sed 's/^[^ ]* //'
echo "$(grep -c ' bind .* rc=0$' "$tmp/shim.log") copies started under sockshim, every bind with rc=0"
exit $status

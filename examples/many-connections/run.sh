#!/bin/bash
# many-connections: past the per-address port wall, to one destination.
#
# To one ip:port, one source address can hold only as many connections as
# there are ephemeral ports. With the real default range (32768-60999) that
# is 28,232, and `make bench` shows one process holding 225,856 connections
# to a single ip:port under an 8-address pool. This example shows the same
# wall in small: it runs in a private network namespace whose
# net.ipv4.ip_local_port_range has 1000 ports (40000-40999). Bare, one
# process holds 1000 connections to 127.0.0.1:7100, then connect() fails with
# EADDRNOTAVAIL. Under sockshim with policy.ini (source = 127.0.0.2, ...,
# 127.0.0.9, no source_port) the same unmodified client holds 8000, 1000 from
# each address: the server sees them, and so does ss.
#
# Both programs hold every connection as an open fd, so the script raises
# `ulimit -n` to the hard limit; if that is below 8,100 it shrinks the port
# range to fit. Needs python3 and ss (iproute2); a few seconds.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"

in_private_netns "$@"

hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=1048576
ulimit -n "$hard"
ports=$(( (hard - 100) / 8 ))
[ $ports -gt 1000 ] && ports=1000
last=$((40000 + ports - 1))
sysctl -qw net.ipv4.ip_local_port_range="40000 $last" ||
	{ echo "cannot set net.ipv4.ip_local_port_range in the namespace"; exit 1; }
echo "namespace: net.ipv4.ip_local_port_range = $(tr '\t' ' ' </proc/sys/net/ipv4/ip_local_port_range) ($ports ports), ulimit -n $(ulimit -n)"

find_python
tmp=$(mktemp -d)
private_policy "$tmp"
"$py" "$here/hold_server.py" 7100 >"$tmp/server" 2>&1 &
server=$!
client=
trap 'kill $server $client 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do grep -q listening "$tmp/server" && break; sleep 0.05; done

# run LABEL [sockshim ... --]: the client connects until the kernel says no;
# then the server's count, and ss's; then the client exits and closes all.
run() {
	: >"$tmp/client"
	"${@:2}" "$py" "$here/hold_client.py" 7100 $((8 * ports + 1000)) >"$tmp/client" 2>&1 &
	client=$!
	for _ in $(seq 600); do
		[ "$(grep -c '^client:' "$tmp/client")" -ge 2 ] && break
		kill -0 $client 2>/dev/null || break
		sleep 0.1
	done
	cat "$tmp/client"
	local seen=$(grep -c holding "$tmp/server")
	kill -USR1 $server
	for _ in $(seq 100); do [ "$(grep -c holding "$tmp/server")" -gt "$seen" ] && break; sleep 0.05; done
	grep holding "$tmp/server" | tail -1
	echo "ss: $(ss -Htn state established '( dport = :7100 )' | wc -l) established connections to 127.0.0.1:7100"
	kill $client 2>/dev/null; wait $client 2>/dev/null; client=
	# until the server has closed its side of them all
	for _ in $(seq 100); do [ "$(ss -Htn state close-wait '( sport = :7100 )' | wc -l)" -eq 0 ] && break; sleep 0.05; done
}

echo
echo "== without sockshim: one process connects to 127.0.0.1:7100 until the kernel says no"
run bare
echo
echo "== under sockshim -p policy.ini (source = 127.0.0.2, ..., 127.0.0.9)"
run shim "$sockshim" -p "$tmp/policy.ini" -l "$tmp/shim.log" --
echo
echo "== what sockshim decided (its log, -l)"
echo "$(grep -c ' rule=pool actions=source=127\.0\.0\.[2-9] rc=0$' "$tmp/shim.log") connects made from the pool; then one found every address full:"
grep ' rc=-1 ' "$tmp/shim.log" | tail -1 | sed 's/^[^ ]* //'

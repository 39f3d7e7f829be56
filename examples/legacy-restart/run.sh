#!/bin/bash
# legacy-restart: restart a legacy server at once, despite TIME_WAIT.
#
# legacy_server.py listens on a fixed port and never sets SO_REUSEADDR. It
# closes each connection first, so each request it serves leaves a TIME_WAIT
# entry on its port for 60 s, and a restart within that minute fails with
# "Address already in use". Under sockshim with policy.ini (reuseaddr =
# force) the same server, unchanged, is stopped and started again three
# times in a row, serving curl each time.
#
# The bare run uses port 7070 and the sockshim runs port 7071: the bare run's
# TIME_WAIT entries lack SO_REUSEADDR, and the kernel would hold them against
# the first restart even under sockshim (README: "The first restart after
# deploying can still fail").
#
# It runs in a private network namespace of its own (loopback only), so
# earlier runs leave nothing behind. Needs python3, curl and ss (iproute2).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"

in_private_netns "$@"

find_python
tmp=$(mktemp -d)
private_policy "$tmp"
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$tmp"' EXIT
status=0

# start PORT [sockshim -p POLICY -l LOG --]: start the legacy server in the
# background (its pid in $server); fail if it cannot listen.
start() {
	local port=$1; shift
	: >"$tmp/out"
	"$@" "$py" "$here/legacy_server.py" "$port" >"$tmp/out" 2>&1 &
	server=$!
	for _ in $(seq 100); do
		grep -q . "$tmp/out" && break
		sleep 0.05
	done
	cat "$tmp/out"
	grep -q listening "$tmp/out"
}

# stop PORT: stop the server, then say how many TIME_WAIT entries it left
stop() {
	kill -TERM "$server"; wait "$server"; server=
	echo "stopped; TIME_WAIT entries on port $1 (ss): $(ss -Htan state time-wait "( sport = :$1 )" | wc -l)"
}

get() { curl -s --max-time 5 "http://127.0.0.1:$1/" | sed 's/^/curl: /'; }

echo "== without sockshim: start, serve 2 requests, restart at once (port 7070)"
start 7070 && get 7070 && get 7070 && stop 7070 || status=1
if start 7070; then
	echo "unexpected: the bare restart worked"; status=1; stop 7070
else
	echo "-> the bare restart fails: TIME_WAIT still holds the port"
fi

echo
echo "== under sockshim -p policy.ini (reuseaddr = force): start + 3 restarts (port 7071)"
shim=("$sockshim" -p "$tmp/policy.ini" -l "$tmp/shim.log" --)
for run in 1 2 3 4; do
	[ $run -gt 1 ] && echo "-- restart $((run - 1)), at once"
	if ! start 7071 "${shim[@]}"; then
		echo "unexpected: run $run did not start"; status=1; break
	fi
	get 7071; get 7071
	stop 7071
done
echo
echo "== what sockshim decided (its log, -l)"
grep ' bind ' "$tmp/shim.log" | sed 's/^[^ ]* //'
exit $status

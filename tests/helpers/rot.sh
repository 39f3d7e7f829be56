# Shell side of the rotation tests (tests/e2e/8x-*.sh). Source after lib.sh:
#   . "$TOP/tests/helpers/rot.sh"
# Background processes are killed when the script exits.
RS="$BUILD/tests/rot_server"
RC="$BUILD/tests/rot_client"
_rot_pids=""
_rot_cleanup() {
	for p in $_rot_pids; do kill "$p" 2>/dev/null; done
	for p in $_rot_pids; do wait "$p" 2>/dev/null; done
}
trap _rot_cleanup EXIT

# serve KIND ADDR PORT PEERFILE [rot_server flags]: start a server, wait until ready.
serve() {
	local fifo=$T/ready.$$.$RANDOM
	mkfifo "$fifo"
	"$RS" "$@" -s 120 >"$fifo" &
	_rot_pids="$_rot_pids $!"
	if ! timeout 5 head -1 "$fifo" | grep -q ready; then
		echo "# server $* did not start"
		return 1
	fi
	rm -f "$fifo"
}

# later COMMAND...: run in the background, killed at exit; $! is its pid.
later() {
	"$@" &
	_rot_pids="$_rot_pids $!"
}

# wait_lines FILE N: wait (at most 10 s) until FILE has N lines.
wait_lines() {
	local i=0
	while [ "$(cat "$1" 2>/dev/null | wc -l)" -lt "$2" ]; do
		[ $i -ge 200 ] && { echo "# $1 never reached $2 lines"; return 1; }
		sleep 0.05; i=$((i + 1))
	done
}

# field KEY TEXT: the value of KEY=VALUE in rot_client's output.
field() { printf '%s\n' "$2" | grep -o "\(^\| \)$1=[^ ]*" | head -1 | cut -d= -f2; }

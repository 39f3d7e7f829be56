# Shell side of tests/helpers/peerwatch.py, for the client-side e2e tests
# (tests/e2e/3x-*.sh, 4x-*.sh). Source it after tests/lib.sh:
#   . "$TOP/tests/helpers/peerwatch.sh"
# Background servers are killed when the script exits.

# The real interpreter, not a pyenv/asdf wrapper script.
PY=$(python3 -c 'import sys; print(sys.executable)')
PW="$TOP/tests/helpers/peerwatch.py"
PROBE="$BUILD/tests/probe"
_pw_pids=""
_pw_cleanup() {
	for p in $_pw_pids; do kill "$p" 2>/dev/null; done
	for p in $_pw_pids; do wait "$p" 2>/dev/null; done
}
trap _pw_cleanup EXIT

# bg COMMAND...: run COMMAND in the background, killed at exit.
bg() {
	"$@" &
	_pw_pids="$_pw_pids $!"
}

# serve NAME KIND HOST PORT [--backlog N] [--gate FILE]: start a peerwatch
# server (tcp, http or udp) and wait (at most 5 s) until it is ready.
serve() {
	_n=$1
	shift
	"$PY" "$PW" serve "$@" >"$T/$_n.out" 2>"$T/$_n.err" &
	_pw_pids="$_pw_pids $!"
	_i=0
	while [ $_i -lt 100 ]; do
		grep -q '^ready' "$T/$_n.out" 2>/dev/null && return 0
		sleep 0.05
		_i=$((_i + 1))
	done
	echo "# server $_n did not start:"
	sed 's/^/#   /' "$T/$_n.err"
	return 1
}

# hold NAME tcp|udp ADDR PORT...: keep those ports bound (no SO_REUSEADDR)
# by another process until the script ends.
hold() {
	_n=$1
	shift
	"$PY" "$PW" hold "$@" >"$T/$_n.out" 2>"$T/$_n.err" &
	_pw_pids="$_pw_pids $!"
	_i=0
	while [ $_i -lt 100 ]; do
		grep -q '^ready' "$T/$_n.out" 2>/dev/null && return 0
		sleep 0.05
		_i=$((_i + 1))
	done
	echo "# holder $_n did not start:"
	sed 's/^/#   /' "$T/$_n.err"
	return 1
}

# peers NAME: one "ADDR PORT" line per connection (or datagram) seen so far.
peers() { sed -n 's/^peer \([^ ]*\) \([0-9]*\).*/\1 \2/p' "$T/$1.out"; }
# peer_addrs NAME: the sorted distinct addresses seen.
peer_addrs() { peers "$1" | cut -d' ' -f1 | sort -u | tr '\n' ' ' | sed 's/ $//'; }
# npeers NAME
npeers() { peers "$1" | wc -l | tr -d ' '; }

# wait_peers NAME N: wait (at most 3 s) until the server has seen N peers.
wait_peers() {
	_i=0
	while [ $_i -lt 60 ]; do
		[ "$(npeers "$1")" -ge "$2" ] && return 0
		sleep 0.05
		_i=$((_i + 1))
	done
	return 1
}

# pyc ARGS...: the peerwatch client (peerwatch.py connect ...), without the shim.
pyc() { "$PY" "$PW" connect "$@"; }

# field KEY TEXT: the value of KEY=VALUE in TEXT (first occurrence).
field() { printf '%s\n' "$2" | grep -o "$1=[^ ]*" | head -1 | cut -d= -f2-; }

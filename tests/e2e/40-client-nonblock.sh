#!/bin/bash
# frontends: preload, seccomp
# 40: non-blocking connect. The policy applies once (one decision logged);
# repeated connect calls return exactly what the kernel returns without the
# shim (EINPROGRESS, then EALREADY while the handshake is pending, 0 once,
# then EISCONN), and the connection ends up from the pinned source. To get a
# pending handshake on loopback the server's accept queue is kept full
# (backlog 0, one connection waiting, accept held back by a gate file) until
# the probe has asked twice; the SYN retransmission then gets through.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"

P=$(policy nb.ini <<'INI'
[nb]
on = connect
addr = 127.0.0.1
source = 127.0.0.2
source_port = 41000-41009
INI
)
errnos() { sed 's/ local=.*//; s/ remote=.*//; s/127\.0\.0\.1:900[12]/127.0.0.1:PORT/'; }

# ---- handshake completes at once ----
serve tcp tcp 127.0.0.1 9000 || exit 1
steps="nonblock connect=127.0.0.1:9000 connect=127.0.0.1:9000 wait connect=127.0.0.1:9000 name"
bare=$("$PROBE" tcp4 $steps)
out=$(shim "$P" "$PROBE" tcp4 $steps 2>"$T/fast.log")
expect_match "bare (control): EINPROGRESS first" "$bare" '^connect=127\.0\.0\.1:9000 rc=-1 errno=EINPROGRESS$'
expect_eq "shim: same rc/errno sequence as bare" "$(errnos <<<"$out")" "$(errnos <<<"$bare")"
expect_match "shim: from the pinned source and window" "$out" 'name rc=0 errno=0 local=127\.0\.0\.2:4100[0-9]$'
wait_peers tcp 2
expect_eq "server sees the pinned source" "$(peers tcp | tail -1)" "$(sed -n 's/.*local=\(127\.0\.0\.2\):\([0-9]*\)$/\1 \2/p' <<<"$out")"
expect_eq "one decision logged for three connect calls" "$(grep -c 'connect .*rule=nb' "$T/fast.log")" 1
check "no failed action (no re-bind attempt)" bash -c "! grep -q 'actions=.*failed=' '$T/fast.log'"

# ---- handshake pending: EALREADY ----
# stalled NAME PORT: a server with a full accept queue, released by $T/NAME.go
stalled() {
	serve "$1" tcp 127.0.0.1 "$2" --backlog 0 --gate "$T/$1.go" || return 1
	bg "$PY" -c "import socket, time; s = socket.create_connection(('127.0.0.1', $2)); time.sleep(30)" </dev/null >/dev/null 2>&1
	i=0
	while [ $i -lt 100 ] && ! ss -Htn state established "dport = :$2" | grep -q .; do sleep 0.05; i=$((i + 1)); done
}
# pending NAME PORT [shim POLICY]: the probe's steps against the stalled server.
pending() {
	_name=$1 _port=$2
	shift 2
	"$@" "$PROBE" tcp4 nonblock connect=127.0.0.1:$_port connect=127.0.0.1:$_port wait \
		connect=127.0.0.1:$_port name >"$T/$_name.probe" 2>"$T/$_name.log" &
	_p=$!
	sleep 0.3
	touch "$T/$_name.go"
	wait $_p
	cat "$T/$_name.probe"
}
stalled slow0 9001 || exit 1
bare=$(pending slow0 9001)
# (the first connect after the handshake completed returns 0, as Linux does)
expect_eq "bare (control): EINPROGRESS, EALREADY, connected" "$(errnos <<<"$bare")" "nonblock rc=0 errno=0
connect=127.0.0.1:PORT rc=-1 errno=EINPROGRESS
connect=127.0.0.1:PORT rc=-1 errno=EALREADY
wait rc=1 errno=0 so_error=0
connect=127.0.0.1:PORT rc=0 errno=0
name rc=0 errno=0"

stalled slow1 9002 || exit 1
out=$(pending slow1 9002 shim "$P")
expect_eq "shim: same sequence as bare (EALREADY passed through)" "$(errnos <<<"$out")" "$(errnos <<<"$bare")"
expect_match "shim: local address is the pinned source" "$out" 'name rc=0 errno=0 local=127\.0\.0\.2:4100[0-9]$'
wait_peers slow1 2
expect_eq "stalled server sees the pinned source" "$(peers slow1 | tail -1)" "$(sed -n 's/.*local=\(127\.0\.0\.2\):\([0-9]*\)$/\1 \2/p' <<<"$out")"
expect_eq "one decision logged" "$(grep -c 'connect .*rule=nb' "$T/slow1.log")" 1

# ---- a repeated connect to a rewritten address goes where the first went ----
pol_rw=$(policy nb-rw.ini <<'INI'
[rw]
on = connect
addr = 127.0.0.9
rewrite = 127.0.0.1:9000
source = 127.0.0.2
INI
)
bare=$("$PROBE" tcp4 nonblock connect=127.0.0.1:9000 connect=127.0.0.1:9000 wait connect=127.0.0.1:9000 peer)
out=$(shim "$pol_rw" "$PROBE" tcp4 nonblock connect=127.0.0.9:80 connect=127.0.0.9:80 wait connect=127.0.0.9:80 peer name 2>"$T/rw.log")
expect_eq "rewrite: same sequence as a bare client of the real target" \
	"$(errnos <<<"$out" | sed 's/127\.0\.0\.9:80/127.0.0.1:9000/' | grep -v '^name')" "$(errnos <<<"$bare")"
expect_match "rewrite: connected to the target" "$out" 'peer rc=0 errno=0 remote=127\.0\.0\.1:9000$'
expect_match "rewrite: from the pinned source" "$out" 'name rc=0 errno=0 local=127\.0\.0\.2:'

# ---- python: the usual connect_ex loop ----
out=$(shim "$P" "$PY" -c '
import errno, select, socket
s = socket.socket()
s.setblocking(False)
seen = []
for _ in range(200):
    r = s.connect_ex(("127.0.0.1", 9000))
    seen.append(errno.errorcode.get(r, "0"))
    if r in (0, errno.EISCONN):
        break
    select.select([], [s], [], 0.05)
print(seen[0], seen[-1], *s.getsockname())
' 2>/dev/null)
expect_match "python connect_ex loop: EINPROGRESS ... EISCONN/0, from the pinned source" "$out" '^EINPROGRESS (EISCONN|0) 127\.0\.0\.2 4100[0-9]$'
finish

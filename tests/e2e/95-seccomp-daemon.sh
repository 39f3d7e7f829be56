#!/bin/bash
# 95: `sockshim --seccomp` serves a command that daemonizes. The launcher
# exits with the foreground's status at once; the supervising process keeps
# answering the filter's calls for what the command left running, and ends
# when the last process carrying the filter is gone.
# - A static program that double-forks (the foreground exits 0 at once; the
#   daemon only starts connecting after the launcher has exited): its
#   connect under `source` reaches the server from 127.0.0.2 (the server's
#   view and getsockname), its connect under `deny` fails with the policy's
#   errno, nothing fails with ENOSYS; the detached supervisor logged the
#   daemon's decisions and a summary; after the daemon exits, no sockshim
#   process is left.
# - redis-server with `daemonize yes` (dynamically linked, but --seccomp
#   forces the seccomp front end) under `reuseport = force`: it starts,
#   answers PING, and its listener has SO_REUSEPORT (a second socket binds
#   the same port with SO_REUSEPORT; control: bare redis, EADDRINUSE); after
#   SHUTDOWN, no sockshim process is left.
# - A command that does not daemonize leaves no supervisor once the launcher
#   returned, and a signal sent to the launcher reaches it.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"
. "$TOP/tests/helpers/seccomp.sh"

static_c sdaemon "$TOP/tests/helpers/daemon_client.c"
check "the daemon is statically linked" is_static "$T/sdaemon"
serve tcp tcp 127.0.0.1 9000 || exit 1

# wait_text FILE REGEX: at most 10 s
wait_text() {
	local i=0
	while ! grep -Eq "$2" "$1" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	grep -Eq "$2" "$1" 2>/dev/null
}
# no_supervisor: true once no sockshim process is left (at most 5 s; the
# script has a pid namespace of its own)
no_supervisor() {
	local i=0
	while pgrep -x sockshim >/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	! pgrep -x sockshim >/dev/null
}

# ---- a static double-forking daemon ----
P=$(policy daemon.ini <<'INI'
[pin]
on = connect
addr = 127.0.0.1
port = 9000
source = 127.0.0.2

[refuse]
on = connect
port = 9001
deny = ENETUNREACH
INI
)
start=$(date +%s%N)
sup "$P" "$T/sdaemon" "$T/go" "$T/d.out" 127.0.0.1 9000 127.0.0.1 9001 2>"$T/d.log"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
expect_eq "daemon: the launcher exits with the foreground's status, 0" "$rc" 0
check "daemon: the launcher exits at once (${ms} ms)" test "$ms" -lt 3000
check "daemon: it started" wait_text "$T/d.out" '^pid [0-9]+$'
dpid=$(awk '/^pid/ { print $2 }' "$T/d.out")
touch "$T/go" # only now, the launcher gone, does the daemon connect
check "daemon: it finished its calls (alive, not killed by ENOSYS)" wait_text "$T/d.out" '^done$'
expect_match "daemon: connect under source: rc 0 from 127.0.0.2 (getsockname)" "$(cat "$T/d.out")" \
	'pinned rc=0 errno=0 local=127\.0\.0\.2:[0-9]+'
wait_peers tcp 1
expect_eq "daemon: the server saw 127.0.0.2" "$(peers tcp | tail -1 | cut -d' ' -f1)" 127.0.0.2
expect_match "daemon: connect under deny: the policy's errno" "$(cat "$T/d.out")" 'denied rc=-1 errno=ENETUNREACH'
expect_eq "daemon: no call failed with ENOSYS" "$(grep -c ENOSYS "$T/d.out")" 0
check "daemon: after it exits, no supervisor is left" no_supervisor
check "daemon: the daemon is gone" bash -c "! kill -0 $dpid 2>/dev/null"
expect_match "daemon: the launcher said the rest stays supervised" "$(cat "$T/d.log")" \
	'what it left running stays supervised'
expect_match "daemon: the detached supervisor logged the daemon's decision" "$(cat "$T/d.log")" \
	'rule=pin actions=source=127\.0\.0\.2'
expect_match "daemon: and its summary" "$(cat "$T/d.log")" 'summary .*rule=pin .*matched=1 applied=1'

# ---- the same with a log file: the launcher's output is not held open ----
PF=$(policy daemon-file.ini <<INI
[global]
log = file:$T/f.log

$(sed -n '/^\[pin\]/,$p' "$P")
INI
)
start=$(date +%s%N)
out=$(sup "$PF" "$T/sdaemon" "$T/go2" "$T/f.out" 127.0.0.1 9000 127.0.0.1 9001 2>&1)
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
check "log file: reading the launcher's output through a pipe ends at once (${ms} ms, rc $rc)" test "$ms" -lt 3000
wait_text "$T/f.out" '^pid [0-9]+$'
touch "$T/go2"
check "log file: the daemon finished its calls" wait_text "$T/f.out" '^done$'
expect_match "log file: connect under source: from 127.0.0.2" "$(cat "$T/f.out")" 'pinned rc=0 errno=0 local=127\.0\.0\.2:'
check "log file: after it exits, no supervisor is left" no_supervisor
expect_match "log file: the supervisor logged the daemon's decision and the summary there" "$(cat "$T/f.log")" \
	'rule=pin actions=source=127\.0\.0\.2.*
.*summary .*rule=pin .*matched=1 applied=1'

# ---- a command that does not daemonize ----
sup "$P" sh -c 'exec true' 2>"$T/fg.log"
expect_eq "foreground command: its status" "$?" 0
check "foreground command: no supervisor left once the launcher returned" bash -c '! pgrep -x sockshim >/dev/null'
expect_eq "foreground command: nothing said about processes left behind" "$(grep -c 'left running' "$T/fg.log")" 0
SOCKSHIM_POLICY=$P "${SUP[@]}" sh -c 'trap "exit 7" TERM; echo up >"$1"; i=0; while [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done' sh "$T/up" 2>/dev/null &
lpid=$!
wait_text "$T/up" up
kill -TERM "$lpid"
wait "$lpid"
expect_eq "a SIGTERM sent to the launcher reaches the command (its trap exits 7)" "$?" 7
check "after it, no supervisor left" no_supervisor

# ---- redis-server, daemonize yes ----
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
	echo "# no redis-server/redis-cli: the redis check is skipped"
	finish
fi
RP=6390
R=$(policy redis.ini <<INI
[redis-copies]
on = bind
proto = tcp
port = $RP
reuseport = force
INI
)
redis() { # DIR: the arguments of a daemonized redis-server in DIR
	mkdir -p "$1"
	echo --port $RP --bind 127.0.0.1 --daemonize yes --pidfile "$1/redis.pid" --logfile "$1/redis.log" \
		--dir "$1" --save '' --appendonly no
}
second_bind() {
	"$PY" - "$RP" <<'PYEOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); print("bound")
except OSError as e:
    print(__import__("errno").errorcode[e.errno])
PYEOF
}
ping() { # at most 5 s
	local i=0
	until [ "$(redis-cli -p $RP ping 2>/dev/null)" = PONG ] || [ $i -ge 100 ]; do sleep 0.05; i=$((i + 1)); done
	redis-cli -p $RP ping 2>&1
}
gone() { # PORT no longer listened on, at most 5 s
	local i=0
	while [ "$(ss -Hltn "sport = :$RP" | wc -l)" != 0 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
}

# control: bare
redis-server $(redis "$T/bare")
expect_eq "redis bare: answers PING" "$(ping)" PONG
expect_eq "redis bare: a second SO_REUSEPORT bind of its port fails" "$(second_bind)" EADDRINUSE
redis-cli -p $RP shutdown nosave >/dev/null 2>&1
gone

sup "$R" redis-server $(redis "$T/sup") 2>"$T/redis-sup.log"
expect_eq "redis --seccomp: the launcher exits 0" "$?" 0
expect_eq "redis --seccomp: answers PING after the launcher exited" "$(ping)" PONG
expect_eq "redis --seccomp: its listener has SO_REUSEPORT (a second copy binds the port)" "$(second_bind)" bound
expect_match "redis --seccomp: the bind decision was logged" "$(cat "$T/redis-sup.log")" 'rule=redis-copies'
redis-cli -p $RP shutdown nosave >/dev/null 2>&1
gone
check "redis --seccomp: after SHUTDOWN, no supervisor is left" no_supervisor
finish

# Every log sink under every failure: the program finishes on time (each
# run under `timeout 10`), every one of its connects succeeds, pinned to the
# rule's source (getsockname, and the peer address the server saw), and the
# lines a sink did not take are counted and reported ("log-dropped
# dropped=N") once the sink takes lines again, or at exit.
#   file            a regular file: every line arrives, nothing dropped
#   fifo/reader     log = file: a FIFO with a reader: every line arrives
#   fifo/no-reader  a FIFO nobody has open at start-up: no hang before main
#                   (open is O_NONBLOCK: ENXIO), one warning on stderr; a
#                   reader that comes later gets the lines from then on,
#                   after the count of those it missed
#   fifo/stalled    a reader that opens the FIFO and does not read (its
#                   buffer one page): lines are dropped, not waited for; once
#                   it reads, the count comes first. Every line is either
#                   delivered or counted
#   fifo/gone       the reader reads a little and exits: EPIPE, no SIGPIPE
#   fifo/socat      50 socat processes, each logging into a stalled FIFO
#   disk-full       log = file: on a full tmpfs (a mount namespace of its
#                   own); room is made before exit: the count is in the file
#   syslog/stalled  log = syslog:PATH, a receiver that reads nothing until
#                   the first phase is over (its queue holds 10 datagrams):
#                   JSON, every line delivered or counted
#   syslog/curl     the same receiver and 200 transfers by curl
#   syslog/restarted the receiver goes after 5 lines, a new one comes later
#   launcher/fifo-no-reader  sockshim -l naming a FIFO nobody reads
#   seccomp/syslog-stalled   sockshim --seccomp, its log to a receiver that
#                   reads nothing
#   syslog/absent   plain `syslog` with no /dev/log (a private /dev): one
#                   warning, no log
#   fd2/stalled     log = stderr, fd 2 a pipe whose reader stalls
#   fd2/stalled-threads  the same never read, 8 threads logging at once
#   fd2/no-reader   fd 2 a pipe whose reader is gone (SIGPIPE at its default)
#   fd2/socket      fd 2 a socket: nothing is written there
#   fd2/closed      fd 2 closed
#   fd2/tty-xoff    fd 2 a pty whose output is stopped (tcflow TCOOFF, what
#                   Ctrl-S does): the first line would block for ever
#   fd2/pty-noread  fd 2 a pty whose master nobody reads: it fills, then
#                   blocks
. "$TOP/tests/lib.sh"

PY=$(python3 -c 'import sys; print(sys.executable)')
PHASE=$TOP/tests/helpers/sinkphase.py
PORT=9720
N=500
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done' EXIT
"$BUILD/tests/rob_server" 127.0.0.1 $PORT 100000 120 > "$T/srv" &
pids=$!
wait_port $PORT

# pol NAME LOG [FORMAT]: a policy pinning (and so logging) connects to PORT
pol() {
	policy "$1.ini" <<EOF
[global]
log = $2
log_format = ${3:-text}

[pin]
on = connect
port = $PORT
source = 127.0.0.2
EOF
}

# wait_file FILE: at most 10 s
wait_file() {
	for _ in $(seq 200); do [ -e "$1" ] && return 0; sleep 0.05; done
	return 1
}

# phased NAME POLICY N2 DELAY ACTION (checks say NAME with its first - as /,
# fifo-stalled: fifo/stalled): run the two-phase client under the
# shim (stderr to $errto, default $T/NAME.err), run ACTION between its
# phases, and check that it finished in time with every connect pinned.
# Sets rc.
phased() {
	local name=$1 pol=$2 n2=$3 delay=$4 action=$5 prog label=${1/-//}
	timeout 10 env SOCKSHIM_POLICY="$pol" LD_PRELOAD="$SHIM" "$PY" "$PHASE" $PORT $N \
		"$T/$name.ready" "$T/$name.go" "$n2" "$delay" > "$T/$name.out" 2> "${errto:-$T/$name.err}" &
	prog=$!
	wait_file "$T/$name.ready"
	$action
	touch "$T/$name.go"
	wait $prog; rc=$?
	expect_eq "$label: finishes within 10 s, exit 0" "$rc" 0
	local all=$((N + n2)) out
	out=$(cat "$T/$name.out")
	expect_match "$label: its $all connects succeeded" "$out" "^connect ok=$all fail=0\$"
	expect_match "$label: all of them pinned to 127.0.0.2 (getsockname)" "$out" "^local 127\\.0\\.0\\.2=$all\$"
}

# dropped FILE: the sum of the counts of the drop reports in FILE
dropped() {
	grep -oE 'log-dropped( dropped=|.*"dropped":)[0-9]+' "$1" | grep -oE '[0-9]+$' | awk '{ s += $1 } END { print s + 0 }'
}

# accounted NAME FILE N2 START DECISION: every line was delivered or counted
accounted() {
	local got d
	got=$(grep -cE -- "$5" "$2")
	d=$(dropped "$2")
	expect_eq "$1: every line delivered or counted (start + $((N + $3)) decisions = $(grep -cE -- "$4" "$2") + $got delivered + $d dropped)" \
		$(($(grep -cE -- "$4" "$2") + got + d)) $((1 + N + $3))
}

# fifo_reader FIFO OUT FLAG [LIMIT [PAGES]]: open FIFO for reading (returns
# once it is open), with a buffer of PAGES pages if given (F_SETPIPE_SZ),
# read nothing until FLAG exists ("-": at once), then copy to OUT until EOF,
# or until LIMIT bytes (0: no limit) were read. Sets reader.
fifo_reader() {
	rm -f "$T/reader.open"
	timeout 20 "$PY" - "$1" "$2" "$3" "$T/reader.open" "${4:-0}" "${5:-0}" <<'PY' &
import fcntl, os, select, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
if int(sys.argv[6]):
    fcntl.fcntl(fd, 1031, 4096 * int(sys.argv[6]))  # F_SETPIPE_SZ
open(sys.argv[4], "w").close()
t = time.monotonic() + 15
while sys.argv[3] != "-" and not os.path.exists(sys.argv[3]) and time.monotonic() < t:
    time.sleep(0.02)
limit, got = int(sys.argv[5]), 0
with open(sys.argv[2], "wb") as out:
    # select first: a read before any writer came would be an EOF at once
    while (not limit or got < limit) and select.select([fd], [], [], 15)[0]:
        try:
            b = os.read(fd, limit - got if limit else 65536)
        except BlockingIOError:
            continue
        if not b:
            break
        got += len(b)
        out.write(b)
PY
	reader=$!
	wait_file "$T/reader.open"
}

# stalled_reader FIFO OUT FLAG: the same with a one-page buffer, which a few
# dozen lines fill
stalled_reader() {
	fifo_reader "$1" "$2" "$3" 0 1
}

text_start=' sockshim\[[0-9]+\] info start '
text_decision=' info connect fd=[0-9]+ tcp 127\.0\.0\.1:9720 rule=pin actions=source=127\.0\.0\.2'

# --- a regular file
p=$(pol file "file:$T/file.log")
phased file "$p" 0 0 :
expect_eq "file: every decision in the file" "$(grep -cE -- "$text_decision" "$T/file.log")" $N
expect_eq "file: nothing dropped" "$(grep -c log-dropped "$T/file.log")" 0

# --- a FIFO with a reader
mkfifo "$T/r.fifo"
fifo_reader "$T/r.fifo" "$T/fifo-reader.log" -
p=$(pol fifo-reader "file:$T/r.fifo")
phased fifo-reader "$p" 0 0 :
wait $reader
expect_eq "fifo/reader: every decision arrived" "$(grep -cE -- "$text_decision" "$T/fifo-reader.log")" $N
expect_eq "fifo/reader: nothing dropped" "$(grep -c log-dropped "$T/fifo-reader.log")" 0

# --- a FIFO nobody reads at start-up; a reader comes between the phases
mkfifo "$T/n.fifo"
late_reader() {
	timeout 15 cat "$T/n.fifo" > "$T/fifo-no-reader.log" &
	reader=$!
}
p=$(pol fifo-no-reader "file:$T/n.fifo")
phased fifo-no-reader "$p" 30 0.05 late_reader
wait $reader
expect_eq "fifo/no-reader: one warning on stderr" "$(cat "$T/fifo-no-reader.err")" \
	"sockshim: warning: log FIFO $T/n.fifo: ENXIO (no reader); lines are dropped until one opens it"
l=$T/fifo-no-reader.log
expect_match "fifo/no-reader: the late reader gets the count first" "$(head -1 "$l")" \
	"warn log-dropped dropped=[0-9]+ msg="
check "fifo/no-reader: at least the first phase was counted (>= $((N + 1)))" [ "$(dropped "$l")" -ge $((N + 1)) ]
check "fifo/no-reader: then decisions of the second phase" grep -qE -- "$text_decision" "$l"
accounted fifo/no-reader "$l" 30 "$text_start" "$text_decision"

# --- a FIFO whose reader stalls, then reads
mkfifo "$T/s.fifo"
stalled_reader "$T/s.fifo" "$T/fifo-stalled.log" "$T/fifo-stalled.ready"
p=$(pol fifo-stalled "file:$T/s.fifo")
phased fifo-stalled "$p" 20 0.05 :
wait $reader
l=$T/fifo-stalled.log
check "fifo/stalled: lines were dropped, and the count reported" [ "$(dropped "$l")" -gt 0 ]
expect_match "fifo/stalled: the report is a warning line" "$(grep log-dropped "$l" | head -1)" \
	'^[0-9TZ:.-]+ sockshim\[[0-9]+\] warn log-dropped dropped=[0-9]+ msg='
accounted fifo/stalled "$l" 20 "$text_start" "$text_decision"

# --- a FIFO whose reader reads a little and goes
mkfifo "$T/g.fifo"
fifo_reader "$T/g.fifo" /dev/null - 300
p=$(pol fifo-gone "file:$T/g.fifo")
phased fifo-gone "$p" 0 0 :
wait $reader
expect_eq "fifo/gone: no signal, no message" "$(cat "$T/fifo-gone.err")" ""

# --- socat, 50 processes, a stalled FIFO reader
mkfifo "$T/x.fifo"
stalled_reader "$T/x.fifo" "$T/socat.log" "$T/socat.drain"
p=$(pol socat "file:$T/x.fifo")
start=$(date +%s)
ok=0
for _ in $(seq 50); do
	timeout 10 env SOCKSHIM_POLICY="$p" LD_PRELOAD="$SHIM" socat -u OPEN:/dev/null TCP:127.0.0.1:$PORT && ok=$((ok + 1))
done
took=$(($(date +%s) - start))
touch "$T/socat.drain"
wait $reader
expect_eq "fifo/socat: 50 socat runs succeeded" "$ok" 50
check "fifo/socat: within 20 s ($took s)" [ "$took" -le 20 ]

# --- a full disk: a 64 KiB tmpfs filled up; room made before exit (N2 = 0:
# the count is written at exit, before the summary line)
mkdir "$T/disk"
if unshare -m true 2>/dev/null; then
	p=$(pol disk-full "file:$T/disk/shim.log")
	unshare -m sh -c '
		mount -t tmpfs -o size=64k tmpfs "$1" || exit 1
		dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null
		timeout 10 env SOCKSHIM_POLICY="$2" LD_PRELOAD="$3" "$4" "$5" "$6" "$7" "$8.ready" "$8.go" 0 0 > "$8.out" 2> "$8.err" &
		for i in $(seq 200); do [ -e "$8.ready" ] && break; sleep 0.05; done
		rm -f "$1/fill"; touch "$8.go"
		wait $!; echo "rc=$?" >> "$8.out"
		cp "$1/shim.log" "$8.log"' sh "$T/disk" "$p" "$SHIM" "$PY" "$PHASE" $PORT $N "$T/disk-full"
	out=$(cat "$T/disk-full.out")
	expect_match "disk-full: finishes within 10 s, exit 0" "$out" '^rc=0$'
	expect_match "disk-full: its $N connects succeeded" "$out" "^connect ok=$N fail=0\$"
	expect_match "disk-full: all of them pinned to 127.0.0.2 (getsockname)" "$out" "^local 127\\.0\\.0\\.2=$N\$"
	check "disk-full: the count of lost lines is in the file at exit" [ "$(dropped "$T/disk-full.log")" -gt 0 ]
	expect_match "disk-full: then the summary line" "$(tail -1 "$T/disk-full.log")" ' info summary rule=pin '
	expect_eq "disk-full: nothing on stderr" "$(cat "$T/disk-full.err")" ""
else
	echo "# disk-full: no mount namespace here; skipped"
fi

# --- syslog: a receiver that reads nothing until the first phase is over
# receiver SOCKET OUT FLAG: bind, read nothing until FLAG exists, then print
# each datagram to OUT until 1.5 s pass without one. Sets reader.
receiver() {
	rm -f "$1" "$2.bound"
	timeout 25 "$PY" - "$1" "$2" "$3" <<'PY' &
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[2] + ".bound", "w").close()
t = time.monotonic() + 15
while not os.path.exists(sys.argv[3]) and time.monotonic() < t:
    time.sleep(0.02)
s.settimeout(1.5)
with open(sys.argv[2], "w") as out:
    try:
        while True:
            out.write(s.recv(4096).decode().rstrip("\n") + "\n")
            out.flush()
    except socket.timeout:
        pass
PY
	reader=$!
	wait_file "$2.bound"
}
receiver "$T/log.sock" "$T/syslog-stalled.log" "$T/syslog-stalled.ready"
p=$(pol syslog-stalled "syslog:$T/log.sock" json)
phased syslog-stalled "$p" 20 0.05 :
wait $reader
l=$T/syslog-stalled.log
check "syslog/stalled: lines were dropped, and the count reported" [ "$(dropped "$l")" -gt 0 ]
expect_match "syslog/stalled: the report is a JSON warning with a count" "$(grep log-dropped "$l" | head -1)" \
	'^<12>sockshim\[[0-9]+\]: \{"ts":"[^"]+","pid":[0-9]+,"level":"warn","event":"log-dropped","dropped":[0-9]+,'
accounted syslog/stalled "$l" 20 '"event":"start"' '"op":"connect".*"rule":"pin".*"source=127\.0\.0\.2'

# --- curl, 200 transfers, the same stalled receiver (the server closes at
# once: curl says "empty reply", 52, or "recv failure", 56, after each connect)
receiver "$T/log2.sock" "$T/syslog-curl.log" "$T/syslog-curl.drain"
p=$(pol syslog-curl "syslog:$T/log2.sock")
urls=$(for _ in $(seq 200); do printf 'http://127.0.0.1:%s/ ' $PORT; done)
# shellcheck disable=SC2086
out=$(timeout 10 env SOCKSHIM_POLICY="$p" LD_PRELOAD="$SHIM" curl -s -o /dev/null -w '%{local_ip}\n' --max-time 5 $urls); rc=$?
touch "$T/syslog-curl.drain"
wait $reader
expect_match "syslog/curl: finishes within 10 s (curl's own status: 52 empty reply, 56 reset; not timeout's 124)" "$rc" '^(52|56)$'
expect_eq "syslog/curl: 200 connects, all from 127.0.0.2" "$(grep -c '^127\.0\.0\.2$' <<<"$out")" 200
check "syslog/curl: lines were dropped" [ "$(grep -c . "$T/syslog-curl.log")" -lt 200 ]

# --- a syslog receiver that takes 5 lines and goes (a syslog daemon
# restarting); a new one binds the same path between the phases: the socket
# is connected to it again (once a second at most), the count comes first
rm -f "$T/log3.sock"
timeout 10 "$PY" - "$T/log3.sock" "$T/syslog-first.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(5)
with open(sys.argv[2], "w") as out:
    for _ in range(5):
        out.write(s.recv(4096).decode().rstrip("\n") + "\n")
PY
first=$!
wait_file "$T/log3.sock"
restart_receiver() {
	wait $first
	receiver "$T/log3.sock" "$T/syslog-restarted.log" "$T/syslog-restarted.ready"
}
p=$(pol syslog-restarted "syslog:$T/log3.sock")
phased syslog-restarted "$p" 30 0.05 restart_receiver
wait $reader
l=$T/syslog-restarted.log
# (first among its first lines: a thread's decision line may be sent
# between the reconnect and the count)
expect_match "syslog/restarted: the new receiver gets the count among its first lines" "$(head -3 "$l")" \
	'^<12>sockshim\[[0-9]+\]: [0-9TZ:.-]+ warn log-dropped dropped=[0-9]+ '
check "syslog/restarted: then decisions of the second phase" grep -qE -- "$text_decision" "$l"
# (No count of every line here: what the first receiver had queued, lines
# and counts alike, went with it unread, and a datagram sent is all the
# sender knows.)
check "syslog/restarted: the count covers the first phase's lost lines (> 100)" [ "$(dropped "$l")" -gt 100 ]

# --- the launcher: sockshim -l naming a FIFO nobody reads; and the seccomp
# supervisor logging to a syslog receiver that reads nothing (a supervisor
# that waited on its log would hold every supervised call)
mkfifo "$T/l.fifo"
policy front.ini > /dev/null <<EOF
[pin]
on = connect
port = $PORT
source = 127.0.0.2
EOF
out=$(timeout 10 "$BUILD/sockshim" -p "$T/front.ini" -l "$T/l.fifo" -- "$PY" "$PHASE" $PORT $N \
	"$T/launcher.ready" "$T/launcher.ready" 0 2> "$T/launcher.err"); rc=$?
expect_eq "launcher/fifo-no-reader: sockshim -l FIFO finishes within 10 s, exit 0" "$rc" 0
expect_match "launcher/fifo-no-reader: its $N connects succeeded, pinned" "$out" "^local 127\\.0\\.0\\.2=$N\$"
expect_match "launcher/fifo-no-reader: the warning" "$(cat "$T/launcher.err")" "^sockshim: warning: log FIFO $T/l.fifo: ENXIO"
receiver "$T/log4.sock" "$T/seccomp.log" "$T/seccomp.never"
out=$(timeout 10 "$BUILD/sockshim" --seccomp -p "$T/front.ini" -l "syslog:$T/log4.sock" -- "$PY" "$PHASE" $PORT $N \
	"$T/seccomp.ready" "$T/seccomp.ready" 0 2>&1); rc=$?
kill $reader 2>/dev/null; wait $reader 2>/dev/null
expect_eq "seccomp/syslog-stalled: sockshim --seccomp finishes within 10 s, exit 0" "$rc" 0
expect_match "seccomp/syslog-stalled: its $N connects succeeded, pinned" "$out" "^local 127\\.0\\.0\\.2=$N\$"

# --- plain syslog with no /dev/log
if unshare -m true 2>/dev/null; then
	policy syslog-absent.ini > /dev/null <<EOF
[global]
log = syslog

[pin]
on = connect
port = 9721
source = 127.0.0.2
EOF
	out=$(timeout 10 unshare -m sh -c 'mount -t tmpfs tmpfs /dev && exec "$@"' sh \
		env SOCKSHIM_POLICY="$T/syslog-absent.ini" LD_PRELOAD="$SHIM" "$BUILD/tests/rob_threads" 9721 1 $N 2> "$T/syslog-absent.err"); rc=$?
	expect_eq "syslog/absent: finishes within 10 s, exit 0" "$rc" 0
	expect_match "syslog/absent: its $N connects succeeded, pinned" "$out" "^client-local 127\\.0\\.0\\.2=$N\$"
	expect_eq "syslog/absent: one warning" "$(cat "$T/syslog-absent.err")" \
		"sockshim: warning: cannot reach syslog at /dev/log: ENOENT; decision logging is off"
else
	echo "# syslog/absent: no mount namespace here; skipped"
fi

# --- log = stderr, fd 2 a pipe whose reader stalls
mkfifo "$T/e.fifo"
stalled_reader "$T/e.fifo" "$T/fd2-stalled.log" "$T/fd2-stalled.ready"
p=$(pol fd2-stalled stderr)
errto=$T/e.fifo phased fd2-stalled "$p" 20 0.05 :
wait $reader
l=$T/fd2-stalled.log
check "fd2/stalled: lines were dropped, and the count reported" [ "$(dropped "$l")" -gt 0 ]
accounted fd2/stalled "$l" 20 "$text_start" "$text_decision"

# --- the same, never read, with 8 threads logging at once (rob_threads has
# its own listener)
policy threads.ini > /dev/null <<EOF
[pin]
on = connect
port = 9722
source = 127.0.0.2
EOF
out=$(timeout 10 "$BUILD/tests/rob_deadpipe" -n 9 env SOCKSHIM_POLICY="$T/threads.ini" LD_PRELOAD="$SHIM" \
	"$BUILD/tests/rob_threads" 9722 8 250)
expect_match "fd2/stalled-threads: 8 threads finish within 9 s although nobody reads fd 2" "$out" '^exit=0$'
expect_match "fd2/stalled-threads: their 2000 connects succeeded, pinned" "$out" '^client-local 127\.0\.0\.2=2000$'

# --- fd 2 a pipe whose reader is gone
p=$(pol fd2-dead stderr)
out=$(timeout 10 "$BUILD/tests/rob_deadpipe" env SOCKSHIM_POLICY="$p" LD_PRELOAD="$SHIM" "$PY" "$PHASE" $PORT $N \
	"$T/fd2-dead.ready" "$T/fd2-dead.ready" 0)
expect_match "fd2/no-reader: finishes, no SIGPIPE (exit 0)" "$out" '^exit=0$'
expect_match "fd2/no-reader: its $N connects succeeded, pinned" "$out" "^local 127\\.0\\.0\\.2=$N\$"

# --- fd 2 a socket
cat > "$T/sock-stderr.py" <<'PY'
import socket, subprocess, sys
a, b = socket.socketpair()
r = subprocess.run(sys.argv[1:], stderr=b.fileno(), stdout=subprocess.PIPE, timeout=10)
b.close(); a.settimeout(2)
sys.stdout.write(r.stdout.decode())
print("rc=%d fd2-received=%r" % (r.returncode, a.recv(4096)))
PY
p=$(pol fd2-socket stderr)
out=$(timeout 10 "$PY" "$T/sock-stderr.py" env SOCKSHIM_POLICY="$p" LD_PRELOAD="$SHIM" "$PY" "$PHASE" $PORT $N \
	"$T/fd2-socket.ready" "$T/fd2-socket.ready" 0)
expect_match "fd2/socket: finishes, exit 0, nothing written into the socket" "$out" "^rc=0 fd2-received=b''\$"
expect_match "fd2/socket: its $N connects succeeded, pinned" "$out" "^local 127\\.0\\.0\\.2=$N\$"

# --- fd 2 closed
p=$(pol fd2-closed stderr)
out=$(timeout 10 env SOCKSHIM_POLICY="$p" LD_PRELOAD="$SHIM" "$PY" "$PHASE" $PORT $N \
	"$T/fd2-closed.ready" "$T/fd2-closed.ready" 0 2>&-); rc=$?
expect_eq "fd2/closed: finishes within 10 s, exit 0" "$rc" 0
expect_match "fd2/closed: its $N connects succeeded, pinned" "$out" "^local 127\\.0\\.0\\.2=$N\$"

# --- fd 2 a terminal that takes no output: stopped by XOFF, or a pty whose
# master nobody reads (3000 decisions: far more than its buffers hold)
cat > "$T/pty-stderr.py" <<'PY'
import os, pty, subprocess, sys, termios
m, s = pty.openpty()
if sys.argv[1] == "xoff":
    termios.tcflow(s, termios.TCOOFF)
try:
    r = subprocess.run(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=s, timeout=10)
    sys.stdout.write(r.stdout.decode())
    print("rc=%d" % r.returncode)
except subprocess.TimeoutExpired:
    print("rc=timeout")
PY
for mode in xoff noread; do
	label=fd2/tty-xoff
	[ $mode = noread ] && label=fd2/pty-noread
	p=$(pol fd2-$mode stderr)
	out=$(timeout 15 "$PY" "$T/pty-stderr.py" $mode env SOCKSHIM_POLICY="$p" LD_PRELOAD="$SHIM" "$PY" "$PHASE" $PORT 3000 \
		"$T/fd2-$mode.ready" "$T/fd2-$mode.ready" 0)
	expect_match "$label: finishes within 10 s, exit 0" "$out" '^rc=0$'
	expect_match "$label: its 3000 connects succeeded, pinned" "$out" '^local 127\.0\.0\.2=3000$'
done

# the server's view: every connect of the probes and of curl and socat came
# from 127.0.0.2
kill $pids 2>/dev/null; wait $pids 2>/dev/null
check "server: no peer other than 127.0.0.2" sh -c "! grep '^peer ' '$T/srv' | grep -qv '^peer 127\\.0\\.0\\.2:'"
check "server: saw the connects" [ "$(grep -c '^peer 127\.0\.0\.2:' "$T/srv")" -ge $((N * 14)) ]
finish

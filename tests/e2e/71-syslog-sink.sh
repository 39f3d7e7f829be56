# log = syslog:/path sends each decision as one datagram to a syslog socket
# (never through syslog(3)): "<PRI>sockshim[PID]: ..." with facility user.
# A broken policy stops the program (78) with its errors on stderr and in
# the syslog sink too; when the sink is stderr but fd 2 is a socket (a
# systemd service's journal stream, inetd), they go to /dev/log instead.
. "$TOP/tests/lib.sh"

PY=$(python3 -c 'import sys; print(sys.executable)')
# syslogd SOCKET OUT: a syslog socket printing each datagram to OUT until 5 s
# pass without one; sets srv
syslogd() {
	rm -f "$1"
	"$PY" - "$1" > "$2" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(5)
try:
    while True:
        print(s.recv(4096).decode(), flush=True)
except socket.timeout:
    pass
PY
	srv=$!
	for _ in $(seq 100); do [ -S "$1" ] && break; sleep 0.05; done
}
syslogd "$T/log.sock" "$T/received"
trap 'kill $srv 2>/dev/null' EXIT

pol=$(policy syslog.ini <<INI
[global]
log = syslog:$T/log.sock
log_format = json
[deny-far]
on = connect
port = 9
deny = EACCES
INI
)
out=$(shim "$pol" "$BUILD/tests/probe" tcp4 connect=127.0.0.1:9 2>&1)
expect_match "the application saw the policy's errno" "$out" "connect=127.0.0.1:9 rc=-1 errno=EACCES"
sleep 0.3
kill $srv 2>/dev/null; wait $srv 2>/dev/null
got=$(cat "$T/received")
expect_match "start line arrived as a datagram, priority user.info" "$got" '^<14>sockshim\[[0-9]+\]: \{.*"event":"start"'
expect_match "decision arrived" "$got" '"op":"connect".*"rule":"deny-far".*"deny=EACCES"'
check "nothing of the log on stderr" sh -c "! printf '%s' \"\$1\" | grep -q sockshim" sh "$out"

# an unreachable syslog socket: one warning, the program runs on
pol2=$(policy nosyslog.ini <<INI
[global]
log = syslog:$T/missing.sock
INI
)
out=$(shim "$pol2" "$BUILD/tests/probe" tcp4 name 2>&1); rc=$?
expect_eq "program unaffected by a missing syslog" "$rc" 0
expect_match "one warning names the socket" "$out" "cannot reach syslog at $T/missing.sock"

# a broken policy with log = syslog: 78, the error on stderr and in syslog
syslogd "$T/log.sock" "$T/broken.received"
broken=$(policy broken.ini <<INI
[global]
log = syslog:$T/log.sock
[deny-far]
on = connect
sorce = 127.0.0.2
INI
)
out=$(shim "$broken" "$BUILD/tests/probe" tcp4 name 2>&1); rc=$?
expect_eq "broken policy: exit 78" "$rc" 78
expect_match "broken policy: FILE:LINE on stderr" "$out" "^sockshim: $broken:5: .*sorce"
sleep 0.3; kill $srv 2>/dev/null; wait $srv 2>/dev/null
expect_match "broken policy: FILE:LINE in syslog, priority user.err" "$(cat "$T/broken.received")" \
	"^<11>sockshim\[[0-9]+\]: .*error policy-error .*$broken:5: .*sorce"

# the same with log = stderr while fd 2 is a socket: the errors reach
# /dev/log (a private /dev in a mount namespace of its own), never fd 2
sed 's|^log = .*|log = stderr|' "$broken" > "$T/broken-stderr.ini"; chmod 644 "$T/broken-stderr.ini"
mkdir -p "$T/dev"; : > "$T/dev/null"; : > "$T/dev/urandom"
cat > "$T/sock-stderr.py" <<'PY'
import socket, subprocess, sys
a, b = socket.socketpair()
r = subprocess.run(sys.argv[1:], stderr=b.fileno(), stdout=subprocess.DEVNULL, timeout=10)
b.close(); a.settimeout(2)
print("rc=%d fd2-received=%r" % (r.returncode, a.recv(4096)))
PY
out=$(unshare -m sh -c '
	mount --bind /dev/null "$1/dev/null" && mount --bind /dev/urandom "$1/dev/urandom" || exit 1
	"$2" - "$1/dev/log" > "$1/devlog.received" <<PY &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(2)
try:
    print(s.recv(4096).decode(), flush=True)
except socket.timeout:
    pass
PY
	for i in $(seq 100); do [ -S "$1/dev/log" ] && break; sleep 0.05; done
	mount --bind "$1/dev" /dev || exit 1
	"$2" "$1/sock-stderr.py" env SOCKSHIM_POLICY="$3" LD_PRELOAD="$4" "$5" tcp4 name
	wait' sh "$T" "$PY" "$T/broken-stderr.ini" "$SHIM" "$BUILD/tests/probe" 2>&1)
expect_eq "stderr a socket: exit 78, fd 2 received nothing" "$out" "rc=78 fd2-received=b''"
expect_match "stderr a socket: FILE:LINE reached /dev/log" "$(cat "$T/devlog.received")" \
	"^<11>sockshim\[[0-9]+\]: .*error policy-error .*broken-stderr.ini:5: .*sorce"
finish

# log = syslog:/path sends each decision as one datagram to a syslog socket
# (never through syslog(3)): "<PRI>sockshim[PID]: ..." with facility user.
. "$TOP/tests/lib.sh"

python3 - "$T/log.sock" > "$T/received" <<'PY' &
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
trap 'kill $srv 2>/dev/null' EXIT
for _ in $(seq 100); do [ -S "$T/log.sock" ] && break; sleep 0.05; done

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
finish

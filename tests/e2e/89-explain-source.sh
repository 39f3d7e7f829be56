#!/bin/bash
# 89: `explain` gives the source the real connect gets, and `check` warns of a
# source list with no address of the family the rule's destinations have.
# r3: addr = 127.0.0.0/8, source = ::1; r6: family = ipv6, addr = ::1,
# source = 127.0.0.1; k: source_port + rotate = kernel on a window outside
# ip_local_port_range. The real connects (through the shim) are the
# reference: the local address getsockname gives, and their log lines.
. "$TOP/tests/lib.sh"
PY=$(python3 -c 'import sys; print(sys.executable)')
sysctl -qw net.ipv4.ip_local_port_range="32768 60999"

P=$(policy src.ini <<INI
[r3]
on = connect
addr = 127.0.0.0/8
port = 8081
source = ::1

[r6]
on = connect
family = ipv6
addr = ::1
port = 8081
source = 127.0.0.1

[k]
on = connect
addr = 127.0.0.2
port = 8082
source_port = 20000-20009
rotate = kernel
INI
)
"$PY" - >"$T/ready" 2>&1 <<'PYEOF' &
import socket, threading, time
ls = []
for fam, host, port in ((socket.AF_INET, "127.0.0.1", 8081), (socket.AF_INET6, "::1", 8081), (socket.AF_INET, "127.0.0.2", 8082)):
    s = socket.socket(fam); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((host, port)); s.listen(16); ls.append(s)
def serve(s):
    while True:
        c, _ = s.accept(); c.close()
for s in ls:
    threading.Thread(target=serve, args=(s,), daemon=True).start()
print("ready", flush=True)
time.sleep(30)
PYEOF
srv=$!
trap 'kill $srv 2>/dev/null; wait 2>/dev/null' EXIT
for _ in $(seq 100); do grep -q ready "$T/ready" 2>/dev/null && break; sleep 0.05; done

# real FAMILY HOST PORT: the local address:port of a connect through the shim
real() {
	SOCKSHIM_LOG_LEVEL=info shim "$P" "$PY" -c '
import socket, sys
s = socket.socket(int(sys.argv[1])); s.connect((sys.argv[2], int(sys.argv[3]))); print(s.getsockname()[0], s.getsockname()[1])' "$@"
}
r3=$(real 2 127.0.0.1 8081 2>"$T/log3")
r6=$(real 10 ::1 8081 2>"$T/log6")
rk=$(real 2 127.0.0.2 8082 2>"$T/logk")
expect_match "r3: the real connect's source is not ::1 (getsockname)" "$r3" '^127\.0\.0\.1 '
expect_match "r3: the real connect logs skip=no-source-for-family" "$(cat "$T/log3")" 'rule=r3 actions=skip=no-source-for-family'
expect_match "r6: the real connect's source is ::1, not 127.0.0.1 (getsockname)" "$r6" '^::1 '
expect_match "k: the real connect's port is inside the window (getsockname)" "$rk" '^127\.0\.0\.1 200[0-9][0-9]$'
expect_match "k: the real connect logs rotate=kernel-unavailable" "$(cat "$T/logk")" 'rule=k actions=rotate=kernel-unavailable'

e3=$("$BUILD/sockshim" explain "$P" connect tcp 127.0.0.1:8081)
e6=$("$BUILD/sockshim" explain "$P" connect tcp [::1]:8081 --family ipv6)
ek=$("$BUILD/sockshim" explain "$P" connect tcp 127.0.0.2:8082)
expect_match "explain r3: what the real call logs" "$e3" 'the real call logs: actions=skip=no-source-for-family'
expect_match "explain r3: nothing is bound" "$e3" 'effective source: none'
expect_match "explain r6: what the real call logs" "$e6" 'the real call logs: actions=skip=no-source-for-family'
expect_match "explain k: what the real call logs" "$ek" 'the real call logs: actions=rotate=kernel-unavailable'
expect_match "explain k: the shim binds exact ports" "$ek" 'effective rotate: the kernel cannot check this window'

chk=$("$BUILD/sockshim" check "$P" 2>&1)
expect_match "check warns of r3's source (IPv4 destinations, IPv6 source)" "$chk" ":5: warning: rule 'r3': no source address of the family .*IPv4"
expect_match "check warns of r6's source (IPv6 destinations, IPv4 source)" "$chk" ":12: warning: rule 'r6': no source address of the family .*IPv6"
finish

#!/bin/bash
# frontends: preload, seccomp
# 88: a source_port window left to the kernel (inside ip_local_port_range)
# never hands out a port outside the window unnoticed, and the log names the
# port really used. The kernel ignores a one-port IP_LOCAL_PORT_RANGE outside
# the system's range and picks from that whole range instead, so:
#  a) the command makes its own network namespace (`unshare -n`) whose
#     ip_local_port_range (50000-50100) does not hold the window 40000-40009:
#     every port the server (in that namespace) saw is inside the window;
#  b) a long-lived client; ip_local_port_range is changed to 50000-50100
#     while it runs: every connect's log line names the port getsockname
#     gave, a port outside the window is logged with warn=kernel-left-window,
#     and every connect after that one is inside the window again (exact
#     binds). The servers' peer lists are the kernel's truth.
. "$TOP/tests/lib.sh"
PY=$(python3 -c 'import sys; print(sys.executable)')

pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; sysctl -qw net.ipv4.ip_local_port_range="32768 60999"' EXIT
sysctl -qw net.ipv4.ip_local_port_range="32768 60999"

P=$(policy win.ini <<INI
[win]
on = connect
proto = tcp
addr = 127.0.0.1
port = 8081
source_port = 40000-40009
INI
)

# CLIENT N [SYSCTL_AFTER_FIRST]: N connects with a GET each; prints each source port
cat >"$T/client.py" <<'PYEOF'
import socket, subprocess, sys
n = int(sys.argv[1])
for i in range(n):
    if i == 1 and len(sys.argv) > 2:
        subprocess.run(["sysctl", "-qw", "net.ipv4.ip_local_port_range=" + sys.argv[2]], check=True)
    s = socket.create_connection(("127.0.0.1", 8081), timeout=5)
    print(s.getsockname()[1], flush=True)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while not data.endswith(b"ok\n"):
        chunk = s.recv(100)
        if not chunk:
            break
        data += chunk
    s.close()
PYEOF

# in_window FILE: how many lines' last field lie in 40000-40009, of how many
in_window() { awk '$NF >= 40000 && $NF <= 40009 {k++} END {printf "%d/%d", k, NR}' "$1"; }

# ---- a) the command in a network namespace of its own ----
touch "$T/peers_a"
shim "$P" unshare -n sh -c '
	ip link set lo up
	sysctl -qw net.ipv4.ip_local_port_range="50000 50100"
	"$0" "$1/tests/helpers/kahttp.py" 127.0.0.1 8081 "$2/peers_a" 30 >"$2/ready_a" &
	i=0; while [ $i -lt 100 ] && ! grep -q ready "$2/ready_a" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
	"$0" "$2/client.py" 3
	kill $!' "$PY" "$TOP" "$T" >"$T/ports_a" 2>"$T/log_a"
expect_eq "own netns: the client saw 3 ports inside 40000-40009" "$(in_window "$T/ports_a")" "3/3"
expect_eq "own netns: the server saw 3 peer ports inside the window" "$(in_window "$T/peers_a")" "3/3"
expect_match "own netns: the shim ran" "$(cat "$T/log_a")" 'rule=win actions=.*source=0\.0\.0\.0:4000[0-9]'

# ---- b) the system's range changed while the program runs ----
touch "$T/peers_b"
"$PY" "$TOP/tests/helpers/kahttp.py" 127.0.0.1 8081 "$T/peers_b" 60 >"$T/ready_b" 2>"$T/err_b" &
pids="$pids $!"
for _ in $(seq 100); do grep -q ready "$T/ready_b" 2>/dev/null && break; sleep 0.05; done
shim "$P" "$PY" "$T/client.py" 4 "50000 50100" >"$T/ports_b" 2>"$T/log_b"
sysctl -qw net.ipv4.ip_local_port_range="32768 60999"
logged=$(sed -n 's/.*rule=win actions=.*source=0\.0\.0\.0:\([0-9]*\) .*/\1/p' "$T/log_b" | tr '\n' ' ')
expect_eq "range changed: each log line names the port the client really had" "$logged" "$(tr '\n' ' ' <"$T/ports_b")"
expect_eq "range changed: the server saw the client's 4 ports" \
	"$(awk '{print $2}' "$T/peers_b" | tr '\n' ' ')" "$(tr '\n' ' ' <"$T/ports_b")"
out=$(awk '$1 < 40000 || $1 > 40009' "$T/ports_b" | wc -l)
warned=$(grep -c 'warn=kernel-left-window' "$T/log_b")
expect_eq "range changed: each port outside the window is logged with a warning" "$warned" "$out"
expect_eq "range changed: the first connect and the last two are inside the window" \
	"$(sed -n '1p;3,4p' "$T/ports_b" | awk '$1 >= 40000 && $1 <= 40009' | wc -l)" 3
finish

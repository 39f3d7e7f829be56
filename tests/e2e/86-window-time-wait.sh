#!/bin/bash
# frontends: preload, seccomp
# 86: a source_port window holds N connections per destination, TIME_WAIT
# included, as the kernel's own port range does. `port = 8081, 8082`,
# `source_port` of 10 ports: ten curls to 127.0.0.1:8081 (a keep-alive HTTP
# server, so each curl closes first and leaves its port in TIME_WAIT), then
# ten curls to 127.0.0.1:8082: all twenty succeed, for rotate = sequential,
# random and kernel; the servers saw every peer port inside the window, and
# `ss` shows the ten TIME_WAIT ports of the first round while the second
# reuses them towards 8082; also for a window outside ip_local_port_range,
# where the shim binds exact ports itself (with SO_REUSEADDR). A pool of two addresses holds 15 + 15. Control:
# a bare python client that binds the window's ports itself without
# SO_REUSEADDR meets EADDRINUSE on the second round (what this test caught).
. "$TOP/tests/lib.sh"
PY=$(python3 -c 'import sys; print(sys.executable)')

pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; wait 2>/dev/null' EXIT
for port in 8081 8082; do
	"$PY" "$TOP/tests/helpers/kahttp.py" 127.0.0.1 $port "$T/peers$port" 120 >"$T/ready$port" 2>"$T/err$port" &
	pids="$pids $!"
done
for port in 8081 8082; do
	for _ in $(seq 100); do grep -q ready "$T/ready$port" 2>/dev/null && break; sleep 0.05; done
done
touch "$T/peers8081" "$T/peers8082"

# ---- control: exact-port binds without SO_REUSEADDR stop at TIME_WAIT ----
ctl=$("$PY" - <<'PYEOF'
import errno, socket
res = []
for dport in (8081, 8082):
    for p in range(45900, 45903):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
            s.connect(("127.0.0.1", dport))
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while not data.endswith(b"ok\n"):
                chunk = s.recv(100)
                if not chunk:
                    break
                data += chunk
            res.append("ok")
        except OSError as e:
            res.append(errno.errorcode[e.errno])
        s.close()
print(" ".join(res))
PYEOF
)
expect_eq "control: bare exact binds, the second destination meets TIME_WAIT" "$ctl" "ok ok ok EADDRINUSE EADDRINUSE EADDRINUSE"

# round NAME ROTATE LO [SOURCE] [N]: N curls to 8081 then N to 8082
round() {
	local name=$1 rot=$2 lo=$3 src=${4:-} n=${5:-10}
	local hi=$((lo + 9)) P
	P=$(policy "$name.ini" <<INI
[$name]
on = connect
proto = tcp
port = 8081, 8082
${src:+source = $src}
source_port = $lo-$hi
rotate = $rot
INI
)
	ok1=0 ok2=0
	for _ in $(seq "$n"); do
		shim "$P" curl -sf --max-time 5 http://127.0.0.1:8081/ >/dev/null 2>>"$T/$name.log" && ok1=$((ok1 + 1))
	done
	tw=$(ss -Htn state time-wait "( sport >= :$lo and sport <= :$hi and dport = :8081 )" | wc -l)
	for _ in $(seq "$n"); do
		shim "$P" curl -sf --max-time 5 http://127.0.0.1:8082/ >/dev/null 2>>"$T/$name.log" && ok2=$((ok2 + 1))
	done
	in1=$(awk -v lo="$lo" -v hi="$hi" '$2 >= lo && $2 <= hi' "$T/peers8081" | wc -l)
	in2=$(awk -v lo="$lo" -v hi="$hi" '$2 >= lo && $2 <= hi' "$T/peers8082" | wc -l)
	distinct1=$(awk -v lo="$lo" -v hi="$hi" '$2 >= lo && $2 <= hi {print $2}' "$T/peers8081" | sort -u | wc -l)
}

lo=45000
for rot in sequential random kernel; do
	round "w$rot" $rot $lo
	expect_eq "$rot: 10 curls to 8081, then 10 to 8082, all succeed" "$ok1/$ok2" "10/10"
	expect_eq "$rot: the servers saw every peer port inside $lo-$((lo + 9))" "$in1/$in2" "10/10"
	# (the kernel's own pick may reuse a TIME_WAIT older than a second on loopback, tcp_tw_reuse)
	[ $rot = kernel ] || expect_eq "$rot: the first round used all 10 ports" "$distinct1" 10
	expect_eq "$rot: ss shows each port of the first round in TIME_WAIT towards 8081" "$tw" "$distinct1"
	check "$rot: no failure logged" bash -c "! grep -q 'failed=[a-z]' '$T/w$rot.log'"
	lo=$((lo + 100))
done
expect_match "the shim ran (its decision lines)" "$(cat "$T/wsequential.log")" 'info connect .* rule=wsequential actions=source=0\.0\.0\.0:450[0-9][0-9] '

# a window the kernel cannot check (outside ip_local_port_range): exact
# binds, shareable (SO_REUSEADDR on each, so their TIME_WAIT carries it)
sysctl -qw net.ipv4.ip_local_port_range="50000 60999"
round exact sequential 45500
expect_eq "exact ports: 10 curls to 8081, then 10 to 8082, all succeed" "$ok1/$ok2" "10/10"
expect_eq "exact ports: the servers saw every peer port inside the window" "$in1/$in2" "10/10"
expect_eq "exact ports: ss shows each port of the first round in TIME_WAIT towards 8081" "$tw" "$distinct1"
sysctl -qw net.ipv4.ip_local_port_range="32768 60999"

round pool sequential 45400 "127.0.0.2, 127.0.0.3" 15
expect_eq "pool of 2 x 10 ports: 15 curls to 8081, then 15 to 8082, all succeed" "$ok1/$ok2" "15/15"
expect_eq "pool: the servers saw every peer port inside the window" "$in1/$in2" "15/15"
expect_eq "pool: both addresses served each destination" \
	"$(awk '$2 >= 45400 && $2 <= 45409 {print $1}' "$T/peers8081" "$T/peers8082" | sort -u | tr '\n' ' ')" "127.0.0.2 127.0.0.3 "
check "pool: no failure logged" bash -c "! grep -q 'failed=[a-z]' '$T/pool.log'"
finish

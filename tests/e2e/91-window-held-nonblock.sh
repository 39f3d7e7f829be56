#!/bin/bash
# 91: a window the kernel cannot check (outside ip_local_port_range) and
# non-blocking connects: one asyncio process opens and holds 7 connections
# to one destination through a 10-port window (rotate = random, then
# sequential). The shim binds exact ports and must not offer a port whose
# 4-tuple this process already holds (its connect would fail with
# EADDRNOTAVAIL, which a non-blocking socket cannot retry). Every connect
# succeeds, the server saw 7 distinct peer ports inside the window, and ss
# shows them established. Three rounds per mode.
. "$TOP/tests/lib.sh"
PY=$(python3 -c 'import sys; print(sys.executable)')
sysctl -qw net.ipv4.ip_local_port_range="32768 60999"

touch "$T/peers"
"$PY" "$TOP/tests/helpers/kahttp.py" 127.0.0.1 8081 "$T/peers" 120 >"$T/ready" 2>"$T/err" &
srv=$!
trap 'kill $srv 2>/dev/null; wait 2>/dev/null' EXIT
for _ in $(seq 100); do grep -q ready "$T/ready" 2>/dev/null && break; sleep 0.05; done

cat >"$T/hold.py" <<'PYEOF'
import asyncio, subprocess, sys
async def main():
    held, fails = [], 0
    for _ in range(7):
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", 8081), 5)
            held.append(w)
        except OSError:
            fails += 1
    est = subprocess.run(["ss", "-Htn", "state", "established", "( sport >= :20000 and sport <= :20009 and dport = :8081 )"],
                         capture_output=True, text=True).stdout.count("\n")
    print("ok=%d fail=%d est=%d" % (len(held), fails, est), flush=True)
    for w in held:
        w.close()
asyncio.run(main())
PYEOF

for rot in random sequential; do
	P=$(policy "$rot.ini" <<INI
[win]
on = connect
proto = tcp
addr = 127.0.0.1
port = 8081
source_port = 20000-20009
rotate = $rot
INI
)
	for round in 1 2 3; do
		: >"$T/peers"
		out=$(shim "$P" timeout 20 "$PY" "$T/hold.py" 2>>"$T/log")
		expect_eq "$rot round $round: 7 held non-blocking connects all succeed, ss shows 7 established" "$out" "ok=7 fail=0 est=7"
		expect_eq "$rot round $round: the server saw 7 distinct peer ports inside the window" \
			"$(awk '$2 >= 20000 && $2 <= 20009 {print $2}' "$T/peers" | sort -u | wc -l)" 7
		sleep 0.2
	done
done
finish

#!/bin/bash
# 78: summary_interval = 1s writes the per-rule summary lines periodically.
# - A client under the shim making decisions for ~3 s logs at least 2
#   periodic summary lines (interval=1) with growing counts, and the count of
#   the last one never exceeds the decisions the kernel showed done (the
#   client checks each pinned source with getsockname); the exit summary
#   (no interval key) follows, counting all.
# - Killed by SIGKILL, the process still leaves a periodic summary.
# - summary_interval = off (the default): no periodic line, only the one at exit.
# - A bad value is FILE:LINE on stderr and exit 78.
# frontends: preload, seccomp
. "$TOP/tests/lib.sh"

mkpol() { # NAME INTERVAL
	policy "$1" <<INI
[global]
summary_interval = $2

[pin]
on = connect
port = 9000
source = 127.0.0.2
INI
}
cat > "$T/client.py" <<'PY'
import socket, sys, time
n = pinned = 0
end = time.time() + float(sys.argv[1])
while time.time() < end:
    s = socket.socket()
    s.connect(("127.0.0.1", 9000))
    pinned += s.getsockname()[0] == "127.0.0.2"
    s.close()
    n += 1
    time.sleep(0.05)
print(n, pinned)
PY
python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 9000)); s.listen(512)
while True: s.accept()[0].close()' &
backend=$!
wait_port 9000

on=$(mkpol on.ini 1s)
SOCKSHIM_LOG=file:$T/on.log shim "$on" python3 "$T/client.py" 3.2 > "$T/out" # ended: its exit summary is written
read -r n pinned < "$T/out"
expect_eq "1s: every connection got the pinned source (getsockname)" "$pinned" "$n"
periodic=$(grep -E ' summary rule=pin .* interval=1( via=seccomp)?$' "$T/on.log" | sed 's/.* matched=\([0-9]*\) .*/\1/')
check "1s: at least 2 periodic summary lines ($(echo $periodic))" test "$(wc -w <<<"$periodic")" -ge 2
check "1s: their counts grow" test "$(sort -n <<<"$periodic" | uniq)" = "$periodic"
check "1s: the last one counts no more than were made" test "$(tail -1 <<<"$periodic")" -le "$n"
expect_match "1s: the exit summary counts all" "$(tail -1 "$T/on.log")" " summary rule=pin line=[0-9]+ matched=$n applied=$n failed=0( via=seccomp)?$"

# preloaded by hand: $! must be the client itself (with either front end)
SOCKSHIM_LOG=file:$T/kill.log SOCKSHIM_POLICY=$on LD_PRELOAD=$SHIM python3 "$T/client.py" 10 >/dev/null &
victim=$!
sleep 3
kill -KILL "$victim"; wait "$victim" 2>/dev/null
expect_eq "killed by SIGKILL: no exit summary" "$(grep ' summary ' "$T/kill.log" | grep -vc ' interval=')" 0
check "killed by SIGKILL: a periodic summary was left" grep -Eq ' summary rule=pin .* interval=1( via=seccomp)?$' "$T/kill.log"

off=$(mkpol off.ini off)
SOCKSHIM_LOG=file:$T/off.log shim "$off" python3 "$T/client.py" 2.2 > "$T/out"
read -r n pinned < "$T/out"
expect_eq "off: no periodic summary line" "$(grep -c 'interval=' "$T/off.log")" 0
expect_eq "off: one summary, at exit" "$(grep -c ' summary rule=pin ' "$T/off.log")" 1
expect_match "off: it is the last line and counts all" "$(tail -1 "$T/off.log")" " summary rule=pin line=[0-9]+ matched=$n "

bad=$(mkpol bad.ini 10x)
err=$(shim "$bad" /bin/true 2>&1); rc=$?
expect_eq "bad value: exit 78" "$rc" 78
expect_match "bad value: FILE:LINE names the key" "$err" "^sockshim: $bad:2: bad value '10x' for 'summary_interval'"

kill "$backend"; wait "$backend" 2>/dev/null
finish

#!/bin/bash
# 95: the seccomp front end on a statically linked server under
# `reuseport = force`: bare, the second copy's bind fails with EADDRINUSE;
# supervised, both copies listen on one port (ss shows two listeners, the
# kernel reports SO_REUSEPORT=1 on each) and client connections reach both.
# The program cannot undo the forced flag (its setsockopt is ignored).
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/seccomp.sh"

PY=$(python3 -c 'import sys; print(sys.executable)')
static_c sserver "$TOP/tests/helpers/static_server.c"
static_c sprobe "$TOP/tests/helpers/probe.c"
check "the server is statically linked" is_static "$T/sserver"
PORT=9100
N=40
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done' EXIT
listeners() { ss -Hltn "sport = :$PORT" | wc -l; }
# wait_text FILE REGEX: at most 5 s
wait_text() {
	i=0
	while ! grep -Eq "$2" "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
}
stop() { kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

cat > "$T/client.py" <<'PYEOF'
import collections, socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
seen = collections.Counter()
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    data = b""
    while True:
        b = s.recv(100)
        if not b:
            break
        data += b
    s.close()
    seen[data.decode().strip()] += 1
print(" ".join("%s=%d" % kv for kv in sorted(seen.items())))
PYEOF

# ---- bare: the second copy cannot bind ----
"$T/sserver" A 127.0.0.1 $PORT 20 >"$T/bare.A" 2>&1 &
a=$!; pids="$pids $a"
wait_port $PORT
timeout 10 "$T/sserver" B 127.0.0.1 $PORT 5 >"$T/bare.B" 2>&1
expect_eq "bare: second copy exits 3" "$?" 3
expect_eq "bare: second copy's bind fails with EADDRINUSE" "$(cat "$T/bare.B")" "B bind-failed EADDRINUSE"
expect_eq "bare: the first reports SO_REUSEPORT=0" "$(head -1 "$T/bare.A")" "A listening reuseport=0"
stop $a

# ---- supervised under reuseport = force ----
P=$(policy reuseport.ini <<EOF2
[global]
log = file:$T/sup.log

[two-copies]
on = bind
proto = tcp
addr = 127.0.0.1
port = $PORT
reuseport = force
EOF2
)
# started directly, so the SIGTERM of stop() goes to the supervisor, which
# passes it on to its target
SOCKSHIM_POLICY=$P "${SUP[@]}" "$T/sserver" A 127.0.0.1 $PORT 20 >"$T/A.out" 2>&1 &
a=$!; pids="$pids $a"
wait_text "$T/A.out" listening
SOCKSHIM_POLICY=$P "${SUP[@]}" "$T/sserver" B 127.0.0.1 $PORT 20 >"$T/B.out" 2>&1 &
b=$!; pids="$pids $b"
wait_text "$T/B.out" listening
i=0
while [ "$(listeners)" -lt 2 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
expect_eq "supervised: ss -ltn shows two listeners on $PORT" "$(listeners)" 2
expect_eq "supervised: A's listener has SO_REUSEPORT=1 (kernel)" "$(head -1 "$T/A.out")" "A listening reuseport=1"
expect_eq "supervised: B's listener has SO_REUSEPORT=1 (kernel)" "$(head -1 "$T/B.out")" "B listening reuseport=1"

counts=$(timeout 30 "$PY" "$T/client.py" $PORT $N 2>&1)
expect_match "supervised: clients reached both copies" "$counts" '^A=[1-9][0-9]* B=[1-9][0-9]*$'
kill -TERM $a $b
wait $a; ra=$?
wait $b; rb=$?
expect_eq "SIGTERM sent to the supervisors reached the servers, which exited 0" "$ra $rb" "0 0"
sa=$(sed -n 's/^A served=//p' "$T/A.out")
sb=$(sed -n 's/^B served=//p' "$T/B.out")
expect_eq "supervised: the copies served $N connections in total" "$((${sa:-0} + ${sb:-0}))" $N
expect_eq "supervised: servers' counts agree with the clients'" "A=${sa:-?} B=${sb:-?}" "$counts"
log=$(cat "$T/sup.log")
expect_eq "two start lines (one per supervisor)" "$(grep -c ' start .*via=seccomp' <<<"$log")" 2
expect_eq "two forced binds logged" \
	"$(grep -cE "bind fd=[0-9]+ tcp 127\.0\.0\.1:$PORT rule=two-copies actions=reuseport=force[ ,].*rc=0" <<<"$log")" 2

# ---- the program cannot undo a forced flag ----
out=$(sup "$P" "$T/sprobe" tcp4 bind=127.0.0.1:$PORT set=reuseport:0 get=reuseport 2>/dev/null)
expect_match "a later setsockopt(SO_REUSEPORT, 0) is ignored: the kernel still says 1" "$out" \
	'set=reuseport:0 rc=0 errno=0
get=reuseport rc=0 errno=0 value=1$'
expect_match "the ignored setsockopt is logged" "$(cat "$T/sup.log")" 'setsockopt fd=[0-9]+ tcp rule=\(pinned\) actions=ignored=SO_REUSEPORT=0'
finish

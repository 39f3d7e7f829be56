#!/bin/bash
# 95: the seccomp supervisor's life cycle. Children and exec of the target
# stay under the filter (a shell's child, an exec'd program, a dynamic
# python3 as well as the static client); the target's exit status and its
# death by a signal pass through; the notification fd never reaches the
# target; dry-run decides and logs but changes nothing; a broken policy stops
# before the command runs (78).
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"
. "$TOP/tests/helpers/seccomp.sh"

static_c sprobe "$TOP/tests/helpers/probe.c"
serve tcp tcp 127.0.0.1 9000 || exit 1
last_addr() { peers tcp | tail -1 | cut -d' ' -f1; }
P=$(policy source.ini <<'INI'
[pin]
on = connect
source = 127.0.0.2
INI
)

# ---- children and exec ----
out=$(sup "$P" sh -c "\"$T/sprobe\" tcp4 connect=127.0.0.1:9000 name; true" 2>/dev/null)
expect_match "a child of the target (forked by sh) is supervised" "$out" 'name rc=0 errno=0 local=127\.0\.0\.2:'
wait_peers tcp 1
expect_eq "child: the server sees 127.0.0.2" "$(last_addr)" 127.0.0.2
out=$(sup "$P" sh -c "exec \"$T/sprobe\" tcp4 connect=127.0.0.1:9000 name" 2>/dev/null)
expect_match "an exec'd program is supervised" "$out" 'name rc=0 errno=0 local=127\.0\.0\.2:'
out=$(sup "$P" "$PY" "$PW" connect 127.0.0.1 9000 2 2>"$T/py.log")
expect_match "a dynamic program (python3) is supervised too" "$out" '^local 127\.0\.0\.2 [0-9]+
local 127\.0\.0\.2 [0-9]+$'
wait_peers tcp 4
expect_eq "python: the server sees 127.0.0.2" "$(last_addr)" 127.0.0.2
expect_eq "python: two decisions logged" "$(grep -c 'rule=pin actions=source=127\.0\.0\.2' "$T/py.log")" 2

# ---- a blocking connect does not hold up the others ----
# 9200's accept queue is full (backlog 0, never accepting) after one
# connection: a second blocking connect waits in the kernel for good. While
# one thread of the target waits there, another thread's connect (and the
# exit of the target, with the first still waiting) must go on at once.
serve full tcp 127.0.0.1 9200 --backlog 0 --gate "$T/never" || exit 1
cat > "$T/twothreads.py" <<'PYEOF'
import socket, threading, time
filler = socket.create_connection(("127.0.0.1", 9200), timeout=5)
def hang():
    s = socket.socket()
    s.connect(("127.0.0.1", 9200))   # blocking, no timeout: waits in the kernel
threading.Thread(target=hang, daemon=True).start()
time.sleep(0.5)
t0 = time.time()
s = socket.socket()
s.connect(("127.0.0.1", 9000))
print("local", s.getsockname()[0], "fast" if time.time() - t0 < 1 else "slow %.1f" % (time.time() - t0), flush=True)
PYEOF
t0=$(date +%s)
out=$(sup "$P" "$PY" "$T/twothreads.py" 2>"$T/two.log")
rc=$?
t1=$(date +%s)
expect_eq "a connect while another thread's blocks: answered at once, from 127.0.0.2" "$out" "local 127.0.0.2 fast"
expect_eq "... and the supervisor ends with the target (exit 0)" "$rc" 0
check "... within seconds, though a worker still waits in connect ($((t1 - t0)) s)" test $((t1 - t0)) -le 5

# ---- exit status and signals ----
sup "$P" sh -c 'exit 7' 2>/dev/null
expect_eq "exit status 7 passes through" "$?" 7
SOCKSHIM_POLICY=$P "${SUP[@]}" sh -c 'kill -TERM $$' 2>/dev/null
expect_eq "death by SIGTERM passes through (143)" "$?" 143
SOCKSHIM_POLICY=$P "${SUP[@]}" sh -c 'kill -KILL $$' 2>/dev/null
expect_eq "death by SIGKILL passes through (137)" "$?" 137
sup "$P" /nonexistent/command 2>"$T/noent.err"
expect_eq "a command that does not exist: 127" "$?" 127
expect_match "... with a message" "$(cat "$T/noent.err")" '/nonexistent/command: No such file'

# ---- the notification fd stays ours ----
fds=$(sup "$P" sh -c 'ls -l /proc/$$/fd' 2>/dev/null)
check "the target holds no seccomp notification fd" sh -c "! printf '%s' \"\$1\" | grep -q seccomp" sh "$fds"

# ---- dry-run ----
out=$(SOCKSHIM_MODE=dry-run sup "$P" "$T/sprobe" tcp4 connect=127.0.0.1:9000 name 2>"$T/dry.log")
expect_match "dry-run: the connect is not pinned (127.0.0.1)" "$out" 'name rc=0 errno=0 local=127\.0\.0\.1:'
expect_match "dry-run: the decision is logged as dry-run" "$(cat "$T/dry.log")" 'rule=pin actions=source=127\.0\.0\.2.* dry-run rc=0'

# ---- a broken policy ----
B=$(policy broken.ini <<'INI'
[pin]
on = connect
sorce = 127.0.0.2
INI
)
out=$(sup "$B" sh -c 'echo ran' 2>"$T/broken.err")
expect_eq "broken policy: exit 78" "$?" 78
expect_eq "broken policy: the command did not run" "$out" ""
expect_match "broken policy: FILE:LINE: message" "$(cat "$T/broken.err")" "broken\.ini:3: .*sorce"
finish

#!/bin/bash
# 97: a quiet log whose lines say what they are.
# - Noise: a shell wrapper that runs basename, env, readlink and sh before
#   one python3 client (pinned) logs one start line (python3's), and a loop
#   of 5 curls 15 lines (start, decision, summary each): no process that met
#   no rule logs anything. Each pid that logs has exactly one start line, its
#   first. At debug every process logs its start line, as before.
# - Threads racing to write the first line, a forked child, an exec chain:
#   one start line per program image that logs, before its other lines.
# - JSON: every line has an event; the filter
#   jq -r 'select(.rule=="no-egress") | .actions[]' runs over a real log
#   with summary lines; every line of the logs of this test validates
#   against doc/sockshim-log.5 (tests/helpers/logschema.py).
# - Exhaustion at log_level = warn: pinned to 127.0.0.3 with a 10-port
#   range, 10 connects hold every port; 5 more fail with EADDRNOTAVAIL (the
#   client's errno) and give one "exhausted" warning; after a second one
#   more gives the next, suppressed=4; 3 more at once and one 0.85 s later
#   (the clock's next second, not a full one) are held back: at exit one
#   last line, suppressed=4; report sums the 10 failures.
# - -n: the summary says would_apply=N, and the kernel shows nothing applied.
# - -v: setsockopt debug lines name the option (opt=TCP_NODELAY=1).
# - -l stdout is refused (exit 64, no file named stdout); -l file:rel.log is
#   made absolute; plain make links ./sockshim; the examples run with what
#   the README's step 1 installs (no socat); --seccomp's start line names
#   the executable (exe=dash for sh), not exe=-.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/rot.sh"
unset SOCKSHIM_LOG_START
PY=$(python3 -c 'import sys; print(sys.executable)')
S=$BUILD/sockshim
SCHEMA=$TOP/tests/helpers/logschema.py

serve tcp 127.0.0.1 9710 "$T/peers" -c || exit 1
serve tcp 127.0.0.1 9711 "$T/peers2" || exit 1
P=$(policy pin.ini <<'INI'
[no-egress]
on = connect
addr = 127.0.0.1
port = 9710
source = 127.0.0.2
INI
)
client='import socket, sys
s = socket.create_connection(("127.0.0.1", 9710))
print(s.getsockname()[0])'

# ---- noise ----
run_wrapped() { # LOGFILE [extra env]: a wrapper script around one client
	env SOCKSHIM_LOG="file:$1" SOCKSHIM_LOG_FORMAT=json "${@:2}" SOCKSHIM_POLICY="$P" LD_PRELOAD="$SHIM" \
		sh -c 'b=$(basename /a/b); env true; readlink /proc/self/exe >/dev/null; sh -c "true"; "$1" -c "$2"' sh "$PY" "$client"
}
got=$(run_wrapped "$T/wrap.json")
expect_eq "wrapper: the client was pinned (getsockname)" "$got" 127.0.0.2
expect_eq "wrapper: one start line in all" "$(jq -r 'select(.event=="start") | .program' "$T/wrap.json" | tr '\n' ' ')" "python3 "
expect_eq "wrapper: lines start, decision, summary" "$(jq -r .event "$T/wrap.json" | tr '\n' ' ')" "start decision summary "
expect_eq "wrapper: every line from the one process that met the rule" "$(jq -r .pid "$T/wrap.json" | sort -u | wc -l)" 1
got=$(run_wrapped "$T/wrap-debug.json" SOCKSHIM_LOG_LEVEL=debug)
check "debug: every process of the wrapper logs its start line (at least 5: $(jq -r 'select(.event=="start") | .program' "$T/wrap-debug.json" | tr '\n' ' '))" \
	test "$(jq -r 'select(.event=="start")' "$T/wrap-debug.json" | grep -c '"start"')" -ge 5

wait_lines "$T/peers" 2
before=$(wc -l < "$T/peers")
for i in 1 2 3 4 5; do
	SOCKSHIM_LOG="file:$T/curl.log" SOCKSHIM_POLICY="$P" LD_PRELOAD="$SHIM" \
		sh -c 'curl -s --max-time 5 -o /dev/null http://127.0.0.1:9710/ || true'
done
expect_eq "5 curls in a shell: 15 lines" "$(wc -l < "$T/curl.log")" 15
expect_eq "5 curls: 5 start lines, all curl's" "$(grep -c ' info start .*program=curl ' "$T/curl.log")" 5
expect_eq "5 curls: 5 pinned decisions" "$(grep -c ' info connect .*rule=no-egress actions=source=127\.0\.0\.2' "$T/curl.log")" 5
wait_lines "$T/peers" $((before + 5))
expect_eq "5 curls: the server saw 127.0.0.2 five times" "$(tail -n +$((before + 1)) "$T/peers" | grep -c '^127\.0\.0\.2 ')" 5

# one_start FILE: every pid that logs has one start line, and it is its first
one_start() {
	jq -rs 'group_by(.pid)[] | [.[0].event, ([.[] | select(.event=="start")] | length)] | @tsv' "$1" |
		grep -cv $'^start\t1$'
}

# ---- threads, fork, exec ----
cat > "$T/race.py" <<'PY'
import os, socket, sys, threading
go = threading.Event()
out = []
def one():
    go.wait()
    s = socket.create_connection(("127.0.0.1", 9710))
    out.append(s.getsockname()[0])
ts = [threading.Thread(target=one) for _ in range(8)]
for t in ts: t.start()
go.set()
for t in ts: t.join()
print(sorted(set(out)), len(out))
if sys.argv[1] == "fork":
    pid = os.fork()
    if pid == 0:
        s = socket.create_connection(("127.0.0.1", 9710))
        os._exit(0 if s.getsockname()[0] == "127.0.0.2" else 1)
    print("child", os.waitpid(pid, 0)[1])
if sys.argv[1] == "quietfork":
    pid = os.fork()
    if pid == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import socket; print(socket.create_connection(('127.0.0.1', 9710)).getsockname()[0])"])
    print("exec", os.waitpid(pid, 0)[1])
PY
for round in 1 2 3; do
	got=$(SOCKSHIM_LOG="file:$T/race.json" SOCKSHIM_LOG_FORMAT=json SOCKSHIM_POLICY="$P" LD_PRELOAD="$SHIM" "$PY" "$T/race.py" threads)
	[ "$got" = "['127.0.0.2'] 8" ] || break
done
expect_eq "8 threads racing: all pinned (getsockname)" "$got" "['127.0.0.2'] 8"
expect_eq "8 threads racing, 3 runs: each pid one start line, its first line" "$(one_start "$T/race.json")" 0
expect_eq "8 threads racing: 3 start lines, 24 decisions" \
	"$(jq -r .event "$T/race.json" | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}')" "decision=24 start=3 summary=3 "
got=$(SOCKSHIM_LOG="file:$T/fork.json" SOCKSHIM_LOG_FORMAT=json SOCKSHIM_POLICY="$P" LD_PRELOAD="$SHIM" "$PY" "$T/race.py" fork)
expect_match "fork: the child was pinned too" "$got" '^child 0$'
expect_eq "fork: two pids log, one start line (the parent's, inherited by the child)" \
	"$(jq -r 'select(.event=="start") | .pid' "$T/fork.json" | wc -l)/$(jq -r .pid "$T/fork.json" | sort -u | wc -l)" "1/2"
got=$(SOCKSHIM_LOG="file:$T/exec.json" SOCKSHIM_LOG_FORMAT=json SOCKSHIM_POLICY="$P" LD_PRELOAD="$SHIM" "$PY" "$T/race.py" quietfork)
expect_match "exec: the exec'd image was pinned" "$got" '^127\.0\.0\.2$'
expect_eq "exec: each image that logs has one start line, its first" "$(one_start "$T/exec.json")" 0
expect_eq "exec: two start lines (two images)" "$(jq -r 'select(.event=="start") | .pid' "$T/exec.json" | wc -l)" 2

# ---- JSON kinds ----
expect_eq "every JSON line has an event" "$(cat "$T"/*.json | jq -r 'select(.event == null)' | wc -l)" 0
acts=$(jq -r 'select(.rule=="no-egress") | .actions[]' "$T/race.json" 2>&1); rc=$?
expect_eq "jq select(.rule==...) | .actions[] runs over summary lines" "$rc" 0
expect_eq "... and lists the decisions' actions" "$(sort -u <<<"$acts")" "source=127.0.0.2"

# ---- exhaustion at warn ----
echo "40000 40009" > /proc/sys/net/ipv4/ip_local_port_range
PIN3=$(policy pin3.ini <<'INI'
[pin3]
on = connect
addr = 127.0.0.1
port = 9711
source = 127.0.0.3
INI
)
cat > "$T/exhaust.py" <<'PY'
import errno, socket, time
held = [socket.create_connection(("127.0.0.1", 9711)) for _ in range(10)]
print("held", len({s.getsockname() for s in held}), {s.getsockname()[0] for s in held})
def fail():
    try:
        socket.create_connection(("127.0.0.1", 9711)); return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]
time.sleep(1.02 - time.monotonic() % 1)  # the 5 fit in one second of CLOCK_MONOTONIC
print("first", " ".join(fail() for _ in range(5)))
time.sleep(1.2)
t = time.monotonic()
print("later", fail())
print("last", " ".join(fail() for _ in range(3)))  # within the same second: held back until exit
time.sleep(max(0, t + 0.85 - time.monotonic()))
print("soon", fail())  # 0.85 s after a line, in the clock's next second: still held back
PY
got=$(SOCKSHIM_LOG="file:$T/warn.json" SOCKSHIM_LOG_FORMAT=json SOCKSHIM_LOG_LEVEL=warn SOCKSHIM_POLICY="$PIN3" LD_PRELOAD="$SHIM" "$PY" "$T/exhaust.py")
expect_match "exhaustion: 10 ports held, all from 127.0.0.3 (getsockname)" "$got" "^held 10 \\{'127\\.0\\.0\\.3'\\}\$"
expect_match "exhaustion: the next 5 connects fail with EADDRNOTAVAIL" "$got" '^first EADDRNOTAVAIL EADDRNOTAVAIL EADDRNOTAVAIL EADDRNOTAVAIL EADDRNOTAVAIL$'
expect_match "exhaustion: and one more a second later" "$got" '^later EADDRNOTAVAIL$'
expect_match "exhaustion: and 3 more right after" "$got" '^last EADDRNOTAVAIL EADDRNOTAVAIL EADDRNOTAVAIL$'
expect_match "exhaustion: and one 0.85 s later" "$got" '^soon EADDRNOTAVAIL$'
expect_eq "exhaustion at warn: three warnings, the second counting the 4 held back, the last (at exit) the 4" \
	"$(jq -r '[.level, .event, .rule, .suppressed, .errno] | @tsv' "$T/warn.json" | tr '\t\n' ' ;')" \
	"warn exhausted pin3 0 EADDRNOTAVAIL;warn exhausted pin3 4 EADDRNOTAVAIL;warn exhausted pin3 4 EADDRNOTAVAIL;"
expect_eq "exhaustion: the warnings are a full second apart" \
	"$(jq -r 'select(.event=="exhausted") | .ts' "$T/warn.json" | head -2 | python3 -c 'import sys, datetime as d
t = [d.datetime.fromisoformat(l.strip().replace("Z", "+00:00")) for l in sys.stdin]
print((t[1] - t[0]).total_seconds() >= 1)')" True
expect_match "exhaustion: report counts the 10 failed calls, under the rule's name" "$("$S" report "$T/warn.json")" \
	'^  warn +exhausted +×3 +\(total 10\) .*: rule pin3: '
echo "32768 60999" > /proc/sys/net/ipv4/ip_local_port_range

# ---- -n, -v, -l ----
got=$("$S" -p "$P" -l "$T/dry.log" -n -- "$PY" -c "$client")
expect_eq "-n: nothing applied (getsockname)" "$got" 127.0.0.1
expect_match "-n: the summary says would_apply=1" "$(cat "$T/dry.log")" ' info summary rule=no-egress line=[0-9]+ matched=1 would_apply=1 failed=0$'
check "-n: no summary says applied=" sh -c "! grep -q ' applied=' '$T/dry.log'"
got=$("$S" -p "$P" -l "$T/dry.json" -n -- env SOCKSHIM_LOG_FORMAT=json "$PY" -c "$client")
expect_eq "-n, JSON: would_apply is a number" "$(jq -r 'select(.event=="summary") | .would_apply' "$T/dry.json")" 1

nodelay='import socket
s = socket.socket()
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
print(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))'
got=$("$S" -p "$P" -l "$T/opt.log" -v -- "$PY" -c "$nodelay")
expect_eq "-v: TCP_NODELAY set (getsockopt)" "$got" 1
expect_match "-v: the debug line names it" "$(cat "$T/opt.log")" ' debug setsockopt fd=[0-9]+ tcp rule=- actions=opt=TCP_NODELAY=1 rc=0'

mkdir -p "$T/cwd"
out=$(cd "$T/cwd" && "$S" -p "$P" -l stdout -- /bin/true 2>&1); rc=$?
expect_eq "-l stdout: refused with exit 64" "$rc" 64
expect_match "-l stdout: a clear message" "$out" "^sockshim: -l stdout: not a log sink"
check "-l stdout: no file named stdout" test ! -e "$T/cwd/stdout"
(cd "$T/cwd" && "$S" -p "$P" -l file:rel.log -- sh -c 'cd / && "$1" -c "$2"' sh "$PY" "$client" >/dev/null)
expect_match "-l file:rel.log: made absolute (written in the launcher's directory after the program's cd)" \
	"$(cat "$T/cwd/rel.log" 2>/dev/null)" ' info connect .*rule=no-egress '

# (a plain make: not the BUILD= or SANITIZE= of a make test that runs this one)
check "plain make (all) builds the ./sockshim link" sh -c "MAKEFLAGS= MAKELEVEL= make -C '$TOP' -pn all 2>/dev/null | grep -Eq '^all:.* sockshim( |\$)'"

# the README's step 1 installs python3, curl and iproute2: no example may need more
extra=$(grep -lwE 'socat|nginx|haproxy|redis-server|node|nodejs' "$TOP"/examples/*/run.sh | sed "s|$TOP/||")
expect_eq "examples/*/run.sh need nothing the README's step 1 does not install" "$extra" ""

sh_exe=$(basename "$(readlink -f "$(command -v sh)")")
SOCKSHIM_LOG_START=always SOCKSHIM_POLICY="$P" SOCKSHIM_LOG="file:$T/sec.log" "$S" --seccomp -- sh -c 'exit 0'
expect_match "--seccomp: the start line names the executable (exe=$sh_exe)" "$(cat "$T/sec.log")" \
	" info start .*program=sh exe=$sh_exe .*via=seccomp"

got=$(SOCKSHIM_POLICY="$P" SOCKSHIM_LOG="file:$T/sec.json" SOCKSHIM_LOG_FORMAT=json "$S" --seccomp -- "$PY" -c "$client")
expect_eq "--seccomp, JSON: the client pinned (getsockname)" "$got" 127.0.0.2
expect_eq "--seccomp, JSON: start, decision, summary" "$(jq -r .event "$T/sec.json" | tr '\n' ' ')" "start decision summary "

# ---- every line of every JSON log here, against the documented schema ----
out=$(python3 "$SCHEMA" "$T"/*.json); rc=$?
printf '%s\n' "$out" | tail -1 | sed 's/^/# /'
expect_eq "every JSON line validates against sockshim-log(5)" "$rc" 0
[ "$rc" = 0 ] || printf '%s\n' "$out" | head -5 | sed 's/^/#   /'
finish

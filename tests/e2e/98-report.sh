#!/bin/bash
# 97: `sockshim report` on logs that real programs wrote under the shim.
# curl and python3 connect to a loopback web server (allowed), to
# 10.1.2.3:5432 and 192.0.2.9:443 (denied) and to 192.0.2.10:5432
# (rewritten to a mock that records each connection), once with a text log
# and once with a JSON log. The servers' own records say what really
# happened; the report must give exact counts per rule and per program,
# the denied and rewritten destinations, and the verdict line, for each
# log, for both together, and from stdin. A copy of the log with damaged
# lines (cut short, not JSON, binary, over-long) gives the same figures and
# the count of damaged lines, exit 0. --json, read by python3 and jq, says
# what the text form says.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"

R="$BUILD/sockshim report"
serve web http 127.0.0.1 8080 || exit 1
serve mock tcp 127.0.0.1 15432 || exit 1

P=$(policy sandbox.ini <<'INI'
[mock-db]
on = connect
addr = 192.0.2.10
port = 5432
rewrite = 127.0.0.1:15432

[loopback]
on = connect
addr = 127.0.0.0/8

[no-egress]
on = connect
deny = ENETUNREACH
INI
)

# run FORMAT: the two programs, logging to $T/FORMAT.log
run() {
	export SOCKSHIM_LOG=file:$T/$1.log SOCKSHIM_LOG_FORMAT=$1
	shim "$P" curl -s --max-time 5 -o /dev/null http://127.0.0.1:8080/
	shim "$P" curl -s --max-time 5 -o /dev/null http://10.1.2.3:5432/
	shim "$P" "$PY" -c '
import errno, socket
for host, port in (("192.0.2.10", 5432), ("10.1.2.3", 5432), ("10.1.2.3", 5432), ("192.0.2.9", 443)):
    s = socket.socket()
    s.settimeout(5)
    print(host, port, errno.errorcode.get(s.connect_ex((host, port)), "0"))
    s.close()
' >"$T/$1.py.out"
	unset SOCKSHIM_LOG SOCKSHIM_LOG_FORMAT
}

VERDICT='2 programs, 6 decisions, 2 destinations denied: 10.1.2.3:5432 ×3, 192.0.2.9:443 ×1'
for fmt in text json; do
	run $fmt
	expect_eq "$fmt: python3 saw the mock accept, then ENETUNREACH three times" "$(cut -d' ' -f3 "$T/$fmt.py.out" | tr '\n' ' ')" \
		"0 ENETUNREACH ENETUNREACH ENETUNREACH "
	out=$($R "$T/$fmt.log")
	expect_eq "$fmt: report exits 0" "$?" 0
	expect_eq "$fmt: the verdict line" "$(printf '%s\n' "$out" | tail -1)" "$VERDICT"
	expect_match "$fmt: rule loopback matched 1, applied 1" "$out" '^  loopback +1 +1 +0 +0 +0 '
	expect_match "$fmt: rule no-egress matched 4, applied 4, denied 4" "$out" '^  no-egress +4 +4 +0 +4 +0 '
	expect_match "$fmt: rule mock-db matched 1" "$out" '^  mock-db +1 +1 +0 +0 +0 '
	expect_match "$fmt: the summary lines agree for no-egress" "$out" 'no-egress .*summary lines: matched=4 applied=4 failed=0'
	expect_match "$fmt: curl: 2 decisions, 1 denied" "$out" '^  curl: [0-9]+ process(es)?, 2 decisions, 1 denied, 0 rewritten, 0 failed$'
	expect_match "$fmt: python3: 4 decisions, 3 denied, 1 rewritten" "$out" '^  python3[^:]*: [0-9]+ process(es)?, 4 decisions, 3 denied, 1 rewritten, 0 failed$'
	expect_match "$fmt: python3 tried 10.1.2.3:5432 twice, denied" "$out" '^    connect +10\.1\.2\.3:5432 +×2 +denied rule=no-egress$'
	expect_match "$fmt: denied 10.1.2.3:5432 ×3 with ENETUNREACH" "$out" '^  10\.1\.2\.3:5432 +×3 +ENETUNREACH +first 20[0-9-]+T[0-9:.]+Z last 20'
	expect_match "$fmt: rewritten 192.0.2.10:5432 -> 127.0.0.1:15432 ×1" "$out" '^  192\.0\.2\.10:5432 +-> 127\.0\.0\.1:15432 +×1 '
	expect_match "$fmt: no damaged line" "$out" '^1 log, [0-9]+ lines, 0 damaged$'
done
expect_eq "the mock saw the two rewritten connects (one per run)" "$(npeers mock)" 2
expect_eq "the web server saw the two allowed requests" "$(npeers web)" 2
check "the JSON log really is JSON (jq)" jq -e . "$T/json.log" >/dev/null

# both logs at once, and from stdin
out=$($R "$T/text.log" "$T/json.log")
expect_eq "both logs: the verdict adds up" "$(printf '%s\n' "$out" | tail -1)" \
	'2 programs, 12 decisions, 2 destinations denied: 10.1.2.3:5432 ×6, 192.0.2.9:443 ×2'
out=$(cat "$T/json.log" | $R - "$T/text.log")
expect_eq "stdin and a file: the same" "$(printf '%s\n' "$out" | tail -1)" \
	'2 programs, 12 decisions, 2 destinations denied: 10.1.2.3:5432 ×6, 192.0.2.9:443 ×2'

# decision lines that also carry "event":"decision" read the same
sed 's/"level":"info","op":/"level":"info","event":"decision","op":/' "$T/json.log" >"$T/evented.log"
expect_eq "decision lines with \"event\":\"decision\" are read as decisions" \
	"$(grep -c '"event":"decision"' "$T/evented.log"):$($R "$T/evented.log" | tail -1)" "6:$VERDICT"

# damaged lines: counted, the rest read as before
{
	head -c 60 "$T/json.log"; echo
	echo 'this is not a log line'
	printf 'bin\0ary\001\377\n'
	head -c 20000 /dev/zero | tr '\0' x; echo
	cat "$T/json.log"
	printf '{"ts":"2026-12-02T05:56:48.218772Z","pid":7,"level":"info","op":"connect","fd":5,"addr":"10.9.9.9:1","rule":"no-eg'
} >"$T/damaged.log"
out=$($R "$T/damaged.log")
expect_eq "damaged log: exit 0" "$?" 0
expect_match "damaged log: 5 damaged, by kind" "$out" '^1 log, [0-9]+ lines, 5 damaged, not-a-log-line 1, bad-json 2, binary 1, too-long 1$'
expect_eq "damaged log: the verdict counts them" "$(printf '%s\n' "$out" | tail -1)" \
	'2 programs, 6 decisions, 2 destinations denied: 10.1.2.3:5432 ×3, 192.0.2.9:443 ×1; 5 damaged lines'
head -c 5000000 /dev/urandom >"$T/random.log"
$R "$T/random.log" >/dev/null 2>"$T/random.err"
expect_eq "5 MB of random bytes: exit 0, nothing on stderr" "$?:$(cat "$T/random.err")" "0:"
# a program name that is not UTF-8 (any bytes can be one): --json stays UTF-8
printf '2026-12-02T05:56:48.100000Z sockshim[5] info start program=a\377\303(b\n2026-12-02T05:56:48.100000Z sockshim[5] info connect fd=3 tcp 10.9.9.9:5 rule=r\351 actions=deny=EACCES rc=-1 errno=EACCES\n' >"$T/bytes.log"
expect_eq "--json: bytes that are not UTF-8 become U+FFFD (python3 reads it strictly)" "$($R --json "$T/bytes.log" "$T/random.log" |
	"$PY" -c 'import json, sys; r = json.loads(sys.stdin.buffer.read().decode("utf-8")); print(ascii(r["programs"][0]["program"]), ascii(r["rules"][0]["rule"]), r["decisions"])')" \
	"'a\ufffd\ufffd(b' 'r\ufffd' 1"

# --json says what the text form says
$R --json "$T/text.log" "$T/json.log" >"$T/r.json"
expect_eq "--json: one valid object (jq)" "$(jq -r '.verdict' "$T/r.json")" \
	'2 programs, 12 decisions, 2 destinations denied: 10.1.2.3:5432 ×6, 192.0.2.9:443 ×2'
text=$($R "$T/text.log" "$T/json.log" | awk '/^rules$/ { on = 1; getline; next } /^$/ { on = 0 } on { print $1, $2, $3, $4, $5, $6 }' | sort)
json=$(jq -r '.rules[] | "\(.rule) \(.matched) \(.applied) \(.failed) \(.denied) \(.dry_run)"' "$T/r.json" | sort)
expect_eq "--json: the per-rule counts of the text form" "$json" "$text"
expect_eq "--json (python3): decisions, programs, denied counts" "$("$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(r["decisions"], r["programs_count"], " ".join("%s=%d" % (d["addr"], d["count"]) for d in r["denied"]), r["damaged"])
' "$T/r.json")" "12 2 10.1.2.3:5432=6 192.0.2.9:443=2 0"
expect_eq "--json: python3 tried 192.0.2.10:5432, rewritten" \
	"$(jq -r '.programs[] | select(.program | startswith("python3")) | .tried[] | select(.addr == "192.0.2.10:5432") | "\(.result) \(.count)"' "$T/r.json")" \
	"rewritten to 127.0.0.1:15432 2"

# one program that forks, with periodic summaries: one program, its 3
# processes; the summaries are cumulative (the last one counts, not their sum)
PF=$(policy fork.ini <<'INI'
[global]
summary_interval = 1s
[deny9]
on = connect
addr = 127.0.0.1
port = 9
deny = EACCES
INI
)
SOCKSHIM_LOG=file:$T/fork.log SOCKSHIM_LOG_FORMAT=json shim "$PF" "$PY" -c '
import errno, os, socket, time
r = []
for i in range(12):
    s = socket.socket(); r.append(s.connect_ex(("127.0.0.1", 9))); s.close(); time.sleep(0.2)
print(" ".join(sorted({errno.errorcode[e] for e in r})), len(r), flush=True)
for k in range(2):
    if os.fork() == 0:
        socket.socket().connect_ex(("127.0.0.1", 9)); os._exit(0)
    os.wait()
' >"$T/fork.out"
expect_eq "fork: the kernel call failed with EACCES 12 times in the parent" "$(cat "$T/fork.out")" "EACCES 12"
check "fork: at least one periodic summary line was written" grep -q '"interval":1' "$T/fork.log"
out=$($R "$T/fork.log")
expect_eq "fork: one program, its 14 decisions" "$(printf '%s\n' "$out" | tail -1)" \
	'1 program, 14 decisions, 1 destination denied: 127.0.0.1:9 ×14'
expect_match "fork: python3 has the 3 processes" "$out" '^  python3: 3 processes, 14 decisions, 14 denied, 0 rewritten, 0 failed$'
# (a child's own summary, 1, appears only when its call came after a period
# of summary_interval ended: then the per-pid counts add up to 13 or 14)
expect_match "fork: the summary lines count each process once, not every periodic line" "$out" 'summary lines: matched=1[234] applied=1[234] failed=0'
# the same log cut in three, given newest first: the same report
n=$(wc -l <"$T/fork.log")
head -n 2 "$T/fork.log" >"$T/rot.log.2"
sed -n "3,$((n - 3))p" "$T/fork.log" >"$T/rot.log.1"
tail -n +$((n - 2)) "$T/fork.log" >"$T/rot.log"
expect_eq "rotated logs, newest first: the same report as oldest first" \
	"$($R "$T/rot.log" "$T/rot.log.1" "$T/rot.log.2" | tail -n +2)" "$($R "$T/rot.log.2" "$T/rot.log.1" "$T/rot.log" | tail -n +2)"
expect_eq "rotated logs, newest first: one program" "$($R "$T/rot.log" "$T/rot.log.1" "$T/rot.log.2" | tail -1)" \
	'1 program, 14 decisions, 1 destination denied: 127.0.0.1:9 ×14'
# --seccomp: the start line is the supervisor's, the decisions the program's
"$BUILD/sockshim" --seccomp -p "$PF" -l "file:$T/sec.log" -- "$PY" -c '
import socket
print(" ".join(str(socket.socket().connect_ex(("127.0.0.1", 9))) for _ in range(3)))' >"$T/sec.out" 2>&1
expect_eq "--seccomp: the kernel call failed with EACCES 3 times" "$(cat "$T/sec.out")" "13 13 13"
out=$($R "$T/sec.log")
expect_eq "--seccomp: one program, 3 decisions" "$(printf '%s\n' "$out" | tail -1)" \
	'1 program, 3 decisions, 1 destination denied: 127.0.0.1:9 ×3'
expect_match "--seccomp: the decisions are the program's" "$out" '^  python3: 1 process, 3 decisions, 3 denied, 0 rewritten, 0 failed$'

$R >/dev/null 2>&1
expect_eq "no LOG: usage, exit 64" "$?" 64
$R "$T/no-such.log" >/dev/null 2>&1
expect_eq "a missing log: exit 66" "$?" 66
finish

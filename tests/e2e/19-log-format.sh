# The decision log, read back and checked field by field:
#   log_format = json, log = file:...: a few programs (probe, a python server)
#     write one JSON object per line; every line parses; decision lines carry
#     ts, pid, op, fd, proto, addr (as the app passed it), rule, actions,
#     dry_run, rc, errno with the right types and values; each process writes
#     one start line with its own pid.
#     Names that need escaping, or are not UTF-8, still make valid lines.
#   the text format: one line per decision in the documented shape.
#   SOCKSHIM_LOG overrides log; SOCKSHIM_LOG_LEVEL=debug adds unmatched calls
#     (rule null / rule=-), which info leaves out.
. "$TOP/tests/lib.sh"

# expect_nomatch NAME ACTUAL REGEX (grep -E): passes when no line matches
expect_nomatch() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then not_ok "$1"; echo "#   /$3/ found in:"; printf '%s\n' "$2" | sed 's/^/#   | /' | head -20; else ok "$1"; fi
}

PY=$(python3 -c 'import sys; print(sys.executable)')
PROBE=$BUILD/tests/probe

rules='
[rw]
on = bind
proto = tcp
port = 9900
rewrite = 127.0.0.5:9901

[v6]
on = bind
family = ipv6
port = 9902
reuseport = force
sockopt = SO_KEEPALIVE=1

[refuse]
on = bind
port = 9903
deny = EACCES

[allow]
on = bind
port = 9904

[lst]
on = listen
port = 9904
reuseaddr = force
'
json=$(policy json.ini <<EOF
[global]
log = file:$T/log.json
log_format = json
$rules
EOF
)
SH="env SOCKSHIM_POLICY=$json LD_PRELOAD=$SHIM"

# ---- programs writing to one JSON log ----
$SH "$PROBE" tcp4 bind=127.0.0.1:9900 name listen > "$T/p1" 2>&1
$SH "$PROBE" tcp6 bind=[::1]:9902 set=reuseport:0 > "$T/p2" 2>&1
$SH "$PROBE" tcp4 bind=127.0.0.1:9903 > "$T/p3" 2>&1
$SH "$PROBE" tcp4 bind=127.0.0.1:9904 listen new=tcp4 bind=127.0.0.1:9904 > "$T/p4" 2>&1
cat > "$T/server.py" <<'EOF'
import os, socket
print(os.getpid(), flush=True)
s = socket.socket(socket.AF_INET6)
s.bind(("::1", 9902))
s.listen()
EOF
pypid=$(timeout 10 $SH "$PY" "$T/server.py" 2>/dev/null)
expect_match "json: probe 1 was rewritten (kernel)" "$(cat "$T/p1")" 'local=127\.0\.0\.5:9901'
expect_match "json: probe 3 was denied" "$(cat "$T/p3")" 'rc=-1 errno=EACCES'
expect_match "json: probe 4's second bind failed in the kernel" "$(cat "$T/p4")" 'bind=127\.0\.0\.1:9904 rc=-1 errno=EADDRINUSE'
expect_nomatch "json: nothing from the shim on stdout/stderr (log goes to the file)" "$(cat "$T"/p[1-4])" sockshim

cat > "$T/check.py" <<'EOF'
import datetime, json, re, sys

path, pypid = sys.argv[1], int(sys.argv[2])
bad, decisions, starts = [], [], []
now = datetime.datetime.now(datetime.timezone.utc)
for n, line in enumerate(open(path, encoding="utf-8"), 1):
    if not line.endswith("\n"):
        bad.append("line %d does not end with a newline" % n)
    try:
        o = json.loads(line)
    except ValueError as e:
        bad.append("line %d is not JSON (%s): %r" % (n, e, line))
        continue
    if not isinstance(o, dict):
        bad.append("line %d is not an object" % n); continue
    ts = o.get("ts")
    try:
        t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
        if abs((now - t).total_seconds()) > 120:
            bad.append("line %d: ts %s is not now" % (n, ts))
    except (TypeError, ValueError):
        bad.append("line %d: ts %r is not UTC ISO-8601" % (n, ts))
    if not isinstance(o.get("pid"), int) or isinstance(o.get("pid"), bool):
        bad.append("line %d: pid %r" % (n, o.get("pid")))
    if o.get("event") == "start":
        starts.append(o)
    elif "op" in o:
        decisions.append(o)

def check(o, key, test, what):
    if key not in o:
        bad.append("%s %s: no key %s" % (o.get("op"), o.get("addr"), key))
    elif not test(o[key]):
        bad.append("%s %s: %s=%r is not %s" % (o.get("op"), o.get("addr"), key, o[key], what))

isint = lambda v: isinstance(v, int) and not isinstance(v, bool)
for o in decisions:
    check(o, "op", lambda v: v in ("bind", "listen", "connect", "send", "setsockopt"), "an op")
    check(o, "fd", lambda v: isint(v) and v >= 0, "an fd")
    check(o, "proto", lambda v: v in ("tcp", "udp"), "tcp/udp")
    check(o, "addr", lambda v: (v is None and o.get("op") == "setsockopt") or
          (isinstance(v, str) and re.fullmatch(r"\d+\.\d+\.\d+\.\d+:\d+|\[[0-9a-f:.]+\]:\d+", v)), "ip:port or [v6]:port")
    check(o, "rule", lambda v: v is None or (isinstance(v, str) and v), "a name or null")
    check(o, "actions", lambda v: isinstance(v, list) and all(isinstance(a, str) and a for a in v), "a list of strings")
    check(o, "dry_run", lambda v: isinstance(v, bool), "a bool")
    check(o, "rc", isint, "an int")
    check(o, "errno", lambda v: (v is None) == (o.get("rc", 0) >= 0) and (v is None or re.fullmatch(r"E[A-Z0-9]+", v)),
          "an errno name when rc < 0, else null")

def find(op, addr, rule):
    for o in decisions:
        if o.get("op") == op and o.get("addr") == addr and o.get("rule") == rule:
            return o
    bad.append("no %s line for %s rule %s" % (op, addr, rule))
    return {}

def expect(o, **kv):
    for k, v in kv.items():
        if o and o.get(k) != v:
            bad.append("%s %s: %s=%r, expected %r" % (o.get("op"), o.get("addr"), k, o.get(k), v))

# the address as the application passed it, not the rewritten one
expect(find("bind", "127.0.0.1:9900", "rw"), proto="tcp", actions=["rewrite=127.0.0.5:9901"], dry_run=False, rc=0, errno=None)
expect(find("bind", "[::1]:9902", "v6"), proto="tcp", actions=["reuseport=force", "sockopt=SO_KEEPALIVE=1"], rc=0, errno=None)
expect(find("setsockopt", None, "(pinned)"), actions=["ignored=SO_REUSEPORT=0"], rc=0, errno=None)
expect(find("bind", "127.0.0.1:9903", "refuse"), actions=["deny=EACCES"], rc=-1, errno="EACCES")
allow = [o for o in decisions if o.get("op") == "bind" and o.get("addr") == "127.0.0.1:9904"]
if [(o.get("rule"), o.get("actions"), o.get("rc"), o.get("errno")) for o in allow] != \
        [("allow", ["allow"], 0, None), ("allow", ["allow"], -1, "EADDRINUSE")]:
    bad.append("allow rule lines: %r" % allow)
expect(find("listen", "127.0.0.1:9904", "lst"), actions=["reuseaddr=force"], rc=0, errno=None)
py = [o for o in decisions if o.get("pid") == pypid]
if len(py) != 1 or py[0].get("addr") != "[::1]:9902" or py[0].get("rule") != "v6":
    bad.append("python server's own decision (pid %d): %r" % (pypid, py))
if len(starts) != 5 or len({s["pid"] for s in starts}) != 5 or pypid not in {s["pid"] for s in starts}:
    bad.append("start lines: %r" % starts)
if any(o.get("rule") is None for o in decisions):
    bad.append("info level logged an unmatched call")
print("\n".join(bad) if bad else "ok")
EOF
expect_eq "json: every line parses and every decision has the documented fields" \
	"$(python3 "$T/check.py" "$T/log.json" "${pypid:-0}" 2>&1)" "ok"

# JSON escaping: a program whose name holds a quote and a backslash
cp "$PROBE" "$T/we\"ird\\probe"
: > "$T/log.json"
$SH "$T/we\"ird\\probe" tcp4 bind=127.0.0.1:9900 > /dev/null 2>&1
expect_eq "json: a program name with \" and \\ is escaped" \
	"$(python3 -c 'import json,sys; print([json.loads(l)["program"] for l in open(sys.argv[1]) if json.loads(l).get("event") == "start"][0])' "$T/log.json" 2>&1)" \
	'we"ird\probe'

# UTF-8: a program name that is not valid UTF-8 still makes a valid UTF-8
# line; well-formed characters stay, each ill-formed sequence is U+FFFD
bad=$(printf 'caf\xc3\xa9-\xff\xc3-probe')
cp "$PROBE" "$T/$bad"
: > "$T/log.json"
$SH "$T/$bad" tcp4 bind=127.0.0.1:9900 > /dev/null 2>&1
expect_eq "json: a program name that is not UTF-8: the line is UTF-8, ill-formed bytes as U+FFFD" \
	"$(python3 -c 'import json,sys; print(ascii([json.loads(l)["program"] for l in open(sys.argv[1], encoding="utf-8") if json.loads(l).get("event") == "start"][0]))' "$T/log.json" 2>&1)" \
	"'caf\\xe9-\\ufffd\\ufffd-probe'"

# ---- the text format ----
text=$(policy text.ini <<EOF
[global]
log = stderr
$rules
EOF
)
err=$( { env SOCKSHIM_POLICY="$text" LD_PRELOAD="$SHIM" "$PROBE" tcp4 bind=127.0.0.1:9903 new=tcp6 bind=[::1]:9902 new=tcp4 bind=127.0.0.1:9999 > /dev/null; } 2>&1 )
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]+Z sockshim\[[0-9]+\]'
expect_match "text: start line" "$err" "^$ts info start version=[^ ]+ program=probe exe=probe policy=$text rules=5 mode=enforce\$"
expect_match "text: deny line" "$err" "^$ts info bind fd=[0-9]+ tcp 127\.0\.0\.1:9903 rule=refuse actions=deny=EACCES rc=-1 errno=EACCES\$"
expect_match "text: v6 line" "$err" "^$ts info bind fd=[0-9]+ tcp \[::1\]:9902 rule=v6 actions=reuseport=force,sockopt=SO_KEEPALIVE=1 rc=0\$"
expect_eq "text: three decision lines at info (unmatched bind not logged), then the summary" "$(printf '%s\n' "$err" | grep -vc ' info summary ')" "3"

# ---- SOCKSHIM_LOG and SOCKSHIM_LOG_LEVEL ----
err=$( { env SOCKSHIM_LOG="file:$T/env.log" SOCKSHIM_LOG_LEVEL=debug SOCKSHIM_POLICY="$text" LD_PRELOAD="$SHIM" \
	"$PROBE" tcp4 bind=127.0.0.1:9999 new=tcp4 bind=127.0.0.1:9903 > /dev/null; } 2>&1 )
expect_eq "SOCKSHIM_LOG: nothing on stderr" "$err" ""
log=$(cat "$T/env.log" 2>/dev/null)
expect_match "SOCKSHIM_LOG: the file has the start line" "$log" ' info start .*program=probe'
expect_match "SOCKSHIM_LOG_LEVEL=debug: unmatched bind logged with rule=-" "$log" \
	"^$ts debug bind fd=[0-9]+ tcp 127\.0\.0\.1:9999 rule=- rc=0\$"
expect_match "SOCKSHIM_LOG_LEVEL=debug: matched bind still logged" "$log" 'info bind fd=[0-9]+ tcp 127\.0\.0\.1:9903 rule=refuse'

env SOCKSHIM_LOG_LEVEL=debug SOCKSHIM_POLICY="$json" LD_PRELOAD="$SHIM" "$PROBE" udp4 bind=127.0.0.1:9998 > /dev/null 2>&1
expect_eq "SOCKSHIM_LOG_LEVEL=debug: json unmatched line has rule null" \
	"$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o.get("op") == "bind" and o.get("addr") == "127.0.0.1:9998":
        print(o["level"], o["proto"], repr(o["rule"]), o["actions"], o["rc"], o["errno"])' "$T/log.json" 2>&1)" \
	"debug udp None [] 0 None"

err=$( { env SOCKSHIM_LOG_LEVEL=error SOCKSHIM_POLICY="$text" LD_PRELOAD="$SHIM" "$PROBE" tcp4 bind=127.0.0.1:9903 > /dev/null; } 2>&1 )
expect_eq "SOCKSHIM_LOG_LEVEL=error: no info lines" "$err" ""
err=$( { env SOCKSHIM_LOG=none SOCKSHIM_POLICY="$text" LD_PRELOAD="$SHIM" "$PROBE" tcp4 bind=127.0.0.1:9903 > /dev/null; } 2>&1 )
expect_eq "SOCKSHIM_LOG=none: nothing logged" "$err" ""

finish

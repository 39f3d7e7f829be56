# mode = dry-run: the shim decides and logs what it would do, and changes
# frontends: preload, seccomp
# nothing: the kernel shows SO_REUSEADDR/SO_KEEPALIVE still 0, the bind not
# rewritten, the denied bind made, the listen not moved, no pinning.
# Via [global] mode = dry-run (json log: dry_run true) and via the environment
# SOCKSHIM_MODE=dry-run over an enforcing policy (text log: "dry-run").
# Control: the same policy enforcing changes all of it.
. "$TOP/tests/lib.sh"

# expect_nomatch NAME ACTUAL REGEX (grep -E): passes when no line matches
expect_nomatch() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then not_ok "$1"; echo "#   /$3/ found in:"; printf '%s\n' "$2" | sed 's/^/#   | /' | head -20; else ok "$1"; fi
}

PROBE=$BUILD/tests/probe

rules='
[force]
on = bind
proto = tcp
port = 9700
reuseaddr = force
sockopt = SO_KEEPALIVE=1

[move]
on = bind
port = 9701
rewrite = 127.0.0.9:9799

[refuse]
on = bind
port = 9702
deny = EACCES

[listen-move]
on = listen
family = ipv4
port = 0
rewrite = 127.0.0.10:9798
'
dry=$(policy dry.ini <<EOF
[global]
mode = dry-run
log = file:$T/dry.log
log_format = json
$rules
EOF
)
enf=$(policy enforce.ini <<EOF
[global]
log = file:$T/enforce.log
$rules
EOF
)

# run_all: every case, one probe each, all output concatenated
run_all() {
	"$@" "$PROBE" tcp4 bind=127.0.0.1:9700 get=reuseaddr get=keepalive set=reuseaddr:0 get=reuseaddr 2>&1
	"$@" "$PROBE" tcp4 bind=127.0.0.1:9701 name 2>&1
	"$@" "$PROBE" tcp4 bind=127.0.0.1:9702 name 2>&1
	"$@" "$PROBE" tcp4 listen name 2>&1
}

# expect_unchanged LABEL OUTPUT: the kernel saw the application's own calls
expect_unchanged() {
	expect_match "$1: SO_REUSEADDR stays 0" "$2" '^get=reuseaddr rc=0 errno=0 value=0$'
	expect_nomatch "$1: SO_REUSEADDR never 1" "$2" 'get=reuseaddr rc=0 errno=0 value=1'
	expect_match "$1: SO_KEEPALIVE stays 0" "$2" '^get=keepalive rc=0 errno=0 value=0$'
	expect_match "$1: bind not rewritten" "$2" '^name rc=0 errno=0 local=127\.0\.0\.1:9701$'
	expect_match "$1: denied bind is made" "$2" '^bind=127\.0\.0\.1:9702 rc=0 errno=0$'
	expect_match "$1: denied bind really bound" "$2" '^name rc=0 errno=0 local=127\.0\.0\.1:9702$'
	expect_match "$1: listen not moved (ephemeral port on 0.0.0.0)" "$2" '^name rc=0 errno=0 local=0\.0\.0\.0:[1-9][0-9]*$'
	expect_nomatch "$1: nothing bound to 127.0.0.9/127.0.0.10" "$2" 'local=127\.0\.0\.(9|10):'
}

# ---- control: enforcing ----
out=$(run_all env SOCKSHIM_POLICY="$enf" LD_PRELOAD="$SHIM")
expect_match "enforce: SO_REUSEADDR=1" "$out" '^get=reuseaddr rc=0 errno=0 value=1$'
expect_match "enforce: SO_KEEPALIVE=1" "$out" '^get=keepalive rc=0 errno=0 value=1$'
expect_match "enforce: bind rewritten" "$out" '^name rc=0 errno=0 local=127\.0\.0\.9:9799$'
expect_match "enforce: bind denied" "$out" '^bind=127\.0\.0\.1:9702 rc=-1 errno=EACCES$'
expect_match "enforce: listen moved" "$out" '^name rc=0 errno=0 local=127\.0\.0\.10:9798$'

# ---- [global] mode = dry-run, JSON log ----
out=$(run_all env SOCKSHIM_POLICY="$dry" LD_PRELOAD="$SHIM")
expect_unchanged "dry-run policy" "$out"
expect_nomatch "dry-run policy: no ignored setsockopt" "$(cat "$T/dry.log")" ignored

cat > "$T/check.py" <<'EOF'
import json, sys
want = {  # op, addr -> actions
    ("bind", "127.0.0.1:9700"): ["reuseaddr=force", "sockopt=SO_KEEPALIVE=1"],
    ("bind", "127.0.0.1:9701"): ["rewrite=127.0.0.9:9799"],
    ("bind", "127.0.0.1:9702"): ["deny=EACCES"],
    ("listen", "0.0.0.0:0"): ["rewrite=127.0.0.10:9798"],
}
seen, starts = {}, []
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o.get("event") == "start":
        starts.append(o)
    elif "op" in o:
        seen[(o["op"], o["addr"])] = o
bad = []
if len(starts) != 4 or any(s.get("mode") != "dry-run" for s in starts):
    bad.append("start lines: %r" % starts)
for k, acts in want.items():
    o = seen.get(k)
    if not o:
        bad.append("no line for %s %s" % k)
    elif o["dry_run"] is not True or o["actions"] != acts or o["rc"] != 0 or o["errno"] is not None:
        bad.append("line for %s %s: %r" % (k[0], k[1], o))
print("\n".join(bad) if bad else "ok")
EOF
expect_eq "dry-run policy: json lines say dry_run true, the would-be actions, rc 0" \
	"$(python3 "$T/check.py" "$T/dry.log" 2>&1)" "ok"

# ---- SOCKSHIM_MODE=dry-run over the enforcing policy, text log ----
: > "$T/enforce.log"
out=$(run_all env SOCKSHIM_MODE=dry-run SOCKSHIM_POLICY="$enf" LD_PRELOAD="$SHIM")
expect_unchanged "SOCKSHIM_MODE" "$out"
log=$(cat "$T/enforce.log")
expect_eq "SOCKSHIM_MODE: four start lines say mode=dry-run" "$(grep -c ' start .*mode=dry-run' <<<"$log")" "4"
expect_match "SOCKSHIM_MODE: reuseaddr line" "$log" \
	'bind fd=[0-9]+ tcp 127\.0\.0\.1:9700 rule=force actions=reuseaddr=force,sockopt=SO_KEEPALIVE=1 dry-run rc=0$'
expect_match "SOCKSHIM_MODE: rewrite line" "$log" \
	'bind fd=[0-9]+ tcp 127\.0\.0\.1:9701 rule=move actions=rewrite=127\.0\.0\.9:9799 dry-run rc=0$'
expect_match "SOCKSHIM_MODE: deny line" "$log" \
	'bind fd=[0-9]+ tcp 127\.0\.0\.1:9702 rule=refuse actions=deny=EACCES dry-run rc=0$'
expect_match "SOCKSHIM_MODE: listen line" "$log" \
	'listen fd=[0-9]+ tcp 0\.0\.0\.0:0 rule=listen-move actions=rewrite=127\.0\.0\.10:9798 dry-run rc=0$'

# SOCKSHIM_MODE=enforce overrides a dry-run policy the other way
out=$(env SOCKSHIM_MODE=enforce SOCKSHIM_POLICY="$dry" LD_PRELOAD="$SHIM" "$PROBE" tcp4 bind=127.0.0.1:9702 2>&1)
expect_match "SOCKSHIM_MODE=enforce over a dry-run policy denies" "$out" '^bind=127\.0\.0\.1:9702 rc=-1 errno=EACCES$'

finish

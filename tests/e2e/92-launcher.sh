#!/bin/bash
# 92: the launcher `sockshim` as a user meets it.
# - run mode: the command's exit status and death by signal come through
#   unchanged (it execs: same pid); a signal sent to the launcher's pid
#   reaches the program; LD_PRELOAD is prepended, not replaced; -p, -l, -v,
#   -n do what they say (checked with getsockname and the log); a missing
#   command exits 127, a bad option 64, a broken policy 78 with FILE:LINE;
# - warnings before running a static or a setuid program;
# - check: OK line, FILE:LINE errors with exit 78, and warnings (shadowed
#   rule, non-local source, reuse on UDP, privileged source ports) with exit 0;
# - explain: the deciding rule and its actions, or "passes through";
# - --help, --version; the run summary at exit.
. "$TOP/tests/lib.sh"
S="$BUILD/sockshim"
PY=$(python3 -c 'import sys; print(sys.executable)')

# ---- exit status and signals ----
E=$(policy empty.ini </dev/null)
"$S" -p "$E" -- sh -c 'exit 7' 2>/dev/null
expect_eq "exit status passes through" "$?" 7
"$S" -p "$E" -- sh -c 'kill -TERM $$' 2>/dev/null
expect_eq "death by signal passes through (128+15)" "$?" 143
"$S" -p "$E" -- sh -c 'echo $$ > "$1"; sleep 5; echo survived' sh "$T/pid" >"$T/sig.out" 2>/dev/null &
lpid=$!
for _ in $(seq 50); do [ -s "$T/pid" ] && break; sleep 0.05; done
expect_eq "the launcher execs: the program has the launcher's pid" "$(cat "$T/pid")" "$lpid"
kill -TERM "$lpid"; wait "$lpid" 2>/dev/null; rc=$?
expect_eq "a signal sent to the launcher reaches the program" "$rc/$(cat "$T/sig.out")" "143/"
"$S" -p "$E" -- /nonexistent/prog 2>"$T/err"
expect_eq "missing command: 127" "$?" 127
"$S" -x -- true 2>"$T/err"
expect_eq "unknown option: 64" "$?" 64
"$S" 2>/dev/null
expect_eq "no command: 64" "$?" 64

# ---- the preload and its options ----
P=$(policy pin.ini <<'INI'
[pin]
on = connect
addr = 127.0.0.1
source = 127.0.0.2
INI
)
"$PY" -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 9300)); s.listen(64); open(sys.argv[1], "w").close(); import time; time.sleep(20)' "$T/ready" &
srv=$!
trap 'kill $srv 2>/dev/null' EXIT
for _ in $(seq 100); do [ -e "$T/ready" ] && break; sleep 0.05; done
client='import socket; s=socket.create_connection(("127.0.0.1", 9300)); print(s.getsockname()[0])'
expect_eq "-p: the policy applies (getsockname)" "$("$S" -p "$P" -l none -- "$PY" -c "$client")" "127.0.0.2"
expect_eq "-n: dry-run changes nothing" "$("$S" -p "$P" -l none -n -- "$PY" -c "$client")" "127.0.0.1"
"$S" -p "$P" -l "$T/run.log" -- "$PY" -c "$client" >/dev/null
expect_match "-l PATH: decisions go to the file" "$(cat "$T/run.log")" 'info connect fd=[0-9]+ tcp 127\.0\.0\.1:9300 rule=pin actions=source=127\.0\.0\.2 rc=0'
expect_match "run summary at exit, per rule" "$(cat "$T/run.log")" 'info summary rule=pin line=1 matched=1 applied=1 failed=0$'
"$S" -p "$P" -l "$T/debug.log" -v -- "$PY" -c "$client" >/dev/null
expect_match "-v: every intercepted call at debug" "$(cat "$T/debug.log")" 'debug socket fd='
expect_match "LD_PRELOAD is prepended, not replaced" \
	"$(LD_PRELOAD=/nonexistent-but-kept.so "$S" -p "$P" -l none -- sh -c 'echo "$LD_PRELOAD"' 2>/dev/null)" \
	"^$BUILD/libsockshim\.so:/nonexistent-but-kept\.so$"
BROKEN=$(policy broken.ini <<'INI'
[x]
on = connect
sorce = 127.0.0.2
INI
)
out=$("$S" -p "$BROKEN" -- /bin/true 2>&1); rc=$?
expect_eq "broken policy: the program exits 78" "$rc" 78
expect_match "broken policy: FILE:LINE message" "$out" 'broken\.ini:3: .*sorce'

# ---- programs a preload cannot reach ----
# A static one goes to the seccomp supervisor by itself, with a note; its
# exit status still comes back.
printf 'int main(void) { return 3; }\n' > "$T/st.c"
if cc -static -o "$T/static-prog" "$T/st.c" 2>/dev/null; then
	out=$("$S" -p "$P" -l none -- "$T/static-prog" 2>&1); rc=$?
	expect_match "static program: a note, and the seccomp supervisor takes it" "$out" \
		'^sockshim: .*static-prog is static: using --seccomp$'
	expect_eq "static program: the note is one short line" "$(printf '%s\n' "$out" | wc -l)" 1
	expect_eq "static program: its exit status comes back" "$rc" 3
else
	ok "static program: (no static libc here)"
fi
cp /bin/true "$T/suid-true" && chmod u+s "$T/suid-true"
out=$("$S" -p "$P" -l none -- "$T/suid-true" 2>&1)
expect_match "setuid program: warned" "$out" 'warning: .*suid-true is setuid'
out=$("$S" -p "$P" -l none -- /bin/true 2>&1)
expect_eq "ordinary program: no warning" "$out" ""

# ---- check ----
out=$("$S" check "$P" 2>&1); rc=$?
expect_eq "check: a good policy" "$rc $out" "0 $P: OK, 1 rule"
out=$("$S" check "$BROKEN" 2>&1); rc=$?
expect_eq "check: a broken policy exits 78" "$rc" 78
expect_match "check: FILE:LINE: message" "$out" "^$BROKEN:3: unknown key 'sorce'"
LINT=$(policy lint.ini <<'INI'
[all-connect]
on = connect
proto = tcp

[never]
on = connect
proto = tcp
addr = 10.0.0.0/8

[far-source]
on = send
source = 192.0.2.77

[udp-reuse]
on = bind
proto = udp
reuseaddr = force

[low-ports]
on = connect
proto = udp
source_port = 500-1500
INI
)
out=$("$S" check "$LINT" 2>&1); rc=$?
expect_eq "check: warnings do not fail the check" "$rc" 0
expect_match "check: shadowed rule" "$out" "^$LINT:5: warning: rule 'never' can never match: rule 'all-connect' \(line 1\)"
expect_match "check: source not on this host" "$out" "^$LINT:12: warning: source 192\.0\.2\.77 is not an address of this host"
expect_match "check: reuseaddr on UDP" "$out" "^$LINT:17: warning: 'reuseaddr = force' on UDP"
expect_match "check: privileged source ports" "$out" "^$LINT:22: warning: source ports below [0-9]+ need CAP_NET_BIND_SERVICE"
expect_match "check: counts them" "$out" "OK, 5 rules, 4 warnings$"
out=$("$S" check "$TOP/conf/sockshim.ini" 2>&1)
expect_eq "check: the default policy is clean" "$out" "$TOP/conf/sockshim.ini: OK, 2 rules"

# ---- explain ----
out=$("$S" explain "$P" connect tcp 127.0.0.1:9300)
expect_match "explain: the deciding rule and line" "$out" "rule 'pin' \($P:1\) decides:"
expect_match "explain: its action" "$out" 'source: bind to 127\.0\.0\.2'
out=$("$S" explain "$P" connect tcp 10.1.2.3:80)
expect_match "explain: no rule" "$out" 'passes through untouched'

# ---- install, from any directory ----
inst=$T/inst
make -s -C "$TOP" BUILD="$BUILD" PREFIX="$inst" install >/dev/null 2>&1
make -s -C "$TOP" BUILD="$BUILD" PREFIX="$inst" install-config >/dev/null 2>&1
echo "; mine" >> "$inst/etc/sockshim/sockshim.ini"
make -s -C "$TOP" BUILD="$BUILD" PREFIX="$inst" install-config >/dev/null 2>&1
expect_eq "install-config never overwrites a policy" "$(tail -1 "$inst/etc/sockshim/sockshim.ini")" "; mine"
expect_eq "installed launcher works from another directory" \
	"$(cd / && "$inst/bin/sockshim" -p "$P" -l none -- "$PY" -c "$client")" "127.0.0.2"
check "man pages and completion installed" test -f "$inst/share/man/man1/sockshim.1" -a -f "$inst/share/man/man5/sockshim.ini.5" \
	-a -f "$inst/share/man/man5/sockshim-log.5" \
	-a -f "$inst/share/bash-completion/completions/sockshim"
make -s -C "$TOP" BUILD="$BUILD" PREFIX="$inst" uninstall >/dev/null 2>&1
expect_eq "uninstall removes what install put (the policy stays)" "$(find "$inst" -type f | sed "s|$inst/||" | sort | tr '\n' ' ')" \
	"etc/sockshim/sockshim.ini "

# ---- bash completion ----
comp() { bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _sockshim; printf "%s\n" "${COMPREPLY[@]}"' sh \
	"$TOP/doc/sockshim.bash-completion" "$@"; }
expect_eq "completion: subcommands" "$(comp sockshim ex | grep -x explain)" explain
expect_eq "completion: explain's OP" "$(comp sockshim explain p.ini con)" connect
expect_eq "completion: options" "$(comp sockshim -- | head -0; comp sockshim - | sort | tr '\n' ' ')" "-- --help --version -l -n -p -v "

# ---- help and version ----
expect_match "--help" "$("$S" --help)" '^usage: sockshim \[-p POLICY\]'
expect_match "--version" "$("$S" --version)" '^sockshim [0-9]+\.[0-9]+\.[0-9]+$'

finish

# A broken or unsafe policy:
#   typo (unknown key on line 7), bad value, key meaningless for `on`
#       -> exit 78 before main, "sockshim: FILE:LINE: ..." on stderr
#          (also with log = none / log = file:..., the message still goes to
#          stderr; with a file or syslog sink, it is logged there too)
#   on_error = passthrough -> the program runs normally, the error is logged,
#       and no rule of the file is applied (kernel: SO_REUSEADDR stays 0)
#   SOCKSHIM_POLICY naming a missing file, a group- or other-writable file,
#   or a symbolic link -> 78
#   no SOCKSHIM_POLICY and no default file -> the program runs, one warning.
. "$TOP/tests/lib.sh"

# expect_nomatch NAME ACTUAL REGEX (grep -E): passes when no line matches
expect_nomatch() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then not_ok "$1"; echo "#   /$3/ found in:"; printf '%s\n' "$2" | sed 's/^/#   | /' | head -20; else ok "$1"; fi
}

PY=$(python3 -c 'import sys; print(sys.executable)')
PROBE=$BUILD/tests/probe

# A "program" whose main leaves a mark: a file and a line on stdout.
cat > "$T/app.py" <<'EOF'
import sys
open(sys.argv[1], "w").write("ran\n")
print("main ran")
EOF

# run_app POLICY: run app.py under the shim; sets rc, out, err, ran (yes/no)
run_app() {
	rm -f "$T/mark"
	out=$(timeout 10 env SOCKSHIM_POLICY="$1" LD_PRELOAD="$SHIM" "$PY" "$T/app.py" "$T/mark" 2> "$T/err"); rc=$?
	err=$(cat "$T/err")
	ran=no; [ -e "$T/mark" ] && ran=yes
}

# ---- unknown key on line 7 ----
typo=$(policy typo.ini <<'EOF'
[global]
log = stderr

; restart the legacy server at once
[legacy]
on = bind
reuseadr = force
port = 9800
EOF
)
run_app "$typo"
expect_eq "typo: exit status 78" "$rc" "78"
expect_eq "typo: main never ran" "$ran/$out" "no/"
expect_match "typo: stderr names FILE:7 and the key" "$err" "^sockshim: $typo:7: .*reuseadr"
expect_nomatch "typo: every stderr line starts with 'sockshim: FILE:LINE: '" \
	"$(printf '%s\n' "$err" | grep -v "^sockshim: $typo:[0-9][0-9]*: ")" .

# the same typo with log = none and with a log file: still on stderr, still 78
sed 's|^log = stderr|log = none|' "$typo" > "$T/typo-none.ini"; chmod 644 "$T/typo-none.ini"
run_app "$T/typo-none.ini"
expect_eq "typo + log = none: exit 78, main never ran" "$rc/$ran" "78/no"
expect_match "typo + log = none: message on stderr" "$err" "^sockshim: $T/typo-none.ini:7: .*reuseadr"
sed "s|^log = stderr|log = file:$T/typo.log|" "$typo" > "$T/typo-file.ini"; chmod 644 "$T/typo-file.ini"
run_app "$T/typo-file.ini"
expect_eq "typo + log = file: exit 78, main never ran" "$rc/$ran" "78/no"
expect_match "typo + log = file: message on stderr" "$err" "^sockshim: $T/typo-file.ini:7: .*reuseadr"
expect_match "typo + log = file: and in the log file" "$(cat "$T/typo.log")" " error policy-error .*$T/typo-file.ini:7: .*reuseadr"

# ---- bad value, and a key that means nothing for on = bind ----
badval=$(policy badval.ini <<'EOF'
[srv]
on = bind
port = 9800
reuseaddr = maybe
EOF
)
run_app "$badval"
expect_eq "bad value: exit 78, main never ran" "$rc/$ran" "78/no"
expect_match "bad value: FILE:4 names the key and the value" "$err" "^sockshim: $badval:4: .*maybe.*reuseaddr|^sockshim: $badval:4: .*reuseaddr.*maybe"
meaningless=$(policy meaningless.ini <<'EOF'
[srv]
on = bind
port = 9800
source = 127.0.0.1
EOF
)
run_app "$meaningless"
expect_eq "source on bind: exit 78, main never ran" "$rc/$ran" "78/no"
expect_match "source on bind: FILE:4 names the key" "$err" "^sockshim: $meaningless:4: .*source"

# ---- on_error = passthrough ----
pass=$(policy pass.ini <<'EOF'
[global]
on_error = passthrough

; would force SO_REUSEADDR on 9800, but line 7 is broken
[legacy]
on = bind
reuseadr = force
port = 9800
reuseaddr = force
EOF
)
run_app "$pass"
expect_eq "passthrough: program exits 0" "$rc" "0"
expect_eq "passthrough: main ran normally" "$ran/$out" "yes/main ran"
expect_match "passthrough: error logged with FILE:7" "$err" "error .*$pass:7: .*reuseadr"
expect_match "passthrough: the shim did start" "$err" ' start .*rules=0'
out=$(SOCKSHIM_POLICY="$pass" LD_PRELOAD="$SHIM" "$PROBE" tcp4 bind=127.0.0.1:9800 get=reuseaddr 2>/dev/null)
expect_match "passthrough: the file's rule is not applied (kernel SO_REUSEADDR=0)" "$out" '^get=reuseaddr rc=0 errno=0 value=0$'
# the same file without the typo does apply, so the check above can fail
sed '/^reuseadr/d' "$pass" > "$T/fixed.ini"; chmod 644 "$T/fixed.ini"
out=$(SOCKSHIM_POLICY="$T/fixed.ini" LD_PRELOAD="$SHIM" "$PROBE" tcp4 bind=127.0.0.1:9800 get=reuseaddr 2>/dev/null)
expect_match "passthrough control: fixed file forces SO_REUSEADDR=1" "$out" '^get=reuseaddr rc=0 errno=0 value=1$'

# ---- missing file ----
run_app "$T/does-not-exist.ini"
expect_eq "missing file: exit 78, main never ran" "$rc/$ran" "78/no"
expect_match "missing file: stderr names the file" "$err" "^sockshim: $T/does-not-exist\.ini: "

# ---- unsafe permissions and symlinks ----
good=$(policy good.ini <<'EOF'
[srv]
on = bind
port = 9800
EOF
)
run_app "$good"
expect_eq "0644 file: accepted" "$rc/$ran" "0/yes"
chmod 664 "$good"
run_app "$good"
expect_eq "group-writable (664): exit 78, main never ran" "$rc/$ran" "78/no"
expect_match "group-writable (664): stderr says why" "$err" "^sockshim: $good: .*writable"
chmod 646 "$good"
run_app "$good"
expect_eq "other-writable (646): exit 78" "$rc/$ran" "78/no"
chmod 600 "$good"
run_app "$good"
expect_eq "0600 file: accepted" "$rc/$ran" "0/yes"
chmod 644 "$good"
ln -s "$good" "$T/link.ini"
run_app "$T/link.ini"
expect_eq "symbolic link: exit 78, main never ran" "$rc/$ran" "78/no"
expect_match "symbolic link: stderr names it" "$err" "^sockshim: $T/link\.ini: "

# ---- no SOCKSHIM_POLICY and no default file ----
default=$(grep -ao '/[[:alnum:]/._-]*/sockshim/sockshim\.ini' "$SHIM" | head -1)
if [ -n "$default" ] && [ ! -e "$default" ]; then
	rm -f "$T/mark"
	out=$(timeout 10 env -u SOCKSHIM_POLICY LD_PRELOAD="$SHIM" "$PY" "$T/app.py" "$T/mark" 2> "$T/err"); rc=$?
	err=$(cat "$T/err")
	expect_eq "no policy: program runs normally" "$rc/$out" "0/main ran"
	expect_eq "no policy: exactly one warning" "$(grep -c ' warn ' <<<"$err")" "1"
	expect_match "no policy: the warning says so" "$err" 'warn no-policy '
	expect_match "no policy: the shim did start" "$err" ' start .*rules=0'
	out=$(env -u SOCKSHIM_POLICY LD_PRELOAD="$SHIM" "$PROBE" tcp4 set=reuseaddr:1 bind=127.0.0.1:9800 get=reuseaddr 2>/dev/null)
	expect_match "no policy: calls pass through untouched" "$out" '^get=reuseaddr rc=0 errno=0 value=1$'
else
	echo "# default policy $default exists (or unknown): no-policy case not run"
fi

finish

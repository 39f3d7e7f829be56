# A log sink that cannot take our lines must not hurt the program: it keeps
# running, its connects are still pinned (kernel truth: getsockname), and it
# is never killed by a SIGPIPE it did not ask for (PITFALLS 32, 33).
#   dead-pipe/stderr    stderr is a pipe whose reader is gone, log = stderr:
#                       every line we write raises SIGPIPE at a program that
#                       never writes to stderr itself
#   dead-pipe/no-policy the same with no policy at all (the warning line)
#   dead-pipe/bad-file  stderr a dead pipe and log = file: that cannot be
#                       opened: the one-time warning goes to stderr
#   dead-pipe/config    stderr a dead pipe and a broken policy (on_error =
#                       fail): the process must still end with 78 (EX_CONFIG)
#   full-pipe           stderr is a pipe that is never read (a parent that
#                       reads it only after the child exits), log = stderr,
#                       1000 logged connects: more than the 64 KiB pipe
#                       buffer. A program that never writes to stderr itself
#                       must not block forever on our lines
#   dev-full            log = file:/dev/full (every write fails ENOSPC)
#   directory           log = file: naming a directory (EISDIR)
#   read-only           log = file: on a read-only tmpfs (EROFS), in a
#                       private mount namespace
. "$TOP/tests/lib.sh"

PORT=9620
PROBE=$BUILD/tests/probe
DEAD=$BUILD/tests/rob_deadpipe
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done' EXIT
"$BUILD/tests/rob_server" 127.0.0.1 $PORT 100 30 > "$T/srv" &
pids=$!
wait_port $PORT

# pol NAME LOG: a policy pinning connects to PORT, logging to LOG
pol() {
	policy "$1.ini" <<EOF
[global]
log = $2
log_level = info

[pin]
on = connect
port = $PORT
source = 127.0.0.2
EOF
}
pinned='^name rc=0 errno=0 local=127\.0\.0\.2:[0-9]+$'

# probe under the shim, stderr a dead pipe
p=$(pol dead-stderr stderr)
out=$(timeout 10 "$DEAD" env SOCKSHIM_POLICY="$p" LD_PRELOAD="$SHIM" "$PROBE" tcp4 "connect=127.0.0.1:$PORT" name)
expect_match "dead-pipe/stderr: the program survives its log lines (exit 0, no SIGPIPE)" "$out" '^exit=0$'
expect_match "dead-pipe/stderr: connect still pinned" "$out" "$pinned"

out=$(timeout 10 "$DEAD" env -u SOCKSHIM_POLICY LD_PRELOAD="$SHIM" "$PROBE" tcp4 "connect=127.0.0.1:$PORT" name)
expect_match "dead-pipe/no-policy: the program survives the warning (exit 0, no SIGPIPE)" "$out" '^exit=0$'
expect_match "dead-pipe/no-policy: connect untouched (127.0.0.1)" "$out" '^name rc=0 errno=0 local=127\.0\.0\.1:'

p=$(pol dead-badfile "file:$T/no/such/dir/shim.log")
out=$(timeout 10 "$DEAD" env SOCKSHIM_POLICY="$p" LD_PRELOAD="$SHIM" "$PROBE" tcp4 "connect=127.0.0.1:$PORT" name)
expect_match "dead-pipe/bad-file: the program survives the 'cannot open log file' warning (exit 0, no SIGPIPE)" "$out" '^exit=0$'
expect_match "dead-pipe/bad-file: connect still pinned" "$out" "$pinned"

bad=$(policy dead-config.ini <<'EOF'
[x]
on = connect
bogus = 1
EOF
)
out=$(timeout 10 "$DEAD" env SOCKSHIM_POLICY="$bad" LD_PRELOAD="$SHIM" "$PROBE" tcp4 name)
expect_match "dead-pipe/config: a broken policy still ends the process with 78, not SIGPIPE" "$out" '^exit=78$'
# control: with a readable stderr the message and 78 are there
out=$(timeout 10 env SOCKSHIM_POLICY="$bad" LD_PRELOAD="$SHIM" "$PROBE" tcp4 name 2>&1); rc=$?
expect_eq "config (control): exit 78" "$rc" "78"
expect_match "config (control): the FILE:LINE message" "$out" "^sockshim: $bad:3: "

# stderr a pipe nobody reads while the program runs
P2=9625
policy full-pipe.ini > /dev/null <<EOF
[pin]
on = connect
port = $P2
source = 127.0.0.2
EOF
out=$(timeout 30 "$DEAD" -n 5 "$BUILD/tests/rob_threads" $P2 1 1000)
expect_match "full-pipe (control, bare): finishes" "$out" '^exit=0$'
out=$(timeout 30 "$DEAD" -n 5 env SOCKSHIM_POLICY="$T/full-pipe.ini" LD_PRELOAD="$SHIM" "$BUILD/tests/rob_threads" $P2 1 1000)
expect_match "full-pipe: finishes within 5 s although nobody reads its stderr (no hang on our log)" "$out" '^exit=0$'
expect_match "full-pipe: its 1000 connects succeeded, pinned" "$out" '^client-local 127\.0\.0\.2=1000$'

# log = file:/dev/full: every write fails
p=$(pol dev-full file:/dev/full)
out=$(timeout 10 env SOCKSHIM_POLICY="$p" LD_PRELOAD="$SHIM" "$PROBE" tcp4 "connect=127.0.0.1:$PORT" name 2> "$T/dev-full.err"); rc=$?
expect_eq "dev-full: exit 0" "$rc" "0"
expect_match "dev-full: connect still pinned" "$out" "$pinned"
expect_eq "dev-full: nothing on stderr" "$(cat "$T/dev-full.err")" ""

# log = file: naming a directory
mkdir "$T/adir"
p=$(pol directory "file:$T/adir")
out=$(timeout 10 env SOCKSHIM_POLICY="$p" LD_PRELOAD="$SHIM" "$PROBE" tcp4 "connect=127.0.0.1:$PORT" name 2> "$T/dir.err"); rc=$?
expect_eq "directory: exit 0" "$rc" "0"
expect_match "directory: connect still pinned" "$out" "$pinned"
expect_match "directory: one warning naming the problem" "$(cat "$T/dir.err")" \
	"^sockshim: warning: cannot open log file $T/adir: EISDIR; decision logging is off\$"
expect_eq "directory: only that line on stderr" "$(wc -l < "$T/dir.err")" "1"

# log = file: on a read-only file system (a private mount namespace)
mkdir "$T/ro"
p=$(pol read-only "file:$T/ro/shim.log")
if unshare -m true 2>/dev/null; then
	out=$(timeout 10 unshare -m sh -c 'mount -t tmpfs -o ro tmpfs "$1" && shift && exec "$@"' sh "$T/ro" \
		env SOCKSHIM_POLICY="$p" LD_PRELOAD="$SHIM" "$PROBE" tcp4 "connect=127.0.0.1:$PORT" name 2> "$T/ro.err"); rc=$?
	expect_eq "read-only: exit 0" "$rc" "0"
	expect_match "read-only: connect still pinned" "$out" "$pinned"
	expect_match "read-only: one warning naming EROFS" "$(cat "$T/ro.err")" \
		"^sockshim: warning: cannot open log file $T/ro/shim.log: EROFS; decision logging is off\$"
else
	echo "# read-only: no mount namespace here; skipped"
fi

finish

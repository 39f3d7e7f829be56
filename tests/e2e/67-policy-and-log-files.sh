#!/bin/bash
# 67: the files sockshim trusts cannot be planted by another user.
# - A policy owned by another non-root user (nobody), even 0644, is refused
#   like ssh's StrictModes: exit 78 before main, a message saying why. Owned by
#   root or by the user running the program, it is used.
# - A symbolic link planted at the log file's path (log = file:PATH) is not
#   followed (O_NOFOLLOW): the file it points to is left untouched, the program
#   runs on with its policy applied, and one warning says logging is off.
# - A new log file is created 0640, not world-readable.
. "$TOP/tests/lib.sh"
PROBE=$BUILD/tests/probe

pol=$(policy pin.ini <<'INI'
[pin]
on = connect
port = 9
source = 127.0.0.2
INI
)
run() { # POLICY [ENV...]: the probe connects to 127.0.0.1:9 (refused) and reads its address
	local p=$1; shift
	out=$(timeout 10 env SOCKSHIM_POLICY="$p" "$@" LD_PRELOAD="$SHIM" "$PROBE" tcp4 connect=127.0.0.1:9 name 2>"$T/err"); rc=$?
	err=$(cat "$T/err")
}

run "$pol"
expect_eq "own policy: the probe runs" "$rc" 0
expect_match "own policy: applied (getsockname 127.0.0.2)" "$out" '^name rc=0 errno=0 local=127\.0\.0\.2:'

chown nobody "$pol"
run "$pol"
expect_eq "policy owned by nobody: exit 78, main never ran" "$rc/$out" "78/"
expect_match "policy owned by nobody: the message says why" "$err" "^sockshim: $pol: policy is owned by another user; refusing it"
chown root "$pol"
run "$pol"
expect_match "owned by root again: applied" "$out" '^name rc=0 errno=0 local=127\.0\.0\.2:'

# a symbolic link planted where the log goes
echo "precious" > "$T/victim"
ln -s "$T/victim" "$T/planted.log"
run "$pol" SOCKSHIM_LOG="file:$T/planted.log"
expect_eq "planted symlink: the probe runs" "$rc" 0
expect_match "planted symlink: the policy still applies" "$out" '^name rc=0 errno=0 local=127\.0\.0\.2:'
expect_eq "planted symlink: the file it points to is untouched" "$(cat "$T/victim")" "precious"
expect_match "planted symlink: one warning, logging off" "$err" "cannot open log file $T/planted.log: ELOOP; decision logging is off"
expect_eq "planted symlink: only that one line on stderr" "$(wc -l <<<"$err")" 1

run "$pol" SOCKSHIM_LOG="file:$T/new.log"
expect_eq "a new log file is created 0640" "$(stat -c %a "$T/new.log")" 640
expect_match "and it holds the decision" "$(cat "$T/new.log")" 'rule=pin actions=source=127\.0\.0\.2'
finish

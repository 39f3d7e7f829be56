# Children keep the policy (PITFALLS 26, 27). A parent under the shim
# connects, then makes a child that connects too:
#   fork    the child's connect is pinned; its log lines carry its own pid;
#           no second start line (nothing re-emitted); rotation reseeded, so
#           the child does not pick the port the parent picks next
#   _Fork   the same must hold although pthread_atfork handlers do not run
#   vfork   + execv of the probe: the probe loads the shim again (one start
#           line with the child's pid) and its connect is pinned
#   spawn   posix_spawn of `sh -c 'python3 ...'`: both sh and python log a
#           start line, python's connect is pinned and logged with its pid
#   exec    the shim's log fd is close-on-exec: a program exec'd without
#           the preload does not inherit it
# Kernel truth: getsockname in every process and the peers a bare server saw.
. "$TOP/tests/lib.sh"
# its checks that the shim ran read the start line of processes that log nothing else
export SOCKSHIM_LOG_START=always

PY=$(python3 -c 'import sys; print(sys.executable)')
PROBE=$BUILD/tests/probe
PORT=9560
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done' EXIT

pol=$(policy pin.ini <<EOF
[pin]
on = connect
addr = 127.0.0.1
port = $PORT
source = 127.0.0.2
source_port = 20000-39999
EOF
)

# run NAME NCONN MODE [PROGRAM...]: rob_fork under the shim, a bare server
# expecting NCONN connections; sets $out, $log, $srv
run() {
	name=$1 nconn=$2; shift 2
	log=$T/$name.log
	"$BUILD/tests/rob_server" 127.0.0.1 $PORT "$nconn" 10 > "$T/$name.srv" &
	spid=$!; pids="$pids $spid"
	wait_port $PORT || { not_ok "$name: server up"; return; }
	out=$(timeout 20 env SOCKSHIM_LOG=file:$log SOCKSHIM_POLICY="$pol" LD_PRELOAD="$SHIM" \
		"$BUILD/tests/rob_fork" "$@" 2>&1)
	rc=$?
	wait $spid
	srv=$(cat "$T/$name.srv")
	expect_eq "$name: exit 0 (no crash, no hang)" "$rc" "0"
	expect_match "$name: child exited 0" "$out" '^child-status=0$'
	expect_match "$name: parent's connect pinned (getsockname)" "$out" '^parent pid=[0-9]+ local=127\.0\.0\.2:[0-9]+$'
	expect_eq "$name: server saw $nconn connections, all from 127.0.0.2" \
		"$(printf '%s\n' "$srv" | grep -c '^peer 127\.0\.0\.2:')/$(printf '%s\n' "$srv" | grep -c '^peer ')" "$nconn/$nconn"
	ppid_=$(printf '%s\n' "$out" | sed -n 's/^parent pid=\([0-9]*\) .*/\1/p')
	cpid=$(printf '%s\n' "$out" | sed -n 's/^child pid=\([0-9]*\).*/\1/p')
	expect_eq "$name: one start line for the parent (pid $ppid_)" \
		"$(grep -c "sockshim\\[$ppid_\\] info start .*program=rob_fork " "$log")" "1"
}

for mode in fork _Fork; do
	run "$mode" 3 "$mode" $PORT
	expect_match "$mode: child's connect pinned (getsockname)" "$out" '^child pid=[0-9]+ local=127\.0\.0\.2:[0-9]+$'
	expect_match "$mode: parent's second connect pinned" "$out" '^parent-again pid=[0-9]+ local=127\.0\.0\.2:[0-9]+$'
	expect_eq "$mode: only one start line in all (the child re-emits nothing)" "$(grep -c ' info start ' "$log")" "1"
	expect_eq "$mode: the child's connect is logged with the child's pid ($cpid)" \
		"$(grep -c "sockshim\\[$cpid\\] info connect .* rule=pin actions=source=127\\.0\\.0\\.2:[0-9]* rc=0\$" "$log")" "1"
	expect_eq "$mode: the parent's two connects are logged with its pid" \
		"$(grep -c "sockshim\\[$ppid_\\] info connect .* rule=pin " "$log")" "2"
	cport=$(printf '%s\n' "$out" | sed -n 's/^child pid=[0-9]* local=.*:\([0-9]*\)$/\1/p')
	aport=$(printf '%s\n' "$out" | sed -n 's/^parent-again pid=[0-9]* local=.*:\([0-9]*\)$/\1/p')
	# Without a reseed both continue the same cursor: the same port, every time.
	# With one, a collision in a 20000-port window has odds 1 in 20000.
	if [ -n "$cport" ] && [ "$cport" != "$aport" ]; then
		ok "$mode: child's rotation reseeded (child port $cport, parent's next $aport)"
	else
		not_ok "$mode: child's rotation reseeded (child port '$cport', parent's next '$aport')"
	fi
done

run vfork 2 vfork $PORT "$PROBE" tcp4 "connect=127.0.0.1:$PORT" name
expect_match "vfork: exec'd probe's connect succeeded" "$out" "^connect=127\\.0\\.0\\.1:$PORT rc=0 errno=0\$"
expect_match "vfork: exec'd probe's connect pinned (getsockname)" "$out" '^name rc=0 errno=0 local=127\.0\.0\.2:[0-9]+$'
expect_eq "vfork: one start line for the probe with the child's pid ($cpid)" \
	"$(grep -c "sockshim\\[$cpid\\] info start .*program=probe " "$log")" "1"
expect_eq "vfork: the probe's connect logged with the child's pid" \
	"$(grep -c "sockshim\\[$cpid\\] info connect .* rule=pin actions=source=127\\.0\\.0\\.2:[0-9]* rc=0\$" "$log")" "1"
expect_eq "vfork: two start lines in all" "$(grep -c ' info start ' "$log")" "2"

pycode="import os, socket
s = socket.create_connection(('127.0.0.1', $PORT), timeout=5)
print('python pid=%d local=%s:%d' % ((os.getpid(),) + s.getsockname()))"
run spawn 2 spawn $PORT /bin/sh -c "\"$PY\" -c \"$pycode\"; exit \$?"
expect_match "spawn: python's connect pinned (getsockname)" "$out" '^python pid=[0-9]+ local=127\.0\.0\.2:[0-9]+$'
pypid=$(printf '%s\n' "$out" | sed -n 's/^python pid=\([0-9]*\) .*/\1/p')
expect_eq "spawn: sh logged one start line with the child's pid ($cpid)" \
	"$(grep -c "sockshim\\[$cpid\\] info start .*program=sh " "$log")" "1"
expect_eq "spawn: python logged one start line with its pid ($pypid)" \
	"$(grep -c "sockshim\\[$pypid\\] info start .*program=python" "$log")" "1"
# (a Python socket with a timeout is non-blocking: EINPROGRESS is its success)
expect_eq "spawn: python's connect logged with its pid" \
	"$(grep -c "sockshim\\[$pypid\\] info connect .* rule=pin actions=source=127\\.0\\.0\\.2:[0-9]* rc=\\(0\\|-1 errno=EINPROGRESS\\)\$" "$log")" "1"
expect_eq "spawn: three start lines in all (rob_fork, sh, python)" "$(grep -c ' info start ' "$log")" "3"

# The log fd does not leak into an exec'd program (env -u drops the preload).
fds=$(timeout 10 env SOCKSHIM_LOG=file:$T/exec.log SOCKSHIM_POLICY="$pol" LD_PRELOAD="$SHIM" \
	/bin/sh -c 'exec env -u LD_PRELOAD ls -l /proc/self/fd/' 2>&1)
expect_eq "exec: sh logged its start line" "$(grep -c ' info start .*program=sh ' "$T/exec.log")" "1"
expect_eq "exec: the exec'd program did not inherit the log fd" "$(printf '%s\n' "$fds" | grep -c 'exec\.log')" "0"

finish

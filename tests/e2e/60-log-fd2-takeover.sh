# The log on stderr must never write into an fd 2 the application has since
# taken over (PITFALLS 32). rob_log (under the shim, log = stderr, a rule
# that logs every connect) takes fd 2 over, makes 5 connects and writes its
# own line "app-own-line" there:
#   close2    close(2) + open(FILE): FILE holds only the app's line
#   dup2file  dup2(FILE, 2): the same
#   dup2tcp   dup2(TCP socket, 2): the peer receives only the app's line
#   dup2unix  dup2(AF_UNIX socket, 2): the same
#   born-socket  fd 2 is a socket from the start (inetd style): the peer
#             receives nothing of ours, not even the start line
# And the shim did run: its start line is in the original stderr file.
. "$TOP/tests/lib.sh"
# its checks that the shim ran read the start line of processes that log nothing else
export SOCKSHIM_LOG_START=always

PORT=9600
H=$BUILD/tests/rob_log
pol=$(policy pin.ini <<EOF
[global]
log = stderr
log_level = info

[pin]
on = connect
port = $PORT
source = 127.0.0.2
EOF
)
own=$(printf 'app-own-line\n' | od -An -tx1 | tr -d ' \n')

for mode in close2 dup2file dup2tcp dup2unix; do
	rm -f "$T/$mode.app"
	out=$(timeout 10 env SOCKSHIM_POLICY="$pol" LD_PRELOAD="$SHIM" "$H" $mode $PORT "$T/$mode.app" 2> "$T/$mode.err")
	rc=$?
	expect_eq "$mode: exit 0" "$rc" "0"
	expect_match "$mode: took over fd 2" "$out" '^takeover fd=2$'
	expect_match "$mode: 5 connects" "$out" '^connects ok=5$'
	expect_match "$mode: the shim ran (start line on the original stderr)" "$(cat "$T/$mode.err")" ' info start .*program=rob_log '
	case $mode in
	dup2tcp | dup2unix)
		expect_match "$mode: the socket's peer received only the app's own line" "$out" "^peer-received=$own\$" ;;
	*)
		expect_eq "$mode: the app's file holds only the app's own line" "$(cat "$T/$mode.app")" "app-own-line" ;;
	esac
	# dup2tcp's own connect (making the socket it takes fd 2 over with) comes first
	before=0; [ $mode = dup2tcp ] && before=1
	expect_eq "$mode: the connects after the takeover are not on the old stderr either" \
		"$(grep -c ' connect fd=' "$T/$mode.err")" "$before"
done

# fd 2 is a connected socket from exec on (inetd, socket activation): a bare
# python server accepts, the probe (under the shim) runs with fd 2 = that
# connection and connects once; the server prints every byte it received.
PY=$(python3 -c 'import sys; print(sys.executable)')
cat > "$T/born.py" <<'EOF'
import os, socket, subprocess, sys
port, shim, pol, probe = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", port + 1)); l.listen(1)
c = socket.create_connection(("127.0.0.1", port + 1)); peer, _ = l.accept()
env = {"PATH": "/usr/bin:/bin", "LD_PRELOAD": shim, "SOCKSHIM_POLICY": pol}
env.update((k, v) for k, v in os.environ.items() if k.endswith("SAN_OPTIONS"))  # sanitized builds
r = subprocess.run([probe, "tcp4", "connect=127.0.0.1:%d" % port, "name"], stderr=c.fileno(),
                   stdout=subprocess.PIPE, env=env, timeout=10)
c.close(); peer.settimeout(2); got = b""
while True:
    try:
        b = peer.recv(4096)
    except socket.timeout:
        break
    if not b:
        break
    got += b
print("rc=%d" % r.returncode)
print(r.stdout.decode().strip())
print("peer-received=%r" % got)
EOF
"$BUILD/tests/rob_server" 127.0.0.1 $PORT 1 10 > "$T/born.srv" &
spid=$!
trap 'kill $spid 2>/dev/null' EXIT
wait_port $PORT
out=$(timeout 20 "$PY" "$T/born.py" $PORT "$SHIM" "$pol" "$BUILD/tests/probe" 2>&1)
wait $spid
expect_match "born-socket: probe exit 0" "$out" '^rc=0$'
expect_match "born-socket: probe's connect pinned (getsockname)" "$out" '^name rc=0 errno=0 local=127\.0\.0\.2:'
expect_match "born-socket: the server saw 127.0.0.2" "$(cat "$T/born.srv")" '^peer 127\.0\.0\.2:'
expect_match "born-socket: fd 2's peer received nothing" "$out" "^peer-received=b''\$"

finish

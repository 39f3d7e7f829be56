# Socket calls from signal handlers (PITFALLS 30): SIGALRM every 200 us
# (setitimer) and SIGUSR1 sent to the workers every 200 us, both handlers doing
# socket/connect/getsockname/close on a loopback listener, while 4 threads
# connect in a loop, for 2 seconds, under a rule that pins the source:
#   pool     source = 127.0.0.2
#   window   source = 127.0.0.2, source_port = 43000-43999
# and the same twice more at twice the rate with twice the threads (SIGALRM
# and SIGUSR1 every 100 us, 8 connecting threads):
#   storm-pool, storm-window
# No deadlock (timeout 30), no crash, exit 0, no failed connect, every socket
# (handler's or worker's) reports 127.0.0.2 from getsockname -- the handlers'
# own sockets counted apart too -- and the server sees only 127.0.0.2, the
# handlers' errno is intact, no fd leaked, and the decision log (written from
# handlers too) has only whole lines.
. "$TOP/tests/lib.sh"

PORT=9540

# run NAME [WORKERS INTERVAL_US]: rob_signal for 2 s under $T/NAME.ini
run() {
	name=$1
	log=$T/$name.log
	start=$(date +%s)
	out=$(timeout 30 env SOCKSHIM_LOG=file:$log SOCKSHIM_POLICY="$T/$name.ini" LD_PRELOAD="$SHIM" \
		"$BUILD/tests/rob_signal" $PORT 2 ${2:-} ${3:-} 2>&1)
	rc=$?
	echo "# $name: $(($(date +%s) - start))s; $(printf '%s\n' "$out" | grep -e '^handler ok' -e '^worker ok' | paste -sd' ')"
	expect_eq "$name: exit 0 within 30 s (no deadlock, no crash)" "$rc" "0"
	expect_match "$name: handlers connected, none failed" "$out" '^handler ok=[1-9][0-9]* fail=0$'
	expect_match "$name: workers connected, none failed" "$out" '^worker ok=[1-9][0-9]* fail=0$'
	expect_match "$name: every socket's getsockname shows 127.0.0.2" "$out" '^local 127\.0\.0\.2=[0-9]+$'
	expect_eq "$name: every handler's socket shows 127.0.0.2, all of them counted" \
		"$(printf '%s\n' "$out" | sed -n 's/^handler-local //p')" \
		"127.0.0.2=$(printf '%s\n' "$out" | sed -n 's/^handler ok=\([0-9]*\) .*/\1/p')"
	expect_match "$name: server saw only 127.0.0.2" "$out" '^server-peer 127\.0\.0\.2=[0-9]+$'
	expect_match "$name: errno intact in the handlers" "$out" '^errno-clobbered=0$'
	expect_match "$name: no fd leaked" "$out" '^fds before=([0-9]+) after=\1$'
	ok_total=$(printf '%s\n' "$out" | sed -n 's/^\(handler\|worker\) ok=\([0-9]*\).*/\2/p' | paste -sd+ | bc)
	lines=$(grep -c " info connect fd=[0-9]* tcp 127\.0\.0\.1:$PORT rule=$name actions=\(busy-ports=[0-9]*,\)\?\(taken=[^,]*,\)*\(retries=[0-9]*,\)\?source=127\.0\.0\.2[:0-9]* rc=\(0\|-1 errno=EINPROGRESS\)\$" "$log")
	expect_eq "$name: one whole log line per connect" "$lines" "$ok_total"
	expect_eq "$name: one start line, a summary line, nothing else in the log" \
		"$(grep -v ' info connect ' "$log" | grep -vc " info summary rule=$name line=1 matched=[0-9]* applied=[0-9]* failed=0\$")/$(grep -c ' info start .*program=rob_signal ' "$log")" "1/1"
}

policy pool.ini > /dev/null <<EOF
[pool]
on = connect
port = $PORT
source = 127.0.0.2
EOF
run pool

policy window.ini > /dev/null <<EOF
[window]
on = connect
port = $PORT
source = 127.0.0.2
source_port = 43000-43999
EOF
run window
expect_eq "window: every logged source port inside 43000-43999" \
	"$(grep -c 'actions=\(busy-ports=[0-9]*,\)\?\(taken=[^,]*,\)*\(retries=[0-9]*,\)\?source=127\.0\.0\.2:43[0-9][0-9][0-9] ' "$log")" "$ok_total"

# Twice the signal rate, twice the connecting threads.
policy storm-pool.ini > /dev/null <<EOF
[storm-pool]
on = connect
port = $PORT
source = 127.0.0.2
EOF
run storm-pool 8 100

policy storm-window.ini > /dev/null <<EOF
[storm-window]
on = connect
port = $PORT
source = 127.0.0.2
source_port = 43000-43999
EOF
run storm-window 8 100
expect_eq "storm-window: every logged source port inside 43000-43999" \
	"$(grep -c 'actions=\(busy-ports=[0-9]*,\)\?\(taken=[^,]*,\)*\(retries=[0-9]*,\)\?source=127\.0\.0\.2:43[0-9][0-9][0-9] ' "$log")" "$ok_total"

finish

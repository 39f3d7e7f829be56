# 16 threads x 500 blocking connects each (8000 per run) to a listener in the
# same process, under rules that pin the source (PITFALLS 29: no lock held
# across connect, rotation cursors are atomics, fdtab is lock-free):
#   window   source = 127.0.0.2, source_port = 41000-41999 (sequential)
#   narrow   the same with a 32-port window and rotate = random: 16 threads
#            fight over 32 ports, so the collide-and-retry path runs a lot
#   pool     source = 127.0.0.2, 127.0.0.3 (port left to the kernel)
#   kernel   rotate = kernel (IP_LOCAL_PORT_RANGE, or the fallback)
# Kernel truth: every connect succeeds, getsockname in the client and the
# peer address accept() returns show only the pinned addresses and only ports
# inside the window; process truth: exit 0 within 60 s, no fd leaked; the log
# has one whole line per connect (no torn or interleaved lines).
. "$TOP/tests/lib.sh"

PORT=9520
THREADS=16
N=500
TOTAL=$((THREADS * N))

# run NAME WINDOW: run the program under $T/NAME.ini; sets $out and $log
run() {
	name=$1 win=${2:-}
	log=$T/$name.log
	start=$(date +%s)
	out=$(timeout 60 env SOCKSHIM_LOG=file:$log SOCKSHIM_POLICY="$T/$name.ini" LD_PRELOAD="$SHIM" \
		"$BUILD/tests/rob_threads" $PORT $THREADS $N $win 2>&1)
	rc=$?
	secs=$(($(date +%s) - start))
	echo "# $name: ${secs}s"
	expect_eq "$name: exit 0 within 60 s (no crash, no hang)" "$rc" "0"
	expect_match "$name: all $TOTAL connects succeeded" "$out" "^connect ok=$TOTAL fail=0\$"
	expect_match "$name: every connection carried the server's byte" "$out" '^no-byte-from-server=0$'
	expect_eq "$name: server accepted every connection" "$(printf '%s\n' "$out" | sed -n 's/^accepted=//p')" "$TOTAL"
	expect_match "$name: no fd leaked" "$out" '^fds before=([0-9]+) after=\1$'
	lines=$(grep -c " sockshim\[[0-9]*\] info connect fd=[0-9]* tcp 127\.0\.0\.1:$PORT rule=$name actions=[^ ]* rc=0\$" "$log")
	expect_eq "$name: one whole log line per connect" "$lines" "$TOTAL"
	expect_eq "$name: one start line, one summary line, no other lines (torn or interleaved)" \
		"$(grep -vc -e ' info connect ' -e ' info summary rule=[a-z]* line=1 matched=[0-9]* applied=[0-9]* failed=0$' "$log")/$(grep -c ' info start .*program=rob_threads ' "$log")" "1/1"
}

policy window.ini > /dev/null <<EOF
[window]
on = connect
port = $PORT
source = 127.0.0.2
source_port = 41000-41999
EOF
run window 41000-41999
expect_match "window: client sees only 127.0.0.2" "$out" '^client-local 127\.0\.0\.2=8000$'
expect_match "window: server sees only 127.0.0.2" "$out" '^server-peer 127\.0\.0\.2=8000$'
expect_match "window: every port inside 41000-41999" "$out" '^outside-window client=0 server=0$'

policy narrow.ini > /dev/null <<EOF
[narrow]
on = connect
port = $PORT
source = 127.0.0.2
source_port = 41000-41031
rotate = random
EOF
run narrow 41000-41031
expect_match "narrow: client sees only 127.0.0.2" "$out" '^client-local 127\.0\.0\.2=8000$'
expect_match "narrow: server sees only 127.0.0.2" "$out" '^server-peer 127\.0\.0\.2=8000$'
expect_match "narrow: every port inside 41000-41031" "$out" '^outside-window client=0 server=0$'

policy pool.ini > /dev/null <<EOF
[pool]
on = connect
port = $PORT
source = 127.0.0.2, 127.0.0.3
EOF
run pool
expect_match "pool: server sees only 127.0.0.2 and 127.0.0.3, both used" "$out" \
	'^server-peer 127\.0\.0\.[23]=[0-9]+ 127\.0\.0\.[23]=[0-9]+$'
expect_match "pool: client sees the same two" "$out" '^client-local 127\.0\.0\.[23]=[0-9]+ 127\.0\.0\.[23]=[0-9]+$'
expect_eq "pool: every connection came from the pool" \
	"$(printf '%s\n' "$out" | sed -n 's/^server-peer //p' | tr ' ' '\n' | sed 's/.*=//' | paste -sd+ | bc)" "$TOTAL"

policy kernel.ini > /dev/null <<EOF
[kernel]
on = connect
port = $PORT
source = 127.0.0.2
source_port = 42000-42999
rotate = kernel
EOF
run kernel 42000-42999
expect_match "kernel: server sees only 127.0.0.2" "$out" '^server-peer 127\.0\.0\.2=8000$'
expect_match "kernel: every port inside 42000-42999" "$out" '^outside-window client=0 server=0$'

finish

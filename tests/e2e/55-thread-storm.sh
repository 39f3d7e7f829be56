# A connect storm: 32 threads x 2000 blocking connects each (64,000 per run)
# to a listener in the same process (rob_threads), scaled up from 52's
# 16 x 500. Every connection ends with an RST (SO_LINGER 0) on both sides, so
# no TIME_WAIT piles up and 64k connects to one ip:port fit in the port range.
#   bare     no shim: the reference (and proof that the checks below can
#            fail: bare connects come from 127.0.0.1)
#   pin      source = 127.0.0.2, port left to the kernel (NO_PORT bind)
#   window   source = 127.0.0.2, 127.0.0.3 with source_port = 41000-48999:
#            16,000 source tuples reused four times over
# Kernel truth: the same connect ok/fail counts as bare (all 64,000 succeed),
# getsockname after every connect and the peer accept() reports show only the
# pinned addresses (and ports inside the window), every connection carried
# the server's byte; process truth: exit 0 under timeout (no deadlock), the
# count of /proc/self/fd entries the same before and after (no fd leaked by
# the shim); the log has one whole line per connect.
. "$TOP/tests/lib.sh"

PORT=9550
THREADS=32
N=2000
TOTAL=$((THREADS * N))

# run NAME [WINDOW]: rob_threads, under $T/NAME.ini unless NAME is bare
run() {
	name=$1 win=${2:-}
	log=$T/$name.log
	start=$(date +%s)
	if [ "$name" = bare ]; then
		out=$(timeout 45 "$BUILD/tests/rob_threads" $PORT $THREADS $N $win 2>&1)
	else
		out=$(timeout 45 env SOCKSHIM_LOG=file:$log SOCKSHIM_POLICY="$T/$name.ini" LD_PRELOAD="$SHIM" \
			"$BUILD/tests/rob_threads" $PORT $THREADS $N $win 2>&1)
	fi
	rc=$?
	echo "# $name: $(($(date +%s) - start))s"
	expect_eq "$name: exit 0 within 45 s (no crash, no deadlock)" "$rc" "0"
	expect_match "$name: all $TOTAL connects succeeded" "$out" "^connect ok=$TOTAL fail=0\$"
	expect_match "$name: every connection carried the server's byte" "$out" '^no-byte-from-server=0$'
	expect_eq "$name: server accepted every connection" "$(printf '%s\n' "$out" | sed -n 's/^accepted=//p')" "$TOTAL"
	expect_match "$name: /proc/self/fd count the same before and after" "$out" '^fds before=([0-9]+) after=\1$'
}

# shim_log NAME: the log has one whole line per connect and nothing torn (a
# window's line may carry busy-ports=, taken=, retries= before the source)
shim_log() {
	expect_eq "$1: one whole log line per connect" \
		"$(grep -c " sockshim\[[0-9]*\] info connect fd=[0-9]* tcp 127\.0\.0\.1:$PORT rule=$1 actions=[^ ]*source=127\.0\.0\.[23][:0-9]* rc=0\$" "$T/$1.log")" "$TOTAL"
	expect_eq "$1: one start line, one summary line, nothing else" \
		"$(grep -vc -e ' info connect ' -e " info summary rule=$1 line=1 matched=$TOTAL applied=$TOTAL failed=0\$" "$T/$1.log")/$(grep -c ' info start .*program=rob_threads ' "$T/$1.log")" "1/1"
}

run bare
bare_counts=$(printf '%s\n' "$out" | grep -e '^connect ' -e '^errno ')
expect_match "bare: connects come from 127.0.0.1 (the pinned source is not the default)" "$out" \
	"^client-local 127\\.0\\.0\\.1=$TOTAL\$"

policy pin.ini > /dev/null <<EOF
[pin]
on = connect
addr = 127.0.0.1
port = $PORT
source = 127.0.0.2
EOF
run pin
expect_eq "pin: connect ok/fail counts exactly as bare" "$(printf '%s\n' "$out" | grep -e '^connect ' -e '^errno ')" "$bare_counts"
expect_match "pin: getsockname after every connect shows 127.0.0.2" "$out" "^client-local 127\\.0\\.0\\.2=$TOTAL\$"
expect_match "pin: server saw only 127.0.0.2" "$out" "^server-peer 127\\.0\\.0\\.2=$TOTAL\$"
shim_log pin

policy window.ini > /dev/null <<EOF
[window]
on = connect
addr = 127.0.0.1
port = $PORT
source = 127.0.0.2, 127.0.0.3
source_port = 41000-48999
EOF
run window 41000-48999
expect_eq "window: connect ok/fail counts exactly as bare" "$(printf '%s\n' "$out" | grep -e '^connect ' -e '^errno ')" "$bare_counts"
expect_match "window: getsockname shows only 127.0.0.2 and 127.0.0.3" "$out" \
	'^client-local 127\.0\.0\.[23]=[0-9]+ 127\.0\.0\.[23]=[0-9]+$'
expect_match "window: server saw only 127.0.0.2 and 127.0.0.3" "$out" \
	'^server-peer 127\.0\.0\.[23]=[0-9]+ 127\.0\.0\.[23]=[0-9]+$'
expect_eq "window: the server's peers add up to every connection" \
	"$(printf '%s\n' "$out" | sed -n 's/^server-peer //p' | tr ' ' '\n' | sed 's/.*=//' | paste -sd+ | bc)" "$TOTAL"
expect_match "window: every port inside 41000-48999 (client and server)" "$out" '^outside-window client=0 server=0$'
shim_log window

finish

#!/bin/bash
# 82: a Go load generator through a source pool, under sockshim --seccomp.
#
# The programs that need a source pool most (more connections to one
# destination than one address has ports) are load generators, and many are
# Go binaries, which only the seccomp front end reaches. goload.go, built
# here as a static binary (CGO_ENABLED=0, the standard library only, the
# Debian golang-go; GOCACHE in this run's temporary directory, GOPROXY=off,
# GOTOOLCHAIN=local), runs BENCH_SECCOMP_GO_G goroutines (default 500)
# making BENCH_SECCOMP_GO_N connections in total (default 50,000) to a
# loopback server, peercount.c, which counts the peer address accept4
# reports for each. Each round (BENCH_SECCOMP_GO_REPS, default 3) runs:
#   bare     no supervisor, no pool: every connection from 127.0.0.1
#   floor    floorsup (tests/bench/seccomp/floorsup.c): the filter
#            sockshim --seccomp installs for the pool's policy, every call
#            answered with CONTINUE, by 1 thread, then by 2 (-t 2)
#   pool     sockshim --seccomp with `source = 127.0.0.2, ..., 127.0.0.9`
# a fresh server for each run. The medians are compared: the supervised
# rate to bare and to the floor (the faster of the two floors, so the
# stricter ratio). Target: >= 0.75 of the floor, and every connection
# under the supervisor from the pool, none failed.
#
# System calls the supervisor makes per decided connect: strace -f -c of
# the supervisor (its threads included) over SN and 2 SN connections
# (BENCH_SECCOMP_GO_SN, default 5,000), the slope per connection, divided
# by the connects the client made (each one decided: the pool's rule).
#
# No golang-go, or no supervisor or floor: a note, one info row, exit 0.
. "$(dirname "$0")/lib.sh"

PORT=9282
N=${BENCH_SECCOMP_GO_N:-50000}
G=${BENCH_SECCOMP_GO_G:-500}
REPS=${BENCH_SECCOMP_GO_REPS:-3}
FLOOR=${BENCH_FLOORSUP:-$BUILD/bench/floorsup}
VARIANTS="bare floor1 floor2 pool"
SN=${BENCH_SECCOMP_GO_SN:-5000} # strace: N and 2N connections

# run OUT VARIANT: one goload run with its own server; OUT gets the
# client's line, then the server's
run() {
	local out=$1 pre=()
	case $2 in
	floor1) pre=("$FLOOR" "$T/pool.ini" --) ;;
	floor2) pre=("$FLOOR" -t 2 "$T/pool.ini" --) ;;
	pool) pre=(env SOCKSHIM_POLICY="$T/pool.ini" "$BUILD/sockshim" --seccomp --) ;;
	esac
	start_server "$out.srv" "$BIN/peercount" 127.0.0.1 $PORT 2 127.0.0.2 127.0.0.9 300 || return 1
	timeout -k 5 150 "${pre[@]}" "$T/goload" 127.0.0.1:$PORT "$N" "$G" 120 >"$out" 2>&1
	stop_server
	grep '^accepted=' "$out.srv" >>"$out"
}

# counted OUT N: a supervised run of N connections with strace -f -c
# attached to the supervisor (the launcher's child) before the client starts
# (it waits on a fifo)
counted() {
	local out=$1 n=$2 launcher sup i=0 st
	start_server "$out.srv" "$BIN/peercount" 127.0.0.1 $PORT 2 127.0.0.2 127.0.0.9 300 || return 1
	rm -f "$T/go"
	mkfifo "$T/go"
	SOCKSHIM_POLICY="$T/pool.ini" "$BUILD/sockshim" --seccomp -- sh -c 'read _ <"$1"; shift; exec "$@"' sh "$T/go" \
		"$T/goload" 127.0.0.1:$PORT "$n" "$G" 120 >"$out.line" 2>&1 &
	launcher=$!
	sleep 0.2
	sup=$(pgrep -o -P "$launcher" || echo "$launcher")
	strace -f -c -o "$out" -p "$sup" 2>/dev/null &
	st=$!
	while ! grep -q '^TracerPid:[[:space:]]*[1-9]' "/proc/$sup/status" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 100 ] && break
		sleep 0.05
	done
	echo go >"$T/go"
	wait "$launcher"
	wait "$st"
	stop_server
}

measure() {
	local i v line
	for i in $(seq "$REPS"); do
		line="run $i:"
		for v in $VARIANTS; do
			run "$T/$v.$i" $v
			line="$line $v $(kv rate "$(head -1 "$T/$v.$i")")/s"
		done
		note "$line"
	done
	counted "$T/st.$SN" $SN
	counted "$T/st.$((2 * SN))" $((2 * SN))
}

dispatch "$@"

if ! SOCKSHIM_LOG=none "$BUILD/sockshim" --seccomp -- true >/dev/null 2>&1; then
	note "skipped: no seccomp supervisor (sockshim --seccomp)"
	row "seccomp, Go client (not measured: no sockshim --seccomp)" - - - - info
	
# breakdown FILE_N FILE_2N N: "name count" per connection (slope), sorted
breakdown() {
	join -a 1 -a 2 -e 0 -o 0,1.2,2.2 \
		<(awk '$NF != "total" && $4 ~ /^[0-9]+$/ { print $NF, $4 }' "$1" 2>/dev/null | LC_ALL=C sort) \
		<(awk '$NF != "total" && $4 ~ /^[0-9]+$/ { print $NF, $4 }' "$2" 2>/dev/null | LC_ALL=C sort) |
		awk -v n="$3" '{ d = ($3 - $2) / n; if (d >= 0.005 || d <= -0.005) printf "%s %.2f\n", $1, d }' | sort -k2,2gr
}
bs=$(breakdown "$T/st.$SN" "$T/st.$((2 * SN))" $SN)
d1=$(kv done "$(head -1 "$T/st.$SN.line" 2>/dev/null)")
d2=$(kv done "$(head -1 "$T/st.$((2 * SN)).line" 2>/dev/null)")
if [ -z "$bs" ] || [ "${d1:-0}" != $SN ] || [ "${d2:-0}" != $((2 * SN)) ]; then
	row "Go client: supervisor's syscalls per decided connect (strace failed, or connections failed: ${d1:-?}/$SN, ${d2:-?}/$((2 * SN)))" - - - - info
else
	ts=$(awk '{ s += $2 } END { printf "%.1f", s }' <<<"$bs")
	row "Go client: syscalls the supervisor makes per decided connect (strace -f -c, slope $SN→$((2 * SN)))" - "$ts" - - info
	row "Go client: the same, call by call" - "$(awk '{ printf "%s%s %g", sep, $1, $2; sep = ", " }' <<<"$bs")" - - info
fi
exit 0
fi
if [ ! -x "$FLOOR" ]; then
	row "seccomp, Go client: no $FLOOR (make bench builds it)" - - - - FAIL
	
# breakdown FILE_N FILE_2N N: "name count" per connection (slope), sorted
breakdown() {
	join -a 1 -a 2 -e 0 -o 0,1.2,2.2 \
		<(awk '$NF != "total" && $4 ~ /^[0-9]+$/ { print $NF, $4 }' "$1" 2>/dev/null | LC_ALL=C sort) \
		<(awk '$NF != "total" && $4 ~ /^[0-9]+$/ { print $NF, $4 }' "$2" 2>/dev/null | LC_ALL=C sort) |
		awk -v n="$3" '{ d = ($3 - $2) / n; if (d >= 0.005 || d <= -0.005) printf "%s %.2f\n", $1, d }' | sort -k2,2gr
}
bs=$(breakdown "$T/st.$SN" "$T/st.$((2 * SN))" $SN)
d1=$(kv done "$(head -1 "$T/st.$SN.line" 2>/dev/null)")
d2=$(kv done "$(head -1 "$T/st.$((2 * SN)).line" 2>/dev/null)")
if [ -z "$bs" ] || [ "${d1:-0}" != $SN ] || [ "${d2:-0}" != $((2 * SN)) ]; then
	row "Go client: supervisor's syscalls per decided connect (strace failed, or connections failed: ${d1:-?}/$SN, ${d2:-?}/$((2 * SN)))" - - - - info
else
	ts=$(awk '{ s += $2 } END { printf "%.1f", s }' <<<"$bs")
	row "Go client: syscalls the supervisor makes per decided connect (strace -f -c, slope $SN→$((2 * SN)))" - "$ts" - - info
	row "Go client: the same, call by call" - "$(awk '{ printf "%s%s %g", sep, $1, $2; sep = ", " }' <<<"$bs")" - - info
fi
exit 0
fi
if ! command -v go >/dev/null; then
	note "skipped: no go (golang-go)"
	row "seccomp, Go client (not measured: no golang-go)" - - - - info
	
# breakdown FILE_N FILE_2N N: "name count" per connection (slope), sorted
breakdown() {
	join -a 1 -a 2 -e 0 -o 0,1.2,2.2 \
		<(awk '$NF != "total" && $4 ~ /^[0-9]+$/ { print $NF, $4 }' "$1" 2>/dev/null | LC_ALL=C sort) \
		<(awk '$NF != "total" && $4 ~ /^[0-9]+$/ { print $NF, $4 }' "$2" 2>/dev/null | LC_ALL=C sort) |
		awk -v n="$3" '{ d = ($3 - $2) / n; if (d >= 0.005 || d <= -0.005) printf "%s %.2f\n", $1, d }' | sort -k2,2gr
}
bs=$(breakdown "$T/st.$SN" "$T/st.$((2 * SN))" $SN)
d1=$(kv done "$(head -1 "$T/st.$SN.line" 2>/dev/null)")
d2=$(kv done "$(head -1 "$T/st.$((2 * SN)).line" 2>/dev/null)")
if [ -z "$bs" ] || [ "${d1:-0}" != $SN ] || [ "${d2:-0}" != $((2 * SN)) ]; then
	row "Go client: supervisor's syscalls per decided connect (strace failed, or connections failed: ${d1:-?}/$SN, ${d2:-?}/$((2 * SN)))" - - - - info
else
	ts=$(awk '{ s += $2 } END { printf "%.1f", s }' <<<"$bs")
	row "Go client: syscalls the supervisor makes per decided connect (strace -f -c, slope $SN→$((2 * SN)))" - "$ts" - - info
	row "Go client: the same, call by call" - "$(awk '{ printf "%s%s %g", sep, $1, $2; sep = ", " }' <<<"$bs")" - - info
fi
exit 0
fi
if ! (cd "$T" && HOME=$T GOCACHE=$T/gocache GOPATH=$T/gopath GOPROXY=off GOFLAGS= GOTOOLCHAIN=local CGO_ENABLED=0 \
	timeout 120 go build -o "$T/goload" "$TOP/tests/bench/goload.go") 2>"$T/go.err"; then
	note "cannot build goload.go: $(head -3 "$T/go.err")"
	row "seccomp, Go client: cannot build goload.go" - - - - FAIL
	
# breakdown FILE_N FILE_2N N: "name count" per connection (slope), sorted
breakdown() {
	join -a 1 -a 2 -e 0 -o 0,1.2,2.2 \
		<(awk '$NF != "total" && $4 ~ /^[0-9]+$/ { print $NF, $4 }' "$1" 2>/dev/null | LC_ALL=C sort) \
		<(awk '$NF != "total" && $4 ~ /^[0-9]+$/ { print $NF, $4 }' "$2" 2>/dev/null | LC_ALL=C sort) |
		awk -v n="$3" '{ d = ($3 - $2) / n; if (d >= 0.005 || d <= -0.005) printf "%s %.2f\n", $1, d }' | sort -k2,2gr
}
bs=$(breakdown "$T/st.$SN" "$T/st.$((2 * SN))" $SN)
d1=$(kv done "$(head -1 "$T/st.$SN.line" 2>/dev/null)")
d2=$(kv done "$(head -1 "$T/st.$((2 * SN)).line" 2>/dev/null)")
if [ -z "$bs" ] || [ "${d1:-0}" != $SN ] || [ "${d2:-0}" != $((2 * SN)) ]; then
	row "Go client: supervisor's syscalls per decided connect (strace failed, or connections failed: ${d1:-?}/$SN, ${d2:-?}/$((2 * SN)))" - - - - info
else
	ts=$(awk '{ s += $2 } END { printf "%.1f", s }' <<<"$bs")
	row "Go client: syscalls the supervisor makes per decided connect (strace -f -c, slope $SN→$((2 * SN)))" - "$ts" - - info
	row "Go client: the same, call by call" - "$(awk '{ printf "%s%s %g", sep, $1, $2; sep = ", " }' <<<"$bs")" - - info
fi
exit 0
fi
printf '[global]\nlog = stderr\nlog_level = warn\n\n[pool]\non = connect\naddr = 127.0.0.1\nport = %s\nsource = %s\n' \
	$PORT "127.0.0.2, 127.0.0.3, 127.0.0.4, 127.0.0.5, 127.0.0.6, 127.0.0.7, 127.0.0.8, 127.0.0.9" | policy pool.ini >/dev/null
note "$REPS x ($VARIANTS): $N connections, $G goroutines each"
in_netns measure

rates() { # VARIANT: the rates of the REPS runs, one a line ("" for a failed run)
	local i
	for i in $(seq "$REPS"); do kv rate "$(head -1 "$T/$1.$i" 2>/dev/null)"; done
}
sum() { # VARIANT KEY: KEY summed over the runs' lines (client and server)
	local i s=0 x
	for i in $(seq "$REPS"); do
		x=$(tr '\n' ' ' <"$T/$1.$i" 2>/dev/null)
		s=$((s + $(kv "$2" "$x" | grep . || echo 0)))
	done
	echo $s
}
srvlines() { # VARIANT: the server's line of each run
	local i
	for i in $(seq "$REPS"); do grep -h '^accepted=' "$T/$1.$i" 2>/dev/null; done
}
declare -A med runs
for v in $VARIANTS; do
	mapfile -t r < <(rates $v)
	if [ ${#r[@]} -ne "$REPS" ] || [[ " ${r[*]} " == *"  "* ]]; then
		row "Go client, $v: a run failed (see the log)" - - - - FAIL
		sed 's/^/  /' "$T/$v.1" 2>/dev/null | head -3
		med[$v]=
		continue
	fi
	med[$v]=$(median "${r[@]}")
	runs[$v]=$(IFS=/; echo "${r[*]}")
done
bm=${med[bare]:-}
[ -z "$bm" ] && exit 1
for v in floor1 floor2; do
	[ -n "${med[$v]}" ] || continue
	th=${v#floor}
	row "Go client, connects/s, bare → floor ($th thread$([ "$th" = 1 ] || echo s), same filter, every call CONTINUE)" \
		"$bm" "${med[$v]}" "$(ratio "${med[$v]}" "$bm")" - info
done
fm=$(printf '%s\n' "${med[floor1]}" "${med[floor2]}" | grep . | sort -g | tail -1)
total=$((REPS * N))
if [ -n "${med[pool]}" ]; then
	sm=${med[pool]}
	row "Go client, connects/s, bare (no pool) → supervised, 8-address pool (median of $REPS)" "$bm" "$sm" "$(ratio "$sm" "$bm")" - info
	if [ -n "$fm" ]; then
		r=$(ratio "$sm" "$fm")
		awk -v r="$r" 'BEGIN { exit !(r != "-" && r + 0 >= 0.75) }' && verdict=pass || verdict=FAIL
		row "Go client, connects/s, floor (the faster) → supervised, 8-address pool" "$fm" "$sm" "$r" "≥ 0.75× floor" $verdict
	fi
fi
row "Go client, the $REPS runs, connects/s: bare, floor 1, floor 2 → supervised" \
	"${runs[bare]:-}, ${runs[floor1]:-}, ${runs[floor2]:-}" "${runs[pool]:-}" - - info
for v in $VARIANTS; do
	pool=$(sum $v pool) other=$(sum $v other) done=$(sum $v done) failed=$(sum $v failures)
	case $v in
	pool) want="$total/$total from the pool, 8 addresses each run, none failed"
		eight=$(srvlines pool | grep -c ' addrs=8 ')
		[ "$pool" -eq $total ] && [ "$other" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$eight" -eq "$REPS" ] &&
			verdict=pass || verdict=FAIL ;;
	*) want="0/$total from the pool, $total from 127.0.0.1, none failed"
		[ "$pool" -eq 0 ] && [ "$other" -eq $total ] && [ "$done" -eq $total ] && [ "$failed" -eq 0 ] && verdict=pass || verdict=FAIL ;;
	esac
	[ $v = pool ] && spread=$(srvlines $v | sed -n 's/.* addrs=\([0-9]*\) min=\([0-9]*\) max=\([0-9]*\).*/\1 addresses, \2-\3 each/p' | head -1)
	[ $v = pool ] || spread=
	row "Go client, $v: connections from the pool (accept4's peer), other, failed" - \
		"$pool/$total, $other other, $failed failed${spread:+ (run 1: $spread)}" - "$want" $verdict
done

# breakdown FILE_N FILE_2N N: "name count" per connection (slope), sorted
breakdown() {
	join -a 1 -a 2 -e 0 -o 0,1.2,2.2 \
		<(awk '$NF != "total" && $4 ~ /^[0-9]+$/ { print $NF, $4 }' "$1" 2>/dev/null | LC_ALL=C sort) \
		<(awk '$NF != "total" && $4 ~ /^[0-9]+$/ { print $NF, $4 }' "$2" 2>/dev/null | LC_ALL=C sort) |
		awk -v n="$3" '{ d = ($3 - $2) / n; if (d >= 0.005 || d <= -0.005) printf "%s %.2f\n", $1, d }' | sort -k2,2gr
}
bs=$(breakdown "$T/st.$SN" "$T/st.$((2 * SN))" $SN)
d1=$(kv done "$(head -1 "$T/st.$SN.line" 2>/dev/null)")
d2=$(kv done "$(head -1 "$T/st.$((2 * SN)).line" 2>/dev/null)")
if [ -z "$bs" ] || [ "${d1:-0}" != $SN ] || [ "${d2:-0}" != $((2 * SN)) ]; then
	row "Go client: supervisor's syscalls per decided connect (strace failed, or connections failed: ${d1:-?}/$SN, ${d2:-?}/$((2 * SN)))" - - - - info
else
	ts=$(awk '{ s += $2 } END { printf "%.1f", s }' <<<"$bs")
	row "Go client: syscalls the supervisor makes per decided connect (strace -f -c, slope $SN→$((2 * SN)))" - "$ts" - - info
	row "Go client: the same, call by call" - "$(awk '{ printf "%s%s %g", sep, $1, $2; sep = ", " }' <<<"$bs")" - - info
fi
exit 0

#!/bin/bash
# 80: what the seccomp front end costs a connect (sockshim --seccomp).
#
# A statically linked matchconn (plain: socket, connect, accept4, close,
# close, one connection at a time on loopback, see matchconn.c), which no
# preload reaches, is run bare and under the supervisor with three policies:
#   source   `source = 127.0.0.2` for its connects: the supervisor reads the
#            call, duplicates the socket, binds it and connects it itself
#   window   the same with `source_port = 40000-49999` (explicit ports, so
#            the program's options are read back first, for a retry)
#   nomatch  a connect rule that matches nothing here: the filter still sends
#            each connect to the supervisor, which decides and lets the call
#            continue in the kernel
# Runs alternate bare, source, window, nomatch (BENCH_SECCOMP_REPS of each,
# default 5, BENCH_SECCOMP_N connections each, default 3000); the medians
# are compared. No target: the figures say how much dearer a supervised
# connect is than a bare one (info rows). accept4's peer address shows where
# the connections came from.
#
# System calls the supervisor makes per connect: strace -f -c attached to
# the supervisor alone (its threads included, not the target), for N and 2N
# connections; the slope (2N run - N run) / N, per system call. The
# supervisor is the launcher's child (the target is the supervisor's).
#
# The supervisor: `sockshim --seccomp` when the launcher has it, else
# $SOCKSHIM_SUP (a driver calling ss_supervise); neither: a note, one info
# row, exit 0.
. "$(dirname "$0")/lib.sh"

PORT=9280
N=${BENCH_SECCOMP_N:-3000}
REPS=${BENCH_SECCOMP_REPS:-5}
SN=1000 # strace: N and 2N connections
VARIANTS="source window nomatch"

if [ -n "${SOCKSHIM_SUP:-}" ] && [ -x "$SOCKSHIM_SUP" ]; then
	SUP=("$SOCKSHIM_SUP")
elif [ -x "$BUILD/sockshim" ] && SOCKSHIM_LOG=none "$BUILD/sockshim" --seccomp -- true >/dev/null 2>&1; then
	SUP=("$BUILD/sockshim" --seccomp --)
else
	SUP=()
fi

# run OUT N [POLICY]: one matchconn run, supervised if POLICY
run() {
	local out=$1 n=$2 pol=${3:-} pre=()
	[ -n "$pol" ] && pre=(env SOCKSHIM_POLICY="$pol" "${SUP[@]}")
	timeout -k 5 120 "${pre[@]}" "$T/smatchconn" plain "$n" 127.0.0.1 $PORT 127.0.0.2 0 0 >"$out" 2>&1
}

# counted OUT N POLICY: a supervised run with strace attached to the
# supervisor before the target starts its connects (it waits on a fifo)
counted() {
	local out=$1 n=$2 pol=$3 launcher sup i=0 st
	rm -f "$T/go"
	mkfifo "$T/go"
	SOCKSHIM_POLICY="$pol" "${SUP[@]}" sh -c 'read _ <"$1"; shift; exec "$@"' sh "$T/go" \
		"$T/smatchconn" plain "$n" 127.0.0.1 $PORT 127.0.0.2 0 0 >"$out.line" 2>&1 &
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
	wait "$st" # strace ends with the supervisor, just before the launcher
}

# measure: every run, in one fresh namespace
measure() {
	local i v n
	for v in $VARIANTS; do
		run "$T/$v.probe" 20 "$T/$v.probe.ini"
	done
	for i in $(seq "$REPS"); do
		run "$T/bare.$i" "$N"
		for v in $VARIANTS; do
			run "$T/$v.$i" "$N" "$T/$v.ini"
		done
		note "run $i: bare $(kv rate "$(cat "$T/bare.$i")")/s$(for v in $VARIANTS; do
			printf ', %s %s/s' $v "$(kv rate "$(cat "$T/$v.$i")")"
		done)"
	done
	for v in $VARIANTS; do
		for n in $SN $((2 * SN)); do
			counted "$T/st.$v.$n" $n "$T/$v.ini"
		done
	done
}

dispatch "$@"

if [ ${#SUP[@]} -eq 0 ]; then
	note "skipped: no seccomp supervisor (sockshim --seccomp, or SOCKSHIM_SUP=path of a driver)"
	row "seccomp front end (not measured: no supervisor; sockshim --seccomp or SOCKSHIM_SUP)" - - - - info
	exit 0
fi
if ! cc -static -O2 -std=c11 -D_GNU_SOURCE -I"$TOP/tests/bench" -o "$T/smatchconn" "$TOP/tests/bench/matchconn.c" 2>"$T/cc.err"; then
	note "skipped: cc -static cannot build matchconn (libc6-dev's libc.a): $(head -1 "$T/cc.err")"
	row "seccomp front end (not measured: no static libc)" - - - - info
	exit 0
fi
note "supervisor: ${SUP[*]}"

pol() { # NAME LOG_LINES RULE...: $T/NAME
	local name=$1 log=$2
	shift 2
	printf '[global]\n%s\n\n%s\n' "$log" "$(printf '%s\n' "$@")" | policy "$name" >/dev/null
}
quiet=$'log = stderr\nlog_level = warn'
for v in $VARIANTS; do
	case $v in
	source) rule=("[pin]" "on = connect" "addr = 127.0.0.1" "port = $PORT" "source = 127.0.0.2") ;;
	window) rule=("[pin]" "on = connect" "addr = 127.0.0.1" "port = $PORT" "source = 127.0.0.2" "source_port = 40000-49999") ;;
	nomatch) rule=("[elsewhere]" "on = connect" "addr = 10.0.0.0/8" "source = 127.0.0.2") ;;
	esac
	pol "$v.ini" "$quiet" "${rule[@]}"
	pol "$v.probe.ini" $'log = file:'"$T/$v.probe.log"$'\nlog_level = debug' "${rule[@]}"
done

note "$REPS x (bare, $VARIANTS), $N connections each; strace of the supervisor at $SN and $((2 * SN))"
in_netns measure

rates() { # PREFIX: the rates of the REPS runs, space-separated ("" for a failed run)
	local i
	for i in $(seq "$REPS"); do kv rate "$(cat "$T/$1.$i" 2>/dev/null)"; done
}
mapfile -t b < <(rates bare)
if [ ${#b[@]} -ne "$REPS" ] || [[ " ${b[*]} " == *"  "* ]]; then
	row "connects/s, bare static client (a run failed, see the log)" - - - - info
	exit 1
fi
bm=$(median "${b[@]}")
total=$((REPS * N))
from() { # PREFIX: connections accepted from 127.0.0.2, summed over the runs
	local i s=0
	for i in $(seq "$REPS"); do s=$((s + $(kv inside "$(cat "$T/$1.$i" 2>/dev/null)" | grep . || echo 0))); done
	echo $s
}
fails() {
	local i s=0
	for i in $(seq "$REPS"); do s=$((s + $(kv failures "$(cat "$T/$1.$i" 2>/dev/null)" | grep . || echo 1))); done
	echo $s
}
for v in $VARIANTS; do
	case $v in
	source) what="source = 127.0.0.2" ;;
	window) what="source = 127.0.0.2, source_port = 40000-49999" ;;
	nomatch) what="a connect rule that matches nothing" ;;
	esac
	mapfile -t s < <(rates $v)
	if [ ${#s[@]} -ne "$REPS" ] || [[ " ${s[*]} " == *"  "* ]]; then
		row "connects/s, bare → supervised: $what (a run failed, see the log)" "$bm" - - - info
		sed 's/^/  /' "$T/$v.1" 2>/dev/null | head -3
		continue
	fi
	sm=$(median "${s[@]}")
	row "connects/s, bare → supervised, $what (median of $REPS)" "$bm" "$sm" "$(ratio "$sm" "$bm")" - info
	row "$v: µs per connect (1/rate), bare → supervised" "$(awk -v r="$bm" 'BEGIN { printf "%.1f", 1e6 / r }')" \
		"$(awk -v r="$sm" 'BEGIN { printf "%.1f", 1e6 / r }')" \
		"+$(awk -v a="$bm" -v b="$sm" 'BEGIN { printf "%.1f µs", 1e6 / b - 1e6 / a }')" - info
	row "$v: the $REPS runs, connects/s" "$(IFS=/; echo "${b[*]}")" "$(IFS=/; echo "${s[*]}")" - - info
	want=$total
	[ $v = nomatch ] && want=0
	[ "$(from $v)" -eq $want ] && [ "$(fails $v)" -eq 0 ] && verdict=pass || verdict=FAIL
	row "$v: connections from 127.0.0.2 (accept4's peer), failed calls" "$(from bare)/$total, $(fails bare) failed" \
		"$(from $v)/$total, $(fails $v) failed" - "$want/$total, none" $verdict
done

# breakdown FILE_N FILE_2N N: "name count" per connection (slope), sorted
breakdown() {
	join -a 1 -a 2 -e 0 -o 0,1.2,2.2 \
		<(awk '$NF != "total" && $4 ~ /^[0-9]+$/ { print $NF, $4 }' "$1" 2>/dev/null | LC_ALL=C sort) \
		<(awk '$NF != "total" && $4 ~ /^[0-9]+$/ { print $NF, $4 }' "$2" 2>/dev/null | LC_ALL=C sort) |
		awk -v n="$3" '{ d = ($3 - $2) / n; if (d >= 0.005 || d <= -0.005) printf "%s %.2f\n", $1, d }' | sort -k2,2gr
}
fmt() { awk '{ printf "%s%s %g", sep, $1, $2; sep = ", " }' <<<"$1"; }
for v in $VARIANTS; do
	bs=$(breakdown "$T/st.$v.$SN" "$T/st.$v.$((2 * SN))" $SN)
	if [ -z "$bs" ]; then
		row "$v: supervisor's syscalls per connect (strace failed)" - - - - info
		continue
	fi
	ts=$(awk '{ s += $2 } END { printf "%.1f", s }' <<<"$bs")
	row "$v: syscalls the supervisor makes per connect (strace -f -c, slope N→2N)" - "$ts" - - info
	row "$v: the same, call by call" - "$(fmt "$bs")" - - info
done

# the probes: 20 connections at log_level = debug, each decided as expected
for v in $VARIANTS; do
	case $v in
	source) pat=' info connect fd=[0-9]+ tcp 127\.0\.0\.1:'$PORT' rule=pin actions=source=127\.0\.0\.2 rc=0 via=seccomp$' ;;
	window) pat=' info connect fd=[0-9]+ tcp 127\.0\.0\.1:'$PORT' rule=pin actions=.*source=127\.0\.0\.2:4[0-9]{4} rc=0 via=seccomp$' ;;
	nomatch) pat=' debug connect fd=[0-9]+ tcp 127\.0\.0\.1:'$PORT' rule=- actions=continue .*via=seccomp' ;;
	esac
	d=$(grep -cE "$pat" "$T/$v.probe.log" 2>/dev/null)
	[ "${d:-0}" -eq 20 ] && verdict=pass || verdict=FAIL
	[ $verdict = FAIL ] && { note "$v probe log:"; head -3 "$T/$v.probe.log" 2>/dev/null | sed 's/^/  /'; }
	row "$v: supervisor decided each connect as expected (probe, log_level = debug)" - "${d:-0}/20" - "20/20" $verdict
done
exit 0

#!/bin/bash
# 80: what the seccomp front end costs a connect (sockshim --seccomp).
#
# A statically linked matchconn (plain: socket, connect, accept4, close,
# close, one connection at a time on loopback, see matchconn.c), which no
# preload reaches, is run bare and under the supervisor with three policies:
#   source   `source = 127.0.0.2` for its connects: the supervisor reads the
#            call, duplicates the socket, binds it and lets the program's
#            connect continue in the kernel
#   window   the same with `source_port = 40000-49999`: the supervisor
#            connects from a port of the window itself (a taken 4-tuple is
#            retried with the next port), without waiting for the
#            handshake, which the program's blocking connect then waits for
#   nomatch  a connect rule that matches nothing here: the filter still sends
#            each connect to the supervisor, which decides and lets the call
#            continue in the kernel
# The floor: the same loop under floorsup (tests/bench/seccomp/floorsup.c),
# which installs the filter sockshim --seccomp installs for the same policy
# and answers every notification with SECCOMP_USER_NOTIF_FLAG_CONTINUE, one
# thread looping NOTIF_RECV/NOTIF_SEND: the round trip no supervisor on this
# filter can avoid. The filter depends on the policy, so there is one floor
# per policy; a check row compares the two filters as the kernel holds them
# (PTRACE_SECCOMP_GET_FILTER of a process under each).
#
# Runs alternate bare, then per policy its floor and the supervisor
# (BENCH_SECCOMP_REPS rounds, default 7, BENCH_SECCOMP_N connections each,
# default 3000); the medians are compared, each supervised rate both to
# bare and to its floor (the median of the floor runs of every policy
# whose filter the kernel holds is the same: runs of one floor). Targets, as the supervised rate over its floor's:
# nomatch >= 0.9, source >= 0.75, window >= 0.65. accept4's peer address
# shows where the connections came from. Each round also runs the floor
# with SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (floorsup -w) on source's filter,
# an info row: the kernel hands the CPU straight between the caller and
# the supervisor, which a supervisor may ask for too.
#
# System calls the supervisor makes per decided connect: strace -f -c
# attached to the supervisor alone (its threads included, not the target),
# for N and 2N connections; the slope (2N run - N run) / N, per system call,
# divided by the connects the filter sent per connection (the floor counts
# its notifications over the same N and 2N: one connect each). The
# supervisor is the launcher's child (the target is the supervisor's); the
# floor is measured the same way (two ioctls per call, by construction).
#
# The supervisor: `sockshim --seccomp` when the launcher has it, else
# $SOCKSHIM_SUP (a driver calling ss_supervise); neither: a note, one info
# row, exit 0. No floorsup (make bench builds it): a FAIL row, the rest as
# before.
. "$(dirname "$0")/lib.sh"

PORT=9280
N=${BENCH_SECCOMP_N:-3000}
REPS=${BENCH_SECCOMP_REPS:-7}
SN=1000 # strace: N and 2N connections
VARIANTS="source window nomatch"
FLOOR=${BENCH_FLOORSUP:-$BUILD/bench/floorsup}

if [ -n "${SOCKSHIM_SUP:-}" ] && [ -x "$SOCKSHIM_SUP" ]; then
	SUP=("$SOCKSHIM_SUP")
elif [ -x "$BUILD/sockshim" ] && SOCKSHIM_LOG=none "$BUILD/sockshim" --seccomp -- true >/dev/null 2>&1; then
	SUP=("$BUILD/sockshim" --seccomp --)
else
	SUP=()
fi

# run OUT N [POLICY [floor]]: one matchconn run, supervised if POLICY (by
# the floor if asked)
run() {
	local out=$1 n=$2 pol=${3:-} pre=()
	[ -n "$pol" ] && pre=(env SOCKSHIM_POLICY="$pol" "${SUP[@]}")
	[ "${4:-}" = floor ] && pre=("$FLOOR" -s "$pol" --)
	[ "${4:-}" = floorw ] && pre=("$FLOOR" -w -s "$pol" --)
	timeout -k 5 120 "${pre[@]}" "$T/smatchconn" plain "$n" 127.0.0.1 $PORT 127.0.0.2 0 0 >"$out" 2>&1
}

# counted OUT N POLICY [floor]: a supervised run with strace attached to the
# supervisor before the target starts its connects (it waits on a fifo)
counted() {
	local out=$1 n=$2 pol=$3 launcher sup i=0 st pre
	pre=(env SOCKSHIM_POLICY="$pol" "${SUP[@]}")
	[ "${4:-}" = floor ] && pre=("$FLOOR" -s "$pol" --)
	rm -f "$T/go"
	mkfifo "$T/go"
	"${pre[@]}" sh -c 'read _ <"$1"; shift; exec "$@"' sh "$T/go" \
		"$T/smatchconn" plain "$n" 127.0.0.1 $PORT 127.0.0.2 0 0 >"$out.line" 2>&1 &
	launcher=$!
	sleep 0.2
	if [ "${4:-}" = floor ]; then
		sup=$launcher # the floor is the target's parent itself
	else
		sup=$(pgrep -o -P "$launcher" || echo "$launcher")
	fi
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

# filter OUT POLICY [floor]: the filter the kernel holds for a process
# started under the supervisor (or the floor), as floorsup --filter-of
# prints it
filter() {
	local out=$1 pol=$2 pre i=0
	pre=(env SOCKSHIM_POLICY="$pol" "${SUP[@]}")
	[ "${3:-}" = floor ] && pre=("$FLOOR" "$pol" --)
	rm -f "$out.pid"
	"${pre[@]}" sh -c 'echo $$ >"$1.tmp" && mv "$1.tmp" "$1" && exec sleep 2' sh "$out.pid" >/dev/null 2>&1 &
	local job=$!
	while [ ! -s "$out.pid" ] && [ $i -lt 100 ]; do
		i=$((i + 1))
		sleep 0.02
	done
	"$FLOOR" --filter-of "$(cat "$out.pid" 2>/dev/null || echo 0)" >"$out" 2>&1
	kill "$(cat "$out.pid" 2>/dev/null || echo 0)" 2>/dev/null
	wait $job
}

# measure: every run, in one fresh namespace
measure() {
	local i v n
	for v in $VARIANTS; do
		run "$T/$v.probe" 20 "$T/$v.probe.ini"
		if [ -n "$HAVE_FLOOR" ]; then
			filter "$T/filter.sup.$v" "$T/$v.ini"
			filter "$T/filter.floor.$v" "$T/$v.ini" floor
		fi
	done
	for i in $(seq "$REPS"); do
		run "$T/bare.$i" "$N"
		for v in $VARIANTS; do
			[ -n "$HAVE_FLOOR" ] && run "$T/floor.$v.$i" "$N" "$T/$v.ini" floor
			run "$T/$v.$i" "$N" "$T/$v.ini"
		done
		[ -n "$HAVE_FLOOR" ] && run "$T/floorw.$i" "$N" "$T/source.ini" floorw
		note "run $i: bare $(kv rate "$(cat "$T/bare.$i")")/s$(for v in $VARIANTS; do
			[ -n "$HAVE_FLOOR" ] && printf ', %s floor %s/s' $v "$(kv rate "$(head -1 "$T/floor.$v.$i")")"
			printf ', %s %s/s' $v "$(kv rate "$(cat "$T/$v.$i")")"
		done)$([ -n "$HAVE_FLOOR" ] && printf ', sync-wake floor %s/s' "$(kv rate "$(head -1 "$T/floorw.$i")")")"
	done
	for v in $VARIANTS; do
		for n in $SN $((2 * SN)); do
			counted "$T/st.$v.$n" $n "$T/$v.ini"
			[ -n "$HAVE_FLOOR" ] && counted "$T/st.floor.$v.$n" $n "$T/$v.ini" floor
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
HAVE_FLOOR=
if [ -x "$FLOOR" ]; then
	HAVE_FLOOR=1
	note "floor: $FLOOR (one thread, CONTINUE for every call)"
else
	row "seccomp floor: no $FLOOR (make bench builds it)" - - - - FAIL
fi
export HAVE_FLOOR

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

note "$REPS x (bare, then floor and supervised for each of $VARIANTS), $N connections each; strace of the supervisor at $SN and $((2 * SN))"
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
us() { awk -v r="$1" 'BEGIN { printf "%.1f", 1e6 / r }'; } # µs per connect at rate $1
for v in $VARIANTS; do
	case $v in
	source) what="source = 127.0.0.2" target=0.75 ;;
	window) what="source = 127.0.0.2, source_port = 40000-49999" target=0.65 ;;
	nomatch) what="a connect rule that matches nothing" target=0.9 ;;
	esac
	mapfile -t s < <(rates $v)
	if [ ${#s[@]} -ne "$REPS" ] || [[ " ${s[*]} " == *"  "* ]]; then
		row "connects/s, bare → supervised: $what (a run failed, see the log)" "$bm" - - - info
		sed 's/^/  /' "$T/$v.1" 2>/dev/null | head -3
		continue
	fi
	sm=$(median "${s[@]}")
	row "connects/s, bare → supervised, $what (median of $REPS)" "$bm" "$sm" "$(ratio "$sm" "$bm")" - info
	fm=
	if [ -n "$HAVE_FLOOR" ]; then
		mapfile -t f < <(rates floor.$v)
		if [ ${#f[@]} -ne "$REPS" ] || [[ " ${f[*]} " == *"  "* ]]; then
			row "$v: connects/s under the floor (a run failed, see the log)" "$bm" - - - FAIL
			sed 's/^/  /' "$T/floor.$v.1" 2>/dev/null | head -3
		else
			# the floor runs of every policy whose filter the kernel
			# holds is this one's are runs of one and the same floor
			mine=$(cat "$T/filter.floor.$v" 2>/dev/null)
			pooled=() on=()
			for u in $VARIANTS; do
				[ "$(cat "$T/filter.floor.$u" 2>/dev/null)" = "$mine" ] || continue
				mapfile -t fu < <(rates floor.$u)
				[ ${#fu[@]} -eq "$REPS" ] && [[ " ${fu[*]} " != *"  "* ]] || continue
				pooled+=("${fu[@]}") on+=("$u")
			done
			[ ${#pooled[@]} -gt 0 ] || pooled=("${f[@]}") on=("$v")
			fm=$(median "${pooled[@]}")
			row "$v: connects/s, bare → floor (same filter, every call CONTINUE; median of ${#pooled[@]} runs: $(IFS=,; echo "${on[*]}"))" \
				"$bm" "$fm" "$(ratio "$fm" "$bm")" - info
			r=$(ratio "$sm" "$fm")
			awk -v r="$r" -v t=$target 'BEGIN { exit !(r != "-" && r + 0 >= t) }' && verdict=pass || verdict=FAIL
			row "$v: connects/s, floor → supervised" "$fm" "$sm" "$r" "≥ $target× floor" $verdict
		fi
	fi
	row "$v: µs per connect (1/rate), bare → supervised" "$(us "$bm")" "$(us "$sm")" \
		"+$(awk -v a="$bm" -v b="$sm" 'BEGIN { printf "%.1f µs", 1e6 / b - 1e6 / a }')" - info
	[ -n "$fm" ] && row "$v: µs per connect (1/rate), floor → supervised" "$(us "$fm")" "$(us "$sm")" \
		"+$(awk -v a="$fm" -v b="$sm" 'BEGIN { printf "%.1f µs", 1e6 / b - 1e6 / a }')" - info
	row "$v: the $REPS runs, connects/s, bare → supervised" "$(IFS=/; echo "${b[*]}")" "$(IFS=/; echo "${s[*]}")" - - info
	[ -n "$fm" ] && row "$v: the $REPS runs, connects/s, floor" - "$(IFS=/; echo "${f[*]}")" - - info
	want=$total
	[ $v = nomatch ] && want=0
	[ "$(from $v)" -eq $want ] && [ "$(fails $v)" -eq 0 ] && verdict=pass || verdict=FAIL
	row "$v: connections from 127.0.0.2 (accept4's peer), failed calls" "$(from bare)/$total, $(fails bare) failed" \
		"$(from $v)/$total, $(fails $v) failed" - "$want/$total, none" $verdict
	if [ -n "$HAVE_FLOOR" ]; then
		[ "$(from floor.$v)" -eq 0 ] && [ "$(fails floor.$v)" -eq 0 ] && verdict=pass || verdict=FAIL
		row "$v: under the floor, connections from 127.0.0.2, failed calls (the floor changes nothing)" - \
			"$(from floor.$v)/$total, $(fails floor.$v) failed" - "0/$total, none" $verdict
		fs=$(cat "$T/filter.sup.$v" 2>/dev/null)
		ff=$(cat "$T/filter.floor.$v" 2>/dev/null)
		[[ $fs == insns=* ]] && [ "$fs" = "$ff" ] && verdict=pass || verdict=FAIL
		row "$v: the filter the kernel holds (PTRACE_SECCOMP_GET_FILTER), supervised → floor" "${fs:-none}" "${ff:-none}" - "the same" $verdict
	fi
done

# the floor with SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (kernel >= 6.6), on the
# source policy's filter: what a supervisor that asks for it could reach
if [ -n "$HAVE_FLOOR" ]; then
	mapfile -t w < <(rates floorw)
	if [ ${#w[@]} -ne "$REPS" ] || [[ " ${w[*]} " == *"  "* ]]; then
		row "floor with sync wake-up (not measured: $(grep -ho 'SYNC_WAKE_UP[^:]*: .*' "$T/floorw.1" 2>/dev/null | head -1 || echo 'a run failed'))" - - - - info
	else
		wm=$(median "${w[@]}")
		row "connects/s, bare → floor with SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (source's filter)" "$bm" "$wm" "$(ratio "$wm" "$bm")" - info
		row "floor with sync wake-up: the $REPS runs, connects/s" - "$(IFS=/; echo "${w[*]}")" - - info
	fi
fi

# breakdown FILE_N FILE_2N N: "name count" per connection (slope), sorted
breakdown() {
	join -a 1 -a 2 -e 0 -o 0,1.2,2.2 \
		<(awk '$NF != "total" && $4 ~ /^[0-9]+$/ { print $NF, $4 }' "$1" 2>/dev/null | LC_ALL=C sort) \
		<(awk '$NF != "total" && $4 ~ /^[0-9]+$/ { print $NF, $4 }' "$2" 2>/dev/null | LC_ALL=C sort) |
		awk -v n="$3" '{ d = ($3 - $2) / n; if (d >= 0.005 || d <= -0.005) printf "%s %.2f\n", $1, d }' | sort -k2,2gr
}
fmt() { awk '{ printf "%s%s %g", sep, $1, $2; sep = ", " }' <<<"$1"; }
for v in $VARIANTS; do
	# the calls the filter sent per connection: the floor's count, N → 2N
	per=1
	if [ -n "$HAVE_FLOOR" ]; then
		n1=$(sed -n 's/.*notifications=\([0-9]*\).*/\1/p' "$T/st.floor.$v.$SN.line" 2>/dev/null)
		n2=$(sed -n 's/.*notifications=\([0-9]*\).*/\1/p' "$T/st.floor.$v.$((2 * SN)).line" 2>/dev/null)
		if [ -n "$n1" ] && [ -n "$n2" ]; then
			per=$(awk -v a="$n1" -v b="$n2" -v n=$SN 'BEGIN { printf "%.2f", (b - a) / n }')
			[ "$per" = 1.00 ] && verdict=pass || verdict=FAIL
			row "$v: calls the filter sends per connection (the floor's count, slope N→2N)" - "$per" - "1 (the connect)" $verdict
		else
			row "$v: calls the filter sends per connection (the floor's count failed)" - - - - FAIL
			per=1
		fi
		fb=$(breakdown "$T/st.floor.$v.$SN" "$T/st.floor.$v.$((2 * SN))" $SN)
		ft=$(awk '{ s += $2 } END { printf "%.1f", s }' <<<"$fb")
		row "$v: syscalls the floor makes per connect (strace -f -c, slope N→2N)" - "$ft ($(fmt "$fb"))" - - info
	fi
	bs=$(breakdown "$T/st.$v.$SN" "$T/st.$v.$((2 * SN))" $SN)
	if [ -z "$bs" ]; then
		row "$v: supervisor's syscalls per connect (strace failed)" - - - - info
		continue
	fi
	ts=$(awk -v per="$per" '{ s += $2 } END { printf "%.1f", s / (per > 0 ? per : 1) }' <<<"$bs")
	row "$v: syscalls the supervisor makes per decided connect (strace -f -c, slope N→2N)" - "$ts" - - info
	row "$v: the same, call by call (per connection)" - "$(fmt "$bs")" - - info
done

# the probes: 20 connections at log_level = debug, each decided as expected
for v in $VARIANTS; do
	case $v in
	source) pat=' info connect fd=[0-9]+ tcp 127\.0\.0\.1:'$PORT' rule=pin actions=source=127\.0\.0\.2,continue rc=0 via=seccomp$' ;;
	window) pat=' info connect fd=[0-9]+ tcp 127\.0\.0\.1:'$PORT' rule=pin actions=.*source=127\.0\.0\.2:4[0-9]{4},continue rc=0 via=seccomp$' ;;
	nomatch) pat=' debug connect fd=[0-9]+ tcp 127\.0\.0\.1:'$PORT' rule=- actions=continue .*via=seccomp' ;;
	esac
	d=$(grep -cE "$pat" "$T/$v.probe.log" 2>/dev/null)
	[ "${d:-0}" -eq 20 ] && verdict=pass || verdict=FAIL
	[ $verdict = FAIL ] && { note "$v probe log:"; head -3 "$T/$v.probe.log" 2>/dev/null | sed 's/^/  /'; }
	row "$v: supervisor decided each connect as expected (probe, log_level = debug)" - "${d:-0}/20" - "20/20" $verdict
done
exit 0

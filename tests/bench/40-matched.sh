#!/bin/bash
# 40: a matched call costs only its system calls.
#
# A rule like the README's [db] example pins the source of every connection
# to 127.0.0.1:9200: source = 127.0.0.2, source_port = 40000-49999 (rotated
# in order), sockopt = SO_REUSEADDR=1. Under it, the shim turns each connect
# into setsockopt (SO_REUSEADDR) + getsockopt(SO_NETNS_COOKIE) +
# setsockopt(IP_BIND_ADDRESS_NO_PORT) + bind(SRC:0) +
# setsockopt(IP_LOCAL_PORT_RANGE, one port) + connect + getsockname (the
# port the kernel used) + setsockopt(IP_LOCAL_PORT_RANGE, 0) (src/act/actions.c,
# window_checked: the window lies inside ip_local_port_range). The same
# program without the shim, making exactly those calls by hand (matchconn
# window: the same rotation from a random start, a taken port skipped the
# same way), must reach at least 0.95 of its connection rate the other way
# round: the shim may add no more than 5 % on top of its system calls.
# A second rule without source_port (source_noport: IP_BIND_ADDRESS_NO_PORT,
# IP_LOCAL_PORT_RANGE, bind to 127.0.0.2:0, connect) is compared with
# matchconn noport the same way.
#
# How: one process (matchconn) listens on 127.0.0.1:9200 and, one connection
# at a time, connects, accepts and closes both ends (the accepted end first,
# abortively: no TIME_WAIT, so the window never fills). The shim run is
# matchconn plain (socket, connect, accept4, close, close) under the policy;
# the hand run is matchconn window/noport, bare. Runs alternate hand, shim,
# hand, shim... (BENCH_MATCH_REPS of each, default 9, BENCH_MATCH_N
# connections each, default 10000) and the medians are compared; the median
# of the ratios of adjacent runs (less sensitive to a machine whose load
# drifts) is shown too.
#
# System calls per connection: strace -f -c of both, for N and 2N
# connections; the slope (2N run - N run) / N, per system call, must be the
# same, except process_vm_readv: the shim reads a sockaddr that is not on
# the calling thread's stack (matchconn's is a global) through the kernel,
# since such memory can be unmapped at any time: at most one per connection,
# shown in a row of its own. Instructions per connection (callgrind, same slope) are shown for
# where a gap would come from. accept4's peer address shows every
# connection came from 127.0.0.2 (and from the window) in both runs; a probe
# run at log_level = info shows the rule decided with rule=db.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/callgrind.sh"

PORT=9200
LO=40000
HI=49999
N=${BENCH_MATCH_N:-10000}
REPS=${BENCH_MATCH_REPS:-9}
SN=2000 # strace and callgrind: N and 2N connections

# run OUT MODE N LO HI [POLICY]: one matchconn run, preloaded if POLICY
run() {
	local out=$1 mode=$2 n=$3 lo=$4 hi=$5 pol=${6:-} pre=()
	[ -n "$pol" ] && pre=(env SOCKSHIM_POLICY="$pol" LD_PRELOAD="$SHIM")
	timeout -k 5 120 "${pre[@]}" "$BIN/matchconn" "$mode" "$n" 127.0.0.1 $PORT 127.0.0.2 "$lo" "$hi" >"$out" 2>&1
}

# counted KIND OUT MODE N LO HI [POLICY]: the same run under strace -c or callgrind
counted() {
	local kind=$1 out=$2 mode=$3 n=$4 lo=$5 hi=$6 pol=${7:-} e=()
	if [ $kind = st ]; then
		[ -n "$pol" ] && e=(-E SOCKSHIM_POLICY="$pol" -E LD_PRELOAD="$SHIM")
		timeout -k 5 120 strace -f -c -o "$out" "${e[@]}" "$BIN/matchconn" "$mode" "$n" 127.0.0.1 $PORT 127.0.0.2 "$lo" "$hi" >"$out.line" 2>&1
	else
		[ -n "$pol" ] && e=(SOCKSHIM_POLICY="$pol" LD_PRELOAD="$SHIM")
		timeout -k 5 300 env "${e[@]}" valgrind --tool=callgrind --callgrind-out-file="$out" \
			"$BIN/matchconn" "$mode" "$n" 127.0.0.1 $PORT 127.0.0.2 "$lo" "$hi" >"$out.line" 2>/dev/null
	fi
}

# measure VARIANT HANDMODE LO HI POLICY PROBE_POLICY: every run of one
# variant, in one fresh namespace
measure() {
	local v=$1 hand=$2 lo=$3 hi=$4 pol=$5 probe=$6 i n kind
	run "$T/$v.probe" plain 20 "$lo" "$hi" "$probe"
	for i in $(seq "$REPS"); do
		run "$T/$v.hand.$i" "$hand" "$N" "$lo" "$hi"
		run "$T/$v.shim.$i" plain "$N" "$lo" "$hi" "$pol"
		note "$v, run $i: by hand $(kv rate "$(cat "$T/$v.hand.$i")")/s, shim $(kv rate "$(cat "$T/$v.shim.$i")")/s"
	done
	for kind in st cg; do
		for n in $SN $((2 * SN)); do
			counted $kind "$T/$kind.$v.hand.$n" "$hand" $n "$lo" "$hi"
			counted $kind "$T/$kind.$v.shim.$n" plain $n "$lo" "$hi" "$pol"
		done
	done
}

dispatch "$@"

# The README's example, with [db] pointed at the loop's listener. Only [db]
# matches the loop's connects; the rest is there as in a real policy.
example() { # example LOG_LINES SOURCE_PORT_LINE
	cat <<EOF
[global]
$1

; legacy server: restart at once despite TIME_WAIT, run several copies on one port
[listeners]
on = bind
proto = tcp
port = 8080
reuseaddr = force
reuseport = force

; outbound to the database tier: pin the source address, rotate ports in a window
[db]
on = connect
proto = tcp
addr = 127.0.0.1/32
port = $PORT
source = 127.0.0.2
$2
sockopt = SO_REUSEADDR=1

[loopback-only]
on = connect, send
addr = 127.0.0.0/8, ::1

[no-egress]
on = connect, send
deny = ENETUNREACH
EOF
}
quiet=$'log = stderr\nlog_level = warn'
window_pol=$(example "$quiet" "source_port = $LO-$HI" | policy window.ini)
noport_pol=$(example "$quiet" "" | policy noport.ini)
window_probe=$(example $'log = file:'"$T"$'/window.probe.log\nlog_level = info' "source_port = $LO-$HI" | policy window-probe.ini)
noport_probe=$(example $'log = file:'"$T"$'/noport.probe.log\nlog_level = info' "" | policy noport-probe.ini)

note "$REPS x (by hand, shim), $N connections each; strace and callgrind at $SN and $((2 * SN))"
in_netns measure window window $LO $HI "$window_pol" "$window_probe"
in_netns measure noport noport 0 0 "$noport_pol" "$noport_probe"

# breakdown FILE_N FILE_2N N: "name count" per connection (slope), sorted
breakdown() {
	join -a 1 -a 2 -e 0 -o 0,1.2,2.2 \
		<(awk '$NF != "total" && $4 ~ /^[0-9]+$/ { print $NF, $4 }' "$1" 2>/dev/null | LC_ALL=C sort) \
		<(awk '$NF != "total" && $4 ~ /^[0-9]+$/ { print $NF, $4 }' "$2" 2>/dev/null | LC_ALL=C sort) |
		awk -v n="$3" '{ d = ($3 - $2) / n; if (d != 0) printf "%s %.3f\n", $1, d }'
}
ir() { sed -n 's/^summary: //p' "$1" 2>/dev/null | head -1; }

for v in window noport; do
	if [ $v = window ]; then
		what="source 127.0.0.2, source_port $LO-$HI, sockopt = SO_REUSEADDR=1"
		tag="window"
	else
		what="source 127.0.0.2 without source_port (IP_BIND_ADDRESS_NO_PORT), sockopt"
		tag="no source_port"
	fi
	h=() s=() hin=0 sin=0 hf=0 sf=0
	for i in $(seq "$REPS"); do
		h+=("$(kv rate "$(cat "$T/$v.hand.$i" 2>/dev/null)")")
		s+=("$(kv rate "$(cat "$T/$v.shim.$i" 2>/dev/null)")")
		hin=$((hin + $(kv inside "$(cat "$T/$v.hand.$i" 2>/dev/null)" | grep . || echo 0)))
		sin=$((sin + $(kv inside "$(cat "$T/$v.shim.$i" 2>/dev/null)" | grep . || echo 0)))
		hf=$((hf + $(kv failures "$(cat "$T/$v.hand.$i" 2>/dev/null)" | grep . || echo 1)))
		sf=$((sf + $(kv failures "$(cat "$T/$v.shim.$i" 2>/dev/null)" | grep . || echo 1)))
	done
	if [[ " ${h[*]} ${s[*]} " == *"  "* ]]; then
		row "connects/s, $what (a run failed, see the log)" - - - "shim ≥ 0.95 × by hand" FAIL
	else
		hm=$(median "${h[@]}") sm=$(median "${s[@]}")
		r=$(ratio "$sm" "$hm")
		awk -v r="$r" 'BEGIN { exit !(r >= 0.95) }' && verdict=pass || verdict=FAIL
		row "connects/s, by hand → shim: $what (median of $REPS)" "$hm" "$sm" "$r" "shim ≥ 0.95 × by hand" $verdict
		pr=()
		for i in "${!h[@]}"; do pr+=("$(ratio "${s[$i]}" "${h[$i]}")"); done
		row "$tag: the $REPS runs, connects/s (ratio: median of run-by-run ratios)" "$(IFS=/; echo "${h[*]}")" "$(IFS=/; echo "${s[*]}")" "$(median "${pr[@]}")" - info
	fi
	total=$((REPS * N))
	[ "$hin" -eq $total ] && [ "$sin" -eq $total ] && [ $hf -eq 0 ] && [ $sf -eq 0 ] && verdict=pass || verdict=FAIL
	row "$tag: from 127.0.0.2$([ $v = window ] && echo ":$LO-$HI") (accept4's peer), failed calls" \
		"$hin/$total, $hf failed" "$sin/$total, $sf failed" - "all, none" $verdict

	bh=$(breakdown "$T/st.$v.hand.$SN" "$T/st.$v.hand.$((2 * SN))" $SN)
	bs=$(breakdown "$T/st.$v.shim.$SN" "$T/st.$v.shim.$((2 * SN))" $SN)
	pv=$(awk '$1 == "process_vm_readv" { print $2 }' <<<"$bs")
	bs=$(grep -v '^process_vm_readv ' <<<"$bs")
	awk -v p="${pv:-0}" 'BEGIN { exit !(p <= 1) }' && verdict=pass || verdict=FAIL
	row "$tag: process_vm_readv per connection (the sockaddr, off the stack)" 0 "${pv:-0}" - "≤ 1" $verdict
	th=$(awk '{ s += $2 } END { printf "%.3f", s }' <<<"$bh")
	ts=$(awk '{ s += $2 } END { printf "%.3f", s }' <<<"$bs")
	[ -n "$bh" ] && [ "$bh" = "$bs" ] && verdict=pass || verdict=FAIL
	row "$tag: syscalls per connection (strace -c, slope N→2N)" "$th" "$ts" "$(ratio "$ts" "$th")" "equal, call by call" $verdict
	fmt() { awk '{ printf "%s%s %g", sep, $1, $2; sep = ", " }' <<<"$1"; }
	row "$tag: the same, call by call" "$(fmt "$bh")" "$(fmt "$bs")" - - info
	a1=$(ir "$T/cg.$v.hand.$SN") a2=$(ir "$T/cg.$v.hand.$((2 * SN))")
	b1=$(ir "$T/cg.$v.shim.$SN") b2=$(ir "$T/cg.$v.shim.$((2 * SN))")
	if [ -n "$a1" ] && [ -n "$a2" ] && [ -n "$b1" ] && [ -n "$b2" ]; then
		ih=$(awk -v a="$a1" -v b="$a2" -v n=$SN 'BEGIN { printf "%.0f", (b - a) / n }')
		is=$(awk -v a="$b1" -v b="$b2" -v n=$SN 'BEGIN { printf "%.0f", (b - a) / n }')
		row "$tag: user-space instructions per connection (callgrind, slope)" "$ih" "$is (+$((is - ih)))" "$(ratio "$is" "$ih")" - info
		note "$tag: the shim's functions, Ir per connection (callgrind.sh)"
		cg_per_iteration "$T/cg.$v.shim.$SN" "$T/cg.$v.shim.$((2 * SN))" $SN 16 | sed 's/^/  /'
	else
		row "$tag: user-space instructions per connection (callgrind failed)" - - - - info
	fi
	# the probe: 20 connections at log_level = info, each decided by [db]
	if [ $v = window ]; then
		pat=" rule=db actions=sockopt=SO_REUSEADDR=1,source=127\.0\.0\.2:(4[0-9]{4}) rc=0"
	else
		pat=" rule=db actions=sockopt=SO_REUSEADDR=1,source=127\.0\.0\.2 rc=0"
	fi
	d=$(grep -cE "$pat" "$T/$v.probe.log" 2>/dev/null)
	[ "${d:-0}" -ge 20 ] && verdict=pass || verdict=FAIL
	[ $verdict = FAIL ] && { note "$v probe log:"; head -3 "$T/$v.probe.log" 2>/dev/null | sed 's/^/  /'; }
	row "$tag: shim decided with rule=db (probe, log_level = info)" - "${d:-0}/20+" - "≥ 20 (20 + warm-up)" $verdict
done
exit 0

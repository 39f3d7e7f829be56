#!/bin/bash
# 20: rotation throughput.
#
# Connections per second when the shim rotates the source port through a
# 1,000-port window (source_port = 40000-40999, a bind before every
# connect), with 1, 8 and 32 client threads, as a ratio against the same
# client without the shim, in the same run and namespace.
#
# How: `connrate serve` (2 threads, never preloaded) accepts and closes;
# `connrate client` runs THREADS threads for BENCH_ROT_SECONDS (default 2)
# doing socket, connect, close. The client closes abortively (SO_LINGER
# {1, 0}, an RST), so no side keeps a 4-tuple in TIME_WAIT and the window's
# ports are free again at once; it does so in the bare run too, so both runs
# make the same calls. Runs alternate bare, shim, bare, shim... (3 of each
# per thread count, BENCH_ROT_REPS) and the median is reported. Every 16th
# connection is checked with getsockname: under the shim every sampled source
# port must be inside the window, or the benchmark FAILs (it would be
# measuring something other than rotation). A short probe run at log_level =
# info checks the shim loaded and decided with rule=rotate; the measured runs
# log at warn.
. "$(dirname "$0")/lib.sh"

PORT=9100
LO=40000
HI=40999
DUR=${BENCH_ROT_SECONDS:-2}
REPS=${BENCH_ROT_REPS:-3}
THREADS="1 8 32"

# client OUT THREADS [POLICY]: one timed client run, preloaded if POLICY.
client() {
	local out=$1 t=$2 pol=${3:-} pre=()
	[ -n "$pol" ] && pre=(env SOCKSHIM_POLICY="$pol" LD_PRELOAD="$SHIM")
	timeout -k 5 60 "${pre[@]}" "$BIN/connrate" client 127.0.0.1 $PORT "$t" "$DUR" $LO $HI >"$out"
}

# measure DIR POLICY PROBE_POLICY: every run, inside one fresh namespace.
measure() {
	local dir=$1 pol=$2 probe=$3 t i
	sysctl -qw net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535 || return 1
	start_server "$dir/server" "$BIN/connrate" serve 127.0.0.1 $PORT 2 600 || return 1
	DUR=0.2 client "$dir/probe" 1 "$probe"
	for t in $THREADS; do
		for i in $(seq $REPS); do
			client "$dir/bare.$t.$i" "$t"
			client "$dir/shim.$t.$i" "$t" "$pol"
			note "$t thread(s), run $i: bare $(kv rate "$(cat "$dir/bare.$t.$i")")/s, shim $(kv rate "$(cat "$dir/shim.$t.$i")")/s"
		done
	done
	stop_server
	note "server: $(tail -1 "$dir/server")"
}

dispatch "$@"

rule="[rotate]
on = connect
proto = tcp
addr = 127.0.0.1
source_port = $LO-$HI"
probe_pol=$(policy probe.ini <<EOF
[global]
log = file:$T/probe.log
log_level = info
$rule
EOF
)
run_pol=$(policy rotate.ini <<EOF
[global]
log = stderr
log_level = warn
$rule
EOF
)

note "$REPS x (bare, shim) per thread count, $DUR s each, window $LO-$HI"
in_netns measure "$T" "$run_pol" "$probe_pol"

# the probe: the shim started, and put connections inside the window
decisions=$(grep -cE " rule=rotate actions=source=[^ ]*:(4[0-9]{4}) rc=0" "$T/probe.log" 2>/dev/null)
if grep -q ' info start .*policy='"$probe_pol" "$T/probe.log" 2>/dev/null && [ "${decisions:-0}" -gt 0 ]; then
	probe=yes
else
	probe=no
fi
note "probe: $(cat "$T/probe" 2>/dev/null); $decisions rule=rotate decisions in its log"

# sum FIELD MODE: FIELD summed over every run of MODE (bare or shim)
sum() { cat "$T/$2".* 2>/dev/null | while read -r l; do kv "$1" "$l"; done | awk '{ s += $1 } END { print s + 0 }'; }
# failures MODE: errno:count summed over every run of MODE, or "none"
failures() {
	cat "$T/$1".* 2>/dev/null | while read -r l; do kv failures "$l"; done | tr ',' '\n' | grep ':' |
		awk -F: '{ n[$1] += $2 } END { for (e in n) printf "%s%s:%d", sep, e, n[e]; sep = "," }' | grep . || echo none
}

for t in $THREADS; do
	b=() s=()
	for i in $(seq $REPS); do
		b+=("$(kv rate "$(cat "$T/bare.$t.$i" 2>/dev/null)")")
		s+=("$(kv rate "$(cat "$T/shim.$t.$i" 2>/dev/null)")")
	done
	if [[ " ${b[*]} ${s[*]} " == *"  "* ]]; then
		row "connects/s, $t threads (a run failed, see the log)" - - - - FAIL
		continue
	fi
	bm=$(median "${b[@]}") sm=$(median "${s[@]}")
	row "connects/s, $t thread$([ "$t" = 1 ] || echo s), median of $REPS" "$bm" "$sm" "$(ratio "$sm" "$bm")" - info
done

bs=$(sum sampled bare) bi=$(sum inside bare) ss=$(sum sampled shim) si=$(sum inside shim)
[ "$ss" -gt 0 ] && [ "$si" -eq "$ss" ] && verdict=pass || verdict=FAIL
row "source port inside $LO-$HI (getsockname, every 16th)" "$bi/$bs" "$si/$ss" - "shim: 100%" $verdict
row "connect failures, all runs" "$(failures bare)" "$(failures shim)" - - info
[ $probe = yes ] && verdict=pass || verdict=FAIL
row "shim loaded: start line + rule=rotate decisions (probe)" - $probe - yes $verdict
exit 0

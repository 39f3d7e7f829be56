#!/bin/bash
# 60: start-up.
#
# What the shim adds to starting a program: at most 1 ms (median), for both
# ways of using it:
#   launcher   build/sockshim -p conf/sockshim.ini -- /bin/true
#              against /bin/true (the launcher is a program of its own: one
#              more exec, plus reading the policy, plus the shim in /bin/true)
#   preload    env LD_PRELOAD=libsockshim.so SOCKSHIM_POLICY=conf/sockshim.ini
#              /bin/true against env /bin/true (env in both, so only the
#              preload differs: loading the library, its constructor reading
#              the policy and logging its start line)
# conf/sockshim.ini is the default policy (2 rules, log = stderr at info: the
# start line goes to hyperfine's /dev/null).
#
# How: hyperfine -N (no shell in between), --warmup 20, --runs
# BENCH_STARTUP_RUNS (default 200) of each command, --export-json. That is
# done twice, the second time in the other order (hyperfine runs all of one
# command, then all of the other), and the median is taken over both rounds'
# run times (jq; without jq, the mean of the two rounds' medians), so a load
# on the machine that comes and goes weighs on both sides alike. Min and
# mean ± σ are shown too. Checks: one run of each with SOCKSHIM_LOG=file:...
# shows the shim started with the policy in /bin/true.
. "$(dirname "$0")/lib.sh"

RUNS=${BENCH_STARTUP_RUNS:-200}
CONF=$TOP/conf/sockshim.ini

# hf NAME SHIM_CMD BARE_CMD: two rounds of hyperfine, in both orders
hf() {
	local name=$1 a=$2 b=$3
	timeout -k 5 200 hyperfine -N --warmup 20 --runs "$RUNS" --export-json "$T/$name.1.json" "$a" "$b" >"$T/$name.1.out" 2>&1
	timeout -k 5 200 hyperfine -N --warmup 20 --runs "$RUNS" --export-json "$T/$name.2.json" "$b" "$a" >"$T/$name.2.out" 2>&1
	echo "$a" >"$T/$name.shim-cmd"
	echo "$b" >"$T/$name.bare-cmd"
}

measure() {
	hf launcher "$BUILD/sockshim -p $CONF -- /bin/true" "/bin/true"
	note "launcher: $(grep -A1 'Benchmark 1' "$T/launcher.1.out" | tail -1 | sed 's/^ *//')"
	hf preload "env LD_PRELOAD=$SHIM SOCKSHIM_POLICY=$CONF /bin/true" "env /bin/true"
	note "preload: $(grep -A1 'Benchmark 1' "$T/preload.1.out" | tail -1 | sed 's/^ *//')"
	# the probes: the shim started in /bin/true, with the policy
	SOCKSHIM_LOG=file:$T/launcher.log "$BUILD/sockshim" -p "$CONF" -- /bin/true 2>/dev/null
	SOCKSHIM_LOG=file:$T/preload.log LD_PRELOAD=$SHIM SOCKSHIM_POLICY=$CONF /bin/true 2>/dev/null
}

dispatch "$@"

if ! command -v hyperfine >/dev/null; then
	row "start-up (hyperfine is not installed)" - - - "≤ +1 ms" FAIL
	exit 0
fi
note "hyperfine, $RUNS runs each after 20 warm-up runs"
in_netns measure

# run_times NAME CMD: every run time of CMD in both rounds, ms, one a line
run_times() {
	jq -r --arg c "$2" '.results[] | select(.command == $c) | .times[] * 1000' "$T/$1".[12].json 2>/dev/null
}
# hf_stat NAME CMD KEY: KEY (median, mean, stddev, min) of CMD in each round, ms
hf_stat() {
	local f
	for f in "$T/$1".[12].json; do
		awk -v c="\"command\": \"$2\"," -v key="\"$3\"" '
			index($0, c) { on = 1; next }
			/"command"/ { on = 0 }
			on && $1 == key ":" { gsub(/,/, "", $2); printf "%.2f\n", $2 * 1000; exit }' "$f"
	done
}
# summary NAME CMD: "min / mean ± σ" over both rounds
summary() {
	if command -v jq >/dev/null; then
		run_times "$1" "$2" | awk '{ x[NR] = $1; s += $1; if (NR == 1 || $1 < m) m = $1 }
			END { for (i = 1; i <= NR; i++) v += (x[i] - s / NR) ^ 2; printf "%.2f / %.2f ± %.2f", m, s / NR, sqrt(v / (NR - 1)) }'
	else
		echo "$(hf_stat "$1" "$2" min | sort -g | head -1) / $(hf_stat "$1" "$2" mean | paste -sd/) ± $(hf_stat "$1" "$2" stddev | paste -sd/)"
	fi
}
# med NAME CMD: the median over both rounds, ms
med() {
	if command -v jq >/dev/null; then
		median $(run_times "$1" "$2")
	else
		hf_stat "$1" "$2" median | awk '{ s += $1 } END { if (NR) printf "%.2f", s / NR }'
	fi
}

for k in launcher preload; do
	sc=$(cat "$T/$k.shim-cmd" 2>/dev/null) bc=$(cat "$T/$k.bare-cmd" 2>/dev/null)
	s=$(med $k "$sc") b=$(med $k "$bc")
	if [ -z "$s" ] || [ -z "$b" ]; then
		row "start-up, $k (hyperfine failed, see the log)" - - - "≤ +1 ms" FAIL
		continue
	fi
	shim_ms=$(printf %.2f "$s") bare_ms=$(printf %.2f "$b")
	d=$(awk -v a="$shim_ms" -v b="$bare_ms" 'BEGIN { printf "%+.2f", a - b }')
	awk -v d="$d" 'BEGIN { exit !(d <= 1) }' && verdict=pass || verdict=FAIL
	if [ $k = launcher ]; then
		fig="start-up, ms: sockshim -p conf/sockshim.ini -- /bin/true vs /bin/true (median of 2 × $RUNS)"
	else
		fig="start-up, ms: LD_PRELOAD + SOCKSHIM_POLICY=conf/sockshim.ini /bin/true vs plain (via env, median of 2 × $RUNS)"
	fi
	row "$fig" "$bare_ms" "$shim_ms ($d)" "$(ratio "$shim_ms" "$bare_ms")" "≤ +1 ms" $verdict
	row "$k: min / mean ± σ, ms" "$(summary $k "$bc")" "$(summary $k "$sc")" - - info
done

# for scale (different hyperfine runs, so only roughly): what one more exec
# costs here (env /bin/true vs /bin/true), and what the launcher costs beyond
# what env + LD_PRELOAD costs (both exec twice and load the shim)
lt=$(med launcher "$(cat "$T/launcher.shim-cmd" 2>/dev/null)") t=$(med launcher "$(cat "$T/launcher.bare-cmd" 2>/dev/null)")
ep=$(med preload "$(cat "$T/preload.shim-cmd" 2>/dev/null)") et=$(med preload "$(cat "$T/preload.bare-cmd" 2>/dev/null)")
if [ -n "$lt" ] && [ -n "$t" ] && [ -n "$ep" ] && [ -n "$et" ]; then
	row "for scale, ms: one more exec (env /bin/true − /bin/true); the launcher − env with LD_PRELOAD" - \
		"$(awk -v a="$et" -v b="$t" 'BEGIN { printf "%+.2f", a - b }'); $(awk -v a="$lt" -v b="$ep" 'BEGIN { printf "%+.2f", a - b }')" - - info
fi

probe=yes
for k in launcher preload; do
	grep -q " info start .*program=true .*policy=$CONF rules=2 " "$T/$k.log" 2>/dev/null || { probe=no; note "$k: no start line"; head -2 "$T/$k.log" 2>/dev/null; }
done
[ $probe = yes ] && verdict=pass || verdict=FAIL
row "shim started in /bin/true with the policy, both ways (probe)" - $probe - yes $verdict
exit 0

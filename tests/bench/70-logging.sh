#!/bin/bash
# 70: logging.
#
# A decision logged as JSON to a file at log_level = info may cost at most
# 2 µs more than the same decision not logged.
#
# How: callloop (see callloop.c) makes N UDP calls to 127.0.0.1:9400, which
# a rule without actions matches (an explicit allow: the call goes through
# unchanged, and is logged at info):
#   [allow-local]  on = connect, send; proto = udp; addr = 127.0.0.1; port = 9400
# The same policy runs with log_level = info (every call one JSON line in
# $T/decisions.log) and with log_level = warn (the same sink, nothing
# written), so both runs decide and carry out exactly the same; the only
# difference is the log line. Two loops: sendto on an unconnected socket
# (op "send") and connect on one UDP socket (op "connect"). Each run times
# its loop alone (no start-up); runs alternate logged, unlogged, ...
# (BENCH_LOG_REPS of each, default 7, BENCH_LOG_N calls each, default
# 20000); per logged decision = (median logged − median unlogged) / N.
# The log file is removed before each run. For scale (info): the same with
# log_format = text, and the cost of the call bare (no shim); and where a
# logged decision's time goes: the system calls it adds (strace -c) and its
# instructions (callgrind), per call from the slope of 2,000 and 4,000 calls.
#
# The same strace slope for the two sinks that cost more than a write per
# line: fd 2 a pipe (log = stderr: fstat of fd 2, a poll before the line,
# SIGPIPE blocked around the write) and a syslog socket (one send).
#
# Checks: the logged runs wrote N decision lines each, every one valid JSON
# (jq, when installed) with the keys POLICY.md names; the unlogged runs wrote
# none.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/callgrind.sh"

PORT=9400
N=${BENCH_LOG_N:-20000}
REPS=${BENCH_LOG_REPS:-7}
CN=2000 # strace and callgrind: N and 2N calls

# run OUT OP POLICY: one timed loop; POLICY "bare" runs without the shim
run() {
	local out=$1 op=$2 pol=$3
	rm -f "$T/decisions.log"
	if [ "$pol" = bare ]; then
		timeout -k 5 60 "$BIN/callloop" "$op" "$N" $PORT >"$out" 2>&1
	else
		timeout -k 5 60 env SOCKSHIM_POLICY="$pol" LD_PRELOAD="$SHIM" "$BIN/callloop" "$op" "$N" $PORT >"$out" 2>&1
	fi
	local lines
	lines=$(grep -c '^{"ts":.*"op":.*"rule":"allow-local"' "$T/decisions.log" 2>/dev/null)
	echo "${lines:-0}" >"$out.lines"
	# keep one logged run's file for the format check
	[ "${lines:-0}" -gt 0 ] && [ ! -f "$T/kept.$op.log" ] && cp "$T/decisions.log" "$T/kept.$op.log"
	return 0
}

measure() {
	local op i
	for op in sendto connect; do
		for i in $(seq "$REPS"); do
			run "$T/json.$op.$i" $op "$T/json.ini"
			run "$T/quiet.$op.$i" $op "$T/quiet.ini"
			run "$T/text.$op.$i" $op "$T/text.ini"
			run "$T/bare.$op.$i" $op bare
		done
		note "$op: logged $(kv ns_per_iter "$(cat "$T/json.$op.1")") ns, unlogged $(kv ns_per_iter "$(cat "$T/quiet.$op.1")") ns per call (first run)"
	done
	# where a logged decision's time goes: its system calls and instructions
	local cfg n
	for cfg in json quiet; do
		for n in $CN $((2 * CN)); do
			rm -f "$T/decisions.log"
			timeout -k 5 120 strace -f -c -o "$T/st.$cfg.$n" -E SOCKSHIM_POLICY="$T/$cfg.ini" -E LD_PRELOAD="$SHIM" \
				"$BIN/callloop" sendto $n $PORT >/dev/null 2>&1
			rm -f "$T/decisions.log"
			timeout -k 5 300 env SOCKSHIM_POLICY="$T/$cfg.ini" LD_PRELOAD="$SHIM" valgrind --tool=callgrind --callgrind-out-file="$T/cg.$cfg.$n" \
				"$BIN/callloop" sendto $n $PORT >/dev/null 2>&1
		done
	done
	local rx
	socat -u UNIX-RECV:"$T/bench.sock" OPEN:/dev/null &
	rx=$!
	for _ in $(seq 100); do [ -S "$T/bench.sock" ] && break; sleep 0.05; done
	for cfg in pipe syslog; do
		for n in $CN $((2 * CN)); do
			timeout -k 5 120 strace -f -c -o "$T/st.$cfg.$n" -E SOCKSHIM_POLICY="$T/$cfg.ini" -E LD_PRELOAD="$SHIM" \
				"$BIN/callloop" sendto $n $PORT >/dev/null 2> >(cat >/dev/null)
		done
	done
	kill $rx 2>/dev/null
	wait $rx 2>/dev/null
}

dispatch "$@"

rule="[allow-local]
on = connect, send
proto = udp
addr = 127.0.0.1
port = $PORT"
policy json.ini >/dev/null <<EOF
[global]
log = file:$T/decisions.log
log_format = json
log_level = info
$rule
EOF
policy quiet.ini >/dev/null <<EOF
[global]
log = file:$T/decisions.log
log_format = json
log_level = warn
$rule
EOF
policy text.ini >/dev/null <<EOF
[global]
log = file:$T/decisions.log
log_format = text
log_level = info
$rule
EOF

policy pipe.ini >/dev/null <<EOF
[global]
log = stderr
log_format = json
log_level = info
$rule
EOF
policy syslog.ini >/dev/null <<EOF
[global]
log = syslog:$T/bench.sock
log_format = json
log_level = info
$rule
EOF

note "$REPS x (json, unlogged, text, bare) per loop, $N calls each; log on $(df -T "$T" 2>/dev/null | awk 'NR == 2 { print $2 }')"
in_netns measure

# elapsed KIND OP: the elapsed seconds of each run
elapsed() { for i in $(seq "$REPS"); do kv elapsed "$(cat "$T/$1.$2.$i" 2>/dev/null)"; done; }
lines() { cat "$T/$1.$2".*.lines 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }
us_per() { awk -v a="$1" -v b="$2" -v n="$N" 'BEGIN { printf "%.2f", (a - b) * 1e6 / n }'; }

for op in sendto connect; do
	j=($(elapsed json $op)) q=($(elapsed quiet $op)) x=($(elapsed text $op)) b=($(elapsed bare $op))
	o=$([ $op = sendto ] && echo send || echo connect)
	if [ ${#j[@]} -ne "$REPS" ] || [ ${#q[@]} -ne "$REPS" ]; then
		row "$op: cost of a JSON log line (a run failed, see the log)" - - - "≤ 2 µs" FAIL
		continue
	fi
	jm=$(median "${j[@]}") qm=$(median "${q[@]}")
	d=$(us_per "$jm" "$qm")
	awk -v d="$d" 'BEGIN { exit !(d <= 2) }' && verdict=pass || verdict=FAIL
	row "$op (op=$o), µs per call: unlogged → logged as JSON, info (median of $REPS)" \
		"$(us_per "$qm" 0)" "$(us_per "$jm" 0) (+$d)" "$(ratio "$jm" "$qm")" "≤ +2 µs per logged decision" $verdict
	if [ ${#x[@]} -eq "$REPS" ] && [ ${#b[@]} -eq "$REPS" ]; then
		xm=$(median "${x[@]}") bm=$(median "${b[@]}")
		row "$op: for scale, µs per call: bare → shim unlogged / logged as text" "$(us_per "$bm" 0)" \
			"$(us_per "$qm" 0) / $(us_per "$xm" 0) (text +$(us_per "$xm" "$qm"))" - - info
	fi
	want=$((REPS * N))
	jl=$(lines json $op) ql=$(lines quiet $op)
	[ "$jl" -eq $want ] && [ "$ql" -eq 0 ] && verdict=pass || verdict=FAIL
	row "$op: decision lines written, logged / unlogged runs" "-" "$jl / $ql" - "$want / 0" $verdict
done

# where the time goes (sendto): per logged decision, slope of CN and 2 CN
calls() { awk '$NF != "total" && $4 ~ /^[0-9]+$/ { print $NF, $4 }' "$1" 2>/dev/null | LC_ALL=C sort; }
# added CFG: the system calls per decision of CFG's runs beyond the unlogged ones
added() {
	LC_ALL=C join -a 1 -a 2 -e 0 -o 0,1.2,2.2 <(calls "$T/st.$1.$CN") <(calls "$T/st.$1.$((2 * CN))") |
		LC_ALL=C join -a 1 -a 2 -e 0 -o 0,1.2,1.3,2.2,2.3 - <(LC_ALL=C join -a 1 -a 2 -e 0 -o 0,1.2,2.2 \
			<(calls "$T/st.quiet.$CN") <(calls "$T/st.quiet.$((2 * CN))")) |
		awk -v n=$CN '{ d = (($3 - $2) - ($5 - $4)) / n; if (d != 0) { printf "%s%s %+g", sep, $1, d; sep = ", " } }'
}
added=$(added json)
row "sendto: system calls a JSON log line adds, per decision (strace -c, slope)" - "${added:-none}" - - info
added=$(added pipe)
row "sendto: the same, log = stderr with fd 2 a pipe" - "${added:-none}" - - info
added=$(added syslog)
row "sendto: the same, log = syslog:PATH" - "${added:-none}" - - info
ir() { sed -n 's/^summary: //p' "$1" 2>/dev/null | head -1; }
a1=$(ir "$T/cg.quiet.$CN") a2=$(ir "$T/cg.quiet.$((2 * CN))") b1=$(ir "$T/cg.json.$CN") b2=$(ir "$T/cg.json.$((2 * CN))")
if [ -n "$a1" ] && [ -n "$a2" ] && [ -n "$b1" ] && [ -n "$b2" ]; then
	iq=$(awk -v a="$a1" -v b="$a2" -v n=$CN 'BEGIN { printf "%.0f", (b - a) / n }')
	ij=$(awk -v a="$b1" -v b="$b2" -v n=$CN 'BEGIN { printf "%.0f", (b - a) / n }')
	row "sendto: user-space instructions per call, unlogged → logged as JSON (callgrind, slope)" "$iq" "$ij (+$((ij - iq)))" \
		"$(ratio "$ij" "$iq")" - info
	note "sendto logged as JSON: the shim's functions, Ir per call (callgrind.sh)"
	cg_per_iteration "$T/cg.json.$CN" "$T/cg.json.$((2 * CN))" $CN 16 | sed 's/^/  /'
fi

# the format: every decision line valid JSON, with the keys POLICY.md names
if command -v jq >/dev/null; then
	bad=0 total=0
	for f in "$T"/kept.*.log; do
		[ -f "$f" ] || continue
		total=$((total + $(grep -c '"op":' "$f")))
		bad=$((bad + $(grep '"op":' "$f" | jq -c 'select((has("ts") and has("pid") and has("op") and has("fd") and has("proto")
			and has("addr") and has("rule") and has("actions") and has("dry_run") and has("rc") and has("errno")) | not)' 2>&1 | wc -l)))
	done
	[ "$total" -gt 0 ] && [ "$bad" -eq 0 ] && verdict=pass || verdict=FAIL
	row "decision lines that are valid JSON with every key of POLICY.md (one run per loop)" - "$((total - bad))/$total" - all $verdict
fi
exit 0

#!/bin/bash
# 75: summary_interval costs a pass-through call nothing.
#
# The periodic summary check runs where a decided call is counted
# (ss_act_tally), never on the pass-through path. Measured with callgrind
# (user-space instructions, Ir) on callloop's UDP connect, N and 2N
# iterations, per call = (Ir_2N - Ir_N) / N:
#   pass   a rule on connect that never holds the loop's address (10.0.0.0/8):
#          every call is screened and passes through;
#   match  an allow rule that holds it (addr = 127.0.0.1): every call is
#          decided and counted; log = none, so the figure is the check itself
#          (a clock read and a compare), not the line a decision writes;
# each with summary_interval = off and = 1s.
# Targets: pass, 1s - off = 0 (+-1 for callgrind's rounding); match: info.
#
# Knobs: BENCH_SI_N (default 5000).
. "$(dirname "$0")/lib.sh"

N=${BENCH_SI_N:-5000}
CFGS="pass-off pass-on match-off match-on"

cg() { # CFG N PORT
	timeout -k 5 300 env SOCKSHIM_POLICY="$T/$1.ini" LD_PRELOAD="$SHIM" valgrind --tool=callgrind \
		--callgrind-out-file="$T/cg.$1.$2" "$BIN/callloop" connect "$2" "$3" >"$T/out.$1.$2" 2>"$T/vg.$1.$2"
}

measure() {
	local cfg
	for cfg in $CFGS; do
		cg "$cfg" "$N" 9300 &
		cg "$cfg" $((2 * N)) 9301 &
		wait
	done
}

dispatch "$@"

for cfg in $CFGS; do
	case $cfg in pass-*) addr=10.0.0.0/8 ;; *) addr=127.0.0.1 ;; esac
	case $cfg in *-on) iv=1s ;; *) iv=off ;; esac
	policy "$cfg.ini" >/dev/null <<EOF
[global]
log = none
summary_interval = $iv

[r]
on = connect
addr = $addr
EOF
done

in_netns measure

# total Ir of a callgrind profile
ir() { callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }'; }
per_call() { # CFG
	local a b
	a=$(ir "$T/cg.$1.$N") b=$(ir "$T/cg.$1.$((2 * N))")
	[ -n "$a" ] && [ -n "$b" ] && grep -q 'failures=0' "$T/out.$1.$N" && echo $(((b - a) / N))
}
for kind in pass match; do
	off=$(per_call "$kind-off") on=$(per_call "$kind-on")
	if [ -z "$off" ] || [ -z "$on" ]; then
		row "connect, $kind: Ir per call, summary_interval off / 1s (callgrind failed)" - - - - FAIL
		continue
	fi
	ratio=$(echo "scale=3; $on / $off" | bc)
	if [ "$kind" = pass ]; then
		d=$((on - off)); [ "$d" -lt 0 ] && d=$((-d))
		row "connect passing through: Ir per call, summary_interval off / 1s" "$off" "$on (+$((on - off)))" "$ratio" "+0" \
			"$([ "$d" -le 1 ] && echo pass || echo FAIL)"
	else
		row "connect decided (allow, log none): Ir per call, summary_interval off / 1s" "$off" "$on (+$((on - off)))" "$ratio" - info
	fi
done

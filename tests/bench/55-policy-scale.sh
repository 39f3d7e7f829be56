#!/bin/bash
# 55: policy scale: load and check at 1,000, 10,000 and 100,000 rules.
#
# Every process under the shim loads its policy at start, and `sockshim
# check` compares rules with each other: both must grow near-linearly in
# the rules (10 times the rules, about 10 times the cost; a quadratic step
# would be 100 times). Targets: 100,000 rules load in at most 1 s and check
# in at most 5 s; each 10x step of the load costs at most 15x the
# instructions, and 10,000 -> 100,000 at most 25x the check time.
#
# Policies: tests/helpers/genrules.sh N (the same file on every machine):
# different addresses; one address with different ports; mixed ops over
# IPv6; nested CIDRs (/16s with /24s and /25s inside); port ranges with
# programs; every 1,000th rule a repeat of the one before.
#
# How, for each size:
#   load      engine/policybench.c `load POLICY R`: ss_policy_load alone
#             (file in the page cache), median of R; and its instructions
#             under callgrind (the growth figure: the machine's noise is not
#             in it)
#   start-up  /bin/true bare and under the shim with the policy (the whole
#             start: the shim's load included), median of R runs
#   check     `sockshim check POLICY` (warnings to /dev/null), median of R
. "$(dirname "$0")/lib.sh"

PB=$BIN/policybench
SIZES=(1000 10000 100000)
declare -A REPS=([1000]=9 [10000]=5 [100000]=3)

# ms COMMAND...: wall-clock milliseconds of one run
ms() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1
	t1=$(date +%s%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", (b - a) / 1e6 }'
}

measure() {
	local n r i
	for n in "${SIZES[@]}"; do
		r=${REPS[$n]}
		"$PB" load "$T/p$n.ini" "$r" | sed -n 's/^ms=\([^ ]*\).*/\1/p' >"$T/load.$n"
		for i in $(seq "$r"); do ms /bin/true; done >"$T/bare.$n"
		for i in $(seq "$r"); do ms env SOCKSHIM_POLICY="$T/p$n.ini" SOCKSHIM_LOG=none LD_PRELOAD="$SHIM" /bin/true; done >"$T/shim.$n"
		for i in $(seq "$r"); do ms "$BUILD/sockshim" check "$T/p$n.ini"; done >"$T/check.$n"
		note "$n rules measured"
	done
	if command -v valgrind >/dev/null; then
		for n in "${SIZES[@]}"; do
			timeout -k 5 300 valgrind --tool=callgrind --callgrind-out-file="$T/cg.$n" "$PB" load "$T/p$n.ini" 1 \
				>/dev/null 2>&1
			sed -n 's/^summary: //p' "$T/cg.$n" >"$T/ir.$n"
		done
	fi
}

dispatch "$@"

inih_lib=$(pkg-config --variable=libdir inih 2>/dev/null)
if ! cc -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -I"$TOP/src/engine" $(pkg-config --cflags inih 2>/dev/null) \
	-o "$PB" "$TOP/tests/bench/engine/policybench.c" "$BUILD/libsockshim-engine.a" \
	"${inih_lib:-/usr/lib}/libinih.a"; then
	row "policy scale: cannot build engine/policybench.c" - - - - FAIL
	exit 1
fi
for n in "${SIZES[@]}"; do
	"$TOP/tests/helpers/genrules.sh" "$n" | policy "p$n.ini" >/dev/null
done
note "policies: $(for n in "${SIZES[@]}"; do printf '%s rules %s KiB, ' "$n" $(($(stat -c %s "$T/p$n.ini") / 1024)); done)"
in_netns measure

med() { median $(cat "$T/$1.$2" 2>/dev/null); }
list() { tr '\n' / <"$T/$1.$2" 2>/dev/null | sed 's#/$##'; }
# under LIMIT VALUE: pass when VALUE <= LIMIT
under() { awk -v v="$2" -v l="$1" 'BEGIN { exit !(v != "" && v != "-" && v + 0 <= l + 0) }' && echo pass || echo FAIL; }

prev=
for n in "${SIZES[@]}"; do
	m=$(med load $n)
	if [ -z "$m" ]; then
		row "policy load, $n rules (ss_policy_load failed, see the log)" - - - - FAIL
		continue
	fi
	g=-
	[ -n "$prev" ] && g=$(ratio "$m" "$prev")
	if [ "$n" = 100000 ]; then target="≤ 1000 ms" verdict=$(under 1000 "$m"); else target=- verdict=info; fi
	row "policy load (engine), $n rules, ms (median of ${REPS[$n]}: $(list load $n)); ratio: growth from 1/10 the rules" - "$m" "$g" "$target" $verdict
	prev=$m
done
for n in "${SIZES[@]}"; do
	b=$(med bare $n) s=$(med shim $n)
	if [ "$n" = 100000 ]; then target="≤ 1000 ms" verdict=$(under 1000 "$s"); else target=- verdict=info; fi
	row "start-up of /bin/true, $n rules, ms (median of ${REPS[$n]}: shim $(list shim $n))" "$b" "$s" "$(ratio "$s" "$b")" "$target" $verdict
done
prev=
for n in "${SIZES[@]}"; do
	m=$(med check $n) g=-
	[ -n "$prev" ] && g=$(ratio "$m" "$prev")
	if [ "$n" = 100000 ]; then target="≤ 5000 ms" verdict=$(under 5000 "$m"); else target=- verdict=info; fi
	row "sockshim check, $n rules, ms (median of ${REPS[$n]}: $(list check $n)); ratio: growth from 1/10 the rules" - "$m" "$g" "$target" $verdict
	[ "$n" = 100000 ] && row "growth of check time, 10,000 → 100,000 rules (near-linear ~10×, quadratic 100×)" \
		"$prev" "$m" "$g" "≤ 25×" "$(under 25 "$g")"
	prev=$m
done
i1=$(cat "$T/ir.1000" 2>/dev/null) i2=$(cat "$T/ir.10000" 2>/dev/null) i3=$(cat "$T/ir.100000" 2>/dev/null)
if [ -z "$i1" ] || [ -z "$i2" ] || [ -z "$i3" ]; then
	row "growth of load instructions (callgrind failed or missing, see the log)" - - - "≤ 15× per 10× rules" FAIL
else
	g1=$(ratio "$i2" "$i1") g2=$(ratio "$i3" "$i2")
	row "growth of load instructions, 1,000 → 10,000 rules (callgrind: $i1 → $i2 Ir)" "$i1" "$i2" "$g1" "≤ 15×" "$(under 15 "$g1")"
	row "growth of load instructions, 10,000 → 100,000 rules (callgrind: $i2 → $i3 Ir)" "$i2" "$i3" "$g2" "≤ 15×" "$(under 15 "$g2")"
fi
exit 0

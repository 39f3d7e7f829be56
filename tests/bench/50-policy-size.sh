#!/bin/bash
# 50: policy size.
#
# A decision must not get much dearer as a policy grows: at most 3 times the
# instructions of a one-entry policy, for one rule with 100,000 CIDRs and for
# a policy of 1,000 rules. Either policy must load in at most 200 ms; the
# 100,000-CIDR one must take at most 64 bytes per CIDR.
#
# How: engine/policybench.c links build/libsockshim-engine.a (no preload) and
# is compiled here (run.sh builds only programs that need nothing but libc).
# `policybench gen` writes the policies, random but seeded (the same files on
# every machine):
#   one4, one6           one rule on connect: addr = 198.51.100.0/24, or
#                        addr = 2001:db8:1::/48 (the baselines)
#   cidrs                one rule whose addr lists 100,000 CIDRs, 70 % IPv4
#                        (/16-/32 anywhere), 30 % IPv6 (/24-/128 in 2000::/3),
#                        both baseline CIDRs among them
#   rules-disjoint       1,000 rules on connect, each 3 IPv4 /24s and one
#                        IPv6 /32 of its own, and ports 443, 8000-8099, one more
#   rules-nested         the same shape, but random CIDRs (IPv4 /16-/28 in
#                        10/8, IPv6 /16-/64 in fd00::/16): broad ones of some
#                        rules hold narrow ones of others
#   *-last               the same, with rule 1,000 = addr 198.51.100.0/24
#   rules-otherop        rules-disjoint on bind and send instead of connect
# The probes are connects to port 443 (every 1,000-rule rule's port, so the
# port does not rule them out): 198.51.100.7 and [2001:db8:1::7] (in the
# baseline CIDRs), 192.0.2.10 and [2001:db8::1] (in no CIDR of any policy).
#
# Instructions per decision: callgrind runs `policybench decide`, which
# loads the policy once and, per probe, calls ss_decide N and 2N times
# between CALLGRIND_ZERO_STATS and a dump; (2N dump - N dump) / N is the
# figure, compared with the baseline policy of the probe's family and the
# same outcome (match or none). Outside valgrind the same program gives ns
# per decision (info).
#
# Load: `policybench load cidrs 5` (and `load rules-* 3`) times ss_policy_load (wall clock, file in
# the page cache) and reports the bytes the policy's arena has mapped (the
# policy's whole memory: it allocates nothing else), divided by 100,000, and
# the resident memory it adds while held and at its peak during the load.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/callgrind.sh"

N=${BENCH_POLICY_N:-2000}
SEED=${BENCH_POLICY_SEED:-1}
PB=$BIN/policybench
HIT4=connect:tcp:198.51.100.7:443
MISS4=connect:tcp:192.0.2.10:443
HIT6="connect:tcp:[2001:db8:1::7]:443"
MISS6="connect:tcp:[2001:db8::1]:443"

# cg NAME PROBE...: one callgrind run of `decide` on policy NAME; its dumps
# are $T/cg.NAME.1 (first probe, N), .2 (first probe, 2N), .3 ...
cg() {
	local name=$1
	shift
	timeout -k 5 300 valgrind --tool=callgrind --callgrind-out-file="$T/cg.$name" "$PB" decide "$T/$name.ini" "$N" "$@" \
		>"$T/decide.$name" 2>"$T/vg.$name"
}

measure() {
	cg one4 $HIT4 $MISS4 &
	cg one6 "$HIT6" "$MISS6" &
	wait
	cg cidrs $HIT4 $MISS4 "$HIT6" "$MISS6" &
	cg rules-disjoint $MISS4 &
	wait
	cg rules-disjoint-last $HIT4 &
	cg rules-otherop $MISS4 &
	wait
	cg rules-nested $MISS4 &
	cg rules-nested-last $HIT4 &
	wait
	note "callgrind done"
	"$PB" decide "$T/one4.ini" 1 $HIT4 $MISS4 >"$T/ns.one4"
	"$PB" decide "$T/one6.ini" 1 "$HIT6" "$MISS6" >"$T/ns.one6"
	"$PB" decide "$T/cidrs.ini" 1 $HIT4 $MISS4 "$HIT6" "$MISS6" >"$T/ns.cidrs"
	for k in rules-disjoint rules-nested rules-otherop; do "$PB" decide "$T/$k.ini" 1 $MISS4 >"$T/ns.$k"; done
	for k in rules-disjoint-last rules-nested-last; do "$PB" decide "$T/$k.ini" 1 $HIT4 >"$T/ns.$k"; done
	"$PB" load "$T/cidrs.ini" 5 >"$T/load.cidrs"
	"$PB" load "$T/rules-disjoint.ini" 3 >"$T/load.rules-disjoint"
	"$PB" load "$T/rules-nested.ini" 3 >"$T/load.rules-nested"
}

dispatch "$@"

inih_lib=$(pkg-config --variable=libdir inih 2>/dev/null)
if ! cc -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -I"$TOP/src/engine" $(pkg-config --cflags inih 2>/dev/null) \
	-o "$PB" "$TOP/tests/bench/engine/policybench.c" "$BUILD/libsockshim-engine.a" \
	"${inih_lib:-/usr/lib}/libinih.a"; then
	row "policy size: cannot build engine/policybench.c" - - - - FAIL
	exit 1
fi
if ! "$PB" has-callgrind-h; then
	note "no <valgrind/callgrind.h>: instruction figures cannot be taken (install valgrind)"
fi
for k in one4 one6 cidrs rules-disjoint rules-disjoint-last rules-nested rules-nested-last rules-otherop; do
	"$PB" gen $k "$SEED" | policy $k.ini >/dev/null
done
note "policies: $(for k in cidrs rules-disjoint rules-nested; do printf '%s %s KiB, ' $k $(($(stat -c %s "$T/$k.ini") / 1024)); done)seed $SEED"
in_netns measure

# slope NAME K: instructions per decision of the K-th probe of run NAME
slope() {
	local a b
	a=$(sed -n 's/^summary: //p' "$T/cg.$1.$((2 * $2 - 1))" 2>/dev/null)
	b=$(sed -n 's/^summary: //p' "$T/cg.$1.$((2 * $2))" 2>/dev/null)
	[ -n "$a" ] && [ -n "$b" ] || return 1
	awk -v a="$a" -v b="$b" -v n="$N" 'BEGIN { printf "%.1f\n", (b - a) / n }'
}
# rule NAME PROBE: the rule that decided (from the run's own output)
rule_of() { grep -F "probe=$2 " "$T/decide.$1" 2>/dev/null | sed -n 's/.* rule=\([^ ]*\).*/\1/p'; }
ns_of() { grep -F "probe=$2 " "$T/ns.$1" 2>/dev/null | sed -n 's/.* ns=\([^ ]*\).*/\1/p'; }

# compare FIGURE NAME K PROBE BASE BASEK WANT_RULE: one ≤ 3x row
ns_list=()
compare() {
	local fig=$1 name=$2 k=$3 probe=$4 base=$5 bk=$6 want=$7 s b r verdict got
	s=$(slope "$name" "$k") b=$(slope "$base" "$bk")
	got=$(rule_of "$name" "$probe")
	if [ -z "$s" ] || [ -z "$b" ]; then
		row "$fig (callgrind failed, see the log)" "${b:--}" "${s:--}" - "≤ 3 × one entry" FAIL
		return
	fi
	r=$(ratio "$s" "$b")
	awk -v r="$r" 'BEGIN { exit !(r <= 3) }' && [ "$got" = "$want" ] && verdict=pass || verdict=FAIL
	[ "$got" = "$want" ] || note "$name, $probe: decided by '$got', expected '$want'"
	if [ $verdict = FAIL ]; then
		note "$name, $probe: the engine's functions, Ir per decision (callgrind.sh)"
		cg_per_iteration "$T/cg.$name.$((2 * k - 1))" "$T/cg.$name.$((2 * k))" "$N" 14 policybench | grep " src/" | sed 's/^/  /'
	fi
	row "$fig, rule=$got" "$b" "$s" "$r" "≤ 3 × one entry" $verdict
	ns_list+=("$name/${probe#connect:tcp:}: $(ns_of "$base" "$probe") → $(ns_of "$name" "$probe")")
}

compare "instructions per decision, one entry → 100,000 CIDRs, IPv4 in the set" cidrs 1 $HIT4 one4 1 big
compare "instructions per decision, one entry → 100,000 CIDRs, IPv4 in no CIDR" cidrs 2 $MISS4 one4 2 -
compare "instructions per decision, one entry → 100,000 CIDRs, IPv6 in the set" cidrs 3 "$HIT6" one6 1 big
compare "instructions per decision, one entry → 100,000 CIDRs, IPv6 in no CIDR" cidrs 4 "$MISS6" one6 2 -
compare "instructions per decision, one entry → 1,000 rules (disjoint CIDRs), none matches" rules-disjoint 1 $MISS4 one4 2 -
compare "instructions per decision, one entry → 1,000 rules (disjoint CIDRs), the last matches" rules-disjoint-last 1 $HIT4 one4 1 last
compare "instructions per decision, one entry → 1,000 rules (nested CIDRs), none matches" rules-nested 1 $MISS4 one4 2 -
compare "instructions per decision, one entry → 1,000 rules (nested CIDRs), the last matches" rules-nested-last 1 $HIT4 one4 1 last
compare "instructions per decision, one entry → 1,000 rules on bind/send, probe connect" rules-otherop 1 $MISS4 one4 2 -
row "ns per decision, one entry → large (no valgrind; info)" - "$(printf '%s; ' "${ns_list[@]}" | sed 's/; $//')" - - info

# load: time, memory
# loads NAME KEY: KEY's value on each line of `policybench load`
loads() { awk -v k="$2" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' "$T/load.$1" 2>/dev/null; }
ms=($(loads cidrs ms))
if [ ${#ms[@]} -lt 5 ]; then
	row "load time of the 100,000-CIDR policy (ss_policy_load failed, see the log)" - - - "≤ 200 ms" FAIL
else
	m=$(median "${ms[@]}")
	awk -v m="$m" 'BEGIN { exit !(m <= 200) }' && verdict=pass || verdict=FAIL
	row "load time of the 100,000-CIDR policy, ms (median of 5: $(IFS=/; echo "${ms[*]}"))" - "$m" - "≤ 200 ms" $verdict
	bytes=$(loads cidrs arena_bytes | head -1)
	per=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 100000 }')
	awk -v p="$per" 'BEGIN { exit !(p <= 64) }' && verdict=pass || verdict=FAIL
	row "memory per CIDR, bytes (policy arena $bytes B ÷ 100,000; $(loads cidrs ranges | head -1) ranges after merging)" - "$per" - "≤ 64" $verdict
	row "resident memory the policy adds, KiB: held / peak during load (median)" - \
		"$(median $(loads cidrs rss_kb)) / $(median $(loads cidrs peak_kb))" - - info
fi
for k in rules-disjoint rules-nested; do
	l=($(loads $k ms))
	if [ ${#l[@]} -lt 3 ]; then
		row "load time of 1,000 rules ($k) (ss_policy_load failed, see the log)" - - - "≤ 200 ms" FAIL
		continue
	fi
	m=$(median "${l[@]}")
	awk -v m="$m" 'BEGIN { exit !(m <= 200) }' && verdict=pass || verdict=FAIL
	row "load time of 1,000 rules ($k), ms (median of ${#l[@]}: $(IFS=/; echo "${l[*]}"))" - "$m" - "≤ 200 ms" $verdict
done
exit 0

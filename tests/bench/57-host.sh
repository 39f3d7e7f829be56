#!/bin/bash
# 57: what names cost (on = resolve, host =).
#
# Instructions (callgrind, whole process, N and 2N iterations, per call =
# slope, so start-up and the policy load divide out), for the loops of
# hostloop.c:
#   connect   N UDP connects of one socket to an address (no handshake);
#   resolve   N getaddrinfo + freeaddrinfo rounds.
# Policies (log = none: the figures are the decision, not the log's write):
#   plain      one connect rule no connect matches (addr = 10.0.0.0/8);
#   plain+res  the same plus a resolve rule (*.bench.test rewritten to
#              127.0.0.1) and no host rule;
#   host100    that resolve rule and 100 connect rules, host = h1.bench.test
#              ... h100.bench.test, no actions (explicit allows).
# Rows:
#   - a connect with no host rule in the policy costs the same with and
#     without names in it: plain+res against plain, connecting to 127.0.0.1
#     given as a number and to the answer of a lookup of h1.bench.test
#     (target +0, within 1 instruction per call);
#   - with 100 host rules: a connect to the answer of h100.bench.test (rule
#     #100 decides) and to 127.0.0.1 given as a number (no lookup returned
#     it: no host rule can match), each against bare (info);
#   - a rewritten lookup against a lookup of a name in /etc/hosts (localhost,
#     bare, no shim): instructions and µs per getaddrinfo (best of 3 runs of
#     BENCH_HOST_TIME_N; target: no dearer than the hosts file), and a lookup
#     of localhost under a policy whose resolve rule it does not match.
# Knobs: BENCH_HOST_CALLGRIND_N (default 2000), BENCH_HOST_TIME_N (20000).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/callgrind.sh"

CN=${BENCH_HOST_CALLGRIND_N:-2000}
TN=${BENCH_HOST_TIME_N:-20000}

# runs: "CFG OP NAME" (CFG bare = no shim)
RUNS=(
	"bare connect 127.0.0.1"
	"plain connect 127.0.0.1"
	"plainres connect 127.0.0.1"
	"plainres connect h1.bench.test"
	"host100 connect h100.bench.test"
	"host100 connect 127.0.0.1"
	"bare resolve localhost"
	"plainres resolve h1.bench.test"
	"plainres resolve localhost"
)

pre() { [ "$1" = bare ] || echo "SOCKSHIM_POLICY=$T/$1.ini LD_PRELOAD=$SHIM"; }
key() { echo "$1.$2.$3"; }

# cg CFG OP NAME N PORT: callgrind of one run
cg() {
	local k
	k=$(key "$1" "$2" "$3")
	timeout -k 5 300 env $(pre "$1") valgrind --tool=callgrind --callgrind-out-file="$T/cg.$k.$4" \
		"$BIN/hostloop" "$2" "$3" "$4" "$5" >"$T/out.cg.$k.$4" 2>"$T/vg.$k.$4"
}

measure() {
	local r port=9400
	for r in "${RUNS[@]}"; do
		set -- $r
		cg "$1" "$2" "$3" "$CN" $port &
		cg "$1" "$2" "$3" $((2 * CN)) $((port + 1)) &
		wait
		port=$((port + 2))
	done
	note "callgrind done"
	local i cfg
	for i in 1 2 3; do
		for cfg in "bare resolve localhost" "plainres resolve h1.bench.test"; do
			set -- $cfg
			env $(pre "$1") "$BIN/hostloop" "$2" "$3" "$TN" >>"$T/time.$(key "$1" "$2" "$3")"
		done
	done
	note "timing done"
}

dispatch "$@"

policy plain.ini >/dev/null <<'EOF2'
[global]
log = none

[elsewhere]
on = connect
addr = 10.0.0.0/8
deny = ENETUNREACH
EOF2
{
	cat "$T/plain.ini"
	printf '\n[bench-names]\non = resolve\nhost = *.bench.test\nrewrite = 127.0.0.1\n'
} | policy plainres.ini >/dev/null
{
	printf '[global]\nlog = none\n\n[bench-names]\non = resolve\nhost = *.bench.test\nrewrite = 127.0.0.1\n'
	for i in $(seq 1 100); do printf '\n[h%d]\non = connect\nhost = h%d.bench.test\n' "$i" "$i"; done
} | policy host100.ini >/dev/null

note "callgrind N=$CN and $((2 * CN)), timing N=$TN"
in_netns measure

ir() { sed -n 's/^summary: //p' "$1" 2>/dev/null | head -1; }
slope() { # KEY: instructions per iteration
	local a b
	grep -q 'failures=0$' "$T/out.cg.$1.$CN" "$T/out.cg.$1.$((2 * CN))" 2>/dev/null || return 1
	[ "$(grep -c 'failures=0$' "$T/out.cg.$1.$CN" "$T/out.cg.$1.$((2 * CN))" | grep -c ':1$')" = 2 ] || return 1
	a=$(ir "$T/cg.$1.$CN") b=$(ir "$T/cg.$1.$((2 * CN))")
	[ -n "$a" ] && [ -n "$b" ] || return 1
	awk -v a="$a" -v b="$b" -v n="$CN" 'BEGIN { printf "%.1f\n", (b - a) / n }'
}
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f\n", a - b }'; }
rat() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×\n", a / b; else print "-" }'; }
best_us() { sed -n 's/.*ns_per_iter=\([0-9.]*\).*/\1/p' "$1" 2>/dev/null | sort -n | head -1 | awk '{ printf "%.2f\n", $1 / 1000 }'; }

nout=$(ls "$T"/out.cg.* 2>/dev/null | wc -l)
bad=$(grep -L 'failures=0$' "$T"/out.cg.* 2>/dev/null | wc -l)
want=$((2 * ${#RUNS[@]}))
[ "$nout" = "$want" ] && [ "$bad" = 0 ] && v=pass || v=FAIL
[ $v = FAIL ] && note "failed loops: $(grep -L 'failures=0$' "$T"/out.cg.* 2>/dev/null | sed 's|.*/||' | tr '\n' ' ') $(cat "$T"/vg.* 2>/dev/null | grep -m3 -i 'sockshim\|error')"
row "name loops run without a failed call (callgrind runs)" - "$((nout - bad))/$nout" - "$want/$want" $v

declare -A I
for r in "${RUNS[@]}"; do
	set -- $r
	I[$(key "$1" "$2" "$3")]=$(slope "$(key "$1" "$2" "$3")") || I[$(key "$1" "$2" "$3")]=
done
b=${I[bare.connect.127.0.0.1]}
p=${I[plain.connect.127.0.0.1]}
for k in plainres.connect.127.0.0.1 plainres.connect.h1.bench.test; do
	s=${I[$k]}
	if [ -z "$p" ] || [ -z "$s" ]; then row "connect, no host rule: $k (a run failed)" - - - "+0" FAIL; continue; fi
	d=$(sub "$s" "$p")
	awk -v d="$d" 'BEGIN { exit !(d <= 1 && d >= -1) }' && v=pass || v=FAIL
	what="a number"; [ "${k#*connect.}" = 127.0.0.1 ] || what="the answer of a rewritten lookup"
	row "Ir per connect, no host rule, a resolve rule in the policy, to $what: against the same policy without names" \
		"$p" "$s ($d)" "$(rat "$s" "$p")" "+0 (±1)" $v
done
for k in host100.connect.h100.bench.test host100.connect.127.0.0.1; do
	s=${I[$k]}
	if [ -z "$b" ] || [ -z "$s" ]; then row "connect, 100 host rules: $k (a run failed)" - - - - FAIL; continue; fi
	what="the answer of h100.bench.test (rule #100 decides)"
	[ "${k#*connect.}" = 127.0.0.1 ] && what="127.0.0.1 as a number (not in the table)"
	row "Ir per connect, 100 host rules, to $what: against bare" "$b" "$s ($(sub "$s" "$b"))" "$(rat "$s" "$b")" - info
done
b=${I[bare.resolve.localhost]} s=${I[plainres.resolve.h1.bench.test]} l=${I[plainres.resolve.localhost]}
if [ -n "$b" ] && [ -n "$s" ]; then
	awk -v s="$s" -v b="$b" 'BEGIN { exit !(s <= b) }' && v=pass || v=FAIL
	row "Ir per getaddrinfo+freeaddrinfo: a rewritten name under the shim, against localhost from /etc/hosts bare" \
		"$b" "$s" "$(rat "$s" "$b")" "≤ 1×" $v
else
	row "Ir per getaddrinfo, rewritten against /etc/hosts (a run failed)" - - - "≤ 1×" FAIL
fi
if [ -n "$b" ] && [ -n "$l" ]; then
	row "Ir per getaddrinfo of localhost, under a resolve rule it does not match: against bare" \
		"$b" "$l ($(sub "$l" "$b"))" "$(rat "$l" "$b")" - info
fi
tb=$(best_us "$T/time.bare.resolve.localhost") ts=$(best_us "$T/time.plainres.resolve.h1.bench.test")
if [ -n "$tb" ] && [ -n "$ts" ]; then
	row "µs per getaddrinfo+freeaddrinfo (best of 3 × $TN): rewritten name against localhost from /etc/hosts bare" \
		"$tb" "$ts" "$(rat "$ts" "$tb")" - info
else
	row "µs per getaddrinfo (a timing run failed)" - - - - FAIL
fi

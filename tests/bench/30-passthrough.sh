#!/bin/bash
# 30: pass-through costs nothing.
#
# A call no rule matches must cost no system call and at most 150
# instructions more than the same call without the shim. Measured for
# socket+close, bind, connect, setsockopt and sendto (callloop.c: N
# iterations of one of them on loopback), with two policies:
#   empty   no rules at all (the shim only looks at its rule mask);
#   100     100 rules on connect, bind and send, with addr = 10.x CIDRs and
#           port = 1000-1999, which the loop never uses (127.0.0.1, ports 0
#           and 9300): every call is looked at, and no rule matches (the rule
#           index answers that no rule holds the address or the port).
# and, for instructions only (callgrind), policies of the shapes users write,
# 100 and 1,000 rules each, every rule on connect, bind and send, none
# matching the loop's calls:
#   addr100, addr1000      one host, many ports: addr = 127.0.0.0/8 (the
#                          loop's own address), port = 1001, 1002, ...
#   port100, port1000      many hosts, one port: addr = 10.x.y.0/24 each,
#                          port = 9300, 9301 (the loop's own ports)
#   nested100, nested1000  CIDRs inside each other around the loop's address
#                          (127.0.0.0/8 to /32), port = 1001, 1002, ...
# (socket+close, bind, connect and sendto; target <= +150 per call as above)
# connect is a UDP connect on one socket (it sets the default destination: no
# handshake, so the loop measures connect itself, not a listener's accept).
# bind is measured as the loop socket+bind+close minus the loop socket+close.
#
# System calls: strace -f -c counts every system call of the whole process,
# bare and under the shim, for N and 2N iterations. The per-call figure is the
# slope ((2N run - N run) / N), which excludes what the shim does once at
# start-up (reading the policy, its log); that one-time difference
# (shim total - bare total at N) is reported too. Target: slope + 0.
#
# Instructions: callgrind counts user-space instructions (Ir) of the whole
# process for N and 2N iterations; added per call =
# ((shim_2N - shim_N) - (bare_2N - bare_N)) / N, so start-up divides out.
# Target: <= 150 per call (socket+close is two calls: <= 300). On a FAIL the
# shim's functions on the path are listed (callgrind_annotate, inclusive).
#
# Checks: every loop ran without a failed call; a probe run at log_level =
# debug shows the shim loaded each policy and saw every kind of call (its
# debug lines, rule=-).
#
# Knobs: BENCH_PT_STRACE_N (default 2000), BENCH_PT_CALLGRIND_N (5000).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/callgrind.sh"

SN=${BENCH_PT_STRACE_N:-2000}
CN=${BENCH_PT_CALLGRIND_N:-5000}
OPS="socket bind connect setsockopt sendto"
SHAPES="addr100 addr1000 port100 port1000 nested100 nested1000"
SHAPE_OPS="socket bind connect sendto"
LIMIT_INSN=150

# pre CFG: the environment prefix for a run (nothing for bare)
pre() {
	case $1 in
	bare) ;;
	*) echo "SOCKSHIM_POLICY=$T/$1.ini LD_PRELOAD=$SHIM" ;;
	esac
}

# st CFG OP N PORT: strace -c of one run; the loop's own line to
# $T/out.st.CFG.OP.N (two runs go at once: each has a port of its own)
st() {
	local e=() v
	for v in $(pre "$1"); do e+=(-E "$v"); done
	timeout -k 5 120 strace -f -c -o "$T/st.$1.$2.$3" "${e[@]}" "$BIN/callloop" "$2" "$3" "$4" >"$T/out.st.$1.$2.$3" 2>&1
}

# cg CFG OP N PORT: callgrind of one run (valgrind passes LD_PRELOAD on)
cg() {
	timeout -k 5 300 env $(pre "$1") valgrind --tool=callgrind --callgrind-out-file="$T/cg.$1.$2.$3" \
		"$BIN/callloop" "$2" "$3" "$4" >"$T/out.cg.$1.$2.$3" 2>"$T/vg.$1.$2.$3"
}

measure() {
	local cfg op
	# the probe: debug log, 2 iterations of each loop per policy
	for cfg in empty 100; do
		for op in $OPS; do
			SOCKSHIM_LOG=file:$T/probe.$cfg.log SOCKSHIM_LOG_LEVEL=debug timeout -k 5 30 env $(pre $cfg) \
				"$BIN/callloop" $op 2 >/dev/null
		done
	done
	# two at a time (counts do not depend on timing)
	for op in $OPS; do
		for cfg in bare empty 100; do
			st $cfg $op $SN 9300 &
			st $cfg $op $((2 * SN)) 9301 &
			wait
		done
		note "strace: $op done"
	done
	for op in $OPS; do
		for cfg in bare empty 100; do
			cg $cfg $op $CN 9300 &
			cg $cfg $op $((2 * CN)) 9301 &
			wait
		done
		note "callgrind: $op done"
	done
	for op in $SHAPE_OPS; do
		for cfg in $SHAPES; do
			cg $cfg $op $CN 9300 &
			cg $cfg $op $((2 * CN)) 9301 &
			wait
		done
		note "callgrind, policy shapes: $op done"
	done
}

dispatch "$@"

policy empty.ini >/dev/null <<EOF
[global]
log_level = warn
EOF
{
	echo "[global]"
	echo "log_level = warn"
	ops=(connect bind send)
	for i in $(seq 1 100); do
		op=${ops[$((i % 3))]}
		echo
		echo "[r$i]"
		echo "on = $op"
		echo "addr = 10.$i.0.0/16, 10.$((i + 100)).128.0/24"
		echo "port = $((1000 + i * 5))-$((1004 + i * 5)), 1999"
		case $op in
		bind) echo "reuseaddr = force" ;;
		connect) echo "sockopt = SO_KEEPALIVE=1" ;;
		send) echo "deny = ENETUNREACH" ;;
		esac
	done
} | policy 100.ini >/dev/null

# shape NAME N: a policy of N rules of one shape (see the top)
shape() {
	local name=$1 n=$2 i
	{
		echo "[global]"
		echo "log_level = warn"
		for i in $(seq 1 "$n"); do
			echo
			echo "[s$i]"
			echo "on = connect, bind, send"
			case $name in
			addr) echo "addr = 127.0.0.0/8"; echo "port = $((1000 + i))" ;;
			port) echo "addr = 10.$((i / 256)).$((i % 256)).0/24"; echo "port = 9300, 9301" ;;
			nested) echo "addr = 127.0.0.0/$((8 + i % 25))"; echo "port = $((1000 + i))" ;;
			esac
			echo "sockopt = SO_KEEPALIVE=1"
		done
	} | policy "$name$n.ini" >/dev/null
}
for n in 100 1000; do
	for s in addr port nested; do shape $s $n; done
done

note "strace N=$SN and $((2 * SN)), callgrind N=$CN and $((2 * CN)); ops: $OPS"
in_netns measure

# calls FILE: total system calls in a strace -c summary
calls() { awk '$NF == "total" { print $4 }' "$1" 2>/dev/null; }
# ir FILE: total instructions in a callgrind output
ir() { sed -n 's/^summary: //p' "$1" 2>/dev/null | head -1; }
# slope FN CFG OP N: (FN of the 2N run - FN of the N run) / N, FN = calls or ir
slope() {
	local f=$1 cfg=$2 op=$3 n=$4 a b
	a=$($f "$T/$([ $f = calls ] && echo st || echo cg).$cfg.$op.$n")
	b=$($f "$T/$([ $f = calls ] && echo st || echo cg).$cfg.$op.$((2 * n))")
	[ -n "$a" ] && [ -n "$b" ] || return 1
	awk -v a="$a" -v b="$b" -v n="$n" 'BEGIN { printf "%.4f\n", (b - a) / n }'
}
sub() { awk -v a="$1" -v b="$2" -v p="${3:-4}" 'BEGIN { printf "%.*f\n", p, a - b }'; }
label() { [ "$1" = socket ] && echo "socket+close" || echo "$1"; }
pname() {
	case $1 in
	empty) echo "empty policy" ;;
	100) echo "100 rules, none matching" ;;
	addr*) echo "${1#addr} rules on one address (127.0.0.0/8), other ports, none matching" ;;
	port*) echo "${1#port} rules on other addresses, the loop's port, none matching" ;;
	nested*) echo "${1#nested} rules, nested CIDRs around 127.0.0.1, other ports, none matching" ;;
	esac
}

# every loop ran, none of its calls failed
bad=$(grep -L 'failures=0 ' "$T"/out.* 2>/dev/null | wc -l)
nout=$(ls "$T"/out.* 2>/dev/null | wc -l)
want_out=$((60 + $(echo $SHAPES | wc -w) * $(echo $SHAPE_OPS | wc -w) * 2))
[ "$nout" -eq "$want_out" ] && [ "$bad" -eq 0 ] && verdict=pass || verdict=FAIL
[ $verdict = FAIL ] && note "loops with failures or no result: $(grep -L 'failures=0 ' "$T"/out.* 2>/dev/null | head -5 | xargs -r -n1 basename)"
row "loops run without a failed call (strace + callgrind runs)" - "$((nout - bad))/$nout" - "$want_out/$want_out" $verdict

declare -A S I # S[cfg.op] syscalls per iteration, I[cfg.op] instructions per iteration
for cfg in bare empty 100; do
	for op in $OPS; do
		S[$cfg.$op]=$(slope calls $cfg $op $SN) || S[$cfg.$op]=
		I[$cfg.$op]=$(slope ir $cfg $op $CN) || I[$cfg.$op]=
	done
done
for cfg in $SHAPES; do
	for op in $SHAPE_OPS; do
		I[$cfg.$op]=$(slope ir $cfg $op $CN) || I[$cfg.$op]=
	done
done
# bind alone: (socket+bind+close) - (socket+close)
for cfg in bare empty 100 $SHAPES; do
	[ -n "${S[$cfg.bind]:-}" ] && [ -n "${S[$cfg.socket]:-}" ] && S[$cfg.bind]=$(sub "${S[$cfg.bind]}" "${S[$cfg.socket]}")
	[ -n "${I[$cfg.bind]}" ] && [ -n "${I[$cfg.socket]}" ] && I[$cfg.bind]=$(sub "${I[$cfg.bind]}" "${I[$cfg.socket]}")
done

failed_insn=()
for cfg in empty 100; do
	for op in $OPS; do
		b=${S[bare.$op]} s=${S[$cfg.$op]}
		if [ -z "$b" ] || [ -z "$s" ]; then
			row "syscalls per call, $(label $op), $(pname $cfg) (a run failed)" - - - "+0" FAIL
			continue
		fi
		d=$(sub "$s" "$b" 3)
		awk -v d="$d" 'BEGIN { exit !(d == 0) }' && verdict=pass || verdict=FAIL
		row "syscalls per call, $(label $op), $(pname $cfg) (strace -c, slope N→2N)" \
			"$(printf %.3f "$b")" "$(printf %.3f "$s") ($(printf %+.3f "$d"))" "$(ratio "$s" "$b")" "+0" $verdict
	done
	# one-time: total difference at N, per op; and the same divided by N
	once=() per=()
	for op in $OPS; do
		a=$(calls "$T/st.bare.$op.$SN") c=$(calls "$T/st.$cfg.$op.$SN")
		once+=("$op $(sub "${c:-0}" "${a:-0}" 0)")
		per+=("$(awk -v a="${a:-0}" -v c="${c:-0}" -v n="$SN" 'BEGIN { printf "%.4f", (c - a) / n }')")
	done
	row "$(pname "$cfg"): syscalls added in total at N=$SN, (shim − bare) [÷ N]" - \
		"$(IFS=,; echo "${once[*]}" | sed 's/,/, /g') [$(IFS=/; echo "${per[*]}")]" - "start-up only" info
done

for cfg in empty 100 $SHAPES; do
	ops=$OPS
	case $cfg in empty | 100) ;; *) ops=$SHAPE_OPS ;; esac
	for op in $ops; do
		b=${I[bare.$op]} s=${I[$cfg.$op]}
		if [ -z "$b" ] || [ -z "$s" ]; then
			row "instructions per call, $(label $op), $(pname $cfg) (a run failed)" - - - "≤ +$LIMIT_INSN" FAIL
			continue
		fi
		d=$(sub "$s" "$b" 1)
		limit=$LIMIT_INSN
		[ $op = socket ] && limit=$((2 * LIMIT_INSN))
		awk -v d="$d" -v l="$limit" 'BEGIN { exit !(d <= l) }' && verdict=pass || verdict=FAIL
		[ $verdict = FAIL ] && failed_insn+=("$cfg.$op")
		row "instructions per call, $(label $op), $(pname $cfg) (callgrind, slope N→2N)" \
			"$(printf %.1f "$b")" "$(printf %.1f "$s") ($(printf %+.1f "$d"))" "$(ratio "$s" "$b")" \
			"≤ +$limit$([ $op = socket ] && echo ' (2 calls)')" $verdict
	done
done

# where the added instructions go: per call, the shim's functions in the 2N
# run minus the N run, inclusive and self, so start-up divides out as in the
# figures (callgrind.sh)
for k in "${failed_insn[@]}"; do
	cfg=${k%%.*} op=${k#*.}
	note "where the instructions per call go: $(label "$op"), $(pname "$cfg") (the shim's functions, Ir per iteration)"
	cg_per_iteration "$T/cg.$cfg.$op.$CN" "$T/cg.$cfg.$op.$((2 * CN))" "$CN" | sed 's/^/  /'
done

# the probe: started with each policy, and saw every kind of call
probe=yes
for cfg in empty 100; do
	want=$([ $cfg = empty ] && echo 0 || echo 100)
	grep -q " info start .* rules=$want " "$T/probe.$cfg.log" 2>/dev/null || { probe=no; note "$cfg: no start line with rules=$want"; }
	for o in close bind connect setsockopt send; do
		grep -q " debug $o fd=[0-9]* udp .*rule=- " "$T/probe.$cfg.log" 2>/dev/null ||
			{ probe=no; note "$cfg: no debug line for $o"; }
	done
done
[ $probe = yes ] && verdict=pass || verdict=FAIL
row "shim loaded (rules=0, rules=100) and saw each call, rule=- (debug probe)" - $probe - yes $verdict
exit 0

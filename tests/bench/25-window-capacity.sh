#!/bin/bash
# 25: a source_port window's capacity with TIME_WAIT, against the kernel's
# own port range narrowed to the same ports.
#
# A 100-port window (41000-41099) to 10 destinations (127.0.0.1:9300-9309).
# `wincap client` makes one connection after another to the destinations in
# turn for BENCH_WINDOW_SECONDS (default 120): connect, one byte each way,
# close first, so every connection leaves its 4-tuple in TIME_WAIT on the
# client's side; a failed connect counts under its errno and waits 1 ms. The
# server (never preloaded) closes after the client. Control: the same client
# bare, with net.ipv4.ip_local_port_range narrowed to 41000-41099 inside the
# namespace. Each run has a network namespace of its own, so no run inherits
# another's TIME_WAIT. Then the client under a window rule for each rotate
# mode of BENCH_WINDOW_MODES (default "sequential random kernel").
# Targets: connections made >= 0.95x bare's, no failure kind bare does not
# also have, and every source port inside the window (getsockname).
. "$(dirname "$0")/lib.sh"

BASE=9300
NDEST=10
LO=41000
HI=41099
DUR=${BENCH_WINDOW_SECONDS:-120}
MODES=${BENCH_WINDOW_MODES:-sequential random kernel}

# measure OUT [POLICY]: one run in a fresh namespace; bare when no POLICY.
measure() {
	local out=$1 pol=${2:-} pre=()
	start_server "$out.server" "$BIN/wincap" serve $BASE $NDEST $((DUR + 30)) || return 1
	if [ -n "$pol" ]; then
		pre=(env SOCKSHIM_POLICY="$pol" LD_PRELOAD="$SHIM")
	else
		sysctl -qw net.ipv4.ip_local_port_range="$LO $HI" || return 1
	fi
	timeout -k 5 $((DUR + 60)) "${pre[@]}" "$BIN/wincap" client $BASE $NDEST "$DUR" $LO $HI >"$out"
	stop_server
}

dispatch "$@"

pol() { # MODE
	policy "$1.ini" <<INI
[global]
log = file:$T/$1.log
log_level = warn

[window]
on = connect
proto = tcp
port = $BASE-$((BASE + NDEST - 1))
source_port = $LO-$HI
rotate = $1
INI
}

note "$DUR s per run, window $LO-$HI, $NDEST destinations; bare, then $MODES"
in_netns measure "$T/bare"
note "bare: $(cat "$T/bare" 2>/dev/null)"
for m in $MODES; do
	in_netns measure "$T/$m" "$(pol "$m")"
	note "$m: $(cat "$T/$m" 2>/dev/null)"
done

b=$(cat "$T/bare" 2>/dev/null)
bt=$(kv total "$b")
bf=$(kv failures "$b")
if [ -z "$bt" ]; then
	row "window capacity: the bare run failed" - - - - FAIL
	exit 0
fi
for m in $MODES; do
	s=$(cat "$T/$m" 2>/dev/null)
	st=$(kv total "$s")
	if [ -z "$st" ]; then
		row "window capacity, rotate = $m: the run failed" - - - - FAIL
		continue
	fi
	r=$(ratio "$st" "$bt")
	v=$(awk -v r="$r" 'BEGIN { print (r != "-" && r >= 0.95) ? "pass" : "FAIL" }')
	row "connections in $DUR s, 100 ports x $NDEST destinations, rotate = $m (total)" "$bt" "$st" "$r" ">= 0.95" "$v"
	row "  per destination (min-max), rotate = $m" "$(kv min "$b")-$(kv max "$b")" "$(kv min "$s")-$(kv max "$s")" - - info
	sf=$(kv failures "$s")
	v=pass
	for kind in $(tr ',' '\n' <<<"$sf" | cut -d: -f1 | grep -v '^none$'); do
		grep -q "\(^\|,\)$kind:" <<<"$bf" || v=FAIL
	done
	row "  failed connects (errno:count), rotate = $m" "$bf" "$sf" - "none bare lacks" "$v"
	in=$(kv inside "$s")
	[ "${in%/*}" = "${in#*/}" ] && [ "${in#*/}" -gt 0 ] && v=pass || v=FAIL
	row "  source port inside $LO-$HI (getsockname), rotate = $m" "$(kv inside "$b")" "$in" - "shim: 100%" "$v"
	if grep -q 'warn\|error' "$T/$m.log" 2>/dev/null; then
		note "$m: the shim warned: $(head -3 "$T/$m.log")"
	fi
done
exit 0

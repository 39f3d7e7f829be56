#!/bin/bash
# 10: connections to one destination.
#
# From one source address a host can hold only as many connections to one
# ip:port as there are ephemeral ports (28,232 with the default
# ip_local_port_range 32768-60999). With a `source` pool and no source_port,
# the shim binds each socket to a pool address with IP_BIND_ADDRESS_NO_PORT,
# so the kernel picks the port per 4-tuple: one process should then hold
# 200,000 concurrent connections to ONE listener, 127.0.0.1:9001.
#
# How: holdserver accepts and holds every connection; conncount (one process)
# connects blocking sockets one after another and holds them, until the first
# error, a cap or a time limit. Bare first, then under the shim with the pool
# policy, each in a fresh network namespace of its own (the bare run's
# leftovers cannot matter). A short probe run at log_level = info checks that
# the shim loaded and decided with rule=pool; the measured run logs at warn,
# so the log costs nothing. The kernel's own view (getsockname: 8 distinct
# source addresses) shows the pool was used.
#
# For comparison (info rows, no target), a third run uses the same pool with
# source_port = 32768-60999: the shim then picks the port itself and binds
# address and port, instead of the kernel's connect-time port search.
#
# Where RLIMIT_NOFILE cannot be raised (no CAP_SYS_RESOURCE), both programs
# park their connections as in-flight SCM_RIGHTS files (see bench.h), the
# same way in both runs.
#
# Knobs: BENCH_CONN_CAP (default 250000), BENCH_CONN_SECONDS (per run,
# default 180).
. "$(dirname "$0")/lib.sh"

PORT=9001
CAP=${BENCH_CONN_CAP:-250000}
LIMIT=${BENCH_CONN_SECONDS:-180}
TARGET=200000

# count_run OUT [POLICY]: in this (fresh) namespace, start holdserver and run
# conncount, preloaded with POLICY if given; its result line goes to OUT.
count_run() {
	local out=$1 pol=${2:-} pre=()
	# per namespace; the server asks for more and the kernel caps it here
	sysctl -qw net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535 || return 1
	echo "namespace: ip_local_port_range $(tr '\t' - </proc/sys/net/ipv4/ip_local_port_range)"
	start_server "$out.server" "$BIN/holdserver" 127.0.0.1 $PORT $((CAP + 1000)) $((LIMIT + 60)) || return 1
	[ -n "$pol" ] && pre=(env SOCKSHIM_POLICY="$pol" LD_PRELOAD="$SHIM")
	timeout -k 5 $((LIMIT + 30)) "${pre[@]}" "$BIN/conncount" 127.0.0.1 $PORT "$CAP" "$LIMIT" >"$out"
	local rc=$?
	stop_server
	sed 's/^/server: /' "$out.server"
	return $rc
}

dispatch "$@"

# Enough memory and file handles for CAP client and CAP server sockets?
avail_kb=$(awk '/MemAvailable/ { print $2 }' /proc/meminfo)
read -r files_used _ files_max </proc/sys/fs/file-nr
need_files=$((2 * CAP + 20000))
if [ "$avail_kb" -lt $((3 * 1024 * 1024)) ] || [ $((files_max - files_used)) -lt $need_files ]; then
	note "not run: $((avail_kb / 1024)) MiB available (want 3 GiB), $((files_max - files_used)) file handles free (want $need_files)"
	row "connections to one ip:port (not run: too little memory or fs.file-max)" - - - "shim ≥ $TARGET" FAIL
	exit 0
fi
hard=$(ulimit -Hn)
note "RLIMIT_NOFILE hard limit $hard, fs.nr_open $(cat /proc/sys/fs/nr_open), fs.file-max $files_max"
[ "$hard" != unlimited ] && [ "$hard" -lt "$CAP" ] && note "RLIMIT_NOFILE cannot reach $CAP here: fds beyond it are parked as in-flight SCM_RIGHTS files (bench.h)"

pool='[pool]
on = connect
proto = tcp
source = 127.0.0.2, 127.0.0.3, 127.0.0.4, 127.0.0.5, 127.0.0.6, 127.0.0.7, 127.0.0.8, 127.0.0.9'
probe_pol=$(policy probe.ini <<EOF
[global]
log = file:$T/probe.log
log_level = info
$pool
EOF
)
run_pol=$(policy pool.ini <<EOF
[global]
log = stderr
log_level = warn
$pool
EOF
)
window_pol=$(policy pool-window.ini <<EOF
[global]
log = stderr
log_level = warn
$pool
source_port = 32768-60999
EOF
)

note "bare: up to $CAP connections to 127.0.0.1:$PORT, at most $LIMIT s"
in_netns count_run "$T/bare"
bare=$(cat "$T/bare" 2>/dev/null)
note "bare: $bare"

# The probe: 16 connections at log_level = info, in a namespace of its own.
BENCH_CONN_CAP=16 in_netns count_run "$T/probe" "$probe_pol" >/dev/null
probe_decisions=$(grep -c ' rule=pool actions=source=127\.0\.0\.[2-9] rc=0' "$T/probe.log" 2>/dev/null)
if grep -q ' info start .*policy='"$probe_pol" "$T/probe.log" 2>/dev/null && [ "${probe_decisions:-0}" -eq 16 ]; then
	probe=yes
else
	probe=no
	note "probe log:"; sed 's/^/  /' "$T/probe.log" 2>/dev/null | head -5
fi
note "probe: shim start line and $probe_decisions/16 rule=pool decisions in its log"

note "shim: up to $CAP connections to 127.0.0.1:$PORT, at most $LIMIT s, source pool of 8"
in_netns count_run "$T/shim" "$run_pol"
shim=$(cat "$T/shim" 2>/dev/null)
note "shim: $shim"

note "shim, pool + source_port = 32768-60999: up to $CAP connections, at most $LIMIT s"
in_netns count_run "$T/window" "$window_pol"
window=$(cat "$T/window" 2>/dev/null)
note "shim, pool + window: $window"

if [ -z "$bare" ] || [ -z "$shim" ]; then
	row "connections to one ip:port (a run failed, see the log)" "$(kv count "$bare")" "$(kv count "$shim")" - "shim ≥ $TARGET" FAIL
	exit 1
fi

# the time a run took to reach N connections, from conncount's marks
mark() { tr ',' '\n' <<<"$(kv marks "$2")" | sed -n "s/^$1://p"; }

bc=$(kv count "$bare") sc=$(kv count "$shim")
[ "$sc" -ge $TARGET ] && verdict=pass || verdict=FAIL
row "connections held to 127.0.0.1:$PORT by one process" "$bc" "$sc" "$(ratio "$sc" "$bc")" "shim ≥ $TARGET" $verdict
row "why the run stopped (cap $CAP, limit $LIMIT s)" "$(kv stop "$bare")" "$(kv stop "$shim")" - - info
row "run time, s" "$(kv elapsed "$bare")" "$(kv elapsed "$shim")" "$(ratio "$(kv elapsed "$shim")" "$(kv elapsed "$bare")")" - info
for n in 100000 200000; do
	row "time to $n connections, s" "$(mark $n "$bare" | grep . || echo 'not reached')" \
		"$(mark $n "$shim" | grep . || echo 'not reached')" - - info
done
row "peak RSS of the client, KiB" "$(kv maxrss_kb "$bare")" "$(kv maxrss_kb "$shim")" \
	"$(ratio "$(kv maxrss_kb "$shim")" "$(kv maxrss_kb "$bare")")" - info
[ "$(kv sources "$shim")" = 8 ] && verdict=pass || verdict=FAIL
row "source addresses the kernel reports (getsockname)" "$(kv sources "$bare")" "$(kv sources "$shim")" - "shim: 8" $verdict
wc=$(kv count "$window")
row "for comparison: pool + source_port = 32768-60999, connections held" "$bc" "${wc:--}" "$(ratio "${wc:-0}" "$bc")" - info
row "for comparison: pool + source_port, run time, s" "$(kv elapsed "$bare")" "$(kv elapsed "$window" | grep . || echo -)" \
	- - info
[ $probe = yes ] && verdict=pass || verdict=FAIL
row "shim loaded: start line + 16/16 rule=pool decisions (probe)" - $probe - yes $verdict
exit 0

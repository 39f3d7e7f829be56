# Shared helpers for the benchmarks in tests/bench/. Each NN-*.sh sources
# this file, measures, and reports figures with `row`; run.sh prints them as
# one table. run.sh sets:
#   TOP    the source tree
#   BUILD  the build directory (absolute)
#   SHIM   $BUILD/libsockshim.so
#   BIN    $BUILD/bench, the compiled benchmark programs
#   ROWS   the file the rows go to (one tab-separated line per row)
#   T      a fresh temporary directory, removed afterwards
#
# A benchmark script has this shape:
#   . "$(dirname "$0")/lib.sh"
#   measure() { ...runs inside a fresh network namespace... }
#   dispatch "$@"                  # must follow the function definitions
#   in_netns measure ARGS...       # the script's main part
#   row "figure" BARE SHIM RATIO TARGET pass|FAIL|info

set -u
BENCH_SCRIPT=$(realpath "$0")
BENCH_NAME=$(basename "$0" .sh)

# row FIGURE BARE SHIM RATIO TARGET PASS: one line of the final table. Use
# "-" for an empty cell; PASS is pass, FAIL or info (no target).
row() {
	if [ $# -ne 6 ]; then
		echo "row: want 6 fields, got $#: $*" >&2
		set -- "${1:-?}" - - - - FAIL
	fi
	case $6 in pass | FAIL | info) ;; *) echo "row: bad pass value '$6'" >&2; set -- "$1" "$2" "$3" "$4" "$5" FAIL ;; esac
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$ROWS"
}

# note TEXT: a progress line, prefixed with the benchmark's name.
note() { echo "[$BENCH_NAME] $*"; }

# policy NAME <<EOF ... EOF: write a policy into $T (not group/other-writable,
# or the shim refuses it) and print its path.
policy() {
	cat >"$T/$1"
	chmod 0644 "$T/$1"
	echo "$T/$1"
}

# shim POLICY COMMAND...: run COMMAND with the shim preloaded.
shim() {
	local p=$1
	shift
	SOCKSHIM_POLICY=$p LD_PRELOAD="$SHIM${LD_PRELOAD:+:$LD_PRELOAD}" "$@"
}

# in_netns FUNCTION ARGS...: run FUNCTION of the calling script in new
# network, PID and mount namespaces with only loopback up. Nothing leaves the
# machine, and when FUNCTION returns (or unshare is killed) the kernel kills
# whatever it left running; the namespace goes away with its last process.
# unshare blocks SIGTERM/SIGINT and the namespace's init ignores them, so on
# either signal this kills unshare outright (--kill-child takes init along).
in_netns() {
	unshare -n -p -f -m --mount-proc --kill-child -- \
		bash -c 'ip link set lo up && exec bash "$0" --in-netns "$@"' "$BENCH_SCRIPT" "$@" &
	local up=$! rc
	trap "kill -KILL $up 2>/dev/null; exit 143" TERM INT
	wait $up
	rc=$?
	trap - TERM INT
	return $rc
}

# dispatch "$@": the other half of in_netns; call it after the functions.
dispatch() {
	if [ "${1:-}" = --in-netns ]; then
		shift
		"$@"
		exit $?
	fi
}

# start_server OUTFILE COMMAND...: start a server in the background, wait (at
# most 5 s) for "ready" in OUTFILE; sets SERVER_PID. Returns 1 if not ready.
start_server() {
	local out=$1 i=0
	shift
	"$@" >"$out" 2>&1 &
	SERVER_PID=$!
	while [ $i -lt 100 ]; do
		grep -q '^ready' "$out" 2>/dev/null && return 0
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.05
		i=$((i + 1))
	done
	echo "server did not start: $(cat "$out")" >&2
	return 1
}

# stop_server: SIGTERM the server started by start_server and wait for it.
stop_server() {
	kill -TERM "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
	return 0
}

# kv KEY LINE: the value of KEY=value in a line of space-separated pairs.
kv() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p" | head -1; }

# median A B C...: the median of numbers (the lower middle for an even count).
median() { printf '%s\n' "$@" | sort -g | sed -n "$((($# + 1) / 2))p"; }

# ratio A B: A/B with two decimals, "-" if B is zero or not a number.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a == "-") print "-"; else printf "%.2f\n", a / b }'; }

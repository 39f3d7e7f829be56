#!/bin/bash
# Run the benchmarks: build the programs of tests/bench/*.c into $BUILD/bench,
# run every tests/bench/NN-*.sh (or those whose name contains the first
# argument), and print one Markdown table of their figures:
#
#   | figure | bare | shim | ratio | target | pass |
#
# with the machine and the date above it. Everything printed also goes to
# $BUILD/bench/results.md. Exits non-zero if a row FAILs or a script fails.
#
# A benchmark script measures in network namespaces of its own (see lib.sh)
# and reports each figure with `row FIGURE BARE SHIM RATIO TARGET PASS`.
# Adding a benchmark means adding an NN-name.sh (and its programs as .c
# files here); this runner needs no change.
#
#   BUILD=/tmp/b tests/bench/run.sh [ONLY]     after `make BUILD=/tmp/b`
#   BENCH_SCRIPT_TIMEOUT=900                   seconds per script (default 600)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build}
case $build in /*) ;; *) build=$top/$build ;; esac
only=${1:-}
bin=$build/bench
results=$bin/results.md
script_timeout=${BENCH_SCRIPT_TIMEOUT:-600}

machine() {
	local cpu glibc rev
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
	glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null || ldd --version 2>/dev/null | head -1)
	rev=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
	git -C "$top" diff --quiet HEAD -- src Makefile 2>/dev/null || rev="$rev + uncommitted changes in src/ or Makefile"
	echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "- machine: ${cpu:-unknown CPU}, $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
	echo "- kernel: $(uname -sr); $glibc"
	echo "- sockshim: $rev ($SHIM)"
}

table() {
	echo "| figure | bare | shim | ratio | target | pass |"
	echo "| --- | --- | --- | --- | --- | --- |"
	awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6 }' "$ROWS"
}

main() {
	if [ "$(id -u)" != 0 ]; then
		echo "the benchmarks need root (network namespaces, per-namespace sysctls)" >&2
		return 1
	fi
	if [ ! -f "$SHIM" ]; then
		echo "no $SHIM: build first (make BUILD=$build)" >&2
		return 1
	fi
	local c name
	for c in "$top"/tests/bench/*.c; do
		[ -f "$c" ] || continue
		name=$(basename "$c" .c)
		cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -pthread -I"$top/tests/bench" -o "$bin/$name" "$c" || {
			echo "cannot build $c" >&2
			return 1
		}
	done

	echo "# sockshim benchmarks"
	echo
	echo '```text'
	local s rc before why t0 failed=0
	# ^C or TERM: stop the running script too (timeout passes the signal on
	# to its process group; unshare --kill-child then ends the namespace)
	trap 'kill -TERM "$pid" 2>/dev/null; echo "interrupted"; exit 130' INT TERM
	for s in "$top"/tests/bench/[0-9][0-9]-*.sh; do
		[ -f "$s" ] || continue
		name=$(basename "$s" .sh)
		[ -n "$only" ] && [[ $name != *"$only"* ]] && continue
		T=$(mktemp -d)
		before=$(wc -l <"$ROWS")
		t0=$SECONDS
		# output to a file, not a pipe: nothing left behind can hold the
		# runner; tail shows it as it comes and stops when the script ends
		: >"$T.out"
		(cd "$T" && TOP=$top BUILD=$build SHIM=$SHIM BIN=$bin ROWS=$ROWS T=$T \
			exec timeout -k 10 "$script_timeout" bash "$s" </dev/null >"$T.out" 2>&1) &
		pid=$!
		tail -n +1 -s 0.5 -f --pid=$pid "$T.out" &
		wait $pid # a trapped signal interrupts this wait, not a foreground tail
		rc=$?
		wait $!
		rm -rf "$T" "$T.out"
		echo "[$name] finished in $((SECONDS - t0)) s, exit status $rc"
		if [ $rc -ne 0 ]; then
			failed=1
			[ $rc -eq 124 ] && why="timed out after $script_timeout s" || why="exit status $rc"
			printf '%s\t-\t-\t-\t-\tFAIL\n' "$name: script failed ($why)" >>"$ROWS"
		elif [ "$(wc -l <"$ROWS")" -eq "$before" ]; then
			printf '%s\t-\t-\t-\t-\tFAIL\n' "$name: no figures" >>"$ROWS"
		fi
	done
	echo '```'
	echo
	machine
	echo
	if [ ! -s "$ROWS" ]; then
		echo "no benchmark matched '$only'"
		return 1
	fi
	table
	local nfail
	nfail=$(awk -F'\t' '$6 == "FAIL"' "$ROWS" | wc -l)
	echo
	echo "$(wc -l <"$ROWS") figures, $nfail FAIL"
	[ "$nfail" -eq 0 ] && [ $failed -eq 0 ]
}

mkdir -p "$bin" || exit 1
SHIM=$build/libsockshim.so
ROWS=$bin/rows.tsv
: >"$ROWS"
# main runs in this shell (its trap must see our signals), its output teed
exec 3>&1 4>&2 > >(tee "$results") 2>&1
tee_pid=$!
main
rc=$?
exec 1>&3 2>&4 3>&- 4>&-
wait $tee_pid
echo "(saved to $results)"
exit $rc

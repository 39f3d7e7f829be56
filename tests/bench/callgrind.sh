# Helpers for reading callgrind profiles, sourced by the benchmarks that
# explain where instructions go (30, 40, 50, 70). Not a benchmark itself: run.sh
# only runs NN-*.sh.
#
# The profiles compared are two runs of the same loop, N and 2N iterations:
# their difference divided by N is the cost of one iteration, with whatever
# the program does once (start-up, the policy load) divided out.

# cg_functions FILE INCLUSIVE(yes|no) [OBJECT]: "function Ir" for each
# function of OBJECT (default libsockshim) in a callgrind profile
cg_functions() {
	callgrind_annotate --inclusive="$2" --auto=no --threshold=100 "$1" 2>/dev/null |
		awk -v obj="${3:-libsockshim}" 'index($0, obj) { sub(/\( *[0-9.]+%\)/, ""); if ($1 ~ /^[0-9,]+$/) { v = $1; gsub(",", "", v); print $2, v } }' |
		LC_ALL=C sort
}

# cg_per_iteration FILE_N FILE_2N N [TOP] [OBJECT]: the functions of OBJECT
# (default libsockshim) by their inclusive Ir per iteration (and self), the
# TOP (default 14) dearest
cg_per_iteration() {
	local f1=$1 f2=$2 n=$3 top=${4:-14} obj=${5:-libsockshim}
	LC_ALL=C join -a 1 -e 0 -o 0,1.2,1.3,2.2,2.3 \
		<(LC_ALL=C join -a 2 -e 0 -o 0,1.2,2.2 <(cg_functions "$f1" yes "$obj") <(cg_functions "$f2" yes "$obj")) \
		<(LC_ALL=C join -a 2 -e 0 -o 0,1.2,2.2 <(cg_functions "$f1" no "$obj") <(cg_functions "$f2" no "$obj")) |
		awk -v n="$n" '{ i = ($3 - $2) / n; s = ($5 - $4) / n; if (i >= 0.5) printf "%8.1f incl %8.1f self  %s\n", i, s, $1 }' |
		sort -rn | head -"$top" | sed 's|[^ ]*/src/|src/|'
}

#!/bin/bash
# 90: sockshim report on a million-line log.
#
# `sockshim report` reads a 1,000,000-line decision log, text and then JSON,
# in a few seconds (target: ≤ 5 s each), in memory that does not grow with
# the lines (the same log of 100,000 lines for comparison: peak RSS within
# 2 MiB of it).
#
# How: awk writes the log (BENCH_REPORT_LINES, default 1000000) in the
# format src/act/log.c writes: 50 processes of 5 programs (a start line each),
# then decisions from them in turn: every 10th denied (7 destinations),
# every 10th rewritten, the others allowed to 100 ports; a warn
# log-dropped line every 10,000 lines and a damaged line (cut short,
# binary, over-long, not a log line) every 100,000. It also writes what the
# report must say. Each run is timed (BENCH_REPORT_REPS runs, default 3,
# median), its peak RSS read from /usr/bin/time or, without it, not shown.
# Checks: the report's decisions, denied destinations, damaged lines and
# per-rule counts (--json, read with jq or python3) equal the generator's.
# No network: the script runs as it is, no namespace needed.
. "$(dirname "$0")/lib.sh"

N=${BENCH_REPORT_LINES:-1000000}
REPS=${BENCH_REPORT_REPS:-3}
LAUNCHER=$BUILD/sockshim

# gen FORMAT LINES OUT: the log, and OUT.want: decisions denied damaged rule-allow rule-deny rule-rw
gen() {
	awk -v fmt="$1" -v n="$2" -v want="$3.want" 'BEGIN {
		srand(1); split("curl python3 node nginx redis-server", prog, " ")
		ts = "2026-12-02T05:56:48.%06dZ"
		for (p = 0; p < 50; p++) {
			t = sprintf(ts, p)
			if (fmt == "json")
				printf "{\"ts\":\"%s\",\"pid\":%d,\"level\":\"info\",\"event\":\"start\",\"version\":\"0.1.0\",\"program\":\"%s\",\"exe\":\"%s\",\"policy\":\"/p.ini\",\"rules\":3,\"mode\":\"enforce\"}\n", t, 1000 + p, prog[p % 5 + 1], prog[p % 5 + 1]
			else
				printf "%s sockshim[%d] info start version=0.1.0 program=%s exe=%s policy=/p.ini rules=3 mode=enforce\n", t, 1000 + p, prog[p % 5 + 1], prog[p % 5 + 1]
		}
		long = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" # 64 bytes
		while (length(long) < 9000) long = long long # mawk: sprintf stops at 8 KiB
		for (i = 50; i < n; i++) {
			t = sprintf(ts, i % 1000000); pid = 1000 + i % 50
			if (i % 100000 == 99999) {
				k = (i / 100000) % 4
				if (k == 0) print "{\"ts\":\"2026-12-02T05:56:48.2\""
				else if (k == 1) printf "bin\001\000ary\n"
				else if (k == 2) print long
				else print "not a log line"
				bad++; continue
			}
			if (i % 10000 == 5000) {
				if (fmt == "json")
					printf "{\"ts\":\"%s\",\"pid\":%d,\"level\":\"warn\",\"event\":\"log-dropped\",\"dropped\":3,\"msg\":\"lines the log sink did not take\"}\n", t, pid
				else
					printf "%s sockshim[%d] warn log-dropped dropped=3 msg=lines the log sink did not take\n", t, pid
				continue
			}
			d++
			if (i % 10 == 0) {
				a = sprintf("10.1.%d.3:5432", i % 7); rule = "no-egress"; act = "deny=ENETUNREACH"; rc = -1; er = "ENETUNREACH"; deny++
			} else if (i % 10 == 1) {
				a = "10.20.0.7:5432"; rule = "mock-db"; act = "rewrite=127.0.0.1:15432"; rc = 0; er = ""; rw++
			} else {
				a = sprintf("127.0.0.1:%d", 8000 + i % 100); rule = "loopback"; act = "allow"; rc = 0; er = ""; allow++
			}
			if (fmt == "json")
				printf "{\"ts\":\"%s\",\"pid\":%d,\"level\":\"info\",\"op\":\"connect\",\"fd\":5,\"proto\":\"tcp\",\"family\":\"ipv4\",\"addr\":\"%s\",\"rule\":\"%s\",\"actions\":[\"%s\"],\"dry_run\":false,\"rc\":%d,\"errno\":%s}\n", t, pid, a, rule, act, rc, er == "" ? "null" : "\"" er "\""
			else
				printf "%s sockshim[%d] info connect fd=5 tcp %s rule=%s actions=%s rc=%d%s\n", t, pid, a, rule, act, rc, er == "" ? "" : " errno=" er
		}
		printf "%d %d %d %d %d %d\n", d, 7, bad, allow, deny, rw > want
	}' >"$3"
}

# got FILE: the same six figures from `report --json`
got() {
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
rules = {x["rule"]: x["matched"] for x in r["rules"]}
print(r["decisions"], len(r["denied"]), r["damaged"], rules.get("loopback", 0), rules.get("no-egress", 0), rules.get("mock-db", 0))' "$1"
}

# timed OUT LOG [--json]: one run; prints "seconds rss_kib"
timed() {
	local out=$1 log=$2
	shift 2
	local s e
	s=$(date +%s.%N)
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f '%M' -o "$out.rss" timeout -k 5 120 "$LAUNCHER" report "$@" "$log" >"$out"
	else
		timeout -k 5 120 "$LAUNCHER" report "$@" "$log" >"$out"
		echo - >"$out.rss"
	fi
	e=$(date +%s.%N)
	echo "$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }') $(tail -1 "$out.rss")"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for fmt in text json; do
	gen $fmt "$N" "$T/$fmt.log"
	gen $fmt $((N / 10)) "$T/$fmt.small.log"
	lines=$(wc -l <"$T/$fmt.log")
	note "$fmt: $lines lines, $(du -m "$T/$fmt.log" | cut -f1) MB"
	: >"$T/times"
	for i in $(seq "$REPS"); do
		timed "$T/$fmt.out.$i" "$T/$fmt.log" >>"$T/times"
	done
	sec=$(cut -d' ' -f1 "$T/times" | median)
	rss=$(cut -d' ' -f2 "$T/times" | median)
	timed "$T/$fmt.json" "$T/$fmt.log" --json >/dev/null
	small=$(timed "$T/$fmt.small.json" "$T/$fmt.small.log" --json | cut -d' ' -f2)
	verdict=$(awk -v s="$sec" 'BEGIN { print (s <= 5) ? "pass" : "FAIL" }')
	row "sockshim report, $lines-line $fmt log: seconds (median of $REPS)" - "$sec" - "≤ 5" "$verdict"
	if [ "$rss" != - ] && [ -n "$small" ] && [ "$small" != - ]; then
		v=$(awk -v a="$rss" -v b="$small" 'BEGIN { print (a - b <= 2048) ? "pass" : "FAIL" }')
		row "sockshim report, $fmt: peak RSS KiB, $((lines / 10)) lines vs $lines lines" "$small" "$rss" - "within 2048" "$v"
	fi
	want=$(cat "$T/$fmt.log.want") have=$(got "$T/$fmt.json" 2>/dev/null)
	[ "$want" = "$have" ] && v=pass || { v=FAIL; note "$fmt: want '$want', report says '$have'"; }
	row "sockshim report, $fmt: decisions, denied destinations, damaged, per-rule matched as generated" - "$have" - "$want" "$v"
done
exit 0

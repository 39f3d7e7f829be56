#!/bin/bash
# 44: a policy of 100,000 rules loads and checks in time near-linear in its
# rules. The policy (tests/helpers/genrules.sh: different addresses, one
# address with different ports, mixed ops over IPv6, nested CIDRs, port
# ranges with programs) ends with one rule that pins the source of a
# connect to 127.0.0.1:9451. `sockshim check` must finish within 60 s with
# the exact count of warnings, and a program under the shim within 30 s
# (both take about a second; a load quadratic in rules took 159 s). The
# last rule must really decide: the server sees the connection come from
# 127.0.0.2 (bare: 127.0.0.1). A policy whose rules crowd onto one address
# and port gets a note that check bounded its comparisons.
. "$TOP/tests/lib.sh"

PY=$(python3 -c 'import sys; print(sys.executable)')

{
	"$TOP/tests/helpers/genrules.sh" 100000
	printf '[last]\non = connect\naddr = 127.0.0.1\nport = 9451\nsource = 127.0.0.2\n'
} | policy scale.ini >/dev/null
P=$T/scale.ini

start=$(date +%s%N)
out=$(timeout 60 "$BUILD/sockshim" check "$P" 2>"$T/check.err")
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
echo "# check of 100,001 rules: $ms ms"
expect_eq "check finishes within 60 s, and the policy is valid (exit 0)" "$rc" 0
expect_eq "check counts every rule and warning" "$out" "$P: OK, 100001 rules, 22584 warnings"
expect_match "a repeated rule is reported shadowed by its twin" "$(cat "$T/check.err")" \
	"^$P:[0-9]+: warning: rule 'r100000' can never match: rule 'r99999' \(line [0-9]+\) comes first"
expect_match "a nested /24 is reported shadowed by the /16 before it" "$(cat "$T/check.err")" \
	"warning: rule 'r[0-9]+' can never match: rule 'r6' \(line [0-9]+\) comes first"
expect_eq "no rule's search was cut short" "$(grep -c 'note:' "$T/check.err")" 0

# 5,000 rules on one address and port that differ only in program, and one
# more repeating rule 4,500: rule k has k earlier rules to compare with, and
# past 4,096 comparisons check stops and says so (rules 4,097-4,999 and the
# repeat, whose twin lies past its first 4,096)
awk 'BEGIN { for (k = 0; k < 5000; k++) printf "[p%d]\non = connect\naddr = 10.0.0.1\nport = 80\nprogram = app%d\n", k, k
	print "[again]\non = connect\naddr = 10.0.0.1\nport = 80\nprogram = app4500" }' | policy crowd.ini >/dev/null
out=$(timeout 60 "$BUILD/sockshim" check "$T/crowd.ini" 2>&1)
expect_eq "check of a crowded policy: valid, no warning found" "$(tail -1 <<<"$out")" "$T/crowd.ini: OK, 5001 rules"
expect_eq "... and a note that 904 rules were compared with only 4,096 others" "$(grep note: <<<"$out")" \
	"$T/crowd.ini: note: 904 rules were compared with only the first 4096 earlier rules that could shadow them (too many share their address, port and program): more of them may never match"

cat >"$T/peer.py" <<'PY'
import socket
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 9451))
srv.listen(1)
c = socket.create_connection(("127.0.0.1", 9451))
print("peer " + srv.accept()[1][0])
PY
expect_eq "bare: the server sees 127.0.0.1" "$("$PY" "$T/peer.py" 2>&1)" "peer 127.0.0.1"
start=$(date +%s%N)
got=$(SOCKSHIM_LOG=file:$T/shim.log timeout 30 env SOCKSHIM_POLICY="$P" LD_PRELOAD="$SHIM" "$PY" "$T/peer.py" 2>&1)
ms=$((($(date +%s%N) - start) / 1000000))
echo "# python3 under the shim with 100,001 rules: $ms ms"
expect_eq "under the shim (within 30 s), rule 100,001 pins the source: the server sees 127.0.0.2" "$got" "peer 127.0.0.2"
expect_match "the shim loaded 100,001 rules" "$(cat "$T/shim.log" 2>/dev/null)" 'start .*rules=100001'
finish

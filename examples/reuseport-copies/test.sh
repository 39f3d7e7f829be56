#!/bin/bash
# examples/reuseport-copies: run.sh as written, then the facts from its output.
# Kernel facts: SO_REUSEPORT as getsockopt reports it, the listeners and
# their pids as `ss -ltnp` lists them, the pid that answered each request.
# Controls: bare, the second copy fails with EADDRINUSE; the classic
# stop-then-start restart refuses requests where the overlapping one does not.
. "$TOP/tests/lib.sh"

out=$(SOCKSHIM=$BUILD/sockshim timeout 60 "$TOP/examples/reuseport-copies/run.sh" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
expect_eq "run.sh exits 0" "$rc" 0

part() { sed -n "/^== $1/,/^\$/p" <<<"$out"; }
bare=$(part without) copies=$(part 'under sockshim') spread=$(part 60) roll=$(part replace) classic=$(part 'for comparison')

# ---- control: bare ----
expect_match "bare: first copy has SO_REUSEPORT=0 (getsockopt)" "$bare" 'listening on 127\.0\.0\.1:7080 \(SO_REUSEPORT=0\)'
expect_match "bare: second copy fails with EADDRINUSE" "$bare" 'cannot start on 127\.0\.0\.1:7080: Address already in use'

# ---- three copies ----
started=$(sed -n 's/^copy: pid \([0-9]*\) listening on 127\.0\.0\.1:7080 (SO_REUSEPORT=1)$/\1/p' <<<"$copies" | sort | tr '\n' ' ')
expect_match "shim: 3 copies listening with SO_REUSEPORT=1 (getsockopt)" "$started" '^[0-9]+ [0-9]+ [0-9]+ $'
ss_pids=$(grep -o 'pid=[0-9]*' <<<"$copies" | cut -d= -f2 | sort | tr '\n' ' ')
expect_eq "shim: ss -ltnp shows 3 listeners on 127.0.0.1:7080, the copies' pids" "$ss_pids" "$started"
expect_eq "shim: ss lines are LISTEN on 127.0.0.1:7080" "$(grep -c 'LISTEN 127\.0\.0\.1:7080 ' <<<"$copies")" 3

# ---- 60 requests spread ----
expect_eq "curl: 60 requests answered" "$(awk '/requests$/ {n += $3} END {print n}' <<<"$spread")" 60
expect_eq "curl: answered by the 3 copies" "$(sed -n 's/^  pid \([0-9]*\): [1-9][0-9]* requests$/\1/p' <<<"$spread" | sort | tr '\n' ' ')" "$started"

# ---- replacing one copy ----
old=$(sed -n 's/^== replace the copy pid \([0-9]*\) .*/\1/p' <<<"$roll")
new=$(sed -n 's/^started pid \([0-9]*\): 4 listeners$/\1/p' <<<"$roll")
check "replace: ss showed 4 listeners with the new copy ($new)" test -n "$new"
check "replace: ss showed 3 after the old one ($old) stopped" grep -q "^stopped pid $old: 3 listeners$" <<<"$roll"
expect_match "replace: no request refused or failed" "$roll" '^client: [0-9]+ requests: [0-9]+ answered, 0 refused, 0 failed otherwise$'
by=$(sed -n 's/^answered by: //p' <<<"$roll")
expect_match "replace: the old copy answered before it stopped" "$by" "(^| )$old=[1-9]"
expect_match "replace: the new copy answered after it started" "$by" "(^| )$new=[1-9]"

# ---- control: stop, then start ----
expect_match "classic restart: requests refused in the gap" "$classic" '^client: [0-9]+ requests: [0-9]+ answered, [1-9][0-9]* refused'

# ---- the log agrees ----
expect_match "log: 6 copies started, every bind forced" "$(part 'what sockshim')" '^6 copies started under sockshim, every bind with rc=0$'
expect_match "log: both options forced" "$out" 'bind fd=[0-9]+ tcp 127\.0\.0\.1:7080 rule=copies actions=reuseaddr=force,reuseport=force rc=0$'

finish

#!/bin/bash
# examples/many-connections: run.sh as written, then the facts from its output.
# Kernel facts: the source address of every connection (getsockname in the
# client), the peer address of every connection the server accepted, the
# number of established connections ss counts, the errno of the connect
# that failed.
# Control: bare, the same client stops at the port range (EADDRNOTAVAIL).
. "$TOP/tests/lib.sh"

out=$(SOCKSHIM=$BUILD/sockshim timeout 120 "$TOP/examples/many-connections/run.sh" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
expect_eq "run.sh exits 0" "$rc" 0

p=$(sed -n 's/^namespace: .* (\([0-9]*\) ports).*/\1/p' <<<"$out")
check "the namespace has a small port range ($p ports)" test "${p:-0}" -ge 100 -a "${p:-0}" -le 1000
p=${p:-1000}
part() { sed -n "/^== $1/,/^\$/p" <<<"$out"; }
bare=$(part without) shim=$(part 'under sockshim') log=$(part 'what sockshim')
EADDR='then connect failed: EADDRNOTAVAIL \(Cannot assign requested address\)'

# ---- control: bare ----
expect_match "bare: $p connections, then EADDRNOTAVAIL" "$bare" "^client: $p connections held, $EADDR\$"
expect_match "bare: all from 127.0.0.1 (getsockname)" "$bare" "^client: source addresses \(getsockname\): 127\.0\.0\.1=$p\$"
expect_match "bare: the server holds them, from 127.0.0.1" "$bare" "^server: holding $p connections: 127\.0\.0\.1=$p\$"
expect_match "bare: ss counts $p" "$bare" "^ss: $p established connections to 127\.0\.0\.1:7100\$"

# ---- under the pool ----
each=$(for i in 2 3 4 5 6 7 8 9; do printf ' 127.0.0.%d=%d' $i $p; done)
expect_match "pool: $((8 * p)) connections, then EADDRNOTAVAIL" "$shim" "^client: $((8 * p)) connections held, $EADDR\$"
expect_eq "pool: $p from each of 127.0.0.2-9 (getsockname)" \
	"$(sed -n 's/^client: source addresses (getsockname)://p' <<<"$shim")" "$each"
expect_eq "pool: the server holds the same (peer addresses)" \
	"$(sed -n "s/^server: holding $((8 * p)) connections://p" <<<"$shim")" "$each"
expect_match "pool: ss counts $((8 * p))" "$shim" "^ss: $((8 * p)) established connections to 127\.0\.0\.1:7100\$"

# ---- the log agrees ----
expect_match "log: $((8 * p)) connects from the pool" "$log" "^$((8 * p)) connects made from the pool"
expect_match "log: the last connect tried every address and got the kernel's errno" "$log" \
	'rule=pool actions=(busy=127\.0\.0\.[2-9]:EADDRNOTAVAIL,){8}failed=source:EADDRNOTAVAIL rc=-1 errno=EADDRNOTAVAIL$'

finish

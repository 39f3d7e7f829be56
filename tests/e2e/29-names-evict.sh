#!/bin/bash
# 29: the host table's limits, as a `host` rule sees them (kernel truth: the
# connect's errno and the connections the server accepted):
# - eviction: after target.test's lookup returned 127.0.0.5, a connect there
#   is refused by the host rule; once 16,000 other addresses have been looked
#   up (far more than the table's 2,048 entries, so the oldest went), the same
#   connect is no longer matched and reaches the server;
# - a lookup a little while ago, with a few addresses after it, still counts
#   (no eviction before the table is full);
# - fork: a child connecting to what its parent looked up is matched; a
#   lookup in the child (another name for the same address) decides the
#   child's connect, not the parent's, whose own table is untouched.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/names.sh"
names_preload_only

PROBE="$BUILD/tests/hostprobe"
names_tcp srv 127.0.0.5 19070 || exit 1

{
	printf '[target]\non = resolve\nhost = target.test\nrewrite = 127.0.0.5\n\n'
	printf '[other]\non = resolve\nhost = other.test\nrewrite = 127.0.0.5\n\n'
	printf '[deny-target]\non = connect\nhost = target.test\ndeny = ECONNREFUSED\n\n'
	# 1600 names of 10 addresses each: 10.0.0.0 .. 10.0.62.127
	for i in $(seq 0 1599); do
		printf '[f%d]\non = resolve\nhost = f%d.fill.test\nrewrite = ' "$i" "$i"
		for j in $(seq 0 9); do
			k=$((i * 10 + j))
			printf '10.0.%d.%d' $((k / 256)) $((k % 256))
			[ $j = 9 ] || printf ', '
		done
		printf '\n\n'
	done
} | policy evict.ini >/dev/null
P="$T/evict.ini"
fill() { for i in $(seq 0 $(($1 - 1))); do printf 'gai f%d.fill.test ' "$i"; done; }

# ---- eviction ----
out=$(shim "$P" "$PROBE" gai target.test connect 127.0.0.5 19070 $(fill 1600) connect 127.0.0.5 19070 2>"$T/evict.err")
[ -n "$out" ] || sed "s/^/# /" "$T/evict.err" | head -5
expect_eq "target.test's answer: the first connect is refused" "$(sed -n 2p <<<"$out")" "connect 127.0.0.5 19070 rc=-1 errno=ECONNREFUSED"
expect_eq "1600 lookups answered 10 addresses each" "$(grep -c '^gai f[0-9]*\.fill\.test 10$' <<<"$out")" 1600
expect_eq "after 16,000 other addresses the lookup is evicted: the connect is no longer matched" \
	"$(tail -1 <<<"$out")" "connect 127.0.0.5 19070 rc=0 errno=0"
sleep 0.2
expect_eq "the server accepted that one connect" "$(names_npeers srv)" 1
out=$(shim "$P" "$PROBE" gai target.test $(fill 3) connect 127.0.0.5 19070 2>/dev/null)
expect_eq "30 addresses after it (the table not full): still matched" "$(tail -1 <<<"$out")" \
	"connect 127.0.0.5 19070 rc=-1 errno=ECONNREFUSED"
out=$("$PROBE" connect 127.0.0.5 19070)
expect_eq "control: bare, the connect reaches the server" "$out" "connect 127.0.0.5 19070 rc=0 errno=0"

# ---- fork ----
out=$(shim "$P" "$PROBE" gai target.test fork connect 127.0.0.5 19070 end connect 127.0.0.5 19070 2>/dev/null)
expect_eq "fork: the child's and the parent's connects to the parent's answer are refused" "$out" \
"gai target.test 1
child connect 127.0.0.5 19070 rc=-1 errno=ECONNREFUSED
connect 127.0.0.5 19070 rc=-1 errno=ECONNREFUSED"
out=$(shim "$P" "$PROBE" gai target.test fork gai other.test connect 127.0.0.5 19070 end connect 127.0.0.5 19070 2>/dev/null)
expect_eq "fork: the child's lookup of other.test decides its connect, the parent's table keeps target.test" "$out" \
"gai target.test 1
child gai other.test 1
child connect 127.0.0.5 19070 rc=0 errno=0
connect 127.0.0.5 19070 rc=-1 errno=ECONNREFUSED"
sleep 0.2
expect_eq "the server accepted the bare connect and the child's" "$(names_npeers srv)" 3
finish

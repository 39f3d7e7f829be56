#!/bin/bash
# frontends: preload, seccomp
# 48: a `source` rule leaves the program's own IP_LOCAL_PORT_RANGE alone.
# The test's namespace has a 10-port ephemeral range (50000-50009); the
# program restricts its socket to 50002-50003 before connect. Bare, the
# kernel picks from 50002-50003 and getsockopt returns that range; under a
# one-source rule and a pool the same holds, with the source pinned. A
# program that set no range of its own reads back 0-0 after the connect
# (what it left), whatever the shim used meanwhile.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"

sysctl -qw net.ipv4.ip_local_port_range="50000 50009" || { echo "cannot set ip_local_port_range"; exit 77; }
out=$("$PROBE" tcp4 set=portrange:50002-50003 get=portrange)
[ "$out" = "set=portrange:50002-50003 rc=0 errno=0
get=portrange rc=0 errno=0 value=50002-50003" ] || { echo "skipped: no IP_LOCAL_PORT_RANGE (Linux 6.3+)"; exit 77; }
serve tcp tcp 127.0.0.1 9000 || exit 1

two='set=portrange:50002-50003 connect=127.0.0.1:9000 name get=portrange'
# one connect's lines: connect, name, get (the port, then the range)
want() {
	printf 'set=portrange:50002-50003 rc=0 errno=0\nconnect=127.0.0.1:9000 rc=0 errno=0\n'
	printf 'name rc=0 errno=0 local=%s:5000[23]\nget=portrange rc=0 errno=0 value=50002-50003\n' "$1"
}
both() { printf '%s\nnew=tcp4 rc=0 errno=0\n%s' "$(want "$1")" "$(want "$1")"; }

out=$("$PROBE" tcp4 $two new=tcp4 $two)
expect_match "bare (control): both ports from the program's range, which reads back" "$(tr '\n' ';' <<<"$out")" "^$(both '127\.0\.0\.1' | tr '\n' ';');\$"

P=$(policy one.ini <<'INI'
[pin]
on = connect
source = 127.0.0.2
INI
)
Q=$(policy pool.ini <<'INI'
[pool]
on = connect
source = 127.0.0.2, 127.0.0.3
INI
)
out=$(shim "$P" "$PROBE" tcp4 $two new=tcp4 $two 2>"$T/one.log")
expect_match "one source: both ports from the program's range, which reads back" "$(tr '\n' ';' <<<"$out")" "^$(both '127\.0\.0\.2' | tr '\n' ';');\$"
expect_match "one source: the shim decided (log)" "$(cat "$T/one.log")" 'rule=pin actions=source=127\.0\.0\.2'
out=$(shim "$Q" "$PROBE" tcp4 $two new=tcp4 $two 2>"$T/pool.log")
expect_match "pool: ports from the program's range, which reads back" "$(tr '\n' ';' <<<"$out")" "^$(both '127\.0\.0\.[23]' | tr '\n' ';');\$"
expect_match "pool: the shim decided (log)" "$(cat "$T/pool.log")" 'rule=pool actions=source=127\.0\.0\.[23]'
wait_peers tcp 6
expect_eq "the server saw the six connections, from the ports the probes reported" \
	"$(peers tcp | awk '$2 < 50002 || $2 > 50003' | wc -l)/$(npeers tcp)" "0/6"

# No range of the program's own: the system's range, and 0-0 afterwards.
for f in P Q; do
	out=$(shim "${!f}" "$PROBE" tcp4 connect=127.0.0.1:9000 name get=portrange 2>/dev/null)
	expect_match "$f: no range of the program's: a port of the system's range, the option reads 0-0" \
		"$(tr '\n' ';' <<<"$out")" '^connect=127\.0\.0\.1:9000 rc=0 errno=0;name rc=0 errno=0 local=127\.0\.0\.[23]:5000[0-9];get=portrange rc=0 errno=0 value=0-0;$'
done
finish

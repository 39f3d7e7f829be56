#!/bin/bash
# 95: the seccomp front end on a statically linked C client (gcc -static),
# which LD_PRELOAD never reaches: under `source = 127.0.0.2` the server sees
# the connection come from 127.0.0.2; under `deny = ERRNO` the connect fails
# with exactly that errno and the server receives nothing; under `rewrite`
# the client reaches the mock. Controls: the same binary bare, and with the
# preloaded shim (which a static binary ignores).
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"
. "$TOP/tests/helpers/seccomp.sh"

static_c sprobe "$TOP/tests/helpers/probe.c"
check "the client is statically linked" is_static "$T/sprobe"

serve tcp tcp 127.0.0.1 9000 || exit 1
serve http http 127.0.0.1 8080 || exit 1
last_peer() { peers "$1" | tail -1; }

# ---- source ----
P=$(policy source.ini <<'INI'
[pin]
on = connect
source = 127.0.0.2
INI
)
out=$("$T/sprobe" tcp4 connect=127.0.0.1:9000)
expect_eq "bare static client connects (control)" "$out" "connect=127.0.0.1:9000 rc=0 errno=0"
wait_peers tcp 1
expect_eq "bare: server sees 127.0.0.1" "$(last_peer tcp | cut -d' ' -f1)" 127.0.0.1

shim "$P" "$T/sprobe" tcp4 connect=127.0.0.1:9000 >/dev/null 2>"$T/preload.log"
wait_peers tcp 2
expect_eq "preloaded shim: a static client is not reached (server sees 127.0.0.1)" "$(last_peer tcp | cut -d' ' -f1)" 127.0.0.1

out=$(sup "$P" "$T/sprobe" tcp4 connect=127.0.0.1:9000 name 2>"$T/src.log")
expect_match "supervised: connect succeeds, getsockname is 127.0.0.2" "$out" \
	'^connect=127\.0\.0\.1:9000 rc=0 errno=0
name rc=0 errno=0 local=127\.0\.0\.2:[0-9]+$'
wait_peers tcp 3
expect_eq "supervised: server sees the same address and port" \
	"$(last_peer tcp)" "$(printf '%s\n' "$out" | sed -n 's/^name .*local=\(.*\):\([0-9]*\)$/\1 \2/p')"
expect_match "supervised: decision logged in the preload's format, by the supervisor" "$(cat "$T/src.log")" \
	'info connect fd=[0-9]+ tcp 127\.0\.0\.1:9000 rule=pin actions=source=127\.0\.0\.2,continue rc=0 via=seccomp'
expect_match "supervised: start line names the front end" "$(cat "$T/src.log")" 'info start .*program=sprobe .*via=seccomp'

# a blocking connect made from a worker thread, and a non-blocking one
out=$(sup "$P" "$T/sprobe" tcp4 nonblock connect=127.0.0.1:9000 wait name 2>/dev/null)
expect_match "supervised non-blocking connect: EINPROGRESS, then connected from 127.0.0.2" "$out" \
	'^nonblock rc=0 errno=0
connect=127\.0\.0\.1:9000 rc=-1 errno=EINPROGRESS
wait rc=0 errno=0 .*
name rc=0 errno=0 local=127\.0\.0\.2:[0-9]+$'
wait_peers tcp 4
expect_eq "non-blocking: server sees 127.0.0.2" "$(last_peer tcp | cut -d' ' -f1)" 127.0.0.2

# a socket the program bound itself is not re-bound
out=$(sup "$P" "$T/sprobe" tcp4 bind=127.0.0.3:0 connect=127.0.0.1:9000 2>"$T/bound.log")
expect_match "app-bound socket keeps its own source" "$out" 'connect=127\.0\.0\.1:9000 rc=0 errno=0'
wait_peers tcp 5
expect_eq "app-bound: server sees 127.0.0.3" "$(last_peer tcp | cut -d' ' -f1)" 127.0.0.3
expect_match "app-bound: logged as skip=app-bound" "$(cat "$T/bound.log")" 'rule=pin actions=skip=app-bound'

# ---- deny ----
for e in ECONNREFUSED ENETUNREACH EACCES; do
	D=$(policy "deny-$e.ini" <<INI
[block]
on = connect
port = 9000
deny = $e
INI
)
	n0=$(npeers tcp)
	out=$(sup "$D" "$T/sprobe" tcp4 connect=127.0.0.1:9000 name 2>"$T/$e.log")
	expect_eq "deny=$e: the static client's connect fails with $e, the socket stays unbound" "$out" \
		"connect=127.0.0.1:9000 rc=-1 errno=$e
name rc=0 errno=0 local=0.0.0.0:0"
	expect_match "deny=$e: logged" "$(cat "$T/$e.log")" "rule=block actions=deny=$e[ ,].*rc=-1 errno=$e"
	sleep 0.2
	expect_eq "deny=$e: the server received no connection" "$(npeers tcp)" "$n0"
done
out=$(sup "$D" "$T/sprobe" tcp4 connect=127.0.0.1:8080 2>/dev/null)
expect_eq "deny: another port (no rule) passes through untouched" "$out" "connect=127.0.0.1:8080 rc=0 errno=0"

# ---- rewrite ----
R=$(policy rw.ini <<'INI'
[to-mock]
on = connect
addr = 127.0.0.9
port = 80
rewrite = 127.0.0.1:9000
INI
)
out=$("$T/sprobe" tcp4 connect=127.0.0.9:80)
expect_eq "bare: nothing listens on 127.0.0.9:80 (control)" "$out" "connect=127.0.0.9:80 rc=-1 errno=ECONNREFUSED"
n0=$(npeers tcp)
out=$(sup "$R" "$T/sprobe" tcp4 connect=127.0.0.9:80 peer 2>"$T/rw.log")
expect_eq "rewrite: the static client reaches the mock (getpeername)" "$out" "connect=127.0.0.9:80 rc=0 errno=0
peer rc=0 errno=0 remote=127.0.0.1:9000"
wait_peers tcp $((n0 + 1))
expect_eq "rewrite: the mock counted exactly that connection" "$(npeers tcp)" $((n0 + 1))
expect_match "rewrite: logged with the app's address and the target" "$(cat "$T/rw.log")" \
	'connect fd=[0-9]+ tcp 127\.0\.0\.9:80 rule=to-mock actions=rewrite=127\.0\.0\.1:9000[ ,]'
out=$(sup "$R" "$T/sprobe" tcp4 nonblock connect=127.0.0.9:80 wait connect=127.0.0.9:80 peer 2>/dev/null)
expect_match "rewrite, non-blocking: the repeat connect goes where the first went (EISCONN)" "$out" \
	'connect=127\.0\.0\.9:80 rc=-1 errno=EINPROGRESS
wait rc=0 errno=0 .*
connect=127\.0\.0\.9:80 rc=-1 errno=EISCONN
peer rc=0 errno=0 remote=127\.0\.0\.1:9000'

# ---- IPv6 ----
serve tcp6 tcp ::1 9006 || exit 1
S6=$(policy v6.ini <<'INI'
[pin6]
on = connect
family = ipv6
port = 9006
source = ::1

[mock6]
on = connect
family = ipv6
addr = ::1
port = 81
rewrite = [::1]:9006

[mapped]
on = connect
addr = 127.0.0.9
port = 80
rewrite = 127.0.0.1:9000

[v4-to-v6]
on = connect
port = 82
rewrite = [::1]:9006

[deny6]
on = connect
family = ipv6
port = 9007
deny = EACCES
INI
)
out=$(sup "$S6" "$T/sprobe" tcp6 connect=[::1]:9006 name 2>"$T/v6src.log")
expect_match "v6 source = ::1: the static client connects from [::1]" "$out" \
	'^connect=\[::1\]:9006 rc=0 errno=0
name rc=0 errno=0 local=\[::1\]:[0-9]+$'
expect_match "v6 source: logged with the v6 address" "$(cat "$T/v6src.log")" \
	'connect fd=[0-9]+ tcp \[::1\]:9006 rule=pin6 actions=source=::1,continue rc=0'
out=$("$T/sprobe" tcp6 connect=[::1]:81)
expect_eq "bare: nothing listens on [::1]:81 (control)" "$out" "connect=[::1]:81 rc=-1 errno=ECONNREFUSED"
n0=$(npeers tcp6)
out=$(sup "$S6" "$T/sprobe" tcp6 connect=[::1]:81 peer 2>"$T/v6rw.log")
expect_eq "v6 rewrite: the static client reaches the mock at [::1]:9006 (getpeername)" "$out" "connect=[::1]:81 rc=0 errno=0
peer rc=0 errno=0 remote=[::1]:9006"
wait_peers tcp6 $((n0 + 1))
expect_eq "v6 rewrite: the mock saw it from ::1" "$(peers tcp6 | tail -1 | cut -d' ' -f1)" "::1"
expect_match "v6 rewrite: logged with the app's address and the target" "$(cat "$T/v6rw.log")" \
	'connect fd=[0-9]+ tcp \[::1\]:81 rule=mock6 actions=rewrite=\[::1\]:9006[ ,](.* )?rc=0'
n0=$(npeers tcp)
out=$(sup "$S6" "$T/sprobe" tcp6 connect=[::ffff:127.0.0.9]:80 peer 2>/dev/null)
expect_eq "v4-mapped destination on a v6 socket: matched as IPv4, rewritten v4-mapped" "$out" \
	"connect=[::ffff:127.0.0.9]:80 rc=0 errno=0
peer rc=0 errno=0 remote=[::ffff:127.0.0.1]:9000"
wait_peers tcp $((n0 + 1))
expect_eq "v4-mapped: the IPv4 mock counted it" "$(npeers tcp)" $((n0 + 1))
out=$(sup "$S6" "$T/sprobe" tcp4 connect=127.0.0.1:82 2>"$T/v4v6.log")
expect_eq "a v6 rewrite for an IPv4 socket: EAFNOSUPPORT" "$out" "connect=127.0.0.1:82 rc=-1 errno=EAFNOSUPPORT"
expect_match "a v6 rewrite for an IPv4 socket: logged as impossible" "$(cat "$T/v4v6.log")" \
	'rule=v4-to-v6 actions=rewrite=impossible-for-ipv4-socket[ ,].*rc=-1 errno=EAFNOSUPPORT'
serve tcp6b tcp ::1 9007 || exit 1
out=$(sup "$S6" "$T/sprobe" tcp6 connect=[::1]:9007 name 2>"$T/v6deny.log")
expect_eq "v6 deny: the connect fails with EACCES, the socket stays unbound" "$out" "connect=[::1]:9007 rc=-1 errno=EACCES
name rc=0 errno=0 local=[::]:0"
expect_match "v6 deny: logged" "$(cat "$T/v6deny.log")" 'tcp \[::1\]:9007 rule=deny6 actions=deny=EACCES[ ,].*rc=-1 errno=EACCES'
sleep 0.2
expect_eq "v6 deny: the server received nothing" "$(npeers tcp6b)" 0

# ---- UDP send: rewrite and source on sendto ----
serve udp udp 127.0.0.1 9053 || exit 1
U=$(policy udp.ini <<'INI'
[dns-mock]
on = send
proto = udp
port = 53
rewrite = 127.0.0.1:9053
source = 127.0.0.2
INI
)
out=$(sup "$U" "$T/sprobe" udp4 sendto=127.0.0.9:53 name 2>"$T/udp.log")
expect_match "udp sendto: rewritten and sent from 127.0.0.2" "$out" 'name rc=0 errno=0 local=127\.0\.0\.2:[0-9]+$'
wait_peers udp 1
expect_match "udp: the mock got the datagram from 127.0.0.2" "$(peers udp | tail -1)" '^127\.0\.0\.2 [0-9]+$'
out=$(sup "$U" "$T/sprobe" udp4 sendmsg=127.0.0.9:53 2>/dev/null)
wait_peers udp 2
expect_eq "udp sendmsg: the mock got a second datagram" "$(npeers udp)" 2
out=$(sup "$U" "$T/sprobe" udp4 sendmmsg=127.0.0.9:53,127.0.0.9:53,127.0.0.9:53 2>"$T/mmsg.log")
expect_eq "udp sendmmsg: each message decided and sent, the count comes back" "$out" "sendmmsg rc=3 errno=0"
wait_peers udp 5
expect_eq "udp sendmmsg: the mock got three more datagrams" "$(npeers udp)" 5
expect_eq "udp sendmmsg: one decision per message" "$(grep -c 'rule=dns-mock actions=rewrite=127\.0\.0\.1:9053' "$T/mmsg.log")" 3

# ---- exit status ----
sup "$P" "$T/sprobe" 2>/dev/null >/dev/null
expect_eq "the client's exit status passes through (usage error: 2)" "$?" 2
finish

#!/bin/bash
# frontends: preload, seccomp
# 35: `deny = ERRNO` on connect: the client's connect fails with exactly that
# errno and a listening server receives NO connection. An explicit allow rule
# (no actions) before a catch-all deny lets loopback through: first match wins
# (the "test sandbox" policy of POLICY.md). Controls: bare clients connect.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"

serve tcp tcp 127.0.0.1 9000 || exit 1
serve tcp6 tcp ::1 9006 || exit 1
serve http http 127.0.0.1 8080 || exit 1

out=$("$PROBE" tcp4 connect=127.0.0.1:9000)
expect_eq "bare probe connects (control)" "$out" "connect=127.0.0.1:9000 rc=0 errno=0"
wait_peers tcp 1
expect_eq "bare probe: server counted it" "$(npeers tcp)" 1

for e in ECONNREFUSED ENETUNREACH EACCES; do
	P=$(policy "deny-$e.ini" <<INI
[block]
on = connect
port = 9000
deny = $e
INI
)
	n0=$(npeers tcp)
	out=$(shim "$P" "$PROBE" tcp4 connect=127.0.0.1:9000 name 2>"$T/$e.log")
	expect_match "deny=$e: probe connect fails with $e" "$out" "^connect=127\.0\.0\.1:9000 rc=-1 errno=$e\$"
	expect_match "deny=$e: the socket stayed unbound (no call reached the kernel)" "$out" 'name rc=0 errno=0 local=0\.0\.0\.0:0$'
	out=$(shim "$P" "$PY" "$PW" connect 127.0.0.1 9000 1 2>/dev/null)
	expect_eq "deny=$e: python connect fails with $e" "$out" "error $e"
	expect_match "deny=$e: logged" "$(cat "$T/$e.log")" "rule=block actions=deny=$e rc=-1 errno=$e"
	sleep 0.3
	expect_eq "deny=$e: the server received no connection" "$(npeers tcp)" "$n0"
done

# curl reports the refusal as "couldn't connect" (exit 7) and the server sees nothing.
P=$(policy deny-http.ini <<'INI'
[block]
on = connect
deny = ECONNREFUSED
INI
)
shim "$P" curl -s --max-time 5 http://127.0.0.1:8080/ >/dev/null 2>&1
expect_eq "deny: curl fails to connect (exit 7)" "$?" 7
sleep 0.2
expect_eq "deny: the http server received nothing" "$(npeers http)" 0
curl -s --max-time 5 http://127.0.0.1:8080/ >/dev/null
expect_eq "bare curl (control) reaches the http server" "$(npeers http)" 1

# ---- the test sandbox: allow loopback, refuse everything else ----
sandbox=$(policy sandbox.ini <<'INI'
[loopback-v4]
on = connect, send
addr = 127.0.0.0/8

[no-egress]
on = connect, send
deny = ENETUNREACH
INI
)
n0=$(npeers tcp)
out=$(shim "$sandbox" "$PROBE" tcp4 connect=127.0.0.1:9000 2>"$T/sandbox.log")
expect_eq "sandbox: 127.0.0.1 allowed by the first rule" "$out" "connect=127.0.0.1:9000 rc=0 errno=0"
wait_peers tcp $((n0 + 1))
expect_eq "sandbox: the server got the loopback connection" "$(npeers tcp)" $((n0 + 1))
expect_match "sandbox: logged as an explicit allow" "$(cat "$T/sandbox.log")" 'rule=loopback-v4 actions=allow(,continue)? rc=0'
out=$(shim "$sandbox" "$PROBE" tcp6 connect=[::1]:9006 2>"$T/sandbox6.log")
expect_eq "sandbox: [::1] (not in the allow rule) refused with ENETUNREACH" "$out" "connect=[::1]:9006 rc=-1 errno=ENETUNREACH"
sleep 0.2
expect_eq "sandbox: the IPv6 server received nothing" "$(npeers tcp6)" 0
out=$("$PROBE" tcp6 connect=[::1]:9006)
expect_eq "bare (control): [::1] connects" "$out" "connect=[::1]:9006 rc=0 errno=0"
wait_peers tcp6 1
expect_eq "bare (control): the IPv6 server counted it" "$(npeers tcp6)" 1

# The example's own policy, loopback for both families, then the catch-all.
example=$(policy example.ini <<'INI'
[loopback-only]
on = connect, send
addr = 127.0.0.0/8, ::1

[no-egress]
on = connect, send
deny = ENETUNREACH
INI
)
out=$(shim "$example" "$PROBE" tcp6 connect=[::1]:9006 new=tcp4 connect=127.0.0.1:9000 2>/dev/null)
expect_eq "example sandbox: both loopbacks allowed" "$out" "connect=[::1]:9006 rc=0 errno=0
new=tcp4 rc=0 errno=0
connect=127.0.0.1:9000 rc=0 errno=0"
# the server has counted that connection before the next count is taken
wait_peers tcp 3
wait_peers tcp6 2

# Order matters: the same two rules swapped deny loopback too.
swapped=$(policy swapped.ini <<'INI'
[no-egress]
on = connect, send
deny = ENETUNREACH

[loopback-only]
on = connect, send
addr = 127.0.0.0/8, ::1
INI
)
n0=$(npeers tcp)
out=$(shim "$swapped" "$PROBE" tcp4 connect=127.0.0.1:9000 2>/dev/null)
expect_eq "swapped rules: the deny comes first and wins" "$out" "connect=127.0.0.1:9000 rc=-1 errno=ENETUNREACH"
sleep 0.2
expect_eq "swapped rules: the server received nothing" "$(npeers tcp)" "$n0"
finish

#!/bin/bash
# frontends: preload, seccomp
# 36: `rewrite` on connect redirects unmodified clients: curl to
# http://127.0.0.9:80/ reaches the mock on 127.0.0.1:8080 (and gets its
# answer); `rewrite = :PORT` keeps the address; `rewrite = [::1]:PORT` for an
# IPv6 client. getpeername reports the address really connected to.
# Controls: without the shim nothing listens on the original addresses.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"

serve http http 127.0.0.1 8080 || exit 1
serve t1 tcp 127.0.0.1 9000 || exit 1
serve t3 tcp 127.0.0.3 9000 || exit 1
serve t6 tcp ::1 9006 || exit 1

# ---- full rewrite, curl ----
P=$(policy rw.ini <<'INI'
[to-mock]
on = connect
addr = 127.0.0.9
port = 80
rewrite = 127.0.0.1:8080
INI
)
curl -s --max-time 5 http://127.0.0.9:80/ >/dev/null 2>&1
expect_eq "bare curl to 127.0.0.9:80 cannot connect (control)" "$?" 7
out=$(shim "$P" curl -s --max-time 5 http://127.0.0.9:80/ 2>"$T/curl.log")
expect_eq "curl to 127.0.0.9:80 under rewrite gets the mock's answer" "$out" "mock-ok"
expect_eq "the mock on 127.0.0.1:8080 served exactly that request" "$(npeers http)" 1
expect_match "rewrite logged with the app's address and the target" "$(cat "$T/curl.log")" \
	'connect fd=[0-9]+ tcp 127\.0\.0\.9:80 rule=to-mock actions=rewrite=127\.0\.0\.1:8080 '

out=$(shim "$P" "$PROBE" tcp4 connect=127.0.0.9:80 peer 2>/dev/null)
expect_eq "probe: getpeername shows the rewritten destination" "$out" "connect=127.0.0.9:80 rc=0 errno=0
peer rc=0 errno=0 remote=127.0.0.1:8080"
out=$(shim "$P" "$PROBE" tcp4 connect=127.0.0.9:81 2>/dev/null)
expect_eq "probe: a port the rule does not name is not rewritten" "$out" "connect=127.0.0.9:81 rc=-1 errno=ECONNREFUSED"

# ---- :PORT keeps the address ----
pol_p=$(policy rw-port.ini <<'INI'
[port-only]
on = connect
port = 80
rewrite = :9000
INI
)
"$PROBE" tcp4 connect=127.0.0.3:80 >"$T/bare3"
expect_eq "bare connect to 127.0.0.3:80 refused (control)" "$(cat "$T/bare3")" "connect=127.0.0.3:80 rc=-1 errno=ECONNREFUSED"
out=$(shim "$pol_p" "$PROBE" tcp4 connect=127.0.0.3:80 peer 2>"$T/port.log")
expect_eq "rewrite :9000 on 127.0.0.3:80 -> 127.0.0.3:9000" "$out" "connect=127.0.0.3:80 rc=0 errno=0
peer rc=0 errno=0 remote=127.0.0.3:9000"
wait_peers t3 1
expect_eq "the server on 127.0.0.3:9000 got it" "$(npeers t3)" 1
expect_eq "the server on 127.0.0.1:9000 did not" "$(npeers t1)" 0
out=$(shim "$pol_p" socat -T 3 TCP:127.0.0.1:80 - </dev/null 2>/dev/null)
expect_eq "socat to 127.0.0.1:80 under :9000 gets the answer of 127.0.0.1:9000" "$out" "hello from mock"
wait_peers t1 1
expect_eq "the server on 127.0.0.1:9000 got socat" "$(npeers t1)" 1

# ---- IPv6 ----
pol6=$(policy rw6.ini <<'INI'
[v6]
on = connect
family = ipv6
port = 80
rewrite = [::1]:9006
INI
)
"$PROBE" tcp6 connect=[::1]:80 >"$T/bare6"
expect_eq "bare tcp6 to [::1]:80 refused (control)" "$(cat "$T/bare6")" "connect=[::1]:80 rc=-1 errno=ECONNREFUSED"
out=$(shim "$pol6" "$PROBE" tcp6 connect=[::1]:80 peer 2>"$T/v6.log")
expect_eq "tcp6 to [::1]:80 rewritten to [::1]:9006" "$out" "connect=[::1]:80 rc=0 errno=0
peer rc=0 errno=0 remote=[::1]:9006"
wait_peers t6 1
expect_match "the IPv6 server saw ::1" "$(peers t6)" '^::1 [0-9]+$'
expect_match "IPv6 rewrite logged" "$(cat "$T/v6.log")" 'tcp \[::1\]:80 rule=v6 actions=rewrite=\[::1\]:9006[ ,]'
out=$(shim "$pol6" curl -s --http0.9 --max-time 5 'http://[::1]:80/' 2>/dev/null)
expect_eq "curl to http://[::1]:80/ under the IPv6 rewrite reaches the IPv6 server" "$out" "hello from mock"
# the family matcher: the IPv4 socket to port 80 is untouched
out=$(shim "$pol6" "$PROBE" tcp4 connect=127.0.0.1:80 2>/dev/null)
expect_eq "family = ipv6: an IPv4 socket is not rewritten" "$out" "connect=127.0.0.1:80 rc=-1 errno=ECONNREFUSED"

# ---- rewrite combined with source ----
pol_s=$(policy rw-src.ini <<'INI'
[both]
on = connect
addr = 127.0.0.9
rewrite = 127.0.0.1:9000
source = 127.0.0.2
INI
)
n0=$(npeers t1)
out=$(shim "$pol_s" "$PY" "$PW" connect 127.0.0.9 80 1 2>/dev/null)
expect_match "rewrite+source: the client gets through" "$out" '^local 127\.0\.0\.2 [0-9]+$'
expect_eq "rewrite+source: the server sees 127.0.0.2" "$(peers t1 | tail -n +$((n0 + 1)) | cut -d' ' -f1)" 127.0.0.2
finish

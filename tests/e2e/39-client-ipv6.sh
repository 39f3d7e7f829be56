#!/bin/bash
# frontends: preload, seccomp
# 39: IPv6 clients. A tcp6 client to [::1] under `family = ipv6` rules with
# `source = ::1` and a port window; an AF_INET6 socket connecting to the
# v4-mapped [::ffff:127.0.0.1] under `addr = 127.0.0.0/8` + `source =
# 127.0.0.2` gets the source ::ffff:127.0.0.2 and the IPv4 server sees
# 127.0.0.2; UDP over a v4-mapped destination likewise; a pool with no member
# of the needed family leaves the socket alone. Controls: bare clients.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"

serve tcp4 tcp 127.0.0.1 9000 || exit 1
serve tcp6 tcp ::1 9006 || exit 1
serve udp4 udp 127.0.0.1 9100 || exit 1
last() { peers "$1" | tail -1; }

# ---- family matchers, ::1 source with a window ----
P=$(policy fam.ini <<'INI'
[v6]
on = connect
family = ipv6
addr = ::1
source = ::1
source_port = 42000-42009

[v4]
on = connect
family = ipv4
source = 127.0.0.2
INI
)
out=$("$PROBE" tcp6 connect=[::1]:9006 name)
port=$(sed -n 's/.*local=\[::1\]:\([0-9]*\)$/\1/p' <<<"$out")
check "bare tcp6 (control): port $port outside 42000-42009" test "${port:-0}" -gt 0 -a \( "${port:-0}" -lt 42000 -o "${port:-0}" -gt 42009 \)
out=$(shim "$P" "$PROBE" tcp6 connect=[::1]:9006 name 2>"$T/fam6.log")
expect_match "tcp6 under family=ipv6: local [::1]:420xx" "$out" 'name rc=0 errno=0 local=\[::1\]:4200[0-9]$'
wait_peers tcp6 2
expect_eq "tcp6: the server sees the same address and port" "$(last tcp6)" "::1 $(sed -n 's/.*local=\[::1\]:\([0-9]*\)$/\1/p' <<<"$out")"
expect_match "tcp6: decided by the ipv6 rule" "$(cat "$T/fam6.log")" 'tcp \[::1\]:9006 rule=v6 actions=source=\[::1\]:4200[0-9](,continue)? '
out=$(shim "$P" "$PY" "$PW" connect ::1 9006 1 2>/dev/null)
expect_match "python AF_INET6 under family=ipv6: port in the window" "$out" '^local ::1 4200[0-9]$'
out=$(shim "$P" "$PROBE" tcp4 connect=127.0.0.1:9000 name 2>"$T/fam4.log")
expect_match "tcp4 under the same policy: the ipv4 rule, 127.0.0.2" "$out" 'local=127\.0\.0\.2:[0-9]+$'
check "tcp4: kernel-chosen port, not the ipv6 rule's window" bash -c "! grep -q 'local=127.0.0.2:4200[0-9]\$' <<<'$out'"
wait_peers tcp4 1
expect_eq "tcp4: server sees 127.0.0.2" "$(last tcp4 | cut -d' ' -f1)" 127.0.0.2

# ---- v4-mapped destination on an AF_INET6 socket ----
pol_m=$(policy mapped.ini <<'INI'
[lo4]
on = connect, send
addr = 127.0.0.0/8
source = 127.0.0.2
INI
)
n0=$(npeers tcp4)
out=$("$PROBE" tcp6 connect=[::ffff:127.0.0.1]:9000 name)
expect_match "bare tcp6 to [::ffff:127.0.0.1] (control): source ::ffff:127.0.0.1" "$out" 'local=\[::ffff:127\.0\.0\.1\]:'
wait_peers tcp4 $((n0 + 1))
expect_eq "bare (control): IPv4 server sees 127.0.0.1" "$(last tcp4 | cut -d' ' -f1)" 127.0.0.1

out=$(shim "$pol_m" "$PROBE" tcp6 connect=[::ffff:127.0.0.1]:9000 name peer 2>"$T/mapped.log")
expect_match "mapped: connect succeeds" "$out" '^connect=\[::ffff:127\.0\.0\.1\]:9000 rc=0 errno=0$'
expect_match "mapped: source is ::ffff:127.0.0.2" "$out" 'name rc=0 errno=0 local=\[::ffff:127\.0\.0\.2\]:[0-9]+$'
wait_peers tcp4 $((n0 + 2))
expect_eq "mapped: the IPv4 server sees 127.0.0.2 and the same port" "$(last tcp4)" \
	"127.0.0.2 $(sed -n 's/.*local=\[::ffff:127\.0\.0\.2\]:\([0-9]*\)$/\1/p' <<<"$out")"
expect_match "mapped: addr = 127.0.0.0/8 matched the mapped destination" "$(cat "$T/mapped.log")" 'rule=lo4 actions=source='

out=$(shim "$pol_m" "$PY" "$PW" connect ::ffff:127.0.0.1 9000 1 2>/dev/null)
expect_match "mapped, python AF_INET6: source ::ffff:127.0.0.2" "$out" '^local ::ffff:127\.0\.0\.2 [0-9]+$'
expect_eq "mapped, python: the IPv4 server sees 127.0.0.2" "$(last tcp4 | cut -d' ' -f1)" 127.0.0.2

# with a port window too
pol_mw=$(policy mapped-win.ini <<'INI'
[lo4]
on = connect
addr = 127.0.0.0/8
source = 127.0.0.2
source_port = 42100-42104
INI
)
out=$(shim "$pol_mw" "$PROBE" tcp6 connect=[::ffff:127.0.0.1]:9000 name 2>/dev/null)
expect_match "mapped + window: local [::ffff:127.0.0.2]:421xx" "$out" 'local=\[::ffff:127\.0\.0\.2\]:4210[0-4]$'

# UDP send to a mapped destination
n0=$(npeers udp4)
out=$(shim "$pol_m" "$PROBE" udp6 sendto=[::ffff:127.0.0.1]:9100 name 2>/dev/null)
expect_match "mapped UDP send: source ::ffff:127.0.0.2" "$out" 'local=\[::ffff:127\.0\.0\.2\]:[0-9]+$'
wait_peers udp4 $((n0 + 1))
expect_eq "mapped UDP send: the IPv4 server sees 127.0.0.2" "$(last udp4 | cut -d' ' -f1)" 127.0.0.2

# ---- no pool member of the needed family: left alone, still connects ----
pol_v6only=$(policy v6only-pool.ini <<'INI'
[p]
on = connect
source = ::1
INI
)
out=$(shim "$pol_v6only" "$PROBE" tcp6 connect=[::ffff:127.0.0.1]:9000 name 2>"$T/nofam.log")
expect_match "mapped dest, IPv6-only pool: connects" "$out" '^connect=\[::ffff:127\.0\.0\.1\]:9000 rc=0 errno=0$'
expect_match "mapped dest, IPv6-only pool: from ::ffff:127.0.0.1" "$out" '^name rc=0 errno=0 local=\[::ffff:127\.0\.0\.1\]:'
expect_match "mapped dest, IPv6-only pool: logged as skipped" "$(cat "$T/nofam.log")" 'skip=no-source-for-family'
pol_v4only=$(policy v4only-pool.ini <<'INI'
[p]
on = connect
source = 127.0.0.2
INI
)
out=$(shim "$pol_v4only" "$PROBE" tcp6 connect=[::1]:9006 name 2>"$T/nofam4.log")
expect_match "[::1] dest, IPv4-only pool: connects from ::1" "$out" 'name rc=0 errno=0 local=\[::1\]:'
finish

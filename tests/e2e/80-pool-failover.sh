#!/bin/bash
# frontends: preload, seccomp
# 80: a source pool without source_port is not limited by one address's
# ports. The test's network namespace gets a tiny ephemeral range (10 ports,
# 40000-40009), so one source address reaches the server at most 10 times at
# once. Control: bare, the 11th connection fails with EADDRNOTAVAIL. Then
# 127.0.0.2 is filled by another process, and a client under the pool
# (127.0.0.2-4) keeps connecting: every connection is made from 127.0.0.3 or
# 127.0.0.4 (the server sees them; the log shows the hand-over), 20 succeed
# and the 21st gets the kernel's EADDRNOTAVAIL, once. The same for an IPv6
# socket talking to a v4-mapped destination: v4-mapped sources from the pool.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/rot.sh"

sysctl -qw net.ipv4.ip_local_port_range="40000 40009" || { echo "cannot set ip_local_port_range"; exit 77; }
serve tcp 127.0.0.1 9100 "$T/peers" || exit 1

# ---- control: bare, one source address ----
out=$("$RC" -n 12 -w 1 127.0.0.1 9100)
expect_eq "bare: 10 connections, then the port range is spent" "$(field ok "$out")/$(field fail "$out")" "10/2"
expect_match "bare: the kernel says EADDRNOTAVAIL" "$out" '^errno EADDRNOTAVAIL=2$'

FILL=$(policy fill.ini <<'INI'
[fill]
on = connect
source = 127.0.0.2
INI
)
POOL=$(policy pool.ini <<'INI'
[pool]
on = connect
source = 127.0.0.2, 127.0.0.3, 127.0.0.4
INI
)
# 127.0.0.2 full for this destination, held for the rest of the test
later shim "$FILL" "$RC" -n 10 -w 30 -f "$T/fill.ports" 127.0.0.1 9100 >/dev/null 2>"$T/fill.log"
wait_lines "$T/fill.ports" 10
expect_eq "filler: 10 connections from 127.0.0.2" "$(cut -d' ' -f1 "$T/fill.ports" | sort | uniq -c | awk '{print $1, $2}')" "10 127.0.0.2"

# ---- the pool hands over to the next address ----
before=$(wc -l <"$T/peers")
out=$(shim "$POOL" "$RC" -n 21 -w 1 -f "$T/pool.ports" 127.0.0.1 9100 2>"$T/pool.log")
expect_eq "pool: 20 connections succeed, the 21st fails" "$(field ok "$out")/$(field fail "$out")" "20/1"
expect_match "pool: with the kernel's own EADDRNOTAVAIL" "$out" '^errno EADDRNOTAVAIL=1$'
expect_eq "pool: getsockname shows 10 from .3 and 10 from .4" \
	"$(cut -d' ' -f1 "$T/pool.ports" | sort | uniq -c | awk '{print $1, $2}' | tr '\n' ' ')" "10 127.0.0.3 10 127.0.0.4 "
expect_eq "pool: every port inside the namespace's range 40000-40009" \
	"$(awk '$2 >= 40000 && $2 <= 40009' "$T/pool.ports" | wc -l)" 20
expect_eq "pool: the server saw the same" \
	"$(tail -n +$((before + 1)) "$T/peers" | cut -d' ' -f1 | sort | uniq -c | awk '{print $1, $2}' | tr '\n' ' ')" "10 127.0.0.3 10 127.0.0.4 "
expect_match "pool: the log shows the hand-over from a full address" "$(cat "$T/pool.log")" \
	'actions=busy=127\.0\.0\.2:EADDRNOTAVAIL,source=127\.0\.0\.[34](,continue)? rc=0( via=seccomp)?$'
failed_line=$(grep 'rc=-1' "$T/pool.log")
expect_eq "pool: exactly one failure logged" "$(printf '%s\n' "$failed_line" | grep -c .)" 1
expect_eq "pool: it tried all three addresses" "$(grep -o 'busy=127\.0\.0\.[234]:EADDRNOTAVAIL' <<<"$failed_line" | sort | tr '\n' ' ')" \
	"busy=127.0.0.2:EADDRNOTAVAIL busy=127.0.0.3:EADDRNOTAVAIL busy=127.0.0.4:EADDRNOTAVAIL "
expect_match "pool: and says so" "$failed_line" 'failed=source:EADDRNOTAVAIL rc=-1 errno=EADDRNOTAVAIL( via=seccomp)?$' 
expect_match "pool: no fd leaked" "$out" '^fds-leaked=0$'

# ---- IPv6 socket, v4-mapped destination ----
# (fresh addresses: the ports just used by .3 and .4 are in TIME_WAIT, which
# the kernel reuses on loopback for IPv4 but not for v4-mapped IPv6)
POOL6=$(policy pool6.ini <<'INI'
[pool]
on = connect
source = 127.0.0.2, 127.0.0.5, 127.0.0.6
INI
)
before=$(wc -l <"$T/peers")
out=$(shim "$POOL6" "$RC" -6 -n 20 -w 1 -f "$T/v6.ports" '[::ffff:127.0.0.1]' 9100 2>"$T/v6.log")
expect_eq "mapped: 20 connections succeed" "$(field ok "$out")/$(field fail "$out")" "20/0"
expect_eq "mapped: v4-mapped sources .5 and .6" \
	"$(cut -d' ' -f1 "$T/v6.ports" | sort | uniq -c | awk '{print $1, $2}' | tr '\n' ' ')" "10 ::ffff:127.0.0.5 10 ::ffff:127.0.0.6 "
expect_eq "mapped: the server saw .5 and .6" \
	"$(tail -n +$((before + 1)) "$T/peers" | cut -d' ' -f1 | sort -u | tr '\n' ' ')" "127.0.0.5 127.0.0.6 "
expect_match "mapped: the log shows the hand-over" "$(cat "$T/v6.log")" 'actions=busy=::ffff:127\.0\.0\.2:EADDRNOTAVAIL,source=::ffff:127\.0\.0\.[56](,continue)? rc=0( via=seccomp)?$' 

finish

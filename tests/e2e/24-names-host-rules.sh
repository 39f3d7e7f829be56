#!/bin/bash
# 24: `host =` on connect and send: a rule matches when the destination
# address was returned to this process by a lookup of a matching name, the
# most recent lookup that returned it deciding. Checked with the kernel's
# answers (connect's errno, getpeername) and what the servers accepted:
# - *.blocked.test and ok.example.test both resolve to 127.0.0.1; connects
#   after a *.blocked.test lookup are refused (ECONNREFUSED, the server sees
#   nothing), after ok.example.test they reach the server, in any order in
#   one process (per-name matching on one address: the latest lookup wins);
# - an address no lookup returned never matches a host rule, not even
#   host = *; a numeric host is no lookup;
# - a forked child connecting to an address its parent looked up is matched;
# - rewrite on a host rule sends the connect to a local mock; send (UDP
#   sendto) is matched like connect; IPv6 answers too;
# - the log's connect decisions carry host=NAME.
# Control: bare, nothing is refused (the servers see every connect).
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/names.sh"
names_preload_only

names_tcp srv 127.0.0.1 19000 || exit 1
names_tcp srv2 127.0.0.2 19000 || exit 1
names_tcp mock 127.0.0.1 19443 || exit 1
names_tcp srv6 ::1 19006 || exit 1

P=$(policy host.ini <<'INI'
[blocked-names]
on = resolve
host = *.blocked.test
rewrite = 127.0.0.1, ::1

[ok-name]
on = resolve
host = ok.example.test
rewrite = 127.0.0.1, ::1

[prod-name]
on = resolve
host = api.prod.test
rewrite = 192.0.2.44

[deny-blocked]
on = connect, send
host = *.blocked.test
deny = ECONNREFUSED

[mock-prod]
on = connect
host = api.prod.test
rewrite = 127.0.0.1:19443

[seen]
on = connect, send
INI
)

# ---- per-name matching on one address ----
out=$(shim "$P" "$NAMEPROBE" connect x.blocked.test 19000 2>"$T/a.log")
expect_eq "x.blocked.test: the connect to its answer is refused" "$out" "x.blocked.test 19000 rc=-1 errno=ECONNREFUSED peer=-"
sleep 0.2
expect_eq "x.blocked.test: the server accepted nothing" "$(names_npeers srv)" 0
out=$(shim "$P" "$NAMEPROBE" connect ok.example.test 19000)
expect_eq "ok.example.test, the same address: the connect reaches the server (getpeername)" "$out" \
	"ok.example.test 19000 rc=0 errno=0 peer=127.0.0.1:19000"
out=$(shim "$P" "$NAMEPROBE" connect a.blocked.test 19000 ok.example.test 19000 b.blocked.test 19000 ok.example.test 19000 2>"$T/order.log")
expect_eq "one process, alternating names for one address: the latest lookup decides each connect" "$out" \
"a.blocked.test 19000 rc=-1 errno=ECONNREFUSED peer=-
ok.example.test 19000 rc=0 errno=0 peer=127.0.0.1:19000
b.blocked.test 19000 rc=-1 errno=ECONNREFUSED peer=-
ok.example.test 19000 rc=0 errno=0 peer=127.0.0.1:19000"
sleep 0.2
expect_eq "the server accepted exactly the three allowed connects" "$(names_npeers srv)" 3
out=$("$NAMEPROBE" connect 127.0.0.1 19000)
expect_eq "control: bare, a connect to the address reaches the server" "$out" "127.0.0.1 19000 rc=0 errno=0 peer=127.0.0.1:19000"

# ---- an address no lookup returned ----
Pall=$(policy all.ini <<'INI'
[names]
on = resolve
host = *.blocked.test
rewrite = 127.0.0.1

[any-name]
on = connect
host = *
deny = ECONNREFUSED
INI
)
out=$(shim "$Pall" "$NAMEPROBE" connect 127.0.0.1 19000 127.0.0.2 19000)
expect_eq "host = *: numeric hosts, never looked up, are not matched" "$out" \
"127.0.0.1 19000 rc=0 errno=0 peer=127.0.0.1:19000
127.0.0.2 19000 rc=0 errno=0 peer=127.0.0.2:19000"
out=$(shim "$Pall" "$NAMEPROBE" connect x.blocked.test 19000 127.0.0.2 19000)
expect_eq "host = *: after a lookup returned 127.0.0.1, 127.0.0.2 (no lookup returned it) is still not matched" "$out" \
"x.blocked.test 19000 rc=-1 errno=ECONNREFUSED peer=-
127.0.0.2 19000 rc=0 errno=0 peer=127.0.0.2:19000"
out=$(shim "$Pall" "$PY" -c 'import socket
s = socket.create_connection(("127.0.0.1", 19000), timeout=5); print("connected", s.getpeername()[0])' 2>&1)
expect_eq "host = *: a program that never looks anything up connects" "$out" "connected 127.0.0.1"

# ---- fork: the child's connect to what its parent looked up ----
out=$(shim "$P" "$NAMEPROBE" fork c.blocked.test 19000)
expect_eq "fork: the child's connect to the parent's *.blocked.test answer is refused" "$out" "child rc=-1 errno=ECONNREFUSED peer=-"
out=$(shim "$P" "$NAMEPROBE" fork ok.example.test 19000)
expect_eq "fork: after an ok.example.test lookup the child connects" "$out" "child rc=0 errno=0 peer=127.0.0.1:19000"

# ---- rewrite on a host rule: the named service goes to a local mock ----
n0=$(names_npeers mock)
out=$(shim "$P" "$NAMEPROBE" connect api.prod.test 443 2>"$T/mock.log")
expect_eq "rewrite on host = api.prod.test: its connect to 192.0.2.44:443 lands on the mock (getpeername)" "$out" \
	"api.prod.test 443 rc=0 errno=0 peer=127.0.0.1:19443"
wait_n() { for _ in $(seq 60); do [ "$(names_npeers "$1")" -ge "$2" ] && return 0; sleep 0.05; done; return 1; }
wait_n mock $((n0 + 1))
expect_eq "rewrite: the mock accepted it" "$(names_npeers mock)" $((n0 + 1))
out=$("$NAMEPROBE" connect 192.0.2.44 443)
expect_match "control: bare, 192.0.2.44 is unreachable here" "$out" 'rc=-1 errno=ENETUNREACH'

# ---- IPv6 answers ----
py6='import socket, sys
r = socket.getaddrinfo(sys.argv[1], 19006, socket.AF_INET6, socket.SOCK_STREAM)
s = socket.socket(socket.AF_INET6)
e = s.connect_ex(r[0][4])
print(r[0][4][0], "connected" if e == 0 else __import__("errno").errorcode[e])'
expect_eq "v6: a connect to ::1 after a *.blocked.test lookup is refused" "$(shim "$P" "$PY" -c "$py6" v.blocked.test 2>/dev/null)" "::1 ECONNREFUSED"
expect_eq "v6: after ok.example.test it connects" "$(shim "$P" "$PY" -c "$py6" ok.example.test 2>/dev/null)" "::1 connected"
sleep 0.2
expect_eq "v6: the [::1] server accepted only the allowed one" "$(names_npeers srv6)" 1

# ---- send ----
names_udp() { "$PY" "$TOP/tests/helpers/peerwatch.py" serve udp 127.0.0.1 19053 >"$T/udp.out" 2>&1 & _ns_pids="$_ns_pids $!"; _names_ready udp; }
names_udp || exit 1
pyudp='import socket, sys
for n in sys.argv[1:]:
    a = socket.getaddrinfo(n, 19053, socket.AF_INET, socket.SOCK_DGRAM)[0][4]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.sendto(n.encode(), a); print(n, "sent")
    except OSError as e:
        print(n, __import__("errno").errorcode[e.errno])'
out=$(shim "$P" "$PY" -c "$pyudp" u.blocked.test ok.example.test 2>/dev/null)
expect_eq "send: sendto an address from a *.blocked.test lookup is refused, from ok.example.test sent" "$out" \
"u.blocked.test ECONNREFUSED
ok.example.test sent"
sleep 0.2
expect_eq "send: the UDP server received only the allowed datagram" "$(grep '^peer' "$T/udp.out" | awk '{print $4}' | tr '\n' ' ')" "ok.example.test "

# ---- the log ----
expect_match "log: the refused connect carries host=x.blocked.test" "$(cat "$T/a.log")" \
	'connect .*127\.0\.0\.1:19000.*host=x\.blocked\.test.*rule=deny-blocked.*ECONNREFUSED'
expect_match "log: the allowed connect carries host=ok.example.test" "$(cat "$T/order.log")" \
	'connect .*127\.0\.0\.1:19000.*host=ok\.example\.test.*rule=seen'
expect_match "log: the rewritten connect carries host=api.prod.test" "$(cat "$T/mock.log")" \
	'connect .*192\.0\.2\.44:443.*host=api\.prod\.test.*rule=mock-prod.*rewrite=127\.0\.0\.1:19443'
finish

# Dual-stack wildcard binds: a server on an AF_INET6 socket with
# IPV6_V6ONLY=0 binding [::] (what Go, Java and many others do when asked
# for 0.0.0.0) also takes 0.0.0.0, so `addr = 0.0.0.0` applies to it.
# frontends: preload, seccomp
#   addr = 0.0.0.0, rewrite = 127.0.0.7   a python dual-stack server asking
#        for [::]:8100 listens on [::ffff:127.0.0.7]:8100 (ss, its
#        getsockname), a client reaches it at 127.0.0.7
#   the same server with IPV6_V6ONLY=1    the rule does not apply: it stays
#        on [::]:8101, or gets the IPv6-only rule on [::1]:8102
#   listen, addr = 0.0.0.0/0              reuseport=force reaches the
#        dual-stack listener (getsockopt), not the IPv6-only one
#   explain --family dual / ipv6          says what each server got
. "$TOP/tests/lib.sh"

PY=$(python3 -c 'import sys; print(sys.executable)')
PROBE=$BUILD/tests/probe
S=$BUILD/sockshim
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done' EXIT

pol=$(policy dual.ini <<EOF
[global]
log = file:$T/shim.log

[wild4]
on = bind
proto = tcp
addr = 0.0.0.0
port = 8100-8104
rewrite = 127.0.0.7

[only6]
on = bind
addr = ::
port = 8102
rewrite = [::1]

[reuse-all4]
on = listen
addr = 0.0.0.0/0
port = 8103
reuseport = force
EOF
)

# A dual-stack server as python writes one: AF_INET6, IPV6_V6ONLY as asked,
# bind (::, PORT), listen; prints getsockname, answers one client with the
# address it accepted on, exits.
cat > "$T/server6.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(sys.argv[1]))
s.bind(("::", int(sys.argv[2])))
s.listen(8)
print("bound %s %d" % s.getsockname()[:2], flush=True)
s.settimeout(5)
c, peer = s.accept()
c.sendall(("%s %d\n" % c.getsockname()[:2]).encode())
c.close()
s.close()
EOF
cat > "$T/client.py" <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
print(s.makefile().readline().strip())
EOF

listening() { ss -Hltn | awk '{print $4}' | grep -qxF -- "$1"; }

# ---- control: bare, the dual-stack server listens on [::]:8100 ----
timeout 10 "$PY" "$T/server6.py" 0 8100 > "$T/bare.out" 2>&1 &
p=$!; pids="$pids $p"
wait_port 8100
check "bare: ss shows *:8100 (a dual-stack wildcard)" listening '*:8100'
timeout 10 "$PY" "$T/client.py" 127.0.0.1 8100 > /dev/null 2>&1
wait $p

# ---- IPV6_V6ONLY=0: addr = 0.0.0.0 applies, the rewrite is v4-mapped ----
shim "$pol" timeout 10 "$PY" "$T/server6.py" 0 8100 > "$T/a.out" 2>&1 &
p=$!; pids="$pids $p"
wait_port 8100
check "dual-stack: ss shows [::ffff:127.0.0.7]:8100" listening '[::ffff:127.0.0.7]:8100'
expect_eq "dual-stack: the server's getsockname is ::ffff:127.0.0.7 8100" "$(head -1 "$T/a.out")" "bound ::ffff:127.0.0.7 8100"
out=$(timeout 10 "$PY" "$T/client.py" 127.0.0.1 8100 2>&1)
expect_match "dual-stack: 127.0.0.1:8100 refuses connections" "$out" 'ConnectionRefused'
out=$(timeout 10 "$PY" "$T/client.py" 127.0.0.7 8100 2>&1)
expect_eq "dual-stack: a client reaches it at 127.0.0.7:8100" "$out" "::ffff:127.0.0.7 8100"
wait $p
expect_match "dual-stack: the log names the rule and the v4-mapped rewrite" "$(cat "$T/shim.log")" \
	'bind fd=[0-9]+ tcp \[::\]:8100 rule=wild4 actions=rewrite=\[::ffff:127\.0\.0\.7\]:8100 rc=0'
out=$("$S" explain "$pol" bind tcp 0.0.0.0:8100 --family dual)
expect_match "explain --family dual: wild4 decides" "$out" "^rule 'wild4' "
expect_match "explain --family dual: the effective address is v4-mapped" "$out" '^  effective address: \[::ffff:127\.0\.0\.7\]:8100$'
out=$("$S" explain "$pol" bind tcp '[::]:8100' --family dual)
expect_match "explain [::] --family dual: wild4 decides" "$out" "^rule 'wild4' "

# ---- IPV6_V6ONLY=1: the rule on 0.0.0.0 does not apply ----
shim "$pol" timeout 10 "$PY" "$T/server6.py" 1 8101 > "$T/b.out" 2>&1 &
p=$!; pids="$pids $p"
wait_port 8101
check "v6only: ss shows [::]:8101" listening '[::]:8101'
expect_eq "v6only: the server's getsockname is :: 8101" "$(head -1 "$T/b.out")" "bound :: 8101"
out=$(timeout 10 "$PY" "$T/client.py" ::1 8101 2>&1)
expect_eq "v6only: a client reaches it at [::1]:8101" "$out" "::1 8101"
wait $p
out=$("$S" explain "$pol" bind tcp 0.0.0.0:8101 --family ipv6)
expect_match "explain --family ipv6: no rule decides [::]:8101" "$out" '^no rule matches'

# ---- IPV6_V6ONLY=1 where an IPv6 rule follows: that one decides ----
shim "$pol" timeout 10 "$PY" "$T/server6.py" 1 8102 > "$T/c.out" 2>&1 &
p=$!; pids="$pids $p"
wait_port 8102
check "v6only: ss shows [::1]:8102 (rule only6)" listening '[::1]:8102'
timeout 10 "$PY" "$T/client.py" ::1 8102 > /dev/null 2>&1
wait $p
out=$("$S" explain "$pol" bind tcp '[::]:8102' --family ipv6)
expect_match "explain --family ipv6: only6 decides [::]:8102" "$out" "^rule 'only6' "
expect_match "explain --family ipv6: the effective address is [::1]:8102" "$out" '^  effective address: \[::1\]:8102$'
out=$(shim "$pol" "$PROBE" tcp6 set=v6only:0 bind=[::]:8102 name 2>&1)
expect_match "dual-stack on 8102: wild4 comes first, [::ffff:127.0.0.7]:8102" "$out" '^name rc=0 errno=0 local=\[::ffff:127\.0\.0\.7\]:8102$'

# ---- listen rules see the dual-stack state too ----
out=$(shim "$pol" "$PROBE" tcp6 set=v6only:0 bind=[::]:8103 listen get=reuseport 2>&1)
expect_match "listen, dual-stack: SO_REUSEPORT forced" "$out" '^get=reuseport rc=0 errno=0 value=1$'
out=$(shim "$pol" "$PROBE" tcp6 set=v6only:1 bind=[::]:8103 listen get=reuseport 2>&1)
expect_match "listen, v6only: SO_REUSEPORT left alone" "$out" '^get=reuseport rc=0 errno=0 value=0$'
out=$(shim "$pol" "$PROBE" tcp4 bind=0.0.0.0:8104 name 2>&1)
expect_match "IPv4 socket: 0.0.0.0:8104 moves to 127.0.0.7:8104" "$out" '^name rc=0 errno=0 local=127\.0\.0\.7:8104$'

finish

#!/bin/bash
# 95: a Go dual-stack server under the seccomp front end (Debian's
# golang-go; CGO off, a static binary the preload cannot reach).
# net.Listen("tcp", "0.0.0.0:PORT") binds [::] on an AF_INET6 socket with
# IPV6_V6ONLY=0; under `on = bind, addr = 0.0.0.0, rewrite = 127.0.0.7` it
# listens on [::ffff:127.0.0.7]:PORT (ss) and a client reaches it at
# 127.0.0.7. net.Listen("tcp6", "[::]:PORT") (IPV6_V6ONLY=1) is left alone.
# explain --family dual / ipv6 says the same.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/seccomp.sh"

if ! command -v go >/dev/null 2>&1; then
	echo "skipped: no Go toolchain (apt-get install -y golang-go)"
	exit 77
fi
if ! HOME=$T GOCACHE=$T/gocache GOPATH=$T/gopath GOPROXY=off GOFLAGS= CGO_ENABLED=0 \
	timeout 120 go build -o "$T/goserver" "$TOP/tests/helpers/goserver.go" 2>"$T/go.err"; then
	echo "not ok - the Go server builds"
	sed 's/^/#   /' "$T/go.err" | head -10
	exit 1
fi
check "the Go server is statically linked" is_static "$T/goserver"
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done' EXIT

P=$(policy dual.ini <<EOF
[global]
log = file:$T/sup.log

[wild4]
on = bind
addr = 0.0.0.0
rewrite = 127.0.0.7
EOF
)
S=$BUILD/sockshim
listening() { ss -Hltn | awk '{print $4}' | grep -qxF -- "$1"; }
cat > "$T/client.py" <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
print(s.makefile().readline().strip())
EOF

# ---- control: bare, Go listens on the dual-stack wildcard ----
timeout 15 "$T/goserver" tcp 0.0.0.0:8200 > "$T/bare.out" 2>&1 &
p=$!; pids="$pids $p"
wait_port 8200
check "bare: ss shows *:8200 (dual-stack [::])" listening '*:8200'
timeout 10 python3 "$T/client.py" 127.0.0.1 8200 > /dev/null 2>&1
wait $p

# ---- supervised: addr = 0.0.0.0 applies to the dual-stack bind ----
sup "$P" "$T/goserver" tcp 0.0.0.0:8201 > "$T/a.out" 2>&1 &
p=$!; pids="$pids $p"
wait_port 8201
check "supervised Go, dual-stack: ss shows [::ffff:127.0.0.7]:8201" listening '[::ffff:127.0.0.7]:8201'
out=$(timeout 10 python3 "$T/client.py" 127.0.0.1 8201 2>&1)
expect_match "supervised Go, dual-stack: 127.0.0.1:8201 refuses connections" "$out" 'ConnectionRefused'
out=$(timeout 10 python3 "$T/client.py" 127.0.0.7 8201 2>&1)
expect_eq "supervised Go, dual-stack: a client reaches it at 127.0.0.7:8201" "$out" "127.0.0.7:8201"
wait $p
expect_match "supervised Go, dual-stack: the log names wild4 and the v4-mapped rewrite" "$(cat "$T/sup.log")" \
	'bind fd=[0-9]+ tcp \[::\]:8201 rule=wild4 actions=rewrite=\[::ffff:127\.0\.0\.7\]:8201 rc=0'
out=$("$S" explain "$P" bind tcp 0.0.0.0:8201 --family dual)
expect_match "explain --family dual agrees: wild4 decides" "$out" "^rule 'wild4' "
expect_match "explain --family dual agrees: [::ffff:127.0.0.7]:8201" "$out" '^  effective address: \[::ffff:127\.0\.0\.7\]:8201$'

# ---- supervised: tcp6 [::] is IPV6_V6ONLY=1, the rule does not apply ----
sup "$P" "$T/goserver" tcp6 '[::]:8202' > "$T/b.out" 2>&1 &
p=$!; pids="$pids $p"
wait_port 8202
check "supervised Go, tcp6: ss shows [::]:8202" listening '[::]:8202'
out=$(timeout 10 python3 "$T/client.py" ::1 8202 2>&1)
expect_eq "supervised Go, tcp6: a client reaches it at [::1]:8202" "$out" "[::1]:8202"
wait $p
out=$("$S" explain "$P" bind tcp '[::]:8202' --family ipv6)
expect_match "explain --family ipv6 agrees: no rule" "$out" '^no rule matches'

finish

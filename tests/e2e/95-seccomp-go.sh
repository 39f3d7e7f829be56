#!/bin/bash
# 95: the seccomp front end on a Go client (Debian's golang-go; CGO off, so
# a static binary making raw system calls from the runtime's threads, with
# non-blocking connects): under `source = 127.0.0.2` the server sees
# 127.0.0.2; under `deny` the dial fails with the policy's errno; under
# `rewrite` it reaches the mock. Control: the preloaded shim cannot reach it.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"
. "$TOP/tests/helpers/seccomp.sh"

if ! command -v go >/dev/null 2>&1; then
	echo "skipped: no Go toolchain (apt-get install -y golang-go)"
	exit 77
fi
if ! HOME=$T GOCACHE=$T/gocache GOPATH=$T/gopath GOPROXY=off GOFLAGS= CGO_ENABLED=0 \
	timeout 120 go build -o "$T/goclient" "$TOP/tests/helpers/goclient.go" 2>"$T/go.err"; then
	echo "not ok - the Go client builds"
	sed 's/^/#   /' "$T/go.err" | head -10
	exit 1
fi
check "the Go client is statically linked" is_static "$T/goclient"

serve tcp tcp 127.0.0.1 9000 || exit 1
last_addr() { peers tcp | tail -1 | cut -d' ' -f1; }

P=$(policy source.ini <<'INI'
[pin]
on = connect
source = 127.0.0.2
INI
)
out=$("$T/goclient" 127.0.0.1:9000)
expect_match "bare Go client connects from 127.0.0.1 (control)" "$out" '^local 127\.0\.0\.1 [0-9]+$'
shim "$P" "$T/goclient" 127.0.0.1:9000 >/dev/null 2>&1
wait_peers tcp 2
expect_eq "preloaded shim: the Go client is not reached (server sees 127.0.0.1)" "$(last_addr)" 127.0.0.1

out=$(sup "$P" "$T/goclient" 127.0.0.1:9000 3 2>"$T/src.log")
expect_match "supervised Go client: three connections from 127.0.0.2" "$out" \
	'^local 127\.0\.0\.2 [0-9]+
local 127\.0\.0\.2 [0-9]+
local 127\.0\.0\.2 [0-9]+$'
wait_peers tcp 5
expect_eq "supervised: the server sees 127.0.0.2 for all three" "$(peers tcp | tail -3 | cut -d' ' -f1 | sort -u)" 127.0.0.2
expect_eq "supervised: the server sees the ports the client reports" \
	"$(peers tcp | tail -3)" "$(printf '%s\n' "$out" | sed 's/^local //')"
expect_eq "supervised: three decisions logged" "$(grep -cE 'rule=pin actions=source=127\.0\.0\.2[ ,].* via=seccomp' "$T/src.log")" 3

for e in ECONNREFUSED ENETUNREACH EACCES; do
	D=$(policy "deny-$e.ini" <<INI
[block]
on = connect
port = 9000
deny = $e
INI
)
	n0=$(npeers tcp)
	out=$(sup "$D" "$T/goclient" 127.0.0.1:9000 2>/dev/null)
	expect_eq "deny=$e: the Go dial fails with $e" "$out" "error $e"
	sleep 0.2
	expect_eq "deny=$e: the server received nothing" "$(npeers tcp)" "$n0"
done

R=$(policy rw.ini <<'INI'
[to-mock]
on = connect
addr = 127.0.0.9
port = 80
rewrite = 127.0.0.1:9000
INI
)
out=$("$T/goclient" 127.0.0.9:80)
expect_eq "bare: nothing listens on 127.0.0.9:80 (control)" "$out" "error ECONNREFUSED"
n0=$(npeers tcp)
out=$(sup "$R" "$T/goclient" 127.0.0.9:80 2>"$T/rw.log")
expect_match "rewrite: the Go client reaches the mock" "$out" '^local 127\.0\.0\.1 [0-9]+$'
wait_peers tcp $((n0 + 1))
expect_eq "rewrite: the mock counted it" "$(npeers tcp)" $((n0 + 1))
expect_match "rewrite: logged" "$(cat "$T/rw.log")" 'tcp 127\.0\.0\.9:80 rule=to-mock actions=rewrite=127\.0\.0\.1:9000[ ,]'
finish

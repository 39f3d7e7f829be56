#!/bin/bash
# 96: pinned and rotated egress, on real clients: curl, a node client, a
# python3 asyncio client (non-blocking connects from their event loops) and
# a static Go client (under the seccomp front end whatever FRONTEND is: no
# preload reaches it). Under `source = 127.0.0.2` with `source_port =
# 42000-42009`, the server saw 127.0.0.2 and a port inside the window for
# every connection, and each client's own getsockname says the same. Bare,
# every client comes from 127.0.0.1 (control).
# frontends: preload, seccomp
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"

PORT=9660 HPORT=9661 N=3
serve tcp tcp 127.0.0.1 $PORT || exit 1
serve http http 127.0.0.1 $HPORT || exit 1

P=$(policy egress.ini <<EOF
[egress]
on = connect
proto = tcp
addr = 127.0.0.1
port = $PORT, $HPORT
source = 127.0.0.2
source_port = 42000-42009
EOF
)

# window_ok TEXT: one or more "ADDR PORT" lines, each 127.0.0.2 with a port
# inside the window
window_ok() {
	[ -n "$1" ] && printf '%s\n' "$1" | awk '!($1 == "127.0.0.2" && $2 >= 42000 && $2 <= 42009) { bad = 1 } END { exit bad }'
}
# last_peers NAME N: what the server saw for the last N connections
last_peers() { peers "$1" | tail -"$2"; }
locals() { printf '%s\n' "$1" | sed -n 's/^local //p'; }

NODE=(node "$TOP/tests/helpers/nodeclient.js")
ASYNCIO=("$PY" "$TOP/tests/helpers/asyncclient.py")

# node crashes at start (a null interceptor, pc 0) when any library built
# with ASan or TSan is preloaded into it, ours or a one-line one: in such a
# build the node runs are left out under the preload front end.
clients="node asyncio"
if [ "${SOCKSHIM_FRONTEND:-preload}" = preload ] && ldd "$SHIM" 2>/dev/null | grep -Eq 'lib(asan|tsan)\.so'; then
	echo "# node left out: the shim is built with a sanitizer whose runtime node cannot take preloaded"
	clients=asyncio
fi
for who in $clients; do
	if [ $who = node ]; then c=("${NODE[@]}"); else c=("${ASYNCIO[@]}"); fi
	out=$(timeout 20 "${c[@]}" 127.0.0.1 $PORT 1)
	expect_match "$who bare: connects from 127.0.0.1 (control)" "$out" '^local 127\.0\.0\.1 [0-9]+$'
	n0=$(npeers tcp)
	out=$(shim "$P" timeout 20 "${c[@]}" 127.0.0.1 $PORT $N 2>"$T/$who.err")
	wait_peers tcp $((n0 + N))
	expect_eq "$who: $N connections made" "$(locals "$out" | wc -l)" $N
	check "$who: its getsockname says 127.0.0.2, ports in 42000-42009" window_ok "$(locals "$out")"
	seen=$(last_peers tcp $N)
	check "$who: the server saw 127.0.0.2 and ports in 42000-42009" window_ok "$seen"
	expect_eq "$who: the server saw the ports the client reports" "$seen" "$(locals "$out")"
done

# curl: one process per request
out=$(curl -s --max-time 5 -o /dev/null -w '%{local_ip} %{local_port}\n' http://127.0.0.1:$HPORT/)
expect_match "curl bare: connects from 127.0.0.1 (control)" "$out" '^127\.0\.0\.1 [0-9]+$'
n0=$(npeers http)
: >"$T/curl.out"
for _ in $(seq $N); do
	shim "$P" curl -s --max-time 5 -o /dev/null -w '%{local_ip} %{local_port}\n' http://127.0.0.1:$HPORT/ \
		>>"$T/curl.out" 2>>"$T/curl.err"
done
out=$(cat "$T/curl.out")
wait_peers http $((n0 + N))
expect_eq "curl: $N requests made" "$(grep -c . "$T/curl.out")" $N
check "curl: its own report says 127.0.0.2, ports in 42000-42009" window_ok "$out"
seen=$(last_peers http $N)
check "curl: the server saw 127.0.0.2 and ports in 42000-42009" window_ok "$seen"
expect_eq "curl: the server saw the ports curl reports" "$seen" "$out"

# Go: static, raw system calls: only the seccomp front end reaches it
if ! command -v go >/dev/null 2>&1; then
	not_ok "a Go toolchain (golang-go) for the Go client"
	finish
fi
if HOME=$T GOCACHE=$T/gocache GOPATH=$T/gopath GOPROXY=off GOFLAGS= CGO_ENABLED=0 \
	timeout 120 go build -o "$T/goclient" "$TOP/tests/helpers/goclient.go" 2>"$T/go.err"; then
	out=$("$T/goclient" 127.0.0.1:$PORT)
	expect_match "go bare: connects from 127.0.0.1 (control)" "$out" '^local 127\.0\.0\.1 [0-9]+$'
	n0=$(npeers tcp)
	out=$(SOCKSHIM_POLICY=$P timeout -k 2 30 "$BUILD/sockshim" --seccomp -- "$T/goclient" 127.0.0.1:$PORT $N 2>"$T/go.log")
	wait_peers tcp $((n0 + N))
	expect_eq "go (--seccomp): $N connections made" "$(locals "$out" | wc -l)" $N
	seen=$(last_peers tcp $N)
	check "go (--seccomp): the server saw 127.0.0.2 and ports in 42000-42009" window_ok "$seen"
	expect_eq "go (--seccomp): the server saw the ports the client reports" "$seen" "$(locals "$out")"
else
	not_ok "the Go client builds"
	sed 's/^/#   /' "$T/go.err" | head -10
fi
finish

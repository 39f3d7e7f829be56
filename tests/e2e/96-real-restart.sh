#!/bin/bash
# 96: restart at once despite TIME_WAIT, on a real server that does not set
# SO_REUSEADDR itself: socat's TCP-LISTEN (Debian 12's socat 1.7.4 sets it
# only when asked with `reuseaddr`). Each run serves one connection and
# closes first, so the connection stays in TIME_WAIT on the server's port.
#   bare                the restart fails with "Address already in use"
#                       while ss shows the TIME_WAIT
#   reuseaddr = force   both runs under the shim (the TIME_WAIT left by the
#                       first run must carry the flag too): the restart
#                       listens (ss -ltn) next to the TIME_WAIT and serves
# frontends: preload, seccomp
. "$TOP/tests/lib.sh"

PORT=9670
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done' EXIT
P=$(policy restart.ini <<EOF
[restart]
on = bind
proto = tcp
addr = 127.0.0.1
port = $PORT
reuseaddr = force
EOF
)

# serve_once NAME [shim POLICY]: socat serves one connection; prints what
# the client got, then socat's exit status
serve_once() {
	local name=$1; shift
	"$@" timeout 10 socat TCP-LISTEN:$PORT,bind=127.0.0.1 SYSTEM:"echo hello-$name" 2>"$T/$name.err" &
	local pid=$!
	pids="$pids $pid"
	local i=0
	while [ $i -lt 50 ] && ! ss -Hltn "sport = :$PORT" | grep -q . && kill -0 $pid 2>/dev/null; do
		sleep 0.05; i=$((i + 1))
	done
	ss -Hltn "sport = :$PORT" | grep -q . && timeout 5 socat -u TCP:127.0.0.1:$PORT - 2>/dev/null
	wait $pid
	echo "exit $?"
}
time_wait() { ss -Htan state time-wait "sport = :$PORT" | grep -c .; }

expect_eq "bare first run serves" "$(serve_once bare1)" "hello-bare1
exit 0"
expect_eq "bare: the server's port is in TIME_WAIT (ss)" "$(time_wait)" 1
out=$(serve_once bare2)
expect_eq "bare restart: socat fails at once" "$out" "exit 1"
expect_match "bare restart: bind gave EADDRINUSE" "$(cat "$T/bare2.err")" 'bind\(.*127\.0\.0\.1:9670.*Address already in use'

# a fresh port state for the shim's runs: the bare TIME_WAIT has no flag
PORT=9671
sed -i "s/^port = .*/port = $PORT/" "$P"
expect_eq "shim first run serves" "$(serve_once shim1 shim "$P")" "hello-shim1
exit 0"
expect_eq "shim: the server's port is in TIME_WAIT (ss)" "$(time_wait)" 1
shim "$P" timeout 10 socat TCP-LISTEN:$PORT,bind=127.0.0.1 SYSTEM:"echo hello-shim2" 2>"$T/shim2.err" &
spid=$!; pids="$pids $spid"
wait_port $PORT
expect_eq "shim restart: listening on 127.0.0.1:$PORT next to the TIME_WAIT (ss)" \
	"$(ss -Hltn "sport = :$PORT" | awk '{ print $4 }')/$(time_wait)" "127.0.0.1:$PORT/1"
expect_eq "shim restart: it serves" "$(timeout 5 socat -u TCP:127.0.0.1:$PORT - 2>/dev/null)" "hello-shim2"
wait $spid
expect_eq "shim restart: exit 0, no socat error" "$?/$(grep -c ' socat\[[0-9]*\] E ' "$T/shim2.err")" "0/0"
expect_match "shim restart: the shim forced SO_REUSEADDR on socat's bind" "$(cat "$T/shim2.err")" \
	" bind fd=[0-9]+ tcp 127\\.0\\.0\\.1:$PORT rule=restart actions=reuseaddr=force rc=0( |$)"
finish

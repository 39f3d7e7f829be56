#!/bin/bash
# 96: pinned egress of a real proxy: haproxy (tcp mode, in the foreground,
# its own config in $T) in front of a backend that records who connected.
# Under `source = 127.0.0.2` with `source_port = 43000-43009` on connects to
# the backend's port, the backend saw 127.0.0.2 and ports inside the window
# for every request that went through haproxy, and the shim's log has
# haproxy's pinned connects (it really ran in haproxy). Bare, the backend
# sees 127.0.0.1 (control).
# frontends: preload, seccomp
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"

FRONT=9690 BACK=9691 N=5
command -v haproxy >/dev/null 2>&1 || { not_ok "haproxy installed"; finish; }
serve back tcp 127.0.0.1 $BACK || exit 1
cat > "$T/haproxy.cfg" <<EOF
global
	maxconn 100
defaults
	mode tcp
	timeout connect 5s
	timeout client 5s
	timeout server 5s
frontend front
	bind 127.0.0.1:$FRONT
	default_backend back
backend back
	server b1 127.0.0.1:$BACK
EOF
P=$(policy egress.ini <<EOF
[backend-egress]
on = connect
proto = tcp
addr = 127.0.0.1
port = $BACK
source = 127.0.0.2
source_port = 43000-43009
EOF
)
# window_ok TEXT: "ADDR PORT" lines, each 127.0.0.2 with a port in the window
window_ok() {
	[ -n "$1" ] && printf '%s\n' "$1" | awk '!($1 == "127.0.0.2" && $2 >= 43000 && $2 <= 43009) { bad = 1 } END { exit bad }'
}

# run_proxy LABEL [shim POLICY]: haproxy up, N requests through it, haproxy down
run_proxy() {
	local label=$1; shift
	"$@" timeout 30 haproxy -db -f "$T/haproxy.cfg" >"$T/$label.out" 2>&1 &
	local hp=$!
	wait_port $FRONT || { not_ok "$label: haproxy listens"; kill $hp; return; }
	local i got=0
	for i in $(seq $N); do
		[ "$(timeout 5 socat -u TCP:127.0.0.1:$FRONT - 2>/dev/null)" = "hello from mock" ] && got=$((got + 1))
	done
	kill $hp; wait $hp 2>/dev/null
	expect_eq "$label: all $N requests answered through haproxy" $got $N
}

run_proxy bare
wait_peers back $N
expect_eq "bare: the backend saw 127.0.0.1 (control)" "$(peer_addrs back)" 127.0.0.1

n0=$(npeers back)
run_proxy shim shim "$P"
wait_peers back $((n0 + N))
seen=$(peers back | tail -n +$((n0 + 1)))
expect_eq "shim: the backend saw $N connections" "$(printf '%s\n' "$seen" | grep -c .)" $N
check "shim: the backend saw 127.0.0.2 and ports in 43000-43009" window_ok "$seen"
expect_match "shim: the shim pinned haproxy's connects" "$(cat "$T/shim.out")" \
	" connect fd=[0-9]+ tcp 127\\.0\\.0\\.1:$BACK rule=backend-egress actions=source=127\\.0\\.0\\.2:430[0-9]{2}"
finish

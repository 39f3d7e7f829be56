#!/bin/bash
# 96: two copies of a real server on one port under `reuseport = force`:
# nginx (Debian's nginx-light, which sets SO_REUSEADDR but not SO_REUSEPORT
# unless its config says `reuseport`) and redis-server (which sets
# SO_REUSEADDR only), each copy in the foreground with its own config in $T.
#   bare    the second copy's bind fails with EADDRINUSE; ss -ltn shows one
#           listener
#   shim    both copies listen (ss -ltn shows two listeners on the port) and
#           the kernel spreads new connections over both: each copy answers
#           with its own name, and 40 connections reach both
# frontends: preload, seccomp
. "$TOP/tests/lib.sh"

pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done; for p in $pids; do wait $p 2>/dev/null; done' EXIT
N=40

listeners() { ss -Hltn "sport = :$1" | grep -c .; }
# wait_listeners PORT N: at most 5 s
wait_listeners() {
	local i=0
	while [ $i -lt 100 ] && [ "$(listeners "$1")" -lt "$2" ]; do sleep 0.05; i=$((i + 1)); done
	[ "$(listeners "$1")" -ge "$2" ]
}
# spread TEXT: the distinct answers, counted, on one line ("a=N b=M")
spread() { printf '%s\n' "$1" | sort | uniq -c | awk '{ printf "%s%s=%d", (NR > 1 ? " " : ""), $2, $1 }'; }
reuseport_policy() { # NAME PORT
	policy "$1.ini" <<EOF
[copies]
on = bind
proto = tcp
addr = 127.0.0.1
port = $2
reuseport = force
EOF
}

# ---- nginx ----
if command -v nginx >/dev/null 2>&1; then
	PORT=9680
	P=$(reuseport_policy nginx $PORT)
	for c in a b; do
		mkdir -p "$T/ngx-$c"
		cat > "$T/ngx-$c/nginx.conf" <<EOF
daemon off;
master_process off;
pid $T/ngx-$c/nginx.pid;
error_log $T/ngx-$c/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $T/ngx-$c/body;
	proxy_temp_path $T/ngx-$c/proxy;
	fastcgi_temp_path $T/ngx-$c/fastcgi;
	uwsgi_temp_path $T/ngx-$c/uwsgi;
	scgi_temp_path $T/ngx-$c/scgi;
	server {
		listen 127.0.0.1:$PORT;
		location / { return 200 "nginx-$c\n"; }
	}
}
EOF
	done
	nginx -p "$T/ngx-a" -c "$T/ngx-a/nginx.conf" -e "$T/ngx-a/error.log" 2>"$T/ngx-a.err" &
	pa=$!; pids="$pids $pa"
	wait_listeners $PORT 1 || not_ok "bare nginx a listens"
	timeout 10 nginx -p "$T/ngx-b" -c "$T/ngx-b/nginx.conf" -e "$T/ngx-b/error.log" 2>"$T/ngx-b.err"
	rc=$?
	expect_eq "nginx bare: the second copy exits with an error" "$rc" 1
	expect_match "nginx bare: its bind failed with EADDRINUSE" "$(cat "$T/ngx-b/error.log")" \
		'bind\(\) to 127\.0\.0\.1:9680 failed \(98: Address already in use\)'
	expect_eq "nginx bare: ss shows one listener" "$(listeners $PORT)" 1
	kill $pa; wait $pa 2>/dev/null
	i=0; while [ $i -lt 100 ] && [ "$(listeners $PORT)" -gt 0 ]; do sleep 0.05; i=$((i + 1)); done

	rm -f "$T"/ngx-[ab]/error.log
	for c in a b; do
		shim "$P" nginx -p "$T/ngx-$c" -c "$T/ngx-$c/nginx.conf" -e "$T/ngx-$c/error.log" 2>"$T/ngx-$c.shim.err" &
		pids="$pids $!"
		wait_listeners $PORT 1
	done
	wait_listeners $PORT 2
	expect_eq "nginx shim: ss shows two listeners on 127.0.0.1:$PORT" \
		"$(ss -Hltn "sport = :$PORT" | awk '{ print $4 }' | sort | uniq -c | awk '{ print $1, $2 }')" "2 127.0.0.1:$PORT"
	out=$(for _ in $(seq $N); do curl -s --max-time 5 "http://127.0.0.1:$PORT/"; done)
	expect_eq "nginx shim: all $N requests answered" "$(printf '%s\n' "$out" | grep -c '^nginx-[ab]$')" $N
	expect_match "nginx shim: both copies served ($(spread "$out"))" "$(spread "$out")" '^nginx-a=[1-9][0-9]* nginx-b=[1-9][0-9]*$'
	expect_eq "nginx shim: no bind error in either log" "$(cat "$T"/ngx-[ab]/error.log | grep -c 'bind()')" 0
else
	not_ok "nginx installed (nginx-light)"
fi

# ---- redis ----
if command -v redis-server >/dev/null 2>&1; then
	PORT=9681
	P=$(reuseport_policy redis $PORT)
	rds() { # NAME: a copy in the foreground, no persistence, its name in its config
		mkdir -p "$T/redis-$1"
		exec redis-server --port $PORT --bind 127.0.0.1 --daemonize no --save '' --appendonly no \
			--dir "$T/redis-$1" --logfile "$T/redis-$1/log" --pidfile "$T/redis-$1/pid" \
			--unixsocket '' --protected-mode no --databases 1 --replica-announce-ip "redis-$1"
	}
	# one INFO-less question: which copy answered? (CONFIG GET, over a plain TCP socket)
	ask() {
		timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/'$PORT' || exit 1
			printf "CONFIG GET replica-announce-ip\r\nQUIT\r\n" >&3; cat <&3' 2>/dev/null | tr -d '\r' | grep -o '^redis-[ab]$'
	}
	rds a >"$T/redis-a.out" 2>&1 &
	pa=$!; pids="$pids $pa"
	wait_listeners $PORT 1 || not_ok "bare redis a listens"
	timeout 10 bash -c "$(declare -f rds); PORT=$PORT T=$T rds b" >"$T/redis-b.out" 2>&1
	rc=$?
	expect_eq "redis bare: the second copy exits with an error" "$rc" 1
	expect_match "redis bare: its bind failed with EADDRINUSE" "$(cat "$T/redis-b/log")" \
		'Could not create server TCP listening socket 127\.0\.0\.1:9681: bind: Address already in use'
	expect_eq "redis bare: ss shows one listener" "$(listeners $PORT)" 1
	kill $pa; wait $pa 2>/dev/null
	i=0; while [ $i -lt 100 ] && [ "$(listeners $PORT)" -gt 0 ]; do sleep 0.05; i=$((i + 1)); done

	for c in a b; do
		rm -f "$T/redis-$c/log"
		shim "$P" bash -c "$(declare -f rds); PORT=$PORT T=$T rds $c" >"$T/redis-$c.shim.out" 2>&1 &
		pids="$pids $!"
		wait_listeners $PORT 1
	done
	wait_listeners $PORT 2
	expect_eq "redis shim: ss shows two listeners on 127.0.0.1:$PORT" \
		"$(ss -Hltn "sport = :$PORT" | awk '{ print $4 }' | sort | uniq -c | awk '{ print $1, $2 }')" "2 127.0.0.1:$PORT"
	out=$(for _ in $(seq $N); do ask; done)
	expect_eq "redis shim: all $N questions answered" "$(printf '%s\n' "$out" | grep -c '^redis-[ab]$')" $N
	expect_match "redis shim: both copies served ($(spread "$out"))" "$(spread "$out")" '^redis-a=[1-9][0-9]* redis-b=[1-9][0-9]*$'
else
	not_ok "redis-server installed"
fi
finish

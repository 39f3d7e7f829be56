#!/bin/bash
# frontends: preload, seccomp
# 87: a real nginx (single process, its own prefix and configuration in $T)
# proxies /a to a backend on 127.0.0.1:9201 and /b to one on :9202 through a
# source_port window of 10 ports, 43500-43509. nginx adds each upstream
# socket to epoll before it connects, and closes each upstream connection
# first (HTTP/1.1 without keep-alive), so its ports stay in TIME_WAIT.
# Another process holds connections from 43500-43502 to :9201 (taken
# 4-tuples). 7 requests to /a, then 10 to /b: every one answers 200, the
# backends saw source ports inside the window (none of the taken ones
# towards :9201), and the ports in TIME_WAIT towards :9201 serve :9202.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/rot.sh"
PY=$(python3 -c 'import sys; print(sys.executable)')
command -v nginx >/dev/null 2>&1 || { echo "skipped: no nginx"; exit 77; }

for port in 9201 9202; do
	later "$PY" "$TOP/tests/helpers/kahttp.py" 127.0.0.1 $port "$T/peers$port" 120 >"$T/ready$port" 2>"$T/err$port"
done
for port in 9201 9202; do
	for _ in $(seq 100); do grep -q ready "$T/ready$port" 2>/dev/null && break; sleep 0.05; done
done
touch "$T/peers9201" "$T/peers9202"

HOG=$(policy hog.ini <<'INI'
[hog]
on = connect
source_port = 43500-43502
INI
)
later shim "$HOG" "$RC" -n 3 -w 120 -f "$T/hog.ports" 127.0.0.1 9201 >/dev/null 2>&1
wait_lines "$T/hog.ports" 3
expect_eq "setup: 43500-43502 held towards :9201" "$(cut -d' ' -f2 "$T/hog.ports" | sort | tr '\n' ' ')" "43500 43501 43502 "

mkdir -p "$T/nginx/logs"
cat >"$T/nginx/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
error_log $T/nginx/logs/error.log info;
pid $T/nginx/nginx.pid;
events { worker_connections 64; }
http {
	access_log $T/nginx/logs/access.log;
	client_body_temp_path $T/nginx/body;
	proxy_temp_path $T/nginx/proxy;
	fastcgi_temp_path $T/nginx/fastcgi;
	uwsgi_temp_path $T/nginx/uwsgi;
	scgi_temp_path $T/nginx/scgi;
	server {
		listen 127.0.0.1:8080;
		location /a { proxy_pass http://127.0.0.1:9201; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_next_upstream off; }
		location /b { proxy_pass http://127.0.0.1:9202; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_next_upstream off; }
	}
}
CONF
P=$(policy egress.ini <<'INI'
[egress]
on = connect
proto = tcp
port = 9201, 9202
source_port = 43500-43509
INI
)
# (nginx points its stderr at its error log: the shim logs to a file of its own)
base9201=$(wc -l <"$T/peers9201")
SOCKSHIM_LOG="file:$T/shim.log" later shim "$P" nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" 2>"$T/nginx.err"
wait_port 8080 || exit 1

codes() { # PATH N: the HTTP status of N requests, one after the other
	for _ in $(seq "$2"); do curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 "http://127.0.0.1:8080$1"; done | sort | uniq -c | tr -s ' ' | tr '\n' ' '
}
expect_eq "7 requests to /a (backend :9201, 3 of the window's 4-tuples taken): all answer 200" "$(codes /a 7)" " 7 200 "
tw=$(ss -Htn state time-wait "( sport >= :43500 and sport <= :43509 and dport = :9201 )" | wc -l)
expect_match "ss: nginx's upstream ports are in TIME_WAIT towards :9201" "$tw" '^[1-7]$'
expect_eq "then 10 requests to /b (backend :9202): all answer 200" "$(codes /b 10)" " 10 200 "
in_window() { tail -n +$(($2 + 1)) "$1" | awk '$1 == "127.0.0.1" && $2 >= 43500 && $2 <= 43509' | wc -l; }
expect_eq "the backends saw every upstream connection from inside the window" "$(in_window "$T/peers9201" "$base9201")/$(in_window "$T/peers9202" 0)" "7/10"
expect_eq "no upstream connection to :9201 from a taken port" \
	"$(tail -n +$((base9201 + 1)) "$T/peers9201" | awk '$2 >= 43500 && $2 <= 43502' | wc -l)" 0
expect_eq "nginx logged no upstream error" "$(grep -c 'upstream\|connect() failed' "$T/nginx/logs/error.log")" 0
expect_match "the shim decided nginx's upstream connects" "$(cat "$T/shim.log")" 'info connect fd=[0-9]+ tcp 127\.0\.0\.1:9202 rule=egress actions=.*source=0\.0\.0\.0:435[01][0-9] '
finish

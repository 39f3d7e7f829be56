#!/bin/bash
# 22: `on = resolve` with `rewrite`: real programs reach a service by its
# name, with no DNS server anywhere. In this namespace (loopback only, no
# route to the nameserver of /etc/resolv.conf, the name in no /etc/hosts)
# python3 urllib, python3 requests, curl and node's http.get fetch
# http://api.example.test:PORT/ from a local server, which reports each
# request (path, Host header, peer address). IPv6: the same with the name
# rewritten to ::1 and the server on [::1]. Controls: bare, every program
# fails to resolve the name and the server sees nothing. The log: a resolve
# line with the name and the answer; the connect decision carries the name
# (host=, JSON "host").
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/names.sh"
names_preload_only

check "no DNS here: the names are in no /etc/hosts, no nameserver is reachable" \
	names_no_dns api.example.test api6.example.test
names_http api 127.0.0.1 18080 || exit 1
names_http api6 ::1 18086 || exit 1

P=$(policy names.ini <<'INI'
[api]
on = resolve
host = api.example.test
rewrite = 127.0.0.1

[api6]
on = resolve
host = api6.example.test
rewrite = ::1

; logs each connect, so that its line shows the name it came from
[seen]
on = connect
INI
)
URL=http://api.example.test:18080
URL6=http://api6.example.test:18086

pyget='import sys, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode().strip())
except Exception as e:
    print("error", type(getattr(e, "reason", e)).__name__)'
pyreq='import sys, requests
try:
    print(requests.get(sys.argv[1], timeout=5).text.strip())
except Exception as e:
    print("error", type(e).__name__)'
nodeget='const http = require("http");
const r = http.get(process.argv[1], (res) => { let b = ""; res.on("data", (d) => b += d); res.on("end", () => console.log(b.trim())); });
r.on("error", (e) => console.log("error " + e.code)); r.setTimeout(5000, () => r.destroy());'

# a python that has requests: the test's own, else Debian's
PYREQ=""
for p in "$PY" /usr/bin/python3; do
	if "$p" -c 'import requests' 2>/dev/null; then PYREQ=$p; break; fi
done

# ---- controls: bare, the name does not resolve ----
expect_eq "bare: python urllib cannot resolve the name" "$("$PY" -c "$pyget" "$URL/bare")" "error gaierror"
curl -s --max-time 10 "$URL/bare" >/dev/null 2>&1
expect_eq "bare: curl cannot resolve the name (exit 6)" "$?" 6
expect_match "bare: node cannot resolve the name" "$(node -e "$nodeget" "$URL/bare")" "^error (ENOTFOUND|EAI_AGAIN)$"
expect_eq "bare: the server saw nothing" "$(names_requests api | wc -l)" 0

# ---- under the shim ----
out=$(shim "$P" "$PY" -c "$pyget" "$URL/py-urllib" 2>"$T/py.log")
expect_eq "python urllib: the answer came from the local server" "$out" "served /py-urllib"
expect_match "python urllib: the server saw the request by name, from loopback" "$(names_requests api)" \
	'^request /py-urllib host=api\.example\.test:18080 peer=127\.0\.0\.1$'
if [ -n "$PYREQ" ]; then
	out=$(shim "$P" "$PYREQ" -c "$pyreq" "$URL/py-requests" 2>/dev/null)
	expect_eq "python requests: the answer came from the local server" "$out" "served /py-requests"
	expect_match "python requests: the server saw the request by name" "$(names_requests api)" \
		'^request /py-requests host=api\.example\.test:18080 peer=127\.0\.0\.1$'
else
	not_ok "python requests: no python3 with requests (apt-get install python3-requests)"
fi
out=$(shim "$P" curl -s --max-time 10 "$URL/curl" 2>"$T/curl.log")
expect_eq "curl: exit 0, the answer came from the local server" "$?/$out" "0/served /curl"
expect_match "curl: the server saw the request by name" "$(names_requests api)" \
	'^request /curl host=api\.example\.test:18080 peer=127\.0\.0\.1$'
# node crashes at start (a null interceptor, pc 0) with any ASan or TSan
# library preloaded, ours or a one-line one (as in 96-real-egress): left out
# in such a build
NODE=node
if ldd "$SHIM" 2>/dev/null | grep -Eq 'lib(asan|tsan)\.so'; then
	echo "# node left out: the shim is built with a sanitizer whose runtime node cannot take preloaded"
	NODE=""
fi
if [ -n "$NODE" ]; then
	out=$(shim "$P" node -e "$nodeget" "$URL/node" 2>/dev/null)
	expect_eq "node http.get: the answer came from the local server" "$out" "served /node"
	expect_match "node http.get: the server saw the request by name" "$(names_requests api)" \
		'^request /node host=api\.example\.test:18080 peer=127\.0\.0\.1$'
fi

# ---- IPv6 answers ----
out=$(shim "$P" curl -s --max-time 10 "$URL6/curl6" 2>/dev/null)
expect_eq "curl, name rewritten to ::1: the answer came from the [::1] server" "$?/$out" "0/served /curl6"
expect_match "curl, ::1: the server saw the request from ::1" "$(names_requests api6)" \
	'^request /curl6 host=api6\.example\.test:18086 peer=::1$'
out=$(shim "$P" "$PY" -c "$pyget" "$URL6/py6" 2>/dev/null)
expect_eq "python urllib, ::1: the answer came from the [::1] server" "$out" "served /py6"
if [ -n "$NODE" ]; then
	out=$(shim "$P" node -e "$nodeget" "$URL6/node6" 2>/dev/null)
	expect_eq "node, ::1: the answer came from the [::1] server" "$out" "served /node6"
fi
expect_eq "::1: the IPv4 server saw none of the IPv6 requests" \
	"$(names_requests api | grep -c -e /curl6 -e /py6 -e /node6)" 0

# ---- the log (secondary: the server's side above is the proof) ----
log=$(cat "$T/curl.log")
expect_match "log: the lookup is a resolve decision naming the name and its answer" "$log" \
	'resolve.*api\.example\.test.*rule=api.*127\.0\.0\.1'
expect_match "log: the connect decision carries host=api.example.test" "$log" \
	'connect .*127\.0\.0\.1:18080.*host=api\.example\.test'
SOCKSHIM_LOG_FORMAT=json shim "$P" "$PY" -c "$pyget" "$URL/json" >/dev/null 2>"$T/py.json"
r=$(jq -c 'select(.op == "resolve") | [.rule, .host]' "$T/py.json" 2>&1 | head -1)
expect_eq "JSON: the resolve decision has rule and host" "$r" '["api","api.example.test"]'
r=$(jq -r 'select(.op == "resolve") | tostring' "$T/py.json" 2>&1 | head -1)
expect_match "JSON: the resolve decision names its answer" "$r" '127\.0\.0\.1'
r=$(jq -c 'select(.op == "connect") | [.addr, .host, .rule]' "$T/py.json" 2>&1 | head -1)
expect_eq "JSON: the connect decision has \"host\"" "$r" '["127.0.0.1:18080","api.example.test","seen"]'
expect_eq "JSON: a connect decision without a lookup has no \"host\"" \
	"$(SOCKSHIM_LOG_FORMAT=json shim "$P" "$PY" -c 'import socket; socket.create_connection(("127.0.0.1", 18080)).close()' 2>&1 |
		jq -c 'select(.op == "connect") | has("host")' | head -1)" false
finish

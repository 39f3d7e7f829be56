#!/bin/bash
# 98: `sockshim report` groups destinations by the name they came from, on
# logs real programs wrote under the shim. python3 urllib (twice) and curl
# fetch http://api.example.test:PORT/ (the name rewritten to 127.0.0.1,
# where a local server records each request), and python3 connects to
# x.blocked.test (rewritten to 127.0.0.2, then denied by a host rule). The
# server's record says what really happened; the report's "by name" section
# (text) and "names" array (--json) must give, per name, its lookups and
# answer and each destination with its count and decision, the same for the
# text and the JSON log. A log without names has no such section.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/names.sh"
names_preload_only

R="$BUILD/sockshim report"
check "no DNS here: the names are in no /etc/hosts, no nameserver is reachable" \
	names_no_dns api.example.test x.blocked.test
names_http api 127.0.0.1 18180 || exit 1

P=$(policy names.ini <<'INI'
[api]
on = resolve
host = api.example.test
rewrite = 127.0.0.1

[blocked-names]
on = resolve
host = *.blocked.test
rewrite = 127.0.0.2

[blocked]
on = connect
host = *.blocked.test
deny = ECONNREFUSED

[seen]
on = connect
INI
)
URL=http://api.example.test:18180
pyget='import sys, urllib.request
for u in sys.argv[1:]:
    print(urllib.request.urlopen(u, timeout=5).read().decode().strip())'
pyblocked='import errno, socket
s = socket.socket()
s.settimeout(5)
print(errno.errorcode.get(s.connect_ex(("x.blocked.test", 18180)), "0"))'

for fmt in text json; do
	export SOCKSHIM_LOG=file:$T/$fmt.log SOCKSHIM_LOG_FORMAT=$fmt
	out=$(shim "$P" "$PY" -c "$pyget" "$URL/$fmt-py1" "$URL/$fmt-py2")
	expect_eq "$fmt: python3 got both answers from the local server" "$(echo $out)" "served /$fmt-py1 served /$fmt-py2"
	out=$(shim "$P" curl -s --max-time 10 "$URL/$fmt-curl")
	expect_eq "$fmt: curl got the answer from the local server" "$out" "served /$fmt-curl"
	expect_eq "$fmt: python3's connect to x.blocked.test is refused" "$(shim "$P" "$PY" -c "$pyblocked")" ECONNREFUSED
	unset SOCKSHIM_LOG SOCKSHIM_LOG_FORMAT
	expect_eq "$fmt: the server saw the three requests by name, from loopback" \
		"$(names_requests api | grep -c "^request /$fmt-.* host=api\.example\.test:18180 peer=127\.0\.0\.1$")" 3

	out=$($R "$T/$fmt.log")
	expect_eq "$fmt: report exits 0" "$?" 0
	sec=$(printf '%s\n' "$out" | awk '/^by name$/ { on = 1; next } /^$/ { on = 0 } on')
	printf '%s\n' "$sec" | sed 's/^/# /'
	expect_match "$fmt: api.example.test: its lookups (each answered by rule api), 3 decisions, none denied" "$sec" \
		'^  api\.example\.test: [0-9]+ lookups? \(rewrite=127\.0\.0\.1 rule=api\), 3 decisions, 0 denied, 0 rewritten$'
	expect_match "$fmt: api.example.test: 127.0.0.1:18180 ×3, allowed by rule seen" "$sec" \
		'^    connect +127\.0\.0\.1:18180 +×3 +allowed rule=seen$'
	expect_match "$fmt: x.blocked.test: 1 lookup, 1 decision, 1 denied" "$sec" \
		'^  x\.blocked\.test: 1 lookup \(rewrite=127\.0\.0\.2 rule=blocked-names\), 1 decision, 1 denied, 0 rewritten$'
	expect_match "$fmt: x.blocked.test: 127.0.0.2:18180 ×1, denied by rule blocked" "$sec" \
		'^    connect +127\.0\.0\.2:18180 +×1 +denied rule=blocked$'
	expect_eq "$fmt: two names" "$(grep -c '^  [^ ]' <<<"$sec")" 2
	n=$(grep -c '"op":"resolve"\|info resolve ' "$T/$fmt.log")
	expect_match "$fmt: the lookups counted are the log's resolve lines ($n)" "$sec" \
		"^  api\\.example\\.test: $((n - 1)) lookup"
	expect_match "$fmt: the rules table counts the lookups too" "$out" "^  api +$((n - 1)) +$((n - 1)) +0 +0 +0 "
done

# --json says what the text form says
j=$($R --json "$T/json.log")
expect_eq "--json: names, their counts and destinations (jq)" \
	"$(jq -c '[.names[] | [.host, .decisions, .denied, [.destinations[] | [.op, .addr, .result, .rule, .count]]]]' <<<"$j")" \
	'[["api.example.test",3,0,[["connect","127.0.0.1:18180","allowed","seen",3]]],["x.blocked.test",1,1,[["connect","127.0.0.2:18180","denied","blocked",1]]]]'
expect_eq "--json: text and JSON logs give the same lookups per name" \
	"$(jq -c '[.names[] | [.host, .lookups, .answer]]' <<<"$j")" \
	"$($R --json "$T/text.log" | jq -c '[.names[] | [.host, .lookups, .answer]]')"
expect_eq "--json: the same decisions from the text and the JSON log" "$(jq .decisions <<<"$j")" \
	"$($R --json "$T/text.log" | jq .decisions)"

# a log without names: no such section, an empty array
SOCKSHIM_LOG=file:$T/plain.log shim "$P" curl -s --max-time 5 -o /dev/null http://127.0.0.1:18180/plain
expect_eq "without names: the connect was logged" "$(grep -c ' connect .*127\.0\.0\.1:18180' "$T/plain.log")" 1
expect_eq "without names: no by-name section" "$($R "$T/plain.log" | grep -c '^by name$')" 0
expect_eq "without names: --json names is []" "$($R --json "$T/plain.log" | jq -c .names)" '[]'
finish

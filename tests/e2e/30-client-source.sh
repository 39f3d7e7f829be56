#!/bin/bash
# frontends: preload, seccomp
# 30: `source = 127.0.0.2` on connect, with unmodified real clients (curl,
# socat, python3): the server sees the connection come from 127.0.0.2.
# Without the shim the same clients arrive from 127.0.0.1 (the control).
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"

P=$(policy source.ini <<'INI'
[pin]
on = connect
source = 127.0.0.2
INI
)
serve http http 127.0.0.1 8080 || exit 1
serve tcp tcp 127.0.0.1 9000 || exit 1

last_addr() { peers "$1" | tail -1 | cut -d' ' -f1; }

# ---- curl (non-blocking connect, getaddrinfo on a numeric host) ----
out=$(curl -s --max-time 5 http://127.0.0.1:8080/ 2>&1)
expect_eq "bare curl gets the mock's answer" "$out" "mock-ok"
expect_eq "bare curl: server sees 127.0.0.1" "$(last_addr http)" 127.0.0.1

out=$(shim "$P" curl -s --max-time 5 http://127.0.0.1:8080/ 2>"$T/curl.log")
expect_eq "curl under the shim gets the mock's answer" "$out" "mock-ok"
expect_eq "curl under the shim: server sees 127.0.0.2" "$(last_addr http)" 127.0.0.2
expect_match "curl: the shim decided (log)" "$(cat "$T/curl.log")" 'connect fd=[0-9]+ tcp 127\.0\.0\.1:8080 rule=pin actions=source=127\.0\.0\.2(,continue)? '
expect_eq "server saw exactly two requests" "$(npeers http)" 2

# ---- socat ----
out=$(socat -T 3 TCP:127.0.0.1:9000 - </dev/null 2>&1)
expect_eq "bare socat gets the mock's answer" "$out" "hello from mock"
expect_eq "bare socat: server sees 127.0.0.1" "$(last_addr tcp)" 127.0.0.1

out=$(shim "$P" socat -T 3 TCP:127.0.0.1:9000 - </dev/null 2>"$T/socat.log")
expect_eq "socat under the shim gets the mock's answer" "$out" "hello from mock"
expect_eq "socat under the shim: server sees 127.0.0.2" "$(last_addr tcp)" 127.0.0.2
expect_match "socat: the shim decided (log)" "$(cat "$T/socat.log")" 'rule=pin actions=source=127\.0\.0\.2(,continue)? '

# ---- python3 socket ----
out=$(pyc 127.0.0.1 9000 1)
expect_match "bare python: getsockname is 127.0.0.1" "$out" '^local 127\.0\.0\.1 [0-9]+$'
expect_eq "bare python: server sees 127.0.0.1" "$(last_addr tcp)" 127.0.0.1

out=$(shim "$P" "$PY" "$PW" connect 127.0.0.1 9000 1 2>"$T/py.log")
expect_match "python under the shim: getsockname is 127.0.0.2" "$out" '^local 127\.0\.0\.2 [0-9]+$'
expect_eq "python under the shim: server sees the same address and port" \
	"$(peers tcp | tail -1)" "$(printf '%s\n' "$out" | sed -n 's/^local //p')"
expect_match "python: the shim decided (log)" "$(cat "$T/py.log")" 'rule=pin actions=source=127\.0\.0\.2(,continue)? '

# The port stays the kernel's choice (IP_BIND_ADDRESS_NO_PORT): a plain
# ephemeral port, not 0 and not a fixed one.
port=$(peers tcp | tail -1 | cut -d' ' -f2)
check "python under the shim: kernel-chosen ephemeral port ($port)" test "$port" -ge 1024

expect_eq "tcp server saw exactly four connections" "$(npeers tcp)" 4
finish

#!/bin/bash
# frontends: preload, seccomp
# 31: a client that binds its own source before connecting is left alone:
# python3 bind(("127.0.0.3", 0)), socat bind=127.0.0.3 and curl --interface
# 127.0.0.3 under `source = 127.0.0.2` still arrive from 127.0.0.3, and the
# log says skip=app-bound. Controls: the same clients without bind arrive
# from 127.0.0.2 under the same policy.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"

P=$(policy source.ini <<'INI'
[pin]
on = connect
addr = 127.0.0.1
source = 127.0.0.2
INI
)
serve http http 127.0.0.1 8080 || exit 1
serve tcp tcp 127.0.0.1 9000 || exit 1
last_addr() { peers "$1" | tail -1 | cut -d' ' -f1; }

# ---- python3: bind then connect ----
out=$(shim "$P" "$PY" "$PW" connect 127.0.0.1 9000 1 2>"$T/py0.log")
expect_match "python without bind: pinned to 127.0.0.2" "$out" '^local 127\.0\.0\.2 '
expect_eq "python without bind: server sees 127.0.0.2" "$(last_addr tcp)" 127.0.0.2

out=$(shim "$P" "$PY" "$PW" connect 127.0.0.1 9000 1 --bind 127.0.0.3 2>"$T/py.log")
expect_match "python bound to 127.0.0.3: getsockname 127.0.0.3" "$out" '^local 127\.0\.0\.3 [0-9]+$'
expect_eq "python bound to 127.0.0.3: server sees 127.0.0.3" "$(last_addr tcp)" 127.0.0.3
expect_match "python bound: log says skip=app-bound" "$(cat "$T/py.log")" 'rule=pin actions=skip=app-bound(,continue)? '
check "python bound: log has no source= action" bash -c "! grep -q 'actions=.*source=' '$T/py.log'"

# A port the application chose is kept too.
out=$(shim "$P" "$PY" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.3", 45678))
s.connect(("127.0.0.1", 9000))
print(*s.getsockname())
s.recv(100)
' 2>"$T/py2.log")
expect_eq "python bound to 127.0.0.3:45678: getsockname unchanged" "$out" "127.0.0.3 45678"
expect_eq "python bound to 127.0.0.3:45678: server sees it" "$(peers tcp | tail -1)" "127.0.0.3 45678"

# ---- socat bind= ----
out=$(shim "$P" socat -T 3 TCP:127.0.0.1:9000 - </dev/null 2>"$T/socat0.log")
expect_eq "socat without bind: server sees 127.0.0.2" "$(last_addr tcp)" 127.0.0.2
out=$(shim "$P" socat -T 3 TCP:127.0.0.1:9000,bind=127.0.0.3 - </dev/null 2>"$T/socat.log")
expect_eq "socat bind=127.0.0.3 gets the mock's answer" "$out" "hello from mock"
expect_eq "socat bind=127.0.0.3: server sees 127.0.0.3" "$(last_addr tcp)" 127.0.0.3
expect_match "socat bind: log says skip=app-bound" "$(cat "$T/socat.log")" 'rule=pin actions=skip=app-bound(,continue)? '

# ---- curl --interface ----
out=$(shim "$P" curl -s --max-time 5 http://127.0.0.1:8080/ 2>"$T/curl0.log")
expect_eq "curl without --interface: server sees 127.0.0.2" "$(last_addr http)" 127.0.0.2
out=$(shim "$P" curl -s --max-time 5 --interface 127.0.0.3 http://127.0.0.1:8080/ 2>"$T/curl.log")
expect_eq "curl --interface 127.0.0.3 gets the mock's answer" "$out" "mock-ok"
expect_eq "curl --interface 127.0.0.3: server sees 127.0.0.3" "$(last_addr http)" 127.0.0.3
expect_match "curl --interface: log says skip=app-bound" "$(cat "$T/curl.log")" 'rule=pin actions=skip=app-bound(,continue)? '

# ---- probe: bind to a port only (wildcard address) also counts as bound ----
out=$(shim "$P" "$PROBE" tcp4 bind=0.0.0.0:45679 connect=127.0.0.1:9000 name 2>"$T/probe.log")
expect_match "probe bound to 0.0.0.0:45679: kernel picks 127.0.0.1, port kept" "$out" 'name rc=0 errno=0 local=127\.0\.0\.1:45679'
expect_match "probe bound to a port: log says skip=app-bound" "$(cat "$T/probe.log")" 'actions=skip=app-bound(,continue)? '
finish

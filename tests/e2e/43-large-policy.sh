#!/bin/bash
# frontends: preload, seccomp
# 43: a large policy (300 rules) decides exactly as a small one. From 8 rules
# on, decisions go through the rule index, and a call whose address and port
# no rule holds is let through before anything else is looked at. Here the
# rules that apply come last, behind 296 that never match (10.x networks,
# ports 20000-29999), on every kind of key: IPv4 address and port, port only,
# IPv6 address, and a listen rule decided at bind. (The datagrams go to
# 127.0.0.3, which only the port-only rule holds, by its port.) Every check reads what the
# kernel reports (getsockname, getsockopt, the errno of the call, the peer a
# server sees), and the same program runs bare as the control.
. "$TOP/tests/lib.sh"

PY=$(python3 -c 'import sys; print(sys.executable)')

{
	ops=(connect bind send listen)
	for i in $(seq 1 296); do
		echo "[filler$i]"
		echo "on = ${ops[$((i % 4))]}"
		echo "addr = 10.$((i % 250)).$((i / 250)).0/24, 10.$((i % 250)).200.$((i % 200))"
		echo "port = $((20000 + i * 30))-$((20009 + i * 30))"
		echo "deny = EHOSTUNREACH"
		echo
	done
	cat <<'INI'
[pin]
on = connect
addr = 127.0.0.1
port = 9431
source = 127.0.0.2

[refuse]
on = connect
addr = 127.0.0.0/31
port = 9432
deny = EACCES

[udp-port-only]
on = send
port = 9433
deny = ENETUNREACH

[v6]
on = connect
addr = ::1
port = 9434
deny = EPERM

[srv]
on = listen
addr = 127.0.0.1
port = 9435
reuseport = force
INI
} | policy large.ini >/dev/null
P=$T/large.ini
check "the policy is valid" "$BUILD/sockshim" check "$P"

cat >"$T/probe.py" <<'PY'
import errno, socket, sys

def tcp_server(port, family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(8)
    return s

def connect(port, family=socket.AF_INET, host="127.0.0.1"):
    c = socket.socket(family, socket.SOCK_STREAM)
    try:
        c.connect((host, port))
    except OSError as e:
        return "errno " + errno.errorcode[e.errno]
    return "local " + c.getsockname()[0]

what = sys.argv[1]
if what == "connect":
    port = int(sys.argv[2])
    srv = tcp_server(port)
    got = connect(port)
    if got.startswith("local"):
        peer = srv.accept()[1][0]
        got += " peer " + peer
    print(got)
elif what == "connect6":
    port = int(sys.argv[2])
    srv = tcp_server(port, socket.AF_INET6, "::1")
    print(connect(port, socket.AF_INET6, "::1"))
elif what == "udp":
    port = int(sys.argv[2])
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.bind(("127.0.0.3", port))  # an address no rule holds: only the port does
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.sendto(b"x", ("127.0.0.3", port))
        print("sent")
    except OSError as e:
        print("errno " + errno.errorcode[e.errno])
elif what == "listen":
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1", int(sys.argv[2])))
    s.listen(4)
    print("reuseport %d" % s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT))
PY

run() { "$PY" "$T/probe.py" "$@" 2>>"$T/err.log"; }
shimmed() { shim "$P" "$PY" "$T/probe.py" "$@" 2>>"$T/shim.log"; }

expect_eq "bare: connect to :9431 comes from 127.0.0.1" "$(run connect 9431)" "local 127.0.0.1 peer 127.0.0.1"
expect_eq "rule 297 (addr + port): the server sees 127.0.0.2" "$(shimmed connect 9431)" "local 127.0.0.2 peer 127.0.0.2"
expect_eq "bare: connect to :9432 succeeds" "$(run connect 9432)" "local 127.0.0.1 peer 127.0.0.1"
expect_eq "rule 298 (CIDR + port): connect fails with EACCES" "$(shimmed connect 9432)" "errno EACCES"
expect_eq "no rule holds :9436: connect passes through" "$(shimmed connect 9436)" "local 127.0.0.1 peer 127.0.0.1"
expect_eq "bare: sendto :9433 is sent" "$(run udp 9433)" "sent"
expect_eq "rule 299 (port only): sendto fails with ENETUNREACH" "$(shimmed udp 9433)" "errno ENETUNREACH"
expect_eq "no rule holds :9437: sendto passes through" "$(shimmed udp 9437)" "sent"
if run connect6 9434 | grep -q '^local'; then
	expect_eq "rule 300 (IPv6 address): connect to [::1] fails with EPERM" "$(shimmed connect6 9434)" "errno EPERM"
	expect_eq "no rule holds [::1]:9438: connect passes through" "$(shimmed connect6 9438)" "local ::1"
else
	echo "# no IPv6 loopback here: the IPv6 rule is not exercised"
fi
expect_eq "bare: a listener on :9435 has SO_REUSEPORT 0" "$(run listen 9435)" "reuseport 0"
expect_eq "rule 301 (listen, decided at bind): SO_REUSEPORT forced to 1" "$(shimmed listen 9435)" "reuseport 1"
expect_eq "no rule holds :9439: listen passes through, SO_REUSEPORT 0" "$(shimmed listen 9439)" "reuseport 0"
# 127.0.0.3 is held by no rule (nor is port 9440): bind already knows that no
# rule will decide listen, which then asks the kernel nothing (no getsockname).
expect_eq "no rule holds 127.0.0.3:9440: listen passes through, SO_REUSEPORT 0" \
	"$(shimmed listen 9440 127.0.0.3)" "reuseport 0"
strace -f -qq -o "$T/trace.bare" -e trace=getsockname,listen "$PY" "$T/probe.py" listen 9440 127.0.0.3 >/dev/null 2>&1
SOCKSHIM_POLICY=$P strace -f -qq -o "$T/trace" -e trace=getsockname,listen -E LD_PRELOAD="$SHIM" \
	"$PY" "$T/probe.py" listen 9440 127.0.0.3 >/dev/null 2>&1
expect_eq "... and the shim made no getsockname of its own (strace: getsockname, listen calls)" \
	"$(grep -c 'getsockname(' "$T/trace"), $(grep -c 'listen(' "$T/trace")" \
	"$(grep -c 'getsockname(' "$T/trace.bare"), $(grep -c 'listen(' "$T/trace.bare")"
expect_match "the shim loaded 301 rules" "$(cat "$T/shim.log")" 'start .*rules=301'
expect_match "each rule decided (log)" "$(grep -o 'rule=[a-z0-9-]*' "$T/shim.log" | sort -u | tr '\n' ' ')" \
	'rule=pin rule=refuse rule=srv rule=udp-port-only'
expect_eq "no filler rule ever decided" "$(grep -c 'rule=filler' "$T/shim.log")" 0
finish

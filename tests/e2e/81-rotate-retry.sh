#!/bin/bash
# frontends: preload, seccomp
# 81: a rotated source port that collides is retried from the next port, and
# the application sees one successful connect, blocking or non-blocking.
# - EADDRNOTAVAIL at connect: another process holds connections from
#   127.0.0.2:43000-43004 to the server with SO_REUSEADDR; a client that also
#   sets SO_REUSEADDR can bind those ports, but the 4-tuple is taken, so the
#   kernel refuses the connect (control: bare, python3). Under a window
#   43000-43009 inside net.ipv4.ip_local_port_range the kernel checks each
#   port for the shim (IP_LOCAL_PORT_RANGE): the client gets 43005-43009 on
#   its own socket (not a replacement), with every option it set.
# - A whole window taken: the kernel's error, once, logged.
# - A window outside ip_local_port_range (the kernel cannot check it): the
#   shim binds exact ports itself with SO_REUSEADDR. A taken 4-tuple is
#   retried on a fresh socket put in place on the program's fd, with every
#   option it set (TCP_NODELAY, SO_KEEPALIVE, IP_TOS, SO_PRIORITY,
#   TCP_KEEPIDLE, FD_CLOEXEC read back from the kernel), for a blocking
#   connect only; a non-blocking one gets the kernel's EADDRNOTAVAIL
#   (noretry=non-blocking), since the program may watch its socket already.
#   Ports held without SO_REUSEADDR (EADDRINUSE at bind) are skipped on the
#   same socket. Options the shim cannot replay (a socket filter): no retry,
#   the kernel's error, logged as such.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/rot.sh"
PY=$(python3 -c 'import sys; print(sys.executable)')

serve tcp 127.0.0.1 9100 "$T/peers" || exit 1
pol() { # NAME WINDOW [SCOPE]
	policy "$1.ini" <<INI
[$1]
on = connect
source = 127.0.0.2
source_port = $2
rotate_scope = ${3:-process}
INI
}
# A host-scope cursor starts at the window's first port (a fresh shared segment),
# so the tests that need a collision get one for sure.
HOG=$(pol hog 43000-43004)
later shim "$HOG" "$RC" -r -n 5 -w 60 -f "$T/hog.ports" 127.0.0.1 9100 >/dev/null 2>&1
HOG2=$(pol hog2 43020-43024)
later shim "$HOG2" "$RC" -n 5 -w 60 -f "$T/hog2.ports" 127.0.0.1 9100 >/dev/null 2>&1
wait_lines "$T/hog.ports" 5 && wait_lines "$T/hog2.ports" 5
expect_eq "setup: 43000-43004 and 43020-43024 held" "$(cut -d' ' -f2 "$T/hog.ports" "$T/hog2.ports" | sort | tr '\n' ' ')" \
	"43000 43001 43002 43003 43004 43020 43021 43022 43023 43024 "

# ---- control: the kernel refuses a taken 4-tuple at connect ----
ctl=$("$PY" - <<'PYEOF'
import errno, socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.2", 43002))
print("bind ok")
try:
    s.connect(("127.0.0.1", 9100))
    print("connect ok")
except OSError as e:
    print("connect", errno.errorcode[e.errno])
PYEOF
)
expect_eq "bare: bind succeeds, connect gets EADDRNOTAVAIL" "$(echo $ctl)" "bind ok connect EADDRNOTAVAIL"

ports_of() { cut -d' ' -f2 "$1" | sort | tr '\n' ' '; }

# ---- EADDRNOTAVAIL, blocking and non-blocking (from 43000: collisions first) ----
W1=$(pol w1 43000-43009 host)
out=$(shim "$W1" "$RC" -r -o -n 5 -w 1 -f "$T/b.ports" 127.0.0.1 9100 2>"$T/b.log")
expect_eq "taken 4-tuple, blocking: 5 connects succeed" "$(field ok "$out")/$(field fail "$out")" "5/0"
expect_eq "taken 4-tuple, blocking: from the free ports 43005-43009" "$(ports_of "$T/b.ports")" "43005 43006 43007 43008 43009 "
expect_eq "taken 4-tuple, blocking: the server saw them" "$(grep -c '^127\.0\.0\.2 4300[5-9]$' "$T/peers")" 5
expect_eq "taken 4-tuple, blocking: every option survived the retry" "$(field opts-lost "$out")" 0
expect_eq "taken 4-tuple, blocking: on the program's own socket" "$(field fd-changed "$out")" 0
expect_match "taken 4-tuple, blocking: no fd leaked" "$out" '^fds-leaked=0$'
expect_match "taken 4-tuple, blocking: log names the taken ports" "$(cat "$T/b.log")" \
	'actions=taken=127\.0\.0\.2:4300[0-4]:EADDRNOTAVAIL,.*retries=[0-9]+,source=127\.0\.0\.2:4300[5-9](,continue)? rc=0( via=seccomp)?$'

W2=$(pol w2 "43000-43004, 43010-43014" host)
out=$(shim "$W2" "$RC" -k -r -o -n 5 -w 1 -f "$T/nb.ports" 127.0.0.1 9100 2>"$T/nb.log")
expect_eq "taken 4-tuple, non-blocking: 5 connects succeed" "$(field ok "$out")/$(field fail "$out")" "5/0"
expect_eq "taken 4-tuple, non-blocking: from 43010-43014" "$(ports_of "$T/nb.ports")" "43010 43011 43012 43013 43014 "
expect_eq "taken 4-tuple, non-blocking: same socket, options and O_NONBLOCK kept" "$(field fd-changed "$out")/$(field opts-lost "$out")" 0/0
expect_match "taken 4-tuple, non-blocking: EINPROGRESS after the retry" "$(cat "$T/nb.log")" \
	'actions=taken=127\.0\.0\.2:4300[0-4]:EADDRNOTAVAIL,.*source=127\.0\.0\.2:4301[0-4] rc=-1 errno=EINPROGRESS( via=seccomp)?$'
expect_match "taken 4-tuple, non-blocking: no fd leaked" "$out" '^fds-leaked=0$'

# ---- ports taken by connections without SO_REUSEADDR: the same ----
# host scope: a fresh shared cursor starts at 43020, so the taken ports are met for sure
W3=$(pol w3 43020-43029 host)
out=$(shim "$W3" "$RC" -o -n 5 -w 1 -f "$T/u.ports" 127.0.0.1 9100 2>"$T/u.log")
expect_eq "taken, no SO_REUSEADDR: 5 connects succeed" "$(field ok "$out")/$(field fail "$out")" "5/0"
expect_eq "taken, no SO_REUSEADDR: from 43025-43029" "$(ports_of "$T/u.ports")" "43025 43026 43027 43028 43029 "
expect_eq "taken, no SO_REUSEADDR: same socket, options kept" "$(field fd-changed "$out")/$(field opts-lost "$out")" "0/0"
expect_match "taken, no SO_REUSEADDR: log counts the retries" "$(cat "$T/u.log")" 'actions=(taken=[^,]*,)*retries=[1-5],source=127\.0\.0\.2:4302[5-9](,continue)? rc=0( via=seccomp)?$'
W4=$(pol w4 "43020-43024, 43030-43034")
out=$(shim "$W4" "$RC" -k -o -n 5 -w 1 -f "$T/unb.ports" 127.0.0.1 9100 2>"$T/unb.log")
expect_eq "taken, no SO_REUSEADDR, non-blocking: 5 connects succeed from 43030-43034" \
	"$(field ok "$out")/$(field fail "$out") $(ports_of "$T/unb.ports")" "5/0 43030 43031 43032 43033 43034 "

# ---- a real program: python3 with SO_REUSEADDR and TCP_NODELAY ----
W5=$(pol w5 "43000-43004, 43040-43041")
py=$(shim "$W5" "$PY" - 2>"$T/py.log" <<'PYEOF'
import socket
for _ in range(2):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    fd = s.fileno()
    s.connect(("127.0.0.1", 9100))
    print(s.getsockname()[1], s.fileno() == fd, s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0,
          s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) != 0,
          s.getsockopt(socket.IPPROTO_IP, 51) == 0)  # IP_LOCAL_PORT_RANGE as bare: none of its own
    s.detach()  # keep it open: the next connection must not get its port
PYEOF
)
expect_eq "python3: both connects succeed from 43040/43041 with their options, no port range left behind" "$(sort <<<"$py" | tr '\n' ' ')" \
	"43040 True True True True 43041 True True True True "

# ---- the whole window taken: the kernel's error, once ----
W6=$(pol w6 43000-43004)
out=$(shim "$W6" "$RC" -r -n 1 127.0.0.1 9100 2>"$T/full.log")
expect_eq "window taken: connect fails" "$(field ok "$out")/$(field fail "$out")" "0/1"
expect_match "window taken: with EADDRNOTAVAIL" "$out" '^errno EADDRNOTAVAIL=1$'
expect_eq "window taken: one log line, every port tried, the kernel's error" \
	"$(grep -c ' info connect ' "$T/full.log")/$(grep -Ec 'retries=5,failed=source:EADDRNOTAVAIL rc=-1 errno=EADDRNOTAVAIL( via=seccomp)?$' "$T/full.log")" "1/1"
expect_match "window taken: no fd leaked" "$out" '^fds-leaked=0$'

# ---- a window the kernel cannot check: the shim binds exact ports ----
sysctl -qw net.ipv4.ip_local_port_range="50000 60999"
expect_eq "setup: ip_local_port_range no longer holds the window" "$(sysctl -n net.ipv4.ip_local_port_range | tr -s ' \t' ' ')" "50000 60999"
X1=$(pol x1 43000-43009 host)
seen=$(grep -c '^127\.0\.0\.2 4300[5-9]$' "$T/peers")
out=$(shim "$X1" "$RC" -r -o -n 5 -w 1 -f "$T/xb.ports" 127.0.0.1 9100 2>"$T/xb.log")
expect_eq "exact ports, blocking: 5 connects succeed from 43005-43009" \
	"$(field ok "$out")/$(field fail "$out") $(ports_of "$T/xb.ports")" "5/0 43005 43006 43007 43008 43009 "
expect_eq "exact ports, blocking: every option survived the retry" "$(field opts-lost "$out")" 0
expect_match "exact ports, blocking: a fresh socket was put in place" "$(field fd-changed "$out")" '^[1-5]$'
expect_match "exact ports, blocking: no fd leaked" "$out" '^fds-leaked=0$'
expect_match "exact ports, blocking: log names the taken ports" "$(cat "$T/xb.log")" \
	'actions=taken=127\.0\.0\.2:4300[0-4]:EADDRNOTAVAIL,.*retries=[0-9]+,source=127\.0\.0\.2:4300[5-9](,continue)? rc=0( via=seccomp)?$'
expect_eq "exact ports, blocking: the server saw them" "$(($(grep -c '^127\.0\.0\.2 4300[5-9]$' "$T/peers") - seen))" 5

X2=$(pol x2 "43000-43004, 43010-43014" host)
out=$(shim "$X2" "$RC" -k -r -o -n 1 -w 1 127.0.0.1 9100 2>"$T/xnb.log")
expect_eq "exact ports, non-blocking: a taken 4-tuple is the kernel's error, visibly" \
	"$(field ok "$out")/$(field fail "$out") $(grep '^errno' <<<"$out")" "0/1 errno EADDRNOTAVAIL=1"
expect_match "exact ports, non-blocking: no replacement, logged" "$(cat "$T/xnb.log")" \
	'actions=taken=127\.0\.0\.2:43000:EADDRNOTAVAIL,noretry=non-blocking,retries=1,failed=source:EADDRNOTAVAIL rc=-1 errno=EADDRNOTAVAIL( via=seccomp)?$'
expect_match "exact ports, non-blocking: no fd leaked" "$out" '^fds-leaked=0$'

# (43025-43029 are in TIME_WAIT from W3's connections, which had no SO_REUSEADDR either)
X3=$(pol x3 "43020-43024, 43050-43054" host)
out=$(shim "$X3" "$RC" -o -n 5 -w 1 -f "$T/xu.ports" 127.0.0.1 9100 2>"$T/xu.log")
expect_eq "exact ports, held without SO_REUSEADDR: skipped on the same socket" \
	"$(field ok "$out")/$(field fail "$out") $(field fd-changed "$out") $(ports_of "$T/xu.ports")" "5/0 0 43050 43051 43052 43053 43054 "
expect_match "exact ports, held without SO_REUSEADDR: log counts the busy ports" "$(cat "$T/xu.log")" \
	'actions=busy-ports=[1-5],source=127\.0\.0\.2:4305[0-4] rc=0( via=seccomp)?$'

# options the shim cannot carry over: no retry
# (a window of taken ports only, so the first connect always collides)
out=$(shim "$W6" "$RC" -F -r -n 1 127.0.0.1 9100 2>"$T/filter.log")
expect_eq "socket filter: the kernel's error" "$(field fail "$out") $(grep '^errno' <<<"$out")" "1 errno EADDRNOTAVAIL=1"
expect_match "socket filter: no retry, logged" "$(cat "$T/filter.log")" \
	'actions=taken=127\.0\.0\.2:4300[0-4]:EADDRNOTAVAIL,noretry=options-unknown,retries=1,failed=source:EADDRNOTAVAIL rc=-1 errno=EADDRNOTAVAIL( via=seccomp)?$'

finish

# `sockopt` on bind: every option of the rule is set before the real bind and
# frontends: preload, seccomp
# read back from the kernel with getsockopt (the probe's get=...), for TCP/IPv4,
# TCP/IPv6 and UDP; options that do not apply to the socket are skipped and
# logged. Kernel-visible effects: IPV6_V6ONLY=1 lets an IPv4 socket share the
# port, and an accepted connection of a server with SO_KEEPALIVE=1 and
# TCP_KEEPIDLE=30 shows a keepalive timer in ss.
. "$TOP/tests/lib.sh"

# expect_nomatch NAME ACTUAL REGEX (grep -E): passes when no line matches
expect_nomatch() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then not_ok "$1"; echo "#   /$3/ found in:"; printf '%s\n' "$2" | sed 's/^/#   | /' | head -20; else ok "$1"; fi
}

PY=$(python3 -c 'import sys; print(sys.executable)')
PROBE=$BUILD/tests/probe
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done' EXIT

pol=$(policy sockopt.ini <<EOF
[global]
log = file:$T/shim.log

[tcp4]
on = bind
proto = tcp
family = ipv4
port = 9500
sockopt = SO_KEEPALIVE=1, SO_RCVBUF=100000, IP_TOS=16, SO_MARK=7, TCP_NODELAY=1, TCP_KEEPIDLE=30, SO_PRIORITY=3

[tcp6]
on = bind
family = ipv6
port = 9501
sockopt = IPV6_V6ONLY=1, IPV6_TCLASS=32, IP_TOS=16, SO_KEEPALIVE=1

[udp]
on = bind
proto = udp
port = 9502
sockopt = SO_RCVBUF=100000, TCP_NODELAY=1, IP_TTL=9
EOF
)
SH="env SOCKSHIM_POLICY=$pol LD_PRELOAD=$SHIM"
rmem_max=$(cat /proc/sys/net/core/rmem_max)
rcvbuf=$(( (rmem_max < 100000 ? rmem_max : 100000) * 2 ))   # the kernel doubles it

GETS4="get=keepalive get=rcvbuf get=tos get=mark get=nodelay get=keepidle get=priority"

# ---- TCP/IPv4 ----
bare=$("$PROBE" tcp4 bind=127.0.0.1:9500 $GETS4 2>&1)
expect_match "bare: SO_KEEPALIVE=0" "$bare" '^get=keepalive rc=0 errno=0 value=0$'
expect_match "bare: IP_TOS=0" "$bare" '^get=tos rc=0 errno=0 value=0$'
expect_match "bare: SO_MARK=0" "$bare" '^get=mark rc=0 errno=0 value=0$'
expect_match "bare: TCP_NODELAY=0" "$bare" '^get=nodelay rc=0 errno=0 value=0$'
expect_nomatch "bare: SO_RCVBUF is not $rcvbuf" "$bare" "^get=rcvbuf rc=0 errno=0 value=$rcvbuf\$"

out=$($SH "$PROBE" tcp4 bind=127.0.0.1:9500 $GETS4 2>&1)
expect_match "tcp4: bind succeeds" "$out" '^bind=127\.0\.0\.1:9500 rc=0 errno=0$'
expect_match "tcp4: SO_KEEPALIVE=1" "$out" '^get=keepalive rc=0 errno=0 value=1$'
expect_match "tcp4: SO_RCVBUF=$rcvbuf (100000 doubled)" "$out" "^get=rcvbuf rc=0 errno=0 value=$rcvbuf\$"
expect_match "tcp4: IP_TOS=16" "$out" '^get=tos rc=0 errno=0 value=16$'
expect_match "tcp4: SO_MARK=7" "$out" '^get=mark rc=0 errno=0 value=7$'
expect_match "tcp4: TCP_NODELAY=1" "$out" '^get=nodelay rc=0 errno=0 value=1$'
expect_match "tcp4: TCP_KEEPIDLE=30" "$out" '^get=keepidle rc=0 errno=0 value=30$'
expect_match "tcp4: SO_PRIORITY=3 (set after IP_TOS, in rule order)" "$out" '^get=priority rc=0 errno=0 value=3$'
expect_match "tcp4: log line lists every option in order" "$(cat "$T/shim.log")" \
	'bind fd=[0-9]+ tcp 127\.0\.0\.1:9500 rule=tcp4 actions=sockopt=SO_KEEPALIVE=1,sockopt=SO_RCVBUF=100000,sockopt=IP_TOS=16,sockopt=SO_MARK=7,sockopt=TCP_NODELAY=1,sockopt=TCP_KEEPIDLE=30,sockopt=SO_PRIORITY=3 rc=0'

out=$($SH "$PROBE" tcp4 bind=127.0.0.1:9599 get=keepalive get=mark 2>&1)
expect_match "tcp4: other port keeps SO_KEEPALIVE=0" "$out" '^get=keepalive rc=0 errno=0 value=0$'
expect_match "tcp4: other port keeps SO_MARK=0" "$out" '^get=mark rc=0 errno=0 value=0$'

# A real server's accepted connection inherits keepalive: ss shows the timer.
cat > "$T/server.py" <<'EOF'
import socket, subprocess, sys
port = int(sys.argv[1])
s = socket.socket()
s.bind(("127.0.0.1", port))
s.listen(1)
client = socket.create_connection(("127.0.0.1", port), timeout=5)
s.settimeout(5)
c, _ = s.accept()
print(subprocess.run(["ss", "-Htno", "state", "established", "( sport = :%d )" % port],
                     capture_output=True, text=True).stdout.strip(), flush=True)
EOF
out=$(timeout 10 $SH "$PY" "$T/server.py" 9500 2>&1)
expect_match "tcp4: accepted connection has a keepalive timer (idle 30 s)" "$out" \
	'127\.0\.0\.1:9500 +127\.0\.0\.1:[0-9]+ +timer:\(keepalive,(2[0-9]|30)sec'
out=$(timeout 10 "$PY" "$T/server.py" 9503 2>&1)
expect_match "tcp4: bare control: the accepted connection is there" "$out" '127\.0\.0\.1:9503 +127\.0\.0\.1:[0-9]+'
expect_nomatch "tcp4: bare control: no keepalive timer" "$out" keepalive

# ---- TCP/IPv6 ----
out=$($SH "$PROBE" tcp6 bind=[::]:9501 get=v6only get=tclass get=keepalive new=tcp4 bind=0.0.0.0:9501 2>&1)
expect_match "tcp6: IPV6_V6ONLY=1" "$out" '^get=v6only rc=0 errno=0 value=1$'
expect_match "tcp6: IPV6_TCLASS=32" "$out" '^get=tclass rc=0 errno=0 value=32$'
expect_match "tcp6: SO_KEEPALIVE=1" "$out" '^get=keepalive rc=0 errno=0 value=1$'
expect_match "tcp6: an IPv4 socket can bind 0.0.0.0:9501 too (v6only)" "$out" '^bind=0\.0\.0\.0:9501 rc=0 errno=0$'
expect_match "tcp6: log skips IP_TOS on an IPv6 socket" "$(cat "$T/shim.log")" \
	'bind fd=[0-9]+ tcp \[::\]:9501 rule=tcp6 actions=sockopt=IPV6_V6ONLY=1,sockopt=IPV6_TCLASS=32,skip=IP_TOS,sockopt=SO_KEEPALIVE=1 rc=0'
out=$("$PROBE" tcp6 bind=[::]:9501 get=v6only new=tcp4 bind=0.0.0.0:9501 2>&1)
expect_match "tcp6: bare control IPV6_V6ONLY=0" "$out" '^get=v6only rc=0 errno=0 value=0$'
expect_match "tcp6: bare control: IPv4 bind on 9501 fails" "$out" '^bind=0\.0\.0\.0:9501 rc=-1 errno=EADDRINUSE$'

# ---- UDP ----
out=$($SH "$PROBE" udp4 bind=127.0.0.1:9502 get=rcvbuf get=ttl 2>&1)
expect_match "udp: SO_RCVBUF=$rcvbuf" "$out" "^get=rcvbuf rc=0 errno=0 value=$rcvbuf\$"
expect_match "udp: IP_TTL=9" "$out" '^get=ttl rc=0 errno=0 value=9$'
expect_match "udp: TCP_NODELAY skipped on UDP" "$(cat "$T/shim.log")" \
	'bind fd=[0-9]+ udp 127\.0\.0\.1:9502 rule=udp actions=sockopt=SO_RCVBUF=100000,skip=TCP_NODELAY,sockopt=IP_TTL=9 rc=0'

finish

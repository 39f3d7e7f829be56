# `on = listen` rules act at listen(2), matched on the address the socket is
# frontends: preload, seccomp
# bound to:
#   reuseport/sockopt are set at listen (not at bind), read back with getsockopt;
#   rewrite on an unbound socket: listen without bind lands where the rule says,
#     and with reuseport = force two such servers share that port;
#   rewrite on a socket the app bound itself is skipped (never re-bound);
#   deny on listen fails listen with that errno and nothing listens.
. "$TOP/tests/lib.sh"

# expect_nomatch NAME ACTUAL REGEX (grep -E): passes when no line matches
expect_nomatch() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then not_ok "$1"; echo "#   /$3/ found in:"; printf '%s\n' "$2" | sed 's/^/#   | /' | head -20; else ok "$1"; fi
}

PY=$(python3 -c 'import sys; print(sys.executable)')
PROBE=$BUILD/tests/probe
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done' EXIT

pol=$(policy listen.ini <<EOF
[global]
log = file:$T/shim.log

[listen-opts]
on = listen
proto = tcp
port = 9200
reuseport = force
sockopt = SO_KEEPALIVE=1, TCP_NODELAY=1

[listen-unbound-v4]
on = listen
family = ipv4
addr = 0.0.0.0
port = 0
reuseport = force
rewrite = 127.0.0.7:9300

[listen-unbound-v6]
on = listen
family = ipv6
port = 0
rewrite = [::1]:9301

[listen-bound]
on = listen
port = 9202
rewrite = 127.0.0.8:9400

[listen-deny]
on = listen
port = 9203
deny = EPERM

; a bind rule moves the socket; listen rules still see the address the
; application passed to bind (0.0.0.0:9210), not where it really is
[bind-move]
on = bind
port = 9210
rewrite = 127.0.0.11:9211

[listen-by-app-addr]
on = listen
port = 9210
sockopt = SO_KEEPALIVE=1

[listen-by-kernel-addr]
on = listen
port = 9211
sockopt = TCP_NODELAY=1
EOF
)
SH="env SOCKSHIM_POLICY=$pol LD_PRELOAD=$SHIM"

# ---- reuseport/sockopt applied at listen ----
out=$($SH "$PROBE" tcp4 bind=127.0.0.1:9200 get=reuseport get=keepalive listen get=reuseport get=keepalive get=nodelay 2>&1)
expect_match "opts: before listen SO_REUSEPORT=0" "$out" '^get=reuseport rc=0 errno=0 value=0$'
expect_match "opts: before listen SO_KEEPALIVE=0" "$out" '^get=keepalive rc=0 errno=0 value=0$'
expect_match "opts: listen succeeds" "$out" '^listen rc=0 errno=0$'
expect_match "opts: after listen SO_REUSEPORT=1" "$out" '^get=reuseport rc=0 errno=0 value=1$'
expect_match "opts: after listen SO_KEEPALIVE=1" "$out" '^get=keepalive rc=0 errno=0 value=1$'
expect_match "opts: after listen TCP_NODELAY=1" "$out" '^get=nodelay rc=0 errno=0 value=1$'
expect_match "opts: log line" "$(cat "$T/shim.log")" \
	'listen fd=[0-9]+ tcp 127\.0\.0\.1:9200 rule=listen-opts actions=reuseport=force,sockopt=SO_KEEPALIVE=1,sockopt=TCP_NODELAY=1 rc=0'
out=$($SH "$PROBE" tcp4 bind=127.0.0.1:9201 listen get=reuseport get=keepalive get=nodelay 2>&1)
expect_match "opts: other port keeps SO_REUSEPORT=0" "$out" '^get=reuseport rc=0 errno=0 value=0$'
expect_match "opts: other port keeps SO_KEEPALIVE=0" "$out" '^get=keepalive rc=0 errno=0 value=0$'
expect_match "opts: other port keeps TCP_NODELAY=0" "$out" '^get=nodelay rc=0 errno=0 value=0$'
out=$("$PROBE" tcp4 bind=127.0.0.1:9200 listen get=reuseport get=keepalive 2>&1)
expect_match "opts: bare control SO_KEEPALIVE=0" "$out" '^get=keepalive rc=0 errno=0 value=0$'
# the same with a policy that has no bind rule at all (bind is not intercepted)
only=$(policy listen-only.ini <<'EOF'
[listen-opts]
on = listen
port = 9200
reuseport = force
sockopt = SO_KEEPALIVE=1
EOF
)
out=$(env SOCKSHIM_POLICY="$only" LD_PRELOAD="$SHIM" "$PROBE" tcp4 bind=127.0.0.1:9200 get=keepalive listen get=reuseport get=keepalive 2>/dev/null)
expect_eq "opts, listen-only policy: 0 before listen, 1 after" "$(printf '%s\n' "$out" | grep '^get=' | tr '\n' '|')" \
	"get=keepalive rc=0 errno=0 value=0|get=reuseport rc=0 errno=0 value=1|get=keepalive rc=0 errno=0 value=1|"

# ---- rewrite on listen for an unbound socket ----
out=$("$PROBE" tcp4 listen name 2>&1)
expect_match "unbound: bare listen autobinds 0.0.0.0:<ephemeral>" "$out" '^name rc=0 errno=0 local=0\.0\.0\.0:[1-9][0-9]*$'
expect_nomatch "unbound: bare listen is not on 127.0.0.7:9300" "$out" '127\.0\.0\.7'
out=$($SH "$PROBE" tcp4 listen name get=reuseport 2>&1)
expect_match "unbound: listen succeeds" "$out" '^listen rc=0 errno=0$'
expect_match "unbound: bound where the rule says (getsockname)" "$out" '^name rc=0 errno=0 local=127\.0\.0\.7:9300$'
expect_match "unbound: SO_REUSEPORT=1" "$out" '^get=reuseport rc=0 errno=0 value=1$'
expect_match "unbound: log line" "$(cat "$T/shim.log")" \
	'listen fd=[0-9]+ tcp 0\.0\.0\.0:0 rule=listen-unbound-v4 actions=reuseport=force,rewrite=127\.0\.0\.7:9300 rc=0'
out=$($SH "$PROBE" tcp6 listen name 2>&1)
expect_match "unbound v6: bound to [::1]:9301" "$out" '^name rc=0 errno=0 local=\[::1\]:9301$'

# Two real servers that listen without binding: the rule puts both on
# 127.0.0.7:9300 and, since reuseport is set before the implicit bind, both listen.
cat > "$T/server.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.listen(16)                                 # no bind
print("%s %d" % s.getsockname(), flush=True)
s.settimeout(10)
while True:
    c, peer = s.accept()
    c.sendall(sys.argv[1].encode() + b"\n")
    c.close()
EOF
timeout 20 $SH "$PY" "$T/server.py" A > "$T/A.out" 2>&1 &
a=$!; pids="$pids $a"
timeout 20 $SH "$PY" "$T/server.py" B > "$T/B.out" 2>&1 &
b=$!; pids="$pids $b"
i=0
while [ "$(ss -Hltn 'sport = :9300' | wc -l)" -lt 2 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
expect_eq "two servers: ss shows two listeners on 127.0.0.7:9300" \
	"$(ss -Hltn 'sport = :9300' | awk '{print $4}' | sort | uniq -c | awk '{print $1, $2}')" "2 127.0.0.7:9300"
expect_eq "two servers: A's getsockname" "$(cat "$T/A.out")" "127.0.0.7 9300"
expect_eq "two servers: B's getsockname" "$(cat "$T/B.out")" "127.0.0.7 9300"
got=$(for i in $(seq 20); do timeout 5 socat -T 2 - TCP:127.0.0.7:9300 </dev/null 2>/dev/null; done | sort | uniq -c | awk '{print $2}' | tr '\n' ' ')
expect_eq "two servers: 20 connections reached both" "$got" "A B "
kill $a $b 2>/dev/null; wait $a $b 2>/dev/null

# An unbound socket the shim did not see created (inherited from a parent
# that runs without the shim, like a supervisor handing out sockets) is just
# as unbound: getsockname says 0.0.0.0:0 (PITFALLS 15), so listen lands where
# the rule says too.
cat > "$T/child.py" <<'EOF'
import socket, sys
s = socket.socket(fileno=int(sys.argv[1]))
s.listen()
print("%s %d" % s.getsockname())
EOF
cat > "$T/parent.py" <<'EOF'
import os, socket, subprocess, sys
s = socket.socket()                                  # unbound, made without the shim
env = dict(os.environ, SOCKSHIM_POLICY=sys.argv[1], LD_PRELOAD=sys.argv[2])
subprocess.run([sys.executable, sys.argv[3], str(s.fileno())], pass_fds=[s.fileno()], env=env, timeout=10)
EOF
out=$(timeout 10 "$PY" "$T/parent.py" "$pol" "$SHIM" "$T/child.py" 2>/dev/null)
expect_eq "inherited unbound socket: listen lands on 127.0.0.7:9300" "$out" "127.0.0.7 9300"

# ---- rewrite on listen skips a socket the app bound ----
out=$($SH "$PROBE" tcp4 bind=127.0.0.1:9202 listen name 2>&1)
expect_match "bound: listen succeeds" "$out" '^listen rc=0 errno=0$'
expect_match "bound: stays where the app bound it" "$out" '^name rc=0 errno=0 local=127\.0\.0\.1:9202$'
expect_nomatch "bound: nothing on 9400" "$(ss -Hltan 'sport = :9400')" .
expect_match "bound: log says skip=rewrite-bound" "$(cat "$T/shim.log")" \
	'listen fd=[0-9]+ tcp 127\.0\.0\.1:9202 rule=listen-bound actions=skip=rewrite-bound rc=0'

# ---- listen rules match the address the app passed to bind ----
out=$($SH "$PROBE" tcp4 bind=0.0.0.0:9210 listen name get=keepalive get=nodelay 2>&1)
expect_match "after bind rewrite: socket is on 127.0.0.11:9211" "$out" '^name rc=0 errno=0 local=127\.0\.0\.11:9211$'
expect_match "after bind rewrite: the rule for the app's port 9210 applied (SO_KEEPALIVE=1)" "$out" '^get=keepalive rc=0 errno=0 value=1$'
expect_match "after bind rewrite: the rule for the real port 9211 did not (TCP_NODELAY=0)" "$out" '^get=nodelay rc=0 errno=0 value=0$'
expect_match "after bind rewrite: log names the rule" "$(cat "$T/shim.log")" \
	'listen fd=[0-9]+ tcp [^ ]+ rule=listen-by-app-addr actions=sockopt=SO_KEEPALIVE=1 rc=0'

# ---- deny on listen ----
cat > "$T/deny.py" <<'EOF'
import errno, socket, subprocess, sys
s = socket.socket()
s.bind(("127.0.0.1", 9203))
try:
    s.listen(5)
    print("listened")
except OSError as e:
    print("listen-failed", errno.errorcode[e.errno])
# while the socket is still open: is anything listening on 9203?
print("listeners", len(subprocess.run(["ss", "-Hltn", "sport = :9203"], capture_output=True, text=True).stdout.splitlines()))
EOF
out=$(timeout 10 $SH "$PY" "$T/deny.py" 2>/dev/null)
expect_match "deny: listen fails with EPERM" "$out" '^listen-failed EPERM$'
expect_match "deny: nothing listens on 9203" "$out" '^listeners 0$'
out=$(timeout 10 "$PY" "$T/deny.py" 2>/dev/null)
expect_match "deny: bare control listens" "$out" '^listened$'
expect_match "deny: bare control has a listener" "$out" '^listeners 1$'
expect_match "deny: log line" "$(cat "$T/shim.log")" \
	'listen fd=[0-9]+ tcp 127\.0\.0\.1:9203 rule=listen-deny actions=deny=EPERM rc=-1 errno=EPERM'

finish

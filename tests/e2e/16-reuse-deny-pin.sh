# reuseaddr/reuseport pinning, read back from the kernel:
# frontends: preload, seccomp
#   reuseaddr = deny: an app that sets SO_REUSEADDR=1 before bind ends up with
#     0, and its later setsockopt(SO_REUSEADDR, 1) is ignored (value stays 0,
#     log says ignored). Kernel consequence: two sockets that both asked for
#     SO_REUSEADDR can no longer bind one port (bare: they can).
#   reuseaddr/reuseport = force: a later setsockopt(…, 0) is ignored; value stays 1.
#   reuseport = deny: a second SO_REUSEPORT server cannot join the port.
#   Sockets outside the rules keep full control of their options.
. "$TOP/tests/lib.sh"

PY=$(python3 -c 'import sys; print(sys.executable)')
PROBE=$BUILD/tests/probe

pol=$(policy pin.ini <<EOF
[global]
log = file:$T/shim.log

[no-reuseaddr]
on = bind
proto = tcp
port = 9600
reuseaddr = deny

[force-both]
on = bind
port = 9601
reuseaddr = force
reuseport = force

[any-proto]
on = bind
port = 9603
reuseaddr = force

[udp-explicit]
on = bind
proto = udp
port = 9604
reuseaddr = force

[no-reuseport]
on = bind
port = 9602
reuseport = deny
EOF
)
SH="env SOCKSHIM_POLICY=$pol LD_PRELOAD=$SHIM"

# ---- reuseaddr = deny ----
out=$($SH "$PROBE" tcp4 set=reuseaddr:1 get=reuseaddr bind=127.0.0.1:9600 get=reuseaddr set=reuseaddr:1 get=reuseaddr 2>&1)
expect_eq "deny: app's own setsockopt before bind reaches the kernel" \
	"$(printf '%s\n' "$out" | grep '^get=reuseaddr' | head -1)" "get=reuseaddr rc=0 errno=0 value=1"
expect_eq "deny: after bind SO_REUSEADDR=0, and stays 0 after the app sets it again" \
	"$(printf '%s\n' "$out" | grep '^get=reuseaddr' | tail -2 | tr '\n' '|')" \
	"get=reuseaddr rc=0 errno=0 value=0|get=reuseaddr rc=0 errno=0 value=0|"
expect_match "deny: the app's later setsockopt reports success" "$out" '^set=reuseaddr:1 rc=0 errno=0$'
log=$(cat "$T/shim.log")
expect_match "deny: log shows the bind" "$log" \
	'bind fd=[0-9]+ tcp 127\.0\.0\.1:9600 rule=no-reuseaddr actions=reuseaddr=deny rc=0'
expect_match "deny: log says the app's SO_REUSEADDR=1 was ignored" "$log" \
	'setsockopt fd=[0-9]+ tcp rule=\(pinned\) actions=ignored=SO_REUSEADDR=1'

# kernel consequence: both sockets ask for SO_REUSEADDR before binding one port
steps="set=reuseaddr:1 bind=127.0.0.1:9600 new=tcp4 set=reuseaddr:1 bind=127.0.0.1:9600"
out=$("$PROBE" tcp4 $steps 2>&1)
expect_eq "deny: bare control: the second bind succeeds" \
	"$(printf '%s\n' "$out" | grep '^bind=' | tail -1)" "bind=127.0.0.1:9600 rc=0 errno=0"
out=$($SH "$PROBE" tcp4 $steps 2>&1)
expect_eq "deny: under the shim the second bind fails" \
	"$(printf '%s\n' "$out" | grep '^bind=' | tail -1)" "bind=127.0.0.1:9600 rc=-1 errno=EADDRINUSE"

# A real server that sets SO_REUSEADDR itself (socketserver allow_reuse_address)
cat > "$T/server.py" <<'EOF'
import socket, socketserver
class Server(socketserver.TCPServer):
    allow_reuse_address = True
srv = Server(("127.0.0.1", 9600), socketserver.BaseRequestHandler)
srv.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # and once more after bind
print("reuseaddr=%d" % srv.socket.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR))
EOF
expect_eq "deny: socketserver with allow_reuse_address ends up with 0" "$(timeout 10 $SH "$PY" "$T/server.py" 2>/dev/null)" "reuseaddr=0"
expect_eq "deny: bare control: it has 1" "$(timeout 10 "$PY" "$T/server.py" 2>/dev/null)" "reuseaddr=1"

# ---- force: the app's undo is ignored ----
out=$($SH "$PROBE" tcp4 bind=127.0.0.1:9601 set=reuseaddr:0 set=reuseport:0 get=reuseaddr get=reuseport listen set=reuseaddr:0 get=reuseaddr 2>&1)
expect_eq "force: SO_REUSEADDR stays 1 after the app clears it (before and after listen)" \
	"$(printf '%s\n' "$out" | grep '^get=reuseaddr' | tr '\n' '|')" \
	"get=reuseaddr rc=0 errno=0 value=1|get=reuseaddr rc=0 errno=0 value=1|"
expect_match "force: SO_REUSEPORT stays 1 after the app clears it" "$out" '^get=reuseport rc=0 errno=0 value=1$'
log=$(cat "$T/shim.log")
expect_match "force: log says SO_REUSEADDR=0 ignored" "$log" 'setsockopt fd=[0-9]+ tcp rule=\(pinned\) actions=ignored=SO_REUSEADDR=0'
expect_match "force: log says SO_REUSEPORT=0 ignored" "$log" 'setsockopt fd=[0-9]+ tcp rule=\(pinned\) actions=ignored=SO_REUSEPORT=0'
# setting it to the forced value again is not an undo: no "ignored" line for it
n0=$(grep -c 'ignored=' "$T/shim.log")
out=$($SH "$PROBE" tcp4 bind=127.0.0.1:9601 set=reuseaddr:1 get=reuseaddr 2>&1)
expect_match "force: app setting the same value works" "$out" '^get=reuseaddr rc=0 errno=0 value=1$'
expect_eq "force: ...and logs no ignored line" "$(grep -c 'ignored=' "$T/shim.log")" "$n0"

# The pin belongs to the socket, not to one fd number: an undo through a
# duplicate is an undo too. Python's socket.dup() duplicates with
# fcntl(F_DUPFD_CLOEXEC), as do many runtimes.
cat > "$T/dup.py" <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 9601))
d = s.dup()                                                     # fcntl(F_DUPFD_CLOEXEC)
d.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
print("reuseaddr=%d" % s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR))
EOF
expect_eq "force: undo through a socket.dup() duplicate is ignored too" \
	"$(timeout 10 $SH "$PY" "$T/dup.py" 2>/dev/null)" "reuseaddr=1"

# ---- reuseport = deny: a second SO_REUSEPORT server cannot join ----
steps="set=reuseport:1 bind=127.0.0.1:9602 listen new=tcp4 set=reuseport:1 bind=127.0.0.1:9602 listen"
out=$("$PROBE" tcp4 $steps 2>&1)
expect_eq "reuseport deny: bare control: both bind" \
	"$(printf '%s\n' "$out" | grep -c '^bind=127.0.0.1:9602 rc=0')" "2"
out=$($SH "$PROBE" tcp4 $steps get=reuseport 2>&1)
expect_eq "reuseport deny: under the shim the second bind fails" \
	"$(printf '%s\n' "$out" | grep '^bind=' | tail -1)" "bind=127.0.0.1:9602 rc=-1 errno=EADDRINUSE"
expect_match "reuseport deny: SO_REUSEPORT is 0" "$out" '^get=reuseport rc=0 errno=0 value=0$'

# ---- UDP: never forced unless the rule names UDP (PITFALLS 12) ----
out=$($SH "$PROBE" udp4 bind=127.0.0.1:9603 get=reuseaddr new=tcp4 bind=127.0.0.1:9603 get=reuseaddr 2>&1)
expect_eq "udp: rule without proto leaves UDP SO_REUSEADDR=0 (TCP gets 1)" \
	"$(printf '%s\n' "$out" | grep '^get=reuseaddr' | tr '\n' '|')" \
	"get=reuseaddr rc=0 errno=0 value=0|get=reuseaddr rc=0 errno=0 value=1|"
expect_match "udp: log says skip=reuseaddr-udp" "$(cat "$T/shim.log")" \
	'bind fd=[0-9]+ udp 127\.0\.0\.1:9603 rule=any-proto actions=skip=reuseaddr-udp rc=0'
out=$($SH "$PROBE" udp4 bind=127.0.0.1:9604 get=reuseaddr new=udp4 bind=127.0.0.1:9604 2>&1)
expect_match "udp: proto = udp forces SO_REUSEADDR=1" "$out" '^get=reuseaddr rc=0 errno=0 value=1$'
expect_match "udp: so a second UDP socket can share the port" "$out" '^bind=127\.0\.0\.1:9604 rc=0 errno=0$'
out=$("$PROBE" udp4 bind=127.0.0.1:9604 new=udp4 bind=127.0.0.1:9604 2>&1)
expect_match "udp: bare control: the second UDP bind fails" "$out" '^bind=127\.0\.0\.1:9604 rc=-1 errno=EADDRINUSE$'

# ---- outside the rules: the app's setsockopt works both ways ----
out=$($SH "$PROBE" tcp4 bind=127.0.0.1:9699 set=reuseaddr:1 get=reuseaddr set=reuseaddr:0 get=reuseaddr 2>&1)
expect_eq "unmatched: app sets 1 then 0" "$(printf '%s\n' "$out" | grep '^get=reuseaddr' | tr '\n' '|')" \
	"get=reuseaddr rc=0 errno=0 value=1|get=reuseaddr rc=0 errno=0 value=0|"

finish

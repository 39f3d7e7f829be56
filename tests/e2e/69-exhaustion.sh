#!/bin/bash
# 69: out of file descriptors or out of ports, the program gets the kernel's
# own error, is never crashed, and is never left with an fd it did not make.
# - 100,000 rotated connects (source_port = 44000-44999, random) while another
#   process holds 500 ports of that window to the same destination with
#   SO_REUSEADDR: about half the ports offered are a taken 4-tuple, and each
#   is retried from the next port on the same socket (the kernel checks the
#   window). Every connect succeeds; /proc/self/fd counts the same before
#   and after.
# - RLIMIT_NOFILE exhausted: socket() fails EMFILE exactly as bare; with a
#   window outside ip_local_port_range (exact binds), a connect whose retry
#   needs a fresh socket gets the kernel's EADDRNOTAVAIL (what the connect
#   itself said), logged as failed=retry:EMFILE, and no fd leaks.
# - No port left (a 10-port range, all used): the 11th connect gets the
#   kernel's EADDRNOTAVAIL, bare and under a pinned source alike.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/rot.sh"
PY=$(python3 -c 'import sys; print(sys.executable)')

serve tcp 127.0.0.1 9200 "$T/peers" -c || exit 1
W=$(policy window.ini <<'INI'
[window]
on = connect
addr = 127.0.0.1
port = 9200
source = 127.0.0.2
source_port = 44000-44999
rotate = random
INI
)
# the hog holds 500 connections from 127.0.0.2:44000-44499 to the same
# destination, so those 4-tuples are taken
HOG=$(policy hog.ini <<'INI'
[hog]
on = connect
addr = 127.0.0.1
port = 9200
source = 127.0.0.2
source_port = 44000-44499
INI
)
serve tcp 127.0.0.1 9202 "$T/unused" || exit 1
later shim "$HOG" "$RC" -r -n 500 -w 120 -f "$T/hog.ports" 127.0.0.1 9200 >/dev/null 2>&1
wait_lines "$T/hog.ports" 500 || exit 1
held=$(cut -d' ' -f2 "$T/hog.ports" | sort -u | awk '$1 >= 44000 && $1 <= 44499' | wc -l)
expect_eq "setup: 500 ports of the window held (getsockname of the hog)" "$held" 500

out=$(SOCKSHIM_LOG=file:$T/window.log timeout 120 env SOCKSHIM_POLICY="$W" LD_PRELOAD="$SHIM" \
	"$RC" -r -x -n 100000 -f "$T/client.ports" 127.0.0.1 9200 2>&1)
# Each port is reused about 200 times against a server that closes first, so
# a SYN may now and then meet the server's TIME_WAIT of the same 4-tuple and
# be refused; that is the network's doing (bare would see it too), so a few
# ECONNREFUSED are allowed and nothing else.
ok=$(field ok "$out"); fail=$(field fail "$out")
check "100k rotated connects: all succeed but a few refused by TIME_WAIT ($ok ok, $fail failed)" \
	test "$((ok + fail))" -eq 100000 -a "$fail" -le 10
check "100k rotated connects: no failure but ECONNREFUSED" sh -c "! printf '%s\n' \"\$1\" | grep '^errno ' | grep -qv '^errno ECONNREFUSED='" sh "$out"
expect_match "100k rotated connects: no fd leaked (/proc/self/fd before and after)" "$out" '^fds-leaked=0$'
outside=$(awk '$1 != "127.0.0.2" || $2 < 44500 || $2 > 44999' "$T/client.ports" | wc -l)
expect_eq "every connection from a free port of the window (getsockname)" "$outside" 0
retried=$(grep -c 'taken=127\.0\.0\.2:44[0-4][0-9][0-9]:EADDRNOTAVAIL' "$T/window.log")
check "the retry path ran (more than 10,000 connects retried: $retried)" test "$retried" -gt 10000
expect_match "the summary: 100,000 matched and applied, no source failed" "$(cat "$T/window.log")" 'summary rule=window line=[0-9]+ matched=100000 applied=100000 failed=0'

# ---- RLIMIT_NOFILE exhausted ----
cat > "$T/emfile.py" <<'PY'
import os, resource, socket, sys
mode = sys.argv[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
before = len(os.listdir("/proc/self/fd"))
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
fill = []
try:
    while True:
        fill.append(os.open("/dev/null", os.O_RDONLY))
except OSError as e:
    print("fill", e.errno == 24 and "EMFILE" or e.errno)
try:
    socket.socket(); print("socket ok")
except OSError as e:
    print("socket", os.strerror(e.errno))
try:
    s.connect(("127.0.0.1", 9200)); print("connect ok", s.getsockname())
except OSError as e:
    print("connect", os.strerror(e.errno))
s.close()
for f in fill:
    os.close(f)
print("fds-leaked", len(os.listdir("/proc/self/fd")) - before)
PY
bare=$(timeout 20 "$PY" "$T/emfile.py" bare 2>&1)
expect_match "bare: socket() with no fd left gives EMFILE" "$bare" '^socket Too many open files$'
expect_match "bare: connect needs no new fd and succeeds" "$bare" '^connect ok'
# every port of a 5-port window is taken (the hog's 44000-44004), so the
# shim's first bind collides and its retry would need a fresh socket (the
# window outside ip_local_port_range: the shim binds exact ports)
echo "50000 60999" > /proc/sys/net/ipv4/ip_local_port_range
TAKEN=$(policy taken.ini <<'INI'
[taken]
on = connect
addr = 127.0.0.1
port = 9200
source = 127.0.0.2
source_port = 44000-44004
INI
)
got=$(SOCKSHIM_LOG=file:$T/taken.log timeout 20 env SOCKSHIM_POLICY="$TAKEN" LD_PRELOAD="$SHIM" "$PY" "$T/emfile.py" shim 2>&1)
expect_match "shim: socket() with no fd left gives EMFILE, as bare" "$got" '^socket Too many open files$'
expect_match "shim: the connect gets the kernel's EADDRNOTAVAIL, not a crash" "$got" '^connect Cannot assign requested address$'
expect_match "shim: no fd leaked" "$got" '^fds-leaked 0$'
expect_match "shim: the log says the retry could not get a socket" "$(cat "$T/taken.log")" 'failed=retry:EMFILE'

# ---- no port left ----
echo "40000 40009" > /proc/sys/net/ipv4/ip_local_port_range
PIN=$(policy pin.ini <<'INI'
[pin]
on = connect
addr = 127.0.0.1
port = 9202
source = 127.0.0.3
INI
)
bare=$(timeout 20 "$RC" -n 11 -w 0 127.0.0.1 9202 2>&1)
got=$(timeout 20 env SOCKSHIM_POLICY="$PIN" LD_PRELOAD="$SHIM" "$RC" -n 11 -w 0 -f "$T/pin.ports" 127.0.0.1 9202 2>&1)
expect_match "bare, 10-port range: 10 connect, the 11th gets EADDRNOTAVAIL" "$bare" '^ok=10 fail=1$'
expect_match "bare: errno" "$bare" '^errno EADDRNOTAVAIL=1$'
expect_match "pinned source: the same 10 and EADDRNOTAVAIL" "$got" '^ok=10 fail=1$'
expect_match "pinned source: errno" "$got" '^errno EADDRNOTAVAIL=1$'
expect_match "pinned source: no fd leaked" "$got" '^fds-leaked=0$'
expect_eq "pinned source: every connection from 127.0.0.3 (getsockname)" "$(cut -d' ' -f1 "$T/pin.ports" | sort -u)" 127.0.0.3
finish

#!/bin/bash
# 95: the seccomp front end retries a rotated source port that collides, as
# the preload does (81), for statically linked clients LD_PRELOAD never
# reaches. Another process holds connections from 127.0.0.2:43000-43004 to
# the server with SO_REUSEADDR, so a client that also sets SO_REUSEADDR can
# bind those ports but the kernel refuses its connect (EADDRNOTAVAIL: the
# 4-tuple is taken). Under a window that starts there, every connect succeeds
# from a free port of the window. Where the window lies inside
# net.ipv4.ip_local_port_range the kernel checks each port and the retry
# happens on the program's own socket (non-blocking, and a Go client). Where
# it does not (the range narrowed to 50000-60999 below), a blocking connect
# is retried on a fresh socket: the supervisor reads back the options the
# program set, builds a fresh socket carrying them, and installs it at the
# program's own fd number (SECCOMP_IOCTL_NOTIF_ADDFD), keeping close-on-exec
# as it was. Checked with what the kernel says in the client (getsockname,
# getsockopt, fcntl, fstat) and the server's peers. The same for two
# processes of two threads each at once and for IPv6 ([::1]).
# Also: a busy port at bind is skipped on the same socket; a whole window
# taken gives the kernel's error once; a socket carrying an option that
# cannot be read back (a socket filter) is not retried, and says so.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/rot.sh"
. "$TOP/tests/helpers/seccomp.sh"
PY=$(python3 -c 'import sys; print(sys.executable)')

static_c sretry "$TOP/tests/helpers/retry_client.c"
static_c srot "$TOP/tests/helpers/rot_client.c"
check "the clients are statically linked" is_static "$T/sretry"

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
# A host-scope cursor starts at the window's first port (a fresh shared
# segment), so the tests that need a collision get one for sure.
HOG=$(pol hog 43000-43004)
later shim "$HOG" "$RC" -r -n 5 -w 60 -f "$T/hog.ports" 127.0.0.1 9100 >/dev/null 2>&1
HOG2=$(pol hog2 43020-43024)
later shim "$HOG2" "$RC" -n 5 -w 60 -f "$T/hog2.ports" 127.0.0.1 9100 >/dev/null 2>&1
wait_lines "$T/hog.ports" 5 && wait_lines "$T/hog2.ports" 5
expect_eq "setup: 43000-43004 and 43020-43024 held by another process" \
	"$(cut -d' ' -f2 "$T/hog.ports" "$T/hog2.ports" | sort | tr '\n' ' ')" \
	"43000 43001 43002 43003 43004 43020 43021 43022 43023 43024 "

ctl=$("$PY" - <<'PYEOF'
import errno, socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.2", 43002))
try:
    s.connect(("127.0.0.1", 9100))
    print("bind ok, connect ok")
except OSError as e:
    print("bind ok, connect", errno.errorcode[e.errno])
PYEOF
)
expect_eq "control: bind succeeds, the kernel refuses the taken 4-tuple at connect" "$ctl" "bind ok, connect EADDRNOTAVAIL"

# conn lines of retry_client: "PORT replaced=R cloexec=C nonblock=N opts=O fds=F"
summary() { sed -n 's/^conn fd=[0-9]* rc=0 errno=0 local=127\.0\.0\.2:\([0-9]*\) \(.*\)$/\1 \2/p' <<<"$1"; }
ports() { summary "$1" | cut -d' ' -f1 | sort | tr '\n' ' '; }
served() { # PORT...: how many of them the server saw from 127.0.0.2
	local n=0 p
	for p in "$@"; do grep -qx "127\.0\.0\.2 $p" "$T/peers" && n=$((n + 1)); done
	echo $n
}

narrow() { sysctl -qw net.ipv4.ip_local_port_range="50000 60999"; } # the kernel cannot check 43000-43999
widen() { sysctl -qw net.ipv4.ip_local_port_range="32768 60999"; }

# ---- taken 4-tuple, blocking, a window the kernel cannot check: a fresh socket at the same fd number ----
narrow
W1=$(pol w1 43000-43009 host)
out=$(sup "$W1" "$T/sretry" -n 5 127.0.0.1 9100 2>"$T/b.log")
expect_eq "taken 4-tuple, blocking: 5 connects succeed, from the free ports 43005-43009" "$(ports "$out")" \
	"43005 43006 43007 43008 43009 "
expect_eq "taken 4-tuple, blocking: the server saw each of them from 127.0.0.2" "$(served 43005 43006 43007 43008 43009)" 5
expect_eq "taken 4-tuple, blocking: fd numbers are the ones socket() returned, in order" \
	"$(sed -n 's/^conn fd=\([0-9]*\) .*/\1/p' <<<"$out" | tr '\n' ' ')" "3 4 5 6 7 "
expect_match "taken 4-tuple, blocking: the first fd now names a fresh socket" "$(head -1 <<<"$out")" ' replaced=1 '
expect_eq "taken 4-tuple, blocking: every option read back as set, close-on-exec kept, no fd leaked or added" \
	"$(summary "$out" | cut -d' ' -f3- | sort -u)" "cloexec=1 nonblock=0 opts=ok fds=0"
expect_match "taken 4-tuple, blocking: logged as the preload logs it, by the supervisor" "$(cat "$T/b.log")" \
	'info connect fd=3 tcp 127\.0\.0\.1:9100 rule=w1 actions=taken=127\.0\.0\.2:4300[0-4]:EADDRNOTAVAIL,.*retries=[0-9]+,source=127\.0\.0\.2:4300[5-9] rc=0 via=seccomp$'
check "taken 4-tuple, blocking: no noretry" bash -c "! grep -q noretry '$T/b.log'"

# ---- taken 4-tuple, non-blocking, without close-on-exec, a window the kernel checks ----
widen
W2=$(pol w2 "43000-43004, 43010-43014" host)
out=$(sup "$W2" "$T/sretry" -k -e -n 5 127.0.0.1 9100 2>"$T/nb.log")
expect_eq "taken 4-tuple, non-blocking: 5 connects succeed from 43010-43014" "$(ports "$out")" \
	"43010 43011 43012 43013 43014 "
expect_eq "taken 4-tuple, non-blocking: the server saw them" "$(served 43010 43011 43012 43013 43014)" 5
expect_match "taken 4-tuple, non-blocking: retried on the program's own socket" "$(head -1 <<<"$out")" ' replaced=0 '
expect_eq "taken 4-tuple, non-blocking: O_NONBLOCK kept, still not close-on-exec, options kept" \
	"$(summary "$out" | cut -d' ' -f3- | sort -u)" "cloexec=0 nonblock=1 opts=ok fds=0"
expect_match "taken 4-tuple, non-blocking: EINPROGRESS after the retry" "$(cat "$T/nb.log")" \
	'actions=taken=127\.0\.0\.2:4300[0-4]:EADDRNOTAVAIL,.*source=127\.0\.0\.2:4301[0-4] rc=-1 errno=EINPROGRESS via=seccomp$'

# ---- processes and threads at once (workers retry side by side) ----
narrow
W3=$(pol w3 "43000-43004, 43060-43079" host)
out=$(sup "$W3" "$T/srot" -P 2 -t 2 -n 3 -r -o -f "$T/mt.ports" 127.0.0.1 9100 2>"$T/mt.log")
expect_eq "2 processes x 2 threads x 3: every connect succeeds" "$(field ok "$out")/$(field fail "$out")" "12/0"
expect_eq "threads: every port distinct, inside 43060-43079" \
	"$(cut -d' ' -f2 "$T/mt.ports" | sort -u | awk '$1 >= 43060 && $1 <= 43079' | wc -l)" 12
expect_eq "threads: options, O_NONBLOCK and close-on-exec survived, no fd leaked" \
	"$(field opts-lost "$out") $(grep -c '^fds-leaked=0$' <<<"$out")" "0 1"
expect_match "threads: fresh sockets were put in place" "$(field fd-changed "$out")" '^([1-9]|1[0-2])$'

# ---- EADDRINUSE at bind: the next port on the same socket ----
W4=$(pol w4 43020-43029 host)
out=$(sup "$W4" "$T/sretry" -n 5 127.0.0.1 9100 2>"$T/u.log")
expect_eq "busy port: 5 connects succeed from 43025-43029" "$(ports "$out")" "43025 43026 43027 43028 43029 "
expect_eq "busy port: the same socket (not replaced), options kept" \
	"$(summary "$out" | cut -d' ' -f2- | sort -u)" "replaced=0 cloexec=1 nonblock=0 opts=ok fds=0"
expect_match "busy port: log counts the busy ports" "$(cat "$T/u.log")" \
	'actions=busy-ports=[1-5],source=127\.0\.0\.2:4302[5-9] rc=0 via=seccomp$'

# ---- the whole window taken: the kernel's error, once ----
W5=$(pol w5 43000-43004)
out=$(sup "$W5" "$T/sretry" -n 1 127.0.0.1 9100 2>"$T/full.log")
expect_match "window taken: the connect fails with EADDRNOTAVAIL, no fd added" "$out" \
	'^conn fd=3 rc=-1 errno=EADDRNOTAVAIL .* fds=0$'
expect_eq "window taken: one log line, every port tried, the kernel's error" \
	"$(grep -c ' info connect ' "$T/full.log")/$(grep -c 'retries=5,failed=source:EADDRNOTAVAIL rc=-1 errno=EADDRNOTAVAIL via=seccomp$' "$T/full.log")" "1/1"

# ---- an option the supervisor cannot read back: no retry ----
out=$(sup "$W5" "$T/srot" -F -r -n 1 127.0.0.1 9100 2>"$T/filter.log")
expect_eq "socket filter: the kernel's error" "$(field fail "$out") $(grep '^errno' <<<"$out")" "1 errno EADDRNOTAVAIL=1"
expect_match "socket filter: no retry, logged as such" "$(cat "$T/filter.log")" \
	'actions=taken=127\.0\.0\.2:4300[0-4]:EADDRNOTAVAIL,noretry=options-unknown,retries=1,failed=source:EADDRNOTAVAIL .*via=seccomp'

# ---- IPv6: [::1]:43000-43004 to [::1]:9102 held the same way ----
serve tcp ::1 9102 "$T/peers6" || exit 1
HOG6=$(policy hog6.ini <<'INI'
[hog6]
on = connect
source = ::1
source_port = 43000-43004
INI
)
later shim "$HOG6" "$RC" -6 -r -n 5 -w 60 -f "$T/hog6.ports" '[::1]' 9102 >/dev/null 2>&1
wait_lines "$T/hog6.ports" 5
W7=$(policy w7.ini <<'INI'
[w7]
on = connect
source = ::1
source_port = 43000-43004, 43100-43104
rotate_scope = host
INI
)
out=$(sup "$W7" "$T/sretry" -6 -n 3 ::1 9102 2>"$T/v6.log")
expect_eq "IPv6, taken 4-tuples: 3 connects succeed from [::1]:43100-43102" \
	"$(sed -n 's/^conn fd=[0-9]* rc=0 errno=0 local=\[::1\]:\(4310[0-4]\) .*/\1/p' <<<"$out" | sort | tr '\n' ' ')" "43100 43101 43102 "
expect_match "IPv6: the first fd now names a fresh socket" "$(head -1 <<<"$out")" ' replaced=1 '
expect_eq "IPv6: options (IPV6_TCLASS among them) and flags kept, no fd added" \
	"$(sed -n 's/^conn .* cloexec=\(.*\)$/cloexec=\1/p' <<<"$out" | sort -u)" "cloexec=1 nonblock=0 opts=ok fds=0"
expect_eq "IPv6: the server saw them from ::1" "$(grep -cxE '::1 4310[0-2]' "$T/peers6")" 3

# ---- a Go client (non-blocking connect, epoll after it, raw system calls) ----
# A server that closes at once (so the client reads EOF), its 4-tuples from
# 127.0.0.2:43000-43004 held by another process as above.
if command -v go >/dev/null 2>&1 &&
	HOME=$T GOCACHE=$T/gocache GOPATH=$T/gopath GOPROXY=off GOFLAGS= CGO_ENABLED=0 \
		timeout 120 go build -o "$T/goclient" "$TOP/tests/helpers/goclient.go" 2>"$T/go.err"; then
	serve tcp 127.0.0.1 9101 "$T/peers-go" -c || exit 1
	later shim "$HOG" "$RC" -r -n 5 -w 60 -f "$T/hog3.ports" 127.0.0.1 9101 >/dev/null 2>&1
	wait_lines "$T/hog3.ports" 5
	widen
	W6=$(pol w6 "43000-43004, 43090-43094" host)
	out=$(sup "$W6" "$T/goclient" -r 127.0.0.1:9101 3 2>"$T/go.log")
	# (each connection is closed before the next: a port may serve again)
	expect_eq "Go client, SO_REUSEADDR, taken 4-tuples: 3 dials succeed from the free ports" \
		"$(grep -cxE 'local 127\.0\.0\.2 4309[0-4]' <<<"$out")" 3
	expect_eq "Go client: the server saw them" "$(grep -cxE '127\.0\.0\.2 4309[0-4]' "$T/peers-go")" 3
	expect_match "Go client: retried on its own socket (EINPROGRESS, as Go asked)" "$(cat "$T/go.log")" \
		'actions=taken=127\.0\.0\.2:4300[0-4]:EADDRNOTAVAIL,.*source=127\.0\.0\.2:4309[0-4] rc=-1 errno=EINPROGRESS via=seccomp$'
else
	echo "# no Go toolchain (or it cannot build goclient): the Go check is skipped"
fi

finish

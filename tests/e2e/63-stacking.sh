# The shim stacked with other preloaded libraries.
#
# Part 1: another preload that also wraps connect() and finds the real one
# with dlsym(RTLD_NEXT) (as proxychains, socket_wrapper, tsocks or a tracing
# library do). other.so, built here, counts every connect it sees (and any
# call that re-enters its wrapper on the same thread), writes one line per
# connect to its own log with what getsockname says at that moment, and a
# total at exit. Both orders:
#   other-first  LD_PRELOAD="other.so:shim": other -> shim -> libc
#   shim-first   LD_PRELOAD="shim:other.so": shim -> other -> libc (the shim's
#                real connect is whatever comes next, not libc's directly)
# Workloads: rob_threads (8 threads x 250 connects) and one probe connect.
# Each time: exit 0 under timeout (no recursion, no endless loop), every
# connect succeeded, getsockname and the server's accept() show 127.0.0.2;
# other.so saw each connect exactly once and never re-entered; the shim
# logged each connect exactly once. And the order is what it claims: with
# the shim first, other.so finds the socket already bound to 127.0.0.2 when
# its wrapper runs; with other.so first, it finds it unbound.
#
# Part 2: a malloc replacement (PITFALLS 2: jemalloc calls into libc during
# its own start-up, and the shim must allocate nothing): libjemalloc.so.2
# (Debian package libjemalloc2) preloaded before the shim and after it,
#   LD_PRELOAD="jemalloc:shim" and LD_PRELOAD="shim:jemalloc",
# with two workloads:
#   C        rob_threads, 8 threads x 500 connects, MALLOC_CONF=stats_print:true
#            (jemalloc prints its statistics at exit: it really was the
#            allocator, and it saw allocations)
#   python3  Debian's /usr/bin/python3, 8 threads x 100 connects to its own
#            listener; it also asks jemalloc (mallctl stats.allocated) whether
#            a 64 MiB bytearray it makes was served by jemalloc. (Not where the
#            `malloc` symbol resolves: Debian's python3.11 is not PIE, and
#            dlsym gives its own PLT entry for malloc, inside the binary.)
# Each time: exit 0 under timeout, nothing on stderr but jemalloc's report,
# every connect succeeded, getsockname and the server's accept() show only
# 127.0.0.2, no fd leaked, and the shim's log has its start line and one
# line per connect (the shim really ran). Part 2 is left out (and says so)
# when the shim itself is built with a sanitizer, whose runtime owns malloc.
#
# Every rule here pins the source of connects to 127.0.0.1:PORT to 127.0.0.2.
. "$TOP/tests/lib.sh"

PORT=9630
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done' EXIT

# ---- part 1: another connect() wrapper ----
cat > "$T/other.c" <<'EOF'
/* other.so: a second connect() wrapper, resolved the usual way. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static _Atomic long seen, reentered;
static _Thread_local int depth;
static int (*next_connect)(int, const struct sockaddr *, socklen_t);

static void note(const char *fmt, long a, const char *s)
{
	const char *path = getenv("OTHER_LOG");
	char line[256];
	if (!path)
		return;
	int n = snprintf(line, sizeof(line), fmt, (long)getpid(), a, s);
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)n) != n) {
	}
	close(fd);
}

int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (!next_connect)
		next_connect = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
	if (depth)
		atomic_fetch_add(&reentered, 1);
	depth++;
	atomic_fetch_add(&seen, 1);
	struct sockaddr_in me;
	socklen_t ml = sizeof(me);
	char ip[INET_ADDRSTRLEN] = "?";
	memset(&me, 0, sizeof(me));
	if (getsockname(fd, (struct sockaddr *)&me, &ml) == 0 && me.sin_family == AF_INET)
		inet_ntop(AF_INET, &me.sin_addr, ip, sizeof(ip));
	note("other pid=%ld connect fd=%ld local-before=%s\n", fd, ip);
	int rc = next_connect(fd, sa, len);
	depth--;
	return rc;
}

__attribute__((destructor)) static void other_fini(void)
{
	char r[32];
	snprintf(r, sizeof(r), "%ld", atomic_load(&reentered));
	note("other pid=%ld total connect=%ld reentered=%s\n", atomic_load(&seen), r);
}
EOF
cc -Wall -Werror -O2 -shared -fPIC -o "$T/other.so" "$T/other.c" -ldl || { not_ok "build other.so"; finish; }

pol=$(policy pin.ini <<EOF
[pin]
on = connect
addr = 127.0.0.1
port = $PORT
source = 127.0.0.2
EOF
)

# checks NAME NCONN IP WHAT: other.so's and the shim's accounts of NAME; IP is
# the local address other.so's wrapper must find on every socket (WHAT says why)
checks() {
	name=$1 n=$2 ip=$3 what=$4
	expect_eq "$name: other.so saw each of the $n connects exactly once, never re-entered" \
		"$(grep ' total ' "$T/$name.other" | sed 's/^other pid=[0-9]* //')" "total connect=$n reentered=0"
	expect_eq "$name: other.so wrote one line per connect" "$(grep -c ' connect fd=' "$T/$name.other")" "$n"
	expect_eq "$name: other.so's wrapper found every socket $what ($ip)" \
		"$(grep -c " connect fd=[0-9]* local-before=$ip\$" "$T/$name.other")" "$n"
	expect_eq "$name: the shim logged each connect exactly once, pinned" \
		"$(grep -c " info connect fd=[0-9]* tcp 127\\.0\\.0\\.1:$PORT rule=pin actions=source=127\\.0\\.0\\.2 rc=0\$" "$T/$name.log")" "$n"
	expect_eq "$name: the shim's log has one start line and nothing else but connects and the summary" \
		"$(grep -c ' info start ' "$T/$name.log")/$(grep -vc -e ' info start ' -e ' info connect ' -e ' info summary ' "$T/$name.log")" "1/0"
}

for order in other-first shim-first; do
	if [ $order = other-first ]; then
		pre="$T/other.so:$SHIM" ip=0.0.0.0 what="unbound"
	else
		pre="$SHIM:$T/other.so" ip=127.0.0.2 what="already bound by the shim"
	fi

	name=$order-threads
	start=$(date +%s)
	out=$(timeout 30 env OTHER_LOG="$T/$name.other" SOCKSHIM_LOG=file:$T/$name.log SOCKSHIM_POLICY="$pol" \
		LD_PRELOAD="$pre" "$BUILD/tests/rob_threads" $PORT 8 250 2>"$T/$name.err")
	rc=$?
	echo "# $name: $(($(date +%s) - start))s"
	expect_eq "$name: exit 0 within 30 s (no recursion, no endless loop)" "$rc" "0"
	expect_eq "$name: nothing on stderr" "$(cat "$T/$name.err")" ""
	expect_match "$name: all 2000 connects succeeded" "$out" '^connect ok=2000 fail=0$'
	expect_match "$name: getsockname shows only 127.0.0.2" "$out" '^client-local 127\.0\.0\.2=2000$'
	expect_match "$name: server saw only 127.0.0.2" "$out" '^server-peer 127\.0\.0\.2=2000$'
	expect_match "$name: no fd leaked" "$out" '^fds before=([0-9]+) after=\1$'
	checks $name 2000 $ip "$what"

	name=$order-probe
	"$BUILD/tests/rob_server" 127.0.0.1 $PORT 1 10 > "$T/$name.srv" &
	spid=$!; pids="$pids $spid"
	wait_port $PORT || { not_ok "$name: server up"; continue; }
	out=$(timeout 10 env OTHER_LOG="$T/$name.other" SOCKSHIM_LOG=file:$T/$name.log SOCKSHIM_POLICY="$pol" \
		LD_PRELOAD="$pre" "$BUILD/tests/probe" tcp4 connect=127.0.0.1:$PORT name 2>"$T/$name.err")
	rc=$?
	wait $spid
	expect_eq "$name: exit 0, nothing on stderr" "$rc/$(cat "$T/$name.err")" "0/"
	expect_match "$name: connect succeeded" "$out" "^connect=127\\.0\\.0\\.1:$PORT rc=0 errno=0\$"
	expect_match "$name: getsockname shows 127.0.0.2" "$out" '^name rc=0 errno=0 local=127\.0\.0\.2:[0-9]+$'
	expect_match "$name: server saw 127.0.0.2" "$(cat "$T/$name.srv")" '^peer 127\.0\.0\.2:[0-9]+$'
	checks $name 1 $ip "$what"
done

# ---- part 2: jemalloc ----
JE=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
PY=/usr/bin/python3 # Debian's (a python3 on PATH may be a local build)
[ -x $PY ] || PY=$(command -v python3)
if ldd "$SHIM" | grep -Eq 'lib(asan|tsan|msan|lsan)\.so'; then
	echo "# jemalloc part left out: the shim is built with a sanitizer, whose runtime owns malloc"
	finish
fi
[ -e "$JE" ] || { not_ok "libjemalloc2 installed (no $JE)"; finish; }

cat > "$T/work.py" <<'EOF'
import collections, ctypes, os, socket, struct, sys, threading

port, nthreads, n = (int(x) for x in sys.argv[1:4])

# does jemalloc serve this process's allocations? Ask it how much it has
# handed out before and after python allocates 64 MiB.
with open('/proc/self/maps') as f:
    maps = f.read().splitlines()
mapped = any('libjemalloc' in l for l in maps)
print('jemalloc-mapped', mapped)
if mapped:
    je = ctypes.CDLL('libjemalloc.so.2')  # the copy already loaded
    def allocated():
        e = ctypes.c_uint64(1)
        je.mallctl(b'epoch', None, None, ctypes.byref(e), ctypes.c_size_t(8))
        v = ctypes.c_size_t(0)
        sz = ctypes.c_size_t(ctypes.sizeof(v))
        if je.mallctl(b'stats.allocated', ctypes.byref(v), ctypes.byref(sz), None, ctypes.c_size_t(0)):
            return -1
        return v.value
    before = allocated()
    big = bytearray(64 << 20)
    after = allocated()
    del big
    print('jemalloc-served-64MiB', before >= 0 and after - before >= 64 << 20)
else:
    print('jemalloc-served-64MiB', False)

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', port))
srv.listen(1024)
peers = collections.Counter()
local = collections.Counter()
failed = [0]
lock = threading.Lock()

def server():
    for _ in range(nthreads * n):
        c, peer = srv.accept()
        with lock:
            peers[peer[0]] += 1
        c.close()

def client():
    for _ in range(n):
        s = socket.socket()
        try:
            s.connect(('127.0.0.1', port))
            with lock:
                local[s.getsockname()[0]] += 1
        except OSError:
            with lock:
                failed[0] += 1
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        s.close()

fds_before = len(os.listdir('/proc/self/fd'))
st = threading.Thread(target=server)
st.start()
ts = [threading.Thread(target=client) for _ in range(nthreads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
if failed[0]:
    srv.close()  # the server would wait for connections that never came
st.join()
print('failed', failed[0])
print('client-local', ' '.join('%s=%d' % kv for kv in sorted(local.items())))
print('server-peer', ' '.join('%s=%d' % kv for kv in sorted(peers.items())))
print('fds before=%d after=%d' % (fds_before, len(os.listdir('/proc/self/fd'))))
EOF

# shim_ran NAME PROGRAM NCONN: the shim's log shows it ran and decided each connect
shim_ran() {
	expect_eq "$1: the shim's log has one start line (program=$2) and $3 pinned connects" \
		"$(grep -c " info start .*program=$2 " "$T/$1.log")/$(grep -c " info connect fd=[0-9]* tcp 127\\.0\\.0\\.1:$PORT rule=pin actions=source=127\\.0\\.0\\.2 rc=0\$" "$T/$1.log")" \
		"1/$3"
}

for order in jemalloc-first shim-first; do
	if [ $order = jemalloc-first ]; then pre="$JE:$SHIM"; else pre="$SHIM:$JE"; fi

	name=$order-c
	start=$(date +%s)
	out=$(timeout 30 env MALLOC_CONF=stats_print:true SOCKSHIM_LOG=file:$T/$name.log SOCKSHIM_POLICY="$pol" \
		LD_PRELOAD="$pre" "$BUILD/tests/rob_threads" $PORT 8 500 2>"$T/$name.err")
	rc=$?
	echo "# $name: $(($(date +%s) - start))s"
	err=$(cat "$T/$name.err")
	expect_eq "$name: exit 0 within 30 s" "$rc" "0"
	expect_match "$name: jemalloc printed its statistics at exit (it was the allocator)" "$err" \
		'^___ Begin jemalloc statistics ___$'
	expect_match "$name: jemalloc counted allocations" "$err" '^Allocated: [1-9][0-9]*, '
	expect_eq "$name: nothing else on stderr (no 'cannot be preloaded', no sockshim error)" \
		"$(printf '%s\n' "$err" | sed -n '/^___ Begin jemalloc statistics ___$/,/^--- End jemalloc statistics ---$/!p')" ""
	expect_match "$name: all 4000 connects succeeded" "$out" '^connect ok=4000 fail=0$'
	expect_match "$name: getsockname shows only 127.0.0.2" "$out" '^client-local 127\.0\.0\.2=4000$'
	expect_match "$name: server saw only 127.0.0.2" "$out" '^server-peer 127\.0\.0\.2=4000$'
	expect_match "$name: no fd leaked" "$out" '^fds before=([0-9]+) after=\1$'
	shim_ran $name rob_threads 4000

	name=$order-python
	start=$(date +%s)
	out=$(timeout 30 env SOCKSHIM_LOG=file:$T/$name.log SOCKSHIM_POLICY="$pol" LD_PRELOAD="$pre" \
		"$PY" "$T/work.py" $PORT 8 100 2>"$T/$name.err")
	rc=$?
	echo "# $name: $(($(date +%s) - start))s"
	expect_eq "$name: exit 0 within 30 s" "$rc" "0"
	expect_eq "$name: nothing on stderr" "$(cat "$T/$name.err")" ""
	expect_match "$name: jemalloc served python's 64 MiB allocation" "$out" '^jemalloc-served-64MiB True$'
	expect_match "$name: libjemalloc is mapped" "$out" '^jemalloc-mapped True$'
	expect_match "$name: all 800 connects succeeded" "$out" '^failed 0$'
	expect_match "$name: getsockname shows only 127.0.0.2" "$out" '^client-local 127\.0\.0\.2=800$'
	expect_match "$name: server saw only 127.0.0.2" "$out" '^server-peer 127\.0\.0\.2=800$'
	expect_match "$name: no fd leaked" "$out" '^fds before=([0-9]+) after=\1$'
	shim_ran $name python3 800
done

# The checks can fail: without the shim python connects from 127.0.0.1 and
# without jemalloc preloaded libc's malloc serves it.
out=$(timeout 30 "$PY" "$T/work.py" $PORT 2 10 2>&1)
expect_match "control (bare): jemalloc did not serve python" "$out" '^jemalloc-served-64MiB False$'
expect_match "control (bare): connects come from 127.0.0.1" "$out" '^client-local 127\.0\.0\.1=20$'

finish

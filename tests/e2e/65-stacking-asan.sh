# The shim under the AddressSanitizer runtime: programs built here with
# gcc -fsanitize=address (probe and rob_threads from tests/helpers), run with
# the shim preloaded, under a rule that pins the source to 127.0.0.2.
#
# ASan insists that its runtime come first in the initial library list. An
# ASan program linked against libasan.so (gcc's default) finds a preloaded
# library ahead of libasan and refuses to start ("ASan runtime does not come
# first in initial library list"; checked below). Two honest ways, both
# tested:
#   asan-first   LD_PRELOAD="$(gcc -print-file-name=libasan.so):$SHIM"
#                (ASan's documented way: the runtime is preloaded first, the
#                shim right after it; ASan's own interceptors -- accept,
#                accept4, sendto, sendmsg, fclose... -- call on into the
#                shim through dlsym(RTLD_NEXT))
#   link-order   LD_PRELOAD="$SHIM" ASAN_OPTIONS=verify_asan_link_order=0
#                (the shim first, then the program's libasan: works because
#                the shim defines no malloc and allocates nothing, so ASan
#                still owns the heap)
# Each way: exit 0, nothing from ASan or LeakSanitizer on stderr (no
# "ERROR: AddressSanitizer", no leak report), the probe's connect succeeds
# and getsockname shows 127.0.0.2, the bare server sees 127.0.0.2, 8 threads
# x 500 connects all succeed and are all pinned (client and server side), no
# fd leaked, and the shim's log shows it ran (start line, one line per
# connect). A control program with a heap overflow proves ASan is live in
# the same set-up (its report does appear).
. "$TOP/tests/lib.sh"

ASAN_RT=$(gcc -print-file-name=libasan.so)
[ -e "$ASAN_RT" ] || { echo "skipped: no ASan runtime ($ASAN_RT; Debian package libasan8)"; exit 77; }
# A shim built with a sanitizer (make SANITIZE=...) brings its own runtime
# and its own load order: this test is about the plain shim meeting ASan.
if ldd "$SHIM" | grep -Eq 'lib(asan|tsan|msan|lsan)\.so'; then
	echo "skipped: the shim itself is built with a sanitizer"
	exit 77
fi
PORT=9650
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done' EXIT

ASAN_CFLAGS="-std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=address -fno-omit-frame-pointer"
gcc $ASAN_CFLAGS -o "$T/probe-asan" "$TOP/tests/helpers/probe.c" || { not_ok "build probe-asan"; finish; }
gcc $ASAN_CFLAGS -o "$T/threads-asan" "$TOP/tests/helpers/rob_threads.c" -lpthread || { not_ok "build threads-asan"; finish; }
cat > "$T/overflow.c" <<'EOF'
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void)
{
	close(socket(AF_INET, SOCK_STREAM, 0)); /* through the shim first */
	char *volatile p = malloc(8);
	memset(p, 'x', 9); /* one byte too far: ASan must say so */
	int r = p[8] == 'y';
	free(p);
	return r;
}
EOF
gcc $ASAN_CFLAGS -o "$T/overflow" "$T/overflow.c" || { not_ok "build overflow"; finish; }
check "probe-asan is linked against libasan" sh -c "readelf -d '$T/probe-asan' | grep -q 'NEEDED.*libasan'"

pol=$(policy pin.ini <<EOF
[pin]
on = connect
addr = 127.0.0.1
port = $PORT
source = 127.0.0.2
EOF
)

# The reason for the two ways: the shim alone in front of libasan is refused.
out=$(timeout 10 env SOCKSHIM_LOG=none SOCKSHIM_POLICY="$pol" LD_PRELOAD="$SHIM" "$T/probe-asan" tcp4 2>&1)
rc=$?
expect_match "plain LD_PRELOAD=shim: ASan refuses to start (exit $rc), as documented above" "$out" \
	'ASan runtime does not come first in initial library list'

# asan WAY SECONDS [VAR=VALUE...] COMMAND...: COMMAND under timeout, with the
# shim and ASan stacked the WAY way (timeout and env stay outside the preload)
asan() {
	way=$1 secs=$2; shift 2
	if [ "$way" = asan-first ]; then
		timeout "$secs" env ASAN_OPTIONS=detect_leaks=1 LD_PRELOAD="$ASAN_RT:$SHIM" "$@"
	else
		timeout "$secs" env ASAN_OPTIONS=detect_leaks=1:verify_asan_link_order=0 LD_PRELOAD="$SHIM" "$@"
	fi
}

for way in asan-first link-order; do
	log=$T/$way.log
	"$BUILD/tests/rob_server" 127.0.0.1 $PORT 1 10 > "$T/$way.srv" &
	spid=$!; pids="$pids $spid"
	wait_port $PORT || { not_ok "$way: server up"; continue; }
	out=$(asan $way 20 SOCKSHIM_LOG=file:$log SOCKSHIM_POLICY="$pol" \
		"$T/probe-asan" tcp4 set=keepalive:1 connect=127.0.0.1:$PORT name get=keepalive close 2>"$T/$way.err")
	rc=$?
	wait $spid
	expect_eq "$way probe: exit 0" "$rc" "0"
	expect_eq "$way probe: nothing on stderr (no ASan or leak report, no preload error)" "$(cat "$T/$way.err")" ""
	expect_match "$way probe: connect succeeded" "$out" "^connect=127\\.0\\.0\\.1:$PORT rc=0 errno=0\$"
	expect_match "$way probe: getsockname shows 127.0.0.2" "$out" '^name rc=0 errno=0 local=127\.0\.0\.2:[0-9]+$'
	expect_match "$way probe: the application's own setsockopt stands" "$out" '^get=keepalive rc=0 errno=0 value=1$'
	expect_match "$way probe: server saw 127.0.0.2" "$(cat "$T/$way.srv")" '^peer 127\.0\.0\.2:[0-9]+$'
	expect_eq "$way probe: the shim ran (start line, pinned connect in its log)" \
		"$(grep -c ' info start .*program=probe-asan ' "$log")/$(grep -c " info connect .* rule=pin actions=source=127\\.0\\.0\\.2 rc=0\$" "$log")" "1/1"

	log=$T/$way-threads.log
	start=$(date +%s)
	out=$(asan $way 30 SOCKSHIM_LOG=file:$log SOCKSHIM_POLICY="$pol" \
		"$T/threads-asan" $PORT 8 500 2>"$T/$way-threads.err")
	rc=$?
	echo "# $way threads: $(($(date +%s) - start))s"
	expect_eq "$way threads: exit 0 within 30 s" "$rc" "0"
	expect_eq "$way threads: nothing on stderr" "$(cat "$T/$way-threads.err")" ""
	expect_match "$way threads: all 4000 connects succeeded" "$out" '^connect ok=4000 fail=0$'
	expect_match "$way threads: getsockname shows only 127.0.0.2" "$out" '^client-local 127\.0\.0\.2=4000$'
	expect_match "$way threads: server saw only 127.0.0.2" "$out" '^server-peer 127\.0\.0\.2=4000$'
	expect_match "$way threads: no fd leaked" "$out" '^fds before=([0-9]+) after=\1$'
	expect_eq "$way threads: the shim logged every connect" \
		"$(grep -c " sockshim\\[[0-9]*\\] info connect .* rule=pin actions=source=127\\.0\\.0\\.2 rc=0\$" "$log")" "4000"

	out=$(asan $way 20 SOCKSHIM_LOG=none SOCKSHIM_POLICY="$pol" "$T/overflow" 2>&1)
	rc=$?
	expect_match "$way control: ASan is live and reports a heap overflow (exit $rc)" "$out" \
		'ERROR: AddressSanitizer: heap-buffer-overflow'
done

finish

# Socket calls made by another library's constructor, before (or around) the
# shim's own constructor (PITFALLS 1): the hooks must resolve libc themselves
# and load the policy lazily from the first hook.
#   early.so: a constructor that calls socket/setsockopt/connect/getsockname/
#   dup/close, and records whether the shim's log existed when it started
#   (i.e. whether the shim's constructor had run yet).
# Loaded three ways: LD_PRELOAD="early.so shim", LD_PRELOAD="shim early.so"
# and as a DT_NEEDED dependency of a program preloaded with the shim.
# Each time: no crash, no hang (timeout), exit 0, the server (bare) sees the
# pinned source 127.0.0.2 for the constructor's connect, getsockname agrees,
# and the log has exactly one start line.
. "$TOP/tests/lib.sh"
before_tsan_init "another library's constructor"

PORT=9500
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done' EXIT

cat > "$T/early.c" <<'EOF'
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writes "early ..." lines to $EARLY_OUT (stdio is fine in a constructor). */
__attribute__((constructor)) static void early_init(void)
{
	const char *out = getenv("EARLY_OUT"), *log = getenv("EARLY_LOG");
	const char *port = getenv("EARLY_PORT");
	if (!out || !port)
		return;
	FILE *f = fopen(out, "a");
	if (!f)
		return;
	struct stat st;
	fprintf(f, "early shim-log-existed=%d\n", log && stat(log, &st) == 0 && st.st_size > 0);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	int so = setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)atoi(port));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	errno = 0;
	int rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
	int e = errno;
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	memset(&me, 0, sizeof(me));
	getsockname(fd, (struct sockaddr *)&me, &len);
	char ip[INET_ADDRSTRLEN] = "?";
	inet_ntop(AF_INET, &me.sin_addr, ip, sizeof(ip));
	int d = dup(fd);
	int c1 = close(d), c2 = close(fd);
	fprintf(f, "early fd=%d setsockopt=%d connect rc=%d errno=%s local=%s close=%d,%d\n", fd, so, rc,
		rc < 0 ? strerrorname_np(e) : "0", ip, c1, c2);
	fclose(f);
}
EOF
cc -Wall -Werror -shared -fPIC -o "$T/early.so" "$T/early.c" || { not_ok "build early.so"; finish; }

cat > "$T/needs-early.c" <<'EOF'
#include <stdio.h>
int main(void) { puts("main ran"); return 0; }
EOF
# --no-as-needed: keep the DT_NEEDED entry although main uses nothing from it
cc -o "$T/needs-early" "$T/needs-early.c" -L"$T" -Wl,--no-as-needed -l:early.so -Wl,-rpath,"$T" ||
	{ not_ok "build needs-early"; finish; }
check "needs-early has early.so as DT_NEEDED" sh -c "readelf -d '$T/needs-early' | grep -q 'NEEDED.*early.so'"

pol=$(policy pin.ini <<EOF
[global]
log = file:$T/LOGFILE
log_level = info

[pin]
on = connect
addr = 127.0.0.1
port = $PORT
source = 127.0.0.2
EOF
)

# run_case NAME LD_PRELOAD COMMAND...: one server, one run, the checks.
run_case() {
	name=$1 pre=$2; shift 2
	log=$T/$name.log
	sed "s|$T/LOGFILE|$log|" "$pol" > "$T/$name.ini"
	rm -f "$log" "$T/$name.out"
	"$BUILD/tests/rob_server" 127.0.0.1 $PORT 1 10 > "$T/$name.srv" &
	spid=$!; pids="$pids $spid"
	wait_port $PORT || { not_ok "$name: server up"; return; }
	# timeout and env stay outside the preload: only COMMAND runs with it
	timeout 10 env EARLY_OUT="$T/$name.out" EARLY_LOG="$log" EARLY_PORT=$PORT SOCKSHIM_POLICY="$T/$name.ini" \
		LD_PRELOAD="$pre" "$@" > "$T/$name.stdout" 2> "$T/$name.stderr"
	rc=$?
	wait $spid
	expect_eq "$name: exit status 0 (no crash, no hang)" "$rc" "0"
	expect_eq "$name: no 'cannot be preloaded' or other stderr" "$(cat "$T/$name.stderr")" ""
	out=$(cat "$T/$name.out" 2>/dev/null)
	expect_match "$name: constructor's connect succeeded" "$out" '^early fd=[0-9]+ setsockopt=0 connect rc=0 errno=0 '
	expect_match "$name: getsockname in the constructor shows 127.0.0.2" "$out" ' local=127\.0\.0\.2 close=0,0$'
	expect_match "$name: server saw the pinned source 127.0.0.2" "$(cat "$T/$name.srv")" '^peer 127\.0\.0\.2:[0-9]+$'
	expect_eq "$name: server saw exactly one connection" "$(grep -c '^peer ' "$T/$name.srv")" "1"
	expect_eq "$name: log has exactly one start line" "$(grep -c ' start ' "$log" 2>/dev/null)" "1"
	expect_match "$name: log has the pinned connect" "$(cat "$log" 2>/dev/null)" \
		"connect fd=[0-9]+ tcp 127\\.0\\.0\\.1:$PORT rule=pin actions=source=127\\.0\\.0\\.2 rc=0"
	echo "# $name: $(grep '^early shim-log' "$T/$name.out" 2>/dev/null)"
}

# The last preload's constructor runs first: here the shim's.
run_case preload-early-first "$T/early.so $SHIM" /bin/true
# Here early.so's constructor runs before the shim's: the lazy path.
run_case preload-shim-first "$SHIM $T/early.so" /bin/true
expect_match "shim-first: early.so's constructor ran before the shim's (lazy load exercised)" \
	"$(cat "$T/preload-shim-first.out")" '^early shim-log-existed=0$'
# A DT_NEEDED dependency is initialised before the preloaded shim too.
run_case dt-needed "$SHIM" "$T/needs-early"
expect_eq "dt-needed: main ran" "$(cat "$T/dt-needed.stdout")" "main ran"
expect_match "dt-needed: early.so's constructor ran before the shim's" \
	"$(cat "$T/dt-needed.out")" '^early shim-log-existed=0$'

# Same, with the log on stderr and the policy broken: the lazy load from the
# early constructor must still end the process with 78 and the message.
bad=$(policy bad.ini <<'EOF'
[x]
on = connect
bogus = 1
EOF
)
out=$(timeout 10 env EARLY_OUT="$T/bad.out" EARLY_PORT=$PORT SOCKSHIM_POLICY="$bad" LD_PRELOAD="$SHIM $T/early.so" /bin/true 2>&1)
rc=$?
expect_eq "broken policy, lazy load: exit 78" "$rc" "78"
expect_match "broken policy, lazy load: FILE:LINE message" "$out" "^sockshim: $bad:3: "

finish

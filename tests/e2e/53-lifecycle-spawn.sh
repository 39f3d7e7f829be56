# Chains of processes keep the policy (PITFALLS 26, 27; 56 covers a single
# fork, _Fork, vfork and posix_spawn from one parent). Here each link of a
# chain connects once (rob_chain): exec -> exec -> exec in one pid, a fork'd
# child that goes on to exec, fork+exec, vfork+exec, posix_spawn, and one
# long chain that mixes all of them with python3 and sh in between.
# For every chain:
#   - the whole chain exits 0 (each parent exits with its child's status);
#   - kernel truth: getsockname in every process shows the pinned 127.0.0.2,
#     and a bare server sees exactly that many connections, all from it;
#   - each exec'd image writes its own start line, with its own pid (the same
#     pid again after an exec) and program name: the multiset of (pid,
#     program) start lines equals the images the chain reports, so no exec
#     truncated the shared log and no fork'd child re-emitted a start line;
#   - each connect is logged once, under the pid of the process that made it;
#   - nothing else in the log (no torn or interleaved lines).
# And fork-during-load: a child forked (by another library's thread) while the
# parent is in the middle of loading the policy lazily must end up with the
# policy too, not pass through unpinned for the rest of its life: getsockname
# in parent and child, and the peers a bare server saw.
. "$TOP/tests/lib.sh"
# its checks that the shim ran read the start line of processes that log nothing else
export SOCKSHIM_LOG_START=always

PY=$(python3 -c 'import sys; print(sys.executable)')
PORT=9530
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done' EXIT

pol=$(policy pin.ini <<EOF
[pin]
on = connect
addr = 127.0.0.1
port = $PORT
source = 127.0.0.2
EOF
)

# chain NAME NCONN NIMAGES NPIDS STEP...: run rob_chain STEP... under the shim
# against a bare server expecting NCONN connections.
chain() {
	name=$1 nconn=$2 nimg=$3 npid=$4; shift 4
	log=$T/$name.log
	"$BUILD/tests/rob_server" 127.0.0.1 $PORT "$nconn" 15 > "$T/$name.srv" &
	spid=$!; pids="$pids $spid"
	wait_port $PORT || { not_ok "$name: server up"; return; }
	start=$(date +%s)
	out=$(timeout 20 env CHAIN_PY="$PY" SOCKSHIM_LOG=file:$log SOCKSHIM_POLICY="$pol" LD_PRELOAD="$SHIM" \
		"$BUILD/tests/rob_chain" $PORT "$@" 2>&1)
	rc=$?
	wait $spid
	echo "# $name ($*): $(($(date +%s) - start))s"
	srv=$(cat "$T/$name.srv")
	expect_eq "$name: the whole chain exits 0 (no crash, no hang)" "$rc" "0"
	expect_eq "$name: $nconn connects, each pinned to 127.0.0.2 (getsockname in each process)" \
		"$(printf '%s\n' "$out" | grep -c '^connect pid=[0-9]* local=127\.0\.0\.2:[0-9]*$')/$(printf '%s\n' "$out" | grep -c '^connect ')" \
		"$nconn/$nconn"
	expect_eq "$name: server saw $nconn connections, all from 127.0.0.2" \
		"$(printf '%s\n' "$srv" | grep -c '^peer 127\.0\.0\.2:')/$(printf '%s\n' "$srv" | grep -c '^peer ')" "$nconn/$nconn"
	images=$(printf '%s\n' "$out" | sed -n 's/^image pid=\([0-9]*\) prog=\(.*\)$/\1 \2/p' | sort)
	expect_eq "$name: $nimg images in $npid processes" \
		"$(printf '%s\n' "$images" | grep -c .)/$(printf '%s\n' "$images" | cut -d' ' -f1 | sort -u | grep -c .)" "$nimg/$npid"
	expect_eq "$name: one start line per exec'd image, with its pid and program" \
		"$(sed -n 's/.* sockshim\[\([0-9]*\)\] info start .* program=\([^ ]*\) .*/\1 \2/p' "$log" | sort)" "$images"
	expect_eq "$name: each connect logged once, pinned, under its own process's pid" \
		"$(sed -n "s/.* sockshim\\[\\([0-9]*\\)\\] info connect fd=[0-9]* tcp 127\\.0\\.0\\.1:$PORT rule=pin actions=source=127\\.0\\.0\\.2 rc=0\$/\\1/p" "$log" | sort)" \
		"$(printf '%s\n' "$out" | sed -n 's/^connect pid=\([0-9]*\) .*/\1/p' | sort)"
	expect_eq "$name: nothing else in the log" \
		"$(grep -v -e ' info start ' -e ' info connect ' -e ' info summary rule=pin ' "$log")" ""
}

# exec -> exec -> exec: four images, one pid, four start lines
chain exec-chain 4 4 1 exec exec exec
# a fork'd child connects in the parent's image, then exec's
chain fork-then-exec 3 2 2 fork exec
chain forkexec-chain 4 4 2 forkexec exec exec
chain vfork-exec 3 3 2 vfork exec
chain spawn-chain 4 4 2 spawn exec exec
# everything at once: 14 connects (rob_chain images, the fork'd copy, python),
# 14 images (sh connects nothing, the fork'd copy is no image), 5 processes
chain mixed 14 14 5 exec fork exec vfork exec spawn py exec sh exec forkexec exec
expect_match "mixed: python3 in the chain loaded the shim" "$(grep ' info start .*program=python3 ' "$log")" .
expect_match "mixed: sh in the chain loaded the shim" "$(grep ' info start .*program=sh ' "$log")" .

# A child forked while its parent is still loading the policy lazily (PITFALLS
# 1, 26). A library preloaded after the shim (its constructor runs before the
# shim's, as with the launcher, which prepends the shim) starts a thread, then
# connects: that first hook loads the policy. The thread forks while the load
# is under way, and the child connects once the parent is long done. To make
# "while the load is under way" certain rather than likely, the shim's log is
# a FIFO nobody has opened for reading yet, and the library's own open()
# (which the shim's calls reach, the library being preloaded after it) opens
# that one path without the O_NONBLOCK the shim asks for, so the loader blocks
# in open(2) of its log sink (the shim alone never blocks there: test 72):
# the thread waits until /proc/self/task/TID/syscall shows the loading thread
# inside openat, forks, and only then opens the FIFO.
cat > "$T/forkload.c" <<'EOF'
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int port;
static pid_t main_tid;
static const char *fifo;

static void say(const char *who, const char *what)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "%s pid=%d %s\n", who, (int)getpid(), what);
	if (write(1, line, (size_t)n) != n) {
	}
}

static void connect_once(const char *who)
{
	struct sockaddr_in a, me;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		say(who, "connect-failed");
		close(fd);
		return;
	}
	socklen_t len = sizeof(me);
	getsockname(fd, (struct sockaddr *)&me, &len);
	char ip[INET_ADDRSTRLEN], what[64];
	inet_ntop(AF_INET, &me.sin_addr, ip, sizeof(ip));
	snprintf(what, sizeof(what), "local=%s", ip);
	say(who, what);
	struct linger lg = { 1, 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* The shim's open() of its log FIFO, made blocking again: it waits for the
 * reader the forking thread opens. Every other open goes on unchanged. */
int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (flags & O_CREAT) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (fifo && strcmp(path, fifo) == 0)
		flags &= ~O_NONBLOCK;
	return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

/* Is the main thread blocked in openat (the shim opening its log FIFO)? */
static int main_in_openat(void)
{
	char path[64], buf[64] = "";
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)main_tid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return atoi(buf) == SYS_openat;
}

static void *forker(void *arg)
{
	(void)arg;
	int seen = 0;
	for (int i = 0; i < 500 && !(seen = main_in_openat()); i++)
		usleep(10000);
	pid_t pid = fork();
	if (pid == 0) {
		usleep(300000); /* the parent's load has long finished */
		connect_once("child");
		_exit(0);
	}
	say("fork", seen ? "during-load=1" : "during-load=0");
	/* a reader for the FIFO: the loader's open returns, the load finishes */
	int r = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	(void)r; /* stays open to the end: the few log lines fit in the pipe */
	int st;
	waitpid(pid, &st, 0);
	say("child-status", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "0" : "bad");
	return NULL;
}

__attribute__((constructor)) static void forkload_init(void)
{
	const char *p = getenv("EARLY_PORT");
	fifo = getenv("EARLY_FIFO");
	if (!p || !fifo)
		return;
	port = atoi(p);
	main_tid = gettid();
	pthread_t t;
	pthread_create(&t, NULL, forker, NULL);
	connect_once("parent"); /* the first hook: the shim loads its policy now */
	pthread_join(t, NULL);
}
EOF
cc -Wall -Werror -O2 -shared -fPIC -o "$T/forkload.so" "$T/forkload.c" -lpthread || { not_ok "build forkload.so"; finish; }

runs="1 2"
if ldd "$SHIM" | grep -q libtsan; then
	echo "# fork-during-load skipped under SANITIZE=thread: it runs the shim before TSan's runtime starts"
	runs=""
fi
for run in $runs; do
	rm -f "$T/log.fifo"
	mkfifo "$T/log.fifo"
	"$BUILD/tests/rob_server" 127.0.0.1 $PORT 2 10 > "$T/srv" &
	spid=$!; pids="$pids $spid"
	wait_port $PORT || { not_ok "fork-during-load $run: server up"; continue; }
	out=$(timeout 20 env EARLY_PORT=$PORT EARLY_FIFO="$T/log.fifo" SOCKSHIM_LOG="file:$T/log.fifo" \
		SOCKSHIM_POLICY="$pol" LD_PRELOAD="$SHIM $T/forkload.so" /bin/true 2>&1)
	rc=$?
	wait $spid
	expect_eq "fork-during-load $run: exit 0 (no hang)" "$rc" "0"
	expect_match "fork-during-load $run: the fork happened while the parent was loading" "$out" '^fork pid=[0-9]+ during-load=1$'
	expect_match "fork-during-load $run: the child exited 0" "$out" '^child-status pid=[0-9]+ 0$'
	expect_match "fork-during-load $run: parent's connect pinned (getsockname)" "$out" '^parent pid=[0-9]+ local=127\.0\.0\.2$'
	expect_match "fork-during-load $run: child's connect pinned (getsockname)" "$out" '^child pid=[0-9]+ local=127\.0\.0\.2$'
	expect_eq "fork-during-load $run: server saw 2 connections, both from 127.0.0.2" \
		"$(grep -c '^peer 127\.0\.0\.2:' "$T/srv")/$(grep -c '^peer ' "$T/srv")" "2/2"
done

finish

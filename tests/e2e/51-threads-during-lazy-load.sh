# Threads that connect while the policy is being loaded lazily. A library
# preloaded after the shim (so its constructor runs first: the launcher
# prepends the shim to LD_PRELOAD, PITFALLS 28) starts 8 threads in its
# constructor, and each makes 20 connects at once, while its own first
# connect triggers the shim's lazy load (PITFALLS 1). A policy of 1500 rules
# makes the load take a moment. A connect from another thread must wait for
# the policy rather than slip through unpinned (only a signal handler that
# interrupts the loading thread itself has to pass through).
# Kernel truth: getsockname of every connected socket, 3 runs.
. "$TOP/tests/lib.sh"
before_tsan_init "a constructor's threads"

PORT=9510
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done' EXIT

cat > "$T/early-threads.c" <<'EOF'
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static _Atomic int go, pinned, unpinned, failed;
static int port;

static void one(void)
{
	struct sockaddr_in a, me;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		failed++;
		close(fd);
		return;
	}
	socklen_t len = sizeof(me);
	getsockname(fd, (struct sockaddr *)&me, &len);
	if (me.sin_addr.s_addr == htonl(0x7f000002))
		pinned++;
	else
		unpinned++;
	struct linger lg = { 1, 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static void *thread_main(void *arg)
{
	(void)arg;
	while (!go) {
	}
	for (int i = 0; i < 20; i++)
		one();
	return NULL;
}

__attribute__((constructor)) static void early_threads(void)
{
	const char *p = getenv("EARLY_PORT");
	if (!p)
		return;
	port = atoi(p);
	pthread_t t[8];
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, thread_main, NULL);
	go = 1;
	one(); /* the first hook: the shim loads its policy now */
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	printf("early pinned=%d unpinned=%d failed=%d\n", pinned, unpinned, failed);
}
EOF
cc -Wall -Werror -O2 -shared -fPIC -o "$T/early-threads.so" "$T/early-threads.c" -lpthread || { not_ok "build"; finish; }

{
	printf '[global]\nlog = none\n\n'
	i=1
	while [ $i -le 1500 ]; do
		printf '[other-%d]\non = connect\naddr = 10.%d.0.0/16\nport = %d\ndeny = EACCES\n\n' $i $((i % 250)) $((20000 + i))
		i=$((i + 1))
	done
	printf '[pin]\non = connect\naddr = 127.0.0.1\nport = %d\nsource = 127.0.0.2\n' $PORT
} | policy big.ini > /dev/null

"$BUILD/tests/rob_server" 127.0.0.1 $PORT 1000 30 > /dev/null &
pids=$!
wait_port $PORT
for run in 1 2 3; do
	out=$(timeout 20 env EARLY_PORT=$PORT SOCKSHIM_POLICY="$T/big.ini" LD_PRELOAD="$SHIM $T/early-threads.so" /bin/true 2>&1)
	rc=$?
	expect_eq "run $run: exit 0 (no crash, no hang)" "$rc" "0"
	expect_match "run $run: all 161 connects pinned to 127.0.0.2, none slipped through" "$out" \
		'^early pinned=161 unpinned=0 failed=0$'
done

finish

/*
 * connrate: connection set-up rate over loopback.
 *
 *   connrate serve  ADDR PORT THREADS SECONDS
 *       listen on ADDR:PORT; THREADS threads accept and close at once. Prints
 *       "ready" once listening; stops on SIGTERM/SIGINT or after SECONDS.
 *   connrate client ADDR PORT THREADS SECONDS LO HI
 *       THREADS threads, for SECONDS: socket, connect, [getsockname], close.
 *       Prints one line:
 *         connects=N elapsed=S rate=R sampled=K inside=M failures=ERR:n,...
 *       Every 16th connection of each thread is sampled with getsockname;
 *       M of the K sampled had a source port inside LO-HI.
 *
 * TIME_WAIT: the client sets SO_LINGER {1, 0} before close, an abortive
 * close (RST), so no side keeps the 4-tuple in TIME_WAIT and a 1,000-port
 * window is reusable at once. The bare run and the shim run make exactly the
 * same calls (the setsockopt included); the only difference is what the shim
 * adds (its bind into the window). The server, run without the shim, is the
 * same process for both runs.
 */
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define SAMPLE_EVERY 16
#define MAX_THREADS 256
#define NERR 160

static struct sockaddr_in g_dst;
static unsigned g_lo, g_hi;
static atomic_int g_stop;
static pthread_barrier_t g_start;

struct worker {
	pthread_t tid;
	long connects, sampled, inside;
	long fail[NERR];
};

static void *client_thread(void *arg)
{
	struct worker *w = arg;
	const struct linger abortive = { 1, 0 };
	long n = 0;

	pthread_barrier_wait(&g_start);
	while (!atomic_load_explicit(&g_stop, memory_order_relaxed)) {
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0) {
			w->fail[errno < NERR ? errno : 0]++;
			continue;
		}
		if (connect(s, (struct sockaddr *)&g_dst, sizeof(g_dst)) < 0) {
			w->fail[errno < NERR ? errno : 0]++;
			close(s);
			continue;
		}
		if (++n % SAMPLE_EVERY == 0) {
			struct sockaddr_in me;
			socklen_t len = sizeof(me);
			if (getsockname(s, (struct sockaddr *)&me, &len) == 0) {
				unsigned port = ntohs(me.sin_port);
				w->sampled++;
				w->inside += port >= g_lo && port <= g_hi;
			}
		}
		setsockopt(s, SOL_SOCKET, SO_LINGER, &abortive, sizeof(abortive));
		close(s);
		/* count only what finished inside the timed interval */
		if (!atomic_load_explicit(&g_stop, memory_order_relaxed))
			w->connects++;
	}
	return NULL;
}

static int client(int nthreads, double seconds)
{
	static struct worker w[MAX_THREADS];
	pthread_barrier_init(&g_start, NULL, (unsigned)nthreads + 1);
	for (int i = 0; i < nthreads; i++) {
		if (pthread_create(&w[i].tid, NULL, client_thread, &w[i]) != 0) {
			fprintf(stderr, "connrate: pthread_create failed\n");
			return 1;
		}
	}
	pthread_barrier_wait(&g_start);
	double t0 = bench_now();
	struct timespec ts = { (time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9) };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	atomic_store(&g_stop, 1);
	double elapsed = bench_now() - t0;
	long connects = 0, sampled = 0, inside = 0, fail[NERR] = { 0 };
	for (int i = 0; i < nthreads; i++) {
		pthread_join(w[i].tid, NULL);
		connects += w[i].connects;
		sampled += w[i].sampled;
		inside += w[i].inside;
		for (int e = 0; e < NERR; e++)
			fail[e] += w[i].fail[e];
	}

	printf("connects=%ld elapsed=%.3f rate=%.0f sampled=%ld inside=%ld failures=", connects, elapsed,
	       (double)connects / elapsed, sampled, inside);
	int any = 0;
	for (int e = 0; e < NERR; e++) {
		if (fail[e]) {
			printf("%s%s:%ld", any ? "," : "", e ? bench_errname(e) : "other", fail[e]);
			any = 1;
		}
	}
	printf("%s\n", any ? "" : "none");
	return 0;
}

static int g_listener;
static atomic_long g_accepted;

static void *serve_thread(void *arg)
{
	(void)arg;
	for (;;) {
		int c = accept4(g_listener, NULL, NULL, SOCK_CLOEXEC);
		if (c >= 0) {
			close(c);
			atomic_fetch_add_explicit(&g_accepted, 1, memory_order_relaxed);
		} else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			usleep(1000);
		}
	}
	return NULL;
}

static volatile sig_atomic_t g_sig;

static void on_signal(int sig)
{
	g_sig = sig;
}

static int serve(int nthreads, double seconds)
{
	int one = 1;
	g_listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (g_listener < 0 || setsockopt(g_listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(g_listener, (struct sockaddr *)&g_dst, sizeof(g_dst)) < 0 || listen(g_listener, 1 << 20) < 0) {
		fprintf(stderr, "connrate: listen: %s\n", bench_errname(errno));
		return 1;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (int i = 0; i < nthreads; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, serve_thread, NULL) != 0) {
			fprintf(stderr, "connrate: pthread_create failed\n");
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);
	double deadline = bench_now() + seconds;
	while (!g_sig && bench_now() < deadline)
		usleep(50000);
	printf("accepted %ld\n", atomic_load(&g_accepted));
	fflush(stdout);
	_exit(0); /* the accept threads are still blocked: do not wait for them */
}

int main(int argc, char **argv)
{
	bool is_client = argc == 8 && strcmp(argv[1], "client") == 0;
	bool is_server = argc == 6 && strcmp(argv[1], "serve") == 0;
	if (!is_client && !is_server) {
		fprintf(stderr, "usage: connrate serve ADDR PORT THREADS SECONDS\n"
				"       connrate client ADDR PORT THREADS SECONDS LO HI\n");
		return 2;
	}
	g_dst = bench_sin(argv[2], argv[3]);
	int nthreads = atoi(argv[4]);
	double seconds = atof(argv[5]);
	if (nthreads < 1 || nthreads > MAX_THREADS || seconds <= 0) {
		fprintf(stderr, "connrate: THREADS must be 1-%d and SECONDS > 0\n", MAX_THREADS);
		return 2;
	}
	if (is_server)
		return serve(nthreads, seconds);
	g_lo = (unsigned)atoi(argv[6]);
	g_hi = (unsigned)atoi(argv[7]);
	return client(nthreads, seconds);
}

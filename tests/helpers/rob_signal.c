/*
 * rob_signal: socket calls from signal handlers that interrupt threads which
 * are themselves inside socket calls (PITFALLS 30: the hooks must be
 * async-signal-safe).
 *
 *   rob_signal PORT SECONDS [WORKERS [INTERVAL_US]]
 *
 * Listens on 127.0.0.1:PORT (an accept thread drains the queue). For SECONDS:
 *   - WORKERS (default 4, at most 32) worker threads loop: socket, blocking
 *     connect, getsockname, close;
 *   - setitimer fires SIGALRM every INTERVAL_US (default 200) and a kicker
 *     thread sends SIGUSR1 to a worker every INTERVAL_US; both handlers do
 *     socket(SOCK_NONBLOCK), connect, getsockname, close, and keep errno
 *     intact.
 * Then prints:
 *   handler ok=N fail=N          (connect returned 0 or EINPROGRESS)
 *   worker ok=N fail=N
 *   errno NAME=N                 (each kind of failure)
 *   local IP=N ...               (getsockname of every connected socket)
 *   handler-local IP=N ...       (the same, of the handlers' sockets only)
 *   server-peer IP=N ...         (accept's peer address)
 *   errno-clobbered=N            (handlers that returned with errno changed)
 *   fds before=N after=N
 * and exits 0.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAXWORK 32
#define MAXIP 8

static int port, lfd;
static _Atomic int stop, server_stop;
static _Atomic long h_ok, h_fail, w_ok, w_fail, clobbered;
static _Atomic long errs[200];
/* lock-free tallies: the handlers update them too */
static _Atomic uint32_t local_ip[MAXIP], peer_ip[MAXIP], hlocal_ip[MAXIP];
static _Atomic long local_n[MAXIP], peer_n[MAXIP], hlocal_n[MAXIP];
static pthread_t workers[MAXWORK];
static int nwork = 4;
static long interval_us = 200;

static void tally(_Atomic uint32_t *ips, _Atomic long *n, uint32_t ip)
{
	for (int i = 0; i < MAXIP; i++) {
		uint32_t cur = atomic_load(&ips[i]);
		if (cur == 0) {
			uint32_t zero = 0;
			if (atomic_compare_exchange_strong(&ips[i], &zero, ip) || zero == ip) {
				atomic_fetch_add(&n[i], 1);
				return;
			}
			cur = zero;
		}
		if (cur == ip) {
			atomic_fetch_add(&n[i], 1);
			return;
		}
	}
}

static void tally_print(const char *label, _Atomic uint32_t *ips, _Atomic long *n)
{
	printf("%s", label);
	for (int i = 0; i < MAXIP && atomic_load(&ips[i]); i++) {
		struct in_addr a = { atomic_load(&ips[i]) };
		printf(" %s=%ld", inet_ntoa(a), atomic_load(&n[i]));
	}
	putchar('\n');
}

static struct sockaddr_in target(void)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static void note_local(int fd, int in_handler)
{
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	if (getsockname(fd, (struct sockaddr *)&me, &len) == 0) {
		tally(local_ip, local_n, me.sin_addr.s_addr);
		if (in_handler)
			tally(hlocal_ip, hlocal_n, me.sin_addr.s_addr);
	}
}

static void rst_close(int fd)
{
	struct linger lg = { 1, 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static void handler(int sig)
{
	(void)sig;
	const int sentinel = 4242;
	int saved = errno;
	if (atomic_load(&stop))
		return;
	errno = sentinel;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd >= 0) {
		struct sockaddr_in a = target();
		int rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
		int e = errno;
		if (rc == 0 || e == EINPROGRESS) {
			atomic_fetch_add(&h_ok, 1);
			note_local(fd, 1);
		} else {
			atomic_fetch_add(&h_fail, 1);
			atomic_fetch_add(&errs[e > 0 && e < 200 ? e : 0], 1);
		}
		rst_close(fd);
	} else {
		atomic_fetch_add(&h_fail, 1);
	}
	/* a successful close leaves errno alone: so must the shim */
	errno = sentinel;
	close(-1); /* EBADF */
	if (errno != EBADF)
		atomic_fetch_add(&clobbered, 1);
	errno = saved;
}

static void *worker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0) {
			atomic_fetch_add(&w_fail, 1);
			continue;
		}
		struct sockaddr_in a = target();
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
			atomic_fetch_add(&w_ok, 1);
			note_local(fd, 0);
		} else {
			int e = errno;
			atomic_fetch_add(&w_fail, 1);
			atomic_fetch_add(&errs[e > 0 && e < 200 ? e : 0], 1);
		}
		rst_close(fd);
	}
	return NULL;
}

static void *kicker(void *arg)
{
	(void)arg;
	struct timespec ts = { 0, interval_us * 1000 };
	for (unsigned i = 0; !atomic_load(&stop); i++) {
		pthread_kill(workers[i % (unsigned)nwork], SIGUSR1);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void *server(void *arg)
{
	(void)arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL); /* only the workers and main take signals */
	while (!atomic_load(&server_stop)) {
		struct pollfd p = { lfd, POLLIN, 0 };
		if (poll(&p, 1, 50) <= 0)
			continue;
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);
		int c = accept(lfd, (struct sockaddr *)&peer, &len);
		if (c < 0)
			continue;
		tally(peer_ip, peer_n, peer.sin_addr.s_addr);
		close(c);
	}
	return NULL;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 3;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: rob_signal PORT SECONDS [WORKERS [INTERVAL_US]]\n");
		return 2;
	}
	if (argc > 3)
		nwork = atoi(argv[3]);
	if (argc > 4)
		interval_us = atol(argv[4]);
	if (nwork < 1 || nwork > MAXWORK || interval_us < 1 || interval_us > 999999)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	port = atoi(argv[1]);
	double secs = atof(argv[2]);

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = target();
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 4096) < 0) {
		printf("listen-failed errno=%s\n", strerrorname_np(errno));
		return 1;
	}
	int before = count_fds();

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	pthread_t srv, kick;
	pthread_create(&srv, NULL, server, NULL);
	for (int i = 0; i < nwork; i++)
		pthread_create(&workers[i], NULL, worker, NULL);
	pthread_create(&kick, NULL, kicker, NULL);
	struct itimerval it = { { 0, interval_us }, { 0, interval_us } };
	setitimer(ITIMER_REAL, &it, NULL);

	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL); /* EINTR is fine */
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9 < secs);

	atomic_store(&stop, 1);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	pthread_join(kick, NULL);
	for (int i = 0; i < nwork; i++)
		pthread_join(workers[i], NULL);
	struct timespec settle = { 0, 200000000 };
	nanosleep(&settle, NULL); /* let the accept thread drain */
	atomic_store(&server_stop, 1);
	pthread_join(srv, NULL);
	int after = count_fds();

	printf("handler ok=%ld fail=%ld\n", atomic_load(&h_ok), atomic_load(&h_fail));
	printf("worker ok=%ld fail=%ld\n", atomic_load(&w_ok), atomic_load(&w_fail));
	for (int e = 0; e < 200; e++)
		if (atomic_load(&errs[e]))
			printf("errno %s=%ld\n", strerrorname_np(e) ? strerrorname_np(e) : "?", atomic_load(&errs[e]));
	tally_print("local", local_ip, local_n);
	tally_print("handler-local", hlocal_ip, hlocal_n);
	tally_print("server-peer", peer_ip, peer_n);
	printf("errno-clobbered=%ld\n", atomic_load(&clobbered));
	printf("fds before=%d after=%d\n", before, after);
	close(lfd);
	return 0;
}

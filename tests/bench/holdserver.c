/*
 * holdserver ADDR PORT HOLD SECONDS: listen on ADDR:PORT and hold every
 * accepted connection open (never read, never close) until SIGTERM/SIGINT or
 * SECONDS have passed. Prints "ready" once listening and "held N" when it
 * stops. HOLD is how many connections it must be able to hold: when
 * RLIMIT_NOFILE cannot be raised that far, accepted fds are parked as
 * in-flight SCM_RIGHTS files (see bench.h).
 *
 * It is the far end of the "connections to one destination" benchmark, so it
 * must never be the limit: it raises RLIMIT_NOFILE to fs.nr_open, asks for
 * the largest backlog (net.core.somaxconn caps it: the script raises that
 * inside its namespace) and drains the accept queue with accept4 whenever
 * epoll says the listener is readable.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: holdserver ADDR PORT HOLD SECONDS\n");
		return 2;
	}
	struct sockaddr_in sin = bench_sin(argv[1], argv[2]);
	long hold = atol(argv[3]);
	double deadline = bench_now() + atof(argv[4]);
	long nofile = bench_raise_nofile();
	bool parking = nofile < hold + 64;
	struct bench_park pk;
	bench_park_init(&pk);

	/* no SA_RESTART: a signal must interrupt epoll_wait */
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	int one = 1;
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(ls, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(ls, 1 << 20) < 0) {
		fprintf(stderr, "holdserver: listen: %s\n", bench_errname(errno));
		return 1;
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = ls };
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev) < 0) {
		fprintf(stderr, "holdserver: epoll: %s\n", bench_errname(errno));
		return 1;
	}
	printf("ready nofile=%ld parking=%s\n", nofile, parking ? "yes" : "no");
	fflush(stdout);

	long held = 0;
	int last_err = 0;
	while (!stop && bench_now() < deadline) {
		struct epoll_event got;
		int n = epoll_wait(ep, &got, 1, 200);
		if (n <= 0)
			continue;
		for (;;) {
			int c = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (c >= 0) {
				held++;
				if (parking && bench_park(&pk, c) < 0) {
					/* keep it open unparked; EMFILE will follow */
					fprintf(stderr, "holdserver: parking: %s after %ld\n", bench_errname(errno), held);
					parking = false;
				}
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != last_err) {
				/* EMFILE and the like: say so once; the client then stalls
				 * and its own time limit ends the run */
				last_err = errno;
				fprintf(stderr, "holdserver: accept4: %s after %ld\n", bench_errname(errno), held);
			}
			if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS)
				usleep(10000);
			break;
		}
	}
	printf("held %ld parked %ld pairs %d\n", held, pk.parked, pk.npairs);
	fflush(stdout);
	return 0;
}

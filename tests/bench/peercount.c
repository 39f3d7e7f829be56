/*
 * peercount: a loopback server that counts where its connections came from.
 *
 *   peercount ADDR PORT THREADS POOL_LO POOL_HI SECONDS
 *       listen on ADDR:PORT; THREADS threads accept4 each connection and
 *       close it when the client has closed its end (or sent anything). Prints "ready" once listening; on SIGTERM/SIGINT or after SECONDS
 *       takes what is left in the accept queue, prints one line and exits:
 *         accepted=N pool=K other=M addrs=D min=A max=B
 *       K of the N had a peer address (as accept4 reports it) inside
 *       POOL_LO-POOL_HI (IPv4, inclusive), M did not; D distinct pool
 *       addresses were seen, the least used A times, the most B.
 *
 * The listener has SO_LINGER {1, 0}, which accepted sockets inherit: each
 * close is abortive (RST), so neither end keeps the 4-tuple in TIME_WAIT
 * and a client making more connections than one source address has ports
 * (a bare run, from 127.0.0.1 alone) never runs out. The reset comes only
 * after the client's FIN: a client whose non-blocking connect reads
 * SO_ERROR later (Go's runtime) would see ECONNRESET from an earlier one.
 * Each thread has an epoll of its own holding the listener (EPOLLEXCLUSIVE)
 * and the connections it accepted. The backlog is the largest the kernel
 * takes (net.core.somaxconn caps it).
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define MAX_POOL 256

static int g_lfd;
static uint32_t g_lo, g_hi; /* host order */
static atomic_ulong g_accepted, g_other, g_by[MAX_POOL];

static void count(const struct sockaddr_in *peer)
{
	uint32_t a = ntohl(peer->sin_addr.s_addr);
	if (peer->sin_family == AF_INET && a >= g_lo && a <= g_hi)
		atomic_fetch_add_explicit(&g_by[a - g_lo], 1, memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&g_other, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&g_accepted, 1, memory_order_relaxed);
}

static void *acceptor(void *arg)
{
	(void)arg;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = g_lfd };
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, g_lfd, &ev) < 0) {
		fprintf(stderr, "peercount: epoll: %s\n", strerror(errno));
		exit(1);
	}
	struct epoll_event evs[64];
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd != g_lfd) {
				close(fd); /* the client's FIN (or data): reset it */
				continue;
			}
			for (;;) {
				struct sockaddr_in peer;
				socklen_t len = sizeof(peer);
				int c = accept4(g_lfd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
				if (c < 0) {
					if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
						usleep(1000);
					break;
				}
				count(&peer);
				struct epoll_event ce = { .events = EPOLLIN | EPOLLRDHUP, .data.fd = c };
				if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce) < 0)
					close(c);
			}
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: peercount ADDR PORT THREADS POOL_LO POOL_HI SECONDS\n");
		return 2;
	}
	struct sockaddr_in sin = bench_sin(argv[1], argv[2]);
	int threads = atoi(argv[3]);
	g_lo = ntohl(bench_sin(argv[4], "0").sin_addr.s_addr);
	g_hi = ntohl(bench_sin(argv[5], "0").sin_addr.s_addr);
	unsigned seconds = (unsigned)atoi(argv[6]);
	if (threads < 1 || threads > 64 || g_hi < g_lo || g_hi - g_lo >= MAX_POOL) {
		fprintf(stderr, "peercount: 1-64 threads, a pool of at most %d addresses\n", MAX_POOL);
		return 2;
	}
	bench_raise_nofile();

	/* the signals are taken by sigwait below, in this thread only */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	g_lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	struct linger lg = { 1, 0 };
	if (g_lfd < 0 || setsockopt(g_lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(g_lfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0 ||
	    bind(g_lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(g_lfd, 65535) < 0 ||
	    fcntl(g_lfd, F_SETFL, O_NONBLOCK) < 0) {
		fprintf(stderr, "peercount: listen: %s\n", strerror(errno));
		return 1;
	}
	for (int i = 0; i < threads; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, acceptor, NULL)) {
			fprintf(stderr, "peercount: cannot start a thread\n");
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);
	alarm(seconds);
	int sig;
	sigwait(&stop, &sig);
	/* what the client finished connecting may still wait in the queue */
	for (int round = 0; round < 2; round++) {
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);
		int c;
		while ((c = accept4(g_lfd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC)) >= 0) {
			count(&peer);
			close(c);
			len = sizeof(peer);
		}
		usleep(20000); /* an acceptor between its accept4 and its count */
	}

	unsigned long pool = 0, mn = 0, mx = 0, addrs = 0;
	for (uint32_t i = 0; i <= g_hi - g_lo; i++) {
		unsigned long c = atomic_load(&g_by[i]);
		if (!c)
			continue;
		pool += c;
		mn = addrs == 0 || c < mn ? c : mn;
		mx = c > mx ? c : mx;
		addrs++;
	}
	printf("accepted=%lu pool=%lu other=%lu addrs=%lu min=%lu max=%lu\n", atomic_load(&g_accepted), pool,
	       atomic_load(&g_other), addrs, mn, mx);
	fflush(stdout);
	_exit(0); /* the acceptors are blocked in accept4 */
}

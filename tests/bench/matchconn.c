/*
 * matchconn: connections over loopback, one after another in one thread,
 * either as a program under the shim writes them (the shim adds its source
 * pinning) or with the shim's system calls written out by hand, so the two
 * can be compared call for call.
 *
 *   matchconn MODE N DST PORT SRC LO HI
 *
 * The program listens on DST:PORT itself and accepts each connection at
 * once. One connection is, by MODE:
 *   plain   socket, connect, accept4, close (accepted), close
 *   window  socket, setsockopt(SO_REUSEADDR, 1),
 *           getsockopt(SO_NETNS_COOKIE) (the socket's netns is the one
 *           whose ip_local_port_range was read),
 *           setsockopt(IP_BIND_ADDRESS_NO_PORT, 1), bind(SRC:0),
 *           setsockopt(IP_LOCAL_PORT_RANGE, p-p), connect, getsockname
 *           (the kernel used p), setsockopt(IP_LOCAL_PORT_RANGE, 0), accept4, close, close; p walks LO-HI in order from a random start, a taken
 *           port (EADDRNOTAVAIL at connect) is skipped on the same socket:
 *           what the shim does for `source = SRC`, `source_port = LO-HI`
 *           inside ip_local_port_range, `sockopt = SO_REUSEADDR=1`
 *           (src/act/actions.c, window_checked)
 *   noport  socket, setsockopt(SO_REUSEADDR, 1),
 *           setsockopt(IP_BIND_ADDRESS_NO_PORT, 1),
 *           setsockopt(IP_LOCAL_PORT_RANGE, 1-65535), bind(SRC:0), connect,
 *           accept4, close, close: what the shim does for `source = SRC`
 *           without source_port (src/act/actions.c, source_noport)
 *
 * The listener has SO_LINGER {1, 0}, which accepted sockets inherit, and
 * the accepted end is closed first: an abortive close (RST), so no 4-tuple
 * stays in TIME_WAIT and the window's ports are free again at once, with no
 * extra system call per connection.
 *
 * N connections are timed after 300 untimed ones (none when N < 1000; the
 * same number for every larger N, so a count over N and 2N has its slope). The peer
 * address accept4 reports is checked: inside=K of the N had source address
 * SRC and, if LO > 0, a port inside LO-HI. Prints one line:
 *   mode=M n=N elapsed=S rate=R inside=K busy=B failures=F first_errno=E
 */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif

enum mode { PLAIN, WINDOW, NOPORT };

static enum mode g_mode;
static struct sockaddr_in g_dst, g_src;
static unsigned g_lo, g_hi, g_next;
static int g_listener;
static long g_inside, g_busy, g_fail;
static int g_first_errno;

static void failed(void)
{
	if (!g_fail++)
		g_first_errno = errno;
}

/* The hand-written source pinning; 0, or -1 (counted) */
static int pin(int s)
{
	const int one = 1;
	if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return -1;
	if (g_mode == NOPORT) {
		const uint32_t whole = 65535u << 16 | 1u;
		setsockopt(s, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		setsockopt(s, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &whole, sizeof(whole)); /* < 6.3: refused, as in the shim */
		struct sockaddr_in a = g_src;
		a.sin_port = 0;
		return bind(s, (struct sockaddr *)&a, sizeof(a));
	}
	struct sockaddr_in a = g_src;
	a.sin_port = 0;
	uint64_t cookie;
	socklen_t cl = sizeof(cookie);
	getsockopt(s, SOL_SOCKET, 71 /* SO_NETNS_COOKIE */, &cookie, &cl);
	setsockopt(s, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	return bind(s, (struct sockaddr *)&a, sizeof(a));
}

/* connect; for window, each port in turn offered alone to the kernel */
static int connect_pinned(int s)
{
	if (g_mode != WINDOW)
		return connect(s, (struct sockaddr *)&g_dst, sizeof(g_dst));
	unsigned n = g_hi - g_lo + 1;
	for (unsigned i = 0; i < n; i++) {
		uint32_t p = g_lo + (g_next++ % n);
		uint32_t range = p << 16 | p;
		if (setsockopt(s, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, sizeof(range)) < 0)
			return -1;
		const uint32_t none = 0;
		int rc = connect(s, (struct sockaddr *)&g_dst, sizeof(g_dst));
		int err = errno;
		if (rc == 0 || err != EADDRNOTAVAIL) {
			struct sockaddr_in got;
			socklen_t gl = sizeof(got);
			if (rc == 0 && (getsockname(s, (struct sockaddr *)&got, &gl) < 0 || ntohs(got.sin_port) != p))
				failed(); /* the kernel left the window */
			setsockopt(s, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &none, sizeof(none));
			errno = err;
			return rc;
		}
		g_busy++;
	}
	return -1;
}

static void one_connection(bool count)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		failed();
		return;
	}
	if ((g_mode != PLAIN && pin(s) < 0) || connect_pinned(s) < 0) {
		failed();
		close(s);
		return;
	}
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	int a = accept4(g_listener, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
	if (a < 0) {
		failed();
	} else {
		unsigned port = ntohs(peer.sin_port);
		if (count && peer.sin_addr.s_addr == g_src.sin_addr.s_addr && (!g_lo || (port >= g_lo && port <= g_hi)))
			g_inside++;
		close(a);
	}
	close(s);
}

int main(int argc, char **argv)
{
	if (argc != 8) {
		fprintf(stderr, "usage: matchconn plain|window|noport N DST PORT SRC LO HI\n");
		return 2;
	}
	g_mode = strcmp(argv[1], "window") == 0 ? WINDOW : strcmp(argv[1], "noport") == 0 ? NOPORT : PLAIN;
	if (g_mode == PLAIN && strcmp(argv[1], "plain") != 0) {
		fprintf(stderr, "matchconn: unknown MODE %s\n", argv[1]);
		return 2;
	}
	long n = atol(argv[2]);
	g_dst = bench_sin(argv[3], argv[4]);
	g_src = bench_sin(argv[5], "0");
	g_lo = (unsigned)atoi(argv[6]);
	g_hi = (unsigned)atoi(argv[7]);
	if (n < 1 || g_hi < g_lo || (g_mode == WINDOW && !g_lo)) {
		fprintf(stderr, "matchconn: bad N or LO-HI\n");
		return 2;
	}
	unsigned seed = 0;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (unsigned)getpid();
	g_next = seed; /* like the shim's cursor: a random start, then in order */

	const int one = 1;
	const struct linger abortive = { 1, 0 };
	g_listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (g_listener < 0 || setsockopt(g_listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(g_listener, SOL_SOCKET, SO_LINGER, &abortive, sizeof(abortive)) < 0 ||
	    bind(g_listener, (struct sockaddr *)&g_dst, sizeof(g_dst)) < 0 || listen(g_listener, 4096) < 0) {
		fprintf(stderr, "matchconn: listen on %s:%s: %s\n", argv[3], argv[4], bench_errname(errno));
		return 1;
	}

	long warm = n < 1000 ? 0 : 300;
	for (long i = 0; i < warm; i++)
		one_connection(false);
	double t0 = bench_now();
	for (long i = 0; i < n; i++)
		one_connection(true);
	double elapsed = bench_now() - t0;
	printf("mode=%s n=%ld elapsed=%.6f rate=%.0f inside=%ld busy=%ld failures=%ld first_errno=%s\n", argv[1], n,
	       elapsed, (double)n / elapsed, g_inside, g_busy, g_fail, bench_errname(g_fail ? g_first_errno : 0));
	return 0;
}

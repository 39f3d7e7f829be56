/*
 * wincap: how many connections a port window sustains towards several
 * destinations when TIME_WAIT stays on the client's side.
 *
 *   wincap serve BASEPORT N SECONDS
 *       listens on 127.0.0.1:BASEPORT..BASEPORT+N-1 (one epoll thread),
 *       answers each byte with one byte and closes only after the client
 *       has (so TIME_WAIT is the client's). Prints "ready".
 *   wincap client BASEPORT N SECONDS LO HI
 *       for SECONDS, one connection after another, to the N destinations in
 *       turn: socket, connect, write a byte, read the answer, close (first).
 *       A failed connect counts under its errno and waits 1 ms before the
 *       next (a spent window frees a 4-tuple once a TIME_WAIT expires or may
 *       be reused). Every connection's source port (getsockname) is checked
 *       against LO..HI. Prints
 *       total=N min=N max=N failures=ERRNO:N,... inside=N/N per=N,N,...
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXDEST 64

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct sockaddr_in dest(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int serve(int base, int n, double secs)
{
	int ep = epoll_create1(0), one = 1;
	for (int i = 0; i < n; i++) {
		int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		struct sockaddr_in a = dest(base + i);
		setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 4096) < 0) {
			perror("listen");
			return 1;
		}
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)l << 1 | 1 };
		epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	}
	printf("ready\n");
	fflush(stdout);
	double end = now() + secs;
	while (now() < end) {
		struct epoll_event evs[64];
		int k = epoll_wait(ep, evs, 64, 200);
		for (int i = 0; i < k; i++) {
			int fd = (int)(evs[i].data.u64 >> 1);
			if (evs[i].data.u64 & 1) {
				int c;
				while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)c << 1 };
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				}
				continue;
			}
			char b[16];
			ssize_t r = read(fd, b, sizeof(b));
			if (r > 0) {
				if (write(fd, b, 1) < 0)
					close(fd);
			} else if (r == 0 || errno != EAGAIN) {
				close(fd); /* the client closed first */
			}
		}
	}
	return 0;
}

static int client(int base, int n, double secs, int lo, int hi)
{
	long per[MAXDEST] = { 0 }, fails[256] = { 0 }, total = 0, inside = 0, sampled = 0;
	double end = now() + secs;
	for (unsigned long i = 0; now() < end; i++) {
		int d = (int)(i % (unsigned long)n);
		struct sockaddr_in a = dest(base + d);
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0) {
			perror("socket");
			return 1;
		}
		if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
			fails[errno & 255]++;
			close(s);
			struct timespec ms = { 0, 1000000 };
			nanosleep(&ms, NULL);
			continue;
		}
		struct sockaddr_in me;
		socklen_t ml = sizeof(me);
		if (getsockname(s, (struct sockaddr *)&me, &ml) == 0) {
			sampled++;
			int p = ntohs(me.sin_port);
			inside += p >= lo && p <= hi;
		}
		char c = 'x';
		if (write(s, &c, 1) != 1 || read(s, &c, 1) != 1) {
			fails[EPIPE]++;
			close(s);
			continue;
		}
		close(s);
		per[d]++;
		total++;
	}
	long mn = per[0], mx = per[0];
	for (int d = 1; d < n; d++) {
		mn = per[d] < mn ? per[d] : mn;
		mx = per[d] > mx ? per[d] : mx;
	}
	printf("total=%ld min=%ld max=%ld failures=", total, mn, mx);
	const char *sep = "";
	for (int e = 0; e < 256; e++)
		if (fails[e]) {
			printf("%s%s:%ld", sep, e == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : e == EADDRINUSE ? "EADDRINUSE" : e == EPIPE ? "io" : strerror(e), fails[e]);
			sep = ",";
		}
	printf("%s inside=%ld/%ld per=", *sep ? "" : "none", inside, sampled);
	for (int d = 0; d < n; d++)
		printf("%s%ld", d ? "," : "", per[d]);
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && strcmp(argv[1], "serve") == 0)
		return serve(atoi(argv[2]), atoi(argv[3]), atof(argv[4]));
	if (argc >= 7 && strcmp(argv[1], "client") == 0 && atoi(argv[3]) > 0 && atoi(argv[3]) <= MAXDEST)
		return client(atoi(argv[2]), atoi(argv[3]), atof(argv[4]), atoi(argv[5]), atoi(argv[6]));
	fprintf(stderr, "usage: wincap serve BASEPORT N SECONDS | client BASEPORT N SECONDS LO HI\n");
	return 2;
}

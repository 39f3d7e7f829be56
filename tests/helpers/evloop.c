/*
 * evloop: non-blocking connects the way event-loop programs make them: the
 * socket is registered with the event loop BEFORE connect() (nginx adds it
 * to epoll first), then the loop waits for the outcome, bounded in time.
 *
 *   evloop epoll|poll|select N ADDR PORT [-d] [-r] [-t MS] [-f FILE]
 *   -r     SO_REUSEADDR before connect (many clients set it)
 *   -d     wait on a dup of the socket taken before connect (a second handle
 *          on the same open file, as a program that hands it to a thread)
 *   -t MS  how long to wait for each outcome (default 3000)
 *   -f F   append "IP PORT" (getsockname) of every connection made to F
 * Every socket stays open until the end, so each later connect meets the
 * 4-tuples of the earlier ones. Prints one line per connect:
 *   conn I ok PORT          the loop reported it and the socket is connected
 *   conn I err ERRNO        connect() or SO_ERROR gave a visible error
 *   conn I timeout          the loop never reported anything (a lost outcome)
 *   conn I lost             the loop reported "done" but the socket it watched
 *                           is not connected and has no error
 * then "ok=N err=N timeout=N lost=N".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXCONN 256

static const char *ename(int e)
{
	switch (e) {
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case EADDRINUSE: return "EADDRINUSE";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ECONNABORTED: return "ECONNABORTED";
	default: return strerror(e);
	}
}

/* Wait until fd is writable (or in error); 1 when reported, 0 on timeout. */
static int wait_out(const char *mode, int ep, int fd, int ms)
{
	if (strcmp(mode, "epoll") == 0) {
		struct epoll_event ev;
		int n;
		while ((n = epoll_wait(ep, &ev, 1, ms)) < 0 && errno == EINTR) {
		}
		return n > 0;
	}
	if (strcmp(mode, "poll") == 0) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int n;
		while ((n = poll(&p, 1, ms)) < 0 && errno == EINTR) {
		}
		return n > 0;
	}
	fd_set w, x;
	FD_ZERO(&w);
	FD_ZERO(&x);
	FD_SET(fd, &w);
	FD_SET(fd, &x);
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	return select(fd + 1, NULL, &w, &x, &tv) > 0;
}

int main(int argc, char **argv)
{
	if (argc < 5 || (strcmp(argv[1], "epoll") && strcmp(argv[1], "poll") && strcmp(argv[1], "select"))) {
		fprintf(stderr, "usage: evloop epoll|poll|select N ADDR PORT [-d] [-r] [-t MS] [-f FILE]\n");
		return 2;
	}
	const char *mode = argv[1], *portfile = NULL;
	int n = atoi(argv[2]), ms = 3000, usedup = 0, reuse = 0;
	for (int i = 5; i < argc; i++) {
		if (strcmp(argv[i], "-d") == 0)
			usedup = 1;
		else if (strcmp(argv[i], "-r") == 0)
			reuse = 1;
		else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
			ms = atoi(argv[++i]);
		else if (strcmp(argv[i], "-f") == 0 && i + 1 < argc)
			portfile = argv[++i];
	}
	if (n < 1 || n > MAXCONN)
		return 2;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[4])) };
	if (inet_pton(AF_INET, argv[3], &to.sin_addr) != 1)
		return 2;
	FILE *pf = portfile ? fopen(portfile, "a") : NULL;
	int nok = 0, nerr = 0, ntimeout = 0, nlost = 0;
	for (int i = 0; i < n; i++) {
		int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (s < 0) {
			perror("socket");
			return 1;
		}
		int one = 1;
		if (reuse)
			setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		int w = usedup ? dup(s) : s; /* the handle the loop watches */
		int ep = -1;
		if (strcmp(mode, "epoll") == 0) {
			ep = epoll_create1(EPOLL_CLOEXEC);
			struct epoll_event ev = { .events = EPOLLOUT, .data.fd = w };
			if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, w, &ev) < 0) {
				perror("epoll");
				return 1;
			}
		}
		int rc = connect(s, (struct sockaddr *)&to, sizeof(to));
		int err = rc < 0 ? errno : 0;
		if (rc < 0 && err != EINPROGRESS) {
			printf("conn %d err %s\n", i, ename(err));
			nerr++;
		} else if (rc < 0 && !wait_out(mode, ep, w, ms)) {
			printf("conn %d timeout\n", i);
			ntimeout++;
		} else {
			int soerr = 0;
			socklen_t l = sizeof(soerr);
			struct sockaddr_in peer, me;
			socklen_t pl = sizeof(peer), ml = sizeof(me);
			getsockopt(w, SOL_SOCKET, SO_ERROR, &soerr, &l);
			if (soerr) {
				printf("conn %d err %s\n", i, ename(soerr));
				nerr++;
			} else if (getpeername(w, (struct sockaddr *)&peer, &pl) < 0 ||
				   getsockname(w, (struct sockaddr *)&me, &ml) < 0) {
				printf("conn %d lost\n", i);
				nlost++;
			} else {
				printf("conn %d ok %u\n", i, ntohs(me.sin_port));
				if (pf) {
					char ip[INET_ADDRSTRLEN];
					inet_ntop(AF_INET, &me.sin_addr, ip, sizeof(ip));
					fprintf(pf, "%s %u\n", ip, ntohs(me.sin_port));
					fflush(pf);
				}
				nok++;
			}
		}
		if (ep >= 0)
			close(ep);
		if (w != s)
			close(w);
	}
	printf("ok=%d err=%d timeout=%d lost=%d\n", nok, nerr, ntimeout, nlost);
	if (pf)
		fclose(pf);
	return 0;
}

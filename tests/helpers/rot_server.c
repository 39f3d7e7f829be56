/*
 * rot_server: a loopback server for the rotation tests that reports what the
 * kernel says about each peer.
 *
 *   rot_server tcp|udp ADDR PORT PEERFILE [-c] [-s SECONDS]
 *
 * tcp: accepts with epoll and holds every connection open (-c: closes each
 *      at once), appending "IP PORT" per connection to PEERFILE.
 * udp: appends "IP PORT" per datagram and echoes the datagram back to its
 *      sender, so a client can tell whether the reply reached it.
 * Prints "ready" on stdout once listening; exits after SECONDS (default 60).
 * Raises RLIMIT_NOFILE as far as it may.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int peer_line(const struct sockaddr_storage *ss, char *out, size_t n)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		port = ntohs(in6->sin6_port);
	}
	return snprintf(out, n, "%s %u\n", ip, port);
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: rot_server tcp|udp ADDR PORT PEERFILE [-c] [-s SECONDS]\n");
		return 2;
	}
	int udp = strcmp(argv[1], "udp") == 0, close_each = 0, seconds = 60;
	for (int i = 5; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0)
			close_each = 1;
		else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			seconds = atoi(argv[++i]);
	}
	raise_nofile();
	struct sockaddr_storage ss;
	socklen_t len;
	memset(&ss, 0, sizeof(ss));
	if (strchr(argv[2], ':')) {
		struct sockaddr_in6 *in6 = (void *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((unsigned short)atoi(argv[3]));
		inet_pton(AF_INET6, argv[2], &in6->sin6_addr);
		len = sizeof(*in6);
	} else {
		struct sockaddr_in *in = (void *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = htons((unsigned short)atoi(argv[3]));
		inet_pton(AF_INET, argv[2], &in->sin_addr);
		len = sizeof(*in);
	}
	int ls = socket(ss.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK, 0);
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ls < 0 || bind(ls, (struct sockaddr *)&ss, len) < 0 || (!udp && listen(ls, 4096) < 0)) {
		perror("rot_server");
		return 1;
	}
	int out = open(argv[4], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = ls };
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	printf("ready\n");
	fflush(stdout);

	time_t end = time(NULL) + seconds;
	char line[128], buf[2048];
	while (time(NULL) < end) {
		struct epoll_event got;
		if (epoll_wait(ep, &got, 1, 200) <= 0)
			continue;
		for (;;) {
			struct sockaddr_storage peer;
			socklen_t pl = sizeof(peer);
			if (udp) {
				ssize_t n = recvfrom(ls, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &pl);
				if (n < 0)
					break;
				int k = peer_line(&peer, line, sizeof(line));
				if (write(out, line, (size_t)k) < 0)
					return 1;
				sendto(ls, buf, (size_t)n, 0, (struct sockaddr *)&peer, pl);
				continue;
			}
			int c = accept4(ls, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
			if (c < 0)
				break;
			int k = peer_line(&peer, line, sizeof(line));
			if (write(out, line, (size_t)k) < 0)
				return 1;
			if (close_each)
				close(c);
		}
	}
	return 0;
}

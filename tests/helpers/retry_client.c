/*
 * retry_client: connections whose socket carries many options, reporting
 * what the kernel says of each afterwards, for the tests of a source port
 * retried on a fresh socket (tests/e2e/95-seccomp-rotate.sh). Built with
 * gcc -static there, so only the seccomp front end can reach it.
 *
 *   retry_client [-k] [-e] [-6] [-n N] [-w S] ADDR PORT
 *   -k  non-blocking connect (then poll)     -e  without SOCK_CLOEXEC
 *   -6  AF_INET6 (ADDR is then an IPv6 address, e.g. ::1)
 *   -n  connections (1), all kept open until the end, then -w S seconds more
 *
 * Before each connect it sets SO_REUSEADDR, TCP_NODELAY, SO_KEEPALIVE,
 * SO_PRIORITY, SO_RCVBUF, SO_LINGER, SO_SNDTIMEO, TCP_KEEPIDLE,
 * TCP_USER_TIMEOUT, TCP_CONGESTION (reno) and IP_TOS or IPV6_TCLASS, reads
 * each back, and compares with what the kernel says after the connect.
 * One line per connection:
 *   conn fd=N rc=R errno=NAME local=IP:PORT replaced=0|1 cloexec=0|1
 *        nonblock=0|1 opts=ok|lost:NAME,... fds=N
 * replaced: the fd number names another socket (inode) after the connect
 * than before it; fds: open fds now, less those at the start, the
 * connections kept so far and this one (0: nothing leaked, nothing added).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

struct opt {
	const char *name;
	int level, optname;
	unsigned char val[16];
	socklen_t len;
	int fam; /* 4 or 6: for that family only; 0: both */
};

static const struct opt opts[] = {
	{ "SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR, { 1 }, 4, 0 },
	{ "TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY, { 1 }, 4, 0 },
	{ "SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE, { 1 }, 4, 0 },
	{ "SO_PRIORITY", SOL_SOCKET, SO_PRIORITY, { 3 }, 4, 0 },
	{ "SO_RCVBUF", SOL_SOCKET, SO_RCVBUF, { 0x00, 0x00, 0x01 }, 4, 0 },          /* 65536 */
	{ "SO_LINGER", SOL_SOCKET, SO_LINGER, { 1, 0, 0, 0, 5 }, 8, 0 },             /* on, 5 s */
	{ "SO_SNDTIMEO", SOL_SOCKET, SO_SNDTIMEO, { 3 }, 16, 0 },                    /* 3 s */
	{ "TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE, { 77 }, 4, 0 },
	{ "TCP_USER_TIMEOUT", IPPROTO_TCP, TCP_USER_TIMEOUT, { 0xa0, 0x0f }, 4, 0 }, /* 4000 */
	{ "TCP_CONGESTION", IPPROTO_TCP, TCP_CONGESTION, "reno", 5, 0 },
	{ "IP_TOS", IPPROTO_IP, IP_TOS, { 0x10 }, 4, 4 },
	{ "IPV6_TCLASS", IPPROTO_IPV6, IPV6_TCLASS, { 0x20 }, 4, 6 },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 3; /* ".", ".." and the DIR's own fd */
}

struct snap {
	unsigned char b[NOPTS][32];
	socklen_t len[NOPTS];
};

static void snapshot(int fd, int fam, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < NOPTS; i++) {
		s->len[i] = sizeof(s->b[i]);
		if ((opts[i].fam && opts[i].fam != fam) || getsockopt(fd, opts[i].level, opts[i].optname, s->b[i], &s->len[i]) < 0)
			s->len[i] = 0;
	}
}

static const char *errname(int e)
{
	switch (e) {
	case 0: return "0";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case EADDRINUSE: return "EADDRINUSE";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EINPROGRESS: return "EINPROGRESS";
	case ETIMEDOUT: return "ETIMEDOUT";
	default: return strerror(e);
	}
}

int main(int argc, char **argv)
{
	int c, nonblock = 0, cloexec = SOCK_CLOEXEC, fam = 4, n = 1, wait_s = 0;
	while ((c = getopt(argc, argv, "ke6n:w:")) != -1) {
		switch (c) {
		case 'k': nonblock = SOCK_NONBLOCK; break;
		case 'e': cloexec = 0; break;
		case '6': fam = 6; break;
		case 'n': n = atoi(optarg); break;
		case 'w': wait_s = atoi(optarg); break;
		default: return 2;
		}
	}
	if (argc - optind != 2)
		return 2;
	struct sockaddr_storage to;
	socklen_t tolen;
	memset(&to, 0, sizeof(to));
	if (fam == 6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&to;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((unsigned short)atoi(argv[optind + 1]));
		if (inet_pton(AF_INET6, argv[optind], &a->sin6_addr) != 1)
			return 2;
		tolen = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&to;
		a->sin_family = AF_INET;
		a->sin_port = htons((unsigned short)atoi(argv[optind + 1]));
		if (inet_pton(AF_INET, argv[optind], &a->sin_addr) != 1)
			return 2;
		tolen = sizeof(*a);
	}
	int base = count_fds(), kept = 0;
	for (int k = 0; k < n; k++) {
		int fd = socket(fam == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | cloexec | nonblock, 0);
		if (fd < 0) {
			perror("socket");
			return 1;
		}
		for (size_t i = 0; i < NOPTS; i++)
			if (!opts[i].fam || opts[i].fam == fam)
				setsockopt(fd, opts[i].level, opts[i].optname, opts[i].val, opts[i].len);
		struct snap before, after;
		snapshot(fd, fam, &before);
		struct stat st0, st1;
		fstat(fd, &st0);
		int rc = connect(fd, (struct sockaddr *)&to, tolen), err = rc < 0 ? errno : 0;
		if (rc < 0 && err == EINPROGRESS) {
			struct pollfd p = { fd, POLLOUT, 0 };
			socklen_t l = sizeof(err);
			if (poll(&p, 1, 5000) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) == 0)
				rc = err ? -1 : 0;
			else
				err = ETIMEDOUT;
		}
		fstat(fd, &st1);
		snapshot(fd, fam, &after);
		char lost[256] = "";
		for (size_t i = 0; i < NOPTS; i++) {
			if (before.len[i] == after.len[i] && memcmp(before.b[i], after.b[i], before.len[i]) == 0)
				continue;
			strcat(lost, lost[0] ? "," : "lost:");
			strcat(lost, opts[i].name);
		}
		struct sockaddr_storage ss;
		socklen_t l = sizeof(ss);
		char ip[INET6_ADDRSTRLEN] = "?";
		unsigned port = 0;
		if (getsockname(fd, (struct sockaddr *)&ss, &l) == 0) {
			if (ss.ss_family == AF_INET6) {
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, ip, sizeof(ip));
				port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
			} else {
				inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, sizeof(ip));
				port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
			}
		}
		if (rc == 0)
			kept++;
		printf("conn fd=%d rc=%d errno=%s local=%s%s%s:%u replaced=%d cloexec=%d nonblock=%d opts=%s fds=%d\n", fd,
		       rc, errname(rc ? err : 0), fam == 6 ? "[" : "", ip, fam == 6 ? "]" : "", port,
		       st0.st_ino != st1.st_ino, (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0,
		       (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0, lost[0] ? lost : "ok", count_fds() - base - kept - (rc != 0));
		fflush(stdout);
		if (rc != 0)
			close(fd);
	}
	if (wait_s)
		sleep((unsigned)wait_s);
	return 0;
}

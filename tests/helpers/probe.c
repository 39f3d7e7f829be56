/*
 * probe: make socket calls as told on the command line and print what the
 * kernel reports, one line per step, for the end-to-end tests.
 *
 *   probe SOCKET STEP...
 *   SOCKET: tcp4 tcp6 udp4 udp6 (a new socket), or unix
 *   STEP:
 *     bind=ADDR:PORT       connect=ADDR:PORT     listen
 *     sendto=ADDR:PORT     sendmsg=ADDR:PORT     sendmmsg=ADDR:PORT,ADDR:PORT...
 *     fastopen=ADDR:PORT   (sendto with MSG_FASTOPEN)
 *     fastmmsg=ADDR:PORT   (sendmmsg of one message with MSG_FASTOPEN)
 *     nonblock             wait (poll for writability, then print SO_ERROR)
 *     poll                 (poll for writability, SO_ERROR left unread)
 *     disconnect           (connect to AF_UNSPEC)   fd (print the fd number)
 *     set=NAME:VALUE       get=NAME   (NAME: reuseaddr reuseport keepalive nodelay
 *                                      mark tos ttl rcvbuf v6only tclass priority
 *                                      portrange: VALUE and value LO-HI)
 *     name                 (getsockname)    peer (getpeername)
 *     accept               close            new=tcp4|tcp6|udp4|udp6 (switch to a new socket)
 *     repeat=N:STEP        (STEP N times, printing only failures and a count)
 *   ADDR: 127.0.0.1, [::1], [::ffff:127.0.0.1]
 *
 * Every step prints "STEP rc=R errno=NAME" and, where it reads something,
 * "value" fields. Exit status 0 always unless the arguments are bad (2).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int fd = -1;

static int parse_ep(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *port;
	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *e = strchr(s, ']');
		if (!e || e[1] != ':')
			return -1;
		snprintf(host, sizeof(host), "%.*s", (int)(e - s - 1), s + 1);
		port = e + 2;
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((unsigned short)atoi(port));
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return -1;
		*len = sizeof(*in6);
		return 0;
	}
	const char *c = strrchr(s, ':');
	if (!c)
		return -1;
	snprintf(host, sizeof(host), "%.*s", (int)(c - s), s);
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	in->sin_family = AF_INET;
	in->sin_port = htons((unsigned short)atoi(c + 1));
	if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
		return -1;
	*len = sizeof(*in);
	return 0;
}

static void print_ep(const char *label, const struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		printf(" %s=%s:%u", label, host, port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		printf(" %s=[%s]:%u", label, host, port);
	} else {
		printf(" %s=family%d", label, ss->ss_family);
	}
}

static const struct {
	const char *name;
	int level, opt;
} opts[] = {
	{ "reuseaddr", SOL_SOCKET, SO_REUSEADDR }, { "reuseport", SOL_SOCKET, SO_REUSEPORT },
	{ "keepalive", SOL_SOCKET, SO_KEEPALIVE }, { "mark", SOL_SOCKET, SO_MARK },
	{ "rcvbuf", SOL_SOCKET, SO_RCVBUF },       { "priority", SOL_SOCKET, SO_PRIORITY },
	{ "nodelay", IPPROTO_TCP, TCP_NODELAY },    { "keepidle", IPPROTO_TCP, TCP_KEEPIDLE },
	{ "tos", IPPROTO_IP, IP_TOS },              { "ttl", IPPROTO_IP, IP_TTL },
	{ "v6only", IPPROTO_IPV6, IPV6_V6ONLY },    { "tclass", IPPROTO_IPV6, IPV6_TCLASS },
	{ "freebind", IPPROTO_IP, IP_FREEBIND },
	{ "portrange", IPPROTO_IP, 51 /* IP_LOCAL_PORT_RANGE: (hi << 16) | lo */ },
};

static int find_opt(const char *name)
{
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (strcmp(opts[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int new_socket(const char *kind)
{
	if (strcmp(kind, "tcp4") == 0)
		return socket(AF_INET, SOCK_STREAM, 0);
	if (strcmp(kind, "tcp6") == 0)
		return socket(AF_INET6, SOCK_STREAM, 0);
	if (strcmp(kind, "udp4") == 0)
		return socket(AF_INET, SOCK_DGRAM, 0);
	if (strcmp(kind, "udp6") == 0)
		return socket(AF_INET6, SOCK_DGRAM, 0);
	if (strcmp(kind, "unix") == 0)
		return socket(AF_UNIX, SOCK_STREAM, 0);
	fprintf(stderr, "probe: unknown socket kind %s\n", kind);
	exit(2);
}

static void result(const char *step, long rc, int quiet)
{
	int e = errno;
	if (quiet && rc >= 0)
		return;
	printf("%s rc=%ld errno=%s", step, rc, rc < 0 ? strerrorname_np(e) : "0");
}

/* Run one step; returns the call's rc. */
static long step(const char *s, int quiet)
{
	struct sockaddr_storage ss;
	socklen_t len;
	const char *arg = strchr(s, '=');
	arg = arg ? arg + 1 : "";
	long rc = 0;
	char buf[1] = { 'x' };

	if (strncmp(s, "bind=", 5) == 0 || strncmp(s, "connect=", 8) == 0 || strncmp(s, "sendto=", 7) == 0 ||
	    strncmp(s, "sendmsg=", 8) == 0 || strncmp(s, "fastopen=", 9) == 0) {
		if (parse_ep(arg, &ss, &len) < 0) {
			fprintf(stderr, "probe: bad endpoint %s\n", arg);
			exit(2);
		}
		errno = 0;
		if (s[0] == 'b')
			rc = bind(fd, (struct sockaddr *)&ss, len);
		else if (s[0] == 'c')
			rc = connect(fd, (struct sockaddr *)&ss, len);
		else if (strncmp(s, "sendto", 6) == 0)
			rc = sendto(fd, buf, 1, 0, (struct sockaddr *)&ss, len);
		else if (s[0] == 'f')
			rc = sendto(fd, buf, 1, MSG_FASTOPEN, (struct sockaddr *)&ss, len);
		else {
			struct iovec iov = { buf, 1 };
			struct msghdr m = { .msg_name = &ss, .msg_namelen = len, .msg_iov = &iov, .msg_iovlen = 1 };
			rc = sendmsg(fd, &m, 0);
		}
		result(s, rc, quiet);
	} else if (strncmp(s, "sendmmsg=", 9) == 0) {
		struct sockaddr_storage addrs[16];
		struct mmsghdr v[16];
		struct iovec iov = { buf, 1 };
		unsigned n = 0;
		char copy[512];
		snprintf(copy, sizeof(copy), "%s", arg);
		for (char *tok = strtok(copy, ","); tok && n < 16; tok = strtok(NULL, ",")) {
			if (parse_ep(tok, &addrs[n], &len) < 0)
				exit(2);
			memset(&v[n], 0, sizeof(v[n]));
			v[n].msg_hdr.msg_name = &addrs[n];
			v[n].msg_hdr.msg_namelen = len;
			v[n].msg_hdr.msg_iov = &iov;
			v[n].msg_hdr.msg_iovlen = 1;
			n++;
		}
		rc = sendmmsg(fd, v, n, 0);
		result("sendmmsg", rc, quiet);
	} else if (strncmp(s, "fastmmsg=", 9) == 0) {
		struct iovec iov = { buf, 1 };
		if (parse_ep(arg, &ss, &len) < 0)
			exit(2);
		struct mmsghdr v = { .msg_hdr = { .msg_name = &ss, .msg_namelen = len, .msg_iov = &iov, .msg_iovlen = 1 } };
		rc = sendmmsg(fd, &v, 1, MSG_FASTOPEN);
		result(s, rc, quiet);
	} else if (strcmp(s, "listen") == 0) {
		rc = listen(fd, 128);
		result(s, rc, quiet);
	} else if (strcmp(s, "nonblock") == 0) {
		rc = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		result(s, rc, quiet);
	} else if (strcmp(s, "wait") == 0) {
		struct pollfd p = { fd, POLLOUT, 0 };
		rc = poll(&p, 1, 5000);
		int err = 0;
		socklen_t l = sizeof(err);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
		result(s, rc, quiet);
		printf(" so_error=%s", err ? strerrorname_np(err) : "0");
	} else if (strcmp(s, "poll") == 0) {
		struct pollfd p = { fd, POLLOUT, 0 };
		rc = poll(&p, 1, 5000);
		result(s, rc, quiet);
		printf(" revents=%s%s", (p.revents & POLLOUT) ? "OUT" : "", (p.revents & POLLERR) ? ",ERR" : "");
	} else if (strncmp(s, "set=", 4) == 0 || strncmp(s, "get=", 4) == 0) {
		char name[32];
		snprintf(name, sizeof(name), "%s", arg);
		char *colon = strchr(name, ':');
		if (colon)
			*colon = '\0';
		int i = find_opt(name);
		if (i < 0) {
			fprintf(stderr, "probe: unknown option %s\n", name);
			exit(2);
		}
		bool range = opts[i].opt == 51 && opts[i].level == IPPROTO_IP;
		unsigned lo = 0, hi = 0;
		if (range && colon)
			sscanf(colon + 1, "%u-%u", &lo, &hi);
		int v = range ? (int)(hi << 16 | lo) : colon ? atoi(colon + 1) : 0;
		socklen_t l = sizeof(v);
		if (s[0] == 's')
			rc = setsockopt(fd, opts[i].level, opts[i].opt, &v, sizeof(v));
		else
			rc = getsockopt(fd, opts[i].level, opts[i].opt, &v, &l);
		result(s, rc, quiet);
		if (s[0] == 'g' && rc == 0 && range)
			printf(" value=%u-%u", (unsigned)v & 0xffff, (unsigned)v >> 16);
		else if (s[0] == 'g' && rc == 0)
			printf(" value=%d", v);
	} else if (strcmp(s, "name") == 0 || strcmp(s, "peer") == 0) {
		len = sizeof(ss);
		memset(&ss, 0, sizeof(ss));
		rc = s[0] == 'n' ? getsockname(fd, (struct sockaddr *)&ss, &len) : getpeername(fd, (struct sockaddr *)&ss, &len);
		result(s, rc, quiet);
		if (rc == 0)
			print_ep(s[0] == 'n' ? "local" : "remote", &ss);
	} else if (strcmp(s, "accept") == 0) {
		len = sizeof(ss);
		rc = accept(fd, (struct sockaddr *)&ss, &len);
		result(s, rc, quiet);
		if (rc >= 0)
			print_ep("from", &ss);
	} else if (strcmp(s, "disconnect") == 0) {
		struct sockaddr unspec = { .sa_family = AF_UNSPEC };
		rc = connect(fd, &unspec, sizeof(unspec));
		result(s, rc, quiet);
	} else if (strcmp(s, "fd") == 0) {
		rc = fd;
		result(s, 0, quiet);
		printf(" value=%d", fd);
	} else if (strcmp(s, "close") == 0) {
		rc = close(fd);
		result(s, rc, quiet);
	} else if (strncmp(s, "new=", 4) == 0) {
		fd = new_socket(arg);
		rc = fd;
		result(s, rc < 0 ? -1 : 0, quiet);
	} else if (strncmp(s, "repeat=", 7) == 0) {
		int n = atoi(arg), bad = 0;
		const char *inner = strchr(arg, ':');
		if (!inner)
			exit(2);
		for (int i = 0; i < n; i++) {
			if (step(inner + 1, 1) < 0) {
				bad++;
				putchar('\n');
			}
		}
		printf("repeat n=%d failures=%d", n, bad);
	} else {
		fprintf(stderr, "probe: unknown step %s\n", s);
		exit(2);
	}
	if (!quiet)
		putchar('\n');
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: probe tcp4|tcp6|udp4|udp6|unix STEP...\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = new_socket(argv[1]);
	if (fd < 0) {
		printf("socket rc=-1 errno=%s\n", strerrorname_np(errno));
		return 0;
	}
	for (int i = 2; i < argc; i++)
		step(argv[i], 0);
	return 0;
}

/*
 * famgames: bind, connect and send with an address family other than the
 * socket's own, in the spellings the kernel still acts on (or refuses), for
 * the end-to-end tests. What happened is read back from the kernel.
 *
 *   famgames CASE PORT
 *
 * The sends and connects aim at 127.0.0.1:PORT, where a UDP receiver of
 * the probe's own waits; the binds take 0.0.0.0:PORT (or 127.0.0.1:PORT).
 * One line:
 *   CASE rc=N errno=NAME got=N port=N
 * got: datagrams the receiver has after the call (and, after a connect, a
 * send() on the connected socket); port: the socket's local port per
 * getsockname after a bind. CASEs are listed in main.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int port;
static int rx = -1;

static struct sockaddr_in v4(int family, uint32_t ip)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = (sa_family_t)family;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(ip);
	return a;
}

/* Datagrams waiting at the receiver, after a moment for loopback. */
static int received(void)
{
	char b[16];
	int n = 0;
	usleep(20000);
	while (n < 100 && recv(rx, b, sizeof(b), MSG_DONTWAIT) >= 0)
		n++;
	return n;
}

static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &l) < 0)
		return -1;
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
}

static int udp6(int v6only)
{
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	return fd;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	const char *c = argv[1];
	port = atoi(argv[2]);
	struct sockaddr_in lo = v4(AF_INET, INADDR_LOOPBACK), un = v4(AF_UNSPEC, INADDR_LOOPBACK);
	struct sockaddr_in any_un = v4(AF_UNSPEC, INADDR_ANY);
	rx = socket(AF_INET, SOCK_DGRAM, 0);
	if (strncmp(c, "bind", 4) != 0 && bind(rx, (struct sockaddr *)&lo, sizeof(lo)) < 0) {
		perror("receiver");
		return 2;
	}
	int fd = -1;
	long rc = -2;
	int err = 0, got = -1, lport = -1;
	struct iovec iov = { "x", 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (!strcmp(c, "udp4-unspec-sendto")) { /* udp_sendmsg: AF_UNSPEC is AF_INET */
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		rc = sendto(fd, "x", 1, 0, (struct sockaddr *)&un, sizeof(un));
	} else if (!strcmp(c, "udp4-unspec-sendmsg")) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		mh.msg_name = &un;
		mh.msg_namelen = sizeof(un);
		rc = sendmsg(fd, &mh, 0);
	} else if (!strcmp(c, "udp4-unspec-sendmmsg")) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		struct mmsghdr mm[2];
		memset(mm, 0, sizeof(mm));
		for (int i = 0; i < 2; i++) {
			mm[i].msg_hdr.msg_name = &un;
			mm[i].msg_hdr.msg_namelen = sizeof(un);
			mm[i].msg_hdr.msg_iov = &iov;
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		rc = sendmmsg(fd, mm, 2, 0);
	} else if (!strcmp(c, "udp4-unspec-short")) { /* EINVAL: shorter than a sockaddr_in */
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		rc = sendto(fd, "x", 1, 0, (struct sockaddr *)&un, 8);
	} else if (!strcmp(c, "udp6-inet-sendto")) { /* udpv6_sendmsg: an IPv4 send */
		fd = udp6(0);
		rc = sendto(fd, "x", 1, 0, (struct sockaddr *)&lo, sizeof(lo));
	} else if (!strcmp(c, "udp6-inet-sendmsg")) {
		fd = udp6(0);
		mh.msg_name = &lo;
		mh.msg_namelen = sizeof(lo);
		rc = sendmsg(fd, &mh, 0);
	} else if (!strcmp(c, "udp6only-inet-sendto")) { /* ENETUNREACH */
		fd = udp6(1);
		rc = sendto(fd, "x", 1, 0, (struct sockaddr *)&lo, sizeof(lo));
	} else if (!strcmp(c, "udp6-unspec-sendto")) { /* no destination: EDESTADDRREQ */
		fd = udp6(0);
		rc = sendto(fd, "x", 1, 0, (struct sockaddr *)&un, sizeof(un));
	} else if (!strcmp(c, "udp6-inet-connect")) { /* an IPv4 connect */
		fd = udp6(0);
		rc = connect(fd, (struct sockaddr *)&lo, sizeof(lo));
	} else if (!strcmp(c, "udp6only-inet-connect")) { /* EAFNOSUPPORT */
		fd = udp6(1);
		rc = connect(fd, (struct sockaddr *)&lo, sizeof(lo));
	} else if (!strcmp(c, "udp4-unspec-connect")) { /* a disconnect */
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		rc = connect(fd, (struct sockaddr *)&un, sizeof(un));
	} else if (!strcmp(c, "tcp4-unspec-connect")) { /* a disconnect */
		fd = socket(AF_INET, SOCK_STREAM, 0);
		rc = connect(fd, (struct sockaddr *)&un, sizeof(un));
	} else if (!strcmp(c, "tcp6-inet-connect")) { /* EINVAL: shorter than RFC 2133's */
		fd = socket(AF_INET6, SOCK_STREAM, 0);
		rc = connect(fd, (struct sockaddr *)&lo, sizeof(lo));
	} else if (!strcmp(c, "bind-tcp4-unspec-any") || !strcmp(c, "bind-udp4-unspec-any")) { /* inet_bind's compatibility case */
		fd = socket(AF_INET, c[5] == 't' ? SOCK_STREAM : SOCK_DGRAM, 0);
		rc = bind(fd, (struct sockaddr *)&any_un, sizeof(any_un));
	} else if (!strcmp(c, "bind-tcp4-unspec-lo")) { /* EAFNOSUPPORT: only with INADDR_ANY */
		fd = socket(AF_INET, SOCK_STREAM, 0);
		rc = bind(fd, (struct sockaddr *)&un, sizeof(un));
	} else if (!strcmp(c, "bind-tcp6-inet-any")) { /* EINVAL: shorter than RFC 2133's */
		fd = socket(AF_INET6, SOCK_STREAM, 0);
		struct sockaddr_in any = v4(AF_INET, INADDR_ANY);
		rc = bind(fd, (struct sockaddr *)&any, sizeof(any));
	} else if (!strcmp(c, "bind-tcp6-unspec-any")) { /* EAFNOSUPPORT */
		fd = socket(AF_INET6, SOCK_STREAM, 0);
		struct sockaddr_in6 a6;
		memset(&a6, 0, sizeof(a6));
		a6.sin6_port = htons((uint16_t)port);
		rc = bind(fd, (struct sockaddr *)&a6, sizeof(a6));
	} else {
		fprintf(stderr, "famgames: unknown case %s\n", c);
		return 2;
	}
	err = rc < 0 ? errno : 0;
	if (strncmp(c, "bind", 4) == 0) {
		lport = local_port(fd);
	} else {
		if (strstr(c, "connect") && rc == 0 && c[0] == 'u')
			send(fd, "y", 1, MSG_DONTWAIT);
		got = received();
	}
	printf("%s rc=%ld errno=%s got=%d port=%d\n", c, rc, err ? strerrorname_np(err) : "0", got, lport);
	return 0;
}

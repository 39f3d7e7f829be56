/*
 * accept_edge: accept and accept4 into an address buffer that ends where an
 * unmapped page begins, on a dual-stack listener, for the end-to-end tests.
 *
 *   accept_edge
 *
 * Listens on [::]:0 with IPV6_V6ONLY=0 and connects to it over IPv4, so the
 * peer is a v4-mapped sockaddr_in6 (28 bytes). Each accept gets a 16-byte
 * buffer (a sockaddr_in) placed at the very end of a page whose successor
 * is unmapped (mmap two pages, munmap the second), and *len = 16. The kernel
 * copies 16 bytes and sets *len = 28; reading past the 16 bytes faults.
 * Then the same with *len = 0 and a buffer at the edge, and with a NULL
 * buffer and length. One line per call:
 *   CALL rc=ok|-1 errno=NAME len=N family=F
 * Exit status 0 when every line was printed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *ename(int e)
{
	return e == 0 ? "0" : e == EFAULT ? "EFAULT" : e == EINVAL ? "EINVAL" : e == EAGAIN ? "EAGAIN" : strerror(e);
}

/* A client connects over IPv4; accept (or accept4) with the given buffer. */
static int one(const char *label, int lfd, int port, int use4, void *buf, socklen_t *lenp)
{
	int c = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	if (c < 0 || connect(c, (struct sockaddr *)&to, sizeof(to)) < 0) {
		printf("%s setup=connect errno=%s\n", label, ename(errno));
		return -1;
	}
	socklen_t in = lenp ? *lenp : 0;
	errno = 0;
	int a = use4 ? accept4(lfd, buf, lenp, SOCK_CLOEXEC) : accept(lfd, buf, lenp);
	int err = a < 0 ? errno : 0;
	int family = -1;
	if (a >= 0 && buf && lenp && *lenp >= 2 && in >= 2) {
		sa_family_t f;
		memcpy(&f, buf, sizeof(f)); /* the kernel wrote at least these bytes */
		family = f;
	}
	printf("%s rc=%s errno=%s len=%d family=%d\n", label, a >= 0 ? "ok" : "-1", ename(err),
	       lenp ? (int)*lenp : -1, family);
	fflush(stdout);
	if (a >= 0)
		close(a);
	close(c);
	return 0;
}

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || munmap(m + pg, (size_t)pg) < 0) {
		perror("mmap");
		return 1;
	}
	char *edge16 = m + pg - 16; /* 16 bytes, then the unmapped page */

	int l = socket(AF_INET6, SOCK_STREAM, 0);
	int off = 0;
	struct sockaddr_in6 any = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	socklen_t al = sizeof(any);
	if (l < 0 || setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0 ||
	    bind(l, (struct sockaddr *)&any, sizeof(any)) < 0 || listen(l, 8) < 0 ||
	    getsockname(l, (struct sockaddr *)&any, &al) < 0) {
		perror("listener");
		return 1;
	}
	int port = ntohs(any.sin6_port);

	socklen_t len = 16;
	if (one("accept-16-at-page-edge", l, port, 0, edge16, &len) < 0)
		return 1;
	len = 16;
	if (one("accept4-16-at-page-edge", l, port, 1, edge16, &len) < 0)
		return 1;
	len = 0;
	if (one("accept-0-at-page-edge", l, port, 0, m + pg, &len) < 0)
		return 1;
	/* the length itself at the page's end: 4 bytes, then nothing */
	socklen_t *lenedge = (socklen_t *)(m + pg - sizeof(socklen_t));
	*lenedge = 16;
	if (one("accept4-len-at-page-edge", l, port, 1, m + pg - 64, lenedge) < 0)
		return 1;
	if (one("accept-null", l, port, 0, NULL, NULL) < 0)
		return 1;
	return 0;
}

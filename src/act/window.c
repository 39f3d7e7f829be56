/*
 * window: the kernel's part in a source_port window (see window.h): probing
 * IP_LOCAL_PORT_RANGE and which ports it may pick, once at start-up, and
 * checking afterwards that a socket still lives where that was read and that
 * the kernel really connected from the port it was offered.
 */
#include "window.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "real.h"

#define RESERVED_MAX 32 /* reserved ranges kept; more: no window is checked */
#define NETNS_COOKIE 71 /* SO_NETNS_COOKIE (Linux 5.14) */

static struct {
	uint16_t lo, hi;                /* net.ipv4.ip_local_port_range */
	unsigned nres;
	uint16_t res[RESERVED_MAX][2];  /* net.ipv4.ip_local_reserved_ports */
	uint64_t netns;                 /* where they were read (0: unknown) */
} g_sys;
static _Atomic int g_usable; /* 1 once g_sys is filled and the option works */

/* Read a small /proc/sys file into buf (NUL-terminated); length or -1. */
static int read_sysctl(const char *path, char *buf, int size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int n = 0;
	while (n < size - 1) {
		ssize_t k = read(fd, buf + n, (size_t)(size - 1 - n));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (int)k;
	}
	close(fd);
	buf[n] = '\0';
	return n;
}

/* A decimal port at *s; advances s. -1 when there is none. */
static long port_at(const char **s)
{
	while (**s == ' ' || **s == '\t')
		(*s)++;
	if (**s < '0' || **s > '9')
		return -1;
	long v = 0;
	while (**s >= '0' && **s <= '9') {
		v = v * 10 + (**s - '0');
		if (v > 65535)
			return -1;
		(*s)++;
	}
	return v;
}

/* "a-b,c,..." into g_sys.res; false when it cannot be read or is too long. */
static bool parse_reserved(const char *s)
{
	g_sys.nres = 0;
	while (*s && *s != '\n') {
		long a = port_at(&s), b = a;
		if (a < 0)
			return false;
		if (*s == '-') {
			s++;
			if ((b = port_at(&s)) < a)
				return false;
		}
		if (g_sys.nres == RESERVED_MAX)
			return false;
		g_sys.res[g_sys.nres][0] = (uint16_t)a;
		g_sys.res[g_sys.nres][1] = (uint16_t)b;
		g_sys.nres++;
		if (*s == ',')
			s++;
		else if (*s && *s != '\n')
			return false;
	}
	return true;
}

void ss_window_probe(const struct ss_policy *p)
{
	bool any = false;
	for (unsigned i = 0; p && i < p->nrules; i++)
		any |= p->rules[i].has_source_port;
	atomic_store_explicit(&g_usable, 0, memory_order_relaxed);
	if (!any)
		return;
	int s = real_socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return;
	int err = errno;
	uint32_t whole = 65535u << 16 | 1u;
	bool works = real_setsockopt(s, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &whole, sizeof(whole)) == 0;
	socklen_t cl = sizeof(g_sys.netns);
	if (getsockopt(s, SOL_SOCKET, NETNS_COOKIE, &g_sys.netns, &cl) < 0 || cl != sizeof(g_sys.netns))
		g_sys.netns = 0;
	real_close(s);
	errno = err;
	char buf[512];
	const char *q = buf;
	if (!works || read_sysctl("/proc/sys/net/ipv4/ip_local_port_range", buf, sizeof(buf)) <= 0)
		return;
	long lo = port_at(&q), hi = port_at(&q);
	if (lo <= 0 || hi < lo)
		return;
	g_sys.lo = (uint16_t)lo;
	g_sys.hi = (uint16_t)hi;
	if (read_sysctl("/proc/sys/net/ipv4/ip_local_reserved_ports", buf, sizeof(buf)) < 0 || !parse_reserved(buf))
		return;
	atomic_store_explicit(&g_usable, 1, memory_order_release);
}

bool ss_window_checked(const struct ss_portset *w)
{
	if (!atomic_load_explicit(&g_usable, memory_order_acquire) || !w->n)
		return false;
	for (uint32_t i = 0; i < w->n; i++) {
		uint16_t lo = w->r[i].lo, hi = w->r[i].hi;
		if (lo < g_sys.lo || hi > g_sys.hi)
			return false;
		for (unsigned k = 0; k < g_sys.nres; k++)
			if (lo <= g_sys.res[k][1] && g_sys.res[k][0] <= hi)
				return false;
	}
	return true;
}

bool ss_window_checked_fd(const struct ss_portset *w, int fd)
{
	if (!ss_window_checked(w))
		return false;
	if (!g_sys.netns || fd < 0)
		return true; /* no cookie (or no socket yet): the connect is verified */
	uint64_t cookie = 0;
	socklen_t l = sizeof(cookie);
	int err = errno;
	bool same = getsockopt(fd, SOL_SOCKET, NETNS_COOKIE, &cookie, &l) == 0 && cookie == g_sys.netns;
	errno = err;
	return same;
}

void ss_window_distrust(void)
{
	atomic_store_explicit(&g_usable, 0, memory_order_release);
}

int ss_window_range(int fd, uint16_t lo, uint16_t hi)
{
	uint32_t v = (uint32_t)hi << 16 | lo;
	return real_setsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &v, sizeof(v));
}

/*
 * connstate: new attempt or repeat, from what the kernel says (see
 * connstate.h).
 */
#include "connstate.h"

#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

#include "actions.h"
#include "fdtab.h"
#include "peek.h"
#include "real.h"

/* The kernel's TCP_CLOSE (include/net/tcp_states.h); <netinet/tcp.h>, which
 * names it, has no tcpi_segs_out and cannot be included with <linux/tcp.h>. */
#define STATE_CLOSE 7

bool ss_tcp_connect_is_new(int fd)
{
	struct tcp_info ti;
	/* only up to the segment count: the kernel copies what fits */
	socklen_t l = (socklen_t)(offsetof(struct tcp_info, tcpi_segs_out) + sizeof(ti.tcpi_segs_out));
	int saved = errno;
	int rc = getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l);
	errno = saved;
	if (rc < 0 || l < (socklen_t)(offsetof(struct tcp_info, tcpi_segs_out) + sizeof(ti.tcpi_segs_out)))
		return rc < 0 || ti.tcpi_state == STATE_CLOSE;
	/* tcp_disconnect() zeroes the count; a failed attempt keeps its SYN */
	return ti.tcpi_state == STATE_CLOSE && ti.tcpi_segs_out == 0;
}

static void clear_bits(int fd, uint32_t bits)
{
	_Atomic uint32_t *p = fdtab_page(fd);
	if (p)
		atomic_fetch_and_explicit(&p[(unsigned)fd % FDTAB_PAGE_FDS], ~bits, memory_order_acq_rel);
}

bool ss_connect_is_repeat(int fd, uint32_t *ent)
{
	if (!ss_tcp_connect_is_new(fd))
		return true;
	*ent &= ~FD_CONNECTING;
	clear_bits(fd, FD_CONNECTING);
	return false;
}

void ss_udp_connect_noted(int fd, uint32_t e, int family, const struct sockaddr *addr, socklen_t len)
{
	if (family < 0) {
		sa_family_t f;
		family = len >= (socklen_t)sizeof(f) && peek(&f, addr, sizeof(f)) ? f : AF_INET;
	}
	if (family != AF_UNSPEC) {
		if (!(e & FD_BOUND))
			fdtab_or(fd, FD_BOUND);
	} else if ((e & FD_BOUND) && !ss_act_has_address(fd)) {
		/* a UDP disconnect gives back an address the socket only had
		 * from connect or send: a pinned source applies again */
		clear_bits(fd, FD_BOUND);
	}
}

bool ss_tcp_has_address_at(int fd, const struct sockaddr_storage *ss, socklen_t len, bool probe)
{
	struct ss_addr a;
	int saved = errno;
	bool bound = ss_addr_from_sockaddr(&a, (const struct sockaddr *)ss, len) && (a.port || !ss_addr_is_any(&a));
	if (probe && bound && ss_addr_is_any(&a) && ss_tcp_connect_is_new(fd)) {
		int level = IPPROTO_IP; /* for IPv6 sockets too */
		int old = 0, one = 1;
		socklen_t ol = sizeof(old);
		if (getsockopt(fd, level, IP_BIND_ADDRESS_NO_PORT, &old, &ol) == 0 &&
		    real_setsockopt(fd, level, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) == 0) {
			struct sockaddr_storage any;
			memset(&any, 0, sizeof(any));
			any.ss_family = ss->ss_family;
			socklen_t al = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
			bound = real_bind(fd, (struct sockaddr *)&any, al) < 0;
			real_setsockopt(fd, level, IP_BIND_ADDRESS_NO_PORT, &old, sizeof(old));
		}
	}
	errno = saved;
	return bound;
}

bool ss_tcp_has_address(int fd, bool probe)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int saved = errno;
	bool ok = getsockname(fd, (struct sockaddr *)&ss, &len) == 0;
	errno = saved;
	return ok && ss_tcp_has_address_at(fd, &ss, len, probe);
}

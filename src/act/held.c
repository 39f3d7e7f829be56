/*
 * held: the (port, destination) pairs this process holds from exact window
 * binds (see held.h), checked against the kernel before they are trusted.
 */
#include "held.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <string.h>

#include "addr.h"

#define HELD_SLOTS 1024u
#define HELD_PROBE 16u

/* valid:1 | fd:20 | port:16 | destination hash:27 */
static _Atomic uint64_t g_held[HELD_SLOTS];

#define E_VALID (1ull << 63)
#define E_FD(e) ((int)(((e) >> 43) & 0xfffff))
#define E_PORT(e) ((uint16_t)(((e) >> 27) & 0xffff))
#define E_HASH(e) ((uint32_t)((e) & 0x7ffffff))

/* The destination in one form (IPv4 and v4-mapped alike); false if none. */
static bool dest_of(struct ss_addr *d, const struct sockaddr *sa, socklen_t len)
{
	uint32_t v4;
	if (!sa || !ss_addr_from_sockaddr(d, sa, len))
		return false;
	if (d->family == 6 && ss_addr_v4_view(d, &v4)) {
		uint16_t port = d->port;
		memset(d, 0, sizeof(*d));
		d->family = 4;
		memcpy(d->ip, &v4, 4);
		d->port = port;
	}
	return true;
}

static uint32_t dest_hash(const struct ss_addr *d)
{
	uint32_t h = 2166136261u;
	unsigned n = d->family == 4 ? 4 : 16;
	for (unsigned i = 0; i < n; i++)
		h = (h ^ d->ip[i]) * 16777619u;
	h = (h ^ d->port) * 16777619u;
	return (h ^ d->family) & 0x7ffffff;
}

static uint32_t slot_of(uint16_t port, uint32_t hash)
{
	return (port * 2654435761u ^ hash) % HELD_SLOTS;
}

/* Is fd (per the kernel) a TCP socket on local port `port`, connecting or
 * connected? */
static bool live(int fd, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	struct ss_addr a;
	if (getsockname(fd, (struct sockaddr *)&ss, &l) < 0 || !dest_of(&a, (struct sockaddr *)&ss, l) || a.port != port)
		return false;
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) < 0)
		return false;
	return ti.tcpi_state != TCP_CLOSE && ti.tcpi_state != TCP_LISTEN;
}

/* Does fd hold port towards d: connecting (as recorded), or connected to d? */
static bool confirmed(int fd, uint16_t port, const struct ss_addr *d)
{
	if (!live(fd, port))
		return false;
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	struct ss_addr a;
	if (getpeername(fd, (struct sockaddr *)&ss, &l) < 0)
		return errno == ENOTCONN; /* SYN sent, no peer yet: recorded towards d */
	if (!dest_of(&a, (struct sockaddr *)&ss, l))
		return false;
	return a.family == d->family && a.port == d->port && memcmp(a.ip, d->ip, a.family == 4 ? 4 : 16) == 0;
}

void ss_held_add(int fd, uint16_t port, const struct sockaddr *to, socklen_t tolen)
{
	struct ss_addr d;
	if (fd < 0 || fd > 0xfffff || !dest_of(&d, to, tolen))
		return;
	int err = errno;
	uint32_t h = dest_hash(&d), base = slot_of(port, h);
	uint64_t e = E_VALID | (uint64_t)fd << 43 | (uint64_t)port << 27 | h;
	for (uint32_t i = 0; i < HELD_PROBE; i++) {
		_Atomic uint64_t *s = &g_held[(base + i) % HELD_SLOTS];
		uint64_t old = atomic_load_explicit(s, memory_order_relaxed);
		if (old == e)
			break; /* recorded already (the fd reused for the same pair) */
		if (old && live(E_FD(old), E_PORT(old)))
			continue; /* still in use: keep it */
		if (atomic_compare_exchange_strong_explicit(s, &old, e, memory_order_acq_rel, memory_order_relaxed))
			break;
	}
	errno = err;
}

bool ss_held_taken(uint16_t port, const struct sockaddr *to, socklen_t tolen)
{
	struct ss_addr d;
	if (!dest_of(&d, to, tolen))
		return false;
	int err = errno;
	uint32_t h = dest_hash(&d), base = slot_of(port, h);
	bool taken = false;
	for (uint32_t i = 0; i < HELD_PROBE && !taken; i++) {
		_Atomic uint64_t *s = &g_held[(base + i) % HELD_SLOTS];
		uint64_t e = atomic_load_explicit(s, memory_order_acquire);
		if (!e || E_PORT(e) != port || E_HASH(e) != h)
			continue;
		if (confirmed(E_FD(e), port, &d))
			taken = true;
		else
			atomic_compare_exchange_strong_explicit(s, &e, 0, memory_order_acq_rel, memory_order_relaxed);
	}
	errno = err;
	return taken;
}

/*
 * optread: read back the options a program set (see optread.h).
 *
 * Numbers rather than names for options that glibc's headers lack or that
 * have two spellings (the 64-bit time variants): the list is the contract
 * with the seccomp filter, which must let exactly these through.
 */
#include "optread.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

enum { ONLY_ANY, ONLY_TCP, ONLY_UDP };
enum conv {
	PLAIN,   /* set back the value read */
	BUF,     /* SO_SNDBUF/SO_RCVBUF: the kernel doubles what it is given */
};

struct item {
	int level, name;
	int alias;          /* another name for the same setting (0: none) */
	unsigned char len;  /* bytes read back */
	unsigned char only; /* ONLY_*: for which sockets the option does anything */
	unsigned char conv;
};

#define VMAX 16

/* The order is the order of the replay: an option that changes another
 * comes before it (IP_TOS sets a TCP socket's SO_PRIORITY too). */
static const struct item items[] = {
	{ IPPROTO_IP, 1, 0, 4, ONLY_ANY, PLAIN },    /* IP_TOS */
	/* SOL_SOCKET */
	{ SOL_SOCKET, 2, 0, 4, ONLY_ANY, PLAIN },    /* SO_REUSEADDR */
	{ SOL_SOCKET, 15, 0, 4, ONLY_ANY, PLAIN },   /* SO_REUSEPORT */
	{ SOL_SOCKET, 62, 25, 4, ONLY_ANY, PLAIN },  /* SO_BINDTOIFINDEX, SO_BINDTODEVICE */
	{ SOL_SOCKET, 1, 0, 4, ONLY_ANY, PLAIN },    /* SO_DEBUG */
	{ SOL_SOCKET, 5, 0, 4, ONLY_ANY, PLAIN },    /* SO_DONTROUTE */
	{ SOL_SOCKET, 6, 0, 4, ONLY_ANY, PLAIN },    /* SO_BROADCAST */
	{ SOL_SOCKET, 7, 32, 4, ONLY_ANY, BUF },     /* SO_SNDBUF, SO_SNDBUFFORCE */
	{ SOL_SOCKET, 8, 33, 4, ONLY_ANY, BUF },     /* SO_RCVBUF, SO_RCVBUFFORCE */
	{ SOL_SOCKET, 9, 0, 4, ONLY_ANY, PLAIN },    /* SO_KEEPALIVE */
	{ SOL_SOCKET, 10, 0, 4, ONLY_ANY, PLAIN },   /* SO_OOBINLINE */
	{ SOL_SOCKET, 11, 0, 4, ONLY_ANY, PLAIN },   /* SO_NO_CHECK */
	{ SOL_SOCKET, 12, 0, 4, ONLY_ANY, PLAIN },   /* SO_PRIORITY */
	{ SOL_SOCKET, 13, 0, 8, ONLY_ANY, PLAIN },   /* SO_LINGER (struct linger) */
	{ SOL_SOCKET, 16, 0, 4, ONLY_ANY, PLAIN },   /* SO_PASSCRED */
	{ SOL_SOCKET, 18, 0, 4, ONLY_ANY, PLAIN },   /* SO_RCVLOWAT */
	{ SOL_SOCKET, 20, 66, 16, ONLY_ANY, PLAIN }, /* SO_RCVTIMEO_OLD, _NEW (struct timeval) */
	{ SOL_SOCKET, 21, 67, 16, ONLY_ANY, PLAIN }, /* SO_SNDTIMEO_OLD, _NEW */
	{ SOL_SOCKET, 36, 0, 4, ONLY_ANY, PLAIN },   /* SO_MARK */
	{ SOL_SOCKET, 40, 0, 4, ONLY_ANY, PLAIN },   /* SO_RXQ_OVFL */
	{ SOL_SOCKET, 46, 0, 4, ONLY_ANY, PLAIN },   /* SO_BUSY_POLL */
	{ SOL_SOCKET, 47, 0, 8, ONLY_ANY, PLAIN },   /* SO_MAX_PACING_RATE (u64) */
	{ SOL_SOCKET, 49, 0, 4, ONLY_ANY, PLAIN },   /* SO_INCOMING_CPU */
	{ SOL_SOCKET, 60, 0, 4, ONLY_ANY, PLAIN },   /* SO_ZEROCOPY */
	{ SOL_SOCKET, 69, 0, 4, ONLY_ANY, PLAIN },   /* SO_PREFER_BUSY_POLL */
	{ SOL_SOCKET, 70, 0, 4, ONLY_ANY, PLAIN },   /* SO_BUSY_POLL_BUDGET */
	/* IPPROTO_IP (an IPv6 socket has them too, for IPv4-mapped traffic) */
	{ IPPROTO_IP, 15, 0, 4, ONLY_ANY, PLAIN },   /* IP_FREEBIND */
	{ IPPROTO_IP, 19, 0, 4, ONLY_ANY, PLAIN },   /* IP_TRANSPARENT */
	{ IPPROTO_IP, 24, 0, 4, ONLY_ANY, PLAIN },   /* IP_BIND_ADDRESS_NO_PORT */
	{ IPPROTO_IP, 51, 0, 4, ONLY_ANY, PLAIN },   /* IP_LOCAL_PORT_RANGE */
	{ IPPROTO_IP, 2, 0, 4, ONLY_ANY, PLAIN },    /* IP_TTL */
	{ IPPROTO_IP, 10, 0, 4, ONLY_ANY, PLAIN },   /* IP_MTU_DISCOVER */
	{ IPPROTO_IP, 11, 0, 4, ONLY_ANY, PLAIN },   /* IP_RECVERR */
	{ IPPROTO_IP, 8, 0, 4, ONLY_UDP, PLAIN },    /* IP_PKTINFO */
	{ IPPROTO_IP, 12, 0, 4, ONLY_UDP, PLAIN },   /* IP_RECVTTL */
	{ IPPROTO_IP, 13, 0, 4, ONLY_UDP, PLAIN },   /* IP_RECVTOS */
	{ IPPROTO_IP, 20, 0, 4, ONLY_UDP, PLAIN },   /* IP_RECVORIGDSTADDR */
	{ IPPROTO_IP, 32, 0, 4, ONLY_UDP, PLAIN },   /* IP_MULTICAST_IF (struct in_addr) */
	{ IPPROTO_IP, 33, 0, 4, ONLY_UDP, PLAIN },   /* IP_MULTICAST_TTL */
	{ IPPROTO_IP, 34, 0, 4, ONLY_UDP, PLAIN },   /* IP_MULTICAST_LOOP */
	{ IPPROTO_IP, 49, 0, 4, ONLY_UDP, PLAIN },   /* IP_MULTICAST_ALL */
	/* IPPROTO_IPV6 (IPv6 sockets only) */
	{ IPPROTO_IPV6, 26, 0, 4, ONLY_ANY, PLAIN }, /* IPV6_V6ONLY */
	{ IPPROTO_IPV6, 78, 0, 4, ONLY_ANY, PLAIN }, /* IPV6_FREEBIND */
	{ IPPROTO_IPV6, 75, 0, 4, ONLY_ANY, PLAIN }, /* IPV6_TRANSPARENT */
	{ IPPROTO_IPV6, 72, 0, 4, ONLY_ANY, PLAIN }, /* IPV6_ADDR_PREFERENCES */
	{ IPPROTO_IPV6, 16, 0, 4, ONLY_ANY, PLAIN }, /* IPV6_UNICAST_HOPS */
	{ IPPROTO_IPV6, 67, 0, 4, ONLY_ANY, PLAIN }, /* IPV6_TCLASS */
	{ IPPROTO_IPV6, 23, 0, 4, ONLY_ANY, PLAIN }, /* IPV6_MTU_DISCOVER */
	{ IPPROTO_IPV6, 25, 0, 4, ONLY_ANY, PLAIN }, /* IPV6_RECVERR */
	{ IPPROTO_IPV6, 70, 0, 4, ONLY_ANY, PLAIN }, /* IPV6_AUTOFLOWLABEL */
	{ IPPROTO_IPV6, 62, 0, 4, ONLY_UDP, PLAIN }, /* IPV6_DONTFRAG */
	{ IPPROTO_IPV6, 17, 0, 4, ONLY_UDP, PLAIN }, /* IPV6_MULTICAST_IF */
	{ IPPROTO_IPV6, 18, 0, 4, ONLY_UDP, PLAIN }, /* IPV6_MULTICAST_HOPS */
	{ IPPROTO_IPV6, 19, 0, 4, ONLY_UDP, PLAIN }, /* IPV6_MULTICAST_LOOP */
	{ IPPROTO_IPV6, 29, 0, 4, ONLY_UDP, PLAIN }, /* IPV6_MULTICAST_ALL */
	{ IPPROTO_IPV6, 49, 0, 4, ONLY_UDP, PLAIN }, /* IPV6_RECVPKTINFO */
	{ IPPROTO_IPV6, 51, 0, 4, ONLY_UDP, PLAIN }, /* IPV6_RECVHOPLIMIT */
	{ IPPROTO_IPV6, 66, 0, 4, ONLY_UDP, PLAIN }, /* IPV6_RECVTCLASS */
	{ IPPROTO_IPV6, 74, 0, 4, ONLY_UDP, PLAIN }, /* IPV6_RECVORIGDSTADDR */
	/* IPPROTO_TCP */
	{ IPPROTO_TCP, 1, 0, 4, ONLY_TCP, PLAIN },   /* TCP_NODELAY */
	{ IPPROTO_TCP, 2, 0, 4, ONLY_TCP, PLAIN },   /* TCP_MAXSEG */
	{ IPPROTO_TCP, 3, 0, 4, ONLY_TCP, PLAIN },   /* TCP_CORK */
	{ IPPROTO_TCP, 4, 0, 4, ONLY_TCP, PLAIN },   /* TCP_KEEPIDLE */
	{ IPPROTO_TCP, 5, 0, 4, ONLY_TCP, PLAIN },   /* TCP_KEEPINTVL */
	{ IPPROTO_TCP, 6, 0, 4, ONLY_TCP, PLAIN },   /* TCP_KEEPCNT */
	{ IPPROTO_TCP, 7, 0, 4, ONLY_TCP, PLAIN },   /* TCP_SYNCNT */
	{ IPPROTO_TCP, 8, 0, 4, ONLY_TCP, PLAIN },   /* TCP_LINGER2 */
	{ IPPROTO_TCP, 9, 0, 4, ONLY_TCP, PLAIN },   /* TCP_DEFER_ACCEPT */
	{ IPPROTO_TCP, 10, 0, 4, ONLY_TCP, PLAIN },  /* TCP_WINDOW_CLAMP */
	{ IPPROTO_TCP, 12, 0, 4, ONLY_TCP, PLAIN },  /* TCP_QUICKACK */
	{ IPPROTO_TCP, 13, 0, 16, ONLY_TCP, PLAIN }, /* TCP_CONGESTION (a name) */
	{ IPPROTO_TCP, 16, 0, 4, ONLY_TCP, PLAIN },  /* TCP_THIN_LINEAR_TIMEOUTS */
	{ IPPROTO_TCP, 18, 0, 4, ONLY_TCP, PLAIN },  /* TCP_USER_TIMEOUT */
	{ IPPROTO_TCP, 23, 0, 4, ONLY_TCP, PLAIN },  /* TCP_FASTOPEN */
	{ IPPROTO_TCP, 25, 0, 4, ONLY_TCP, PLAIN },  /* TCP_NOTSENT_LOWAT */
	{ IPPROTO_TCP, 30, 0, 4, ONLY_TCP, PLAIN },  /* TCP_FASTOPEN_CONNECT */
	{ IPPROTO_TCP, 34, 0, 4, ONLY_TCP, PLAIN },  /* TCP_FASTOPEN_NO_COOKIE */
	{ IPPROTO_TCP, 37, 0, 4, ONLY_TCP, PLAIN },  /* TCP_TX_DELAY */
	/* IPPROTO_UDP */
	{ IPPROTO_UDP, 1, 0, 4, ONLY_UDP, PLAIN },   /* UDP_CORK */
	{ IPPROTO_UDP, 101, 0, 4, ONLY_UDP, PLAIN }, /* UDP_NO_CHECK6_TX */
	{ IPPROTO_UDP, 102, 0, 4, ONLY_UDP, PLAIN }, /* UDP_NO_CHECK6_RX */
	{ IPPROTO_UDP, 103, 0, 4, ONLY_UDP, PLAIN }, /* UDP_SEGMENT */
	{ IPPROTO_UDP, 104, 0, 4, ONLY_UDP, PLAIN }, /* UDP_GRO */
};
#define NITEMS (sizeof(items) / sizeof(items[0]))

const int optread_levels[OPTREAD_NLEVELS] = { SOL_SOCKET, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, IPPROTO_UDP };

unsigned optread_names(int level, int *names, unsigned max)
{
	unsigned n = 0;
	for (size_t i = 0; i < NITEMS; i++) {
		if (items[i].level != level)
			continue;
		if (n < max)
			names[n++] = items[i].name;
		if (items[i].alias && n < max)
			names[n++] = items[i].alias;
	}
	return n;
}

static bool wanted(const struct item *it, bool v6, bool tcp)
{
	if (it->level == IPPROTO_IPV6 && !v6)
		return false;
	if (it->only == ONLY_TCP && !tcp)
		return false;
	if (it->only == ONLY_UDP && tcp)
		return false;
	return true;
}

/* One value read back: len 0 when the kernel would not say. */
struct val {
	unsigned char len;
	unsigned char b[VMAX];
};

static void read_one(int fd, const struct item *it, struct val *v)
{
	socklen_t l = it->len;
	memset(v, 0, sizeof(*v));
	if (getsockopt(fd, it->level, it->name, v->b, &l) == 0 && l > 0 && l <= VMAX)
		v->len = (unsigned char)l;
}

/* A fresh socket's values, per kind (v6 x tcp), read once. */
static struct fresh {
	_Atomic bool ready;
	struct val v[NITEMS];
} fresh[4];
static pthread_mutex_t fresh_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct fresh *fresh_of(bool v6, bool tcp)
{
	struct fresh *f = &fresh[(v6 ? 2 : 0) + (tcp ? 1 : 0)];
	if (atomic_load_explicit(&f->ready, memory_order_acquire))
		return f;
	pthread_mutex_lock(&fresh_lock);
	if (!atomic_load_explicit(&f->ready, memory_order_relaxed)) {
		int s = socket(v6 ? AF_INET6 : AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
		if (s < 0) {
			int e = errno;
			pthread_mutex_unlock(&fresh_lock);
			errno = e;
			return NULL;
		}
		for (size_t i = 0; i < NITEMS; i++)
			if (wanted(&items[i], v6, tcp))
				read_one(s, &items[i], &f->v[i]);
		close(s);
		atomic_store_explicit(&f->ready, true, memory_order_release);
	}
	pthread_mutex_unlock(&fresh_lock);
	return f;
}

int optread_diff(int fd, bool v6, bool tcp, optread_fn fn, void *ctx)
{
	const struct fresh *f = fresh_of(v6, tcp);
	if (!f)
		return -1;
	for (size_t i = 0; i < NITEMS; i++) {
		const struct item *it = &items[i];
		if (!wanted(it, v6, tcp) || !f->v[i].len)
			continue;
		struct val v;
		read_one(fd, it, &v);
		if (!v.len || (v.len == f->v[i].len && memcmp(v.b, f->v[i].b, v.len) == 0))
			continue;
		if (it->conv == BUF) {
			/* what was asked for, before doubling; the FORCE variant
			 * (CAP_NET_ADMIN) after it, for a value above the
			 * system's maximum: refused without the capability */
			int asked;
			memcpy(&asked, v.b, sizeof(asked));
			asked /= 2;
			fn(ctx, it->level, it->name, &asked, sizeof(asked));
			fn(ctx, it->level, it->alias, &asked, sizeof(asked));
			continue;
		}
		fn(ctx, it->level, it->name, v.b, v.len);
	}
	return 0;
}

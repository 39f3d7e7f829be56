/*
 * fdtab: what the shim knows about each file descriptor, lock-free.
 *
 * One 32-bit word per fd, filled when socket()/accept() create it, updated
 * by bind/connect/listen and cleared by close/close_range/closefrom. It lets
 * a pass-through call decide with no extra system call whether the fd is a
 * TCP/UDP socket at all. Pages of 1024 words are mapped on first use and
 * installed with compare-and-swap, so no lock and no malloc; fds beyond
 * FDTAB_MAX are simply unknown. A forked child inherits the table with its
 * fds, which is exactly right.
 */
#ifndef SOCKSHIM_FDTAB_H
#define SOCKSHIM_FDTAB_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define FDTAB_MAX (1024 * 1024)

/* An entry of 0 means "unknown": the shim has not seen this fd created. */
#define FD_KNOWN       0x0001u
#define FD_TCP         0x0002u
#define FD_UDP         0x0004u
#define FD_OTHER       0x0008u /* not an IPv4/IPv6 TCP/UDP socket: never touched */
#define FD_V6          0x0010u
#define FD_BOUND       0x0020u /* has a local address: bound, auto-bound or connected */
#define FD_APPBOUND    0x0040u /* the application called bind() itself */
#define FD_CONNECTING  0x0080u /* a TCP connect started: repeats pass straight through */
#define FD_LISTENING   0x0100u
#define FD_ADOPTED     0x0200u /* created before or outside the shim: state not known */
#define FD_LISTEN_SET  0x0400u /* FD_LISTEN_RULE holds the listen decision, made at bind */
#define FD_APPREUSE    0x0800u /* the application turned SO_REUSEADDR or SO_REUSEPORT on */
/* The rule (index + 1, 0 = none) that will decide listen(), from the address
 * the application passed to bind(): listen() itself passes none. */
#define FD_LISTEN_SHIFT 16
#define FD_LISTEN_RULE(e) ((e) >> FD_LISTEN_SHIFT)
/* SO_REUSEADDR / SO_REUSEPORT pinned by a rule: 2 bits each */
#define FD_LOCK_ON     1u
#define FD_LOCK_OFF    2u
#define FD_RA_SHIFT    12
#define FD_RP_SHIFT    14
#define FD_RA_MASK     (3u << FD_RA_SHIFT)
#define FD_RP_MASK     (3u << FD_RP_SHIFT)
/* Reserved: the log's own file or syslog fd (log.c). The hooks never make
 * this combination (FD_OTHER never goes with FD_ADOPTED), so an entry that
 * still holds it has not been closed or replaced where a hook could see. */
#define FD_LOGSINK     (FD_KNOWN | FD_OTHER | FD_ADOPTED)
/* Bits an accepted or dup'ed fd inherits. */
#define FD_INHERIT     (FD_KNOWN | FD_TCP | FD_UDP | FD_OTHER | FD_V6)

/* The table is pages of PAGE_FDS entries, made on first use; the look-ups
 * are inline: every hooked call makes one or two. */
#define FDTAB_PAGE_FDS 1024

extern __attribute__((visibility("hidden"))) _Atomic uint32_t *_Atomic fdtab_pages[FDTAB_MAX / FDTAB_PAGE_FDS];

/* The page holding fd, made if it is missing (NULL when out of range or
 * out of memory). */
_Atomic uint32_t *fdtab_make_page(int fd);

static inline _Atomic uint32_t *fdtab_page(int fd)
{
	if ((unsigned)fd >= FDTAB_MAX)
		return NULL;
	return atomic_load_explicit(&fdtab_pages[(unsigned)fd / FDTAB_PAGE_FDS], memory_order_acquire);
}

static inline uint32_t fdtab_get(int fd)
{
	_Atomic uint32_t *p = fdtab_page(fd);
	return p ? atomic_load_explicit(&p[(unsigned)fd % FDTAB_PAGE_FDS], memory_order_acquire) : 0;
}

static inline void fdtab_set(int fd, uint32_t v)
{
	_Atomic uint32_t *p = fdtab_page(fd);
	if (!p && v)
		p = fdtab_make_page(fd);
	if (p)
		atomic_store_explicit(&p[(unsigned)fd % FDTAB_PAGE_FDS], v, memory_order_release);
}

static inline void fdtab_or(int fd, uint32_t bits)
{
	_Atomic uint32_t *p = fdtab_page(fd);
	if (!p)
		p = fdtab_make_page(fd);
	if (p)
		atomic_fetch_or_explicit(&p[(unsigned)fd % FDTAB_PAGE_FDS], bits, memory_order_acq_rel);
}

static inline void fdtab_clear(int fd)
{
	fdtab_set(fd, 0);
}
/* The entry for a socket made with these socket() arguments. */
static inline uint32_t fdtab_classify(int domain, int type, int protocol)
{
	if (domain != AF_INET && domain != AF_INET6)
		return FD_KNOWN | FD_OTHER;
	uint32_t v6 = domain == AF_INET6 ? FD_V6 : 0;
	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (type == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP))
		return FD_KNOWN | FD_TCP | v6;
	if (type == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP))
		return FD_KNOWN | FD_UDP | v6;
	return FD_KNOWN | FD_OTHER;
}

/* The same for a socket the caller did not see made, as the kernel
 * describes it (SO_DOMAIN, SO_TYPE, SO_PROTOCOL); 0 with errno when it
 * cannot (ENOTSOCK: not a socket). */
uint32_t fdtab_ask_kernel(int fd);

/* The IPV6_V6ONLY of socket *(int *)fdp: 1, 0, or -1 when the kernel does
 * not say. errno is kept. (decide.h's v6only callback.) */
int fdtab_ask_v6only(void *fdp);

/* Clear fds first..last inclusive. */
void fdtab_clear_range(unsigned first, unsigned last);

#endif

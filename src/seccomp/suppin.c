/*
 * suppin: per-socket memory of the supervisor (see suppin.h).
 *
 * The supervisor keeps no per-fd table: what the preload learns by watching
 * socket()/bind()/close() is asked of the kernel on the duplicate instead
 * (SO_DOMAIN/SO_TYPE/SO_PROTOCOL, getsockname, TCP_INFO, the reuse flags).
 * The little it must remember across calls (reuse flags pinned by a rule
 * or by a UDP source it picked, a UDP socket it gave its address, the
 * address a program passed to a bind that was rewritten) is kept per
 * socket inode in `pins`.
 */
#include "suppin.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>

#include "fdtab.h"

#define PINS 1024
static struct pin pins[PINS];
static pthread_mutex_t pins_lock = PTHREAD_MUTEX_INITIALIZER;
/* Was anything ever pinned? Until then a lookup costs no fstat (a program
 * whose rules pin nothing, such as a TCP `source`, never fills the table). */
static _Atomic bool any_pin;

/*
 * TCP sockets the supervisor gave their address (a rule's source bound, or
 * its own connect), by inode, so that a connect repeated on one after a
 * failed attempt says skip=bound, as the preload does, and not app-bound.
 * Direct-mapped and lock-free: one atomic store per such connect, no slot
 * of `pins` taken (a slot per connection would push out the pins that
 * matter); a socket whose entry a later one took is logged app-bound, as
 * before (the skip itself is the same). Asked only of a TCP socket found
 * bound (pin_ours): a fresh socket costs no fstat for it.
 */
#define OURS 4096
static _Atomic uint64_t ours[OURS];
static _Atomic bool any_ours;

static size_t ours_slot(uint64_t ino)
{
	return (size_t)((ino * 0xC2B2AE3D27D4EB4Full) >> 52) % OURS;
}

uint64_t inode_of(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* Opaque sockets whose slot was taken by another: a socket whose bit is
 * set here may be one of them (a false positive only forgoes a retry). */
#define LOST_BITS 4096
static uint64_t lost_opaque[LOST_BITS / 64];

static size_t lost_bit(uint64_t ino)
{
	return (size_t)((ino * 0xC2B2AE3D27D4EB4Full) >> 52) % LOST_BITS;
}

/* ino's slot, or NULL; with make, a slot for it, empty when new. A socket
 * inode is not reused before about 2^32 others were made; a full table
 * forgets the slot's previous socket (its opaque mark goes to lost_opaque).
 * Call with pins_lock held. */
static struct pin *pin_slot(uint64_t ino, bool make)
{
	size_t h = (size_t)((ino * 0x9E3779B97F4A7C15ull) >> 54) % PINS;
	struct pin *empty = NULL;
	for (size_t k = 0; k < 8; k++) {
		struct pin *p = &pins[(h + k) % PINS];
		if (p->ino == ino)
			return p;
		if (p->ino == 0 && !empty)
			empty = p;
	}
	if (!make)
		return NULL;
	struct pin *p = empty ? empty : &pins[h];
	if (p->opaque)
		lost_opaque[lost_bit(p->ino) / 64] |= 1ull << (lost_bit(p->ino) % 64);
	memset(p, 0, sizeof(*p));
	p->ino = ino;
	return p;
}

struct pin pin_get(int fd)
{
	struct pin out = { 0 };
	if (!atomic_load_explicit(&any_pin, memory_order_acquire))
		return out;
	uint64_t ino = inode_of(fd);
	if (!ino)
		return out;
	pthread_mutex_lock(&pins_lock);
	struct pin *p = pin_slot(ino, false);
	if (p)
		out = *p;
	pthread_mutex_unlock(&pins_lock);
	return out;
}

bool pin_ours(int fd)
{
	if (!atomic_load_explicit(&any_ours, memory_order_relaxed))
		return false;
	uint64_t ino = inode_of(fd);
	return ino && atomic_load_explicit(&ours[ours_slot(ino)], memory_order_relaxed) == ino;
}

/*
 * Remember of fd what its entry ent says the supervisor did: the reuse
 * flags pinned, and whether a call carried out here gave it its address
 * (FD_BOUND in a learned entry without the program's bind): in `pins` for
 * UDP, in `ours` for TCP (pin_ours). app: the address the program passed to a
 * rewritten bind.
 */
void pin_put(int fd, uint32_t ent, const struct ss_addr *app, bool opaque)
{
	uint32_t locks = ent & (FD_RA_MASK | FD_RP_MASK);
	bool bound = (ent & (FD_UDP | FD_BOUND | FD_APPBOUND | FD_ADOPTED)) == (FD_UDP | FD_BOUND);
	bool tcp_ours = (ent & (FD_TCP | FD_BOUND | FD_APPBOUND | FD_ADOPTED)) == (FD_TCP | FD_BOUND);
	if (!locks && !bound && !app && !opaque && !tcp_ours)
		return;
	uint64_t ino = inode_of(fd);
	if (!ino)
		return;
	if (tcp_ours) {
		atomic_store_explicit(&ours[ours_slot(ino)], ino, memory_order_relaxed);
		atomic_store_explicit(&any_ours, true, memory_order_relaxed);
		if (!locks && !app && !opaque)
			return;
	}
	atomic_store_explicit(&any_pin, true, memory_order_release);
	pthread_mutex_lock(&pins_lock);
	struct pin *p = pin_slot(ino, true);
	if (locks)
		p->locks = locks;
	if (bound)
		p->bound = true;
	if (app) {
		p->has_app = true;
		p->app = *app;
	}
	if (opaque)
		p->opaque = true;
	pthread_mutex_unlock(&pins_lock);
}

/* May the socket carry an option optread cannot read back? */
bool pin_opaque(uint64_t ino)
{
	pthread_mutex_lock(&pins_lock);
	struct pin *p = pin_slot(ino, false);
	bool o = (p && p->opaque) || (lost_opaque[lost_bit(ino) / 64] >> (lost_bit(ino) % 64) & 1);
	pthread_mutex_unlock(&pins_lock);
	return o;
}

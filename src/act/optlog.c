/*
 * optlog: per-fd records of the application's socket options (see optlog.h).
 */
#include "optlog.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "fdtab.h"
#include "peek.h"
#include "real.h"

#define PAGE_FDS 64
#define NPAGES (FDTAB_MAX / PAGE_FDS)
#define DATA_MAX 248

enum { REC_UNKNOWN, REC_COMPLETE, REC_INCOMPLETE };

/*
 * A record changes owner with its fd number: one thread closes fd (forget),
 * another's socket() gets the number at once (start) and writes the data
 * anew. The kernel orders the two, but a race detector cannot see that; so
 * every hand-over goes through state, the record's owner word: each change
 * of owner is a read-modify-write on it (acquire: the new owner sees the
 * old one's writes done; release: the next one sees ours), and a writer
 * releases its data with a read-modify-write there once written.
 */
struct rec {
	_Atomic uint32_t used;   /* bytes of data reserved */
	_Atomic uint32_t state;  /* REC_*: the owner word */
	unsigned char data[DATA_MAX];
};

/* One recorded option: header, then len bytes padded to 4. */
struct entry {
	int32_t level, name;
	uint32_t len;
};

static struct rec *_Atomic pages[NPAGES];
static _Atomic bool enabled;

void optlog_enable(void)
{
	atomic_store(&enabled, true);
}

bool optlog_enabled(void)
{
	return atomic_load_explicit(&enabled, memory_order_relaxed);
}

static struct rec *rec_of(int fd, int create)
{
	if (fd < 0 || fd >= FDTAB_MAX)
		return NULL;
	unsigned i = (unsigned)fd / PAGE_FDS;
	struct rec *p = atomic_load_explicit(&pages[i], memory_order_acquire);
	if (!p && create) {
		void *m = mmap(NULL, PAGE_FDS * sizeof(struct rec), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return NULL;
		struct rec *expected = NULL;
		if (atomic_compare_exchange_strong_explicit(&pages[i], &expected, (struct rec *)m, memory_order_acq_rel,
							    memory_order_acquire)) {
			p = m;
		} else {
			munmap(m, PAGE_FDS * sizeof(struct rec));
			p = expected;
		}
	}
	return p ? &p[fd % PAGE_FDS] : NULL;
}

void optlog_start(int fd)
{
	if (!optlog_enabled())
		return;
	struct rec *r = rec_of(fd, 1);
	if (!r)
		return;
	atomic_exchange_explicit(&r->state, REC_UNKNOWN, memory_order_acq_rel); /* taken over */
	atomic_store_explicit(&r->used, 0, memory_order_relaxed);
	atomic_store_explicit(&r->state, REC_COMPLETE, memory_order_release);
}

void optlog_forget(int fd)
{
	struct rec *r = optlog_enabled() ? rec_of(fd, 0) : NULL;
	if (r)
		atomic_exchange_explicit(&r->state, REC_UNKNOWN, memory_order_acq_rel);
}

void optlog_copy(int from, int to)
{
	if (!optlog_enabled() || from == to)
		return;
	struct rec *src = rec_of(from, 0);
	if (!src || atomic_load_explicit(&src->state, memory_order_acquire) == REC_UNKNOWN) {
		optlog_forget(to);
		return;
	}
	struct rec *dst = rec_of(to, 1);
	if (!dst)
		return;
	uint32_t used = atomic_load_explicit(&src->used, memory_order_acquire);
	atomic_exchange_explicit(&dst->state, REC_UNKNOWN, memory_order_acq_rel); /* taken over */
	memcpy(dst->data, src->data, used);
	atomic_store_explicit(&dst->used, used, memory_order_relaxed);
	atomic_store_explicit(&dst->state, atomic_load(&src->state), memory_order_release);
}

/* Options whose value points at memory or names an fd: a replay later could
 * read freed memory or attach the wrong program. */
static bool replayable(int level, int name)
{
	if (level != SOL_SOCKET)
		return true;
	switch (name) {
	case 26: /* SO_ATTACH_FILTER */
	case 50: /* SO_ATTACH_BPF */
	case 51: /* SO_ATTACH_REUSEPORT_CBPF */
	case 52: /* SO_ATTACH_REUSEPORT_EBPF */
		return false;
	default:
		return true;
	}
}

void optlog_record(int fd, int level, int name, const void *val, socklen_t len)
{
	if (!optlog_enabled())
		return;
	struct rec *r = rec_of(fd, 0);
	if (!r || atomic_load_explicit(&r->state, memory_order_acquire) != REC_COMPLETE)
		return;
	if (!replayable(level, name) || len > DATA_MAX || (len && !val)) {
		atomic_exchange(&r->state, REC_INCOMPLETE);
		return;
	}
	uint32_t need = (uint32_t)sizeof(struct entry) + ((len + 3u) & ~3u);
	uint32_t at = atomic_load_explicit(&r->used, memory_order_relaxed);
	do {
		if (at + need > DATA_MAX) {
			atomic_exchange(&r->state, REC_INCOMPLETE);
			return;
		}
	} while (!atomic_compare_exchange_weak_explicit(&r->used, &at, at + need, memory_order_acq_rel, memory_order_relaxed));
	struct entry e = { level, name, len };
	memcpy(r->data + at, &e, sizeof(e));
	/* the kernel may have read fewer bytes than len: what it left may not be readable */
	if (len && !peek(r->data + at + sizeof(e), val, len))
		atomic_exchange(&r->state, REC_INCOMPLETE);
	else
		atomic_fetch_or_explicit(&r->state, 0, memory_order_release); /* the data is written */
}

bool optlog_replay(int fd, int newfd)
{
	struct rec *r = optlog_enabled() ? rec_of(fd, 0) : NULL;
	if (!r || atomic_load_explicit(&r->state, memory_order_acquire) != REC_COMPLETE)
		return false;
	uint32_t used = atomic_load_explicit(&r->used, memory_order_acquire);
	for (uint32_t at = 0; at + sizeof(struct entry) <= used;) {
		struct entry e;
		memcpy(&e, r->data + at, sizeof(e));
		if (e.len > DATA_MAX)
			break;
		real_setsockopt(newfd, e.level, e.name, r->data + at + sizeof(e), e.len);
		at += (uint32_t)sizeof(e) + ((e.len + 3u) & ~3u);
	}
	return true;
}

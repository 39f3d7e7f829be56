/*
 * hosttab: see hosttab.h.
 */
#include "hosttab.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define NAME_WORDS (SS_HOST_MAX / 8)

struct entry {
	_Atomic uint32_t seq;        /* odd while a writer is in the entry; 0: never used */
	_Atomic uint64_t stamp;      /* when it was written: the oldest goes */
	_Atomic uint64_t key[2];     /* the address, v4-mapped for IPv4 */
	_Atomic uint64_t name[NAME_WORDS];
};

static struct entry table[SS_HOSTTAB_BUCKETS][SS_HOSTTAB_WAYS];
static _Atomic uint64_t clock_now;

static void key_of(const struct ss_addr *a, uint64_t k[2])
{
	uint8_t b[16];
	if (a->family == 4) {
		memset(b, 0, 10);
		b[10] = b[11] = 0xff;
		memcpy(b + 12, a->ip, 4);
	} else {
		memcpy(b, a->ip, 16);
	}
	memcpy(&k[0], b, 8);
	memcpy(&k[1], b + 8, 8);
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static unsigned bucket_of(const uint64_t k[2])
{
	return (unsigned)mix(k[0] ^ mix(k[1])) & (SS_HOSTTAB_BUCKETS - 1);
}

/*
 * How long a reader waits for a writer to leave an entry. A writer is in an
 * entry for a few dozen stores, but it can be preempted there, and on a
 * loaded machine stay off the CPU for a scheduling period or more, so the
 * reader spins a little, then yields, and only gives up after WAIT_NS. The
 * bound is there for a writer that never comes back: a signal handler that
 * interrupted a write in its own thread and looks the address up (the
 * writer cannot run until the handler returns), or one that longjmps out
 * of the write. After the bound the entry counts as holding no name, as an
 * entry a fork caught half-written does: a `host` rule then does not match
 * that address until it is recorded again.
 */
#define SPINS 64
#define WAIT_NS 1000000000LL

static int64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t); /* vDSO; async-signal-safe */
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Copy entry e if it holds key k, into out. Waits while a writer is in e
 * (see WAIT_NS): an entry being rewritten is never reported as empty. */
static bool read_entry(struct entry *e, const uint64_t k[2], char *out)
{
	int64_t deadline = 0;
	for (unsigned tries = 0;; tries++) {
		if (tries >= SPINS) {
			int64_t t = now_ns();
			if (!deadline)
				deadline = t + WAIT_NS;
			else if (t > deadline)
				return false;
			sched_yield();
		}
		uint32_t s1 = atomic_load_explicit(&e->seq, memory_order_acquire);
		if (s1 == 0)
			return false;
		if (s1 & 1)
			continue;
		/* acquire loads of what the writer stored with release: a value
		 * from a write that began after s1 makes the seq load below see
		 * that write (no fences: the thread sanitizer does not model them) */
		bool same = atomic_load_explicit(&e->key[0], memory_order_acquire) == k[0] &&
			    atomic_load_explicit(&e->key[1], memory_order_acquire) == k[1];
		uint64_t w[NAME_WORDS];
		if (same)
			for (unsigned i = 0; i < NAME_WORDS; i++)
				w[i] = atomic_load_explicit(&e->name[i], memory_order_acquire);
		if (atomic_load_explicit(&e->seq, memory_order_relaxed) != s1)
			continue;
		if (!same)
			return false;
		memcpy(out, w, SS_HOST_MAX);
		out[SS_HOST_MAX - 1] = '\0';
		return true;
	}
}

bool ss_hosttab_used(void)
{
	return atomic_load_explicit(&clock_now, memory_order_relaxed) != 0;
}

bool ss_hosttab_get(const struct ss_addr *a, char out[static SS_HOST_MAX])
{
	if (!ss_hosttab_used())
		return false;
	uint64_t k[2];
	key_of(a, k);
	struct entry *b = table[bucket_of(k)];
	/* the newest entry for k wins, should a race have left two */
	uint64_t best = 0;
	char name[SS_HOST_MAX];
	bool found = false;
	for (unsigned i = 0; i < SS_HOSTTAB_WAYS; i++) {
		uint64_t st = atomic_load_explicit(&b[i].stamp, memory_order_relaxed);
		if ((!found || st > best) && read_entry(&b[i], k, name)) {
			memcpy(out, name, SS_HOST_MAX);
			best = st;
			found = true;
		}
	}
	return found;
}

void ss_hosttab_put(const struct ss_addr *a, const char *name)
{
	uint64_t k[2];
	key_of(a, k);
	struct entry *b = table[bucket_of(k)];
	uint64_t now = atomic_fetch_add_explicit(&clock_now, 1, memory_order_relaxed) + 1;
	/* the way holding k, else the oldest (never used ones first) */
	int pick = -1;
	uint64_t oldest = UINT64_MAX;
	for (unsigned i = 0; i < SS_HOSTTAB_WAYS; i++) {
		uint32_t s = atomic_load_explicit(&b[i].seq, memory_order_acquire);
		if (s && atomic_load_explicit(&b[i].key[0], memory_order_relaxed) == k[0] &&
		    atomic_load_explicit(&b[i].key[1], memory_order_relaxed) == k[1]) {
			pick = (int)i;
			break;
		}
		uint64_t st = s ? atomic_load_explicit(&b[i].stamp, memory_order_relaxed) : 0;
		if (st < oldest) {
			oldest = st;
			pick = (int)i;
		}
	}
	uint64_t w[NAME_WORDS] = { 0 };
	size_t n = strnlen(name, SS_HOST_MAX - 1);
	memcpy(w, name, n);
	for (unsigned t = 0; t < SS_HOSTTAB_WAYS; t++) {
		struct entry *e = &b[((unsigned)pick + t) % SS_HOSTTAB_WAYS];
		uint32_t s = atomic_load_explicit(&e->seq, memory_order_relaxed);
		if ((s & 1) || !atomic_compare_exchange_strong_explicit(&e->seq, &s, s + 1, memory_order_acquire, memory_order_relaxed))
			continue; /* another writer is in it: take the next */
		atomic_store_explicit(&e->key[0], k[0], memory_order_release);
		atomic_store_explicit(&e->key[1], k[1], memory_order_release);
		for (unsigned i = 0; i < NAME_WORDS; i++)
			atomic_store_explicit(&e->name[i], w[i], memory_order_release);
		atomic_store_explicit(&e->stamp, now, memory_order_relaxed);
		atomic_store_explicit(&e->seq, s + 2, memory_order_release);
		return;
	}
}

void ss_hosttab_reset(void)
{
	for (unsigned b = 0; b < SS_HOSTTAB_BUCKETS; b++)
		for (unsigned i = 0; i < SS_HOSTTAB_WAYS; i++) {
			atomic_store(&table[b][i].seq, 0);
			atomic_store(&table[b][i].stamp, 0);
		}
	atomic_store(&clock_now, 0);
}

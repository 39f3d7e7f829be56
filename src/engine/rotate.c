/*
 * rotate: atomic cursors over pools and windows (see rotate.h).
 */
#include "rotate.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include "fmt.h"

/* splitmix64: a cheap, well-mixed bijection of the counter. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

void ss_rotate_seed(struct ss_policy *p, uint64_t seed)
{
	for (unsigned i = 0; p && i < p->nrules; i++) {
		struct ss_rule_state *st = p->rules[i].state;
		if (st->cursor != st->local)
			continue; /* shared with the host: not this process's to move */
		st->seed = mix(seed ^ 0x5eed);
		atomic_store(&st->local[SS_CURSOR_ADDR], mix(seed ^ (2 * i)) >> 16);
		atomic_store(&st->local[SS_CURSOR_PORT], mix(seed ^ (2 * i + 1)) >> 16);
	}
}

/*
 * The shared cursors live in a System V shared memory segment rather than a
 * mapped file: a segment's size is fixed at creation, so nobody can shrink it
 * under a process that attached it (a truncated MAP_SHARED file raises
 * SIGBUS on the next access), and IPC_RMID only takes effect once the last
 * process detached. A segment removed and created again only splits the
 * processes between two cursors; every one still rotates inside its window.
 *
 * Layout: a header, then two cursors per rule (by rule index).
 */
struct shared {
	_Atomic uint64_t ident; /* which policy file and user: 0 until claimed */
	_Atomic uint64_t seed;
	_Atomic uint64_t cursor[][2];
};

/* The segment's key: the user and the policy file's device and inode, never
 * IPC_PRIVATE. Keys can collide; the header's ident tells them apart. */
static key_t share_key(uint64_t ident)
{
	uint32_t k = (uint32_t)(ident ^ (ident >> 32));
	return (key_t)(k ? k : 0x55e5);
}

const char *ss_rotate_share(struct ss_policy *p, uint64_t seed, char *where_out, unsigned where_size)
{
	bool wanted = false;
	for (unsigned i = 0; i < p->nrules; i++)
		wanted |= p->rules[i].rotate_host;
	if (!wanted)
		return NULL;

	uid_t me = geteuid();
	uint64_t ident = mix(mix(mix((uint64_t)me) ^ p->file_dev) ^ p->file_ino) | 1;
	key_t key = share_key(ident);
	struct fmt f;
	fmt_init(&f, where_out, where_size);
	fmt_str(&f, "System V shm key 0x");
	for (int sh = 28; sh >= 0; sh -= 4)
		fmt_char(&f, "0123456789abcdef"[((uint32_t)key >> sh) & 15]);
	if (!p->file_ino)
		return "the policy was not loaded from a file";

	size_t need = sizeof(struct shared) + (size_t)p->nrules * 2 * sizeof(uint64_t);
	size_t size = (need + 4095) & ~(size_t)4095;
	int id = shmget(key, size, IPC_CREAT | 0600);
	if (id < 0)
		return errno == EINVAL ? "the shared cursor segment is smaller than this policy needs"
				       : "cannot open the shared cursor segment";
	/* only a segment this user created and nobody else may touch: another
	 * user can hand one over (IPC_SET) but never be its creator */
	struct shmid_ds ds;
	if (shmctl(id, IPC_STAT, &ds) < 0 || ds.shm_perm.cuid != me || ds.shm_perm.uid != me ||
	    (ds.shm_perm.mode & 077) || ds.shm_segsz < need)
		return "the shared cursor segment is not a private one of this user";
	void *m = shmat(id, NULL, 0);
	if (m == (void *)-1)
		return "cannot attach the shared cursor segment";
	struct shared *sh = m;
	uint64_t zero = 0;
	if (!atomic_compare_exchange_strong(&sh->ident, &zero, ident) && zero != ident) {
		shmdt(m);
		return "the shared cursor segment belongs to another policy file";
	}
	zero = 0;
	atomic_compare_exchange_strong(&sh->seed, &zero, mix(seed) | 1);
	for (unsigned i = 0; i < p->nrules; i++) {
		struct ss_rule_state *rs = p->rules[i].state;
		if (!p->rules[i].rotate_host)
			continue;
		rs->cursor = sh->cursor[i];
		rs->seed = atomic_load(&sh->seed);
	}
	return NULL;
}

uint32_t ss_rotate_next(struct ss_rule_state *st, int which, uint32_t n, enum ss_rotate how, uint64_t *ticket)
{
	uint64_t c = atomic_fetch_add_explicit(&st->cursor[which], 1, memory_order_relaxed);
	if (ticket)
		*ticket = c;
	if (how == SS_ROTATE_RANDOM)
		c = mix(c ^ st->seed);
	return (uint32_t)(c % n);
}

static uint32_t gcd(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

uint32_t ss_rotate_stride(const struct ss_rule_state *st, uint64_t ticket, uint32_t n, enum ss_rotate how)
{
	if (how != SS_ROTATE_RANDOM || n < 3)
		return 1;
	uint32_t s = (uint32_t)(mix(ticket ^ st->seed ^ 0x5772696465ULL) % (n - 1)) + 1;
	while (gcd(s, n) != 1)
		s = s % (n - 1) + 1; /* ends: 1 is coprime with everything */
	return s;
}

void ss_rotate_skip(struct ss_rule_state *st, int which, uint64_t ticket, uint32_t by)
{
	uint64_t expected = ticket + 1;
	atomic_compare_exchange_strong_explicit(&st->cursor[which], &expected, ticket + 1 + by, memory_order_relaxed,
						memory_order_relaxed);
}

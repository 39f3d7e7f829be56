/*
 * rotate: atomic cursors over pools and windows (see rotate.h).
 */
#include "rotate.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
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

/* The shared file: a header, then two cursors per rule (by rule index). */
struct shared {
	_Atomic uint64_t seed;
	_Atomic uint64_t cursor[][2];
};

const char *ss_rotate_share(struct ss_policy *p, uint64_t seed, char *path_out, unsigned path_size)
{
	bool wanted = false;
	for (unsigned i = 0; i < p->nrules; i++)
		wanted |= p->rules[i].rotate_host;
	if (!wanted)
		return NULL;

	struct fmt f;
	fmt_init(&f, path_out, path_size);
	fmt_str(&f, SS_SHM_DIR "/sockshim-");
	fmt_u64(&f, (uint64_t)geteuid());
	fmt_char(&f, '-');
	fmt_u64(&f, p->file_dev);
	fmt_char(&f, '-');
	fmt_u64(&f, p->file_ino);
	if (f.truncated || !p->file_ino)
		return "the policy was not loaded from a file";

	size_t need = sizeof(struct shared) + (size_t)p->nrules * 2 * sizeof(uint64_t);
	size_t size = (need + 4095) & ~(size_t)4095;
	int fd = open(path_out, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return "cannot open the shared cursor file";
	struct stat st;
	/* another user's file could be truncated under us (SIGBUS): only our own */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		close(fd);
		return "the shared cursor file is not a private file of this user";
	}
	/* grow, never shrink, so a process that mapped it earlier keeps its pages */
	if ((size_t)st.st_size < size && fallocate(fd, 0, 0, (off_t)size) < 0 &&
	    (errno != EOPNOTSUPP || ftruncate(fd, (off_t)size) < 0)) {
		close(fd);
		return "cannot size the shared cursor file";
	}
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return "cannot map the shared cursor file";
	struct shared *sh = m;
	uint64_t zero = 0, s = mix(seed) | 1;
	atomic_compare_exchange_strong(&sh->seed, &zero, s);
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

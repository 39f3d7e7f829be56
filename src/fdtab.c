/*
 * fdtab: a two-level table of atomic words (see fdtab.h).
 */
#include "fdtab.h"

#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>

#define PAGE_FDS 1024
#define NPAGES (FDTAB_MAX / PAGE_FDS)

static _Atomic uint32_t *_Atomic pages[NPAGES];

static _Atomic uint32_t *page_of(int fd, int create)
{
	if (fd < 0 || fd >= FDTAB_MAX)
		return NULL;
	unsigned i = (unsigned)fd / PAGE_FDS;
	_Atomic uint32_t *p = atomic_load_explicit(&pages[i], memory_order_acquire);
	if (p || !create)
		return p;
	void *m = mmap(NULL, PAGE_FDS * sizeof(uint32_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	_Atomic uint32_t *expected = NULL;
	if (atomic_compare_exchange_strong_explicit(&pages[i], &expected, (_Atomic uint32_t *)m,
						    memory_order_acq_rel, memory_order_acquire))
		return m;
	munmap(m, PAGE_FDS * sizeof(uint32_t));
	return expected;
}

uint32_t fdtab_get(int fd)
{
	_Atomic uint32_t *p = page_of(fd, 0);
	return p ? atomic_load_explicit(&p[fd % PAGE_FDS], memory_order_acquire) : 0;
}

void fdtab_set(int fd, uint32_t v)
{
	_Atomic uint32_t *p = page_of(fd, v != 0);
	if (p)
		atomic_store_explicit(&p[fd % PAGE_FDS], v, memory_order_release);
}

void fdtab_or(int fd, uint32_t bits)
{
	_Atomic uint32_t *p = page_of(fd, 1);
	if (p)
		atomic_fetch_or_explicit(&p[fd % PAGE_FDS], bits, memory_order_acq_rel);
}

void fdtab_clear(int fd)
{
	fdtab_set(fd, 0);
}

void fdtab_clear_range(unsigned first, unsigned last)
{
	if (first >= FDTAB_MAX)
		return;
	if (last >= FDTAB_MAX)
		last = FDTAB_MAX - 1;
	for (unsigned pg = first / PAGE_FDS; pg <= last / PAGE_FDS; pg++) {
		_Atomic uint32_t *p = atomic_load_explicit(&pages[pg], memory_order_acquire);
		if (!p)
			continue;
		unsigned lo = pg * PAGE_FDS > first ? 0 : first % PAGE_FDS;
		unsigned hi = (pg + 1) * PAGE_FDS - 1 < last ? PAGE_FDS - 1 : last % PAGE_FDS;
		for (unsigned k = lo; k <= hi; k++)
			atomic_store_explicit(&p[k], 0, memory_order_release);
	}
}

/*
 * fdtab: a two-level table of atomic words (see fdtab.h).
 */
#include "fdtab.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>

#define PAGE_FDS FDTAB_PAGE_FDS
#define NPAGES (FDTAB_MAX / PAGE_FDS)

_Atomic uint32_t *_Atomic fdtab_pages[NPAGES];

_Atomic uint32_t *fdtab_make_page(int fd)
{
	if (fd < 0 || fd >= FDTAB_MAX)
		return NULL;
	unsigned i = (unsigned)fd / PAGE_FDS;
	_Atomic uint32_t *p = atomic_load_explicit(&fdtab_pages[i], memory_order_acquire);
	if (p)
		return p;
	void *m = mmap(NULL, PAGE_FDS * sizeof(uint32_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	_Atomic uint32_t *expected = NULL;
	if (atomic_compare_exchange_strong_explicit(&fdtab_pages[i], &expected, (_Atomic uint32_t *)m,
						    memory_order_acq_rel, memory_order_acquire))
		return m;
	munmap(m, PAGE_FDS * sizeof(uint32_t));
	return expected;
}

void fdtab_clear_range(unsigned first, unsigned last)
{
	if (first >= FDTAB_MAX)
		return;
	if (last >= FDTAB_MAX)
		last = FDTAB_MAX - 1;
	for (unsigned pg = first / PAGE_FDS; pg <= last / PAGE_FDS; pg++) {
		_Atomic uint32_t *p = atomic_load_explicit(&fdtab_pages[pg], memory_order_acquire);
		if (!p)
			continue;
		unsigned lo = pg * PAGE_FDS > first ? 0 : first % PAGE_FDS;
		unsigned hi = (pg + 1) * PAGE_FDS - 1 < last ? PAGE_FDS - 1 : last % PAGE_FDS;
		for (unsigned k = lo; k <= hi; k++)
			atomic_store_explicit(&p[k], 0, memory_order_release);
	}
}

uint32_t fdtab_ask_kernel(int fd)
{
	int dom, type, proto;
	socklen_t l1 = sizeof(dom), l2 = sizeof(type), l3 = sizeof(proto);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &l1) < 0 || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l2) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &l3) < 0)
		return 0;
	return fdtab_classify(dom, type, proto);
}

int fdtab_ask_v6only(void *fdp)
{
	int saved = errno, on = 0;
	socklen_t l = sizeof(on);
	int rc = getsockopt(*(int *)fdp, IPPROTO_IPV6, IPV6_V6ONLY, &on, &l) < 0 ? -1 : on != 0;
	errno = saved;
	return rc;
}

/*
 * rotate: atomic cursors over pools and windows (see rotate.h).
 */
#include "rotate.h"

static uint64_t seed_value;

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
	seed_value = seed;
	for (unsigned i = 0; p && i < p->nrules; i++) {
		struct ss_rule_state *st = p->rules[i].state;
		atomic_store(&st->addr_cursor, mix(seed ^ (2 * i)) >> 16);
		atomic_store(&st->port_cursor, mix(seed ^ (2 * i + 1)) >> 16);
	}
}

uint32_t ss_rotate_next(_Atomic uint64_t *cursor, uint32_t n, enum ss_rotate how)
{
	uint64_t c = atomic_fetch_add_explicit(cursor, 1, memory_order_relaxed);
	if (how == SS_ROTATE_RANDOM)
		c = mix(c ^ seed_value);
	return (uint32_t)(c % n);
}

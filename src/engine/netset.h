/*
 * netset: the sets a rule matches against, built once at load and searched
 * with a binary search on the hot path.
 *
 * An address set is two sorted arrays of disjoint, non-adjacent ranges, one
 * for IPv4 and one for IPv6. IPv6 CIDRs inside ::ffff:0:0/96 also add the
 * IPv4 range they cover, and IPv4-mapped addresses are looked up as IPv4, so
 * "10.0.0.0/8" matches ::ffff:10.1.2.3 and "::/0" matches every IPv4 address.
 * A port set is a sorted array of ranges with the count of ports before each,
 * so the k-th port of a window is found in O(log ranges).
 */
#ifndef SOCKSHIM_NETSET_H
#define SOCKSHIM_NETSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "arena.h"

struct ss_range4 {
	uint32_t lo, hi;
};

struct ss_u128 {
	uint64_t hi, lo;
};

/* 16 bytes in network order as a number; add 1, saturating. */
struct ss_u128 ss_u128_from_bytes(const uint8_t *b);
struct ss_u128 ss_u128_inc(struct ss_u128 a);

/* An IPv4 address or a port as a key of the same kind as an IPv6 address. */
static inline struct ss_u128 ss_u128_of32(uint32_t v)
{
	struct ss_u128 k = { 0, v };
	return k;
}

/* -1, 0 or 1 (inline: the index's lookups are made of it) */
static inline int ss_u128_cmp(struct ss_u128 a, struct ss_u128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

struct ss_range6 {
	struct ss_u128 lo, hi;
};

struct ss_ipset {
	const struct ss_range4 *v4;
	const struct ss_range6 *v6;
	uint32_t n4, n6;
};

struct ss_prange {
	uint16_t lo, hi;
	uint32_t before; /* ports in all earlier ranges */
};

struct ss_portset {
	const struct ss_prange *r;
	uint32_t n;
	uint32_t count; /* ports in the whole set */
};

/* Collects CIDRs, then freezes into an ss_ipset. */
struct ss_ipset_builder {
	struct vec v4, v6;
};

void ss_ipset_builder_init(struct ss_ipset_builder *b);
/* "10.0.0.0/8", "::1", "0.0.0.0"; false on a bad CIDR (host bits set are
 * accepted and ignored, as iptables does). */
bool ss_ipset_builder_add(struct ss_ipset_builder *b, const char *cidr, bool *oom);
/* Sort, merge and copy into the arena; frees the builder. false on OOM. */
bool ss_ipset_builder_finish(struct ss_ipset_builder *b, struct arena *a, struct ss_ipset *out);

bool ss_ipset_contains(const struct ss_ipset *s, const struct ss_addr *a);
/* Every address of inner is in outer. */
bool ss_ipset_covers(const struct ss_ipset *outer, const struct ss_ipset *inner);

struct ss_portset_builder {
	struct vec r;
};

void ss_portset_builder_init(struct ss_portset_builder *b);
/* "80" or "8000-8999"; false when malformed or out of 0-65535. */
bool ss_portset_builder_add(struct ss_portset_builder *b, const char *item, bool *oom);
bool ss_portset_builder_finish(struct ss_portset_builder *b, struct arena *a, struct ss_portset *out);

bool ss_portset_contains(const struct ss_portset *s, uint16_t port);
/* Every port of inner is in outer. */
bool ss_portset_covers(const struct ss_portset *outer, const struct ss_portset *inner);
/* The k-th port of the set in ascending order, k < count. */
uint16_t ss_portset_nth(const struct ss_portset *s, uint32_t k);

#endif

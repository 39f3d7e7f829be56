/*
 * index: see index.h.
 */
#include "index.h"

#include <string.h>

#include "hostindex.h"
#include "policy.h"

/* Below this many rules, walking them all is as cheap as any index. */
#define INDEX_MIN_RULES 8
/* Entries allowed per range of the rules before the index is not worth its
 * memory (heavily overlapping sets would make it quadratic). */
#define INDEX_MAX_FANOUT 64
/* A 32-bit dimension's table by the top 8 bits of its keys. */
#define INDEX_BUCKETS 256

static int cmp_u128(const void *a, const void *b)
{
	return ss_u128_cmp(*(const struct ss_u128 *)a, *(const struct ss_u128 *)b);
}

static unsigned byte_of(const struct ss_u128 *k, unsigned i) /* i = 0: the lowest */
{
	return (unsigned)((i < 8 ? k->lo >> (8 * i) : k->hi >> (8 * (i - 8))) & 255);
}

/*
 * Sort the cut points: a least-significant-byte-first radix sort, one pass
 * per byte that some key has set (five for IPv4 addresses and ports), so a
 * policy of 100,000 rules sorts its 400,000 cuts in linear time (a heapsort
 * was a sixth of the whole load). The second array is a scratch buffer;
 * without one, the heapsort.
 */
static void sort_cuts(struct ss_u128 *c, size_t n)
{
	struct ss_u128 any = { 0, 0 };
	for (size_t i = 0; i < n; i++) {
		any.hi |= c[i].hi;
		any.lo |= c[i].lo;
	}
	struct ss_u128 *tmp = n > 1 ? scratch_get(n * sizeof(*tmp)) : NULL;
	if (!tmp) {
		sort_elems(c, n, sizeof(*c), cmp_u128);
		return;
	}
	struct ss_u128 *from = c, *to = tmp;
	for (unsigned b = 0; b < 16; b++) {
		if (!byte_of(&any, b))
			continue; /* every key has 0 there: the order stands */
		size_t count[257] = { 0 };
		for (size_t i = 0; i < n; i++)
			count[byte_of(&from[i], b) + 1]++;
		for (unsigned v = 0; v < 256; v++)
			count[v + 1] += count[v];
		for (size_t i = 0; i < n; i++)
			to[count[byte_of(&from[i], b)]++] = from[i];
		struct ss_u128 *t = from;
		from = to;
		to = t;
	}
	if (from != c)
		memcpy(c, from, n * sizeof(*c));
	scratch_put(tmp, n * sizeof(*tmp));
}

/* The ranges of rule r in dimension d, one at a time: false when done. */
static bool range_at(const struct ss_rule *r, int d, uint32_t i, struct ss_u128 *lo, struct ss_u128 *hi)
{
	switch (d) {
	case SS_DIM_V4:
		if (i >= r->addr.n4)
			return false;
		*lo = ss_u128_of32(r->addr.v4[i].lo);
		*hi = ss_u128_of32(r->addr.v4[i].hi);
		return true;
	case SS_DIM_V6:
		if (i >= r->addr.n6)
			return false;
		*lo = r->addr.v6[i].lo;
		*hi = r->addr.v6[i].hi;
		return true;
	default:
		if (i >= r->port.n)
			return false;
		*lo = ss_u128_of32(r->port.r[i].lo);
		*hi = ss_u128_of32(r->port.r[i].hi);
		return true;
	}
}

static bool filed_in(const struct ss_rule *r, int d)
{
	return d == SS_DIM_PORT ? r->has_port : r->has_addr;
}

/* Which list of an interval rule r goes to: 1 for "both", 0 for "one". */
static int list_of(const struct ss_rule *r)
{
	return r->has_addr && r->has_port;
}

struct ss_u128 ss_index_key(const struct ss_index_dim *d, uint32_t i)
{
	return d->lo32 ? ss_u128_of32(d->lo32[i]) : d->lo[i];
}

/* The last interval whose start is <= k, or n when there is none. */
static uint32_t interval_of(const struct ss_index_dim *d, struct ss_u128 k)
{
	uint32_t lo = 0, hi = d->n;
	while (lo < hi) { /* first start > k */
		uint32_t mid = lo + (hi - lo) / 2;
		if (ss_u128_cmp(ss_index_key(d, mid), k) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : d->n;
}

uint32_t ss_index_find(const struct ss_index_dim *d, struct ss_u128 k)
{
	return interval_of(d, k); /* n: no interval holds k */
}

/* The marks of a dimension no rule is filed in: the one "none" entry. */
static const uint8_t no_marks[1];

/* Copy the first n interval starts into the arena in the form the
 * dimension keeps them. */
static bool keep_keys(struct arena *a, int d, const struct ss_u128 *c, uint32_t n, struct ss_index_dim *out)
{
	out->n = n;
	out->lo = NULL;
	if (d == SS_DIM_V6) {
		struct ss_u128 *lo = arena_alloc(a, (n ? n : 1) * sizeof(*lo));
		if (lo)
			memcpy(lo, c, n * sizeof(*lo));
		out->lo = lo;
		return lo != NULL;
	}
	uint32_t *lo32 = arena_alloc(a, (n ? n : 1) * sizeof(*lo32));
	uint32_t *bucket = arena_alloc(a, (INDEX_BUCKETS + 1) * sizeof(*bucket));
	if (!lo32 || !bucket)
		return false;
	out->shift = d == SS_DIM_V4 ? 24 : 8;
	for (uint32_t i = 0; i < n; i++)
		lo32[i] = (uint32_t)c[i].lo;
	for (uint32_t b = 0, i = 0; b <= INDEX_BUCKETS; b++) {
		while (i < n && (uint64_t)(lo32[i] >> out->shift) < b)
			i++;
		bucket[b] = i;
	}
	out->lo32 = lo32;
	out->bucket = bucket;
	return true;
}

/* Cut dimension d at every boundary and file each rule under the intervals
 * its ranges cover. false: out of memory or over budget. */
static bool build_dim(struct arena *a, const struct ss_rule *rules, uint32_t nrules, int d, struct ss_index_dim *out)
{
	struct vec cuts;
	vec_init(&cuts, sizeof(struct ss_u128));
	size_t nranges = 0;
	bool ok = true;
	struct ss_u128 top = { UINT64_MAX, UINT64_MAX };
	for (uint32_t r = 0; r < nrules && ok; r++) {
		struct ss_u128 lo, hi;
		for (uint32_t i = 0; filed_in(&rules[r], d) && range_at(&rules[r], d, i, &lo, &hi); i++, nranges++) {
			struct ss_u128 *c = vec_push(&cuts);
			if (c)
				*c = lo;
			if (c && (c = vec_push(&cuts))) /* (a push may move the array) */
				*c = ss_u128_cmp(hi, top) == 0 ? hi : ss_u128_inc(hi); /* the end stays inside the last interval */
			if (!c) {
				ok = false;
				break;
			}
		}
	}
	memset(out, 0, sizeof(*out));
	out->mark = no_marks;
	if (!ok || nranges == 0) {
		vec_free(&cuts);
		return ok;
	}
	struct ss_u128 *c = cuts.data;
	sort_cuts(c, cuts.len);
	uint32_t n = 0;
	for (size_t i = 0; i < cuts.len; i++)
		if (n == 0 || ss_u128_cmp(c[n - 1], c[i]) != 0)
			c[n++] = c[i];

	/* IPv4 and ports: a start past the last key (the end of a range that
	 * runs to the top) begins an interval no key reaches. Until the lists are
	 * filed, the dimension searches the 128-bit cuts. */
	uint32_t keep = n;
	uint64_t top_key = d == SS_DIM_V4 ? UINT32_MAX : 65535;
	while (d != SS_DIM_V6 && keep && (c[keep - 1].hi || c[keep - 1].lo > top_key))
		keep--;
	uint32_t *start[2] = { arena_alloc(a, (n + 1) * sizeof(uint32_t)), arena_alloc(a, (n + 1) * sizeof(uint32_t)) };
	if (!start[0] || !start[1]) {
		vec_free(&cuts);
		return false;
	}
	memset(start[0], 0, (n + 1) * sizeof(uint32_t));
	memset(start[1], 0, (n + 1) * sizeof(uint32_t));
	const struct ss_u128 *los = c;
	out->lo = los;
	out->n = n;

	/* count per interval (in start[l][i + 1]), then fill in rule order */
	size_t total = 0;
	uint32_t *ids[2] = { NULL, NULL };
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t r = 0; r < nrules; r++) {
			struct ss_u128 lo, hi;
			int l = list_of(&rules[r]);
			for (uint32_t i = 0; filed_in(&rules[r], d) && range_at(&rules[r], d, i, &lo, &hi); i++) {
				for (uint32_t j = interval_of(out, lo); j < n && ss_u128_cmp(los[j], hi) <= 0; j++) {
					if (pass == 0) {
						start[l][j + 1]++;
						if (++total > nranges * INDEX_MAX_FANOUT + (1u << 16)) {
							vec_free(&cuts);
							return false;
						}
					} else {
						ids[l][start[l][j]++] = r;
					}
				}
			}
		}
		for (int l = 0; l < 2; l++) {
			if (pass == 0) {
				for (uint32_t i = 0; i < n; i++)
					start[l][i + 1] += start[l][i];
				ids[l] = arena_alloc(a, (start[l][n] ? start[l][n] : 1) * sizeof(uint32_t));
				if (!ids[l]) {
					vec_free(&cuts);
					return false;
				}
			} else {
				/* the fill advanced each interval's start to the next one's: shift back */
				memmove(start[l] + 1, start[l], n * sizeof(uint32_t));
				start[l][0] = 0;
			}
		}
	}
	out->start = start[0];
	out->ids = ids[0];
	out->bstart = start[1];
	out->bids = ids[1];
	uint8_t *mark = arena_alloc(a, n + 1);
	if (!mark) {
		vec_free(&cuts);
		return false;
	}
	for (uint32_t i = 0; i <= n; i++)
		mark[i] = (uint8_t)(i < keep && start[0][i + 1] > start[0][i] ? SS_MARK_ONE : 0) |
			  (uint8_t)(i < keep && start[1][i + 1] > start[1][i] ? SS_MARK_BOTH : 0);
	out->mark = mark;
	bool done = keep_keys(a, d, c, keep, out);
	vec_free(&cuts);
	return done;
}

/* A 2-bit mark table of 65536 entries for dimension d: entry k is the
 * union of the marks of the intervals that meet keys k << shift ..
 * (k + 1) << shift - 1. */
static const uint8_t *marks2(struct arena *a, const struct ss_index_dim *d, unsigned shift)
{
	uint8_t *m = arena_alloc(a, 65536 / 4);
	if (!m)
		return NULL;
	memset(m, 0, 65536 / 4);
	for (uint32_t i = 0; i < d->n; i++) {
		if (!d->mark[i])
			continue;
		uint32_t lo = d->lo32[i] >> shift;
		uint32_t hi = i + 1 < d->n ? (d->lo32[i + 1] - 1) >> shift : 65535;
		for (uint32_t k = lo; k <= hi; k++)
			m[k >> 2] |= (uint8_t)(d->mark[i] << ((k & 3) * 2));
	}
	return m;
}

const struct ss_index *ss_index_build(struct arena *a, const struct ss_rule *rules, uint32_t n)
{
	if (n < INDEX_MIN_RULES)
		return NULL;
	struct ss_index *x = arena_alloc(a, sizeof(*x));
	if (!x)
		return NULL;
	for (int d = 0; d < SS_DIMS; d++)
		if (!build_dim(a, rules, n, d, &x->dim[d]))
			return NULL; /* the arena keeps the pieces until the policy goes */
	uint32_t k = 0;
	bool oom = false;
	x->hosts = ss_hostindex_build(a, rules, n, &oom);
	if (oom)
		return NULL;
	/* a rule on resolve only never decides a socket call; one with host
	 * is filed by name */
#define ALWAYS(r) (!(r).has_addr && !(r).has_port && ((r).ops & SS_SOCK_OPS) && !(r).nhosts)
	for (uint32_t r = 0; r < n; r++)
		k += ALWAYS(rules[r]);
	uint32_t *always = arena_alloc(a, (k ? k : 1) * sizeof(uint32_t));
	if (!always)
		return NULL;
	for (uint32_t r = 0, j = 0; r < n; r++)
		if (ALWAYS(rules[r]))
			always[j++] = r;
#undef ALWAYS
	x->always = always;
	x->nalways = k;
	x->addr_one = false;
	for (uint32_t r = 0; r < n; r++)
		x->addr_one |= rules[r].has_addr && !rules[r].has_port;
	x->port_marks = marks2(a, &x->dim[SS_DIM_PORT], 0);
	x->v4_marks = marks2(a, &x->dim[SS_DIM_V4], 16);
	if (!x->port_marks || !x->v4_marks)
		return NULL;
	return x;
}

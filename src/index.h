/*
 * index: which rules can match an address or a port, so a decision over a
 * thousand rules looks at a handful instead of all of them.
 *
 * Built once at load, read-only afterwards. The key space of each dimension
 * (IPv4 addresses, IPv6 addresses, ports) is cut at every range boundary of
 * every rule into intervals; each interval lists, in file order, the rules
 * whose set holds it. A rule is filed under its addresses if it has an
 * `addr`, else under its ports if it has a `port`, else in the list every
 * lookup sees. First match is kept: the candidate lists are merged in rule
 * order and the first candidate whose other matchers match decides.
 */
#ifndef SOCKSHIM_INDEX_H
#define SOCKSHIM_INDEX_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "netset.h"

/* One dimension: interval i starts at key i and runs to the next one's start
 * (the last one to the end of the key space); its rules are ids[start[i] ..
 * start[i + 1]). IPv6 keeps its starts as 128-bit keys (lo). IPv4 addresses
 * and ports keep them as 32-bit keys (lo32), with a table by the key's top
 * 8 bits: bucket[b] is the first interval that starts at or after
 * b << shift, so a decision searches only the starts that share its key's
 * top byte, a few instructions a step. */
struct ss_index_dim {
	const uint32_t *lo32, *bucket;
	const struct ss_u128 *lo;
	const uint32_t *start, *ids;
	uint32_t n;
	unsigned shift;
};

enum { SS_DIM_V4, SS_DIM_V6, SS_DIM_PORT, SS_DIMS };

struct ss_index {
	struct ss_index_dim dim[SS_DIMS];
	const uint32_t *always; /* rules with neither addr nor port */
	uint32_t nalways;
};

/* The start of interval i, as a 128-bit key whatever the dimension. */
struct ss_u128 ss_index_key(const struct ss_index_dim *d, uint32_t i);

/* The candidate rules of one dimension for key k (an empty list when the
 * dimension has none). */
void ss_index_lookup(const struct ss_index_dim *d, struct ss_u128 k, const uint32_t **ids, uint32_t *n);

/* The same for a 32-bit dimension (IPv4, ports), on the decision's path:
 * the count of candidates, their ids in *ids. */
static inline uint32_t ss_index_lookup32(const struct ss_index_dim *d, uint32_t k, const uint32_t **ids)
{
	if (!d->n)
		return 0;
	uint32_t b = k >> d->shift, first = d->bucket[b], len = d->bucket[b + 1] - first, i;
	if (len && d->lo32[first] <= k) { /* the last start <= k, by halving */
		const uint32_t *p = d->lo32 + first;
		while (len > 1) {
			uint32_t half = len / 2;
			p = p[half] <= k ? p + half : p;
			len -= half;
		}
		i = (uint32_t)(p - d->lo32);
	} else if (first) { /* the interval from an earlier bucket runs on */
		i = first - 1;
	} else {
		return 0;
	}
	*ids = d->ids + d->start[i];
	return d->start[i + 1] - d->start[i];
}

struct ss_rule;
/*
 * Build the index of rules[0 .. n). NULL when an index would not pay (few
 * rules) or would be too large (many overlapping ranges), or when memory
 * runs out: decisions then walk every rule, which is always correct.
 */
const struct ss_index *ss_index_build(struct arena *a, const struct ss_rule *rules, uint32_t n);

#endif

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

/* One dimension: interval i is [lo[i], lo[i + 1]) (the last one runs to the
 * end), its rules are ids[start[i] .. start[i + 1]). */
struct ss_index_dim {
	const struct ss_u128 *lo;
	const uint32_t *start, *ids;
	uint32_t n;
};

enum { SS_DIM_V4, SS_DIM_V6, SS_DIM_PORT, SS_DIMS };

struct ss_index {
	struct ss_index_dim dim[SS_DIMS];
	const uint32_t *always; /* rules with neither addr nor port */
	uint32_t nalways;
};

/* The candidate rules of one dimension for key k (an empty list when the
 * dimension has none). */
void ss_index_lookup(const struct ss_index_dim *d, struct ss_u128 k, const uint32_t **ids, uint32_t *n);

struct ss_rule;
/*
 * Build the index of rules[0 .. n). NULL when an index would not pay (few
 * rules) or would be too large (many overlapping ranges), or when memory
 * runs out: decisions then walk every rule, which is always correct.
 */
const struct ss_index *ss_index_build(struct arena *a, const struct ss_rule *rules, uint32_t n);

#endif

/*
 * index: which rules can match an address or a port, so a decision over a
 * thousand rules looks at a handful instead of all of them.
 *
 * Built once at load, read-only afterwards. The key space of each dimension
 * (IPv4 addresses, IPv6 addresses, ports) is cut at every range boundary of
 * every rule into intervals; each interval lists, in file order, the rules
 * whose set holds it. A rule is filed under its addresses if it has an
 * `addr`, under its ports if it has a `port` (both, when it has both), and
 * in the list every lookup sees when it has neither (or, with `host`, by
 * name: hostindex.h). Each interval keeps two
 * lists: the rules filed in that dimension only ("one") and the rules with
 * both an addr and a port ("both"). A rule of the second kind can match only
 * a call whose address and port both list it, so the shorter of the two
 * "both" lists is enough, and a call whose address or port no rule of that
 * kind holds never looks at them: one host with a hundred ports costs what
 * one rule does. First match is kept: the candidate lists are merged in rule
 * order and the first candidate whose other matchers match decides.
 */
#ifndef SOCKSHIM_INDEX_H
#define SOCKSHIM_INDEX_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "netset.h"

/* One dimension: interval i starts at key i and runs to the next one's start
 * (the last one to the end of the key space); its rules filed here only are
 * ids[start[i] .. start[i + 1]), its rules with both an addr and a port
 * bids[bstart[i] .. bstart[i + 1]). IPv6 keeps its starts as 128-bit keys (lo). IPv4 addresses
 * and ports keep them as 32-bit keys (lo32), with a table by the key's top
 * 8 bits: bucket[b] is the first interval that starts at or after
 * b << shift, so a decision searches only the starts that share its key's
 * top byte, a few instructions a step. */
struct ss_index_dim {
	const uint32_t *lo32, *bucket;
	const struct ss_u128 *lo;
	const uint32_t *start, *ids;
	const uint32_t *bstart, *bids;
	/* mark[i]: SS_MARK_ONE when interval i lists rules of this dimension
	 * only, SS_MARK_BOTH when it lists rules with an addr and a port;
	 * mark[n] is 0 (what a key no interval holds finds) */
	const uint8_t *mark;
	uint32_t n;
	unsigned shift;
};

enum { SS_DIM_V4, SS_DIM_V6, SS_DIM_PORT, SS_DIMS };

struct ss_hostindex;

struct ss_index {
	struct ss_index_dim dim[SS_DIMS];
	const uint32_t *always; /* rules with neither addr nor port, nor host */
	uint32_t nalways;
	/* rules with host and neither addr nor port, by name (hostindex.h);
	 * NULL: none */
	const struct ss_hostindex *hosts;
	bool addr_one;          /* some rule has an addr and no port */
	/* The marks again, 2 bits per key, for the screen's quick answer:
	 * port_marks exact, one entry per port; v4_marks one entry per /16,
	 * the union of the marks of every interval that meets it. */
	const uint8_t *port_marks, *v4_marks;
};

/* Entry k of a 2-bit mark table. */
static inline unsigned ss_index_marks2(const uint8_t *m, uint32_t k)
{
	return (m[k >> 2] >> ((k & 3) * 2)) & 3u;
}

/* The start of interval i, as a 128-bit key whatever the dimension. */
struct ss_u128 ss_index_key(const struct ss_index_dim *d, uint32_t i);

/* The candidate rules of one dimension for a key: the rules filed in this
 * dimension only, and those with both an addr and a port. */
struct ss_index_hit {
	const uint32_t *one, *both;
	uint32_t n_one, n_both;
};

#define SS_MARK_ONE 1u
#define SS_MARK_BOTH 2u

/* The interval that holds key k, or d->n when none does. */
uint32_t ss_index_find(const struct ss_index_dim *d, struct ss_u128 k);

/* The candidates of interval i (d->n: none). */
static inline void ss_index_hit_of(const struct ss_index_dim *d, uint32_t i, struct ss_index_hit *h)
{
	if (i >= d->n) {
		h->n_one = h->n_both = 0;
		h->one = h->both = NULL;
		return;
	}
	h->one = d->ids + d->start[i];
	h->n_one = d->start[i + 1] - d->start[i];
	h->both = d->bids + d->bstart[i];
	h->n_both = d->bstart[i + 1] - d->bstart[i];
}

/* ss_index_find for a 32-bit dimension (IPv4, ports), on the decision's
 * path: a search of the starts that share k's top byte. */
static inline uint32_t ss_index_find32(const struct ss_index_dim *d, uint32_t k)
{
	if (!d->n)
		return 0;
	uint32_t b = k >> d->shift, first = d->bucket[b], len = d->bucket[b + 1] - first;
	if (len && d->lo32[first] <= k) { /* the last start <= k, by halving */
		const uint32_t *p = d->lo32 + first;
		while (len > 1) {
			uint32_t half = len / 2;
			p = p[half] <= k ? p + half : p;
			len -= half;
		}
		return (uint32_t)(p - d->lo32);
	}
	return first ? first - 1 : d->n; /* the interval from an earlier bucket runs on */
}

/*
 * The screen's question, from the marks of the address's interval (am) and
 * the port's (pm): can some rule filed by address or port hold the call?
 * false is certain; true means the candidate lists must be walked.
 */
static inline bool ss_index_marks_may_hold(unsigned am, unsigned pm)
{
	return ((am | pm) & SS_MARK_ONE) || (am & pm & SS_MARK_BOTH);
}

/*
 * Can some rule of the index hold a call with these two hits, its address's
 * and its port's? false is certain: no rule filed by address or port can
 * match. (Rules with neither are in `always`, which the caller asks.)
 */
static inline bool ss_index_may_hold(const struct ss_index_hit *a, const struct ss_index_hit *p)
{
	return a->n_one || p->n_one || (a->n_both && p->n_both);
}

struct ss_rule;
/*
 * Build the index of rules[0 .. n). NULL when an index would not pay (few
 * rules) or would be too large (many overlapping ranges), or when memory
 * runs out: decisions then walk every rule, which is always correct.
 */
const struct ss_index *ss_index_build(struct arena *a, const struct ss_rule *rules, uint32_t n);

#endif

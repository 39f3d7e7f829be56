/*
 * shadow: the first earlier rule that shadows each rule (see shadow.h).
 *
 * The earlier rules are filed in one hash table under keys (tag, prefix,
 * length): a tag for each kind of rule and dimension, and an aligned block
 * of that dimension, or a program name's hash. Each key holds its rules in
 * file order (a list of nodes, appended at the tail), so a walk stops at the
 * first rule that shadows. A rule is filed only after its own search, so
 * every list holds earlier rules only. Addresses and ports are handled as
 * 128-bit numbers (unsigned __int128, which GCC and clang have on 64-bit
 * targets).
 */
#include "shadow.h"

#include <string.h>

#include "arena.h"

__extension__ typedef unsigned __int128 u128;

#define NONE UINT32_MAX

/* What a key's rules are: the matchers they have (A: addr, P: port, N:
 * neither) and the dimension the key is in. Rules with both an addr and a
 * port are filed under each pair of an address block and a port block (so
 * thousands of rules on one address or one port range do not make a long
 * list), or by their address blocks alone (T_APX) when they have too many
 * pairs. */
enum tag { T_AP4 = 1, T_AP6, T_APX4, T_APX6, T_A_ADDR4, T_A_ADDR6, T_P_PORT, T_N_PROG, T_N_GLOB, T_N_HOST, T_COUNT };

/* Pairs of blocks one rule may be filed under. */
#define MAX_PAIRS 1024

struct bucket {
	u128 prefix;
	uint32_t head, tail, count;
	uint16_t port, len; /* T_AP*: the port block's prefix; len = address length * 17 + port length */
	uint8_t tag;        /* 0: an empty slot */
};

struct node {
	uint32_t rule, next;
};

struct table {
	struct bucket *b;
	size_t cap, n;
	struct vec nodes;
	uint32_t first[32][4][4]; /* rules with neither addr, port, program nor host, by (ops, protos, families) */
	bool alen[T_COUNT][129], plen[17]; /* the prefix lengths some key of a tag has */
};

static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t key_hash(u128 prefix, unsigned port, unsigned len, unsigned tag)
{
	return mix64((uint64_t)prefix ^ mix64((uint64_t)(prefix >> 64) ^ ((uint64_t)port << 32 | (uint64_t)len << 8 | tag)));
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return mix64(h);
}

static struct bucket *slot_of(const struct table *t, u128 prefix, unsigned port, unsigned len, unsigned tag)
{
	size_t mask = t->cap - 1;
	for (size_t i = key_hash(prefix, port, len, tag) & mask;; i = (i + 1) & mask) {
		struct bucket *b = &t->b[i];
		if (!b->tag || (b->tag == tag && b->len == len && b->port == port && b->prefix == prefix))
			return b;
	}
}

static const struct bucket *lookup(const struct table *t, u128 prefix, unsigned port, unsigned len, unsigned tag)
{
	if (!t->cap)
		return NULL;
	const struct bucket *b = slot_of(t, prefix, port, len, tag);
	return b->tag ? b : NULL;
}

static bool grow(struct table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 1024;
	struct bucket *old = t->b, *nb = scratch_get(cap * sizeof(*nb));
	size_t oldcap = t->cap;
	if (!nb)
		return false;
	memset(nb, 0, cap * sizeof(*nb));
	t->b = nb;
	t->cap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].tag)
			*slot_of(t, old[i].prefix, old[i].port, old[i].len, old[i].tag) = old[i];
	if (old)
		scratch_put(old, oldcap * sizeof(*old));
	return true;
}

static bool file_rule(struct table *t, u128 prefix, unsigned port, unsigned len, unsigned tag, uint32_t rule)
{
	if ((t->n + 1) * 2 > t->cap && !grow(t))
		return false;
	struct bucket *b = slot_of(t, prefix, port, len, tag);
	struct node *nodes = t->nodes.data;
	if (b->tag && nodes[b->tail].rule == rule)
		return true; /* the same rule under the same key once only */
	if (t->nodes.len >= NONE)
		return false;
	uint32_t k = (uint32_t)t->nodes.len;
	struct node *nd = vec_push(&t->nodes);
	if (!nd)
		return false;
	nodes = t->nodes.data;
	nd->rule = rule;
	nd->next = NONE;
	if (!b->tag) {
		b->tag = (uint8_t)tag;
		b->len = (uint16_t)len;
		b->port = (uint16_t)port;
		b->prefix = prefix;
		b->head = k;
		t->n++;
	} else {
		nodes[b->tail].next = k;
	}
	b->tail = k;
	b->count++;
	return true;
}

/* The aligned blocks that make up [lo, hi] in a space of width bits, one
 * at a time: the largest block that starts at lo and ends by hi, then on.
 * Call with *more = true; each call gives one block and clears *more after
 * the last. */
static void next_block(u128 *lo, u128 hi, unsigned width, u128 *prefix, unsigned *len, bool *more)
{
	unsigned k = 0; /* the block holds 2^k values */
	while (k < width) {
		if (k + 1 == 128) {
			if (*lo == 0 && hi == ~(u128)0)
				k = 128;
			break;
		}
		u128 size = (u128)1 << (k + 1);
		if ((*lo & (size - 1)) || *lo + (size - 1) > hi)
			break;
		k++;
	}
	*prefix = *lo;
	*len = width - k;
	u128 end = k == 128 ? ~(u128)0 : *lo + (((u128)1 << k) - 1);
	*more = end < hi;
	*lo = end + 1;
}

static u128 v6_num(struct ss_u128 v)
{
	return (u128)v.hi << 64 | v.lo;
}

/* The k-th address range of a rule (IPv4 ranges first), as numbers. */
static void addr_range(const struct ss_rule *r, uint32_t k, u128 *lo, u128 *hi, unsigned *width)
{
	if (k < r->addr.n4) {
		*lo = r->addr.v4[k].lo;
		*hi = r->addr.v4[k].hi;
		*width = 32;
	} else {
		*lo = v6_num(r->addr.v6[k - r->addr.n4].lo);
		*hi = v6_num(r->addr.v6[k - r->addr.n4].hi);
		*width = 128;
	}
}

static size_t count_blocks(u128 lo, u128 hi, unsigned width, size_t stop)
{
	size_t n = 0;
	u128 pre;
	unsigned len;
	for (bool more = true; more && n <= stop; n++)
		next_block(&lo, hi, width, &pre, &len, &more);
	return n;
}

/* A rule with an addr: under each of its address blocks (tag4 or tag6 by
 * family); with ports too (port_tag), under each pair of an address block
 * and a port block. */
static bool file_addr(struct table *t, const struct ss_rule *r, uint32_t i, unsigned tag4, unsigned tag6, bool pairs)
{
	uint32_t nr = r->addr.n4 + r->addr.n6;
	for (uint32_t k = 0; k < nr; k++) {
		u128 lo, hi, pre;
		unsigned width, len;
		addr_range(r, k, &lo, &hi, &width);
		unsigned tag = width == 32 ? tag4 : tag6;
		for (bool more = true; more;) {
			next_block(&lo, hi, width, &pre, &len, &more);
			if (!pairs) {
				t->alen[tag][len] = true;
				if (!file_rule(t, pre, 0, len, tag, i))
					return false;
				continue;
			}
			for (uint32_t m = 0; m < r->port.n; m++) {
				u128 plo = r->port.r[m].lo, ppre;
				unsigned plen;
				for (bool pmore = true; pmore;) {
					next_block(&plo, r->port.r[m].hi, 16, &ppre, &plen, &pmore);
					t->alen[tag][len] = true;
					t->plen[plen] = true;
					if (!file_rule(t, pre, (unsigned)ppre, len * 17 + plen, tag, i))
						return false;
				}
			}
		}
	}
	return true;
}

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static bool file_all(struct table *t, const struct ss_rule *r, uint32_t i)
{
	bool a = r->has_addr, p = r->has_port, ok = true;
	if (a && p) {
		size_t na = 0, np = 0;
		for (uint32_t k = 0; k < r->addr.n4 + r->addr.n6 && na <= MAX_PAIRS; k++) {
			u128 lo, hi;
			unsigned width;
			addr_range(r, k, &lo, &hi, &width);
			na += count_blocks(lo, hi, width, MAX_PAIRS);
		}
		for (uint32_t k = 0; k < r->port.n && np <= MAX_PAIRS; k++)
			np += count_blocks(r->port.r[k].lo, r->port.r[k].hi, 16, MAX_PAIRS);
		if (na * np <= MAX_PAIRS)
			return file_addr(t, r, i, T_AP4, T_AP6, true);
		return file_addr(t, r, i, T_APX4, T_APX6, false);
	}
	if (a)
		return file_addr(t, r, i, T_A_ADDR4, T_A_ADDR6, false);
	if (p) {
		for (uint32_t k = 0; k < r->port.n && ok; k++) {
			u128 lo = r->port.r[k].lo, pre;
			unsigned len;
			for (bool more = true; more && ok;) {
				next_block(&lo, r->port.r[k].hi, 16, &pre, &len, &more);
				t->alen[T_P_PORT][len] = true;
				ok = file_rule(t, pre, 0, len, T_P_PORT, i);
			}
		}
		return ok;
	}
	/* with host: one list of them all (whether it shadows depends on the
	 * names, so the first of an (ops, protos, families) is not enough) */
	if (!r->nprograms && r->nhosts)
		return file_rule(t, 0, 0, 0, T_N_HOST, i);
	if (!r->nprograms) {
		uint32_t *f = &t->first[r->ops & 31][r->protos & 3][r->families & 3];
		if (*f == NONE)
			*f = i;
		return true;
	}
	bool glob = false;
	for (unsigned k = 0; k < r->nprograms && ok; k++) {
		ok = file_rule(t, name_hash(r->programs[k]), 0, 0, T_N_PROG, i);
		glob |= has_glob(r->programs[k]);
	}
	return ok && (!glob || file_rule(t, 0, 0, 0, T_N_GLOB, i));
}

/* The search for one rule: the best (first) shadowing rule so far, and the
 * comparisons left. */
struct search {
	const struct ss_rule *rules, *b;
	uint32_t best, left;
	bool cut;
};

static void walk(const struct table *t, struct search *s, const struct bucket *bk)
{
	const struct node *nodes = t->nodes.data;
	for (uint32_t k = bk ? bk->head : NONE; k != NONE && nodes[k].rule < s->best; k = nodes[k].next) {
		if (!s->left) {
			s->cut = true;
			return;
		}
		s->left--;
		if (ss_rule_shadows(&s->rules[nodes[k].rule], s->b)) {
			s->best = nodes[k].rule;
			return;
		}
	}
}

static u128 prefix_of(u128 v, unsigned width, unsigned len)
{
	unsigned low = width - len; /* bits below the prefix */
	return low == 128 ? 0 : v & ~(((u128)1 << low) - 1);
}

/* Walk the keys of tag that hold point v of a space of width bits: one per
 * prefix length that some key of the tag has. */
static void walk_point(const struct table *t, struct search *s, u128 v, unsigned width, unsigned tag)
{
	for (unsigned len = 0; len <= width && !s->cut; len++)
		if (t->alen[tag][len])
			walk(t, s, lookup(t, prefix_of(v, width, len), 0, len, tag));
}

/* The same for a pair of an address and a port. */
static void walk_pair(const struct table *t, struct search *s, u128 v, unsigned width, unsigned tag, unsigned port)
{
	for (unsigned len = 0; len <= width && !s->cut; len++) {
		if (!t->alen[tag][len])
			continue;
		u128 pre = prefix_of(v, width, len);
		for (unsigned plen = 0; plen <= 16 && !s->cut; plen++)
			if (t->plen[plen])
				walk(t, s, lookup(t, pre, (unsigned)prefix_of(port, 16, plen), len * 17 + plen, tag));
	}
}

static bool mask_covers(unsigned outer, unsigned inner)
{
	return outer == 0 || (inner != 0 && (outer & inner) == inner);
}

bool ss_rule_shadows(const struct ss_rule *a, const struct ss_rule *b)
{
	if ((a->ops & b->ops) != b->ops || !mask_covers(a->protos, b->protos) || !mask_covers(a->families, b->families))
		return false;
	if (a->has_addr && (!b->has_addr || !ss_ipset_covers(&a->addr, &b->addr)))
		return false;
	if (a->has_port && (!b->has_port || !ss_portset_covers(&a->port, &b->port)))
		return false;
	if (a->nprograms) {
		if (!b->nprograms)
			return false;
		for (unsigned i = 0; i < b->nprograms; i++) {
			bool found = false;
			for (unsigned j = 0; j < a->nprograms && !found; j++)
				found = strcmp(a->programs[j], b->programs[i]) == 0 ||
					(!has_glob(b->programs[i]) && ss_glob_match(a->programs[j], b->programs[i]));
			if (!found)
				return false;
		}
	}
	if (a->nhosts) {
		if (!b->nhosts)
			return false;
		for (unsigned i = 0; i < b->nhosts; i++) {
			bool found = false;
			for (unsigned j = 0; j < a->nhosts && !found; j++)
				found = strcmp(a->hosts[j], b->hosts[i]) == 0 ||
					(!has_glob(b->hosts[i]) && ss_glob_match(a->hosts[j], b->hosts[i]));
			if (!found)
				return false;
		}
	}
	return true;
}

static void search(const struct table *t, struct search *s)
{
	const struct ss_rule *b = s->b;

	/* rules with no addr, port or program: one per (ops, protos, families) */
	for (unsigned ops = 1; ops < 32; ops++)
		for (unsigned pr = 0; pr < 4; pr++)
			for (unsigned fa = 0; fa < 4; fa++) {
				uint32_t j = t->first[ops][pr][fa];
				if (j < s->best && (ops & b->ops) == b->ops && mask_covers(pr, b->protos) &&
				    mask_covers(fa, b->families) && ss_rule_shadows(&s->rules[j], b))
					s->best = j;
			}
	/* the point that a shadowing rule's sets must hold: b's first address
	 * (IPv4 if it has one: a's IPv4 ranges must then hold b's) and port
	 * (a matcher that is present always has a range: an empty list is an
	 * error) */
	bool v4 = b->has_addr && b->addr.n4;
	bool v6 = b->has_addr && !b->addr.n4 && b->addr.n6;
	u128 pa = v4 ? b->addr.v4[0].lo : v6 ? v6_num(b->addr.v6[0].lo) : 0;
	unsigned wa = v4 ? 32 : 128;
	bool port = b->has_port && b->port.n;
	unsigned pp = port ? b->port.r[0].lo : 0;

	if ((v4 || v6) && port) {
		walk_pair(t, s, pa, wa, v4 ? T_AP4 : T_AP6, pp);
		walk_point(t, s, pa, wa, v4 ? T_APX4 : T_APX6);
	}
	if (v4 || v6)
		walk_point(t, s, pa, wa, v4 ? T_A_ADDR4 : T_A_ADDR6);
	if (port)
		walk_point(t, s, pp, 16, T_P_PORT);
	if (b->nhosts && !s->cut)
		walk(t, s, lookup(t, 0, 0, 0, T_N_HOST));
	if (b->nprograms) {
		walk(t, s, lookup(t, name_hash(b->programs[0]), 0, 0, T_N_PROG));
		if (!has_glob(b->programs[0]) && !s->cut)
			walk(t, s, lookup(t, 0, 0, 0, T_N_GLOB));
	}
}

long ss_shadow_find(const struct ss_policy *p, uint32_t max_compare, uint32_t *by)
{
	struct table t = { 0 };
	long cut = 0;
	bool ok = true;
	vec_init(&t.nodes, sizeof(struct node));
	memset(t.first, 0xff, sizeof(t.first));
	for (uint32_t i = 0; i < p->nrules && ok; i++) {
		struct search s = { p->rules, &p->rules[i], NONE, max_compare, false };
		search(&t, &s);
		by[i] = s.best;
		cut += s.cut;
		ok = file_all(&t, &p->rules[i], i);
	}
	vec_free(&t.nodes);
	if (t.b)
		scratch_put(t.b, t.cap * sizeof(*t.b));
	return ok ? cut : -1;
}

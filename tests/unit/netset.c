/*
 * Unit tests of the address and port sets (src/engine/netset.c): what the builders
 * accept, how they merge overlapping and adjacent ranges, lookups at range
 * edges, k-th port of a window, and a randomised comparison of 100000 CIDRs
 * (IPv4, IPv6 and IPv4-mapped) and of random port sets against brute-force
 * references. The random tests use a fixed seed so a failure reproduces.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netset.h"

/* ---- helpers ---- */

static struct ss_addr ip(const char *s)
{
	struct ss_addr a;
	if (!ss_addr_parse_ip(&a, s))
		fail_msg("bad address in test: %s", s);
	return a;
}

static bool has(const struct ss_ipset *s, const char *addr)
{
	struct ss_addr a = ip(addr);
	return ss_ipset_contains(s, &a);
}

/* Build a set from a NULL-terminated list of CIDRs that must all be valid. */
static struct ss_ipset ipset(struct arena *ar, ...)
{
	struct ss_ipset_builder b;
	struct ss_ipset s;
	bool oom = false;
	va_list ap;
	ss_ipset_builder_init(&b);
	va_start(ap, ar);
	for (const char *c; (c = va_arg(ap, const char *)) != NULL;)
		if (!ss_ipset_builder_add(&b, c, &oom))
			fail_msg("CIDR refused: %s", c);
	va_end(ap);
	assert_true(ss_ipset_builder_finish(&b, ar, &s));
	assert_false(oom);
	return s;
}

static struct ss_portset portset(struct arena *ar, ...)
{
	struct ss_portset_builder b;
	struct ss_portset s;
	bool oom = false;
	va_list ap;
	ss_portset_builder_init(&b);
	va_start(ap, ar);
	for (const char *c; (c = va_arg(ap, const char *)) != NULL;)
		if (!ss_portset_builder_add(&b, c, &oom))
			fail_msg("port item refused: %s", c);
	va_end(ap);
	assert_true(ss_portset_builder_finish(&b, ar, &s));
	return s;
}

static int setup(void **state)
{
	*state = arena_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	arena_free(*state);
	return 0;
}

/* Sorted, non-empty, disjoint and not adjacent: the invariant lookups rely on. */
static void check_ipset_shape(const struct ss_ipset *s)
{
	for (uint32_t i = 0; i < s->n4; i++) {
		assert_true(s->v4[i].lo <= s->v4[i].hi);
		if (i)
			assert_true(s->v4[i - 1].hi != UINT32_MAX && s->v4[i].lo > s->v4[i - 1].hi + 1);
	}
	for (uint32_t i = 0; i < s->n6; i++) {
		const struct ss_range6 *r = &s->v6[i];
		assert_true(r->lo.hi < r->hi.hi || (r->lo.hi == r->hi.hi && r->lo.lo <= r->hi.lo));
		if (i) {
			struct ss_u128 prev = s->v6[i - 1].hi;
			/* prev + 1 < lo */
			assert_false(prev.hi == UINT64_MAX && prev.lo == UINT64_MAX);
			struct ss_u128 next = prev;
			if (++next.lo == 0)
				next.hi++;
			assert_true(next.hi < r->lo.hi || (next.hi == r->lo.hi && next.lo < r->lo.lo));
		}
	}
}

/* ---- address sets ---- */

static void ipset_merges_v4(void **state)
{
	struct arena *ar = *state;
	/* overlapping: a /16 inside a /8 */
	struct ss_ipset s = ipset(ar, "10.1.0.0/16", "10.0.0.0/8", NULL);
	assert_int_equal(s.n4, 1);
	assert_int_equal(s.n6, 0);
	assert_int_equal(s.v4[0].lo, 0x0a000000u);
	assert_int_equal(s.v4[0].hi, 0x0affffffu);

	/* adjacent halves join */
	s = ipset(ar, "10.128.0.0/9", "10.0.0.0/9", NULL);
	assert_int_equal(s.n4, 1);
	assert_int_equal(s.v4[0].lo, 0x0a000000u);
	assert_int_equal(s.v4[0].hi, 0x0affffffu);

	/* a gap of one /24 keeps them apart */
	s = ipset(ar, "10.0.2.0/24", "10.0.0.0/24", NULL);
	assert_int_equal(s.n4, 2);
	assert_int_equal(s.v4[0].hi, 0x0a0000ffu);
	assert_int_equal(s.v4[1].lo, 0x0a000200u);

	/* adjacent single addresses, in any order, with duplicates */
	s = ipset(ar, "1.1.1.3", "1.1.1.1", "1.1.1.2", "1.1.1.2", "1.1.1.5", NULL);
	assert_int_equal(s.n4, 2);
	assert_int_equal(s.v4[0].lo, 0x01010101u);
	assert_int_equal(s.v4[0].hi, 0x01010103u);
	assert_int_equal(s.v4[1].lo, 0x01010105u);

	/* the top of the space: no overflow when joining past 255.255.255.255 */
	s = ipset(ar, "255.255.255.255", "128.0.0.0/1", "0.0.0.0/1", NULL);
	assert_int_equal(s.n4, 1);
	assert_int_equal(s.v4[0].lo, 0);
	assert_int_equal(s.v4[0].hi, UINT32_MAX);
	s = ipset(ar, "255.255.255.255", "255.255.255.254/32", "1.0.0.0/8", NULL);
	assert_int_equal(s.n4, 2);
	assert_int_equal(s.v4[1].lo, 0xfffffffeu);
	assert_int_equal(s.v4[1].hi, UINT32_MAX);
	check_ipset_shape(&s);
}

static void ipset_merges_v6(void **state)
{
	struct arena *ar = *state;
	struct ss_ipset s = ipset(ar, "2001:db8:8000::/33", "2001:db8::/33", NULL);
	assert_int_equal(s.n6, 1);
	assert_int_equal(s.n4, 0);
	assert_true(s.v6[0].lo.hi == 0x20010db800000000ull && s.v6[0].lo.lo == 0);
	assert_true(s.v6[0].hi.hi == 0x20010db8ffffffffull && s.v6[0].hi.lo == UINT64_MAX);

	/* adjacency across the 64-bit halves: ...:ffff:ffff:ffff:ffff then the next /64 */
	s = ipset(ar, "2001:db8:0:1::/64", "2001:db8::/64", NULL);
	assert_int_equal(s.n6, 1);
	s = ipset(ar, "2001:db8:0:2::/64", "2001:db8::/64", NULL);
	assert_int_equal(s.n6, 2);

	/* the top address and the two halves of the space */
	s = ipset(ar, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "8000::/1", "::/1", NULL);
	assert_int_equal(s.n6, 1);
	assert_true(s.v6[0].lo.hi == 0 && s.v6[0].lo.lo == 0);
	assert_true(s.v6[0].hi.hi == UINT64_MAX && s.v6[0].hi.lo == UINT64_MAX);
	/* ::/1 + 8000::/1 includes ::ffff:0:0/96, so all of IPv4 too */
	assert_int_equal(s.n4, 1);
	assert_int_equal(s.v4[0].lo, 0);
	assert_int_equal(s.v4[0].hi, UINT32_MAX);
	check_ipset_shape(&s);
}

static void ipset_mapped_adds_v4(void **state)
{
	struct arena *ar = *state;
	struct ss_ipset s = ipset(ar, "::ffff:10.0.0.0/104", NULL);
	assert_int_equal(s.n6, 1);
	assert_int_equal(s.n4, 1);
	assert_int_equal(s.v4[0].lo, 0x0a000000u);
	assert_int_equal(s.v4[0].hi, 0x0affffffu);
	assert_true(has(&s, "10.9.9.9"));
	assert_true(has(&s, "::ffff:10.9.9.9"));
	assert_false(has(&s, "11.0.0.0"));

	/* and merges with a v4 CIDR written the other way */
	s = ipset(ar, "::ffff:10.0.0.0/105", "10.128.0.0/9", NULL);
	assert_int_equal(s.n4, 1);
	assert_int_equal(s.v4[0].hi, 0x0affffffu);

	/* a v6 range outside the mapped block adds nothing to IPv4 */
	s = ipset(ar, "2001:db8::/32", "::/81", NULL);
	assert_int_equal(s.n4, 0);
	assert_false(has(&s, "1.2.3.4"));
	/* one that spans the block adds all of it */
	s = ipset(ar, "::/80", NULL);
	assert_int_equal(s.n4, 1);
	assert_int_equal(s.v4[0].lo, 0);
	assert_int_equal(s.v4[0].hi, UINT32_MAX);
	/* one that starts inside it and runs past its end adds the tail */
	s = ipset(ar, "::ffff:192.0.0.0/98", NULL);
	assert_int_equal(s.n4, 1);
	assert_int_equal(s.v4[0].lo, 0xc0000000u);
	assert_int_equal(s.v4[0].hi, UINT32_MAX);
}

static void ipset_contains_edges(void **state)
{
	struct arena *ar = *state;
	struct ss_ipset s = ipset(ar, "10.0.0.0/8", "192.168.1.0/24", "203.0.113.9", "2001:db8::/32", "::1", NULL);
	check_ipset_shape(&s);
	static const struct {
		const char *a;
		bool in;
	} cases[] = {
		{ "9.255.255.255", false }, { "10.0.0.0", true }, { "10.255.255.255", true }, { "11.0.0.0", false },
		{ "192.168.0.255", false }, { "192.168.1.0", true }, { "192.168.1.255", true }, { "192.168.2.0", false },
		{ "203.0.113.8", false }, { "203.0.113.9", true }, { "203.0.113.10", false },
		{ "0.0.0.0", false }, { "255.255.255.255", false },
		{ "::ffff:10.0.0.0", true }, { "::ffff:9.255.255.255", false },
		{ "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false }, { "2001:db8::", true },
		{ "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true }, { "2001:db9::", false },
		{ "::", false }, { "::1", true }, { "::2", false },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (has(&s, cases[i].a) != cases[i].in)
			fail_msg("%s: want %s", cases[i].a, cases[i].in ? "in" : "out");
}

static void sets_cover(void **state)
{
	struct arena *ar = *state;
	struct ss_ipset big = ipset(ar, "10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32", NULL);
	struct ss_ipset in = ipset(ar, "10.1.0.0/16", "192.168.3.4", "2001:db8:1::/48", NULL);
	struct ss_ipset straddle = ipset(ar, "10.255.255.0/23", NULL); /* 10.255.254.0-10.255.255.255: inside */
	struct ss_ipset out = ipset(ar, "10.0.0.0/7", NULL);            /* 10.0.0.0-11.255.255.255 */
	struct ss_ipset out6 = ipset(ar, "2001:db8::/31", NULL);
	struct ss_ipset none = ipset(ar, NULL);
	assert_true(ss_ipset_covers(&big, &in));
	assert_true(ss_ipset_covers(&big, &straddle));
	assert_true(ss_ipset_covers(&big, &none));
	assert_true(ss_ipset_covers(&big, &big));
	assert_false(ss_ipset_covers(&big, &out));
	assert_false(ss_ipset_covers(&big, &out6));
	assert_false(ss_ipset_covers(&in, &big));
	assert_false(ss_ipset_covers(&none, &in));
	struct ss_portset w = portset(ar, "1000-2000", "3000", NULL);
	struct ss_portset wi = portset(ar, "1500", "1000-1999", "3000", NULL);
	struct ss_portset wo = portset(ar, "2000-3000", NULL);
	assert_true(ss_portset_covers(&w, &wi));
	assert_false(ss_portset_covers(&w, &wo));
	assert_false(ss_portset_covers(&wi, &w));
}

static void ipset_empty(void **state)
{
	struct arena *ar = *state;
	struct ss_ipset s = ipset(ar, NULL);
	assert_int_equal(s.n4, 0);
	assert_int_equal(s.n6, 0);
	assert_false(has(&s, "0.0.0.0"));
	assert_false(has(&s, "::"));
	assert_false(has(&s, "::ffff:1.2.3.4"));
}

static void ipset_rejects_bad_cidrs(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8x", "10.0.0.0/ 8",
		"10.0.0.0/8/8", "10.0.0.0/0008", "1.2.3", "1.2.3.4.5", "256.0.0.0", "10.0.0.0 /8",
		" 10.0.0.1", "::/129", "::g", ":::", "2001:db8::/", "2001:db8::/1000", "1:2:3:4:5:6:7:8:9",
		"example.com", "10.0.0.1%eth0", "fe80::1%eth0",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ss_ipset_builder b;
		bool oom = false;
		ss_ipset_builder_init(&b);
		if (ss_ipset_builder_add(&b, bad[i], &oom))
			fail_msg("accepted bad CIDR '%s'", bad[i]);
		assert_false(oom);
		vec_free(&b.v4);
		vec_free(&b.v6);
	}
	/* and the good edges of the same syntax */
	static const char *const good[] = { "0.0.0.0/0", "10.0.0.0/32", "10.0.0.0/008", "::/0", "::/128", "::ffff:1.2.3.4/128", "1:2:3:4:5:6:7:8" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct ss_ipset_builder b;
		bool oom = false;
		ss_ipset_builder_init(&b);
		if (!ss_ipset_builder_add(&b, good[i], &oom))
			fail_msg("refused good CIDR '%s'", good[i]);
		vec_free(&b.v4);
		vec_free(&b.v6);
	}
}

/* ---- port sets ---- */

static void portset_merges_and_nth(void **state)
{
	struct arena *ar = *state;
	struct ss_portset s = portset(ar, "81", "80", NULL);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.count, 2);
	assert_int_equal(s.r[0].lo, 80);
	assert_int_equal(s.r[0].hi, 81);

	s = portset(ar, "5-20", "1-10", "20", NULL);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.count, 20);

	s = portset(ar, "300", "100-200", "1-5", NULL);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.count, 5 + 101 + 1);
	assert_int_equal(s.r[0].before, 0);
	assert_int_equal(s.r[1].before, 5);
	assert_int_equal(s.r[2].before, 106);
	assert_int_equal(ss_portset_nth(&s, 0), 1);
	assert_int_equal(ss_portset_nth(&s, 4), 5);
	assert_int_equal(ss_portset_nth(&s, 5), 100);
	assert_int_equal(ss_portset_nth(&s, 105), 200);
	assert_int_equal(ss_portset_nth(&s, 106), 300);
	static const struct {
		uint16_t port;
		bool in;
	} cases[] = {
		{ 0, false }, { 1, true }, { 5, true }, { 6, false }, { 99, false }, { 100, true },
		{ 200, true }, { 201, false }, { 299, false }, { 300, true }, { 301, false }, { 65535, false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (ss_portset_contains(&s, cases[i].port) != cases[i].in)
			fail_msg("port %u: want %s", cases[i].port, cases[i].in ? "in" : "out");

	/* the whole space */
	s = portset(ar, "0-65535", NULL);
	assert_int_equal(s.count, 65536);
	assert_int_equal(ss_portset_nth(&s, 0), 0);
	assert_int_equal(ss_portset_nth(&s, 65535), 65535);
	assert_true(ss_portset_contains(&s, 0));
	assert_true(ss_portset_contains(&s, 65535));

	/* the top port next to a range below it */
	s = portset(ar, "65535", "65530-65534", NULL);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.count, 6);
	assert_int_equal(ss_portset_nth(&s, 5), 65535);
}

static void portset_empty(void **state)
{
	struct arena *ar = *state;
	struct ss_portset s = portset(ar, NULL);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.count, 0);
	assert_false(ss_portset_contains(&s, 0));
	assert_false(ss_portset_contains(&s, 80));
}

static void portset_rejects_bad_items(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "-", "1-", "-1", "65536", "99999", "123456", "20-10", "1a", "1--2", "1-2-3", "+1", " 1", "1 ",
		"0x10", "http", "1-65536",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ss_portset_builder b;
		bool oom = false;
		ss_portset_builder_init(&b);
		if (ss_portset_builder_add(&b, bad[i], &oom))
			fail_msg("accepted bad port item '%s'", bad[i]);
		assert_false(oom);
		vec_free(&b.r);
	}
}

/* ---- randomised comparison with brute force ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: small, fast, and the same on every machine */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static unsigned below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

struct cidr {
	bool v4;
	uint8_t b[16]; /* v6 form; v4 in b[12..15] with the mapped prefix */
	unsigned plen; /* in bits of the v6 form: a v4 /n is 96 + n */
};

static const uint8_t mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned plen)
{
	unsigned full = plen / 8, rest = plen % 8;
	if (memcmp(a, b, full) != 0)
		return false;
	if (!rest)
		return true;
	uint8_t m = (uint8_t)(0xff << (8 - rest));
	return (a[full] & m) == (b[full] & m);
}

/* The contract, literally: a CIDR holds q when their first plen bits agree;
 * IPv4 CIDRs only ever hold IPv4 (or IPv4-mapped) addresses. */
static bool ref_contains(const struct cidr *c, size_t n, const uint8_t q[16])
{
	bool q_is_v4 = memcmp(q, mapped_prefix, 12) == 0;
	for (size_t i = 0; i < n; i++) {
		if (c[i].v4 && !q_is_v4)
			continue;
		if (prefix_eq(c[i].b, q, c[i].plen))
			return true;
	}
	return false;
}

static void random_v6_base(uint8_t b[16])
{
	/* a few clustered regions so CIDRs overlap, nest and touch */
	static const uint8_t heads[][4] = { { 0x20, 0x01, 0x0d, 0xb8 }, { 0xfe, 0x80, 0, 0 }, { 0, 0, 0, 0 }, { 0xff, 0xff, 0xff, 0xff } };
	for (int i = 0; i < 16; i++)
		b[i] = (uint8_t)rnd();
	memcpy(b, heads[below(4)], 4);
	if (below(3) == 0)
		memset(b + 4, 0, 4);
	if (below(4) == 0) /* near or inside ::ffff:0:0/96 */
		memcpy(b, mapped_prefix, below(2) ? 12 : 10);
}

/* wide: allow the very short prefixes that swallow whole families; kept to
 * some rounds only, or nearly every query would land inside one. */
static void random_cidr(struct cidr *c, char *text, size_t cap, bool wide)
{
	memset(c, 0, sizeof(*c));
	unsigned kind = below(8);
	char a[INET6_ADDRSTRLEN];
	if (kind < 4) {
		/* IPv4: first octet from a few values so ranges collide */
		static const uint8_t firsts[] = { 0, 10, 127, 192, 255 };
		c->v4 = true;
		memcpy(c->b, mapped_prefix, 12);
		for (int i = 12; i < 16; i++)
			c->b[i] = (uint8_t)rnd();
		c->b[12] = firsts[below(5)];
		if (below(2))
			c->b[13] = (uint8_t)below(64);
		unsigned r = below(1000);
		unsigned plen4 = !wide ? 16 + below(17) : r < 5 ? below(8) : r < 50 ? 8 + below(8) : 16 + below(17);
		c->plen = 96 + plen4;
		inet_ntop(AF_INET, c->b + 12, a, sizeof(a));
		snprintf(text, cap, "%s/%u", a, plen4);
	} else {
		random_v6_base(c->b);
		unsigned r = below(1000);
		c->plen = !wide ? 48 + below(81) : r < 5 ? below(16) : r < 50 ? 16 + below(32) : 48 + below(81);
		if (kind == 7) { /* written as an IPv4-mapped v6 CIDR */
			memcpy(c->b, mapped_prefix, 12);
			/* now and then wider than the block, which covers all of IPv4 */
			c->plen = wide && below(50) == 0 ? 80 + below(16) : 96 + below(33);
		}
		/* a prefix that holds all of ::ffff:0:0/96 holds all of IPv4 */
		if (!wide && c->plen <= 96 && prefix_eq(c->b, mapped_prefix, c->plen))
			c->plen = 97 + below(32);
		/* a /97../103 inside the block holds a large share of IPv4: keep few */
		if (!wide && c->plen < 104 && prefix_eq(c->b, mapped_prefix, 96) && below(8))
			c->plen = 104 + below(25);
		inet_ntop(AF_INET6, c->b, a, sizeof(a));
		snprintf(text, cap, "%s/%u", a, c->plen);
	}
}

/* A query near c: its first or last address, one outside either end, or inside. */
static void query_near(const struct cidr *c, uint8_t q[16])
{
	memcpy(q, c->b, 16);
	/* first address: host bits cleared */
	for (unsigned bit = c->plen; bit < 128; bit++)
		q[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
	unsigned how = below(5);
	if (how == 1 || how == 3) /* last address */
		for (unsigned bit = c->plen; bit < 128; bit++)
			q[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
	if (how == 2) { /* one below the first: borrow through the bytes */
		for (int i = 15; i >= 0 && q[i]-- == 0; i--)
			;
	} else if (how == 3) { /* one above the last: carry through */
		for (int i = 15; i >= 0 && ++q[i] == 0; i--)
			;
	} else if (how == 4) { /* random host bits */
		for (unsigned bit = c->plen; bit < 128; bit++)
			if (rnd() & 1)
				q[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
	}
}

static void random_ipsets_vs_reference(void **state)
{
	(void)state;
	enum { ROUNDS = 50, PER_ROUND = 2000, QUERIES = 2000 };
	static struct cidr cidrs[2 * PER_ROUND];
	rng_state = 0x5eed5eed12345678ull;
	size_t total = 0, hits = 0, checked = 0;

	for (int round = 0; round < ROUNDS; round++) {
		struct arena *ar = arena_new();
		assert_non_null(ar);
		struct ss_ipset_builder b;
		bool oom = false;
		ss_ipset_builder_init(&b);
		/* rounds differ in size (2000 on average) so sets range from sparse to dense */
		size_t n = 1 + below(2 * PER_ROUND - 1);
		for (size_t i = 0; i < n; i++) {
			char text[80];
			random_cidr(&cidrs[i], text, sizeof(text), round % 5 == 4);
			if (!ss_ipset_builder_add(&b, text, &oom))
				fail_msg("round %d: refused %s", round, text);
		}
		total += n;
		struct ss_ipset s;
		assert_true(ss_ipset_builder_finish(&b, ar, &s));
		check_ipset_shape(&s);

		for (int k = 0; k < QUERIES; k++) {
			uint8_t q[16];
			if (k % 10 < 3) {
				/* anywhere: mostly outside every CIDR */
				for (int i = 0; i < 16; i++)
					q[i] = (uint8_t)rnd();
				if (k % 10 == 0)
					memcpy(q, mapped_prefix, 12);
				else if (k % 10 == 1)
					random_v6_base(q);
			} else {
				query_near(&cidrs[below((unsigned)n)], q);
			}
			bool want = ref_contains(cidrs, n, q);
			struct ss_addr a = { .family = 6 };
			memcpy(a.ip, q, 16);
			bool got = ss_ipset_contains(&s, &a);
			/* an IPv4 address must answer the same as its mapped form */
			bool got4 = got;
			if (memcmp(q, mapped_prefix, 12) == 0) {
				struct ss_addr a4 = { .family = 4 };
				memcpy(a4.ip, q + 12, 4);
				got4 = ss_ipset_contains(&s, &a4);
			}
			if (got != want || got4 != want) {
				char t[INET6_ADDRSTRLEN];
				inet_ntop(AF_INET6, q, t, sizeof(t));
				fail_msg("round %d query %d %s: want %d, got %d (as IPv4: %d)", round, k, t, want, got, got4);
			}
			hits += want;
			checked++;
		}
		arena_free(ar);
	}
	assert_true(total >= 90000); /* the rounds above add about 100000 CIDRs */
	/* the queries must exercise both answers, or the comparison proves little */
	assert_true(hits > checked / 5);
	assert_true(hits < checked * 9 / 10);
	print_message("  %zu CIDRs, %zu queries, %zu inside\n", total, checked, hits);
}

static void random_ipsets_big_round(void **state)
{
	(void)state;
	/* one set of 50000 CIDRs: deep binary searches and heavy merging */
	enum { N = 50000, QUERIES = 400 };
	static struct cidr cidrs[N];
	rng_state = 0x0badc0ffee000001ull;
	struct arena *ar = arena_new();
	struct ss_ipset_builder b;
	bool oom = false;
	ss_ipset_builder_init(&b);
	for (size_t i = 0; i < N; i++) {
		char text[80];
		random_cidr(&cidrs[i], text, sizeof(text), true);
		assert_true(ss_ipset_builder_add(&b, text, &oom));
	}
	struct ss_ipset s;
	assert_true(ss_ipset_builder_finish(&b, ar, &s));
	check_ipset_shape(&s);
	for (int k = 0; k < QUERIES; k++) {
		uint8_t q[16];
		query_near(&cidrs[below(N)], q);
		struct ss_addr a = { .family = 6 };
		memcpy(a.ip, q, 16);
		if (ss_ipset_contains(&s, &a) != ref_contains(cidrs, N, q))
			fail_msg("query %d differs from the reference", k);
	}
	arena_free(ar);
}

static void random_portsets_vs_reference(void **state)
{
	(void)state;
	static uint8_t in[65536];
	static uint16_t list[65536];
	rng_state = 0x9077a11ull;
	for (int round = 0; round < 30; round++) {
		struct arena *ar = arena_new();
		struct ss_portset_builder b;
		bool oom = false;
		memset(in, 0, sizeof(in));
		ss_portset_builder_init(&b);
		unsigned items = 1 + below(round < 10 ? 5 : 200);
		for (unsigned i = 0; i < items; i++) {
			char text[32];
			unsigned lo = below(65536), hi = lo;
			if (below(2))
				hi = lo + below(round < 20 ? 50 : 5000);
			if (hi > 65535)
				hi = 65535;
			if (hi == lo && below(2))
				snprintf(text, sizeof(text), "%u", lo);
			else
				snprintf(text, sizeof(text), "%u-%u", lo, hi);
			assert_true(ss_portset_builder_add(&b, text, &oom));
			for (unsigned p = lo; p <= hi; p++)
				in[p] = 1;
		}
		struct ss_portset s;
		assert_true(ss_portset_builder_finish(&b, ar, &s));
		uint32_t count = 0;
		for (unsigned p = 0; p < 65536; p++) {
			if (ss_portset_contains(&s, (uint16_t)p) != (bool)in[p])
				fail_msg("round %d port %u: want %d", round, p, in[p]);
			if (in[p])
				list[count++] = (uint16_t)p;
		}
		assert_int_equal(s.count, count);
		for (uint32_t k = 0; k < count; k++)
			if (ss_portset_nth(&s, k) != list[k])
				fail_msg("round %d nth(%u) = %u, want %u", round, k, ss_portset_nth(&s, k), list[k]);
		/* ranges are sorted, disjoint and not adjacent */
		for (uint32_t i = 1; i < s.n; i++)
			assert_true((uint32_t)s.r[i].lo > (uint32_t)s.r[i - 1].hi + 1);
		arena_free(ar);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(ipset_merges_v4, setup, teardown),
		cmocka_unit_test_setup_teardown(ipset_merges_v6, setup, teardown),
		cmocka_unit_test_setup_teardown(ipset_mapped_adds_v4, setup, teardown),
		cmocka_unit_test_setup_teardown(ipset_contains_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(ipset_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(sets_cover, setup, teardown),
		cmocka_unit_test(ipset_rejects_bad_cidrs),
		cmocka_unit_test_setup_teardown(portset_merges_and_nth, setup, teardown),
		cmocka_unit_test_setup_teardown(portset_empty, setup, teardown),
		cmocka_unit_test(portset_rejects_bad_items),
		cmocka_unit_test(random_ipsets_vs_reference),
		cmocka_unit_test(random_ipsets_big_round),
		cmocka_unit_test(random_portsets_vs_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

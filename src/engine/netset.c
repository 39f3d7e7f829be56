/*
 * netset: sorted range sets for addresses and ports (see netset.h).
 */
#include "netset.h"

#include <arpa/inet.h>
#include <string.h>

struct ss_u128 ss_u128_from_bytes(const uint8_t *b)
{
	struct ss_u128 v = { 0, 0 };
	for (int i = 0; i < 8; i++) {
		v.hi = v.hi << 8 | b[i];
		v.lo = v.lo << 8 | b[8 + i];
	}
	return v;
}


/* a + 1, saturating at the maximum (only used to test adjacency). */
struct ss_u128 ss_u128_inc(struct ss_u128 a)
{
	if (a.lo == UINT64_MAX && a.hi == UINT64_MAX)
		return a;
	a.lo++;
	if (a.lo == 0)
		a.hi++;
	return a;
}

void ss_ipset_builder_init(struct ss_ipset_builder *b)
{
	vec_init(&b->v4, sizeof(struct ss_range4));
	vec_init(&b->v6, sizeof(struct ss_range6));
}

static bool parse_prefix(const char *s, unsigned max, unsigned *out)
{
	if (!*s || strlen(s) > 3)
		return false;
	unsigned v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

static bool add_v4(struct ss_ipset_builder *b, uint32_t lo, uint32_t hi, bool *oom)
{
	struct ss_range4 *r = vec_push(&b->v4);
	if (!r) {
		*oom = true;
		return false;
	}
	r->lo = lo;
	r->hi = hi;
	return true;
}

bool ss_ipset_builder_add(struct ss_ipset_builder *b, const char *cidr, bool *oom)
{
	char ip[64];
	const char *slash = strchr(cidr, '/');
	size_t n = slash ? (size_t)(slash - cidr) : strlen(cidr);
	unsigned plen;
	uint8_t bytes[16];

	if (n == 0 || n >= sizeof(ip))
		return false;
	memcpy(ip, cidr, n);
	ip[n] = '\0';
	if (!strchr(ip, ':')) {
		if (inet_pton(AF_INET, ip, bytes) != 1)
			return false;
		plen = 32;
		if (slash && !parse_prefix(slash + 1, 32, &plen))
			return false;
		uint32_t v = (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 | bytes[3];
		uint32_t mask = plen ? ~(uint32_t)0 << (32 - plen) : 0;
		return add_v4(b, v & mask, (v & mask) | ~mask, oom);
	}
	if (inet_pton(AF_INET6, ip, bytes) != 1)
		return false;
	plen = 128;
	if (slash && !parse_prefix(slash + 1, 128, &plen))
		return false;
	struct ss_u128 v = ss_u128_from_bytes(bytes), m;
	m.hi = plen >= 64 ? UINT64_MAX : plen ? ~(uint64_t)0 << (64 - plen) : 0;
	m.lo = plen <= 64 ? 0 : plen == 128 ? UINT64_MAX : ~(uint64_t)0 << (128 - plen);
	struct ss_range6 *r = vec_push(&b->v6);
	if (!r) {
		*oom = true;
		return false;
	}
	r->lo.hi = v.hi & m.hi;
	r->lo.lo = v.lo & m.lo;
	r->hi.hi = r->lo.hi | ~m.hi;
	r->hi.lo = r->lo.lo | ~m.lo;

	/* The part inside ::ffff:0:0/96 also matches the IPv4 addresses it maps. */
	const struct ss_u128 mlo = { 0, 0x0000ffff00000000ULL }, mhi = { 0, 0x0000ffffffffffffULL };
	if (ss_u128_cmp(r->hi, mlo) >= 0 && ss_u128_cmp(r->lo, mhi) <= 0) {
		uint32_t lo4 = ss_u128_cmp(r->lo, mlo) > 0 ? (uint32_t)r->lo.lo : 0;
		uint32_t hi4 = ss_u128_cmp(r->hi, mhi) < 0 ? (uint32_t)r->hi.lo : UINT32_MAX;
		return add_v4(b, lo4, hi4, oom);
	}
	return true;
}

static int cmp_r4(const void *a, const void *b)
{
	const struct ss_range4 *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int cmp_r6(const void *a, const void *b)
{
	const struct ss_range6 *x = a, *y = b;
	return ss_u128_cmp(x->lo, y->lo);
}

/* Sort and merge overlapping or adjacent ranges in place; returns the new count. */
static size_t merge_r4(struct ss_range4 *r, size_t n)
{
	sort_elems(r, n, sizeof(*r), cmp_r4);
	size_t out = 0;
	for (size_t i = 0; i < n; i++) {
		if (out && (r[out - 1].hi == UINT32_MAX || r[i].lo <= r[out - 1].hi + 1)) {
			if (r[i].hi > r[out - 1].hi)
				r[out - 1].hi = r[i].hi;
		} else {
			r[out++] = r[i];
		}
	}
	return out;
}

static size_t merge_r6(struct ss_range6 *r, size_t n)
{
	sort_elems(r, n, sizeof(*r), cmp_r6);
	size_t out = 0;
	for (size_t i = 0; i < n; i++) {
		if (out && ss_u128_cmp(r[i].lo, ss_u128_inc(r[out - 1].hi)) <= 0) {
			if (ss_u128_cmp(r[i].hi, r[out - 1].hi) > 0)
				r[out - 1].hi = r[i].hi;
		} else {
			r[out++] = r[i];
		}
	}
	return out;
}

static void *copy_out(struct arena *a, const void *src, size_t bytes)
{
	void *d = arena_alloc(a, bytes);
	if (d && bytes)
		memcpy(d, src, bytes);
	return d;
}

bool ss_ipset_builder_finish(struct ss_ipset_builder *b, struct arena *a, struct ss_ipset *out)
{
	size_t n4 = merge_r4(b->v4.data, b->v4.len);
	size_t n6 = merge_r6(b->v6.data, b->v6.len);
	out->v4 = copy_out(a, b->v4.data, n4 * sizeof(struct ss_range4));
	out->v6 = copy_out(a, b->v6.data, n6 * sizeof(struct ss_range6));
	out->n4 = (uint32_t)n4;
	out->n6 = (uint32_t)n6;
	vec_free(&b->v4);
	vec_free(&b->v6);
	return out->v4 && out->v6;
}

bool ss_ipset_contains(const struct ss_ipset *s, const struct ss_addr *a)
{
	uint32_t v4;
	if (ss_addr_v4_view(a, &v4)) {
		size_t lo = 0, hi = s->n4;
		while (lo < hi) { /* first range with lo > v4 */
			size_t mid = (lo + hi) / 2;
			if (s->v4[mid].lo <= v4)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo > 0 && v4 <= s->v4[lo - 1].hi;
	}
	struct ss_u128 v = ss_u128_from_bytes(a->ip);
	size_t lo = 0, hi = s->n6;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (ss_u128_cmp(s->v6[mid].lo, v) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && ss_u128_cmp(v, s->v6[lo - 1].hi) <= 0;
}

void ss_portset_builder_init(struct ss_portset_builder *b)
{
	vec_init(&b->r, sizeof(struct ss_prange));
}

static bool parse_u16(const char *s, size_t n, uint16_t *out)
{
	if (n == 0 || n > 5)
		return false;
	uint32_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

bool ss_portset_builder_add(struct ss_portset_builder *b, const char *item, bool *oom)
{
	uint16_t lo, hi;
	const char *dash = strchr(item, '-');
	if (dash) {
		if (!parse_u16(item, (size_t)(dash - item), &lo) || !parse_u16(dash + 1, strlen(dash + 1), &hi) || lo > hi)
			return false;
	} else {
		if (!parse_u16(item, strlen(item), &lo))
			return false;
		hi = lo;
	}
	struct ss_prange *r = vec_push(&b->r);
	if (!r) {
		*oom = true;
		return false;
	}
	r->lo = lo;
	r->hi = hi;
	return true;
}

static int cmp_pr(const void *a, const void *b)
{
	const struct ss_prange *x = a, *y = b;
	return (int)x->lo - (int)y->lo;
}

bool ss_portset_builder_finish(struct ss_portset_builder *b, struct arena *a, struct ss_portset *out)
{
	struct ss_prange *r = b->r.data;
	size_t n = b->r.len, m = 0;
	sort_elems(r, n, sizeof(*r), cmp_pr);
	for (size_t i = 0; i < n; i++) {
		if (m && (uint32_t)r[i].lo <= (uint32_t)r[m - 1].hi + 1) {
			if (r[i].hi > r[m - 1].hi)
				r[m - 1].hi = r[i].hi;
		} else {
			r[m++] = r[i];
		}
	}
	uint32_t count = 0;
	for (size_t i = 0; i < m; i++) {
		r[i].before = count;
		count += (uint32_t)r[i].hi - r[i].lo + 1;
	}
	out->r = copy_out(a, r, m * sizeof(*r));
	out->n = (uint32_t)m;
	out->count = count;
	vec_free(&b->r);
	return out->r != NULL;
}

bool ss_portset_contains(const struct ss_portset *s, uint16_t port)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->r[mid].lo <= port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && port <= s->r[lo - 1].hi;
}

uint16_t ss_portset_nth(const struct ss_portset *s, uint32_t k)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) { /* first range whose 'before' exceeds k */
		size_t mid = (lo + hi) / 2;
		if (s->r[mid].before <= k)
			lo = mid + 1;
		else
			hi = mid;
	}
	const struct ss_prange *r = &s->r[lo - 1];
	return (uint16_t)(r->lo + (k - r->before));
}

/* Each range of the inner set lies inside one range of the outer set (the
 * outer ranges are merged, so no inner range can straddle two of them). */
bool ss_ipset_covers(const struct ss_ipset *outer, const struct ss_ipset *inner)
{
	uint32_t j = 0;
	for (uint32_t i = 0; i < inner->n4; i++) {
		while (j < outer->n4 && outer->v4[j].hi < inner->v4[i].lo)
			j++;
		if (j == outer->n4 || outer->v4[j].lo > inner->v4[i].lo || outer->v4[j].hi < inner->v4[i].hi)
			return false;
	}
	j = 0;
	for (uint32_t i = 0; i < inner->n6; i++) {
		while (j < outer->n6 && ss_u128_cmp(outer->v6[j].hi, inner->v6[i].lo) < 0)
			j++;
		if (j == outer->n6 || ss_u128_cmp(outer->v6[j].lo, inner->v6[i].lo) > 0 ||
		    ss_u128_cmp(outer->v6[j].hi, inner->v6[i].hi) < 0)
			return false;
	}
	return true;
}

bool ss_portset_covers(const struct ss_portset *outer, const struct ss_portset *inner)
{
	uint32_t j = 0;
	for (uint32_t i = 0; i < inner->n; i++) {
		while (j < outer->n && outer->r[j].hi < inner->r[i].lo)
			j++;
		if (j == outer->n || outer->r[j].lo > inner->r[i].lo || outer->r[j].hi < inner->r[i].hi)
			return false;
	}
	return true;
}

/*
 * libFuzzer target: the engine's decision on arbitrary operations, checked
 * against a plain reference (linear scans, fnmatch for globs), plus the pure
 * helpers around it: address text and sockaddr round trips, rotation draws
 * over a rule's port window, fmt_time_utc against gmtime_r, and the netset
 * builders against an independent parse-sort-merge.
 *
 * Input: a 40-byte header (the H_* offsets below; a shorter input is padded
 * with zeros), then "ARGV0\nEXE" up to a NUL byte, then policy text.
 * Without policy text the operation goes to one of the realistic policies
 * read at start from $SOCKSHIM_FUZZ_POLICIES (a directory, files taken in
 * name order; run.sh points it at the policy seeds), so an input fuzzes
 * either the operation alone against real policies, or both.
 * Header byte 34 % 4 == 3 selects the netset mode instead: the text is two
 * comma- or newline-separated lists "A ; B" of CIDRs and port ranges.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "engine.h"
#include "fmt.h"
#include "netset.h"
#include "rotate.h"

#define HDR 40
#define MAX_FIXED 256

/* Byte offsets in the header. */
enum {
	H_FLAGS = 0,   /* op:2 udp:1 v6sock:1 addrkind:2 progmode:2 */
	H_PICK = 1,    /* fixed policy; rule whose ranges give the address/port */
	H_IP = 2,      /* 16 bytes */
	H_PORT = 18,   /* 2 bytes, big endian */
	H_PORTMODE = 20,
	H_SEED = 21,   /* 8 bytes: rotation seed, and seconds for fmt_time_utc */
	H_NSEC = 29,   /* 4 bytes */
	H_CAP = 33,    /* a small fmt buffer's size */
	H_MODE = 34,   /* % 4 == 3: netset mode */
	H_SCOPE = 35,  /* 4 bytes: IPv6 scope id */
	H_DRAWS = 39,  /* rotation draws, skip distance */
};

static struct ss_policy *fixed[MAX_FIXED];
static unsigned nfixed;

static uint64_t be(const uint8_t *b, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | b[i];
	return v;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* The realistic policies: every file of the directory that parses clean. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *dir = getenv("SOCKSHIM_FUZZ_POLICIES");
	struct dirent **ents;
	int n = dir ? scandir(dir, &ents, NULL, by_name) : -1;
	for (int i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		struct stat st;
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < (1 << 20) && nfixed < MAX_FIXED) {
			char *text = malloc((size_t)st.st_size + 1);
			ssize_t got = text ? read(fd, text, (size_t)st.st_size) : -1;
			if (got == st.st_size) {
				struct ss_policy *p = ss_policy_parse(path, text, (size_t)got, NULL, NULL);
				if (p && p->nerrors == 0 && p->nrules)
					fixed[nfixed++] = p;
				else
					ss_policy_free(p);
			}
			free(text);
		}
		if (fd >= 0)
			close(fd);
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
	fprintf(stderr, "engine fuzzer: %u realistic policies from %s\n", nfixed, dir ? dir : "(SOCKSHIM_FUZZ_POLICIES unset)");
	return 0;
}

/* ---- the reference decision ---- */

static bool ref_glob_or_engine(const char *pattern, const char *s)
{
	int r = ref_glob(pattern, s);
	bool got = ss_glob_match(pattern, s);
	if (r >= 0 && r != got) {
		fprintf(stderr, "glob '%s' on '%s': ss_glob_match %d, fnmatch %d\n", pattern, s, got, r);
		CHECK(!"ss_glob_match agrees with fnmatch");
	}
	return got;
}

static bool ref_programs(const struct ss_rule *r, const char *a, const char *b)
{
	if (!r->nprograms)
		return true;
	for (unsigned k = 0; k < r->nprograms; k++)
		if ((a && ref_glob_or_engine(r->programs[k], a)) || (b && ref_glob_or_engine(r->programs[k], b)))
			return true;
	return false;
}

static unsigned __int128 u128(struct ss_u128 v)
{
	return (unsigned __int128)v.hi << 64 | v.lo;
}

static unsigned __int128 addr128(const struct ss_addr *a)
{
	unsigned __int128 v = 0;
	for (int i = 0; i < 16; i++)
		v = v << 8 | a->ip[i];
	return v;
}

/* Linear scan; an IPv4-mapped address is looked up as the IPv4 address. */
static bool ref_in_ipset(const struct ss_ipset *s, const struct ss_addr *a)
{
	uint32_t v4;
	bool mapped = a->family == 6 && addr128(a) >> 32 == 0xffff;
	if (a->family == 4 || mapped) {
		v4 = a->family == 4 ? (uint32_t)be(a->ip, 4) : (uint32_t)be(a->ip + 12, 4);
		for (uint32_t i = 0; i < s->n4; i++)
			if (s->v4[i].lo <= v4 && v4 <= s->v4[i].hi)
				return true;
		return false;
	}
	unsigned __int128 v = addr128(a);
	for (uint32_t i = 0; i < s->n6; i++)
		if (u128(s->v6[i].lo) <= v && v <= u128(s->v6[i].hi))
			return true;
	return false;
}

static bool ref_in_portset(const struct ss_portset *s, uint16_t port)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (s->r[i].lo <= port && port <= s->r[i].hi)
			return true;
	return false;
}

static uint16_t ref_nth(const struct ss_portset *s, uint32_t k)
{
	for (uint32_t i = 0; i < s->n; i++) {
		uint32_t size = (uint32_t)s->r[i].hi - s->r[i].lo + 1;
		if (k < size)
			return (uint16_t)(s->r[i].lo + k);
		k -= size;
	}
	fuzz_fail(__FILE__, __LINE__, "k < count");
}

static bool ref_matches(const struct ss_rule *r, const struct ss_opdesc *d, bool bound_ok)
{
	if (!(r->ops & (1u << d->op)))
		return false;
	if (r->protos && !(r->protos & d->proto))
		return false;
	if (r->families && !(r->families & d->family))
		return false;
	if (d->program ? !ref_programs(r, d->program, NULL) : !bound_ok)
		return false;
	if (r->has_port && !ref_in_portset(&r->port, d->addr->port))
		return false;
	/* the calls made here come from no lookup: a host rule cannot match them */
	if (r->nhosts && !d->host)
		return false;
	static const struct ss_addr any4 = { .family = 4 };
	if (r->has_addr && !ref_in_ipset(&r->addr, d->addr) && !(d->dual && ref_in_ipset(&r->addr, &any4)))
		return false; /* a dual-stack :: takes 0.0.0.0 too (POLICY.md) */
	return true;
}

static uint32_t gcd(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* What actions.c's source_window does with the cursor: every port of one
 * search is in the window, distinct, and the skip moves the cursor past. */
static void check_rotation(struct ss_policy *p, const struct ss_rule *r, const uint8_t *h)
{
	static uint64_t seen[65536 / 64];
	uint16_t visited[256];
	struct ss_rule_state *st = r->state;

	ss_rotate_seed(p, be(h + H_SEED, 8));
	for (unsigned draw = 0; draw <= (h[H_DRAWS] & 3u); draw++) {
		if (r->nsource) {
			uint32_t s = ss_rotate_next(st, SS_CURSOR_ADDR, r->nsource, r->rotate, NULL);
			CHECK(s < r->nsource);
		}
		if (!r->has_source_port)
			continue;
		const struct ss_portset *w = &r->source_port;
		uint32_t n = w->count;
		CHECK(n > 0);
		uint64_t ticket;
		uint32_t start = ss_rotate_next(st, SS_CURSOR_PORT, n, r->rotate, &ticket);
		uint32_t stride = ss_rotate_stride(st, ticket, n, r->rotate);
		CHECK(start < n);
		if (r->rotate != SS_ROTATE_RANDOM || n < 3)
			CHECK(stride == 1);
		else
			CHECK(stride >= 1 && stride < n && gcd(stride, n) == 1);
		uint32_t m = n < 256 ? n : 256, i;
		for (i = 0; i < m; i++) {
			uint32_t k = (uint32_t)((start + (uint64_t)i * stride) % n);
			uint16_t port = ss_portset_nth(w, k);
			CHECK(port == ref_nth(w, k) && port != 0);
			CHECK(!(seen[port / 64] >> (port % 64) & 1)); /* one search never tries a port twice */
			seen[port / 64] |= 1ull << (port % 64);
			visited[i] = port;
		}
		while (i-- > 0)
			seen[visited[i] / 64] = 0;
		uint32_t by = h[H_DRAWS] >> 2;
		by = by % m;
		ss_rotate_skip(st, SS_CURSOR_PORT, ticket, by);
		CHECK(atomic_load(&st->cursor[SS_CURSOR_PORT]) == ticket + 1 + by);
	}
}

/* fmt_time_utc against gmtime_r, wherever gmtime_r can say. */
static void check_time(const uint8_t *h)
{
	int64_t sec = (int64_t)be(h + H_SEED, 8);
	long nsec = (long)(be(h + H_NSEC, 4) % 1000000000u);
	char got[96], want[96];
	struct fmt f;
	fmt_init(&f, got, sizeof(got));
	fmt_time_utc(&f, sec, nsec);
	CHECK(!f.truncated);
	time_t t = (time_t)sec;
	struct tm tm;
	if (!gmtime_r(&t, &tm))
		return;
	snprintf(want, sizeof(want), "%lld-%02d-%02dT%02d:%02d:%02d.%06ldZ", (long long)tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nsec / 1000);
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "fmt_time_utc(%lld, %ld): '%s', gmtime_r: '%s'\n", (long long)sec, nsec, got, want);
		CHECK(!"fmt_time_utc agrees with gmtime_r");
	}
}

/* The operation's address: raw bytes, or next to an edge of some rule's ranges. */
static void make_addr(struct ss_addr *a, const uint8_t *h, const struct ss_policy *p)
{
	unsigned kind = h[H_FLAGS] >> 4 & 3;
	memset(a, 0, sizeof(*a));
	const struct ss_rule *r = p->nrules ? &p->rules[h[H_PICK] % p->nrules] : NULL;
	int delta = (int)(h[H_IP + 2] >> 1) % 3 - 1;
	bool hi_end = h[H_IP + 2] & 1;
	if (kind == 3 && r && (r->addr.n4 || r->addr.n6)) {
		bool use6 = r->addr.n6 && (!r->addr.n4 || (h[H_IP] & 1));
		if (!use6) {
			const struct ss_range4 *g = &r->addr.v4[h[H_IP + 1] % r->addr.n4];
			uint32_t v = (hi_end ? g->hi : g->lo) + (uint32_t)delta;
			uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
			if (h[H_IP] & 2) { /* as an IPv6 socket passes it */
				a->family = 6;
				a->ip[10] = a->ip[11] = 0xff;
				memcpy(a->ip + 12, b, 4);
			} else {
				a->family = 4;
				memcpy(a->ip, b, 4);
			}
		} else {
			const struct ss_range6 *g = &r->addr.v6[h[H_IP + 1] % r->addr.n6];
			unsigned __int128 v = u128(hi_end ? g->hi : g->lo) + (unsigned __int128)(__int128)delta;
			a->family = 6;
			for (int i = 15; i >= 0; i--, v >>= 8)
				a->ip[i] = (uint8_t)v;
		}
	} else if (kind == 0 || kind == 3) {
		a->family = 4;
		memcpy(a->ip, h + H_IP, 4);
	} else if (kind == 1) {
		a->family = 6;
		memcpy(a->ip, h + H_IP, 16);
		a->scope_id = (uint32_t)be(h + H_SCOPE, 4);
		a->flowinfo = (uint32_t)be(h + H_IP, 4);
	} else {
		a->family = 6;
		a->ip[10] = a->ip[11] = 0xff;
		memcpy(a->ip + 12, h + H_IP, 4);
	}

	a->port = (uint16_t)be(h + H_PORT, 2);
	const struct ss_portset *ps = r && r->port.n ? &r->port : r && r->source_port.n ? &r->source_port : NULL;
	if ((h[H_PORTMODE] & 1) && ps) {
		const struct ss_prange *g = &ps->r[(h[H_PORTMODE] >> 1) % ps->n];
		a->port = (uint16_t)((hi_end ? g->hi : g->lo) + delta);
	}
}

static void decide_mode(const uint8_t *h, const char *argv0, const char *exe, const uint8_t *text, size_t len)
{
	static const char file[] = "fuzz.ini";
	struct ss_policy *p;
	bool parsed = len > 0 || nfixed == 0;
	if (parsed) {
		struct reports rep;
		reports_init(&rep, file, text, len);
		p = ss_policy_parse(file, (const char *)text, len, collect_report, &rep);
		CHECK(p && p->nerrors == rep.n);
		check_policy(p, file, p->nerrors == 0);
	} else {
		p = fixed[h[H_PICK] % nfixed];
	}

	unsigned flags = h[H_FLAGS];
	struct ss_addr a;
	make_addr(&a, h, p);
	check_addr(&a, h[H_CAP]);

	/* the program: bound at load, or named by the front end */
	const char *program = NULL;
	const char *b0 = argv0, *b1 = exe;
	switch (flags >> 6) {
	case 0:
		break;
	case 1:
		program = argv0 ? argv0 : "";
		break;
	case 2:
		if (p->nrules && p->rules[h[H_PICK] % p->nrules].nprograms)
			program = p->rules[h[H_PICK] % p->nrules].programs[h[H_PORT] % p->rules[h[H_PICK] % p->nrules].nprograms];
		else
			program = argv0;
		break;
	case 3:
		b0 = b1 = NULL;
		break;
	}
	ss_policy_bind_program(p, b0, b1);

	struct ss_opdesc d = {
		.op = (enum ss_op)(flags & 3),
		.proto = flags & 4 ? SS_PROTO_UDP : SS_PROTO_TCP,
		.family = flags & 8 ? SS_FAM_V6 : SS_FAM_V4,
		.addr = &a,
		.program = program,
	};
	static const uint8_t zero16[16];
	/* a bind or listen of :: on a dual-stack socket, half the time it could be one */
	d.dual = d.family == SS_FAM_V6 && a.family == 6 && !memcmp(a.ip, zero16, 16) && d.op <= SS_OP_LISTEN && (h[H_PICK] & 1);
	const struct ss_rule *want = NULL;
	for (unsigned i = 0; i < p->nrules; i++) {
		const struct ss_rule *r = &p->rules[i];
		bool bound_ok = ref_programs(r, b0, b1);
		CHECK(r->program_ok == bound_ok);
		bool m = ref_matches(r, &d, bound_ok);
		CHECK(ss_rule_matches(r, &d) == m);
		if (m && !want)
			want = r;
	}
	if (p->nerrors)
		want = NULL; /* a broken policy decides nothing */
	const struct ss_rule *got = ss_decide(p, &d);
	CHECK(got == want);

	/* a literal pattern matches itself; fnmatch agrees on the front end's names */
	if (program && *program && !strpbrk(program, "*?["))
		CHECK(ss_glob_match(program, program));
	if (argv0 && exe)
		ref_glob_or_engine(argv0, exe);

	if (got && !p->nerrors && (got->nsource || got->has_source_port))
		check_rotation(p, got, h);
	/* a rewrite carried out on this socket (actions.c): IPv6 cannot go to an IPv4 socket */
	if (got && got->has_rewrite && got->rewrite_ip) {
		struct ss_addr t = got->rewrite;
		uint32_t v4;
		bool ok = ss_addr_for_family(&t, d.family == SS_FAM_V6 ? 6 : 4);
		CHECK(ok == (d.family == SS_FAM_V6 || ss_addr_v4_view(&got->rewrite, &v4)));
	}
	if (parsed)
		ss_policy_free(p);
}

/* ---- netset mode: the builders against an independent parse, sort and merge ---- */

struct r4 {
	uint64_t lo, hi;
};
struct r6 {
	unsigned __int128 lo, hi;
};
#define MAX_ITEMS 1024

struct refset {
	struct r4 v4[MAX_ITEMS]; /* an item adds at most one range of each */
	struct r6 v6[MAX_ITEMS];
	size_t n4, n6;
	uint64_t ports[1024]; /* bitmap */
};

static void set_ports(uint64_t *bits, uint32_t lo, uint32_t hi)
{
	for (uint32_t w = lo / 64; w <= hi / 64; w++) {
		uint32_t a = w == lo / 64 ? lo % 64 : 0, b = w == hi / 64 ? hi % 64 : 63;
		bits[w] |= (b == 63 ? ~0ull : (1ull << (b + 1)) - 1) & ~((1ull << a) - 1);
	}
}

static bool digits(const char *s, size_t n, size_t maxlen, uint32_t max, uint32_t *out)
{
	if (n == 0 || n > maxlen)
		return false;
	uint32_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

static bool ref_cidr(struct refset *s, const char *item)
{
	const char *slash = strchr(item, '/');
	size_t n = slash ? (size_t)(slash - item) : strlen(item);
	char ip[64];
	uint8_t b[16];
	if (n == 0 || n >= sizeof(ip))
		return false;
	memcpy(ip, item, n);
	ip[n] = '\0';
	bool v6 = strchr(ip, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, ip, b) != 1)
		return false;
	uint32_t max = v6 ? 128 : 32, plen = max;
	if (slash && !digits(slash + 1, strlen(slash + 1), 3, max, &plen))
		return false;
	if (!v6) {
		uint64_t v = be(b, 4), size = 1ull << (32 - plen);
		uint64_t lo = v & ~(size - 1);
		s->v4[s->n4++] = (struct r4){ lo, lo + size - 1 };
		return true;
	}
	unsigned __int128 v = 0;
	for (int i = 0; i < 16; i++)
		v = v << 8 | b[i];
	unsigned __int128 hostmask = plen == 0 ? ~(unsigned __int128)0 : (((unsigned __int128)1 << (128 - plen)) - 1);
	unsigned __int128 lo = v & ~hostmask, hi = lo | hostmask;
	s->v6[s->n6++] = (struct r6){ lo, hi };
	const unsigned __int128 mlo = (unsigned __int128)0xffff << 32, mhi = mlo | 0xffffffffu;
	if (hi >= mlo && lo <= mhi) {
		s->v4[s->n4++] = (struct r4){ (uint64_t)((lo > mlo ? lo : mlo) - mlo), (uint64_t)((hi < mhi ? hi : mhi) - mlo) };
	}
	return true;
}

static bool ref_ports(struct refset *s, const char *item)
{
	uint32_t lo, hi;
	const char *dash = strchr(item, '-');
	if (dash) {
		if (!digits(item, (size_t)(dash - item), 5, 65535, &lo) || !digits(dash + 1, strlen(dash + 1), 5, 65535, &hi) || lo > hi)
			return false;
	} else {
		if (!digits(item, strlen(item), 5, 65535, &lo))
			return false;
		hi = lo;
	}
	set_ports(s->ports, lo, hi);
	return true;
}

static int cmp4(const void *a, const void *b)
{
	const struct r4 *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int cmp6(const void *a, const void *b)
{
	const struct r6 *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void ref_merge(struct refset *s)
{
	size_t m = 0;
	qsort(s->v4, s->n4, sizeof(s->v4[0]), cmp4);
	for (size_t i = 0; i < s->n4; i++) {
		if (m && s->v4[i].lo <= s->v4[m - 1].hi + 1) {
			if (s->v4[i].hi > s->v4[m - 1].hi)
				s->v4[m - 1].hi = s->v4[i].hi;
		} else {
			s->v4[m++] = s->v4[i];
		}
	}
	s->n4 = m;
	m = 0;
	qsort(s->v6, s->n6, sizeof(s->v6[0]), cmp6);
	for (size_t i = 0; i < s->n6; i++) {
		if (m && (s->v6[i].lo <= s->v6[m - 1].hi || s->v6[i].lo - s->v6[m - 1].hi == 1)) {
			if (s->v6[i].hi > s->v6[m - 1].hi)
				s->v6[m - 1].hi = s->v6[i].hi;
		} else {
			s->v6[m++] = s->v6[i];
		}
	}
	s->n6 = m;
}

struct built {
	struct refset ref;
	struct ss_ipset ip;
	struct ss_portset port;
};

/* Feed each item of the list to both builders and to the reference. */
static void build(struct built *out, struct arena *ar, const char *const *items, size_t nitems)
{
	struct ss_ipset_builder ib;
	struct ss_portset_builder pb;
	out->ref.n4 = out->ref.n6 = 0;
	memset(out->ref.ports, 0, sizeof(out->ref.ports));
	ss_ipset_builder_init(&ib);
	ss_portset_builder_init(&pb);
	for (size_t i = 0; i < nitems; i++) {
		bool oom = false;
		bool ok = ss_ipset_builder_add(&ib, items[i], &oom);
		CHECK(!oom && ok == ref_cidr(&out->ref, items[i]));
		ok = ss_portset_builder_add(&pb, items[i], &oom);
		CHECK(!oom && ok == ref_ports(&out->ref, items[i]));
	}
	CHECK(ss_ipset_builder_finish(&ib, ar, &out->ip));
	CHECK(ss_portset_builder_finish(&pb, ar, &out->port));
	ref_merge(&out->ref);

	/* the merged ranges are exactly the reference's */
	CHECK(out->ip.n4 == out->ref.n4 && out->ip.n6 == out->ref.n6);
	for (size_t i = 0; i < out->ref.n4; i++)
		CHECK(out->ip.v4[i].lo == out->ref.v4[i].lo && out->ip.v4[i].hi == out->ref.v4[i].hi);
	for (size_t i = 0; i < out->ref.n6; i++)
		CHECK(u128(out->ip.v6[i].lo) == out->ref.v6[i].lo && u128(out->ip.v6[i].hi) == out->ref.v6[i].hi);
	static uint64_t got[1024];
	memset(got, 0, sizeof(got));
	for (uint32_t i = 0; i < out->port.n; i++)
		set_ports(got, out->port.r[i].lo, out->port.r[i].hi);
	CHECK(memcmp(got, out->ref.ports, sizeof(got)) == 0);
	uint32_t count = 0;
	for (size_t w = 0; w < 1024; w++)
		count += (uint32_t)__builtin_popcountll(got[w]);
	CHECK(out->port.count == count);
}

static bool port_bit(const struct refset *s, uint32_t p)
{
	return (s->ports[p / 64] >> (p % 64)) & 1;
}

static void probe_addr(const struct built *b, const struct ss_addr *a)
{
	/* the built ranges equal the reference's, so a linear scan of them is the reference */
	CHECK(ss_ipset_contains(&b->ip, a) == ref_in_ipset(&b->ip, a));
}

static void probe_v4(const struct built *b, uint32_t v)
{
	struct ss_addr a = { .family = 4 };
	a.ip[0] = (uint8_t)(v >> 24), a.ip[1] = (uint8_t)(v >> 16), a.ip[2] = (uint8_t)(v >> 8), a.ip[3] = (uint8_t)v;
	probe_addr(b, &a);
	struct ss_addr m = a;
	CHECK(ss_addr_for_family(&m, 6));
	CHECK(ss_ipset_contains(&b->ip, &m) == ss_ipset_contains(&b->ip, &a)); /* mapped = IPv4 */
}

static void probe_v6(const struct built *b, unsigned __int128 v)
{
	struct ss_addr a = { .family = 6 };
	for (int i = 15; i >= 0; i--, v >>= 8)
		a.ip[i] = (uint8_t)v;
	probe_addr(b, &a);
}

static void probe_port(const struct built *b, uint32_t p)
{
	if (p > 65535)
		return;
	CHECK(ss_portset_contains(&b->port, (uint16_t)p) == port_bit(&b->ref, p));
}

static void probe_edges(const struct built *b, const struct ss_addr *a, uint16_t port, uint32_t k)
{
	probe_addr(b, a);
	for (uint32_t i = 0; i < b->ip.n4; i++) {
		if (i == 8 && b->ip.n4 > 16)
			i = b->ip.n4 - 8;
		probe_v4(b, b->ip.v4[i].lo - 1), probe_v4(b, b->ip.v4[i].lo);
		probe_v4(b, b->ip.v4[i].hi), probe_v4(b, b->ip.v4[i].hi + 1);
	}
	for (uint32_t i = 0; i < b->ip.n6; i++) {
		if (i == 8 && b->ip.n6 > 16)
			i = b->ip.n6 - 8;
		probe_v6(b, u128(b->ip.v6[i].lo) - 1), probe_v6(b, u128(b->ip.v6[i].lo));
		probe_v6(b, u128(b->ip.v6[i].hi)), probe_v6(b, u128(b->ip.v6[i].hi) + 1);
	}
	probe_port(b, port);
	for (uint32_t i = 0; i < b->port.n; i++) {
		if (i == 8 && b->port.n > 16)
			i = b->port.n - 8;
		probe_port(b, (uint32_t)b->port.r[i].lo - 1), probe_port(b, b->port.r[i].lo);
		probe_port(b, b->port.r[i].hi), probe_port(b, (uint32_t)b->port.r[i].hi + 1);
	}
	if (b->port.count) {
		uint32_t ks[3] = { 0, b->port.count - 1, k % b->port.count };
		for (int i = 0; i < 3; i++) {
			uint16_t got = ss_portset_nth(&b->port, ks[i]);
			CHECK(got == ref_nth(&b->port, ks[i]) && port_bit(&b->ref, got));
		}
	}
}

/* outer holds every address of inner: each inner range inside one outer range (outer is merged) */
static bool ref_covers_ip(const struct refset *outer, const struct refset *inner)
{
	for (size_t i = 0; i < inner->n4; i++) {
		bool in = false;
		for (size_t j = 0; j < outer->n4 && !in; j++)
			in = outer->v4[j].lo <= inner->v4[i].lo && inner->v4[i].hi <= outer->v4[j].hi;
		if (!in)
			return false;
	}
	for (size_t i = 0; i < inner->n6; i++) {
		bool in = false;
		for (size_t j = 0; j < outer->n6 && !in; j++)
			in = outer->v6[j].lo <= inner->v6[i].lo && inner->v6[i].hi <= outer->v6[j].hi;
		if (!in)
			return false;
	}
	return true;
}

static bool ref_covers_ports(const struct refset *outer, const struct refset *inner)
{
	for (size_t w = 0; w < 1024; w++)
		if (inner->ports[w] & ~outer->ports[w])
			return false;
	return true;
}

static void netset_mode(const uint8_t *h, const uint8_t *text, size_t len)
{
	static struct built A, B, U;
	static const char *items[MAX_ITEMS];
	char *buf = malloc(len + 1);
	CHECK(buf);
	memcpy(buf, text, len);
	buf[len] = '\0';
	size_t n = 0, na = 0;
	bool in_b = false;
	for (char *s = buf, *e = buf + len; s <= e && n < MAX_ITEMS;) {
		char *q = s;
		while (q < e && *q != ',' && *q != '\n' && *q != '\0' && *q != ';')
			q++;
		bool semi = q < e && *q == ';';
		*q = '\0';
		if (*s && q - s < 256)
			items[n++] = s;
		if (semi && !in_b) {
			in_b = true;
			na = n;
		}
		s = q + 1;
	}
	if (!in_b)
		na = n;

	struct arena *ar = arena_new();
	CHECK(ar);
	build(&A, ar, items, na);
	build(&B, ar, items + na, n - na);
	build(&U, ar, items, n);

	struct ss_addr a;
	struct ss_policy none = { 0 };
	make_addr(&a, h, &none);
	uint16_t port = (uint16_t)be(h + H_PORT, 2);
	uint32_t k = (uint32_t)be(h + H_NSEC, 4);
	probe_edges(&A, &a, port, k);
	probe_edges(&B, &a, port, k);
	probe_edges(&U, &a, port, k);

	const struct built *sets[3] = { &A, &B, &U };
	for (int i = 0; i < 3; i++) {
		for (int j = 0; j < 3; j++) {
			bool ci = ss_ipset_covers(&sets[i]->ip, &sets[j]->ip);
			bool cp = ss_portset_covers(&sets[i]->port, &sets[j]->port);
			CHECK(ci == ref_covers_ip(&sets[i]->ref, &sets[j]->ref));
			CHECK(cp == ref_covers_ports(&sets[i]->ref, &sets[j]->ref));
			if (i == j || (i == 2))
				CHECK(ci && cp); /* every set covers itself; the union covers both */
		}
	}
	/* covering: whatever the inner set holds, the outer one does */
	if (ss_ipset_covers(&A.ip, &B.ip))
		CHECK(!ss_ipset_contains(&B.ip, &a) || ss_ipset_contains(&A.ip, &a));
	if (ss_portset_covers(&A.port, &B.port))
		CHECK(!ss_portset_contains(&B.port, port) || ss_portset_contains(&A.port, port));

	arena_free(ar);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t h[HDR] = { 0 };
	memcpy(h, data, size < HDR ? size : HDR);
	const uint8_t *rest = data + (size < HDR ? size : HDR);
	size_t rn = size > HDR ? size - HDR : 0;
	const uint8_t *nul = rn ? memchr(rest, 0, rn) : NULL;
	size_t names_len = nul ? (size_t)(nul - rest) : rn;
	const uint8_t *text = nul ? nul + 1 : rest + rn;
	size_t tlen = nul ? rn - names_len - 1 : 0;

	char names[130];
	size_t nn = names_len < sizeof(names) - 1 ? names_len : sizeof(names) - 1;
	memcpy(names, rest, nn);
	names[nn] = '\0';
	char *nl = strchr(names, '\n');
	if (nl)
		*nl = '\0';
	const char *argv0 = names_len ? names : NULL, *exe = nl ? nl + 1 : NULL;

	size_t live = fuzz_live_mappings();
	check_time(h);
	if (h[H_MODE] % 4 == 3)
		netset_mode(h, text, tlen);
	else
		decide_mode(h, argv0, exe, text, tlen);
	CHECK(fuzz_live_mappings() == live);
	return 0;
}

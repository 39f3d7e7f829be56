/*
 * Shared checks of the fuzz targets (see common.h).
 */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <sanitizer/asan_interface.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fmt.h"
#include "index.h"
#include "names.h"

_Noreturn void fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "\n%s:%d: invariant broken: %s\n", file, line, what);
	abort();
}

/* ---- the mapping ledger ---- */

/* The engine's own declarations of these (sys/mman.h under -Dmmap=...). */
void *fuzz_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int fuzz_munmap(void *addr, size_t len);
void *fuzz_mremap(void *old, size_t old_len, size_t new_len, int flags, ...);

/*
 * Each anonymous mapping is served from a size class (a power of two of at
 * least a page), and an unmapped one is kept for reuse rather than given
 * back: on this kind of machine each munmap costs a TLB shootdown, which made
 * parsing a policy ten times slower than everything else together. Nothing
 * is lost for finding bugs, something is gained: a kept region is poisoned,
 * so a touch after munmap is reported by ASan (use-after-poison) instead of
 * a SEGV, and so is the slack of a class beyond the length asked for, which
 * a real mapping would leave readable up to the end of its page. A region
 * is zeroed again before reuse, as a fresh anonymous mapping is, and mremap
 * within the class stays in place (MREMAP_MAYMOVE allows either).
 */
struct mapping {
	void *addr;
	size_t len;    /* as the engine asked for it */
	size_t class;  /* bytes really mapped; 0: passed through to the kernel */
	size_t dirty;  /* bytes that may be non-zero */
};
static struct mapping maps[8192], kept[512];
static size_t nmaps, nkept, kept_bytes;
#define KEPT_MAX_BYTES (128u << 20)

static size_t find_mapping(void *addr)
{
	for (size_t i = nmaps; i-- > 0;)
		if (maps[i].addr == addr)
			return i;
	return SIZE_MAX;
}

static size_t size_class(size_t len)
{
	size_t c = 4096;
	while (c < len)
		c *= 2;
	return c;
}

/* A zeroed region of class c, its first len bytes usable, the rest poisoned. */
static void *take(size_t len, size_t c)
{
	void *p = NULL;
	for (size_t i = nkept; i-- > 0;) {
		if (kept[i].class != c)
			continue;
		p = kept[i].addr;
		ASAN_UNPOISON_MEMORY_REGION(p, c);
		memset(p, 0, kept[i].dirty);
		kept_bytes -= c;
		kept[i] = kept[--nkept];
		break;
	}
	if (!p) {
		p = mmap(NULL, c, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return MAP_FAILED;
	}
	ASAN_POISON_MEMORY_REGION((char *)p + len, c - len);
	return p;
}

static void give_back(const struct mapping *m)
{
	if (nkept == sizeof(kept) / sizeof(kept[0]) || kept_bytes + m->class > KEPT_MAX_BYTES) {
		ASAN_UNPOISON_MEMORY_REGION(m->addr, m->class);
		munmap(m->addr, m->class);
		return;
	}
	ASAN_POISON_MEMORY_REGION(m->addr, m->class);
	kept[nkept++] = *m;
	kept_bytes += m->class;
}

static void record(void *p, size_t len, size_t c)
{
	CHECK(nmaps < sizeof(maps) / sizeof(maps[0]));
	maps[nmaps++] = (struct mapping){ p, len, c, len };
}

void *fuzz_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (!addr && fd == -1 && flags == (MAP_PRIVATE | MAP_ANONYMOUS) && prot == (PROT_READ | PROT_WRITE) && len) {
		size_t c = size_class(len);
		void *p = take(len, c);
		if (p != MAP_FAILED)
			record(p, len, c);
		return p;
	}
	void *p = mmap(addr, len, prot, flags, fd, off);
	if (p != MAP_FAILED)
		record(p, len, 0);
	return p;
}

int fuzz_munmap(void *addr, size_t len)
{
	size_t i = find_mapping(addr);
	CHECK(i != SIZE_MAX);       /* unmapping what the engine never mapped */
	CHECK(maps[i].len == len);  /* a partial munmap leaves the rest mapped */
	struct mapping m = maps[i];
	maps[i] = maps[--nmaps];
	if (!m.class)
		return munmap(addr, len);
	give_back(&m);
	return 0;
}

void *fuzz_mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	CHECK(!(flags & MREMAP_FIXED));
	size_t i = find_mapping(old);
	CHECK(i != SIZE_MAX);
	CHECK(maps[i].len == old_len);
	struct mapping *m = &maps[i];
	if (!m->class) {
		void *p = mremap(old, old_len, new_len, flags);
		if (p != MAP_FAILED)
			m->addr = p, m->len = new_len;
		return p;
	}
	CHECK(new_len > 0);
	if (new_len <= m->class) {
		ASAN_UNPOISON_MEMORY_REGION(old, m->class);
		if (new_len < old_len)
			memset((char *)old + new_len, 0, old_len - new_len);
		ASAN_POISON_MEMORY_REGION((char *)old + new_len, m->class - new_len);
		m->len = new_len;
		m->dirty = new_len > m->dirty ? new_len : m->dirty;
		return old;
	}
	if (!(flags & MREMAP_MAYMOVE)) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	size_t c = size_class(new_len);
	void *p = take(new_len, c);
	if (p == MAP_FAILED)
		return p;
	memcpy(p, old, old_len);
	struct mapping was = *m;
	*m = (struct mapping){ p, new_len, c, new_len };
	give_back(&was);
	return p;
}

size_t fuzz_live_mappings(void)
{
	return nmaps;
}

/* ---- reports ---- */

void reports_init(struct reports *r, const char *file, const uint8_t *text, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->file = file;
	for (size_t i = 0; i < len; i++)
		r->lines += text[i] == '\n';
	if (len && text[len - 1] != '\n')
		r->lines++;
}

void collect_report(void *ctx, enum ss_severity sev, const char *file, unsigned line, const char *msg)
{
	struct reports *r = ctx;
	CHECK(file && strcmp(file, r->file) == 0);
	CHECK(sev == SS_SEV_ERROR);
	CHECK(line >= 1 && line <= r->lines);  /* parsing text never blames "the file" */
	CHECK(line >= r->last_line);           /* delivered in line order */
	CHECK(msg && *msg);
	CHECK(strlen(msg) < 496);
	CHECK(!strchr(msg, '\n'));             /* `sockshim check` prints one line per error */
	r->last_line = line;
	r->n++;
	if (r->json)
		check_json(msg);
}

/* ---- policies ---- */

#define ALL_OPS 0x1fu
#define LOCAL_OPS (SS_OPBIT(SS_OP_BIND) | SS_OPBIT(SS_OP_LISTEN))
#define OUT_OPS (SS_OPBIT(SS_OP_CONNECT) | SS_OPBIT(SS_OP_SEND))

static bool valid_rule_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 255)
		return false;
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

static void check_ipset(const struct ss_ipset *s)
{
	CHECK(s->n4 == 0 || s->v4);
	CHECK(s->n6 == 0 || s->v6);
	for (uint32_t i = 0; i < s->n4; i++) {
		CHECK(s->v4[i].lo <= s->v4[i].hi);
		/* sorted, disjoint and not even adjacent: merged */
		if (i)
			CHECK((uint64_t)s->v4[i - 1].hi + 1 < s->v4[i].lo);
	}
	for (uint32_t i = 0; i < s->n6; i++) {
		unsigned __int128 lo = (unsigned __int128)s->v6[i].lo.hi << 64 | s->v6[i].lo.lo;
		unsigned __int128 hi = (unsigned __int128)s->v6[i].hi.hi << 64 | s->v6[i].hi.lo;
		CHECK(lo <= hi);
		if (i) {
			unsigned __int128 ph = (unsigned __int128)s->v6[i - 1].hi.hi << 64 | s->v6[i - 1].hi.lo;
			CHECK(ph < lo && lo - ph >= 2);
		}
	}
}

static void check_portset(const struct ss_portset *s)
{
	uint32_t count = 0;
	CHECK(s->n == 0 || s->r);
	for (uint32_t i = 0; i < s->n; i++) {
		CHECK(s->r[i].lo <= s->r[i].hi);
		if (i)
			CHECK((uint32_t)s->r[i - 1].hi + 1 < s->r[i].lo);
		CHECK(s->r[i].before == count);
		count += (uint32_t)s->r[i].hi - s->r[i].lo + 1;
	}
	CHECK(s->count == count);
	CHECK(count <= 65536);
}

/* ---- the rule index ---- */

static unsigned __int128 k128(struct ss_u128 k)
{
	return (unsigned __int128)k.hi << 64 | k.lo;
}

static struct ss_u128 u128_of(unsigned __int128 v)
{
	struct ss_u128 k = { (uint64_t)(v >> 64), (uint64_t)v };
	return k;
}

/* index.h: a rule is filed under its addresses if it has an `addr`, under
 * its ports if it has a `port`, in the list every lookup sees if neither;
 * in an interval's "both" list when it has both, else in its "one" list. */
static bool filed_in(const struct ss_rule *r, int d, bool both)
{
	if (both != (r->has_addr && r->has_port))
		return false;
	return d == SS_DIM_PORT ? r->has_port : r->has_addr;
}

static bool holds(const struct ss_rule *r, int d, unsigned __int128 k)
{
	if (d == SS_DIM_V6) {
		for (uint32_t i = 0; i < r->addr.n6; i++)
			if (k128(r->addr.v6[i].lo) <= k && k <= k128(r->addr.v6[i].hi))
				return true;
		return false;
	}
	if (d == SS_DIM_V4) {
		for (uint32_t i = 0; i < r->addr.n4; i++)
			if (r->addr.v4[i].lo <= k && k <= r->addr.v4[i].hi)
				return true;
		return false;
	}
	for (uint32_t i = 0; i < r->port.n; i++)
		if (r->port.r[i].lo <= k && k <= r->port.r[i].hi)
			return true;
	return false;
}

/* The lookup of k lists exactly the rules filed in d that hold k, in rule
 * order, each in its list. */
static void check_lookup(const struct ss_policy *p, const struct ss_index_dim *dim, int d, unsigned __int128 k)
{
	struct ss_index_hit h;
	uint32_t at_k = ss_index_find(dim, u128_of(k));
	ss_index_hit_of(dim, at_k, &h);
	/* the marks say which lists are not empty; the screen's 2-bit tables
	 * agree (ports exactly, IPv4 by /16, a superset) */
	unsigned m = dim->mark[at_k];
	CHECK(m == ((h.n_one ? SS_MARK_ONE : 0u) | (h.n_both ? SS_MARK_BOTH : 0u)));
	if (d == SS_DIM_PORT)
		CHECK(ss_index_marks2(p->index->port_marks, (uint32_t)k) == m);
	if (d == SS_DIM_V4)
		CHECK((ss_index_marks2(p->index->v4_marks, (uint32_t)k >> 16) & m) == m);
	if (d != SS_DIM_V6) { /* the decision's own search agrees */
		struct ss_index_hit h32;
		ss_index_hit_of(dim, ss_index_find32(dim, (uint32_t)k), &h32);
		CHECK(h32.n_one == h.n_one && (!h.n_one || h32.one == h.one));
		CHECK(h32.n_both == h.n_both && (!h.n_both || h32.both == h.both));
	}
	for (int both = 0; both < 2; both++) {
		const uint32_t *ids = both ? h.both : h.one;
		uint32_t n = both ? h.n_both : h.n_one, at = 0;
		for (uint32_t r = 0; r < p->nrules; r++) {
			if (!filed_in(&p->rules[r], d, both) || !holds(&p->rules[r], d, k))
				continue;
			CHECK(at < n && ids[at] == r);
			at++;
		}
		CHECK(at == n);
	}
}

static void check_index(const struct ss_policy *p)
{
	const struct ss_index *x = p->index;
	if (p->nerrors || p->nrules < 8) {
		CHECK(!x);
		return;
	}
	if (!x)
		return; /* over its memory budget: every rule is walked */
	for (int d = 0; d < SS_DIMS; d++) {
		const struct ss_index_dim *dim = &x->dim[d];
		if (!dim->n)
			continue;
		CHECK((dim->lo || dim->lo32) && dim->start && dim->ids && dim->start[0] == 0);
		CHECK(dim->bstart && dim->bids && dim->bstart[0] == 0);
		for (uint32_t i = 0; i < dim->n; i++) {
			CHECK(dim->start[i] <= dim->start[i + 1]);
			CHECK(dim->bstart[i] <= dim->bstart[i + 1]);
			if (i)
				CHECK(k128(ss_index_key(dim, i - 1)) < k128(ss_index_key(dim, i)));
		}
		if ((uint64_t)dim->n * p->nrules > 200000)
			continue; /* too big to check each interval on every input */
		if (k128(ss_index_key(dim, 0)) > 0)
			check_lookup(p, dim, d, k128(ss_index_key(dim, 0)) - 1);
		for (uint32_t i = 0; i < dim->n; i++) {
			/* both ends of each interval: the lists hold across it */
			check_lookup(p, dim, d, k128(ss_index_key(dim, i)));
			if (i + 1 < dim->n)
				check_lookup(p, dim, d, k128(ss_index_key(dim, i + 1)) - 1);
		}
		unsigned __int128 last = k128(ss_index_key(dim, dim->n - 1));
		unsigned __int128 end = d == SS_DIM_V6 ? ~(unsigned __int128)0 : d == SS_DIM_V4 ? UINT32_MAX : 65535;
		if (last <= end)
			check_lookup(p, dim, d, end);
	}
	uint32_t k = 0;
	for (uint32_t r = 0; r < p->nrules; r++) {
		/* a rule on resolve alone decides no socket call; one with host
		 * and neither addr nor port is filed by name (hostindex.c) */
		if (p->rules[r].has_addr || p->rules[r].has_port || !(p->rules[r].ops & SS_SOCK_OPS) || p->rules[r].nhosts)
			continue;
		CHECK(k < x->nalways && x->always[k] == r);
		k++;
	}
	CHECK(k == x->nalways);
}

void check_policy(const struct ss_policy *p, const char *file, bool clean)
{
	CHECK(p->arena);
	CHECK(p->path && strcmp(p->path, file) == 0);
	CHECK(clean == (p->nerrors == 0));

	const struct ss_global *g = &p->global;
	CHECK((unsigned)g->log <= SS_LOG_FILE);
	CHECK((unsigned)g->log_level <= SS_LEVEL_DEBUG);
	CHECK((unsigned)g->log_format <= SS_FORMAT_JSON);
	if (g->log == SS_LOG_FILE || g->log == SS_LOG_SYSLOG)
		CHECK(g->log_path && g->log_path[0] == '/');

	CHECK((p->nrules == 0) == (p->rules == NULL));
	unsigned mask = 0;
	for (unsigned i = 0; i < p->nrules; i++) {
		const struct ss_rule *r = &p->rules[i];
		mask |= r->ops;

		CHECK(r->name && valid_rule_name(r->name));
		CHECK(strcmp(r->name, "global") != 0);
		for (unsigned j = 0; j < i; j++) {
			CHECK(strcmp(p->rules[j].name, r->name) != 0);
			CHECK(p->rules[j].line < r->line);
		}
		CHECK(r->line >= 1);
		const unsigned key_lines[] = { r->line_reuseaddr, r->line_reuseport, r->line_source, r->line_source_port, r->line_rotate };
		for (size_t k = 0; k < sizeof(key_lines) / sizeof(key_lines[0]); k++)
			CHECK(key_lines[k] == 0 || key_lines[k] > r->line);

		CHECK((r->ops & ~ALL_OPS) == 0);
		CHECK((r->protos & ~(SS_PROTO_TCP | SS_PROTO_UDP)) == 0);
		CHECK((r->families & ~(SS_FAM_V4 | SS_FAM_V6)) == 0);
		CHECK((unsigned)r->reuseaddr <= SS_FLAG_DENY && (unsigned)r->reuseport <= SS_FLAG_DENY);
		CHECK((unsigned)r->rotate <= SS_ROTATE_KERNEL);
		CHECK(r->deny >= 0);

		check_ipset(&r->addr);
		check_portset(&r->port);
		check_portset(&r->source_port);
		if (!r->has_addr)
			CHECK(r->addr.n4 == 0 && r->addr.n6 == 0);
		if (!r->has_port)
			CHECK(r->port.n == 0);
		if (!r->has_source_port)
			CHECK(r->source_port.n == 0);

		CHECK(r->nprograms == 0 || r->programs);
		for (unsigned k = 0; k < r->nprograms; k++) {
			const char *g0 = r->programs[k];
			size_t n = strlen(g0);
			CHECK(n >= 1 && n < 256 && !strchr(g0, ','));
			CHECK(g0[0] != ' ' && g0[0] != '\t' && g0[n - 1] != ' ' && g0[n - 1] != '\t');
		}
		CHECK(r->nsockopts == 0 || r->sockopts);
		for (unsigned k = 0; k < r->nsockopts; k++) {
			const struct ss_sockopt *o = &r->sockopts[k];
			CHECK(o->opt && ss_optname_find(o->opt->name) == o->opt);
			CHECK(o->text && strncmp(o->text, o->opt->name, strlen(o->opt->name)) == 0);
			if (o->opt->kind == SS_OPT_STRING)
				CHECK(o->sval && *o->sval && strlen(o->sval) < 16);
			if (o->opt->kind == SS_OPT_LINGER)
				CHECK(o->ival >= -1);
		}
		CHECK(r->nsource == 0 || r->source);
		for (unsigned k = 0; k < r->nsource; k++) {
			const struct ss_addr *a = &r->source[k];
			CHECK((a->family == 4 || a->family == 6) && a->port == 0 && a->scope_id == 0);
			check_addr(a, k * 7 + r->line);
		}
		if (r->has_rewrite) {
			CHECK(r->rewrite_ip || r->rewrite_port);
			if (r->rewrite_ip)
				check_addr(&r->rewrite, r->line);
			else
				CHECK(r->rewrite.family == 0);
		}
		if (r->deny)
			CHECK(ss_errno_from_name(ss_errno_name(r->deny)) == r->deny);

		CHECK(r->state && r->state->cursor == r->state->local);

		if (!clean)
			continue;
		/* what the loader promises for a policy without errors */
		CHECK(r->ops != 0);
		if (r->reuseaddr || r->reuseport || r->line_reuseaddr || r->line_reuseport)
			CHECK((r->ops & ~LOCAL_OPS) == 0);
		if (r->nsource || r->has_source_port || r->line_rotate || r->rotate_host)
			CHECK((r->ops & ~OUT_OPS) == 0);
		if (r->line_rotate || r->rotate_host || r->rotate != SS_ROTATE_SEQUENTIAL)
			CHECK(r->nsource || r->has_source_port);
		if (r->rotate == SS_ROTATE_KERNEL)
			CHECK(r->has_source_port && r->source_port.n == 1);
		if (r->has_source_port)
			CHECK(r->source_port.count > 0 && r->source_port.r[0].lo != 0);
		if (r->nsource)
			CHECK(r->line_source);
		if (r->has_source_port)
			CHECK(r->line_source_port);
		if (r->has_rewrite && r->rewrite_ip && r->rewrite.family == 6)
			CHECK(r->families != SS_FAM_V4);
		bool acts = r->reuseaddr || r->reuseport || r->nsockopts || r->nsource || r->has_source_port ||
			    r->has_rewrite || r->deny || r->deny_eai || r->nanswers;
		/* resolve's actions and `host` fit only the ops they mean something for */
		if (r->deny_eai || r->nanswers)
			CHECK(r->ops == SS_OPBIT(SS_OP_RESOLVE) && !r->deny && !r->has_rewrite && !(r->deny_eai && r->nanswers));
		if (r->nhosts)
			CHECK((r->ops & (SS_OPBIT(SS_OP_BIND) | SS_OPBIT(SS_OP_LISTEN))) == 0);
		if (r->ops & SS_OPBIT(SS_OP_RESOLVE))
			CHECK(!r->has_addr && !r->has_port && !r->protos && !r->nsockopts);
		CHECK(acts == r->has_actions);
		if (r->deny)
			CHECK(!r->reuseaddr && !r->reuseport && !r->nsockopts && !r->nsource && !r->has_source_port &&
			      !r->has_rewrite && !r->line_rotate && !r->rotate_host);
		if (r->has_addr)
			CHECK(r->addr.n4 + r->addr.n6 > 0);
		if (r->has_port)
			CHECK(r->port.count > 0);
	}
	CHECK(p->op_mask == mask);
	check_index(p);
}

/* ---- addresses ---- */

static bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

void check_addr(const struct ss_addr *a, unsigned cap)
{
	CHECK(a->family == 4 || a->family == 6);
	size_t alen = a->family == 4 ? 4 : 16;
	char ip[64], ep[80], ref[INET6_ADDRSTRLEN];
	struct fmt f;

	fmt_init(&f, ip, sizeof(ip));
	fmt_ip(&f, a);
	CHECK(!f.truncated && strlen(ip) == f.len);
	CHECK(inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->ip, ref, sizeof(ref)));
	/* glibc writes ::a.b.c.d for the deprecated IPv4-compatible form; RFC 5952 does not ask for it */
	bool compat = a->family == 6 && all_zero(a->ip, 12) && (a->ip[12] | a->ip[13]);
	if (!compat && strcmp(ip, ref) != 0) {
		fprintf(stderr, "fmt_ip: '%s', inet_ntop: '%s'\n", ip, ref);
		CHECK(!"fmt_ip agrees with inet_ntop");
	}

	struct ss_addr b;
	CHECK(ss_addr_parse_ip(&b, ip));
	CHECK(b.family == a->family && memcmp(b.ip, a->ip, alen) == 0);

	fmt_init(&f, ep, sizeof(ep));
	fmt_endpoint(&f, a);
	CHECK(!f.truncated && strlen(ep) == f.len);
	size_t full = f.len;
	bool has_ip, has_port;
	CHECK(ss_addr_parse_endpoint(&b, &has_ip, &has_port, ep));
	CHECK(has_ip && has_port);
	CHECK(b.family == a->family && memcmp(b.ip, a->ip, alen) == 0 && b.port == a->port);

	/* a short buffer: a NUL-terminated prefix, and truncated says so */
	char small[48];
	unsigned c = cap % (sizeof(small) + 1);
	memset(small, 'x', sizeof(small));
	fmt_init(&f, small, c);
	fmt_endpoint(&f, a);
	if (c == 0) {
		CHECK(f.len == 0 && f.truncated && small[0] == 'x');
	} else {
		CHECK(f.len <= c - 1 && small[f.len] == '\0');
		CHECK(memcmp(small, ep, f.len) == 0);
		CHECK(f.truncated == (full > c - 1));
		CHECK(f.len == (full < c - 1 ? full : c - 1));
	}

	/* through a sockaddr of exactly its length, so ASan sees any read past it */
	struct sockaddr_storage ss;
	socklen_t sl = ss_addr_to_sockaddr(a, &ss);
	CHECK(sl == (a->family == 4 ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)));
	void *exact = malloc(sl);
	CHECK(exact);
	memcpy(exact, &ss, sl);
	CHECK(ss_addr_from_sockaddr(&b, exact, sl));
	CHECK(b.family == a->family && memcmp(b.ip, a->ip, alen) == 0 && b.port == a->port);
	if (a->family == 6)
		CHECK(b.scope_id == a->scope_id && b.flowinfo == a->flowinfo);
	/* one byte short: IPv4 is refused, IPv6 still read in the 24-byte RFC 2133 form */
	bool short_ok = ss_addr_from_sockaddr(&b, exact, sl - 1);
	CHECK(short_ok == (a->family == 6));
	if (short_ok)
		CHECK(b.scope_id == 0 && memcmp(b.ip, a->ip, 16) == 0);
	free(exact);

	/* family conversion both ways keeps the IPv4 address it carries */
	uint32_t va = 0, vb = 0;
	bool has4 = ss_addr_v4_view(a, &va);
	CHECK(has4 == (a->family == 4 || (all_zero(a->ip, 10) && a->ip[10] == 0xff && a->ip[11] == 0xff)));
	b = *a;
	CHECK(ss_addr_for_family(&b, 6) && b.family == 6);
	CHECK(ss_addr_v4_view(&b, &vb) == has4 && vb == va);
	bool back = ss_addr_for_family(&b, 4);
	CHECK(back == has4);
	if (back) {
		CHECK(b.family == 4 && all_zero(b.ip + 4, 12));
		CHECK(((uint32_t)b.ip[0] << 24 | (uint32_t)b.ip[1] << 16 | (uint32_t)b.ip[2] << 8 | b.ip[3]) == va);
		if (a->family == 4)
			CHECK(memcmp(b.ip, a->ip, 4) == 0 && b.port == a->port);
	}
	CHECK(ss_addr_is_any(a) == all_zero(a->ip, alen));
}

/* ---- JSON ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Can some completion of a UTF-8 prefix (the first k of len bytes, their
 * payload bits v) still be a scalar value encoded in len bytes: not
 * overlong, at most U+10FFFF, not a surrogate? Unicode's table 3-7, derived
 * the long way round, so that it checks fmt.c's table rather than copy it.
 */
static bool completable(uint32_t v, unsigned len, unsigned k)
{
	static const uint32_t least[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	unsigned rest = 6 * (len - k);
	uint32_t lo = v << rest, hi = lo | ((1u << rest) - 1);
	return hi >= least[len] && lo <= 0x10ffff && !(lo >= 0xd800 && hi <= 0xdfff);
}

/*
 * One character of s[i..n): returns the bytes it takes, *ok false for an
 * ill-formed sequence, which then spans its maximal subpart: the lead byte
 * and every continuation byte after which the sequence could still be
 * completed (what fmt.h promises to replace with one U+FFFD).
 */
static size_t ref_utf8(const unsigned char *s, size_t n, size_t i, bool *ok)
{
	unsigned c = s[i];
	unsigned len = c < 0x80 ? 1 : c < 0xc0 ? 0 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf8 ? 4 : 0;
	*ok = len == 1;
	if (len <= 1)
		return 1;
	uint32_t v = c & (0x7fu >> len);
	if (!completable(v, len, 1))
		return 1;
	unsigned k = 1;
	while (k < len && i + k < n && (s[i + k] & 0xc0) == 0x80 && completable(v << 6 | (s[i + k] & 0x3f), len, k + 1)) {
		v = v << 6 | (s[i + k] & 0x3f);
		k++;
	}
	*ok = k == len;
	return k;
}

/*
 * fmt_json_str(s) is the inside of a JSON string that is valid UTF-8, with
 * nothing raw that ends or breaks the string, and reads back as s with each
 * ill-formed UTF-8 sequence replaced by U+FFFD (one per maximal subpart).
 */
void check_json(const char *s)
{
	static const unsigned char fffd[3] = { 0xef, 0xbf, 0xbd };
	size_t n = strlen(s), cap = 6 * n + 1;
	char *out = malloc(cap), *back = malloc(3 * n + 1), *want = malloc(3 * n + 1);
	CHECK(out && back && want);
	/* what should read back */
	size_t w = 0;
	for (size_t i = 0; i < n;) {
		bool ok;
		size_t k = ref_utf8((const unsigned char *)s, n, i, &ok);
		if (ok)
			memcpy(want + w, s + i, k);
		else
			memcpy(want + w, fffd, 3);
		w += ok ? k : 3;
		i += k;
	}
	struct fmt f;
	fmt_init(&f, out, cap);
	fmt_json_str(&f, s);
	CHECK(!f.truncated && strlen(out) == f.len);
	size_t k = 0;
	for (size_t i = 0; i < f.len;) {
		unsigned char c = (unsigned char)out[i];
		CHECK(c >= 0x20 && c != 0x7f && c != '"');  /* nothing raw that ends or breaks the string */
		if (c >= 0x80) {
			bool ok;
			size_t m = ref_utf8((const unsigned char *)out, f.len, i, &ok);
			CHECK(ok);                              /* the line is valid UTF-8 */
			memcpy(back + k, out + i, m);
			k += m;
			i += m;
			continue;
		}
		i++;
		if (c != '\\') {
			back[k++] = (char)c;
			continue;
		}
		CHECK(i < f.len);
		char e = out[i++];
		if (e == '"' || e == '\\') {
			back[k++] = e;
			continue;
		}
		CHECK(e == 'u' && i + 4 <= f.len);
		unsigned u = 0;
		for (int j = 0; j < 4; j++) {
			int h = hexval(out[i + j]);
			CHECK(h >= 0);
			u = u << 4 | (unsigned)h;
		}
		i += 4;
		if (u == 0xfffd) {
			memcpy(back + k, fffd, 3);
			k += 3;
		} else {
			CHECK(u < 0x20 || u == 0x7f);           /* no other escape is needed */
			back[k++] = (char)u;
		}
	}
	CHECK(k == w && memcmp(back, want, w) == 0);
	free(out);
	free(back);
	free(want);
}

/* ---- globs ---- */

/* glibc gives up on a bracket expression that never closes when a range
 * runs into the end ("[a-"), where ss_glob_match takes the '[' literally;
 * POSIX leaves it open. */
static bool unterminated_bracket(const char *p)
{
	for (; *p; p++) {
		if (*p != '[')
			continue;
		const char *q = p + 1;
		if (*q == '!' || *q == '^')
			q++;
		if (*q)
			q++; /* a ']' first is a member */
		while (*q && *q != ']')
			q++;
		if (!*q)
			return true;
		p = q;
	}
	return false;
}

int ref_glob(const char *pattern, const char *s)
{
	unsigned stars = 0;
	for (const char *q = pattern; *q; q++)
		stars += *q == '*';
	if (stars > 3 || strstr(pattern, "[:") || strstr(pattern, "[=") || strstr(pattern, "[.") ||
	    unterminated_bracket(pattern))
		return -1;
	return fnmatch(pattern, s, FNM_NOESCAPE) == 0;
}

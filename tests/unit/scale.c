/*
 * Unit tests of the policy loader and of check's shadowing analysis at
 * scale: 100,000 rules. Duplicate rule names (src/engine/nameset.c) are reported
 * with the FILE:LINE of the second one, first or last in the file; the
 * shadowing warnings (src/engine/shadow.c) of a large policy come out exactly, with
 * no rule's search cut short; and on random policies the analysis gives
 * what comparing every pair of rules gives. Both must also be near-linear:
 * each 100,000-rule step has a generous time bound (a quadratic load took
 * 159 s here, the near-linear one about 1 s).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nameset.h"
#include "policy.h"
#include "shadow.h"

#define N 100000
#define TIME_BOUND_S 30.0

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- a growing text ---- */

struct text {
	char *s;
	size_t len, cap;
	unsigned line; /* lines written so far */
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	if (t->cap - t->len < 512) {
		t->cap = t->cap ? t->cap * 2 : 1 << 20;
		t->s = realloc(t->s, t->cap);
		assert_non_null(t->s);
	}
	va_start(ap, fmt);
	int n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
	for (int i = 0; i < n; i++)
		t->line += t->s[t->len - (size_t)n + (size_t)i] == '\n';
}

/* ---- reports ---- */

#define MAX_REPORTS 8
struct reports {
	unsigned n;
	char full[MAX_REPORTS][300];
};

static void collect(void *ctx, enum ss_severity sev, const char *file, unsigned line, const char *msg)
{
	struct reports *r = ctx;
	(void)sev;
	if (r->n < MAX_REPORTS)
		snprintf(r->full[r->n], sizeof(r->full[0]), "%s:%u: %s", file, line, msg);
	r->n++;
}

/* ---- duplicate names ---- */

static void test_nameset(void **state)
{
	(void)state;
	static char names[N][12];
	struct ss_nameset s;
	uint32_t v;
	ss_nameset_init(&s);
	assert_false(ss_nameset_get(&s, "r1", &v));
	for (uint32_t i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "r%u", i);
		assert_int_equal(ss_nameset_put(&s, names[i], i, &v), 1);
	}
	for (uint32_t i = 0; i < N; i += 997) {
		char again[12];
		snprintf(again, sizeof(again), "r%u", i);
		assert_int_equal(ss_nameset_put(&s, again, 7, &v), 0);
		assert_int_equal(v, i); /* the first value stays */
		assert_true(ss_nameset_get(&s, again, &v));
		assert_int_equal(v, i);
	}
	assert_false(ss_nameset_get(&s, "r100000", &v));
	assert_false(ss_nameset_get(&s, "R1", &v)); /* names are case-sensitive */
	ss_nameset_free(&s);
	assert_false(ss_nameset_get(&s, "r1", &v));
}

static void test_duplicates_at_scale(void **state)
{
	(void)state;
	struct text t = { 0 };
	unsigned line_of[N + 1] = { 0 }; /* rule k's header line (k from 1) */
	for (unsigned k = 1; k <= N; k++) {
		unsigned name = k == 2 ? 1 : k == N - 1 ? 50000 : k; /* rule 2 repeats rule 1, rule 99,999 rule 50,000 */
		line_of[k] = t.line + 1;
		add(&t, "[r%u]\non = connect\naddr = 10.%u.%u.%u\nport = %u\n\n", name, k >> 16, (k >> 8) & 255, k & 255, 1 + k % 65535);
	}
	struct reports r = { 0 };
	double t0 = now();
	struct ss_policy *p = ss_policy_parse("big.ini", t.s, t.len, collect, &r);
	double took = now() - t0;
	assert_non_null(p);
	print_message("  100,000 rules parsed in %.2f s\n", took);
	assert_int_equal(r.n, 2);
	char want[300];
	snprintf(want, sizeof(want), "big.ini:%u: duplicate rule name 'r1' (first at line 1)", line_of[2]);
	assert_string_equal(r.full[0], want);
	snprintf(want, sizeof(want), "big.ini:%u: duplicate rule name 'r50000' (first at line %u)", line_of[N - 1], line_of[50000]);
	assert_string_equal(r.full[1], want);
	assert_int_equal(p->nrules, N - 2);
	assert_true(took < TIME_BOUND_S);
	ss_policy_free(p);
	free(t.s);
}

/* ---- shadowing ---- */

/*
 * 100,000 rules: 60,000 on one address, ports 1-60,000 (tcp); 30,000 on
 * different addresses, one port; 9,990 on program names alone; then ten
 * whose fate is known. Every rule of the three large groups is distinct.
 */
static void test_shadow_at_scale(void **state)
{
	(void)state;
	struct text t = { 0 };
	unsigned i = 0;
	for (; i < 60000; i++)
		add(&t, "[a%u]\non = connect\nproto = tcp\naddr = 10.200.0.1\nport = %u\n", i, 1 + i);
	for (; i < 90000; i++)
		add(&t, "[b%u]\non = connect\naddr = 10.%u.%u.%u\nport = 443\n", i, i >> 16, (i >> 8) & 255, i & 255);
	for (; i < 99990; i++)
		add(&t, "[c%u]\non = connect\nprogram = app%u\n", i, i);
	static const char *const last[10] = {
		"on = connect\nproto = tcp\naddr = 10.200.0.1\nport = 77", /* 99,990: a76 (port 77) */
		"on = connect\naddr = 10.0.0.0/8",                         /* 99,991: nothing */
		"on = connect\naddr = 10.5.6.7\nport = 9",                 /* 99,992: 99,991 */
		"on = connect\nprogram = app90005",                        /* 99,993: c90005 */
		"on = connect\nprogram = worker-*",                        /* 99,994: nothing */
		"on = connect\nprogram = worker-7, app90010",              /* 99,995: nothing (worker-* holds worker-7, not app90010) */
		"on = connect, send",                                      /* 99,996: nothing */
		"on = send\nproto = udp\naddr = ::1",                      /* 99,997: 99,996 */
		"on = bind\naddr = 10.200.0.1\nport = 5",                  /* 99,998: nothing */
		"on = connect\nproto = tcp\naddr = 10.200.0.1\nport = 65000", /* 99,999: 99,991 */
	};
	for (unsigned k = 0; k < 10; k++, i++)
		add(&t, "[z%u]\n%s\n", i, last[k]);
	struct ss_policy *p = ss_policy_parse("big.ini", t.s, t.len, NULL, NULL);
	assert_non_null(p);
	assert_int_equal(p->nerrors, 0);
	assert_int_equal(p->nrules, N);

	uint32_t *by = calloc(N, sizeof(*by));
	assert_non_null(by);
	double t0 = now();
	long cut = ss_shadow_find(p, SS_SHADOW_MAX_COMPARE, by);
	double took = now() - t0;
	print_message("  shadowing of 100,000 rules in %.2f s\n", took);
	assert_int_equal(cut, 0);
	const uint32_t none = UINT32_MAX;
	const uint32_t want[10] = { 76, none, 99991, 90005, none, none, none, 99996, none, 99991 };
	unsigned shadowed = 0;
	for (uint32_t k = 0; k < N; k++)
		if (k < 99990 && by[k] != none) {
			print_message("  rule %u shadowed by %u\n", k, by[k]);
			shadowed++;
		}
	assert_int_equal(shadowed, 0);
	for (unsigned k = 0; k < 10; k++) {
		if (by[99990 + k] != want[k])
			print_message("  rule %u: by %d, expected %d\n", 99990 + k, (int)by[99990 + k], (int)want[k]);
		assert_int_equal(by[99990 + k], want[k]);
	}
	assert_true(took < TIME_BOUND_S);
	free(by);
	ss_policy_free(p);
	free(t.s);
}

/* Random rules from a small set of values (so that many shadow others):
 * the analysis must give, for every rule, the first earlier rule that
 * ss_rule_shadows says covers it, as comparing every pair does. */
static void test_shadow_matches_pairwise(void **state)
{
	(void)state;
	static const char *const ops[] = { "bind", "listen", "connect", "send", "connect, send", "bind, listen, connect, send" };
	static const char *const protos[] = { NULL, "tcp", "udp", "tcp, udp" };
	static const char *const fams[] = { NULL, "ipv4", "ipv6" };
	static const char *const addrs[] = { NULL, "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3", "0.0.0.0/0",
					     "::/0", "fd00::/8", "fd00::1", "::ffff:10.0.0.0/104", "10.1.2.4/30, 192.168.0.0/16",
					     "10.1.2.0/25, 10.1.2.128/25", "10.1.2.3, fd00::1" };
	static const char *const ports[] = { NULL, "80", "1-65535", "80-90", "81", "0-100", "443, 8000-8099", "8000-8049",
					     "1024-65535", "80, 443" };
	static const char *const progs[] = { NULL, "nginx", "ngin*", "redis-*", "redis-server", "curl", "[cn]url", "*", "nginx, curl" };
	uint64_t rng = 12345;
#define PICK(a) (a)[(rng = rng * 6364136223846793005ULL + 1442695040888963407ULL, (rng >> 33) % (sizeof(a) / sizeof((a)[0])))]
	for (unsigned round = 0; round < 40; round++) {
		struct text t = { 0 };
		unsigned n = 400;
		for (unsigned k = 0; k < n; k++) {
			const char *o = PICK(ops), *pr = PICK(protos), *fa = PICK(fams), *ad = PICK(addrs), *po = PICK(ports), *pg = PICK(progs);
			add(&t, "[r%u]\non = %s\n", k, o);
			if (pr)
				add(&t, "proto = %s\n", pr);
			if (fa)
				add(&t, "family = %s\n", fa);
			if (ad)
				add(&t, "addr = %s\n", ad);
			if (po)
				add(&t, "port = %s\n", po);
			if (pg)
				add(&t, "program = %s\n", pg);
		}
		struct ss_policy *p = ss_policy_parse("r.ini", t.s, t.len, NULL, NULL);
		assert_non_null(p);
		assert_int_equal(p->nerrors, 0);
		uint32_t by[400];
		assert_int_equal(ss_shadow_find(p, SS_SHADOW_MAX_COMPARE, by), 0);
		for (uint32_t b = 0; b < n; b++) {
			uint32_t first = UINT32_MAX;
			for (uint32_t a = 0; a < b && first == UINT32_MAX; a++)
				if (ss_rule_shadows(&p->rules[a], &p->rules[b]))
					first = a;
			if (by[b] != first)
				print_message("  round %u rule %u: by %d, pairwise %d\n", round, b, (int)by[b], (int)first);
			assert_int_equal(by[b], first);
		}
		ss_policy_free(p);
		free(t.s);
	}
#undef PICK
}

/* One address and port, 6,000 rules that differ only in program: each
 * would be compared with every earlier one; the bound stops that, and says
 * how many rules it cut short. */
static void test_shadow_bound(void **state)
{
	(void)state;
	struct text t = { 0 };
	for (unsigned k = 0; k < 6000; k++)
		add(&t, "[p%u]\non = connect\naddr = 10.0.0.1\nport = 80\nprogram = app%u\n", k, k);
	add(&t, "[dup]\non = connect\naddr = 10.0.0.1\nport = 80\nprogram = app5000\n");
	struct ss_policy *p = ss_policy_parse("b.ini", t.s, t.len, NULL, NULL);
	assert_non_null(p);
	uint32_t *by = calloc(p->nrules, sizeof(*by));
	assert_non_null(by);
	long cut = ss_shadow_find(p, 1000, by);
	/* rule k has k earlier candidates: rules 1,001-5,999 are cut short, and
	 * dup, whose twin (app5000) lies past its first 1,000 candidates */
	assert_int_equal(cut, 4999 + 1);
	assert_int_equal(by[6000], UINT32_MAX);
	assert_int_equal(ss_shadow_find(p, 100000, by), 0);
	assert_int_equal(by[6000], 5000);
	free(by);
	ss_policy_free(p);
	free(t.s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nameset),
		cmocka_unit_test(test_duplicates_at_scale),
		cmocka_unit_test(test_shadow_at_scale),
		cmocka_unit_test(test_shadow_matches_pairwise),
		cmocka_unit_test(test_shadow_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

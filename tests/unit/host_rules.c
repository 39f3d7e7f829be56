/*
 * Unit tests of name rules in the engine: `on = resolve` and `host`
 * (src/policy_keys.c, src/policy_rule.c, src/engine.c, src/hostname.c):
 * each parse error with its FILE:LINE, names in normal form (case, trailing
 * dot), globs, numeric hosts refused, resolve's rewrite list and EAI deny,
 * first match over resolve and connect rules, the index keeping
 * resolve-only rules out of every socket call, and the host index (a rule
 * with host tried only for a name it can match) deciding as a walk does.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "hostindex.h"
#include "shadow.h"
#include "hostname.h"
#include "index.h"
#include "policy.h"

static char errs[4096];

static void collect(void *ctx, enum ss_severity sev, const char *file, unsigned line, const char *msg)
{
	(void)ctx;
	size_t n = strlen(errs);
	snprintf(errs + n, sizeof(errs) - n, "%s%s:%u: %s\n", sev == SS_SEV_WARNING ? "W " : "", file, line, msg);
}

static struct ss_policy *parse(const char *text)
{
	errs[0] = '\0';
	struct ss_policy *p = ss_policy_parse("h.ini", text, strlen(text), collect, NULL);
	assert_non_null(p);
	return p;
}

static struct ss_policy *load(const char *text)
{
	struct ss_policy *p = parse(text);
	if (p->nerrors)
		fail_msg("unexpected errors:\n%s", errs);
	return p;
}

static const char *resolve(const struct ss_policy *p, const char *name, unsigned fam)
{
	char norm[SS_HOST_MAX];
	assert_true(ss_host_norm(norm, name));
	struct ss_opdesc d = { .op = SS_OP_RESOLVE, .family = fam, .host = norm };
	const struct ss_rule *r = ss_decide(p, &d);
	return r ? r->name : "-";
}

static const char *conn(const struct ss_policy *p, const char *ep, const char *host)
{
	struct ss_addr a;
	bool hi, hp;
	assert_true(ss_addr_parse_endpoint(&a, &hi, &hp, ep));
	struct ss_opdesc d = { .op = SS_OP_CONNECT, .proto = SS_PROTO_TCP, .family = a.family == 4 ? SS_FAM_V4 : SS_FAM_V6,
			       .addr = &a, .host = host };
	const struct ss_rule *r = ss_decide(p, &d);
	return r ? r->name : "-";
}

static void norm_forms(void **state)
{
	(void)state;
	char n[SS_HOST_MAX];
	assert_true(ss_host_norm(n, "API.Example.TEST."));
	assert_string_equal(n, "api.example.test");
	assert_true(ss_host_norm(n, "localhost"));
	/* numeric hosts are not name lookups, in every form getaddrinfo takes */
	assert_false(ss_host_norm(n, "127.0.0.1"));
	assert_false(ss_host_norm(n, "127.1"));
	assert_false(ss_host_norm(n, "::1"));
	assert_false(ss_host_norm(n, "fe80::1%lo"));
	assert_false(ss_host_norm(n, ""));
	assert_false(ss_host_norm(n, "0x7f.1"));
	assert_false(ss_host_norm(n, "*"));
	assert_false(ss_host_norm(n, "a b"));
	/* what glibc looks up as a name: trailing dots, the root */
	assert_true(ss_host_norm(n, "1.2.3.4."));
	assert_string_equal(n, "1.2.3.4");
	assert_true(ss_host_norm(n, "1."));
	assert_true(ss_host_norm(n, "2130706433."));
	assert_true(ss_host_norm(n, "08.1.2.3"));
	assert_true(ss_host_norm(n, "::1."));
	assert_true(ss_host_norm(n, "."));
	assert_string_equal(n, ".");
	/* the gethostbyname family reads no hex, and no address with a dot after it */
	assert_true(ss_lookup_name(n, "0x7f.1", SS_LOOKUP_GHBN_INET));
	assert_true(ss_lookup_name(n, "1.2.3.0x4", SS_LOOKUP_GHBN_INET6));
	assert_true(ss_lookup_name(n, "127.0.0.1.", SS_LOOKUP_GHBN_INET));
	assert_false(ss_lookup_name(n, "999.1.1.1", SS_LOOKUP_GHBN_INET));
	assert_false(ss_lookup_name(n, "::1", SS_LOOKUP_GHBN_INET));
	assert_false(ss_lookup_name(n, "::1", SS_LOOKUP_GHBN_INET6));
	assert_true(ss_lookup_name(n, "fe80::1%lo", SS_LOOKUP_GHBN_INET6));
	/* getaddrinfo AF_INET (no AI_CANONNAME) goes through gethostbyname2_r */
	assert_false(ss_lookup_name(n, "08.1.2.3", SS_LOOKUP_GAI_INET));
	assert_false(ss_lookup_name(n, "0x7f.1", SS_LOOKUP_GAI_INET));
	char longname[400];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_false(ss_host_norm(n, longname));
	assert_null(ss_host_pattern(n, "*.S3.Amazonaws.COM."));
	assert_string_equal(n, "*.s3.amazonaws.com");
	assert_non_null(ss_host_pattern(n, "10.0.0.1"));
	assert_non_null(ss_host_pattern(n, "a/b"));
	assert_non_null(ss_host_pattern(n, "[a-z.example.test")); /* an unclosed set could never match */
	assert_non_null(ss_host_pattern(n, "db-[0-9].x[!"));
	assert_null(ss_host_pattern(n, "db-[0-9].internal"));
	assert_null(ss_host_pattern(n, "[]a].test")); /* ']' first is a member, as ss_glob_match reads it */
	assert_int_equal(ss_eai_from_name("EAI_NONAME"), EAI_NONAME);
	assert_int_equal(ss_eai_from_name("EACCES"), 0);
	assert_string_equal(ss_eai_name(EAI_AGAIN), "EAI_AGAIN");
	assert_int_equal(ss_eai_h_errno(EAI_NONAME), HOST_NOT_FOUND);
	assert_int_equal(ss_eai_h_errno(EAI_AGAIN), TRY_AGAIN);
	assert_int_equal(ss_eai_h_errno(EAI_FAIL), NO_RECOVERY);
	assert_int_equal(ss_eai_h_errno(EAI_NODATA), NO_DATA);
}

static void resolve_rules(void **state)
{
	(void)state;
	struct ss_policy *p = load("[api]\non = resolve\nhost = API.example.test., *.svc.test\nrewrite = 127.0.0.1, ::1\n"
				   "[v6]\non = resolve\nfamily = ipv6\nhost = six.test\nrewrite = ::1\n"
				   "[curl-only]\non = resolve\nprogram = curl\nhost = c.test\n"
				   "[rest]\non = resolve\ndeny = EAI_NONAME\n");
	const struct ss_rule *r = &p->rules[0];
	assert_int_equal(r->ops, SS_OPBIT(SS_OP_RESOLVE));
	assert_int_equal(r->nhosts, 2);
	assert_string_equal(r->hosts[0], "api.example.test");
	assert_int_equal(r->nanswers, 2);
	assert_int_equal(r->answers[0].family, 4);
	assert_int_equal(r->answers[1].family, 6);
	assert_false(r->has_rewrite);
	assert_true(r->has_actions);
	assert_int_equal(p->rules[3].deny_eai, EAI_NONAME);
	assert_int_equal(p->rules[3].deny, 0);
	assert_int_equal(p->host_ops, SS_OPBIT(SS_OP_RESOLVE));

	assert_string_equal(resolve(p, "api.example.test", SS_FAM_V4 | SS_FAM_V6), "api");
	assert_string_equal(resolve(p, "Api.Example.Test.", SS_FAM_V4), "api");
	assert_string_equal(resolve(p, "x.svc.test", SS_FAM_V6), "api");
	assert_string_equal(resolve(p, "svc.test", SS_FAM_V6), "rest");
	/* family: what the lookup asked for; AF_UNSPEC asks for both, which a
	 * rule naming only one family does not take */
	assert_string_equal(resolve(p, "six.test", SS_FAM_V6), "v6");
	assert_string_equal(resolve(p, "six.test", SS_FAM_V4 | SS_FAM_V6), "rest");
	assert_string_equal(resolve(p, "six.test", SS_FAM_V4), "rest");
	/* program */
	struct ss_opdesc d = { .op = SS_OP_RESOLVE, .family = SS_FAM_V4, .host = "c.test", .program = "curl" };
	assert_string_equal(ss_decide(p, &d)->name, "curl-only");
	d.program = "python3";
	assert_string_equal(ss_decide(p, &d)->name, "rest");
	/* resolve rules never decide a socket call */
	assert_string_equal(conn(p, "127.0.0.1:80", "api.example.test"), "-");
	ss_policy_free(p);
}

/* resolve's rewrite list longer than a line the reader takes at once (cut
 * at its commas), and a list that goes on on the next line: every address */
static void long_rewrite_list(void **state)
{
	(void)state;
	char text[2048] = "[r]\non = resolve\nhost = a.test\nrewrite = ";
	for (int i = 1; i <= 16; i++)
		sprintf(text + strlen(text), "fd00:1234:5678:9abc::%x%s", i, i < 16 ? ", " : "\n");
	strcat(text, "[s]\non = resolve\nhost = b.test\nrewrite = 127.0.0.1,\n  127.0.0.2, ::1\n");
	assert_true(strlen(text) > 400);
	struct ss_policy *p = load(text);
	assert_non_null(p);
	assert_int_equal(p->nrules, 2);
	assert_int_equal(p->rules[0].nanswers, 16);
	assert_int_equal(p->rules[0].answers[15].family, 6);
	assert_int_equal(p->rules[1].nanswers, 3);
	assert_int_equal(p->rules[1].answers[2].family, 6);
	ss_policy_free(p);
}

/* check's shadowing search: a rule without host shadows a later one with
 * host even when an earlier host rule of the same ops does not */
static void host_shadowing(void **state)
{
	(void)state;
	struct ss_policy *p = load("[x]\non = resolve\nhost = x.test\ndeny = EAI_FAIL\n"
				   "[all]\non = resolve\ndeny = EAI_NONAME\n"
				   "[y]\non = resolve\nhost = y.test\nrewrite = 127.0.0.1\n"
				   "[cx]\non = connect\nhost = *.test\n"
				   "[cy]\non = connect\nhost = a.test\n");
	uint32_t by[5];
	assert_int_equal(ss_shadow_find(p, SS_SHADOW_MAX_COMPARE, by), 0);
	assert_int_equal(by[0], UINT32_MAX);
	assert_int_equal(by[1], UINT32_MAX);
	assert_int_equal(by[2], 1); /* y: by all, not missed behind x */
	assert_int_equal(by[3], UINT32_MAX);
	assert_int_equal(by[4], 3); /* a.test by the glob *.test */
	ss_policy_free(p);
}

static void host_on_connect(void **state)
{
	(void)state;
	struct ss_policy *p = load("[mock]\non = connect\nhost = api.example.test\nrewrite = 127.0.0.1:8080\n"
				   "[s3]\non = connect, send\nhost = *.s3.amazonaws.com\nport = 443\ndeny = ECONNREFUSED\n"
				   "[both]\non = connect, resolve\nhost = log.test\n");
	assert_int_equal(p->host_ops, SS_OPBIT(SS_OP_CONNECT) | SS_OPBIT(SS_OP_SEND) | SS_OPBIT(SS_OP_RESOLVE));
	assert_string_equal(conn(p, "93.184.216.34:443", "api.example.test"), "mock");
	/* an address no lookup returned never matches a host rule */
	assert_string_equal(conn(p, "93.184.216.34:443", NULL), "-");
	assert_string_equal(conn(p, "[2001:db8::1]:443", "b.s3.amazonaws.com"), "s3");
	assert_string_equal(conn(p, "[2001:db8::1]:80", "b.s3.amazonaws.com"), "-");
	assert_string_equal(conn(p, "10.0.0.1:1", "log.test"), "both");
	assert_string_equal(resolve(p, "log.test", SS_FAM_V4), "both");
	ss_policy_free(p);
}

/* With the index (8 rules or more), resolve-only rules are in no list a
 * socket call walks: a policy of address rules plus resolve rules still
 * lets the screen answer pass-through calls. */
static void index_ignores_resolve(void **state)
{
	(void)state;
	char text[4096] = "";
	for (int i = 0; i < 10; i++) {
		char r[128];
		snprintf(r, sizeof(r), "[c%d]\non = connect\naddr = 10.%d.0.0/16\n", i, i);
		strcat(text, r);
	}
	strcat(text, "[r]\non = resolve\nhost = a.test\nrewrite = 127.0.0.1\n[d]\non = resolve\ndeny = EAI_AGAIN\n");
	struct ss_policy *p = load(text);
	assert_non_null(p->index);
	assert_int_equal(p->index->nalways, 0);
	assert_string_equal(resolve(p, "a.test", SS_FAM_V4), "r");
	assert_string_equal(resolve(p, "b.test", SS_FAM_V4), "d");
	assert_string_equal(conn(p, "10.3.1.1:80", NULL), "c3");
	ss_policy_free(p);
	/* a connect rule with host and no addr or port is filed by its name,
	 * not in the list every call sees */
	p = load("[h]\non = connect\nhost = a.test\n[x1]\non=bind\nport=1\n[x2]\non=bind\nport=2\n[x3]\non=bind\nport=3\n"
		 "[x4]\non=bind\nport=4\n[x5]\non=bind\nport=5\n[x6]\non=bind\nport=6\n[x7]\non=bind\nport=7\n");
	assert_non_null(p->index);
	assert_int_equal(p->index->nalways, 0);
	assert_non_null(p->index->hosts);
	assert_string_equal(conn(p, "10.3.1.1:80", "a.test"), "h");
	assert_string_equal(conn(p, "10.3.1.1:80", "b.test"), "-");
	assert_string_equal(conn(p, "10.3.1.1:80", NULL), "-");
	ss_policy_free(p);
}

/* The first rule that matches, trying every rule. */
static const struct ss_rule *walk(const struct ss_policy *p, const struct ss_opdesc *d)
{
	for (unsigned i = 0; i < p->nrules; i++)
		if (ss_rule_matches(&p->rules[i], d))
			return &p->rules[i];
	return NULL;
}

static unsigned rnd(unsigned n)
{
	static uint64_t x = 0x9e3779b97f4a7c15ull;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return (unsigned)(x % n);
}

/* The host index: a hundred exact names cost one candidate, and over random
 * policies (exact names, globs, a name twice, host with an addr or a port,
 * rules without host, resolve rules) the index decides as the walk does. */
static void host_index_equals_walk(void **state)
{
	(void)state;
	static const char *const names[] = { "h1.test", "h2.test", "h3.test", "api.x.test", "db.x.test", "h1.test.x" };
	static const char *const pats[] = { "h1.test", "h2.test", "h3.test", "api.x.test", "*.x.test", "h?.test", "h[12].test", "*" };
	static char text[1 << 16];
	text[0] = '\0';
	for (int i = 1; i <= 100; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "[h%d]\non = connect\nhost = h%d.test\n", i, i);
	struct ss_policy *p = load(text);
	assert_non_null(p->index);
	assert_non_null(p->index->hosts);
	const uint32_t *ids = NULL;
	assert_int_equal(ss_hostindex_exact(p->index->hosts, "h100.test", &ids), 1);
	assert_int_equal(ids[0], 99);
	assert_int_equal(ss_hostindex_exact(p->index->hosts, "h101.test", &ids), 0);
	assert_int_equal(p->index->hosts->nglobs, 0);
	assert_string_equal(conn(p, "127.0.0.1:80", "h100.test"), "h100");
	assert_string_equal(conn(p, "127.0.0.1:80", NULL), "-");
	ss_policy_free(p);

	unsigned decided = 0;
	for (unsigned round = 0; round < 200; round++) {
		unsigned n = 8 + rnd(40);
		text[0] = '\0';
		for (unsigned i = 0; i < n; i++) {
			char *t = text + strlen(text);
			size_t room = sizeof(text) - strlen(text);
			int k = snprintf(t, room, "[r%u]\non = %s\n", i, rnd(4) ? "connect" : rnd(2) ? "send" : "resolve");
			bool res = strstr(t, "resolve") != NULL;
			if (rnd(5) && rnd(3))
				k += snprintf(t + k, room - k, "host = %s\n", pats[rnd(8)]);
			else if (rnd(2))
				k += snprintf(t + k, room - k, "host = %s, %s\n", pats[rnd(8)], pats[rnd(8)]);
			if (!res && !rnd(4))
				k += snprintf(t + k, room - k, "port = %u\n", 80 + rnd(2));
			if (!res && !rnd(4))
				k += snprintf(t + k, room - k, "addr = 127.0.0.%u\n", 1 + rnd(2));
		}
		p = parse(text);
		if (p->nerrors)
			fail_msg("random policy did not parse:\n%s%s", errs, text);
		for (unsigned k = 0; k < 200; k++) {
			struct ss_addr a;
			bool hi, hp;
			char ep[32];
			snprintf(ep, sizeof(ep), "127.0.0.%u:%u", 1 + rnd(2), 80 + rnd(2));
			assert_true(ss_addr_parse_endpoint(&a, &hi, &hp, ep));
			const char *host = rnd(6) ? names[rnd(6)] : NULL;
			struct ss_opdesc d = { .op = rnd(3) ? SS_OP_CONNECT : SS_OP_SEND, .proto = SS_PROTO_TCP,
					       .family = SS_FAM_V4, .addr = &a, .host = host };
			const struct ss_rule *want = walk(p, &d), *got = ss_decide(p, &d);
			if (want != got)
				fail_msg("round %u: %s host %s: index says %s, walk says %s\n%s", round, ep, host ? host : "-",
					 got ? got->name : "-", want ? want->name : "-", text);
			decided += want != NULL;
		}
		ss_policy_free(p);
	}
	print_message("  %u of 40000 calls decided by a rule\n", decided);
}

static void expect_errors(const char *text, const char *want)
{
	struct ss_policy *p = parse(text);
	assert_true(p->nerrors > 0);
	if (strcmp(errs, want) != 0)
		fail_msg("got:\n%swant:\n%s", errs, want);
	ss_policy_free(p);
}

static void parse_errors(void **state)
{
	(void)state;
	expect_errors("[a]\non = resolve\naddr = 10.0.0.0/8\nport = 53\nproto = udp\n",
		      "h.ini:3: 'addr' means nothing for on = resolve\n"
		      "h.ini:4: 'port' means nothing for on = resolve\n"
		      "h.ini:5: 'proto' means nothing for on = resolve\n");
	expect_errors("[a]\non = resolve\nsource = 127.0.0.1\nsockopt = SO_MARK=1\n",
		      "h.ini:3: 'source' means nothing for on = resolve\n"
		      "h.ini:4: 'sockopt' means nothing for on = resolve\n");
	expect_errors("[a]\non = resolve\ndeny = EACCES\n",
		      "h.ini:3: bad value 'EACCES' for 'deny': expected a lookup error such as EAI_NONAME, EAI_AGAIN or EAI_FAIL (on = resolve)\n");
	/* deny read after `on`, wherever `on` is written */
	expect_errors("[a]\ndeny = EAI_FAIL\non = connect\n",
		      "h.ini:2: bad value 'EAI_FAIL' for 'deny': expected an errno name such as EACCES or ECONNREFUSED (EAI_* names are for on = resolve)\n");
	expect_errors("[a]\nhost = x.test\non = bind, listen\n",
		      "h.ini:2: 'host' means nothing for on = bind, listen\n");
	expect_errors("[a]\non = resolve\nhost = 10.0.0.1, ok.test, a b\n",
		      "h.ini:3: bad value '10.0.0.1' for 'host': expected a name (a numeric address is never looked up: use 'addr')\n"
		      "h.ini:3: bad value 'a b' for 'host': expected a name or glob such as api.example.com or *.internal\n");
	expect_errors("[a]\non = resolve\nrewrite = 127.0.0.1:80\n",
		      "h.ini:3: bad value '127.0.0.1:80' for 'rewrite': expected an address such as 127.0.0.1 or ::1 (on = resolve answers with addresses, no port)\n");
	expect_errors("[a]\non = resolve\nrewrite = 127.0.0.1,,::1\n",
		      "h.ini:3: bad value '127.0.0.1,,::1' for 'rewrite': expected a list of addresses such as 127.0.0.1, ::1\n");
	expect_errors("[a]\non = resolve\nfamily = ipv4\nrewrite = ::1\n",
		      "h.ini:4: 'rewrite' holds no IPv4 address for family = ipv4\n");
	expect_errors("[a]\non = resolve\nrewrite = 127.0.0.1\ndeny = EAI_AGAIN\n",
		      "h.ini:3: 'rewrite' cannot be combined with 'deny' in one rule\n");
	expect_errors("[a]\non = connect, resolve\nrewrite = 127.0.0.1\n",
		      "h.ini:3: 'rewrite' means addresses to answer with for on = resolve and a new destination for the other ops: write two rules\n");
	expect_errors("[a]\non = send, resolve\ndeny = EAI_AGAIN\n",
		      "h.ini:3: 'deny' takes an EAI_* name for on = resolve and an errno name for the other ops: write two rules\n");
	expect_errors("[a]\non = resolve\nrewrite = 1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,1.1.1.9,1.1.1.10,"
		      "1.1.1.11,1.1.1.12,1.1.1.13,1.1.1.14,1.1.1.15,1.1.1.16,1.1.1.17\n",
		      "h.ini:3: 'rewrite' on resolve takes at most 16 addresses\n");
	expect_errors("[a]\non = lookup\n",
		      "h.ini:2: bad value 'lookup' for 'on': expected bind, listen, connect, send or resolve\n");
	/* the socket ops' rewrite and deny read as before */
	expect_errors("[a]\non = connect\nrewrite = nowhere\n",
		      "h.ini:3: bad value 'nowhere' for 'rewrite': expected ADDR, ADDR:PORT, [V6]:PORT or :PORT\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(norm_forms),
		cmocka_unit_test(resolve_rules),
		cmocka_unit_test(long_rewrite_list),
		cmocka_unit_test(host_shadowing),
		cmocka_unit_test(host_on_connect),
		cmocka_unit_test(index_ignores_resolve),
		cmocka_unit_test(host_index_equals_walk),
		cmocka_unit_test(parse_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

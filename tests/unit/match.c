/*
 * Unit tests of rule selection (src/engine/engine.c) and program globs
 * (ss_glob_match in src/engine/glob.c, ss_policy_bind_program in src/engine/policy.c): first match wins
 * in file order, each matcher (op, proto, family, addr, port, program) on
 * its own and together, CIDR boundaries for IPv4 and IPv6, IPv4-mapped
 * addresses, and a broken policy deciding nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "policy.h"

static void show(void *ctx, enum ss_severity sev, const char *file, unsigned line, const char *msg)
{
	(void)ctx;
	(void)sev;
	print_message("  %s:%u: %s\n", file, line, msg);
}

static struct ss_policy *load(const char *text)
{
	struct ss_policy *p = ss_policy_parse("m.ini", text, strlen(text), show, NULL);
	assert_non_null(p);
	assert_int_equal(p->nerrors, 0);
	return p;
}

/*
 * The rule deciding op on proto at endpoint ep ("1.2.3.4:80", "[::1]:80"),
 * as the name of the rule or "-" when none does. The socket's family is the
 * endpoint's unless fam is given (an IPv6 socket talking to ::ffff:a.b.c.d).
 */
static const char *decide_fam(const struct ss_policy *p, enum ss_op op, unsigned proto, unsigned fam,
			      const char *ep, const char *program)
{
	struct ss_addr a;
	bool has_ip, has_port;
	if (!ss_addr_parse_endpoint(&a, &has_ip, &has_port, ep) || !has_ip)
		fail_msg("bad endpoint in test: %s", ep);
	struct ss_opdesc d = {
		.op = op,
		.proto = proto,
		.family = fam ? fam : a.family == 4 ? SS_FAM_V4 : SS_FAM_V6,
		.addr = &a,
		.program = program,
	};
	const struct ss_rule *r = ss_decide(p, &d);
	return r ? r->name : "-";
}

static const char *decide(const struct ss_policy *p, enum ss_op op, unsigned proto, const char *ep)
{
	return decide_fam(p, op, proto, 0, ep, NULL);
}

#define TCP SS_PROTO_TCP
#define UDP SS_PROTO_UDP
#define CONNECT SS_OP_CONNECT
#define BIND SS_OP_BIND

/* Whether a one-rule policy with `addr = cidrs` matches a connect to ep. */
static bool addr_matches(const char *cidrs, const char *ep)
{
	char text[512];
	snprintf(text, sizeof(text), "[r]\non = connect\naddr = %s\n", cidrs);
	struct ss_policy *p = load(text);
	bool hit = strcmp(decide(p, CONNECT, TCP, ep), "r") == 0;
	ss_policy_free(p);
	return hit;
}

static void first_match_wins(void **state)
{
	(void)state;
	struct ss_policy *p = load(
		"[narrow]\non = connect\naddr = 10.1.0.0/16\n"
		"[wide]\non = connect\naddr = 10.0.0.0/8\n"
		"[all]\non = connect\n");
	assert_string_equal(decide(p, CONNECT, TCP, "10.1.2.3:80"), "narrow");
	assert_string_equal(decide(p, CONNECT, TCP, "10.2.0.1:80"), "wide");
	assert_string_equal(decide(p, CONNECT, TCP, "192.0.2.1:80"), "all");
	ss_policy_free(p);

	/* the same rules in the other order: the catch-all shadows the rest */
	p = load(
		"[all]\non = connect\n"
		"[wide]\non = connect\naddr = 10.0.0.0/8\n"
		"[narrow]\non = connect\naddr = 10.1.0.0/16\n");
	assert_string_equal(decide(p, CONNECT, TCP, "10.1.2.3:80"), "all");
	assert_string_equal(decide(p, CONNECT, TCP, "10.2.0.1:80"), "all");
	ss_policy_free(p);
}

static void no_rule_matches(void **state)
{
	(void)state;
	struct ss_policy *p = load("[r]\non = connect\naddr = 10.0.0.0/8\n");
	assert_string_equal(decide(p, CONNECT, TCP, "11.0.0.1:80"), "-");
	ss_policy_free(p);
	/* no rules at all */
	p = load("[global]\nlog = none\n");
	assert_string_equal(decide(p, CONNECT, TCP, "10.0.0.1:80"), "-");
	ss_policy_free(p);
}

static void op_mask(void **state)
{
	(void)state;
	struct ss_policy *p = load(
		"[b]\non = bind\n"
		"[l]\non = listen\n"
		"[cs]\non = connect, send\n");
	assert_string_equal(decide(p, BIND, TCP, "0.0.0.0:80"), "b");
	assert_string_equal(decide(p, SS_OP_LISTEN, TCP, "0.0.0.0:80"), "l");
	assert_string_equal(decide(p, CONNECT, TCP, "10.0.0.1:80"), "cs");
	assert_string_equal(decide(p, SS_OP_SEND, UDP, "10.0.0.1:53"), "cs");
	ss_policy_free(p);

	/* ops no rule names never match */
	p = load("[b]\non = bind\n");
	assert_int_equal(p->op_mask, SS_OPBIT(SS_OP_BIND));
	assert_string_equal(decide(p, CONNECT, TCP, "10.0.0.1:80"), "-");
	assert_string_equal(decide(p, SS_OP_LISTEN, TCP, "0.0.0.0:80"), "-");
	assert_string_equal(decide(p, SS_OP_SEND, UDP, "10.0.0.1:80"), "-");
	ss_policy_free(p);
}

static void proto_mask(void **state)
{
	(void)state;
	struct ss_policy *p = load(
		"[udp]\non = connect\nproto = udp\n"
		"[tcp]\non = connect\nproto = tcp\n");
	assert_string_equal(decide(p, CONNECT, UDP, "10.0.0.1:53"), "udp");
	assert_string_equal(decide(p, CONNECT, TCP, "10.0.0.1:53"), "tcp");
	ss_policy_free(p);

	p = load("[any]\non = connect\n[never]\non = connect\n");
	assert_string_equal(decide(p, CONNECT, UDP, "10.0.0.1:53"), "any");
	assert_string_equal(decide(p, CONNECT, TCP, "10.0.0.1:53"), "any");
	ss_policy_free(p);

	p = load("[both]\non = connect\nproto = udp, tcp\n");
	assert_string_equal(decide(p, CONNECT, UDP, "10.0.0.1:53"), "both");
	assert_string_equal(decide(p, CONNECT, TCP, "10.0.0.1:53"), "both");
	ss_policy_free(p);
}

static void family_mask(void **state)
{
	(void)state;
	struct ss_policy *p = load(
		"[v6]\non = connect\nfamily = ipv6\n"
		"[v4]\non = connect\nfamily = ipv4\n");
	assert_string_equal(decide(p, CONNECT, TCP, "10.0.0.1:80"), "v4");
	assert_string_equal(decide(p, CONNECT, TCP, "[2001:db8::1]:80"), "v6");
	/* family is the socket's: an IPv6 socket connecting to a mapped address is ipv6 */
	assert_string_equal(decide_fam(p, CONNECT, TCP, SS_FAM_V6, "[::ffff:10.0.0.1]:80", NULL), "v6");
	ss_policy_free(p);

	p = load("[only4]\non = connect\nfamily = ipv4\n");
	assert_string_equal(decide(p, CONNECT, TCP, "[::1]:80"), "-");
	ss_policy_free(p);
}

static void cidr_v4(void **state)
{
	(void)state;
	/* /0: every IPv4 address, no plain IPv6 one */
	assert_true(addr_matches("0.0.0.0/0", "0.0.0.0:1"));
	assert_true(addr_matches("0.0.0.0/0", "255.255.255.255:1"));
	assert_true(addr_matches("0.0.0.0/0", "[::ffff:1.2.3.4]:1"));
	assert_false(addr_matches("0.0.0.0/0", "[2001:db8::1]:1"));
	assert_false(addr_matches("0.0.0.0/0", "[::1]:1"));

	/* /8 at both edges */
	assert_true(addr_matches("10.0.0.0/8", "10.0.0.0:1"));
	assert_true(addr_matches("10.0.0.0/8", "10.255.255.255:1"));
	assert_false(addr_matches("10.0.0.0/8", "9.255.255.255:1"));
	assert_false(addr_matches("10.0.0.0/8", "11.0.0.0:1"));

	/* /32 is one address, and so is a bare address */
	assert_true(addr_matches("192.0.2.7/32", "192.0.2.7:1"));
	assert_false(addr_matches("192.0.2.7/32", "192.0.2.6:1"));
	assert_false(addr_matches("192.0.2.7/32", "192.0.2.8:1"));
	assert_true(addr_matches("192.0.2.7", "192.0.2.7:1"));
	assert_false(addr_matches("192.0.2.7", "192.0.2.70:1"));

	/* host bits set are ignored, as iptables does */
	assert_true(addr_matches("10.1.2.3/8", "10.200.0.1:1"));
	assert_false(addr_matches("10.1.2.3/8", "11.0.0.0:1"));
	assert_true(addr_matches("192.168.1.77/30", "192.168.1.76:1"));
	assert_true(addr_matches("192.168.1.77/30", "192.168.1.79:1"));
	assert_false(addr_matches("192.168.1.77/30", "192.168.1.80:1"));
	assert_false(addr_matches("192.168.1.77/30", "192.168.1.75:1"));

	/* odd prefix lengths */
	assert_true(addr_matches("172.16.0.0/12", "172.31.255.255:1"));
	assert_false(addr_matches("172.16.0.0/12", "172.32.0.0:1"));
	assert_true(addr_matches("128.0.0.0/1", "255.0.0.1:1"));
	assert_false(addr_matches("128.0.0.0/1", "127.255.255.255:1"));
}

static void cidr_v6(void **state)
{
	(void)state;
	assert_true(addr_matches("::1", "[::1]:1"));
	assert_false(addr_matches("::1", "[::2]:1"));
	assert_false(addr_matches("::1", "[::]:1"));
	assert_false(addr_matches("::1", "127.0.0.1:1"));
	assert_false(addr_matches("::1", "[::ffff:127.0.0.1]:1"));

	assert_true(addr_matches("2001:db8::/32", "[2001:db8::]:1"));
	assert_true(addr_matches("2001:db8::/32", "[2001:db8:ffff:ffff:ffff:ffff:ffff:ffff]:1"));
	assert_false(addr_matches("2001:db8::/32", "[2001:db7:ffff:ffff:ffff:ffff:ffff:ffff]:1"));
	assert_false(addr_matches("2001:db8::/32", "[2001:db9::]:1"));

	/* prefixes on the 64-bit seam of the 128-bit arithmetic */
	assert_true(addr_matches("2001:db8:0:1::/64", "[2001:db8:0:1:ffff:ffff:ffff:ffff]:1"));
	assert_false(addr_matches("2001:db8:0:1::/64", "[2001:db8:0:2::]:1"));
	assert_true(addr_matches("2001:db8::8000:0:0:0/65", "[2001:db8::ffff:0:0:1]:1"));
	assert_false(addr_matches("2001:db8::8000:0:0:0/65", "[2001:db8::7fff:ffff:ffff:ffff]:1"));
	assert_true(addr_matches("2001:db8::/63", "[2001:db8:0:1:ffff::]:1"));
	assert_false(addr_matches("2001:db8::/63", "[2001:db8:0:2::]:1"));
	assert_true(addr_matches("fe80::1/128", "[fe80::1]:1"));
	assert_false(addr_matches("fe80::1/127", "[fe80::2]:1"));
	assert_true(addr_matches("fe80::1/127", "[fe80::]:1"));

	/* ::/0: every address, IPv4 included */
	assert_true(addr_matches("::/0", "[::]:1"));
	assert_true(addr_matches("::/0", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:1"));
	assert_true(addr_matches("::/0", "1.2.3.4:1"));
	assert_true(addr_matches("::/0", "[::ffff:1.2.3.4]:1"));
}

static void ipv4_mapped(void **state)
{
	(void)state;
	/* an IPv4-mapped address matches IPv4 CIDRs */
	assert_true(addr_matches("10.0.0.0/8", "[::ffff:10.1.2.3]:1"));
	assert_false(addr_matches("10.0.0.0/8", "[::ffff:11.1.2.3]:1"));
	/* only the ::ffff:0:0/96 form is mapped: ::10.1.2.3 (compatible) is not */
	assert_false(addr_matches("10.0.0.0/8", "[::10.1.2.3]:1"));
	assert_false(addr_matches("10.0.0.0/8", "[::fffe:10.1.2.3]:1"));

	/* a v6 CIDR inside ::ffff:0:0/96 matches the IPv4 addresses it maps */
	assert_true(addr_matches("::ffff:10.0.0.0/104", "10.1.2.3:1"));
	assert_true(addr_matches("::ffff:10.0.0.0/104", "[::ffff:10.1.2.3]:1"));
	assert_false(addr_matches("::ffff:10.0.0.0/104", "11.0.0.0:1"));
	assert_false(addr_matches("::ffff:10.0.0.0/104", "9.255.255.255:1"));
	assert_true(addr_matches("::ffff:0:0/96", "0.0.0.0:1"));
	assert_true(addr_matches("::ffff:0:0/96", "255.255.255.255:1"));
	assert_true(addr_matches("::ffff:192.0.2.1", "192.0.2.1:1"));
	assert_false(addr_matches("::ffff:192.0.2.1", "192.0.2.2:1"));

	/* a v6 CIDR that covers the whole mapped block covers all of IPv4;
	 * ::/81 stops short of ::ffff:0:0, so it covers none */
	assert_true(addr_matches("::/80", "1.2.3.4:1"));
	assert_false(addr_matches("::/81", "1.2.3.4:1"));
	assert_true(addr_matches("::/81", "[::7fff:0:0]:1"));
	/* a v6 CIDR overlapping only the start of the mapped block */
	assert_true(addr_matches("::ffff:0:0/97", "127.255.255.255:1"));
	assert_false(addr_matches("::ffff:0:0/97", "128.0.0.0:1"));
	assert_true(addr_matches("::ffff:128.0.0.0/97", "255.1.1.1:1"));
	assert_false(addr_matches("::ffff:128.0.0.0/97", "127.0.0.1:1"));
}

static void ports(void **state)
{
	(void)state;
	struct ss_policy *p = load(
		"[web]\non = connect\nport = 80, 443, 8000-8999\n"
		"[low]\non = connect\nport = 0-1023\n"
		"[top]\non = connect\nport = 65535\n");
	assert_string_equal(decide(p, CONNECT, TCP, "10.0.0.1:80"), "web");
	assert_string_equal(decide(p, CONNECT, TCP, "10.0.0.1:443"), "web");
	assert_string_equal(decide(p, CONNECT, TCP, "10.0.0.1:8000"), "web");
	assert_string_equal(decide(p, CONNECT, TCP, "10.0.0.1:8999"), "web");
	assert_string_equal(decide(p, CONNECT, TCP, "10.0.0.1:7999"), "-");
	assert_string_equal(decide(p, CONNECT, TCP, "10.0.0.1:9000"), "-");
	assert_string_equal(decide(p, CONNECT, TCP, "10.0.0.1:81"), "low");
	assert_string_equal(decide(p, CONNECT, TCP, "10.0.0.1:0"), "low");
	assert_string_equal(decide(p, CONNECT, TCP, "10.0.0.1:1023"), "low");
	assert_string_equal(decide(p, CONNECT, TCP, "10.0.0.1:1024"), "-");
	assert_string_equal(decide(p, CONNECT, TCP, "10.0.0.1:65535"), "top");
	assert_string_equal(decide(p, CONNECT, TCP, "10.0.0.1:65534"), "-");
	ss_policy_free(p);
}

static void wildcard_address(void **state)
{
	(void)state;
	/* addr is what the application passed: binding to the wildcard matches 0.0.0.0 */
	struct ss_policy *p = load(
		"[any4]\non = bind\naddr = 0.0.0.0\n"
		"[any6]\non = bind\naddr = ::\n"
		"[lo]\non = bind\naddr = 127.0.0.0/8\n");
	assert_string_equal(decide(p, BIND, TCP, "0.0.0.0:8080"), "any4");
	assert_string_equal(decide(p, BIND, TCP, "127.0.0.1:8080"), "lo");
	assert_string_equal(decide(p, BIND, TCP, "[::]:8080"), "any6");
	assert_string_equal(decide(p, BIND, TCP, "10.0.0.1:8080"), "-");
	ss_policy_free(p);
	/* 0.0.0.0 is an address here, not "any": it does not match 10.0.0.1 */
	assert_false(addr_matches("0.0.0.0", "10.0.0.1:1"));
}

static void all_matchers_together(void **state)
{
	(void)state;
	struct ss_policy *p = load(
		"[db]\non = connect\nproto = tcp\nfamily = ipv4\naddr = 10.20.0.0/16\nport = 5432\nprogram = psql\n");
	ss_policy_bind_program(p, "psql", "psql");
	assert_string_equal(decide(p, CONNECT, TCP, "10.20.1.1:5432"), "db");
	/* each matcher alone can veto */
	assert_string_equal(decide(p, SS_OP_SEND, TCP, "10.20.1.1:5432"), "-");
	assert_string_equal(decide(p, CONNECT, UDP, "10.20.1.1:5432"), "-");
	assert_string_equal(decide_fam(p, CONNECT, TCP, SS_FAM_V6, "[::ffff:10.20.1.1]:5432", NULL), "-");
	assert_string_equal(decide(p, CONNECT, TCP, "10.21.1.1:5432"), "-");
	assert_string_equal(decide(p, CONNECT, TCP, "10.20.1.1:5433"), "-");
	assert_string_equal(decide_fam(p, CONNECT, TCP, 0, "10.20.1.1:5432", "pg_dump"), "-");
	ss_policy_bind_program(p, "python3", "python3.11");
	assert_string_equal(decide(p, CONNECT, TCP, "10.20.1.1:5432"), "-");
	ss_policy_free(p);
}

static void rule_matches_direct(void **state)
{
	(void)state;
	struct ss_policy *p = load("[a]\non = connect\nport = 80\n[b]\non = connect\n");
	struct ss_addr a;
	bool hi, hp;
	assert_true(ss_addr_parse_endpoint(&a, &hi, &hp, "10.0.0.1:80"));
	struct ss_opdesc d = { .op = SS_OP_CONNECT, .proto = TCP, .family = SS_FAM_V4, .addr = &a };
	assert_true(ss_rule_matches(&p->rules[0], &d));
	assert_true(ss_rule_matches(&p->rules[1], &d));
	a.port = 81;
	assert_false(ss_rule_matches(&p->rules[0], &d));
	assert_true(ss_rule_matches(&p->rules[1], &d));
	assert_ptr_equal(ss_decide(p, &d), &p->rules[1]);
	ss_policy_free(p);
}

static void program_binding(void **state)
{
	(void)state;
	struct ss_policy *p = load(
		"[nginx]\non = bind\nprogram = nginx\n"
		"[redis]\non = bind\nprogram = redis-*\n"
		"[py]\non = bind\nprogram = python3.[0-9], python3.1[0-9]\n"
		"[rest]\non = bind\n");
	/* argv0 matches */
	ss_policy_bind_program(p, "nginx", "nginx-debug");
	assert_string_equal(decide(p, BIND, TCP, "0.0.0.0:80"), "nginx");
	/* exe matches when argv0 does not (started through a differently named link) */
	ss_policy_bind_program(p, "cache", "redis-server");
	assert_string_equal(decide(p, BIND, TCP, "0.0.0.0:80"), "redis");
	ss_policy_bind_program(p, "python3", "python3.11");
	assert_string_equal(decide(p, BIND, TCP, "0.0.0.0:80"), "py");
	ss_policy_bind_program(p, "python3", "python3.9");
	assert_string_equal(decide(p, BIND, TCP, "0.0.0.0:80"), "py");
	ss_policy_bind_program(p, "python3", "python3.100");
	assert_string_equal(decide(p, BIND, TCP, "0.0.0.0:80"), "rest");
	/* neither matches */
	ss_policy_bind_program(p, "curl", "curl");
	assert_string_equal(decide(p, BIND, TCP, "0.0.0.0:80"), "rest");
	/* either may be NULL */
	ss_policy_bind_program(p, NULL, "nginx");
	assert_string_equal(decide(p, BIND, TCP, "0.0.0.0:80"), "nginx");
	ss_policy_bind_program(p, "redis-cli", NULL);
	assert_string_equal(decide(p, BIND, TCP, "0.0.0.0:80"), "redis");
	ss_policy_bind_program(p, NULL, NULL);
	assert_string_equal(decide(p, BIND, TCP, "0.0.0.0:80"), "rest");
	/* rebinding settles every rule again: the earlier match is not sticky */
	assert_false(p->rules[0].program_ok);
	assert_true(p->rules[3].program_ok);
	ss_policy_free(p);
}

static void program_in_opdesc(void **state)
{
	(void)state;
	/* op->program (explain --program) overrides the bound program */
	struct ss_policy *p = load("[nginx]\non = bind\nprogram = nginx\n[rest]\non = bind\n");
	ss_policy_bind_program(p, "curl", "curl");
	assert_string_equal(decide_fam(p, BIND, TCP, 0, "0.0.0.0:80", "nginx"), "nginx");
	assert_string_equal(decide_fam(p, BIND, TCP, 0, "0.0.0.0:80", "curl"), "rest");
	ss_policy_bind_program(p, "nginx", "nginx");
	assert_string_equal(decide_fam(p, BIND, TCP, 0, "0.0.0.0:80", "apache2"), "rest");
	assert_string_equal(decide_fam(p, BIND, TCP, 0, "0.0.0.0:80", ""), "rest");
	ss_policy_free(p);
}

static void glob(void **state)
{
	(void)state;
	static const struct {
		const char *pat, *s;
		bool want;
	} cases[] = {
		{ "", "", true },
		{ "", "a", false },
		{ "nginx", "nginx", true },
		{ "nginx", "nginx2", false },
		{ "nginx", "ngin", false },
		{ "nginx", "NGINX", false },
		{ "*", "", true },
		{ "*", "anything", true },
		{ "**", "x", true },
		{ "redis-*", "redis-server", true },
		{ "redis-*", "redis-", true },
		{ "redis-*", "redis", false },
		{ "*.py", "manage.py", true },
		{ "*.py", "manage.pyc", false },
		{ "a*b*c", "axxbyyc", true },
		{ "a*b*c", "abcbc", true },
		{ "a*b*c", "acb", false },
		{ "*ab", "aab", true },
		{ "*ab", "abab", true },
		{ "*ab", "aba", false },
		{ "?", "a", true },
		{ "?", "", false },
		{ "?", "ab", false },
		{ "py?hon", "python", true },
		{ "*?", "", false },
		{ "*?", "x", true },
		{ "[a-z]x", "qx", true },
		{ "[a-z]x", "Qx", false },
		{ "[a-z]x", "x", false },
		{ "[abc]", "b", true },
		{ "[abc]", "d", false },
		{ "[!x]", "y", true },
		{ "[!x]", "x", false },
		{ "[!x]", "", false },
		{ "[^x]", "y", true },
		{ "[^x]", "x", false },
		{ "[!a-c]z", "dz", true },
		{ "[!a-c]z", "bz", false },
		{ "[0-9][0-9]", "42", true },
		{ "[0-9][0-9]", "4a", false },
		{ "[]]", "]", true },
		{ "[]a]", "a", true },
		{ "[a-]", "-", true },
		{ "[ab", "[ab", true },   /* unterminated: a literal '[' */
		{ "[ab", "a", false },
		{ "a.b", "a.b", true },   /* '.' is literal */
		{ "a.b", "axb", false },
		{ "*/x", "dir/x", true }, /* no special meaning for '/' */
		{ "x*", "x", true },
		{ "*x*", "abxcd", true },
		{ "*x*", "abcd", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = ss_glob_match(cases[i].pat, cases[i].s);
		if (got != cases[i].want)
			fail_msg("glob '%s' on '%s': got %d, want %d", cases[i].pat, cases[i].s, got, cases[i].want);
	}
}

static void glob_many_stars_is_fast(void **state)
{
	(void)state;
	/* the classic exponential case for naive backtracking; the single
	 * star-restart algorithm is linear per star, so this returns at once */
	char s[201];
	memset(s, 'a', 200);
	s[200] = '\0';
	assert_false(ss_glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", s));
	assert_true(ss_glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a", s));
}

static void broken_policy_decides_nothing(void **state)
{
	(void)state;
	const char *text = "[ok]\non = connect\n[bad]\non = connect\nport = huge\n";
	struct ss_policy *p = ss_policy_parse("m.ini", text, strlen(text), NULL, NULL);
	assert_non_null(p);
	assert_int_equal(p->nerrors, 1);
	/* the good first rule would match, but a policy with errors is unusable */
	assert_string_equal(decide(p, CONNECT, TCP, "10.0.0.1:80"), "-");
	ss_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(first_match_wins),
		cmocka_unit_test(no_rule_matches),
		cmocka_unit_test(op_mask),
		cmocka_unit_test(proto_mask),
		cmocka_unit_test(family_mask),
		cmocka_unit_test(cidr_v4),
		cmocka_unit_test(cidr_v6),
		cmocka_unit_test(ipv4_mapped),
		cmocka_unit_test(ports),
		cmocka_unit_test(wildcard_address),
		cmocka_unit_test(all_matchers_together),
		cmocka_unit_test(rule_matches_direct),
		cmocka_unit_test(program_binding),
		cmocka_unit_test(program_in_opdesc),
		cmocka_unit_test(glob),
		cmocka_unit_test(glob_many_stars_is_fast),
		cmocka_unit_test(broken_policy_decides_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

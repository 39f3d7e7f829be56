/*
 * Unit tests of the policy loader (src/engine/policy.c) against POLICY.md:
 * every rule and [global] key with the values it parses to, every error
 * class with its exact line and the key it names, the line reader's
 * features (comments, indentation, continued and very long lists, BOM,
 * CRLF, ':' separator), ss_policy_load's file checks, and ss_global_apply
 * as used for the SOCKSHIM_* environment overrides.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "policy.h"

/* ---- collecting what the loader reports ---- */

#define MAX_REPORTS 64

struct reports {
	unsigned n;
	unsigned line[MAX_REPORTS];
	enum ss_severity sev[MAX_REPORTS];
	char msg[MAX_REPORTS][512];
	char full[MAX_REPORTS][1200]; /* "FILE:LINE: message", as `sockshim check` prints it */
};

static void collect(void *ctx, enum ss_severity sev, const char *file, unsigned line, const char *msg)
{
	struct reports *r = ctx;
	if (r->n >= MAX_REPORTS)
		return;
	r->line[r->n] = line;
	r->sev[r->n] = sev;
	snprintf(r->msg[r->n], sizeof(r->msg[0]), "%s", msg);
	snprintf(r->full[r->n], sizeof(r->full[0]), "%s:%u: %s", file, line, msg);
	r->n++;
}

static void dump(const struct reports *r)
{
	for (unsigned i = 0; i < r->n; i++)
		print_message("  report %u: %s\n", i, r->full[i]);
}

static struct ss_policy *parse_r(const char *text, struct reports *r)
{
	memset(r, 0, sizeof(*r));
	struct ss_policy *p = ss_policy_parse("t.ini", text, strlen(text), collect, r);
	assert_non_null(p);
	/* the count the policy keeps and what it reported must agree */
	assert_int_equal(p->nerrors, r->n);
	return p;
}

/* Parse text that must be clean; show what was reported when it is not. */
static struct ss_policy *parse_ok(const char *text)
{
	struct reports r;
	struct ss_policy *p = parse_r(text, &r);
	if (r.n)
		dump(&r);
	assert_int_equal(r.n, 0);
	return p;
}

/*
 * text must produce exactly one error, at line, in a message containing
 * each of the NULL-terminated fragments (a key is passed quoted, "'addr'",
 * so a message that merely contains the word elsewhere does not pass).
 */
static void expect_error(const char *text, unsigned line, ...)
{
	struct reports r;
	struct ss_policy *p = parse_r(text, &r);
	bool ok = r.n == 1 && r.line[0] == line && r.sev[0] == SS_SEV_ERROR;
	if (ok) {
		char prefix[32];
		snprintf(prefix, sizeof(prefix), "t.ini:%u: ", line);
		ok = strncmp(r.full[0], prefix, strlen(prefix)) == 0;
	}
	va_list ap;
	va_start(ap, line);
	for (const char *frag; ok && (frag = va_arg(ap, const char *)) != NULL;)
		ok = strstr(r.msg[0], frag) != NULL;
	va_end(ap);
	if (!ok) {
		print_message("expected one error at line %u; policy was:\n%s\n", line, text);
		dump(&r);
	}
	ss_policy_free(p);
	assert_true(ok);
}

static const struct ss_rule *rule_named(const struct ss_policy *p, const char *name)
{
	for (unsigned i = 0; i < p->nrules; i++)
		if (strcmp(p->rules[i].name, name) == 0)
			return &p->rules[i];
	fail_msg("no rule '%s'", name);
	return NULL;
}

static struct ss_addr ip(const char *s)
{
	struct ss_addr a;
	assert_true(ss_addr_parse_ip(&a, s));
	return a;
}

static bool addr_in(const struct ss_rule *r, const char *s)
{
	struct ss_addr a = ip(s);
	return ss_ipset_contains(&r->addr, &a);
}

/* ---- values of every key ---- */

static void empty_policy_has_defaults(void **state)
{
	(void)state;
	struct ss_policy *p = parse_ok("");
	assert_int_equal(p->nrules, 0);
	assert_int_equal(p->op_mask, 0);
	assert_string_equal(p->path, "t.ini");
	assert_int_equal(p->global.log, SS_LOG_STDERR);
	assert_int_equal(p->global.log_level, SS_LEVEL_INFO);
	assert_int_equal(p->global.log_format, SS_FORMAT_TEXT);
	assert_false(p->global.dry_run);
	assert_false(p->global.on_error_passthrough);
	ss_policy_free(p);

	/* only comments and blank lines: the same */
	p = parse_ok("; nothing\n# here\n\n   \n\t; indented comment\n");
	assert_int_equal(p->nrules, 0);
	ss_policy_free(p);
}

static void global_every_key(void **state)
{
	(void)state;
	struct ss_policy *p = parse_ok(
		"[global]\n"
		"log = none\n"
		"log_level = debug\n"
		"log_format = json\n"
		"mode = dry-run\n"
		"on_error = passthrough\n");
	assert_int_equal(p->global.log, SS_LOG_NONE);
	assert_int_equal(p->global.log_level, SS_LEVEL_DEBUG);
	assert_int_equal(p->global.log_format, SS_FORMAT_JSON);
	assert_true(p->global.dry_run);
	assert_true(p->global.on_error_passthrough);
	assert_int_equal(p->nrules, 0);
	ss_policy_free(p);

	/* the other value of each two-valued key */
	p = parse_ok("[global]\nlog = stderr\nlog_format = text\nmode = enforce\non_error = fail\nlog_level = warn\n");
	assert_int_equal(p->global.log, SS_LOG_STDERR);
	assert_int_equal(p->global.log_level, SS_LEVEL_WARN);
	assert_int_equal(p->global.log_format, SS_FORMAT_TEXT);
	assert_false(p->global.dry_run);
	assert_false(p->global.on_error_passthrough);
	ss_policy_free(p);
}

static void global_summary_interval(void **state)
{
	(void)state;
	struct ss_policy *p = parse_ok("");
	assert_int_equal(p->global.summary_interval, 0); /* default: off */
	ss_policy_free(p);
	static const struct {
		const char *v;
		unsigned secs;
	} ok[] = { { "off", 0 }, { "1s", 1 }, { "60s", 60 }, { "5m", 300 }, { "2h", 7200 }, { "168h", 604800 } };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char text[64];
		snprintf(text, sizeof(text), "[global]\nsummary_interval = %s\n", ok[i].v);
		p = parse_ok(text);
		assert_int_equal(p->global.summary_interval, ok[i].secs);
		ss_policy_free(p);
	}
	static const char *const bad[] = { "0s", "60", "s", "5x", "1m30s", "-1s", "605000s", "99999999999999999999s", "on" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[64];
		snprintf(text, sizeof(text), "[global]\nsummary_interval = %s\n", bad[i]);
		expect_error(text, 2, "'summary_interval'", NULL);
	}
}

static void global_log_targets(void **state)
{
	(void)state;
	struct ss_policy *p = parse_ok("[global]\nlog = syslog\n");
	assert_int_equal(p->global.log, SS_LOG_SYSLOG);
	assert_string_equal(p->global.log_path, "/dev/log");
	ss_policy_free(p);

	p = parse_ok("[global]\nlog = file:/var/log/sockshim.log\n");
	assert_int_equal(p->global.log, SS_LOG_FILE);
	assert_string_equal(p->global.log_path, "/var/log/sockshim.log");
	ss_policy_free(p);

	p = parse_ok("[global]\nlog = syslog:/run/custom.sock\n");
	assert_int_equal(p->global.log, SS_LOG_SYSLOG);
	assert_string_equal(p->global.log_path, "/run/custom.sock");
	ss_policy_free(p);

	static const char *const levels[] = { "error", "warn", "info", "debug" };
	static const enum ss_log_level want[] = { SS_LEVEL_ERROR, SS_LEVEL_WARN, SS_LEVEL_INFO, SS_LEVEL_DEBUG };
	for (unsigned i = 0; i < 4; i++) {
		char text[64];
		snprintf(text, sizeof(text), "[global]\nlog_level = %s\n", levels[i]);
		p = parse_ok(text);
		assert_int_equal(p->global.log_level, want[i]);
		ss_policy_free(p);
	}
}

static void rule_on_values(void **state)
{
	(void)state;
	struct ss_policy *p = parse_ok(
		"[b]\non = bind\n"
		"[l]\non = listen\n"
		"[c]\non = connect\n"
		"[s]\non = send\n"
		"[all]\non = bind, listen,connect , send\n");
	assert_int_equal(p->nrules, 5);
	assert_string_equal(p->rules[0].name, "b");
	assert_int_equal(p->rules[0].ops, SS_OPBIT(SS_OP_BIND));
	assert_int_equal(p->rules[1].ops, SS_OPBIT(SS_OP_LISTEN));
	assert_int_equal(p->rules[2].ops, SS_OPBIT(SS_OP_CONNECT));
	assert_int_equal(p->rules[3].ops, SS_OPBIT(SS_OP_SEND));
	assert_int_equal(p->rules[4].ops, 0xf);
	assert_int_equal(p->op_mask, 0xf);
	/* rules keep file order and their section line */
	assert_int_equal(p->rules[0].line, 1);
	assert_int_equal(p->rules[2].line, 5);
	assert_int_equal(p->rules[4].line, 9);
	/* matchers absent: any */
	assert_int_equal(p->rules[0].protos, 0);
	assert_int_equal(p->rules[0].families, 0);
	assert_false(p->rules[0].has_addr);
	assert_false(p->rules[0].has_port);
	assert_int_equal(p->rules[0].nprograms, 0);
	assert_false(p->rules[0].has_actions);
	ss_policy_free(p);

	/* op_mask is the union of what rules name */
	p = parse_ok("[a]\non = connect\n[b]\non = send\n");
	assert_int_equal(p->op_mask, SS_OPBIT(SS_OP_CONNECT) | SS_OPBIT(SS_OP_SEND));
	ss_policy_free(p);
}

static void rule_proto_family(void **state)
{
	(void)state;
	struct ss_policy *p = parse_ok(
		"[t]\non = bind\nproto = tcp\nfamily = ipv4\n"
		"[u]\non = bind\nproto = udp\nfamily = ipv6\n"
		"[both]\non = bind\nproto = tcp, udp\nfamily = ipv6, ipv4\n");
	assert_int_equal(rule_named(p, "t")->protos, SS_PROTO_TCP);
	assert_int_equal(rule_named(p, "t")->families, SS_FAM_V4);
	assert_int_equal(rule_named(p, "u")->protos, SS_PROTO_UDP);
	assert_int_equal(rule_named(p, "u")->families, SS_FAM_V6);
	assert_int_equal(rule_named(p, "both")->protos, SS_PROTO_TCP | SS_PROTO_UDP);
	assert_int_equal(rule_named(p, "both")->families, SS_FAM_V4 | SS_FAM_V6);
	ss_policy_free(p);
}

static void rule_addr(void **state)
{
	(void)state;
	struct ss_policy *p = parse_ok("[r]\non = connect\naddr = 10.0.0.0/8, 192.168.1.7, ::1, 2001:db8::/32, 0.0.0.0\n");
	const struct ss_rule *r = &p->rules[0];
	assert_true(r->has_addr);
	assert_int_equal(r->addr.n4, 3);
	assert_int_equal(r->addr.v4[0].lo, 0);
	assert_int_equal(r->addr.v4[0].hi, 0);
	assert_int_equal(r->addr.v4[1].lo, 0x0a000000u);
	assert_int_equal(r->addr.v4[1].hi, 0x0affffffu);
	assert_int_equal(r->addr.v4[2].lo, 0xc0a80107u);
	assert_int_equal(r->addr.v4[2].hi, 0xc0a80107u);
	assert_int_equal(r->addr.n6, 2);
	assert_true(addr_in(r, "::1"));
	assert_true(addr_in(r, "2001:db8:ffff::1"));
	assert_false(addr_in(r, "2001:db9::"));
	assert_false(addr_in(r, "11.0.0.0"));
	ss_policy_free(p);
}

static void rule_port(void **state)
{
	(void)state;
	struct ss_policy *p = parse_ok("[r]\non = bind\nport = 80, 8000-8999, 443\n");
	const struct ss_rule *r = &p->rules[0];
	assert_true(r->has_port);
	assert_int_equal(r->port.n, 3);
	assert_int_equal(r->port.count, 1002);
	assert_int_equal(r->port.r[0].lo, 80);
	assert_int_equal(r->port.r[1].lo, 443);
	assert_int_equal(r->port.r[2].lo, 8000);
	assert_int_equal(r->port.r[2].hi, 8999);
	assert_true(ss_portset_contains(&r->port, 8999));
	assert_false(ss_portset_contains(&r->port, 9000));
	ss_policy_free(p);

	/* port 0 is a valid matcher: bind to an ephemeral port */
	p = parse_ok("[r]\non = bind\nport = 0\n");
	assert_true(ss_portset_contains(&p->rules[0].port, 0));
	assert_int_equal(p->rules[0].port.count, 1);
	ss_policy_free(p);
}

static void rule_program(void **state)
{
	(void)state;
	struct ss_policy *p = parse_ok("[r]\non = connect\nprogram = nginx, redis-*, python3.[0-9]\n");
	const struct ss_rule *r = &p->rules[0];
	assert_int_equal(r->nprograms, 3);
	assert_string_equal(r->programs[0], "nginx");
	assert_string_equal(r->programs[1], "redis-*");
	assert_string_equal(r->programs[2], "python3.[0-9]");
	assert_false(r->has_actions);
	ss_policy_free(p);
}

static void rule_reuse_flags(void **state)
{
	(void)state;
	struct ss_policy *p = parse_ok(
		"[a]\non = bind, listen\nreuseaddr = force\nreuseport = deny\n"
		"[b]\non = listen\nreuseaddr = deny\nreuseport = force\n"
		"[c]\non = bind\n");
	assert_int_equal(rule_named(p, "a")->reuseaddr, SS_FLAG_FORCE);
	assert_int_equal(rule_named(p, "a")->reuseport, SS_FLAG_DENY);
	assert_true(rule_named(p, "a")->has_actions);
	assert_int_equal(rule_named(p, "b")->reuseaddr, SS_FLAG_DENY);
	assert_int_equal(rule_named(p, "b")->reuseport, SS_FLAG_FORCE);
	assert_int_equal(rule_named(p, "c")->reuseaddr, SS_FLAG_NONE);
	assert_int_equal(rule_named(p, "c")->reuseport, SS_FLAG_NONE);
	assert_false(rule_named(p, "c")->has_actions);
	ss_policy_free(p);
}

static void rule_sockopt(void **state)
{
	(void)state;
	struct ss_policy *p = parse_ok(
		"[r]\non = connect, bind\n"
		"sockopt = SO_KEEPALIVE=1, TCP_NODELAY = 1, IP_TOS=0x10, SO_MARK=7, SO_BINDTODEVICE=eth1,\n"
		"          SO_LINGER=off, SO_LINGER=5, TCP_KEEPIDLE=30, IPV6_V6ONLY=0, SO_PRIORITY=-1\n");
	const struct ss_rule *r = &p->rules[0];
	assert_true(r->has_actions);
	assert_int_equal(r->nsockopts, 10);
	const struct ss_sockopt *o = r->sockopts;
	assert_string_equal(o[0].opt->name, "SO_KEEPALIVE");
	assert_int_equal(o[0].opt->level, SOL_SOCKET);
	assert_int_equal(o[0].opt->optname, SO_KEEPALIVE);
	assert_int_equal(o[0].ival, 1);
	assert_string_equal(o[0].text, "SO_KEEPALIVE=1");
	/* blanks around '=' inside an item are allowed; the text is kept as written */
	assert_string_equal(o[1].opt->name, "TCP_NODELAY");
	assert_int_equal(o[1].opt->scope, SS_SCOPE_TCP);
	assert_int_equal(o[1].ival, 1);
	assert_string_equal(o[1].text, "TCP_NODELAY = 1");
	/* strtol base 0: hex works */
	assert_string_equal(o[2].opt->name, "IP_TOS");
	assert_int_equal(o[2].ival, 16);
	assert_int_equal(o[2].opt->scope, SS_SCOPE_IPV4);
	assert_int_equal(o[3].ival, 7);
	assert_string_equal(o[4].opt->name, "SO_BINDTODEVICE");
	assert_int_equal(o[4].opt->kind, SS_OPT_STRING);
	assert_string_equal(o[4].sval, "eth1");
	assert_int_equal(o[5].opt->kind, SS_OPT_LINGER);
	assert_int_equal(o[5].ival, -1);
	assert_int_equal(o[6].ival, 5);
	assert_string_equal(o[7].opt->name, "TCP_KEEPIDLE");
	assert_int_equal(o[7].ival, 30);
	assert_string_equal(o[8].opt->name, "IPV6_V6ONLY");
	assert_int_equal(o[8].opt->scope, SS_SCOPE_IPV6);
	assert_int_equal(o[8].ival, 0);
	assert_int_equal(o[9].ival, -1);
	ss_policy_free(p);
}

static void rule_source_and_port(void **state)
{
	(void)state;
	struct ss_policy *p = parse_ok(
		"[r]\non = connect, send\n"
		"source = 10.20.255.10, 10.20.255.11, 2001:db8::5\n"
		"source_port = 40000-44999, 50000\n");
	const struct ss_rule *r = &p->rules[0];
	assert_true(r->has_actions);
	assert_int_equal(r->nsource, 3);
	assert_int_equal(r->source[0].family, 4);
	assert_memory_equal(r->source[0].ip, "\x0a\x14\xff\x0a", 4);
	assert_int_equal(r->source[0].port, 0);
	assert_memory_equal(r->source[1].ip, "\x0a\x14\xff\x0b", 4);
	assert_int_equal(r->source[2].family, 6);
	assert_int_equal(r->source[2].ip[15], 5);
	assert_true(r->has_source_port);
	assert_int_equal(r->source_port.n, 2);
	assert_int_equal(r->source_port.count, 5001);
	assert_int_equal(ss_portset_nth(&r->source_port, 5000), 50000);
	assert_int_equal(r->rotate, SS_ROTATE_SEQUENTIAL); /* the default */
	ss_policy_free(p);
}

static void rule_rotate(void **state)
{
	(void)state;
	struct ss_policy *p = parse_ok(
		"[seq]\non = connect\nsource = 10.0.0.1\nrotate = sequential\n"
		"[rnd]\non = connect\nsource_port = 1000-2000\nrotate = random\n"
		"[krn]\non = connect\nsource_port = 1000-2000\nrotate = kernel\n"
		/* adjacent ranges merge into one, so kernel accepts them */
		"[krn2]\non = connect\nsource_port = 1000-1999, 2000-2999\nrotate = kernel\n");
	assert_int_equal(rule_named(p, "seq")->rotate, SS_ROTATE_SEQUENTIAL);
	assert_int_equal(rule_named(p, "rnd")->rotate, SS_ROTATE_RANDOM);
	assert_int_equal(rule_named(p, "krn")->rotate, SS_ROTATE_KERNEL);
	assert_int_equal(rule_named(p, "krn2")->source_port.n, 1);
	assert_int_equal(rule_named(p, "krn2")->source_port.count, 2000);
	ss_policy_free(p);
}

static void rule_rotate_scope(void **state)
{
	(void)state;
	struct ss_policy *p = parse_ok(
		"[dflt]\non = connect\nsource = 10.0.0.1\n"
		"[proc]\non = connect\nsource = 10.0.0.1\nrotate_scope = process\n"
		"[host]\non = send\nsource_port = 1000-2000\nrotate_scope = host\n");
	assert_false(rule_named(p, "dflt")->rotate_host);
	assert_false(rule_named(p, "proc")->rotate_host);
	assert_true(rule_named(p, "host")->rotate_host);
	/* every rule starts on its own process-local cursors */
	for (unsigned i = 0; i < p->nrules; i++)
		assert_ptr_equal(p->rules[i].state->cursor, p->rules[i].state->local);
	ss_policy_free(p);
}

static void rule_rewrite(void **state)
{
	(void)state;
	struct ss_policy *p = parse_ok(
		"[a]\non = connect\nrewrite = 127.0.0.1\n"
		"[ap]\non = connect\nrewrite = 127.0.0.1:15432\n"
		"[v6]\non = connect\nrewrite = [::1]:8080\n"
		"[p]\non = bind\nrewrite = :8081\n"
		"[bare6]\non = bind\nrewrite = 2001:db8::7\n");
	const struct ss_rule *r = rule_named(p, "a");
	assert_true(r->has_rewrite && r->has_actions);
	assert_true(r->rewrite_ip);
	assert_false(r->rewrite_port);
	assert_int_equal(r->rewrite.family, 4);
	assert_memory_equal(r->rewrite.ip, "\x7f\0\0\x01", 4);

	r = rule_named(p, "ap");
	assert_true(r->rewrite_ip && r->rewrite_port);
	assert_int_equal(r->rewrite.port, 15432);

	r = rule_named(p, "v6");
	assert_true(r->rewrite_ip && r->rewrite_port);
	assert_int_equal(r->rewrite.family, 6);
	assert_int_equal(r->rewrite.ip[15], 1);
	assert_int_equal(r->rewrite.port, 8080);

	r = rule_named(p, "p");
	assert_false(r->rewrite_ip);
	assert_true(r->rewrite_port);
	assert_int_equal(r->rewrite.port, 8081);

	r = rule_named(p, "bare6");
	assert_true(r->rewrite_ip);
	assert_false(r->rewrite_port);
	assert_int_equal(r->rewrite.family, 6);
	assert_int_equal(r->rewrite.ip[15], 7);
	ss_policy_free(p);
}

static void rule_deny(void **state)
{
	(void)state;
	struct ss_policy *p = parse_ok(
		"[a]\non = connect\ndeny = EACCES\n"
		"[b]\non = connect, send\ndeny = ENETUNREACH\n"
		"[c]\non = bind, listen\ndeny = EADDRINUSE\n"
		"[d]\non = connect\n");
	assert_int_equal(rule_named(p, "a")->deny, EACCES);
	assert_true(rule_named(p, "a")->has_actions);
	assert_int_equal(rule_named(p, "b")->deny, ENETUNREACH);
	assert_int_equal(rule_named(p, "c")->deny, EADDRINUSE);
	assert_int_equal(rule_named(p, "d")->deny, 0);
	ss_policy_free(p);
}

/* The example of POLICY.md must load as written. */
static void contract_example(void **state)
{
	(void)state;
	struct ss_policy *p = parse_ok(
		"[global]\n"
		"log = stderr\n"
		"log_format = json\n"
		"\n"
		"; legacy server: restart at once despite TIME_WAIT, run several copies on one port\n"
		"[listeners]\n"
		"on = bind\n"
		"proto = tcp\n"
		"port = 8080\n"
		"reuseaddr = force\n"
		"reuseport = force\n"
		"\n"
		"; outbound to the database tier: pin the source address, rotate ports in a window\n"
		"[db]\n"
		"on = connect\n"
		"addr = 10.20.0.0/16\n"
		"port = 5432\n"
		"source = 10.20.255.10, 10.20.255.11\n"
		"source_port = 40000-44999\n"
		"\n"
		"; test sandbox: anything else that leaves loopback is refused\n"
		"[loopback-only]\n"
		"on = connect, send\n"
		"addr = 127.0.0.0/8, ::1\n"
		"\n"
		"[no-egress]\n"
		"on = connect, send\n"
		"deny = ENETUNREACH\n");
	assert_int_equal(p->nrules, 4);
	assert_string_equal(p->rules[0].name, "listeners");
	assert_string_equal(p->rules[1].name, "db");
	assert_string_equal(p->rules[2].name, "loopback-only");
	assert_string_equal(p->rules[3].name, "no-egress");
	assert_int_equal(p->rules[1].line, 14);
	assert_int_equal(p->rules[1].nsource, 2);
	assert_int_equal(p->rules[1].source_port.count, 5000);
	assert_int_equal(p->global.log_format, SS_FORMAT_JSON);
	ss_policy_free(p);
}

/* ---- the line reader ---- */

static void comments_everywhere(void **state)
{
	(void)state;
	struct ss_policy *p = parse_ok(
		"; a comment\n"
		"# another\n"
		"[r] ; inline after a header\n"
		"on = connect ; inline after a value\n"
		"port = 80\t; after a tab\n"
		"   # indented hash comment\n"
		"program = a;b\n");
	const struct ss_rule *r = &p->rules[0];
	assert_int_equal(r->ops, SS_OPBIT(SS_OP_CONNECT));
	assert_int_equal(r->port.count, 1);
	assert_true(ss_portset_contains(&r->port, 80));
	assert_int_equal(r->nprograms, 1);
	assert_string_equal(r->programs[0], "a;b");
	ss_policy_free(p);
}

static void hash_inline_is_not_a_comment(void **state)
{
	(void)state;
	/* only " ;" starts an inline comment, so " # x" stays in the value */
	expect_error("[r]\non = connect\naddr = 10.0.0.1 # x\n", 3, "'addr'", "10.0.0.1 # x", NULL);
}

static void indented_keys_and_headers(void **state)
{
	(void)state;
	struct ss_policy *p = parse_ok(
		"  [global]\n"
		"\tlog_level = debug\n"
		"    [r]\n"
		"    on = bind\n"
		"\t\tport = 8080\n"
		"  proto = tcp\n");
	assert_int_equal(p->global.log_level, SS_LEVEL_DEBUG);
	assert_int_equal(p->nrules, 1);
	assert_int_equal(p->rules[0].ops, SS_OPBIT(SS_OP_BIND));
	assert_true(ss_portset_contains(&p->rules[0].port, 8080));
	assert_int_equal(p->rules[0].protos, SS_PROTO_TCP);
	assert_int_equal(p->rules[0].line, 3);
	ss_policy_free(p);
}

static void list_continues_after_trailing_comma(void **state)
{
	(void)state;
	struct ss_policy *p = parse_ok(
		"[r]\n"
		"on = connect,\n"
		"     send\n"
		"addr = 10.0.0.0/8,\n"
		"  ; a comment inside the list\n"
		"\n"
		"192.168.0.0/16,\n"
		"\t::1\n"
		"port = 1,\n"
		"2 ; trailing comment\n"
		"proto = tcp\n");
	const struct ss_rule *r = &p->rules[0];
	assert_int_equal(r->ops, SS_OPBIT(SS_OP_CONNECT) | SS_OPBIT(SS_OP_SEND));
	assert_int_equal(r->addr.n4, 2);
	assert_int_equal(r->addr.n6, 1);
	assert_true(addr_in(r, "192.168.3.4"));
	assert_true(addr_in(r, "::1"));
	assert_int_equal(r->port.count, 2);
	assert_true(ss_portset_contains(&r->port, 2));
	assert_int_equal(r->protos, SS_PROTO_TCP);
	ss_policy_free(p);
}

/* Build "[r]\non = connect\naddr = <n CIDRs>\n<tail>" in a malloc'd buffer. */
static char *long_addr_policy(unsigned n, const char *last_item, const char *tail)
{
	size_t cap = 64 + (size_t)n * 24 + strlen(tail) + 64;
	char *t = malloc(cap);
	assert_non_null(t);
	size_t len = (size_t)snprintf(t, cap, "[r]\non = connect\naddr = ");
	for (unsigned i = 0; i < n; i++) {
		/* 10.(i/256).(i%256).0/24 and, every 7th, a v6 /64, so both sets fill */
		if (i % 7 == 6)
			len += (size_t)snprintf(t + len, cap - len, "2001:db8:%x::/64, ", i);
		else
			len += (size_t)snprintf(t + len, cap - len, "10.%u.%u.0/24, ", i / 256, i % 256);
	}
	len += (size_t)snprintf(t + len, cap - len, "%s\n%s", last_item, tail);
	return t;
}

static void very_long_list_line(void **state)
{
	(void)state;
	char *t = long_addr_policy(3000, "172.16.0.1", "port = 443\n");
	assert_true(strlen(t) > 30000);
	struct ss_policy *p = parse_ok(t);
	const struct ss_rule *r = &p->rules[0];
	/* every item arrived: check each one, plus the last and the key after it */
	for (unsigned i = 0; i < 3000; i++) {
		char a[64];
		if (i % 7 == 6)
			snprintf(a, sizeof(a), "2001:db8:%x::42", i);
		else
			snprintf(a, sizeof(a), "10.%u.%u.77", i / 256, i % 256);
		if (!addr_in(r, a))
			fail_msg("item %u (%s) lost when the long line was split", i, a);
	}
	assert_true(addr_in(r, "172.16.0.1"));
	assert_false(addr_in(r, "172.16.0.2"));
	assert_false(addr_in(r, "10.200.0.1"));
	assert_int_equal(r->addr.n6, 3000 / 7);
	assert_true(r->has_port);
	assert_true(ss_portset_contains(&r->port, 443));
	ss_policy_free(p);
	free(t);
}

static void very_long_line_error_keeps_line_numbers(void **state)
{
	(void)state;
	/* a bad item at the very end of a split line is reported on that line,
	 * and the line after it still has its own number */
	char *t = long_addr_policy(2000, "10.0.0.300", "port = 99999\n");
	struct reports r;
	struct ss_policy *p = parse_r(t, &r);
	if (r.n != 2)
		dump(&r);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.line[0], 3);
	assert_non_null(strstr(r.msg[0], "'10.0.0.300'"));
	assert_non_null(strstr(r.msg[0], "'addr'"));
	assert_int_equal(r.line[1], 4);
	assert_non_null(strstr(r.msg[1], "'port'"));
	ss_policy_free(p);
	free(t);
}

static void long_line_that_cannot_split(void **state)
{
	(void)state;
	char text[600];
	char name[320];
	memset(name, 'x', 300);
	name[300] = '\0';
	snprintf(text, sizeof(text), "[r]\non = connect\nprogram = %s\nport = 1\n", name);
	expect_error(text, 3, "line too long", NULL);
}

/* A long line is handed to inih in chunks; an error about the line's key
 * is still one error, not one per chunk. */
static void long_line_bad_key_reported_once(void **state)
{
	(void)state;
	char text[2048];
	int n = snprintf(text, sizeof(text), "[r]\non = bind\ncolour = ");
	for (int i = 0; i < 100; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "red, ");
	snprintf(text + n, sizeof(text) - (size_t)n, "blue\n");
	assert_true(strlen(text) > 500);
	expect_error(text, 3, "unknown key", "'colour'", NULL);

	n = snprintf(text, sizeof(text), "; no section yet\non = ");
	for (int i = 0; i < 100; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "bind, ");
	snprintf(text + n, sizeof(text) - (size_t)n, "bind\n[r]\non = bind\n");
	expect_error(text, 2, "'on'", "outside", NULL);
}

static void bom_is_skipped(void **state)
{
	(void)state;
	struct ss_policy *p = parse_ok("\xEF\xBB\xBF[global]\nlog = none\n[r]\non = bind\n");
	assert_int_equal(p->global.log, SS_LOG_NONE);
	assert_int_equal(p->nrules, 1);
	ss_policy_free(p);

	/* a BOM-like sequence later in the file is just bad text */
	struct reports r;
	p = parse_r("[r]\n\xEF\xBB\xBFon = bind\n", &r);
	assert_true(r.n >= 2);
	/* errors come in line order: the rule has no 'on' (line 1), and the key is unknown (line 2) */
	assert_int_equal(r.line[0], 1);
	assert_int_equal(r.line[1], 2);
	ss_policy_free(p);
}

static void colon_separator(void **state)
{
	(void)state;
	struct ss_policy *p = parse_ok(
		"[global]\nlog_level: debug\n"
		"[r]\non: connect\naddr: ::1, 10.0.0.1\nrewrite: [::1]:80\nsockopt: SO_MARK=7\n");
	assert_int_equal(p->global.log_level, SS_LEVEL_DEBUG);
	const struct ss_rule *r = &p->rules[0];
	assert_int_equal(r->ops, SS_OPBIT(SS_OP_CONNECT));
	assert_true(addr_in(r, "::1"));
	assert_true(addr_in(r, "10.0.0.1"));
	assert_int_equal(r->rewrite.port, 80);
	assert_int_equal(r->rewrite.family, 6);
	assert_int_equal(r->sockopts[0].ival, 7);
	ss_policy_free(p);
}

static void crlf_and_no_final_newline(void **state)
{
	(void)state;
	/* a policy edited on Windows, and one whose last line has no '\n' */
	struct ss_policy *p = parse_ok("[global]\r\nlog = none\r\n[r]\r\non = bind\r\nport = 80\r\n");
	assert_int_equal(p->global.log, SS_LOG_NONE);
	assert_true(ss_portset_contains(&p->rules[0].port, 80));
	ss_policy_free(p);

	p = parse_ok("[r]\non = bind\nport = 81");
	assert_true(ss_portset_contains(&p->rules[0].port, 81));
	ss_policy_free(p);
}

static void rule_names_allowed_characters(void **state)
{
	(void)state;
	struct ss_policy *p = parse_ok("[Az09_.-]\non = bind\n[x]\non = bind\n");
	assert_string_equal(p->rules[0].name, "Az09_.-");
	ss_policy_free(p);
}

/* ---- errors: one per class, with its line and key ---- */

static void err_section_syntax(void **state)
{
	(void)state;
	expect_error("[ok]\non = bind\n[bad name]\non = bind\n", 3, "bad section name", "bad name", NULL);
	expect_error("[ok]\non = bind\n[a/b]\non = bind\n", 3, "bad section name", NULL);
	expect_error("[]\non = bind\n", 1, "bad section name", NULL);
	expect_error("[ok]\non = bind\n\n[missing\non = bind\n", 4, "lacks ']'", NULL);
	expect_error("[ok]\non = bind\n[after] x\non = bind\n", 3, "text after ']'", NULL);
	/* a bad header skips its section: its keys are not reported again */
	expect_error("[a b]\nwhatever = 1\n", 1, "bad section name", NULL);
}

static void err_unknown_key(void **state)
{
	(void)state;
	expect_error("[r]\non = bind\ncolour = red\n", 3, "unknown key", "'colour'", "'r'", NULL);
	expect_error("[global]\nlog = none\nverbose = 1\n", 3, "unknown key", "'verbose'", "[global]", NULL);
	/* keys are case sensitive, as the contract spells them */
	expect_error("[r]\nON = bind\non = bind\n", 2, "unknown key", "'ON'", NULL);
	/* a rule key is not a [global] key and the other way round */
	expect_error("[global]\non = bind\n", 2, "unknown key", "'on'", NULL);
	expect_error("[r]\non = bind\nlog = none\n", 3, "unknown key", "'log'", NULL);
}

/* One bad value per key: the message names the key and quotes the value. */
static void err_bad_value_each_key(void **state)
{
	(void)state;
	static const struct {
		const char *key, *value, *on;
	} cases[] = {
		{ "on", "accept", NULL },
		{ "on", "bind, accept", NULL },
		{ "proto", "sctp", "bind" },
		{ "family", "ipv5", "bind" },
		{ "addr", "10.0.0.0/33", "bind" },
		{ "addr", "10.0.0.300", "bind" },
		{ "addr", "::1/129", "bind" },
		{ "addr", "example.com", "bind" },
		{ "port", "70000", "bind" },
		{ "port", "90-80", "bind" },
		{ "port", "http", "bind" },
		{ "port", "-5", "bind" },
		{ "reuseaddr", "yes", "bind" },
		{ "reuseport", "on", "listen" },
		{ "sockopt", "SO_KEEPALIVE", "bind" },
		{ "sockopt", "TCP_NODELAY=yes", "bind" },
		{ "sockopt", "SO_MARK=99999999999", "bind" },
		{ "sockopt", "SO_LINGER=-1", "bind" },
		{ "sockopt", "SO_BINDTODEVICE=averyveryverylongname", "bind" },
		{ "sockopt", "SO_BINDTODEVICE=", "bind" },
		{ "sockopt", "=1", "bind" },
		{ "source", "10.0.0.0/8", "connect" },
		{ "source", "localhost", "connect" },
		{ "source_port", "abc", "connect" },
		{ "source_port", "1-65536", "connect" },
		{ "rotate", "roundrobin", "connect" },
		{ "rotate_scope", "cluster", "connect" },
		{ "rewrite", "[::1", "connect" },
		{ "rewrite", "127.0.0.1:99999", "connect" },
		{ "rewrite", "[127.0.0.1]:80", "connect" },
		{ "rewrite", "127.0.0.1:", "connect" },
		{ "deny", "EFOO", "connect" },
		{ "deny", "eacces", "connect" },
		{ "deny", "13", "connect" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256], key[64], val[128];
		if (cases[i].on)
			snprintf(text, sizeof(text), "[r]\non = %s\n%s = %s\n", cases[i].on, cases[i].key, cases[i].value);
		else
			snprintf(text, sizeof(text), "[r]\n; 'on' itself is bad\n%s = %s\n", cases[i].key, cases[i].value);
		snprintf(key, sizeof(key), "'%s'", cases[i].key);
		/* a list reports the one bad item, a single value the whole of it */
		const char *bad = cases[i].value;
		if (strcmp(cases[i].value, "bind, accept") == 0)
			bad = "accept";
		snprintf(val, sizeof(val), "'%s'", bad);
		if (strncmp(cases[i].key, "rotate", 6) == 0) {
			/* rotate and rotate_scope also need a source to be valid at all */
			snprintf(text, sizeof(text), "[r]\non = connect\nsource = 10.0.0.1\n%s = %s\n", cases[i].key, cases[i].value);
			expect_error(text, 4, key, val, NULL);
			continue;
		}
		expect_error(text, 3, key, val, NULL);
	}
}

static void err_unknown_sockopt_names_it(void **state)
{
	(void)state;
	expect_error("[r]\non = bind\nsockopt = SO_KEEPALIVE=1, SO_NOPE=1\n", 3, "'SO_NOPE'", "'sockopt'", NULL);
}

static void err_bad_value_global(void **state)
{
	(void)state;
	expect_error("[global]\nlog = console\n", 2, "'log'", "'console'", NULL);
	expect_error("[global]\nlog = file:relative/path\n", 2, "'log'", NULL);
	expect_error("[global]\nlog = file:\n", 2, "'log'", NULL);
	expect_error("[global]\nlog_level = verbose\n", 2, "'log_level'", "'verbose'", NULL);
	expect_error("[global]\nlog_format = xml\n", 2, "'log_format'", "'xml'", NULL);
	expect_error("[global]\nmode = audit\n", 2, "'mode'", "'audit'", NULL);
	expect_error("[global]\non_error = ignore\n", 2, "'on_error'", "'ignore'", NULL);
	/* global keys take one value: the first line's value is bad, and the
	 * continuation is refused on its own line */
	struct reports r;
	struct ss_policy *p = parse_r("[global]\nlog_level = info,\n  debug\n", &r);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.line[0], 2);
	assert_non_null(strstr(r.msg[0], "'log_level'"));
	assert_int_equal(r.line[1], 3);
	assert_non_null(strstr(r.msg[1], "'log_level' takes one value"));
	assert_int_equal(p->global.log_level, SS_LEVEL_INFO);
	ss_policy_free(p);
}

static void err_empty_value(void **state)
{
	(void)state;
	expect_error("[r]\non = bind\nport =\n", 3, "'port'", NULL);
	expect_error("[global]\nlog =   \n", 2, "'log'", NULL);
}

static void err_duplicate_rule_name(void **state)
{
	(void)state;
	expect_error("[web]\non = bind\n\n[web]\non = connect\n", 4, "duplicate rule name", "'web'", "line 1", NULL);
	/* the duplicate's body is skipped, the first rule stays */
	struct reports r;
	struct ss_policy *p = parse_r("[web]\non = bind\n[web]\non = connect\nbogus = 1\n", &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(p->nrules, 1);
	assert_int_equal(p->rules[0].ops, SS_OPBIT(SS_OP_BIND));
	ss_policy_free(p);
}

static void err_duplicate_global(void **state)
{
	(void)state;
	expect_error("[global]\nlog = none\n[r]\non = bind\n[global]\nlog = stderr\n", 5, "[global]", "line 1", NULL);
}

static void err_duplicate_key(void **state)
{
	(void)state;
	expect_error("[r]\non = bind\nport = 80\nport = 81\n", 4, "duplicate key", "'port'", "line 3", NULL);
	expect_error("[r]\non = bind\non = connect\n", 3, "duplicate key", "'on'", "line 2", NULL);
	expect_error("[global]\nlog = none\nmode = enforce\nlog = stderr\n", 4, "duplicate key", "'log'", "line 2", NULL);
	/* the same key in two rules is fine */
	struct ss_policy *p = parse_ok("[a]\non = bind\nport = 1\n[b]\non = bind\nport = 1\n");
	ss_policy_free(p);
}

static void err_key_meaningless_for_on(void **state)
{
	(void)state;
	expect_error("[r]\non = connect\nreuseaddr = force\n", 3, "'reuseaddr'", "connect", NULL);
	expect_error("[r]\non = send\nreuseport = deny\n", 3, "'reuseport'", "send", NULL);
	expect_error("[r]\non = bind\nsource = 10.0.0.1\n", 3, "'source'", "bind", NULL);
	expect_error("[r]\non = listen\nsource_port = 4000-5000\n", 3, "'source_port'", "listen", NULL);
	/* a mixed 'on' names only the ops the key means nothing for */
	expect_error("[r]\non = bind, connect\nport = 1\nsource = 10.0.0.1\n", 4, "'source'", "bind", NULL);
	struct reports r;
	struct ss_policy *p = parse_r("[r]\non = bind, connect\nsource = 10.0.0.1\n", &r);
	assert_int_equal(r.n, 1);
	assert_null(strstr(r.msg[0], "connect"));
	ss_policy_free(p);
	/* rotate on bind: meaningless, and also without a source */
	p = parse_r("[r]\non = bind\nrotate = random\n", &r);
	assert_true(r.n >= 1);
	assert_int_equal(r.line[0], 3);
	assert_non_null(strstr(r.msg[0], "'rotate'"));
	assert_non_null(strstr(r.msg[0], "bind"));
	ss_policy_free(p);
	/* keys good for every op: no complaint on any of them */
	p = parse_ok("[r]\non = bind, listen, connect, send\nsockopt = SO_MARK=1\nrewrite = :80\n");
	ss_policy_free(p);
}

static void err_rule_without_on(void **state)
{
	(void)state;
	expect_error("[ok]\non = bind\n\n[noon]\nport = 80\n", 4, "'noon'", "'on'", NULL);
	/* also when the section is empty, and when it is the last one */
	expect_error("[empty]\n[ok]\non = bind\n", 1, "'empty'", "'on'", NULL);
	expect_error("[ok]\non = bind\n[last]\n", 3, "'last'", "'on'", NULL);
}

static void err_key_outside_section(void **state)
{
	(void)state;
	expect_error("; top\non = bind\n[r]\non = bind\n", 2, "'on'", "outside", NULL);
	expect_error("log = none\n", 1, "'log'", "outside", NULL);
}

static void err_deny_with_other_action(void **state)
{
	(void)state;
	expect_error("[r]\non = connect\nsockopt = SO_MARK=1\ndeny = EACCES\n", 3, "'sockopt'", "'deny'", NULL);
	expect_error("[r]\non = connect\ndeny = EACCES\nrewrite = :80\n", 4, "'rewrite'", "'deny'", NULL);
	expect_error("[r]\non = bind\ndeny = EACCES\nreuseaddr = force\n", 4, "'reuseaddr'", "'deny'", NULL);
	expect_error("[r]\non = connect\ndeny = EPERM\nsource = 10.0.0.1\n", 4, "'source'", "'deny'", NULL);
	/* matchers are fine next to deny */
	struct ss_policy *p = parse_ok("[r]\non = connect\nproto = tcp\naddr = ::1\nport = 1\nprogram = x\ndeny = EPERM\n");
	ss_policy_free(p);
}

static void err_rotate_without_source(void **state)
{
	(void)state;
	expect_error("[r]\non = connect\nrotate = random\n", 3, "'rotate'", "'source'", NULL);
	expect_error("[r]\non = connect\nrotate = sequential\naddr = ::1\n", 3, "'rotate'", NULL);
	expect_error("[r]\non = connect\nrotate_scope = host\n", 3, "'rotate_scope'", "'source'", NULL);
}

static void err_rotate_kernel(void **state)
{
	(void)state;
	expect_error("[r]\non = connect\nsource_port = 40000-40999, 42000-42999\nrotate = kernel\n", 3,
		     "'rotate = kernel'", "'source_port'", NULL);
	/* kernel with only a source address: it hands a port window to the kernel */
	expect_error("[r]\non = connect\nsource = 10.0.0.1\nrotate = kernel\n", 4, "'rotate = kernel'", "'source_port'", NULL);
}

static void err_rewrite_v6_on_ipv4(void **state)
{
	(void)state;
	expect_error("[r]\non = connect\nfamily = ipv4\nrewrite = [::1]:80\n", 4, "'rewrite'", "ipv4", NULL);
	/* an IPv4 rewrite is fine on IPv6 sockets (it becomes IPv4-mapped) */
	struct ss_policy *p = parse_ok("[r]\non = connect\nfamily = ipv6\nrewrite = 127.0.0.1:80\n");
	ss_policy_free(p);
}

static void err_source_port_zero(void **state)
{
	(void)state;
	expect_error("[r]\non = connect\nsource_port = 0-100\n", 3, "'source_port'", "0", NULL);
}

static void err_empty_list_item(void **state)
{
	(void)state;
	expect_error("[r]\non = connect\naddr = 10.0.0.1,,10.0.0.2\n", 3, "empty item", "'addr'", NULL);
	expect_error("[r]\non = connect\nport = , 80\n", 3, "empty item", "'port'", NULL);
	expect_error("[r]\non = connect\nprogram = a, ,b\n", 3, "empty item", "'program'", NULL);
}

static void err_list_ends_with_comma_at_eof(void **state)
{
	(void)state;
	/* the contract: every bad value is an error naming FILE:LINE and the key */
	expect_error("[r]\non = connect\naddr = 10.0.0.1,", 3, "'addr'", NULL);
	expect_error("[r]\non = connect\nport = 80,\n\n; only comments follow\n", 3, "'port'", NULL);
}

static void err_list_ends_with_comma_before_section(void **state)
{
	(void)state;
	expect_error("[r]\non = connect\naddr = 10.0.0.1,\n[s]\non = bind\n", 3, "'addr'", NULL);
}

static void err_line_not_key_value(void **state)
{
	(void)state;
	expect_error("[r]\non = bind\njust some words\n", 3, "key = value", NULL);
	expect_error("[r]\non = bind\n= 80\n", 3, "no key", NULL);
}

static void err_nul_byte(void **state)
{
	(void)state;
	static const char text[] = "[r]\non = bind\npo\0rt = 80\nport = 81\n";
	struct reports r;
	memset(&r, 0, sizeof(r));
	struct ss_policy *p = ss_policy_parse("t.ini", text, sizeof(text) - 1, collect, &r);
	assert_non_null(p);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.line[0], 3);
	assert_non_null(strstr(r.msg[0], "NUL"));
	/* the line after is still read */
	assert_true(ss_portset_contains(&p->rules[0].port, 81));
	ss_policy_free(p);
}

/* Across sections, errors come in line order, and parsing goes on after each. */
static void errors_in_line_order_across_rules(void **state)
{
	(void)state;
	struct reports r;
	struct ss_policy *p = parse_r(
		"[a]\n"                 /* 1 */
		"on = connect\n"        /* 2 */
		"reuseaddr = force\n"   /* 3: means nothing for connect (found at the end of [a]) */
		"[b]\n"                 /* 4 */
		"on = bind\n"           /* 5 */
		"port = 99999\n"        /* 6: bad value */
		"[c]\n"                 /* 7: no 'on' (found at the end of [c]) */
		"proto = tcp\n"         /* 8 */
		"[d]\n"                 /* 9 */
		"on = bind\n"           /* 10 */
		"unknown = 1\n",        /* 11 */
		&r);
	static const unsigned want[] = { 3, 6, 7, 11 };
	if (r.n != 4)
		dump(&r);
	assert_int_equal(r.n, 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(r.line[i], want[i]);
	/* every rule was still parsed */
	assert_int_equal(p->nrules, 4);
	assert_int_equal(p->nerrors, 4);
	ss_policy_free(p);
}

/* Within one rule too: a user reads `sockshim check` output top to bottom. */
static void errors_in_line_order_within_rule(void **state)
{
	(void)state;
	struct reports r;
	struct ss_policy *p = parse_r(
		"[a]\n"                 /* 1 */
		"on = connect\n"        /* 2 */
		"reuseaddr = force\n"   /* 3: means nothing for connect */
		"port = 99999\n"        /* 4: bad value */
		"[b]\n"                 /* 5: no 'on' */
		"port = 70000\n",       /* 6: bad value */
		&r);
	assert_int_equal(r.n, 4);
	bool sorted = true;
	for (unsigned i = 1; i < r.n; i++)
		if (r.line[i] < r.line[i - 1])
			sorted = false;
	if (!sorted)
		dump(&r);
	assert_true(sorted);
	ss_policy_free(p);
}

static void errors_report_file_name(void **state)
{
	(void)state;
	struct reports r;
	memset(&r, 0, sizeof(r));
	const char *text = "[r]\non = bind\nport = x\n";
	struct ss_policy *p = ss_policy_parse("/etc/sockshim/sockshim.ini", text, strlen(text), collect, &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.full[0], "/etc/sockshim/sockshim.ini:3: bad value 'x' for 'port': expected a port or range such as 80 or 8000-8999");
	ss_policy_free(p);
	/* a NULL report function is allowed: errors are only counted */
	p = ss_policy_parse("t.ini", text, strlen(text), NULL, NULL);
	assert_int_equal(p->nerrors, 1);
	ss_policy_free(p);
}

static void broken_policy_keeps_global(void **state)
{
	(void)state;
	/* the caller needs on_error and log even when rules are broken */
	struct reports r;
	struct ss_policy *p = parse_r("[global]\non_error = passthrough\nlog = none\n[r]\non = nothing\n", &r);
	assert_int_equal(r.n, 1);
	assert_true(p->global.on_error_passthrough);
	assert_int_equal(p->global.log, SS_LOG_NONE);
	ss_policy_free(p);
}

/* ---- ss_policy_load: the file checks ---- */

static char *temp_policy(const char *text, mode_t mode)
{
	char *path = strdup("/tmp/sockshim-unit-XXXXXX");
	assert_non_null(path);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void load_ok_0644(void **state)
{
	(void)state;
	char *path = temp_policy("[global]\nlog = none\n[r]\non = bind\nport = x\n", 0644);
	struct reports r;
	memset(&r, 0, sizeof(r));
	struct ss_policy *p = ss_policy_load(path, collect, &r);
	assert_non_null(p);
	assert_string_equal(p->path, path);
	assert_int_equal(p->global.log, SS_LOG_NONE);
	assert_int_equal(p->nrules, 1);
	/* errors in a loaded file name that file and the line */
	assert_int_equal(r.n, 1);
	char want[128];
	snprintf(want, sizeof(want), "%s:5: ", path);
	assert_int_equal(strncmp(r.full[0], want, strlen(want)), 0);
	ss_policy_free(p);

	/* read-only for everyone is fine too, and so is an empty file */
	assert_int_equal(chmod(path, 0400), 0);
	p = ss_policy_load(path, collect, &r);
	assert_non_null(p);
	ss_policy_free(p);
	assert_int_equal(truncate(path, 0), 0);
	memset(&r, 0, sizeof(r));
	p = ss_policy_load(path, collect, &r);
	assert_non_null(p);
	assert_int_equal(p->nrules, 0);
	assert_int_equal(r.n, 0);
	ss_policy_free(p);
	unlink(path);
	free(path);
}

static void load_refuses_writable(void **state)
{
	(void)state;
	static const mode_t modes[] = { 0664, 0666, 0646, 0620 };
	for (unsigned i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		char *path = temp_policy("[r]\non = bind\n", modes[i]);
		struct reports r;
		memset(&r, 0, sizeof(r));
		struct ss_policy *p = ss_policy_load(path, collect, &r);
		if (p)
			fail_msg("mode %o accepted", (unsigned)modes[i]);
		assert_int_equal(r.n, 1);
		assert_int_equal(r.line[0], 0);
		assert_non_null(strstr(r.msg[0], "writable by group or others"));
		unlink(path);
		free(path);
	}
}

static void load_refuses_symlink(void **state)
{
	(void)state;
	char *target = temp_policy("[r]\non = bind\n", 0644);
	char link[64];
	snprintf(link, sizeof(link), "%s.lnk", target);
	assert_int_equal(symlink(target, link), 0);
	struct reports r;
	memset(&r, 0, sizeof(r));
	struct ss_policy *p = ss_policy_load(link, collect, &r);
	assert_null(p);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.line[0], 0);
	assert_non_null(strstr(r.msg[0], "symbolic link"));
	unlink(link);
	unlink(target);
	free(target);
}

static void load_refuses_missing_and_directory(void **state)
{
	(void)state;
	struct reports r;
	memset(&r, 0, sizeof(r));
	struct ss_policy *p = ss_policy_load("/tmp/sockshim-unit-does-not-exist.ini", collect, &r);
	assert_null(p);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.line[0], 0);
	assert_non_null(strstr(r.msg[0], "ENOENT"));
	assert_non_null(strstr(r.full[0], "/tmp/sockshim-unit-does-not-exist.ini:0: "));

	char dir[] = "/tmp/sockshim-unit-dir-XXXXXX";
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	memset(&r, 0, sizeof(r));
	p = ss_policy_load(dir, collect, &r);
	assert_null(p);
	assert_int_equal(r.n, 1);
	assert_non_null(strstr(r.msg[0], "not a regular file"));
	rmdir(dir);
}

static void load_refuses_other_owner(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		/* only root can give a file away; as a user the case cannot arise here */
		skip();
	}
	char *path = temp_policy("[r]\non = bind\n", 0644);
	assert_int_equal(chown(path, 65534, 65534), 0);
	struct reports r;
	memset(&r, 0, sizeof(r));
	struct ss_policy *p = ss_policy_load(path, collect, &r);
	assert_null(p);
	assert_int_equal(r.n, 1);
	assert_non_null(strstr(r.msg[0], "owned by another user"));
	unlink(path);
	free(path);
}

/* ---- ss_global_apply: the SOCKSHIM_LOG / SOCKSHIM_LOG_LEVEL overrides ---- */

static void global_apply_overrides(void **state)
{
	(void)state;
	struct ss_policy *p = parse_ok("[global]\nlog = none\nlog_level = error\n");
	struct ss_global *g = &p->global;

	assert_null(ss_global_apply(g, p->arena, "log", "file:/tmp/sockshim.log"));
	assert_int_equal(g->log, SS_LOG_FILE);
	assert_string_equal(g->log_path, "/tmp/sockshim.log");
	assert_null(ss_global_apply(g, p->arena, "log_level", "debug"));
	assert_int_equal(g->log_level, SS_LEVEL_DEBUG);
	assert_null(ss_global_apply(g, p->arena, "log", "syslog"));
	assert_int_equal(g->log, SS_LOG_SYSLOG);
	assert_string_equal(g->log_path, "/dev/log");
	assert_null(ss_global_apply(g, p->arena, "log", "stderr"));
	assert_int_equal(g->log, SS_LOG_STDERR);

	/* a bad override says what it expected and changes nothing */
	const char *exp = ss_global_apply(g, p->arena, "log", "file:relative");
	assert_non_null(exp);
	assert_non_null(strstr(exp, "file:/"));
	assert_int_equal(g->log, SS_LOG_STDERR);
	exp = ss_global_apply(g, p->arena, "log_level", "loud");
	assert_string_equal(exp, "error, warn, info or debug");
	assert_int_equal(g->log_level, SS_LEVEL_DEBUG);
	assert_string_equal(ss_global_apply(g, p->arena, "log_format", "yaml"), "text or json");
	assert_string_equal(ss_global_apply(g, p->arena, "mode", "audit"), "enforce or dry-run");
	assert_string_equal(ss_global_apply(g, p->arena, "on_error", "x"), "fail or passthrough");
	assert_non_null(ss_global_apply(g, p->arena, "nosuchkey", "1"));
	assert_null(ss_global_apply(g, p->arena, "mode", "dry-run"));
	assert_true(g->dry_run);

	/* a rule key is not a global key */
	assert_non_null(ss_global_apply(g, p->arena, "on", "bind"));
	ss_policy_free(p);
}

/* ---- names used by the policy ---- */

static void names_tables(void **state)
{
	(void)state;
	assert_int_equal(ss_errno_from_name("EACCES"), EACCES);
	assert_int_equal(ss_errno_from_name("ECONNREFUSED"), ECONNREFUSED);
	assert_int_equal(ss_errno_from_name("EPERM"), EPERM);
	assert_int_equal(ss_errno_from_name("E"), 0);
	assert_int_equal(ss_errno_from_name(""), 0);
	assert_int_equal(ss_errno_from_name("EACCESS"), 0);
	assert_string_equal(ss_errno_name(ENETUNREACH), "ENETUNREACH");
	assert_string_equal(ss_errno_name(EADDRINUSE), "EADDRINUSE");
	assert_string_equal(ss_errno_name(0x7fff), "E?");
	assert_null(ss_optname_find("SO_NOPE"));
	assert_null(ss_optname_find("so_keepalive"));
	const struct ss_optname *o = ss_optname_find("SO_REUSEPORT");
	assert_non_null(o);
	assert_int_equal(o->level, SOL_SOCKET);
	assert_int_equal(o->optname, SO_REUSEPORT);
	assert_string_equal(ss_op_name(SS_OP_BIND), "bind");
	assert_string_equal(ss_op_name(SS_OP_LISTEN), "listen");
	assert_string_equal(ss_op_name(SS_OP_CONNECT), "connect");
	assert_string_equal(ss_op_name(SS_OP_SEND), "send");
	assert_string_equal(ss_op_name(SS_OP_COUNT), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_policy_has_defaults),
		cmocka_unit_test(global_every_key),
		cmocka_unit_test(global_log_targets),
		cmocka_unit_test(global_summary_interval),
		cmocka_unit_test(rule_on_values),
		cmocka_unit_test(rule_proto_family),
		cmocka_unit_test(rule_addr),
		cmocka_unit_test(rule_port),
		cmocka_unit_test(rule_program),
		cmocka_unit_test(rule_reuse_flags),
		cmocka_unit_test(rule_sockopt),
		cmocka_unit_test(rule_source_and_port),
		cmocka_unit_test(rule_rotate),
		cmocka_unit_test(rule_rotate_scope),
		cmocka_unit_test(rule_rewrite),
		cmocka_unit_test(rule_deny),
		cmocka_unit_test(contract_example),
		cmocka_unit_test(comments_everywhere),
		cmocka_unit_test(hash_inline_is_not_a_comment),
		cmocka_unit_test(indented_keys_and_headers),
		cmocka_unit_test(list_continues_after_trailing_comma),
		cmocka_unit_test(very_long_list_line),
		cmocka_unit_test(very_long_line_error_keeps_line_numbers),
		cmocka_unit_test(long_line_that_cannot_split),
		cmocka_unit_test(long_line_bad_key_reported_once),
		cmocka_unit_test(bom_is_skipped),
		cmocka_unit_test(colon_separator),
		cmocka_unit_test(crlf_and_no_final_newline),
		cmocka_unit_test(rule_names_allowed_characters),
		cmocka_unit_test(err_section_syntax),
		cmocka_unit_test(err_unknown_key),
		cmocka_unit_test(err_bad_value_each_key),
		cmocka_unit_test(err_unknown_sockopt_names_it),
		cmocka_unit_test(err_bad_value_global),
		cmocka_unit_test(err_empty_value),
		cmocka_unit_test(err_duplicate_rule_name),
		cmocka_unit_test(err_duplicate_global),
		cmocka_unit_test(err_duplicate_key),
		cmocka_unit_test(err_key_meaningless_for_on),
		cmocka_unit_test(err_rule_without_on),
		cmocka_unit_test(err_key_outside_section),
		cmocka_unit_test(err_deny_with_other_action),
		cmocka_unit_test(err_rotate_without_source),
		cmocka_unit_test(err_rotate_kernel),
		cmocka_unit_test(err_rewrite_v6_on_ipv4),
		cmocka_unit_test(err_source_port_zero),
		cmocka_unit_test(err_empty_list_item),
		cmocka_unit_test(err_list_ends_with_comma_at_eof),
		cmocka_unit_test(err_list_ends_with_comma_before_section),
		cmocka_unit_test(err_line_not_key_value),
		cmocka_unit_test(err_nul_byte),
		cmocka_unit_test(errors_in_line_order_across_rules),
		cmocka_unit_test(errors_in_line_order_within_rule),
		cmocka_unit_test(errors_report_file_name),
		cmocka_unit_test(broken_policy_keeps_global),
		cmocka_unit_test(load_ok_0644),
		cmocka_unit_test(load_refuses_writable),
		cmocka_unit_test(load_refuses_symlink),
		cmocka_unit_test(load_refuses_missing_and_directory),
		cmocka_unit_test(load_refuses_other_owner),
		cmocka_unit_test(global_apply_overrides),
		cmocka_unit_test(names_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests of report_parse: lines written by the shim's own logger
 * (log.c, to a file sink), text and JSON, read back field by field; the
 * syslog prefix; decision lines with "event":"decision"; a lookup's line
 * and a connect carrying the name its address came from; and damaged lines
 * of each kind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "addr.h"
#include "hosttab.h"
#include "log.h"
#include "policy.h"
#include "report_parse.h"

static struct rp_line L;
static char lines[16][4096];
static int nlines;

/* Log one decision and three events with log.c in FORMAT, read the lines back. */
static void write_lines(enum ss_log_format format)
{
	char path[] = "/tmp/report-parse-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct ss_log_config c = { SS_LOG_FILE, path, SS_LEVEL_DEBUG, format };
	ss_log_setup(&c);
	ss_log_set_pid(4242);
	ss_log_event(SS_LEVEL_INFO, "start", "version", "0.1.0", "program", "curl", "exe", "curl", "policy", "/p.ini",
		     "rules", "3", "mode", "enforce", NULL);
	struct ss_addr a;
	bool has_ip, has_port;
	assert_true(ss_addr_parse_endpoint(&a, &has_ip, &has_port, "10.1.2.3:5432"));
	struct ss_actions acts;
	ss_actions_init(&acts);
	ss_actions_add(&acts, "deny", "ENETUNREACH");
	ss_actions_add(&acts, "rewrite", "127.0.0.1:15432");
	struct ss_decision d = { .op = "connect", .fd = 5, .proto = SS_PROTO_TCP, .family = SS_FAM_V4, .addr = &a,
				 .rule = "no-egress", .actions = &acts, .dry_run = true, .rc = -1, .err = 101, .via = "seccomp" };
	ss_log_decision(SS_LEVEL_INFO, &d);
	d.rule = NULL;
	d.actions = NULL;
	d.dry_run = false;
	d.rc = 0;
	d.via = NULL;
	ss_log_decision(SS_LEVEL_DEBUG, &d);
	ss_log_event(SS_LEVEL_WARN, "warning", "rule", "pool", "count", "4", "msg", "no source port left", NULL);
	ss_log_event(SS_LEVEL_INFO, "summary", "rule", "no-egress", "line", "9", "matched", "7", "applied", "6", "failed", "1", NULL);
	struct ss_log_config none = { SS_LOG_NONE, NULL, SS_LEVEL_INFO, SS_FORMAT_TEXT };
	ss_log_setup(&none);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	nlines = 0;
	while (nlines < 16 && fgets(lines[nlines], sizeof(lines[0]), f)) {
		lines[nlines][strcspn(lines[nlines], "\n")] = '\0';
		nlines++;
	}
	fclose(f);
	unlink(path);
	assert_int_equal(nlines, 5);
}

static enum rp_kind parse(const char *s)
{
	return rp_parse(s, strlen(s), &L);
}

static void str_is(struct rp_str s, const char *want)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%.*s", (int)s.n, s.p);
	assert_string_equal(buf, want);
}

static void check_lines(void)
{
	assert_int_equal(parse(lines[0]), RP_EVENT);
	str_is(L.name, "start");
	str_is(L.level, "info");
	assert_int_equal(L.pid, 4242);
	str_is(rp_get(&L, "program"), "curl");
	str_is(rp_get(&L, "rules"), "3");

	assert_int_equal(parse(lines[1]), RP_DECISION);
	str_is(L.name, "connect");
	str_is(L.rule, "no-egress");
	str_is(L.addr, "10.1.2.3:5432");
	assert_int_equal(L.nact, 2);
	str_is(L.act[0], "deny=ENETUNREACH");
	str_is(L.act[1], "rewrite=127.0.0.1:15432");
	assert_true(L.dry_run);
	assert_true(L.has_rc);
	assert_int_equal(L.rc, -1);
	str_is(L.err, "ENETUNREACH");
	assert_int_equal(L.ts.n, 27);

	assert_int_equal(parse(lines[2]), RP_DECISION);
	assert_int_equal(L.rule.n, 0);
	assert_int_equal(L.nact, 0);
	assert_false(L.dry_run);
	assert_int_equal(L.rc, 0);
	str_is(L.level, "debug");

	assert_int_equal(parse(lines[3]), RP_EVENT);
	str_is(L.name, "warning");
	str_is(L.level, "warn");
	str_is(rp_get(&L, "count"), "4");
	str_is(rp_get(&L, "msg"), "no source port left");

	assert_int_equal(parse(lines[4]), RP_EVENT);
	str_is(L.name, "summary");
	assert_int_equal(rp_num(rp_get(&L, "matched")), 7);
	assert_int_equal(rp_num(rp_get(&L, "failed")), 1);
}

static void logger_text(void **state)
{
	(void)state;
	write_lines(SS_FORMAT_TEXT);
	check_lines();
}

static void logger_json(void **state)
{
	(void)state;
	write_lines(SS_FORMAT_JSON);
	check_lines();
}

/* A resolve line (rewritten, then denied) and a connect to the answer,
 * written by log.c in FORMAT, read back: all three are decisions with
 * their name. */
static void names_lines(enum ss_log_format format)
{
	char path[] = "/tmp/report-parse-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct ss_log_config c = { SS_LOG_FILE, path, SS_LEVEL_DEBUG, format };
	ss_log_setup(&c);
	ss_log_set_pid(4243);
	struct ss_addr a;
	bool has_ip, has_port;
	assert_true(ss_addr_parse_endpoint(&a, &has_ip, &has_port, "127.0.0.1:8080"));
	struct ss_addr ip = a;
	ip.port = 0;
	struct ss_actions acts;
	ss_actions_init(&acts);
	ss_actions_add_addr(&acts, "rewrite", &ip, false);
	struct ss_resolve_line r = { "getaddrinfo", "api.example.test", SS_FAM_V4 | SS_FAM_V6, "api", &acts, false, 0, &ip, 1 };
	ss_log_resolve(SS_LEVEL_INFO, &r);
	ss_actions_init(&acts);
	ss_actions_add(&acts, "deny", "EAI_NONAME");
	struct ss_resolve_line r2 = { "getaddrinfo", "x.example.com", SS_FAM_V4, "others", &acts, false, -2, NULL, 0 };
	ss_log_resolve(SS_LEVEL_INFO, &r2);
	ss_hosttab_put(&ip, "api.example.test");
	struct ss_decision d = { .op = "connect", .fd = 3, .proto = SS_PROTO_TCP, .family = SS_FAM_V4, .addr = &a, .rule = "seen", .rc = 0 };
	ss_log_decision(SS_LEVEL_INFO, &d);
	struct ss_log_config none = { SS_LOG_NONE, NULL, SS_LEVEL_INFO, SS_FORMAT_TEXT };
	ss_log_setup(&none);
	ss_hosttab_reset();
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	nlines = 0;
	while (nlines < 16 && fgets(lines[nlines], sizeof(lines[0]), f)) {
		lines[nlines][strcspn(lines[nlines], "\n")] = '\0';
		nlines++;
	}
	fclose(f);
	unlink(path);
	assert_int_equal(nlines, 3);

	assert_int_equal(parse(lines[0]), RP_DECISION);
	str_is(L.name, "resolve");
	str_is(L.host, "api.example.test");
	str_is(L.rule, "api");
	assert_int_equal(L.nact, 1);
	str_is(L.act[0], "rewrite=127.0.0.1");
	assert_int_equal(L.rc, 0);
	assert_int_equal(L.addr.n, 0);
	assert_int_equal(parse(lines[1]), RP_DECISION);
	str_is(L.host, "x.example.com");
	str_is(L.act[0], "deny=EAI_NONAME");
	assert_int_equal(parse(lines[2]), RP_DECISION);
	str_is(L.name, "connect");
	str_is(L.addr, "127.0.0.1:8080");
	str_is(L.host, "api.example.test");
	str_is(L.rule, "seen");
}

static void names_text(void **state)
{
	(void)state;
	names_lines(SS_FORMAT_TEXT);
}

static void names_json(void **state)
{
	(void)state;
	names_lines(SS_FORMAT_JSON);
}

static void json_event_decision_and_escapes(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"ts\":\"2026-12-02T05:56:48.218657Z\",\"pid\":7,\"level\":\"info\",\"event\":\"decision\","
			       "\"op\":\"bind\",\"fd\":3,\"addr\":null,\"rule\":\"r\\\"\\u00e9\",\"actions\":[\"a\\\\b\"],"
			       "\"dry_run\":false,\"rc\":0,\"errno\":null}"),
			 RP_DECISION);
	str_is(L.rule, "r\"\xc3\xa9");
	str_is(L.act[0], "a\\b");
	assert_int_equal(L.addr.n, 0);
	/* another event name with an op member is an event */
	assert_int_equal(parse("{\"ts\":\"2026-12-02T05:56:48.218657Z\",\"pid\":7,\"level\":\"info\",\"event\":\"reload\","
			       "\"op\":\"x\",\"old_rules\":3,\"new_rules\":4}"),
			 RP_EVENT);
	str_is(rp_get(&L, "new_rules"), "4");
}

static void syslog_prefix(void **state)
{
	(void)state;
	assert_int_equal(parse("<14>sockshim[77]: 2026-11-23T12:04:06.746166Z info connect fd=4 udp [::1]:53 rule=- rc=0"),
			 RP_DECISION);
	assert_int_equal(L.pid, 77);
	str_is(L.addr, "[::1]:53");
	assert_int_equal(L.rule.n, 0);
	/* a KEY=VALUE a later version adds is passed over */
	assert_int_equal(parse("2026-11-23T12:04:06.746166Z sockshim[9] info connect fd=4 tcp 10.0.0.1:80 rule=r "
			       "actions=allow program=x rc=0 new_key=1"),
			 RP_DECISION);
	str_is(L.rule, "r");
	str_is(L.act[0], "allow");
	assert_int_equal(parse("<12>sockshim[78]: {\"ts\":\"2026-11-23T12:04:06.746166Z\",\"pid\":78,\"level\":\"warn\","
			       "\"event\":\"log-dropped\",\"dropped\":12}"),
			 RP_EVENT);
	str_is(rp_get(&L, "dropped"), "12");
}

static void damaged(void **state)
{
	(void)state;
	static char long_line[RP_LINE_MAX + 2];
	memset(long_line, 'x', sizeof(long_line) - 1);
	assert_int_equal(rp_parse(long_line, sizeof(long_line) - 1, &L), RP_BAD);
	assert_int_equal(L.bad, RP_BAD_LONG);
	assert_int_equal(rp_parse("2026-11-23T12:04:06.746166Z sockshim[1] info a\0b", 48, &L), RP_BAD);
	assert_int_equal(L.bad, RP_BAD_BINARY);
	assert_int_equal(parse("{\"ts\":\"2026-12-02T05:56:48.2"), RP_BAD);
	assert_int_equal(L.bad, RP_BAD_JSON);
	assert_int_equal(parse("{\"ts\":\"2026-12-02T05:56:48.218657Z\",\"pid\":7,\"level\":\"info\",\"event\":\"x\"} trailing"),
			 RP_BAD);
	assert_int_equal(parse("{\"ts\":\"2026-12-02T05:56:48.218657Z\",\"pid\":7,\"level\":\"loud\",\"event\":\"x\"}"), RP_BAD);
	assert_int_equal(parse("hello world"), RP_BAD);
	assert_int_equal(L.bad, RP_BAD_NOT_LOG);
	/* a decision cut before its rc */
	assert_int_equal(parse("2026-11-23T12:04:06.746166Z sockshim[1] info connect fd=3 tcp 10.0.0.1:80 rule=r actions=de"),
			 RP_BAD);
	assert_int_equal(parse(""), RP_BAD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(logger_text),
		cmocka_unit_test(logger_json),
		cmocka_unit_test(names_text),
		cmocka_unit_test(names_json),
		cmocka_unit_test(json_event_decision_and_escapes),
		cmocka_unit_test(syslog_prefix),
		cmocka_unit_test(damaged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

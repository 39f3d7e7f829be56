/*
 * Unit tests of address conversion (src/engine/addr.c) and the bounded formatter
 * (src/engine/fmt.c): sockaddr length checks, endpoint parsing for `rewrite`,
 * family conversion, RFC 5952 text for IPv6, JSON string escaping (and
 * UTF-8 kept valid), numbers against printf, RFC 3339 timestamps, and that
 * no formatter ever writes past its buffer, whatever the size, while
 * leaving a prefix of the full text and saying it was cut.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>

#include "addr.h"
#include "fmt.h"

/* ---- helpers ---- */

static struct ss_addr ip(const char *s)
{
	struct ss_addr a;
	if (!ss_addr_parse_ip(&a, s))
		fail_msg("bad address in test: %s", s);
	return a;
}

/* fmt_ip / fmt_endpoint into a static buffer. */
static const char *ip_text(const struct ss_addr *a, bool endpoint)
{
	static char buf[128];
	struct fmt f;
	fmt_init(&f, buf, sizeof(buf));
	if (endpoint)
		fmt_endpoint(&f, a);
	else
		fmt_ip(&f, a);
	assert_false(f.truncated);
	assert_int_equal(f.len, strlen(buf));
	return buf;
}

static const char *time_text(int64_t sec, long nsec)
{
	static char buf[64];
	struct fmt f;
	fmt_init(&f, buf, sizeof(buf));
	fmt_time_utc(&f, sec, nsec);
	assert_false(f.truncated);
	return buf;
}

static const char *json_text(const char *s)
{
	static char buf[256];
	struct fmt f;
	fmt_init(&f, buf, sizeof(buf));
	fmt_json_str(&f, s);
	assert_false(f.truncated);
	return buf;
}

/* ---- sockaddr ---- */

static void from_sockaddr_v4(void **state)
{
	(void)state;
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(8080) };
	inet_pton(AF_INET, "192.0.2.1", &in.sin_addr);
	struct ss_addr a;
	assert_true(ss_addr_from_sockaddr(&a, (struct sockaddr *)&in, sizeof(in)));
	assert_int_equal(a.family, 4);
	assert_memory_equal(a.ip, "\xc0\x00\x02\x01", 4);
	assert_int_equal(a.port, 8080);
	/* longer than needed is fine (a sockaddr_storage) */
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, &in, sizeof(in));
	assert_true(ss_addr_from_sockaddr(&a, (struct sockaddr *)&ss, sizeof(ss)));
	assert_int_equal(a.port, 8080);
	/* one byte short: the kernel says EINVAL, so must we */
	assert_false(ss_addr_from_sockaddr(&a, (struct sockaddr *)&in, sizeof(in) - 1));
	assert_false(ss_addr_from_sockaddr(&a, (struct sockaddr *)&in, 2));
	assert_false(ss_addr_from_sockaddr(&a, (struct sockaddr *)&in, 1));
	assert_false(ss_addr_from_sockaddr(&a, (struct sockaddr *)&in, 0));
	assert_false(ss_addr_from_sockaddr(&a, NULL, sizeof(in)));
}

static void from_sockaddr_v6(void **state)
{
	(void)state;
	struct sockaddr_in6 in6 = {
		.sin6_family = AF_INET6,
		.sin6_port = htons(443),
		.sin6_flowinfo = htonl(0x12345),
		.sin6_scope_id = 3,
	};
	inet_pton(AF_INET6, "fe80::1", &in6.sin6_addr);
	struct ss_addr a;
	assert_true(ss_addr_from_sockaddr(&a, (struct sockaddr *)&in6, sizeof(in6)));
	assert_int_equal(a.family, 6);
	assert_int_equal(a.port, 443);
	assert_int_equal(a.scope_id, 3);
	assert_int_equal(a.flowinfo, htonl(0x12345));
	assert_int_equal(a.ip[0], 0xfe);
	assert_int_equal(a.ip[15], 1);
	/* the 24-byte RFC 2133 form has no scope id: accepted, scope 0 */
	assert_true(ss_addr_from_sockaddr(&a, (struct sockaddr *)&in6, 24));
	assert_int_equal(a.scope_id, 0);
	assert_int_equal(a.port, 443);
	assert_int_equal(a.ip[15], 1);
	/* shorter than that cannot hold the address */
	assert_false(ss_addr_from_sockaddr(&a, (struct sockaddr *)&in6, 23));
	assert_false(ss_addr_from_sockaddr(&a, (struct sockaddr *)&in6, sizeof(struct sockaddr_in)));
}

static void from_sockaddr_other_families(void **state)
{
	(void)state;
	struct sockaddr_un un = { .sun_family = AF_UNIX, .sun_path = "/tmp/x" };
	struct ss_addr a;
	assert_false(ss_addr_from_sockaddr(&a, (struct sockaddr *)&un, sizeof(un)));
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNSPEC;
	assert_false(ss_addr_from_sockaddr(&a, (struct sockaddr *)&ss, sizeof(ss)));
}

static void to_sockaddr_round_trip(void **state)
{
	(void)state;
	struct ss_addr a = ip("198.51.100.9"), b;
	a.port = 65535;
	struct sockaddr_storage ss;
	socklen_t len = ss_addr_to_sockaddr(&a, &ss);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(((struct sockaddr_in *)&ss)->sin_port, htons(65535));
	assert_true(ss_addr_from_sockaddr(&b, (struct sockaddr *)&ss, len));
	assert_memory_equal(&a, &b, sizeof(a));

	a = ip("2001:db8::42");
	a.port = 1;
	a.scope_id = 7;
	a.flowinfo = htonl(0xabcde);
	len = ss_addr_to_sockaddr(&a, &ss);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_true(ss_addr_from_sockaddr(&b, (struct sockaddr *)&ss, len));
	assert_memory_equal(&a, &b, sizeof(a));
}

/* ---- views and conversions ---- */

static void v4_view(void **state)
{
	(void)state;
	uint32_t v;
	struct ss_addr a = ip("10.1.2.3");
	assert_true(ss_addr_v4_view(&a, &v));
	assert_int_equal(v, 0x0a010203u);
	a = ip("::ffff:10.1.2.3");
	assert_int_equal(a.family, 6);
	assert_true(ss_addr_v4_view(&a, &v));
	assert_int_equal(v, 0x0a010203u);
	a = ip("::10.1.2.3");
	assert_false(ss_addr_v4_view(&a, &v));
	a = ip("::1");
	assert_false(ss_addr_v4_view(&a, &v));
	a = ip("64:ff9b::10.1.2.3"); /* NAT64 is not IPv4-mapped */
	assert_false(ss_addr_v4_view(&a, &v));
}

static void for_family(void **state)
{
	(void)state;
	/* IPv4 on an IPv6 socket becomes IPv4-mapped, port kept */
	struct ss_addr a = ip("127.0.0.1");
	a.port = 5432;
	assert_true(ss_addr_for_family(&a, 6));
	assert_int_equal(a.family, 6);
	assert_memory_equal(a.ip, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x7f\0\0\x01", 16);
	assert_int_equal(a.port, 5432);
	assert_string_equal(ip_text(&a, true), "[::ffff:127.0.0.1]:5432");

	/* and back: a mapped address goes on an IPv4 socket as IPv4 */
	a.scope_id = 9;
	assert_true(ss_addr_for_family(&a, 4));
	assert_int_equal(a.family, 4);
	assert_memory_equal(a.ip, "\x7f\0\0\x01", 4);
	assert_int_equal(a.port, 5432);
	assert_int_equal(a.scope_id, 0);
	assert_string_equal(ip_text(&a, true), "127.0.0.1:5432");

	/* a real IPv6 address cannot go on an IPv4 socket, and is left alone */
	a = ip("2001:db8::1");
	struct ss_addr before = a;
	assert_false(ss_addr_for_family(&a, 4));
	assert_memory_equal(&a, &before, sizeof(a));

	/* same family: unchanged */
	a = ip("2001:db8::1");
	assert_true(ss_addr_for_family(&a, 6));
	assert_memory_equal(&a, &before, sizeof(a));
	a = ip("10.0.0.1");
	before = a;
	assert_true(ss_addr_for_family(&a, 4));
	assert_memory_equal(&a, &before, sizeof(a));
}

static void is_any(void **state)
{
	(void)state;
	struct ss_addr a = ip("0.0.0.0");
	assert_true(ss_addr_is_any(&a));
	a.port = 80; /* port not considered */
	assert_true(ss_addr_is_any(&a));
	a = ip("::");
	assert_true(ss_addr_is_any(&a));
	a = ip("0.0.0.1");
	assert_false(ss_addr_is_any(&a));
	a = ip("::1");
	assert_false(ss_addr_is_any(&a));
	a = ip("127.0.0.1");
	assert_false(ss_addr_is_any(&a));
}

static void parse_ip(void **state)
{
	(void)state;
	struct ss_addr a;
	assert_true(ss_addr_parse_ip(&a, "255.255.255.255"));
	assert_int_equal(a.family, 4);
	assert_int_equal(a.port, 0);
	assert_true(ss_addr_parse_ip(&a, "::"));
	assert_int_equal(a.family, 6);
	static const char *const bad[] = { "", "1.2.3", "1.2.3.256", "01.2.3.4x", "::g", "1::2::3", "[::1]", "1.2.3.4:80", "localhost", " 1.2.3.4" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ss_addr_parse_ip(&a, bad[i]))
			fail_msg("accepted '%s'", bad[i]);
}

/* ---- endpoints (rewrite targets) ---- */

struct ep_case {
	const char *in;
	bool ok, has_ip, has_port;
	const char *ip; /* as fmt_ip prints it */
	uint16_t port;
};

static void parse_endpoint(void **state)
{
	(void)state;
	static const struct ep_case cases[] = {
		{ "1.2.3.4", true, true, false, "1.2.3.4", 0 },
		{ "1.2.3.4:80", true, true, true, "1.2.3.4", 80 },
		{ "1.2.3.4:0", true, true, true, "1.2.3.4", 0 },
		{ "1.2.3.4:65535", true, true, true, "1.2.3.4", 65535 },
		{ "[::1]:80", true, true, true, "::1", 80 },
		{ "[2001:db8::1]:8443", true, true, true, "2001:db8::1", 8443 },
		{ "[::1]", true, true, false, "::1", 0 },
		{ "::1", true, true, false, "::1", 0 },
		{ "2001:db8::7", true, true, false, "2001:db8::7", 0 },
		{ "::ffff:1.2.3.4", true, true, false, "::ffff:1.2.3.4", 0 },
		{ ":8080", true, false, true, NULL, 8080 },
		{ ":0", true, false, true, NULL, 0 },
		/* bad ones */
		{ "", false, false, false, NULL, 0 },
		{ ":", false, false, false, NULL, 0 },
		{ "1.2.3.4:", false, false, false, NULL, 0 },
		{ "1.2.3.4:65536", false, false, false, NULL, 0 },
		{ "1.2.3.4:123456", false, false, false, NULL, 0 },
		{ "1.2.3.4:-1", false, false, false, NULL, 0 },
		{ "1.2.3.4:8o", false, false, false, NULL, 0 },
		{ "1.2.3.4:80:90", false, false, false, NULL, 0 },
		{ "1.2.3:80", false, false, false, NULL, 0 },
		{ "host:80", false, false, false, NULL, 0 },
		{ "[::1", false, false, false, NULL, 0 },
		{ "[::1]:", false, false, false, NULL, 0 },
		{ "[::1]80", false, false, false, NULL, 0 },
		{ "[::1]:99999", false, false, false, NULL, 0 },
		{ "[]:80", false, false, false, NULL, 0 },
		{ "[1.2.3.4]:80", false, false, false, NULL, 0 },
		{ "[::g]:80", false, false, false, NULL, 0 },
		{ "::1]:80", false, false, false, NULL, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ep_case *c = &cases[i];
		struct ss_addr a;
		bool hi = true, hp = true;
		bool ok = ss_addr_parse_endpoint(&a, &hi, &hp, c->in);
		if (ok != c->ok)
			fail_msg("'%s': %s", c->in, ok ? "accepted" : "refused");
		if (!ok)
			continue;
		if (hi != c->has_ip || hp != c->has_port)
			fail_msg("'%s': has_ip %d has_port %d", c->in, hi, hp);
		if (c->ip && strcmp(ip_text(&a, false), c->ip) != 0)
			fail_msg("'%s': ip %s, want %s", c->in, ip_text(&a, false), c->ip);
		if (a.port != c->port)
			fail_msg("'%s': port %u, want %u", c->in, a.port, c->port);
	}
}

/* ---- text of addresses ---- */

static void fmt_ip_rfc5952(void **state)
{
	(void)state;
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "::", "::" },
		{ "::1", "::1" },
		{ "1::", "1::" },
		{ "2001:db8::1", "2001:db8::1" },
		{ "2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1" },  /* lower case, no leading zeros */
		{ "1:0:0:1:0:0:0:1", "1:0:0:1::1" },                             /* longest run wins */
		{ "1:0:0:0:1:0:0:1", "1::1:0:0:1" },                             /* ... wherever it is */
		{ "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1" },                 /* equal runs: the first */
		{ "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1" },              /* a single 0 is not shortened */
		{ "2001:db8::1:0", "2001:db8::1:0" },
		{ "0:0:1:0:0:0:0:0", "0:0:1::" },
		{ "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8" },
		{ "fe80::abcd:ef01", "fe80::abcd:ef01" },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
		{ "::ffff:1.2.3.4", "::ffff:1.2.3.4" },                          /* mapped: dotted quad */
		{ "::ffff:0.0.0.0", "::ffff:0.0.0.0" },
		{ "0:0:0:0:0:ffff:ffff:ffff", "::ffff:255.255.255.255" },
		{ "::fffe:1.2.3.4", "::fffe:102:304" },                          /* not mapped */
		{ "1.2.3.4", "1.2.3.4" },
		{ "0.0.0.0", "0.0.0.0" },
		{ "255.255.255.255", "255.255.255.255" },
		{ "10.0.100.7", "10.0.100.7" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ss_addr a = ip(cases[i].in);
		const char *got = ip_text(&a, false);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s: got '%s', want '%s'", cases[i].in, got, cases[i].want);
	}
}

/* Every IPv6 text we print must read back as the same address. */
static void fmt_ip_round_trips(void **state)
{
	(void)state;
	uint64_t x = 0x123456789abcdefull;
	for (int i = 0; i < 20000; i++) {
		struct ss_addr a = { .family = 6 };
		for (int k = 0; k < 8; k++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			/* zero groups half the time, so runs of every length turn up */
			unsigned g = (x >> 33) & 1 ? 0 : (unsigned)(x >> 40) & 0xffff;
			a.ip[2 * k] = (uint8_t)(g >> 8);
			a.ip[2 * k + 1] = (uint8_t)g;
		}
		const char *t = ip_text(&a, false);
		uint8_t back[16];
		if (inet_pton(AF_INET6, t, back) != 1 || memcmp(back, a.ip, 16) != 0)
			fail_msg("'%s' does not read back", t);
		/* RFC 5952 is also what glibc prints, except glibc's dotted forms */
		char ref[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, a.ip, ref, sizeof(ref));
		if (!strchr(ref, '.') && strcmp(ref, t) != 0)
			fail_msg("got '%s', inet_ntop says '%s'", t, ref);
	}
}

static void fmt_endpoint_forms(void **state)
{
	(void)state;
	struct ss_addr a = ip("1.2.3.4");
	a.port = 80;
	assert_string_equal(ip_text(&a, true), "1.2.3.4:80");
	a = ip("::1");
	a.port = 80;
	assert_string_equal(ip_text(&a, true), "[::1]:80");
	a = ip("::ffff:10.0.0.1");
	a.port = 65535;
	assert_string_equal(ip_text(&a, true), "[::ffff:10.0.0.1]:65535");
	a = ip("0.0.0.0");
	assert_string_equal(ip_text(&a, true), "0.0.0.0:0");
	a = ip("::");
	a.port = 8080;
	assert_string_equal(ip_text(&a, true), "[::]:8080");
}

/* ---- JSON and time ---- */

static void json_escaping(void **state)
{
	(void)state;
	assert_string_equal(json_text("plain text"), "plain text");
	assert_string_equal(json_text("a\"b"), "a\\\"b");
	assert_string_equal(json_text("back\\slash"), "back\\\\slash");
	assert_string_equal(json_text("line\nnext"), "line\\u000anext");
	assert_string_equal(json_text("\t\r\x01\x1f"), "\\u0009\\u000d\\u0001\\u001f");
	assert_string_equal(json_text("del\x7f"), "del\\u007f");
	assert_string_equal(json_text(" ~"), " ~"); /* the printable edges stay */
	/* UTF-8 passes through untouched */
	assert_string_equal(json_text("caf\xc3\xa9"), "caf\xc3\xa9");
	assert_string_equal(json_text(""), "");
	assert_string_equal(json_text(NULL), "");
	/* every control byte, one by one */
	for (int c = 1; c < 0x20; c++) {
		char in[2] = { (char)c, 0 }, want[8];
		snprintf(want, sizeof(want), "\\u%04x", c);
		assert_string_equal(json_text(in), want);
	}
}

/* UTF-8: well-formed sequences go out as they are, each ill-formed one as
 * one U+FFFD per maximal subpart (what Python's "replace" gives). */
static void json_utf8(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		/* well-formed, at the edges of each length and range */
		{ "\xc2\x80", "\xc2\x80" },                 /* U+0080 */
		{ "caf\xc3\xa9", "caf\xc3\xa9" },
		{ "\xe2\x82\xac", "\xe2\x82\xac" },         /* the euro sign */
		{ "\xed\x9f\xbf", "\xed\x9f\xbf" },         /* U+D7FF, below the surrogates */
		{ "\xee\x80\x80", "\xee\x80\x80" },         /* U+E000, above them */
		{ "\xef\xbf\xbd", "\xef\xbf\xbd" },         /* a real U+FFFD stays raw */
		{ "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80" }, /* U+1F600 */
		{ "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf" }, /* U+10FFFF */
		/* ill-formed */
		{ "\x80", "\\ufffd" },                         /* a stray continuation byte */
		{ "\xff", "\\ufffd" },
		{ "\xf5\x80", "\\ufffd\\ufffd" },             /* F5 starts nothing */
		{ "\xc0\xaf", "\\ufffd\\ufffd" },             /* overlong '/' */
		{ "\xc1\xbf", "\\ufffd\\ufffd" },
		{ "\xe0\x80\xaf", "\\ufffd\\ufffd\\ufffd" },
		{ "\xe0\x9f\xbf", "\\ufffd\\ufffd\\ufffd" },
		{ "\xf0\x80\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd" },
		{ "\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd" }, /* a UTF-16 surrogate */
		{ "\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd" }, /* above U+10FFFF */
		{ "\xc3", "\\ufffd" },                         /* cut short by the end */
		{ "\xe2\x82", "\\ufffd" },                     /* ... as one maximal subpart */
		{ "\xe2\x82" "x", "\\ufffd" "x" },             /* ... or by an ASCII byte */
		{ "\xf0\x9f\x98" "A", "\\ufffd" "A" },
		{ "a\xff" "b\xc3\xa9", "a\\ufffd" "b\xc3\xa9" },
		{ "\xc3\x22", "\\ufffd\\\"" },                /* a quote after a cut sequence */
		/* the example of the Unicode standard, section 3.9 (table 3-8) */
		{ "a\xf1\x80\x80\xe1\x80\xc2" "b\x80" "c\x80\xbf" "d",
		  "a\\ufffd\\ufffd\\ufffd" "b\\ufffd" "c\\ufffd\\ufffd" "d" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(json_text(cases[i].in), cases[i].out);
}

static void time_utc(void **state)
{
	(void)state;
	assert_string_equal(time_text(0, 0), "1970-01-01T00:00:00.000000Z");
	/* microseconds: nanoseconds cut, not rounded */
	assert_string_equal(time_text(0, 999999999), "1970-01-01T00:00:00.999999Z");
	assert_string_equal(time_text(0, 1000), "1970-01-01T00:00:00.000001Z");
	assert_string_equal(time_text(0, 999), "1970-01-01T00:00:00.000000Z");
	/* leap days */
	assert_string_equal(time_text(1709164800, 0), "2024-02-29T00:00:00.000000Z");
	assert_string_equal(time_text(1709164800 + 3723, 123456789), "2024-02-29T01:02:03.123456Z");
	assert_string_equal(time_text(1709164800 + 86399, 0), "2024-02-29T23:59:59.000000Z");
	assert_string_equal(time_text(1709164800 + 86400, 0), "2024-03-01T00:00:00.000000Z");
	assert_string_equal(time_text(951782400, 0), "2000-02-29T00:00:00.000000Z");  /* divisible by 400 */
	assert_string_equal(time_text(4107542400, 0), "2100-03-01T00:00:00.000000Z"); /* 2100 is not leap */
	assert_string_equal(time_text(4107542400 - 1, 0), "2100-02-28T23:59:59.000000Z");
	/* year ends, 32-bit rollover, before the epoch */
	assert_string_equal(time_text(1735689599, 0), "2024-12-31T23:59:59.000000Z");
	assert_string_equal(time_text(2147483648, 0), "2038-01-19T03:14:08.000000Z");
	assert_string_equal(time_text(-1, 0), "1969-12-31T23:59:59.000000Z");
	assert_string_equal(time_text(-86400, 0), "1969-12-31T00:00:00.000000Z");
	assert_string_equal(time_text(-2208988800, 0), "1900-01-01T00:00:00.000000Z");
	assert_string_equal(time_text(253402300799, 0), "9999-12-31T23:59:59.000000Z");
}

/* Agree with gmtime_r over a spread of days (it is what we avoid calling
 * from hooks, but it is right). */
static void time_utc_vs_gmtime(void **state)
{
	(void)state;
	for (int64_t t = -5000000000; t < 10000000000; t += 7654321) {
		time_t tt = (time_t)t;
		struct tm tm;
		assert_non_null(gmtime_r(&tt, &tm));
		char want[64];
		snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.000042Z", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		const char *got = time_text(t, 42000);
		if (strcmp(got, want) != 0)
			fail_msg("%lld: got %s, want %s", (long long)t, got, want);
	}
}

static void numbers(void **state)
{
	(void)state;
	char buf[64];
	struct fmt f;
	fmt_init(&f, buf, sizeof(buf));
	fmt_u64(&f, 0);
	fmt_char(&f, ' ');
	fmt_u64(&f, UINT64_MAX);
	fmt_char(&f, ' ');
	fmt_i64(&f, INT64_MIN);
	fmt_char(&f, ' ');
	fmt_i64(&f, -7);
	fmt_char(&f, ' ');
	fmt_u64w(&f, 5, 3);
	fmt_char(&f, ' ');
	fmt_u64w(&f, 12345, 2); /* width is a minimum */
	fmt_char(&f, ' ');
	fmt_u64w(&f, 0, 0);
	assert_string_equal(buf, "0 18446744073709551615 -9223372036854775808 -7 005 12345 0");
	assert_false(f.truncated);
	assert_int_equal(f.len, strlen(buf));
	/* two digits at a time: every value up to 10^5, and around each power of ten */
	char want[64];
	for (uint64_t v = 0; v <= 100000; v++) {
		fmt_init(&f, buf, sizeof(buf));
		fmt_u64w(&f, v, (unsigned)(v % 8));
		snprintf(want, sizeof(want), "%0*llu", (int)(v % 8), (unsigned long long)v);
		assert_string_equal(buf, want);
	}
	for (uint64_t p = 1; p <= UINT64_MAX / 10; p *= 10) {
		for (uint64_t v = p - 1; v <= p + 1; v++) {
			fmt_init(&f, buf, sizeof(buf));
			fmt_i64(&f, -(int64_t)v);
			snprintf(want, sizeof(want), "%lld", -(long long)v);
			assert_string_equal(buf, want);
		}
	}
	/* NULL strings print as (null) rather than crash */
	fmt_init(&f, buf, sizeof(buf));
	fmt_str(&f, NULL);
	assert_string_equal(buf, "(null)");
}

/* ---- truncation ---- */

#define CANARY 0xA5

/*
 * Run fill() into buffers of every size from 0 to a little past what it
 * needs, with guard bytes after the buffer: nothing is written past cap,
 * the text is NUL-terminated (cap > 0), is a prefix of the full text, and
 * truncated is set exactly when the full text did not fit.
 */
static void check_truncation(const char *what, void (*fill)(struct fmt *))
{
	char full[512];
	struct fmt f;
	fmt_init(&f, full, sizeof(full));
	fill(&f);
	assert_false(f.truncated);
	size_t need = f.len;
	assert_true(need > 0);

	for (size_t cap = 0; cap <= need + 2; cap++) {
		unsigned char mem[600];
		memset(mem, CANARY, sizeof(mem));
		char *buf = (char *)mem + 16; /* guard bytes before, too */
		fmt_init(&f, buf, cap);
		fill(&f);
		for (size_t i = 0; i < 16; i++)
			if (mem[i] != CANARY)
				fail_msg("%s cap %zu: wrote before the buffer", what, cap);
		for (size_t i = 16 + cap; i < sizeof(mem); i++)
			if (mem[i] != CANARY)
				fail_msg("%s cap %zu: wrote %zu bytes past the end", what, cap, i - 16 - cap + 1);
		bool should_cut = cap < need + 1;
		if (f.truncated != should_cut)
			fail_msg("%s cap %zu: truncated=%d", what, cap, f.truncated);
		if (cap == 0) {
			assert_int_equal(f.len, 0);
			continue;
		}
		size_t want_len = should_cut ? cap - 1 : need;
		if (f.len != want_len || buf[f.len] != '\0' || memcmp(buf, full, f.len) != 0)
			fail_msg("%s cap %zu: got '%.*s' (len %zu)", what, cap, (int)f.len, buf, f.len);
	}
}

static void fill_str(struct fmt *f)
{
	fmt_str(f, "hello, ");
	fmt_mem(f, "world!!", 5);
	fmt_char(f, '!');
}

static void fill_numbers(struct fmt *f)
{
	fmt_u64(f, UINT64_MAX);
	fmt_i64(f, INT64_MIN);
	fmt_u64w(f, 42, 10);
}

static void fill_ip6(struct fmt *f)
{
	struct ss_addr a = ip("2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff");
	a.port = 65535;
	fmt_endpoint(f, &a);
	a = ip("::ffff:255.255.255.255");
	fmt_endpoint(f, &a);
}

static void fill_ip4(struct fmt *f)
{
	struct ss_addr a = ip("255.255.255.255");
	a.port = 12345;
	fmt_endpoint(f, &a);
}

static void fill_json(struct fmt *f)
{
	fmt_json_str(f, "q\"b\\c\n\x01\x7f end \xc3\xa9\xff\xe2\x82\xac.");
}

static void fill_time(struct fmt *f)
{
	fmt_time_utc(f, 1709164800 + 3723, 123456789);
}

static void truncation_never_overflows(void **state)
{
	(void)state;
	check_truncation("str", fill_str);
	check_truncation("numbers", fill_numbers);
	check_truncation("ip6", fill_ip6);
	check_truncation("ip4", fill_ip4);
	check_truncation("json", fill_json);
	check_truncation("time", fill_time);
}

static void truncation_is_sticky(void **state)
{
	(void)state;
	/* once cut, later short writes do not clear the flag or append */
	char buf[4];
	struct fmt f;
	fmt_init(&f, buf, sizeof(buf));
	fmt_str(&f, "abcdef");
	assert_true(f.truncated);
	assert_string_equal(buf, "abc");
	fmt_str(&f, "");
	fmt_char(&f, 'x');
	assert_true(f.truncated);
	assert_string_equal(buf, "abc");
	assert_int_equal(f.len, 3);
	/* cap 1 holds only the NUL */
	char one[1] = { 'z' };
	fmt_init(&f, one, 1);
	assert_int_equal(one[0], '\0');
	fmt_char(&f, 'x');
	assert_true(f.truncated);
	assert_int_equal(one[0], '\0');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(from_sockaddr_v4),
		cmocka_unit_test(from_sockaddr_v6),
		cmocka_unit_test(from_sockaddr_other_families),
		cmocka_unit_test(to_sockaddr_round_trip),
		cmocka_unit_test(v4_view),
		cmocka_unit_test(for_family),
		cmocka_unit_test(is_any),
		cmocka_unit_test(parse_ip),
		cmocka_unit_test(parse_endpoint),
		cmocka_unit_test(fmt_ip_rfc5952),
		cmocka_unit_test(fmt_ip_round_trips),
		cmocka_unit_test(fmt_endpoint_forms),
		cmocka_unit_test(json_escaping),
		cmocka_unit_test(json_utf8),
		cmocka_unit_test(time_utc),
		cmocka_unit_test(time_utc_vs_gmtime),
		cmocka_unit_test(numbers),
		cmocka_unit_test(truncation_never_overflows),
		cmocka_unit_test(truncation_is_sticky),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

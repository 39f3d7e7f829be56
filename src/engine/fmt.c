/*
 * fmt: bounded, allocation-free text building (see fmt.h).
 *
 * A logged decision is formatted on the path of the call it logs, so the
 * common cases go by whole runs (memcpy) and two digits at a time, not byte
 * by byte.
 */
#include "fmt.h"

#include <string.h>

void fmt_init(struct fmt *f, char *buf, size_t cap)
{
	f->buf = buf;
	f->cap = cap;
	f->len = 0;
	f->truncated = false;
	if (cap)
		buf[0] = '\0';
}

void fmt_mem_cut(struct fmt *f, const char *s, size_t n)
{
	if (f->cap == 0) {
		f->truncated = true;
		return;
	}
	size_t room = f->cap - 1 - f->len;
	if (n > room) {
		n = room;
		f->truncated = true;
	}
	memcpy(f->buf + f->len, s, n);
	f->len += n;
	f->buf[f->len] = '\0';
}

static const char digits2[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* v < 100 as two digits at p */
static inline char *put2(char *p, unsigned v)
{
	memcpy(p, digits2 + 2 * v, 2);
	return p + 2;
}

void fmt_u64w(struct fmt *f, uint64_t v, unsigned width)
{
	char tmp[24];
	char *end = tmp + sizeof(tmp), *p = end;
	while (v >= 100) {
		p -= 2;
		put2(p, (unsigned)(v % 100));
		v /= 100;
	}
	if (v >= 10) {
		p -= 2;
		put2(p, (unsigned)v);
	} else {
		*--p = (char)('0' + v);
	}
	while ((size_t)(end - p) < width && p > tmp)
		*--p = '0';
	fmt_mem(f, p, (size_t)(end - p));
}

void fmt_i64(struct fmt *f, int64_t v)
{
	if (v < 0) {
		fmt_char(f, '-');
		fmt_u64(f, (uint64_t)0 - (uint64_t)v);
	} else {
		fmt_u64(f, (uint64_t)v);
	}
}

/* JSON byte classes: copied as is, escaped, the start of a multi-byte UTF-8
 * sequence (or a byte that cannot start one), the end of the string. */
enum { J_PLAIN, J_ESCAPE, J_HIGH, J_END };
static const unsigned char json_class[256] = {
	[0] = J_END,
	[1 ... 0x1f] = J_ESCAPE,
	['"'] = J_ESCAPE,
	['\\'] = J_ESCAPE,
	[0x7f] = J_ESCAPE,
	[0x80 ... 0xff] = J_HIGH,
};

/*
 * The length of the well-formed UTF-8 sequence at s (s[0] >= 0x80), or 0
 * with *bad = the length of its maximal ill-formed subpart (at least 1):
 * the lead byte and the continuation bytes that were still possible
 * (Unicode 15, table 3-7 and section 3.9). Reads no further than the first
 * byte out of range, so never past the terminating NUL.
 */
static size_t utf8_len(const unsigned char *s, size_t *bad)
{
	unsigned c = s[0], lo = 0x80, hi = 0xbf;
	size_t n;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* UTF-16 surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		*bad = 1; /* a continuation byte, C0, C1 or F5..FF */
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if (s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return n;
}

void fmt_json_str(struct fmt *f, const char *str)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	if (!s)
		return;
	for (;;) {
		/* a run of bytes that go out as they are: ASCII and well-formed UTF-8 */
		const unsigned char *run = s;
		size_t n, bad = 0;
		for (;;) {
			unsigned k = json_class[*s];
			if (k == J_PLAIN)
				s++;
			else if (k == J_HIGH && (n = utf8_len(s, &bad)) != 0)
				s += n;
			else
				break;
		}
		if (s > run)
			fmt_mem(f, (const char *)run, (size_t)(s - run));
		unsigned c = *s;
		if (c == 0)
			return;
		if (bad) {
			fmt_mem(f, "\\ufffd", 6);
			s += bad;
		} else if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			fmt_mem(f, e, 2);
			s++;
		} else {
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			fmt_mem(f, e, 6);
			s++;
		}
	}
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian), after
 * Howard Hinnant's well-known derivation; gmtime_r is not async-signal-safe. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

void fmt_time_utc(struct fmt *f, int64_t sec, long nsec)
{
	int64_t days = sec / 86400, rem = sec % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	int64_t y;
	unsigned mo, d, r = (unsigned)rem;
	civil_from_days(days, &y, &mo, &d);
	char t[32], *p = t;
	if (y >= 1000 && y <= 9999) {
		p = put2(p, (unsigned)y / 100);
		p = put2(p, (unsigned)y % 100);
	} else {
		fmt_i64(f, y); /* as gmtime's %Y would: no padding, a sign before year 0 */
	}
	*p++ = '-';
	p = put2(p, mo);
	*p++ = '-';
	p = put2(p, d);
	*p++ = 'T';
	p = put2(p, r / 3600);
	*p++ = ':';
	p = put2(p, r / 60 % 60);
	*p++ = ':';
	p = put2(p, r % 60);
	*p++ = '.';
	uint64_t us = (uint64_t)nsec / 1000;
	if (us < 1000000) {
		p = put2(p, (unsigned)us / 10000);
		p = put2(p, (unsigned)us / 100 % 100);
		p = put2(p, (unsigned)us % 100);
		*p++ = 'Z';
		fmt_mem(f, t, (size_t)(p - t));
	} else {
		/* nsec out of range: still every digit there is */
		fmt_mem(f, t, (size_t)(p - t));
		fmt_u64w(f, us, 6);
		fmt_char(f, 'Z');
	}
}

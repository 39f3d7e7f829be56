/*
 * fmt: bounded, allocation-free text building (see fmt.h).
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

void fmt_mem(struct fmt *f, const char *s, size_t n)
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

void fmt_str(struct fmt *f, const char *s)
{
	fmt_mem(f, s ? s : "(null)", strlen(s ? s : "(null)"));
}

void fmt_char(struct fmt *f, char c)
{
	fmt_mem(f, &c, 1);
}

void fmt_u64w(struct fmt *f, uint64_t v, unsigned width)
{
	char tmp[24];
	size_t i = sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	while (sizeof(tmp) - i < width && i > 0)
		tmp[--i] = '0';
	fmt_mem(f, tmp + i, sizeof(tmp) - i);
}

void fmt_u64(struct fmt *f, uint64_t v)
{
	fmt_u64w(f, v, 1);
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

void fmt_json_str(struct fmt *f, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			fmt_mem(f, e, 2);
		} else if (c < 0x20 || c == 0x7f) {
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			fmt_mem(f, e, 6);
		} else {
			fmt_char(f, (char)c);
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
	unsigned mo, d;
	civil_from_days(days, &y, &mo, &d);
	fmt_i64(f, y);
	fmt_char(f, '-');
	fmt_u64w(f, mo, 2);
	fmt_char(f, '-');
	fmt_u64w(f, d, 2);
	fmt_char(f, 'T');
	fmt_u64w(f, (uint64_t)rem / 3600, 2);
	fmt_char(f, ':');
	fmt_u64w(f, (uint64_t)rem / 60 % 60, 2);
	fmt_char(f, ':');
	fmt_u64w(f, (uint64_t)rem % 60, 2);
	fmt_char(f, '.');
	fmt_u64w(f, (uint64_t)nsec / 1000, 6);
	fmt_char(f, 'Z');
}

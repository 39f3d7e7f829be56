/*
 * fmt: a bounded text builder that is async-signal-safe.
 *
 * The shim formats log lines and error messages from inside hooks, which may
 * run in signal handlers or before malloc is usable, so it cannot use stdio.
 * A struct fmt writes into a caller-owned buffer, never past its end, and
 * remembers whether anything was cut so the caller can mark the line.
 *
 * Every append keeps a prefix of the full text: what does not fit is cut at
 * the byte where the buffer ends (also inside an escape or a UTF-8
 * sequence), and truncated stays set. The short appends are inline: a log
 * line is some forty of them, on the path of every logged call.
 */
#ifndef SOCKSHIM_FMT_H
#define SOCKSHIM_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>

struct fmt {
	char *buf;
	size_t cap;       /* bytes in buf, one is kept for the terminating NUL */
	size_t len;       /* bytes written so far, excluding the NUL */
	bool truncated;   /* something did not fit */
};

/* Start building into buf[cap]; buf is always NUL-terminated afterwards. */
void fmt_init(struct fmt *f, char *buf, size_t cap);

/* What does not fit: the part that does, and truncated. */
void fmt_mem_cut(struct fmt *f, const char *s, size_t n);

static inline void fmt_mem(struct fmt *f, const char *s, size_t n)
{
	/* len < cap whenever cap > 0, so this never wraps */
	if (n < f->cap - f->len) {
		memcpy(f->buf + f->len, s, n);
		f->len += n;
		f->buf[f->len] = '\0';
	} else {
		fmt_mem_cut(f, s, n);
	}
}

/* NULL is written as "(null)". */
static inline void fmt_str(struct fmt *f, const char *s)
{
	if (!s)
		s = "(null)";
	fmt_mem(f, s, strlen(s));
}

static inline void fmt_char(struct fmt *f, char c)
{
	if (f->cap - f->len > 1) {
		f->buf[f->len++] = c;
		f->buf[f->len] = '\0';
	} else {
		fmt_mem_cut(f, &c, 1);
	}
}

/* Unsigned v, zero-padded to at least width digits. */
void fmt_u64w(struct fmt *f, uint64_t v, unsigned width);

static inline void fmt_u64(struct fmt *f, uint64_t v)
{
	if (v < 10) /* an fd, an rc, an address byte: often one digit */
		fmt_char(f, (char)('0' + v));
	else
		fmt_u64w(f, v, 1);
}

void fmt_i64(struct fmt *f, int64_t v);
/*
 * s as the inside of a JSON string, so that the line is valid JSON and valid
 * UTF-8 (RFC 8259): quotes, backslashes, control bytes and DEL escaped as
 * \" \\ \u00XX; well-formed UTF-8 copied as it is; each ill-formed sequence
 * (a stray continuation byte, a truncated or overlong sequence, a surrogate,
 * anything above U+10FFFF) written as \ufffd, one per maximal subpart, the
 * replacement the Unicode standard recommends (and Python's "replace").
 * NULL is the empty string.
 */
void fmt_json_str(struct fmt *f, const char *s);
/* UTC time as RFC 3339 with microseconds: 2026-11-23T11:44:51.123456Z */
void fmt_time_utc(struct fmt *f, int64_t sec, long nsec);

#endif

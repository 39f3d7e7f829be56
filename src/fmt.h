/*
 * fmt: a bounded text builder that is async-signal-safe.
 *
 * The shim formats log lines and error messages from inside hooks, which may
 * run in signal handlers or before malloc is usable, so it cannot use stdio.
 * A struct fmt writes into a caller-owned buffer, never past its end, and
 * remembers whether anything was cut so the caller can mark the line.
 */
#ifndef SOCKSHIM_FMT_H
#define SOCKSHIM_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct fmt {
	char *buf;
	size_t cap;       /* bytes in buf, one is kept for the terminating NUL */
	size_t len;       /* bytes written so far, excluding the NUL */
	bool truncated;   /* something did not fit */
};

/* Start building into buf[cap]; buf is always NUL-terminated afterwards. */
void fmt_init(struct fmt *f, char *buf, size_t cap);

void fmt_str(struct fmt *f, const char *s);
void fmt_mem(struct fmt *f, const char *s, size_t n);
void fmt_char(struct fmt *f, char c);
void fmt_u64(struct fmt *f, uint64_t v);
void fmt_i64(struct fmt *f, int64_t v);
/* Unsigned v, zero-padded to at least width digits. */
void fmt_u64w(struct fmt *f, uint64_t v, unsigned width);
/* s as the inside of a JSON string: quotes, backslashes and control bytes escaped. */
void fmt_json_str(struct fmt *f, const char *s);
/* UTC time as RFC 3339 with microseconds: 2026-11-23T11:44:51.123456Z */
void fmt_time_utc(struct fmt *f, int64_t sec, long nsec);

#endif

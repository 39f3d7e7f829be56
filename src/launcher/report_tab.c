/*
 * report_tab: chained hash tables keyed by byte strings (see report_tab.h).
 * An entry is allocated once, when its key is first seen; a line whose
 * keys are all known allocates nothing.
 */
#include "report_tab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	return h;
}

static int grow(struct rt_tab *t)
{
	size_t cap = t->cap ? t->cap * 2 : 256;
	struct rt_ent **s = calloc(cap, sizeof(*s));
	if (!s)
		return -1;
	for (size_t i = 0; i < t->cap; i++)
		for (struct rt_ent *e = t->slot[i], *next; e; e = next) {
			next = e->next;
			e->next = s[e->hash & (cap - 1)];
			s[e->hash & (cap - 1)] = e;
		}
	free(t->slot);
	t->slot = s;
	t->cap = cap;
	return 0;
}

struct rt_ent *rt_get(struct rt_tab *t, const char *key, size_t len)
{
	uint64_t h = hash(key, len);
	if (t->cap) {
		for (struct rt_ent *e = t->slot[h & (t->cap - 1)]; e; e = e->next)
			if (e->hash == h && e->klen == len && memcmp(e->key, key, len) == 0)
				return e;
	}
	if (t->n >= t->cap && grow(t) < 0)
		return NULL;
	struct rt_ent *e = calloc(1, sizeof(*e) + len + 1);
	if (!e)
		return NULL;
	e->hash = h;
	e->klen = len;
	memcpy(e->key, key, len);
	e->next = t->slot[h & (t->cap - 1)];
	t->slot[h & (t->cap - 1)] = e;
	t->n++;
	return e;
}

static void copy_ts(char *dst, const char *ts, size_t n)
{
	if (n >= RT_TS)
		n = RT_TS - 1;
	memcpy(dst, ts, n);
	dst[n] = '\0';
}

/* log.c's time stamps have one width, so they sort as text */
static int ts_cmp(const char *a, const char *ts, size_t n)
{
	size_t an = strlen(a);
	int c = memcmp(a, ts, an < n ? an : n);
	return c ? c : (an > n) - (an < n);
}

void rt_when(struct rt_ent *e, const char *ts, size_t n)
{
	if (!e->first[0] || ts_cmp(e->first, ts, n) > 0)
		copy_ts(e->first, ts, n);
	if (!e->last[0] || ts_cmp(e->last, ts, n) < 0)
		copy_ts(e->last, ts, n);
}

void rt_note(struct rt_ent *e, const char *s, size_t n)
{
	if (e->note || !n)
		return;
	if (n > 200)
		n = 200;
	e->note = malloc(n + 1);
	if (e->note) {
		memcpy(e->note, s, n);
		e->note[n] = '\0';
	}
}

static int sort_by;

static int cmp(const void *a, const void *b)
{
	const struct rt_ent *x = *(struct rt_ent *const *)a, *y = *(struct rt_ent *const *)b;
	if (x->n[sort_by] != y->n[sort_by])
		return x->n[sort_by] > y->n[sort_by] ? -1 : 1;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->key, y->key, n);
	return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

struct rt_ent **rt_sorted(const struct rt_tab *t, int by, size_t *count)
{
	*count = 0;
	if (!t->n)
		return NULL;
	struct rt_ent **v = malloc(t->n * sizeof(*v));
	if (!v)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < t->cap; i++)
		for (struct rt_ent *e = t->slot[i]; e; e = e->next)
			v[k++] = e;
	sort_by = by;
	qsort(v, k, sizeof(*v), cmp);
	*count = k;
	return v;
}

void rt_free(struct rt_tab *t)
{
	for (size_t i = 0; i < t->cap; i++)
		for (struct rt_ent *e = t->slot[i], *next; e; e = next) {
			next = e->next;
			free(e->note);
			free(e);
		}
	free(t->slot);
	t->slot = NULL;
	t->cap = t->n = 0;
}

/* The length of the valid UTF-8 sequence at s[0..n), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t k = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
	if (!k || k > n)
		return 0;
	for (size_t i = 1; i < k; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((k == 3 && s[0] == 0xe0 && s[1] < 0xa0) || (k == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
	    (k == 4 && s[0] == 0xf0 && s[1] < 0x90) || (k == 4 && s[0] == 0xf4 && s[1] >= 0x90))
		return 0; /* overlong, a surrogate, past U+10FFFF */
	return k;
}

/* A JSON string; bytes that are not UTF-8 (a log can hold any) become U+FFFD. */
void rt_json_str(FILE *o, const char *s, size_t n)
{
	fputc('"', o);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\') {
			fprintf(o, "\\%c", ch);
		} else if (ch < 0x20 || ch == 0x7f) {
			fprintf(o, "\\u%04x", ch);
		} else if (ch < 0x80) {
			fputc(ch, o);
		} else {
			size_t k = utf8_len((const unsigned char *)s + i, n - i);
			if (!k) {
				fputs("\\ufffd", o);
				continue;
			}
			fwrite(s + i, 1, k, o);
			i += k - 1;
		}
	}
	fputc('"', o);
}

void rt_json_cstr(FILE *o, const char *s)
{
	if (s)
		rt_json_str(o, s, strlen(s));
	else
		fputs("null", o);
}

void rt_json_dest(FILE *o, const char *const part[4], const char *rule, uint64_t count, bool first)
{
	fputs(first ? "{\"op\":" : ",{\"op\":", o);
	rt_json_cstr(o, part[1]);
	fputs(",\"addr\":", o);
	rt_json_cstr(o, part[2]);
	fputs(",\"result\":", o);
	rt_json_cstr(o, part[3]);
	fputs(",\"rule\":", o);
	rt_json_cstr(o, rule);
	fprintf(o, ",\"count\":%llu}", (unsigned long long)count);
}

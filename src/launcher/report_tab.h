/*
 * report_tab: the counts `sockshim report` keeps, one hash table per kind
 * of key (rule, process, program, destination, event). Memory grows with
 * the number of distinct keys, never with the number of lines.
 */
#ifndef SOCKSHIM_REPORT_TAB_H
#define SOCKSHIM_REPORT_TAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#define RT_TS 40 /* a time stamp as log.c writes it, with room to spare */

/* One entry; every table uses the counters it needs. */
struct rt_ent {
	struct rt_ent *next;
	uint64_t hash;
	uint64_t n[8];          /* counters, by table (see report.c) */
	char first[RT_TS], last[RT_TS];
	struct rt_ent *ref;     /* a process's program; an attempt's program */
	struct rt_ent *head, *tail, *chain; /* a program's attempts, in a list (report.c) */
	char *note;             /* a first message, errno or target, malloc'd */
	size_t klen;
	char key[];             /* klen bytes, then a NUL */
};

struct rt_tab {
	struct rt_ent **slot;
	size_t cap, n;
};

/* The entry for key[0..len), made (zeroed) if new; NULL when out of memory. */
struct rt_ent *rt_get(struct rt_tab *t, const char *key, size_t len);

/* Keep the earliest and the latest of the time stamps ts[0..n) seen. */
void rt_when(struct rt_ent *e, const char *ts, size_t n);

/* Set e->note to s[0..n) if it has none yet. */
void rt_note(struct rt_ent *e, const char *s, size_t n);

/* Every entry, in a malloc'd array sorted by n[by] (largest first), then
 * key; *count gets their number. NULL (with *count 0) if empty. */
struct rt_ent **rt_sorted(const struct rt_tab *t, int by, size_t *count);

void rt_free(struct rt_tab *t);

/* s[0..n) as a JSON string; bytes that are not UTF-8 (a log can hold any)
 * become U+FFFD. */
void rt_json_str(FILE *o, const char *s, size_t n);
/* The same for a C string, or null. */
void rt_json_cstr(FILE *o, const char *s);
/* One destination of a JSON array: {"op","addr","result","rule","count"};
 * part[1..3] are op, addr and result; a comma first unless first. */
void rt_json_dest(FILE *o, const char *const part[4], const char *rule, uint64_t count, bool first);

#endif

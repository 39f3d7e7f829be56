/*
 * report: `sockshim report [--json] LOG...`, what a run's decision logs say,
 * for a person (or, with --json, for a program): per rule the calls it
 * matched, applied, failed and denied; per program what it tried; the
 * destinations denied or rewritten; warnings and exhaustion; and a verdict
 * line. Logs are read twice, a block at a time (report_parse.h reads each
 * line): the first pass learns each pid's program from the start lines, so
 * the order the logs are given in (rotated ones newest first) does not
 * matter; stdin is read once. A pid with no start line (a forked child, a
 * program under --seccomp) is the program of that log's --seccomp start
 * line, else the only program the logs name, else "(no start line)".
 * Summary lines are cumulative: the largest per pid and rule counts. Memory grows with the distinct keys (report_tab.h), never with
 * the lines. A damaged line is counted and skipped.
 */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report_names.h"
#include "report_parse.h"
#include "report_tab.h"
#include "warnrate.h"

#define BLOCK (1u << 20)
#define SHOW_TRIES 20 /* per program, in the text form */
#define SHOW_BAD 3    /* damaged lines named, in the text form */
#define SHOW_ROWS 50  /* destinations and events, in the text form (JSON: all) */
#define SHOW_VERDICT 10 /* destinations named in the verdict */

/* counters of each table's entries (rt_ent.n[]) */
enum { R_MATCHED, R_APPLIED, R_FAILED, R_DENIED, R_DRY, R_SUM_MATCHED, R_SUM_APPLIED, R_SUM_FAILED };
enum { P_DECISIONS, P_PROCESSES, P_DENIED, P_REWRITTEN, P_FAILED };
enum { C_COUNT, C_SUM };

static struct {
	struct rt_tab rules, pids, programs, tries, denied, rewritten, events, sums;
	bool first_pass;
	size_t names;               /* programs the start lines name (first pass) */
	struct rt_ent *seccomp_any; /* the program of a --seccomp start line */
	bool seccomp_many;          /* more than one such program */
	struct rt_ent **seccomp;    /* per log: its --seccomp start line's program */
	unsigned file;              /* the log being read */
	uint64_t lines, decisions, events_seen, bad[RP_BAD_COUNT], nbad;
	char bad_where[SHOW_BAD][300];
	unsigned files;
	bool oom;
} R;

static struct rp_line L; /* big: one, not on the stack */

static struct rt_ent *get(struct rt_tab *t, const char *k, size_t n)
{
	struct rt_ent *e = rt_get(t, k, n);
	if (!e)
		R.oom = true;
	return e;
}

/* key parts joined with NUL bytes, in buf[cap] */
static size_t join(char *buf, size_t cap, const struct rp_str *part, int n)
{
	size_t len = 0;
	for (int i = 0; i < n; i++) {
		size_t k = part[i].n;
		if (len + k + 1 > cap)
			k = cap - len - 1;
		memcpy(buf + len, part[i].p, k);
		len += k;
		if (i + 1 < n)
			buf[len++] = '\0';
	}
	return len;
}

#define NO_START "(no start line)"

/* The one entry of a table of one. */
static struct rt_ent *rt_sorted_first(const struct rt_tab *t)
{
	size_t n;
	struct rt_ent **all = rt_sorted(t, 0, &n), *e = n ? all[0] : NULL;
	free(all);
	return e;
}

static struct rt_ent *process_program(long pid)
{
	char k[24];
	int n = snprintf(k, sizeof(k), "%ld", pid);
	struct rt_ent *p = get(&R.pids, k, (size_t)n);
	if (p && !p->ref) {
		p->ref = R.seccomp && R.seccomp[R.file] ? R.seccomp[R.file]
			 : R.seccomp_any && !R.seccomp_many ? R.seccomp_any
			 : R.names == 1 && R.programs.n >= 1 ? rt_sorted_first(&R.programs)
			 : get(&R.programs, NO_START, sizeof(NO_START) - 1);
		if (p->ref)
			p->ref->n[P_PROCESSES]++;
	}
	return p ? p->ref : NULL;
}

static void on_start(void)
{
	struct rp_str prog = rp_get(&L, "program");
	if (!prog.n)
		prog = (struct rp_str){ "-", 1 };
	char k[24];
	int n = snprintf(k, sizeof(k), "%ld", L.pid);
	struct rt_ent *p = get(&R.pids, k, (size_t)n), *g = get(&R.programs, prog.p, prog.n);
	if (!p || !g)
		return;
	p->ref = g; /* an exec: the same pid, a new program */
	if (R.first_pass) {
		R.names = R.programs.n;
		if (rp_eq(rp_get(&L, "via"), "seccomp")) {
			if (R.seccomp)
				R.seccomp[R.file] = g;
			R.seccomp_many |= R.seccomp_any && R.seccomp_any != g;
			R.seccomp_any = g;
		}
		return;
	}
	/* a --seccomp start line is the supervisor's: the program's pids count as they decide */
	if (!rp_eq(rp_get(&L, "via"), "seccomp"))
		g->n[P_PROCESSES]++;
}

static void on_summary(void)
{
	struct rp_str rule = rp_get(&L, "rule");
	struct rt_ent *r = rule.n ? get(&R.rules, rule.p, rule.n) : NULL;
	if (!r)
		return;
	long m = rp_num(rp_get(&L, "matched")), a = rp_num(rp_get(&L, "applied")), f = rp_num(rp_get(&L, "failed"));
	if (a < 0)
		a = rp_num(rp_get(&L, "would_apply"));
	/* a process's summary lines (periodic, then at exit) count from its start: keep the largest */
	char k[600];
	int kn = snprintf(k, sizeof(k), "%ld%c%.*s", L.pid, 0, (int)rule.n, rule.p);
	struct rt_ent *e = get(&R.sums, k, kn < (int)sizeof(k) ? (size_t)kn : sizeof(k) - 1);
	if (!e)
		return;
	e->ref = r;
	long v[3] = { m, a, f };
	for (int i = 0; i < 3; i++)
		if (v[i] > 0 && (uint64_t)v[i] > e->n[i])
			e->n[i] = (uint64_t)v[i];
}

/* Each process's counts, added up per rule. */
static void add_sums(void)
{
	size_t n;
	struct rt_ent **e = rt_sorted(&R.sums, 0, &n);
	for (size_t i = 0; e && i < n; i++) {
		e[i]->ref->n[R_SUM_MATCHED] += e[i]->n[0];
		e[i]->ref->n[R_SUM_APPLIED] += e[i]->n[1];
		e[i]->ref->n[R_SUM_FAILED] += e[i]->n[2];
	}
	free(e);
}

/* an event worth listing: a warning, an error, or a failure in a decision */
static void note_event(struct rp_str level, struct rp_str name, struct rp_str msg, long sum)
{
	char k[600];
	struct rp_str part[2] = { level, name };
	struct rt_ent *e = get(&R.events, k, join(k, sizeof(k), part, 2));
	if (!e)
		return;
	e->n[C_COUNT]++;
	if (sum > 0)
		e->n[C_SUM] += (uint64_t)sum;
	rt_when(e, L.ts.p, L.ts.n);
	rt_note(e, msg.p, msg.n);
}

static void on_event(void)
{
	R.events_seen++;
	if (rp_eq(L.name, "start"))
		on_start();
	else if (rp_eq(L.name, "summary"))
		on_summary();
	else {
		long sum = rp_num(rp_get(&L, "dropped"));
		if (sum < 0)
			sum = rp_num(rp_get(&L, "count"));
		struct rp_str rule = rp_get(&L, "rule");
		if (rp_eq(L.name, "exhausted") && rule.n) {
			/* this failure and those held back before it (the line at exit: those only), per rule */
			long held = rp_num(rp_get(&L, "suppressed"));
			char name[300], msg[600];
			int nn = snprintf(name, sizeof(name), "%.*s%c%.*s", (int)L.name.n, L.name.p, 0, (int)rule.n, rule.p);
			struct rp_str m = rp_get(&L, "msg");
			int mn = snprintf(msg, sizeof(msg), "rule %.*s: %.*s", (int)rule.n, rule.p, (int)m.n, m.p);
			note_event(L.level, (struct rp_str){ name, nn < (int)sizeof(name) ? (size_t)nn : sizeof(name) - 1 },
				   (struct rp_str){ msg, mn < (int)sizeof(msg) ? (size_t)mn : sizeof(msg) - 1 },
				   !rp_eq(m, SS_WARN_AT_EXIT) + (held > 0 ? held : 0));
			return;
		}
		note_event(L.level, L.name, rp_get(&L, "msg"), sum);
	}
}

static void destination(struct rt_tab *t, struct rp_str addr, struct rp_str to, struct rp_str note)
{
	char k[600];
	struct rp_str part[2] = { addr, to };
	struct rt_ent *e = get(t, k, join(k, sizeof(k), part, to.n ? 2 : 1));
	if (!e)
		return;
	e->n[C_COUNT]++;
	rt_when(e, L.ts.p, L.ts.n);
	rt_note(e, note.p, note.n);
}

/* A looked-up name as the text log writes it: a JSON log carries the
 * program's bytes as they were, and the report's text would pass white
 * space, control bytes and bytes of UTF-8 (U+202E turns a terminal line
 * around) to the terminal; they become \xHH. A text log's names come
 * escaped already and are left as they are. */
static struct rp_str text_host(struct rp_str h, char *buf, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	for (size_t i = 0; i < h.n && n + 4 < cap; i++) {
		unsigned char c = (unsigned char)h.p[i];
		if (c > ' ' && c < 0x7f) {
			buf[n++] = (char)c;
		} else {
			buf[n++] = '\\', buf[n++] = 'x';
			buf[n++] = hex[c >> 4], buf[n++] = hex[c & 15];
		}
	}
	return (struct rp_str){ buf, n };
}

static void on_decision(void)
{
	R.decisions++;
	char host[RP_LINE_MAX];
	if (L.host.n)
		L.host = text_host(L.host, host, sizeof(host));
	struct rt_ent *prog = process_program(L.pid);
	struct rt_ent *rule = L.rule.n ? get(&R.rules, L.rule.p, L.rule.n) : NULL;
	struct rp_str deny = { "", 0 }, rewrite = { "", 0 };
	char rw[280];
	size_t rw_n = 0;
	bool failed = false;
	for (unsigned i = 0; i < L.nact; i++) {
		struct rp_str a = L.act[i];
		if (rp_prefix(a, "deny="))
			deny = (struct rp_str){ a.p + 5, a.n - 5 };
		else if (rp_prefix(a, "rewrite=impossible"))
			failed = true;
		else if (rp_prefix(a, "rewrite=") && rw_n + a.n < sizeof(rw)) {
			/* a lookup's rewrite is a list, one action per address: all of them */
			if (rw_n)
				memcpy(rw + rw_n, ", ", 2), rw_n += 2;
			memcpy(rw + rw_n, a.p + 8, a.n - 8);
			rw_n += a.n - 8;
			rewrite = (struct rp_str){ rw, rw_n };
		}
		else if (rp_prefix(a, "failed=")) {
			failed = true;
			note_event((struct rp_str){ "exhaustion", 10 }, a, (struct rp_str){ "", 0 }, 0);
		}
	}
	const char *result = "no rule";
	if (rule) {
		rule->n[R_MATCHED]++;
		rule->n[failed ? R_FAILED : R_APPLIED]++;
		if (deny.n)
			rule->n[R_DENIED]++;
		if (L.dry_run)
			rule->n[R_DRY]++;
		result = failed ? "failed" : deny.n ? "denied" : rewrite.n ? "rewritten" : "allowed";
	}
	/* a lookup has no address: its name stands for it */
	struct rp_str addr = L.addr.n ? L.addr : L.host.n && rp_eq(L.name, "resolve") ? L.host : (struct rp_str){ "-", 1 };
	if (deny.n)
		destination(&R.denied, addr, (struct rp_str){ "", 0 }, deny);
	if (rewrite.n)
		destination(&R.rewritten, addr, rewrite, (struct rp_str){ "", 0 });
	char res[300];
	int rn = snprintf(res, sizeof(res), "%s%s%s%.*s", L.dry_run ? "would be " : "", result,
			  rewrite.n && !failed && !deny.n ? " to " : "", rewrite.n && !failed && !deny.n ? (int)rewrite.n : 0,
			  rewrite.p);
	if (rn >= (int)sizeof(res))
		rn = sizeof(res) - 1;
	if (L.host.n && !rn_decision(&L, res))
		R.oom = true;
	if (!prog)
		return;
	prog->n[P_DECISIONS]++;
	prog->n[P_DENIED] += deny.n > 0;
	prog->n[P_REWRITTEN] += rewrite.n > 0;
	prog->n[P_FAILED] += failed;
	char k[1200];
	struct rp_str part[4] = { { prog->key, prog->klen }, L.name, addr, { res, (size_t)rn } };
	struct rt_ent *t = get(&R.tries, k, join(k, sizeof(k), part, 4));
	if (t) {
		t->ref = prog;
		t->n[C_COUNT]++;
		if (L.rule.n)
			rt_note(t, L.rule.p, L.rule.n);
	}
}

static void damaged(const char *file, uint64_t lineno, enum rp_bad why)
{
	if (R.nbad < SHOW_BAD)
		snprintf(R.bad_where[R.nbad], sizeof(R.bad_where[0]), "%s:%llu: %s", file, (unsigned long long)lineno,
			 rp_bad_names[why]);
	R.nbad++;
	R.bad[why]++;
}

static void one_line(const char *file, uint64_t lineno, const char *p, size_t n)
{
	if (R.first_pass) { /* the start lines only */
		if (rp_parse(p, n, &L) == RP_EVENT && rp_eq(L.name, "start"))
			on_start();
		return;
	}
	R.lines++;
	if (rp_parse(p, n, &L) == RP_BAD)
		damaged(file, lineno, L.bad);
	else if (L.kind == RP_DECISION)
		on_decision();
	else
		on_event();
}

/* Read fd to its end, a line at a time; a line over RP_LINE_MAX is
 * counted and skipped without being held. */
static int read_log(const char *name, int fd)
{
	static char buf[BLOCK + 1];
	size_t have = 0;
	uint64_t lineno = 0;
	bool skipping = false;
	for (;;) {
		ssize_t got = read(fd, buf + have, BLOCK - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			fprintf(stderr, "sockshim: report: %s: %s\n", name, strerror(errno));
			return -1;
		}
		if (got == 0)
			break;
		have += (size_t)got;
		char *s = buf, *end = buf + have;
		for (char *nl; (nl = memchr(s, '\n', (size_t)(end - s))) != NULL; s = nl + 1) {
			lineno++;
			if (skipping) {
				skipping = false;
				continue;
			}
			one_line(name, lineno, s, (size_t)(nl - s));
		}
		have = (size_t)(end - s);
		if (have > RP_LINE_MAX) { /* no newline in sight: too long */
			if (!skipping) {
				R.lines++;
				damaged(name, lineno + 1, RP_BAD_LONG);
			}
			skipping = true;
			have = 0;
		} else {
			memmove(buf, s, have);
		}
	}
	if (have) { /* a last line without its newline: the writer was cut off */
		lineno++;
		if (!skipping)
			one_line(name, lineno, buf, have);
	}
	return 0;
}

/* ---- output ---- */

static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}


/* the parts of a joined key */
static int split(const struct rt_ent *e, const char **part, int max)
{
	int n = 0;
	const char *p = e->key, *end = e->key + e->klen;
	while (n < max) {
		part[n++] = p;
		p += strlen(p) + 1;
		if (p > end)
			break;
	}
	return n;
}

/* Chain the attempts t[0..nt) (sorted, most frequent first) to their
 * programs, in that order: each program's are then a walk of its own list. */
static void group_tries(struct rt_ent **p, size_t np, struct rt_ent **t, size_t nt)
{
	for (size_t i = 0; i < np; i++)
		p[i]->head = p[i]->tail = NULL;
	for (size_t j = 0; j < nt; j++) {
		struct rt_ent *g = t[j]->ref;
		t[j]->chain = NULL;
		if (!g)
			continue;
		if (g->tail)
			g->tail->chain = t[j];
		else
			g->head = t[j];
		g->tail = t[j];
	}
}

/* "3 programs, 412 decisions, 2 destinations denied: 10.1.2.3:5432 ×3, ..." */
static void verdict(FILE *o, struct rt_ent **den, size_t nden)
{
	uint64_t progs = 0;
	size_t np;
	struct rt_ent **p = rt_sorted(&R.programs, P_DECISIONS, &np);
	for (size_t i = 0; i < np; i++)
		progs += p[i]->n[P_DECISIONS] > 0;
	free(p);
	fprintf(o, "%llu %s, %llu %s, ", (unsigned long long)progs, plural(progs, "program", "programs"),
		(unsigned long long)R.decisions, plural(R.decisions, "decision", "decisions"));
	if (!nden)
		fputs("no destination denied", o);
	else
		fprintf(o, "%zu %s denied: ", nden, plural(nden, "destination", "destinations"));
	for (size_t i = 0; i < nden && i < SHOW_VERDICT; i++)
		fprintf(o, "%s%s \xc3\x97%llu", i ? ", " : "", den[i]->key, (unsigned long long)den[i]->n[C_COUNT]);
	if (nden > SHOW_VERDICT)
		fprintf(o, " and %zu more", nden - SHOW_VERDICT);
	if (R.nbad)
		fprintf(o, "; %llu damaged %s", (unsigned long long)R.nbad, plural(R.nbad, "line", "lines"));
}

static void more(FILE *o, size_t n)
{
	if (n > SHOW_ROWS)
		fprintf(o, "  ... %zu more (--json lists them all)\n", n - SHOW_ROWS);
}

static void text_out(FILE *o)
{
	size_t n, np, nt, nden, nrw, nev;
	fprintf(o, "%u %s, %llu lines, %llu damaged", R.files, plural(R.files, "log", "logs"),
		(unsigned long long)R.lines, (unsigned long long)R.nbad);
	for (int i = 1; i < RP_BAD_COUNT; i++)
		if (R.bad[i])
			fprintf(o, ", %s %llu", rp_bad_names[i], (unsigned long long)R.bad[i]);
	fputc('\n', o);
	for (uint64_t i = 0; i < R.nbad && i < SHOW_BAD; i++)
		fprintf(o, "  damaged: %s\n", R.bad_where[i]);

	struct rt_ent **r = rt_sorted(&R.rules, R_MATCHED, &n);
	fprintf(o, "\nrules\n  %-24s %9s %9s %9s %9s %9s\n", "RULE", "MATCHED", "APPLIED", "FAILED", "DENIED", "DRY-RUN");
	for (size_t i = 0; i < n; i++) {
		fprintf(o, "  %-24s %9llu %9llu %9llu %9llu %9llu", r[i]->key, (unsigned long long)r[i]->n[R_MATCHED],
			(unsigned long long)r[i]->n[R_APPLIED], (unsigned long long)r[i]->n[R_FAILED],
			(unsigned long long)r[i]->n[R_DENIED], (unsigned long long)r[i]->n[R_DRY]);
		if (r[i]->n[R_SUM_MATCHED])
			fprintf(o, "   (summary lines: matched=%llu applied=%llu failed=%llu)",
				(unsigned long long)r[i]->n[R_SUM_MATCHED], (unsigned long long)r[i]->n[R_SUM_APPLIED],
				(unsigned long long)r[i]->n[R_SUM_FAILED]);
		fputc('\n', o);
	}
	free(r);

	struct rt_ent **p = rt_sorted(&R.programs, P_DECISIONS, &np);
	struct rt_ent **t = rt_sorted(&R.tries, C_COUNT, &nt);
	group_tries(p, np, t, nt);
	fputs("\nprograms\n", o);
	for (size_t i = 0; i < np; i++) {
		if (!p[i]->n[P_DECISIONS])
			continue;
		fprintf(o, "  %s: %llu %s, %llu %s, %llu denied, %llu rewritten, %llu failed\n", p[i]->key,
			(unsigned long long)p[i]->n[P_PROCESSES], plural(p[i]->n[P_PROCESSES], "process", "processes"),
			(unsigned long long)p[i]->n[P_DECISIONS], plural(p[i]->n[P_DECISIONS], "decision", "decisions"),
			(unsigned long long)p[i]->n[P_DENIED], (unsigned long long)p[i]->n[P_REWRITTEN],
			(unsigned long long)p[i]->n[P_FAILED]);
		size_t shown = 0, more = 0;
		for (struct rt_ent *a = p[i]->head; a; a = a->chain) {
			const char *part[4] = { "", "", "", "" };
			if (split(a, part, 4) < 4)
				continue;
			if (shown++ >= SHOW_TRIES) {
				more++;
				continue;
			}
			fprintf(o, "    %-8s %-28s \xc3\x97%-6llu %s%s%s\n", part[1], part[2],
				(unsigned long long)a->n[C_COUNT], part[3], a->note ? " rule=" : "", a->note ? a->note : "");
		}
		if (more)
			fprintf(o, "    ... %zu more\n", more);
	}
	free(p);
	free(t);

	struct rt_ent **d = rt_sorted(&R.denied, C_COUNT, &nden);
	fputs("\ndestinations denied\n", o);
	for (size_t i = 0; i < nden && i < SHOW_ROWS; i++)
		fprintf(o, "  %-28s \xc3\x97%-6llu %-14s first %s last %s\n", d[i]->key,
			(unsigned long long)d[i]->n[C_COUNT], d[i]->note ? d[i]->note : "-", d[i]->first, d[i]->last);
	more(o, nden);
	struct rt_ent **w = rt_sorted(&R.rewritten, C_COUNT, &nrw);
	fputs("\ndestinations rewritten\n", o);
	for (size_t i = 0; i < nrw && i < SHOW_ROWS; i++) {
		const char *part[2] = { "", "" };
		split(w[i], part, 2);
		fprintf(o, "  %-28s -> %-24s \xc3\x97%-6llu first %s last %s\n", part[0], part[1],
			(unsigned long long)w[i]->n[C_COUNT], w[i]->first, w[i]->last);
	}
	more(o, nrw);
	free(w);
	rn_text(o);
	struct rt_ent **e = rt_sorted(&R.events, C_COUNT, &nev);
	fputs("\nevents: warnings, errors, exhaustion, reloads, ...\n", o);
	for (size_t i = 0; i < nev && i < SHOW_ROWS; i++) {
		const char *part[2] = { "", "" };
		split(e[i], part, 2);
		fprintf(o, "  %-10s %-28s \xc3\x97%-6llu", part[0], part[1], (unsigned long long)e[i]->n[C_COUNT]);
		if (e[i]->n[C_SUM])
			fprintf(o, " (total %llu)", (unsigned long long)e[i]->n[C_SUM]);
		fprintf(o, " first %s last %s%s%s\n", e[i]->first, e[i]->last, e[i]->note ? ": " : "",
			e[i]->note ? e[i]->note : "");
	}
	more(o, nev);
	free(e);
	fputc('\n', o);
	verdict(o, d, nden);
	fputc('\n', o);
	free(d);
}

static void json_when(FILE *o, const struct rt_ent *e)
{
	fputs(",\"first\":", o);
	rt_json_cstr(o, e->first);
	fputs(",\"last\":", o);
	rt_json_cstr(o, e->last);
}

static void json_out(FILE *o)
{
	size_t n, np, nt, nden, nrw, nev;
	fprintf(o, "{\"logs\":%u,\"lines\":%llu,\"damaged\":%llu,\"damaged_by_kind\":{", R.files,
		(unsigned long long)R.lines, (unsigned long long)R.nbad);
	for (int i = 1; i < RP_BAD_COUNT; i++)
		fprintf(o, "%s\"%s\":%llu", i > 1 ? "," : "", rp_bad_names[i], (unsigned long long)R.bad[i]);
	fprintf(o, "},\"decisions\":%llu,\"rules\":[", (unsigned long long)R.decisions);
	struct rt_ent **r = rt_sorted(&R.rules, R_MATCHED, &n);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",{\"rule\":" : "{\"rule\":", o);
		rt_json_str(o, r[i]->key, r[i]->klen);
		fprintf(o, ",\"matched\":%llu,\"applied\":%llu,\"failed\":%llu,\"denied\":%llu,\"dry_run\":%llu,"
			   "\"summary\":{\"matched\":%llu,\"applied\":%llu,\"failed\":%llu}}",
			(unsigned long long)r[i]->n[R_MATCHED], (unsigned long long)r[i]->n[R_APPLIED],
			(unsigned long long)r[i]->n[R_FAILED], (unsigned long long)r[i]->n[R_DENIED],
			(unsigned long long)r[i]->n[R_DRY], (unsigned long long)r[i]->n[R_SUM_MATCHED],
			(unsigned long long)r[i]->n[R_SUM_APPLIED], (unsigned long long)r[i]->n[R_SUM_FAILED]);
	}
	free(r);
	fputs("],\"programs\":[", o);
	struct rt_ent **p = rt_sorted(&R.programs, P_DECISIONS, &np);
	struct rt_ent **t = rt_sorted(&R.tries, C_COUNT, &nt);
	bool first = true;
	group_tries(p, np, t, nt);
	for (size_t i = 0; i < np; i++) {
		if (!p[i]->n[P_DECISIONS])
			continue;
		fputs(first ? "{\"program\":" : ",{\"program\":", o);
		first = false;
		rt_json_str(o, p[i]->key, p[i]->klen);
		fprintf(o, ",\"processes\":%llu,\"decisions\":%llu,\"denied\":%llu,\"rewritten\":%llu,\"failed\":%llu,\"tried\":[",
			(unsigned long long)p[i]->n[P_PROCESSES], (unsigned long long)p[i]->n[P_DECISIONS],
			(unsigned long long)p[i]->n[P_DENIED], (unsigned long long)p[i]->n[P_REWRITTEN],
			(unsigned long long)p[i]->n[P_FAILED]);
		bool f2 = true;
		for (struct rt_ent *a = p[i]->head; a; a = a->chain) {
			const char *part[4] = { "", "", "", "" };
			if (split(a, part, 4) < 4)
				continue;
			rt_json_dest(o, part, a->note, a->n[C_COUNT], f2);
			f2 = false;
		}
		fputs("]}", o);
	}
	free(p);
	free(t);
	fputs("],\"denied\":[", o);
	struct rt_ent **d = rt_sorted(&R.denied, C_COUNT, &nden);
	for (size_t i = 0; i < nden; i++) {
		fputs(i ? ",{\"addr\":" : "{\"addr\":", o);
		rt_json_str(o, d[i]->key, d[i]->klen);
		fprintf(o, ",\"count\":%llu,\"errno\":", (unsigned long long)d[i]->n[C_COUNT]);
		rt_json_cstr(o, d[i]->note);
		json_when(o, d[i]);
		fputc('}', o);
	}
	fputs("],\"rewritten\":[", o);
	struct rt_ent **w = rt_sorted(&R.rewritten, C_COUNT, &nrw);
	for (size_t i = 0; i < nrw; i++) {
		const char *part[2] = { "", "" };
		split(w[i], part, 2);
		fputs(i ? ",{\"addr\":" : "{\"addr\":", o);
		rt_json_cstr(o, part[0]);
		fputs(",\"to\":", o);
		rt_json_cstr(o, part[1]);
		fprintf(o, ",\"count\":%llu", (unsigned long long)w[i]->n[C_COUNT]);
		json_when(o, w[i]);
		fputc('}', o);
	}
	free(w);
	fputs("],\"names\":", o);
	rn_json(o);
	fputs(",\"events\":[", o);
	struct rt_ent **e = rt_sorted(&R.events, C_COUNT, &nev);
	for (size_t i = 0; i < nev; i++) {
		const char *part[2] = { "", "" };
		split(e[i], part, 2);
		fputs(i ? ",{\"level\":" : "{\"level\":", o);
		rt_json_cstr(o, part[0]);
		fputs(",\"event\":", o);
		rt_json_cstr(o, part[1]);
		fprintf(o, ",\"count\":%llu,\"total\":%llu,\"msg\":", (unsigned long long)e[i]->n[C_COUNT],
			(unsigned long long)e[i]->n[C_SUM]);
		rt_json_cstr(o, e[i]->note);
		json_when(o, e[i]);
		fputc('}', o);
	}
	free(e);
	uint64_t progs = 0;
	p = rt_sorted(&R.programs, P_DECISIONS, &np);
	for (size_t i = 0; i < np; i++)
		progs += p[i]->n[P_DECISIONS] > 0;
	free(p);
	fprintf(o, "],\"programs_count\":%llu,\"processes\":%zu,\"verdict\":\"", (unsigned long long)progs, R.pids.n);
	verdict(o, d, nden); /* addresses, digits and words: nothing to escape */
	fputs("\"}\n", o);
	free(d);
}

int report_main(int argc, char **argv)
{
	bool json = false;
	int first = 0;
	for (; first < argc; first++) {
		if (strcmp(argv[first], "--json") == 0)
			json = true;
		else if (strcmp(argv[first], "--") == 0) {
			first++;
			break;
		} else if (argv[first][0] == '-' && argv[first][1])
			break;
		else
			break;
	}
	if (first >= argc || (argv[first][0] == '-' && argv[first][1])) {
		fputs("usage: sockshim report [--json] LOG... (- for stdin)\n", stderr);
		return 64;
	}
	int status = 0;
	R.seccomp = calloc((size_t)argc, sizeof(*R.seccomp));
	R.first_pass = true;
	for (int i = first; i < argc; i++) {
		R.file = (unsigned)i;
		int fd = strcmp(argv[i], "-") == 0 ? -1 : open(argv[i], O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			read_log(argv[i], fd);
			close(fd);
		}
	}
	R.first_pass = false;
	for (int i = first; i < argc; i++) {
		R.file = (unsigned)i;
		const char *name = argv[i];
		int fd = strcmp(name, "-") == 0 ? 0 : open(name, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "sockshim: report: %s: %s\n", name, strerror(errno));
			status = 66;
			continue;
		}
		if (read_log(strcmp(name, "-") == 0 ? "stdin" : name, fd) < 0)
			status = 66;
		else
			R.files++;
		if (fd)
			close(fd);
	}
	if (R.oom) {
		fputs("sockshim: report: out of memory\n", stderr);
		return 71;
	}
	add_sums();
	if (json)
		json_out(stdout);
	else
		text_out(stdout);
	if (fflush(stdout) != 0)
		status = 74;
	struct rt_tab *tabs[] = { &R.rules, &R.pids, &R.programs, &R.tries, &R.denied, &R.rewritten, &R.events, &R.sums };
	for (size_t i = 0; i < sizeof(tabs) / sizeof(tabs[0]); i++)
		rt_free(tabs[i]);
	rn_free();
	free(R.seccomp);
	return status;
}

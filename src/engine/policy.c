/*
 * policy: parse and validate a policy file (see policy.h and POLICY.md).
 *
 * This file is the entry points: parsing a text (through the line reader
 * of policy_read.c, the key handler of policy_keys.c and the rule checks of
 * policy_rule.c), loading a file, and binding `program` globs. Errors found
 * anywhere are queued here and handed out sorted by line.
 */
#include "policy.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fmt.h"
#include "oplist.h"
#include "policy_parse.h"

#define MAX_POLICY_BYTES (256u << 20)

struct pending_report {
	unsigned line, seq;
	char msg[496];
};

/* Queue an error built from the NULL-terminated list of strings. Rules are
 * checked as a whole when their section ends, so errors are collected and
 * handed out sorted by line (then in the order found) at the end. */
void pp_report(struct parser *ps, unsigned line, ...)
{
	ps->p->nerrors++;
	struct pending_report *r = vec_push(&ps->pending);
	if (!r) {
		ps->oom = true;
		return;
	}
	struct fmt f;
	va_list ap;
	fmt_init(&f, r->msg, sizeof(r->msg));
	va_start(ap, line);
	for (const char *s; (s = va_arg(ap, const char *)) != NULL;)
		fmt_str(&f, s);
	va_end(ap);
	r->line = line;
	r->seq = (unsigned)ps->pending.len;
}

static int cmp_report(const void *a, const void *b)
{
	const struct pending_report *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void deliver_reports(struct parser *ps)
{
	struct pending_report *r = ps->pending.data;
	sort_elems(r, ps->pending.len, sizeof(*r), cmp_report);
	for (size_t i = 0; i < ps->pending.len && ps->report; i++)
		ps->report(ps->ctx, SS_SEV_ERROR, ps->file, r[i].line, r[i].msg);
	vec_free(&ps->pending);
}

const char *pp_num(char buf[static 16], unsigned v)
{
	struct fmt f;
	fmt_init(&f, buf, 16);
	fmt_u64(&f, v);
	return buf;
}

struct ss_policy *ss_policy_parse(const char *file, const char *text, size_t len, ss_report_fn report_fn, void *ctx)
{
	struct arena *ar = arena_new();
	if (!ar)
		return NULL;
	struct ss_policy *p = arena_alloc(ar, sizeof(*p));
	struct parser ps = { 0 };
	if (!p || !(p->path = arena_strdup(ar, file))) {
		arena_free(ar);
		return NULL;
	}
	p->arena = ar;
	p->global.log = SS_LOG_STDERR;
	p->global.log_level = SS_LEVEL_INFO;
	ps.file = file;
	ps.report = report_fn;
	ps.ctx = ctx;
	ps.p = p;
	ps.cur = text;
	ps.end = text + len;
	vec_init(&ps.rules, sizeof(struct ss_rule));
	vec_init(&ps.pending, sizeof(struct pending_report));

	ss_nameset_init(&ps.names);

	ini_parse_stream(pp_reader, &ps, pp_handler, &ps);
	pp_end_section(&ps);
	ss_nameset_free(&ps.names);

	const struct ss_rule *rb = ps.rules.data;
	p->nrules = (unsigned)ps.rules.len;
	p->rules = p->nrules ? arena_alloc(ar, p->nrules * sizeof(struct ss_rule)) : NULL;
	if (p->nrules && !p->rules)
		ps.oom = true;
	for (unsigned i = 0; i < p->nrules; i++) {
		if (p->rules) {
			p->rules[i] = rb[i];
			p->op_mask |= rb[i].ops;
			if (rb[i].nhosts)
				p->host_ops |= rb[i].ops;
		}
	}
	vec_free(&ps.rules);
	deliver_reports(&ps);
	if (!ps.oom && p->nerrors == 0 && !ss_policy_index(p))
		ps.oom = true;
	if (ps.oom) {
		arena_free(ar);
		return NULL;
	}
	return p;
}

static void file_error(const char *path, ss_report_fn report_fn, void *ctx, const char *what, int err)
{
	char msg[256];
	struct fmt f;
	fmt_init(&f, msg, sizeof(msg));
	fmt_str(&f, what);
	if (err) {
		fmt_str(&f, ": ");
		fmt_str(&f, ss_errno_name(err));
		const char *d = strerrordesc_np(err);
		if (d) {
			fmt_str(&f, " (");
			fmt_str(&f, d);
			fmt_char(&f, ')');
		}
	}
	if (report_fn)
		report_fn(ctx, SS_SEV_ERROR, path, 0, msg);
}

struct ss_policy *ss_policy_load(const char *path, ss_report_fn report_fn, void *ctx)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		file_error(path, report_fn, ctx, errno == ELOOP ? "cannot open policy (it is a symbolic link)" : "cannot open policy", errno == ELOOP ? 0 : errno);
		return NULL;
	}
	struct stat st;
	const char *bad = NULL;
	if (fstat(fd, &st) < 0)
		bad = "cannot stat policy";
	else if (!S_ISREG(st.st_mode))
		bad = "policy is not a regular file";
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		bad = "policy is writable by group or others; refusing it (chmod go-w)";
	else if (st.st_uid != 0 && st.st_uid != geteuid())
		bad = "policy is owned by another user; refusing it";
	else if ((size_t)st.st_size > MAX_POLICY_BYTES)
		bad = "policy is larger than 256 MiB";
	if (bad) {
		file_error(path, report_fn, ctx, bad, 0);
		close(fd);
		return NULL;
	}
	size_t size = (size_t)st.st_size;
	char *text = NULL;
	if (size) {
		text = scratch_get(size);
		if (!text) {
			close(fd);
			return NULL;
		}
		size_t got = 0;
		while (got < size) {
			ssize_t n = read(fd, text + got, size - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				file_error(path, report_fn, ctx, "cannot read policy", n < 0 ? errno : EIO);
				scratch_put(text, size);
				close(fd);
				return NULL;
			}
			got += (size_t)n;
		}
	}
	close(fd);
	struct ss_policy *p = ss_policy_parse(path, text ? text : "", size, report_fn, ctx);
	scratch_put(text, size);
	if (p) {
		p->file_dev = (uint64_t)st.st_dev;
		p->file_ino = (uint64_t)st.st_ino;
	}
	return p;
}

void ss_policy_free(struct ss_policy *p)
{
	if (p)
		arena_free(p->arena);
}

void ss_policy_bind_program(struct ss_policy *p, const char *argv0, const char *exe)
{
	for (unsigned i = 0; i < p->nrules; i++) {
		struct ss_rule *r = &p->rules[i];
		r->program_ok = r->nprograms == 0;
		for (unsigned k = 0; k < r->nprograms && !r->program_ok; k++)
			r->program_ok = (argv0 && ss_glob_match(r->programs[k], argv0)) || (exe && ss_glob_match(r->programs[k], exe));
	}
}

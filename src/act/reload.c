/*
 * reload: the live policy and loading a changed policy file while the
 * program runs (see reload.h).
 */
#include "reload.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fmt.h"
#include "log.h"
#include "optlog.h"
#include "periodic.h"
#include "rotate.h"
#include "window.h"

static const struct ss_live none;
_Atomic(const struct ss_live *) ss_live_now = &none;
_Atomic int64_t ss_reload_next;

/* Every policy published in this process, never freed (see reload.h). Slots
 * below nlives are written once, before nlives counts them. */
static struct ss_live lives[SS_RELOAD_MAX];
static _Atomic unsigned nlives;

/* The file as a look saw it. */
struct ident {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	bool valid;
};

static struct {
	const char *path, *program, *exe, *via;
	/* copies: the policy path comes from the environment and the program
	 * name from argv, both of which a program may overwrite with its
	 * process title (nginx, redis) long before a reload looks at them */
	char path_buf[4096], program_buf[256], exe_buf[256];
	bool bind_program;
	struct ident loaded;  /* what the live policy (or the last broken try) came from */
	struct ident seen;    /* what the previous look saw */
	_Atomic int busy;     /* the try-lock of a look */
} R;

static bool same(const struct ident *a, const struct ident *b)
{
	return a->valid && b->valid && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static struct ident look_at(const char *path)
{
	struct ident id = { 0 };
	struct stat st;
	if (stat(path, &st) == 0) {
		id.dev = st.st_dev;
		id.ino = st.st_ino;
		id.size = st.st_size;
		id.mtime = st.st_mtim;
		id.valid = true;
	}
	return id;
}

static const char *num(char *buf, size_t size, uint64_t v)
{
	struct fmt f;
	fmt_init(&f, buf, size);
	fmt_u64(&f, v);
	return buf;
}

static unsigned rules_of(const struct ss_live *l)
{
	return l->policy ? l->policy->nrules : 0;
}

/* Fill in what a front end reads besides the policy, and publish. */
static void publish(struct ss_policy *p, unsigned base)
{
	unsigned n = atomic_load_explicit(&nlives, memory_order_relaxed);
	struct ss_live *l = &lives[n];
	l->policy = p;
	l->debug = ss_log_enabled(SS_LEVEL_DEBUG);
	l->dry = p && p->global.dry_run;
	l->screen = p && p->index && !p->index->nalways && !p->index->hosts && !l->debug ? p->index : NULL;
	l->programs = l->window = false;
	for (unsigned i = 0; p && i < p->nrules; i++) {
		l->programs |= p->rules[i].nprograms > 0;
		l->window |= p->rules[i].has_source_port;
	}
	/* a rule that rotates source ports may retry on a fresh socket, which
	 * gets the application's options again: keep them from now on */
	if (l->window)
		optlog_enable();
	l->idle = !(p && p->nrules) && !l->debug;
	l->rule_base = base;
	atomic_store_explicit(&nlives, n + 1, memory_order_release);
	atomic_store_explicit(&ss_live_now, l, memory_order_release);
}

/* s copied into buf, or s itself when it does not fit (NULL stays NULL) */
static const char *keep(char *buf, size_t cap, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s);
	if (n >= cap)
		return s;
	memcpy(buf, s, n + 1);
	return buf;
}

void ss_reload_start(const struct ss_setup *s, const char *program, const char *exe, bool bind_program, const char *via)
{
	R.path = keep(R.path_buf, sizeof(R.path_buf), s->path);
	R.program = keep(R.program_buf, sizeof(R.program_buf), program);
	R.exe = keep(R.exe_buf, sizeof(R.exe_buf), exe);
	R.via = via;
	R.bind_program = bind_program;
	R.loaded = look_at(s->path);
	R.seen = R.loaded;
	publish(s->usable ? s->policy : NULL, 0);
	if (s->found && !s->policy->global.reload_off) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
		atomic_store_explicit(&ss_reload_next, ts.tv_sec + 1, memory_order_release);
	}
}

/* An error or warning of the new file: logged as it is found. */
static void report(void *ctx, enum ss_severity sev, const char *file, unsigned line, const char *msg)
{
	(void)ctx;
	char text[640];
	struct fmt f;
	fmt_init(&f, text, sizeof(text));
	fmt_str(&f, file);
	if (line) {
		fmt_char(&f, ':');
		fmt_u64(&f, line);
	}
	fmt_str(&f, ": ");
	fmt_str(&f, msg);
	ss_log_event(sev == SS_SEV_ERROR ? SS_LEVEL_ERROR : SS_LEVEL_WARN, "policy-error", "msg", text, "reload", "kept",
		     R.via ? "via" : NULL, R.via, NULL);
}

static void refuse(const char *why, unsigned kept)
{
	char k[16];
	ss_log_event(SS_LEVEL_ERROR, "reload-failed", "policy", R.path, "msg", why, "rules", num(k, sizeof(k), kept),
		     R.via ? "via" : NULL, R.via, NULL);
}

/* Load the file seen as id; publish it if it is valid. */
static void load(const struct ident *id)
{
	const struct ss_live *old = ss_live();
	unsigned n = atomic_load_explicit(&nlives, memory_order_relaxed);
	R.loaded = *id; /* tried: a broken file is not tried again until it changes */
	if (n >= SS_RELOAD_MAX) {
		refuse("too many reloads for one process: restart the program to load this policy", rules_of(old));
		return;
	}
	struct ss_policy *p = ss_policy_load(R.path, report, NULL);
	if (!p || p->nerrors) {
		if (p)
			ss_policy_free(p);
		refuse("the policy has errors: the old one stays", rules_of(old));
		return;
	}
	/* written to while we read it: not this one, wait for it to settle */
	struct ident after = look_at(R.path);
	if (!same(&after, id)) {
		ss_policy_free(p);
		R.loaded.valid = false;
		return;
	}
	const char *mode = secure_getenv("SOCKSHIM_MODE"); /* the environment still overrides */
	if (mode && *mode)
		ss_global_apply(&p->global, p->arena, "mode", mode);
	if (R.bind_program)
		ss_policy_bind_program(p, R.program, R.exe);
	uint64_t seed = ss_setup_seed();
	ss_rotate_seed(p, seed);
	ss_window_probe(p);
	char where[64];
	const char *why = ss_rotate_share(p, seed, where, sizeof(where));
	if (why)
		ss_log_event(SS_LEVEL_WARN, "rotate-scope", "msg", why, "segment", where, "fallback", "rotate_scope = process", NULL);
	unsigned base = old->rule_base + rules_of(old);
	publish(p, base);
	ss_periodic_arm(p, R.via); /* periodic summaries count the new rules */
	char o[16], nw[16];
	ss_log_event(SS_LEVEL_INFO, "reload", "policy", R.path, "old_rules", num(o, sizeof(o), rules_of(old)), "new_rules",
		     num(nw, sizeof(nw), p->nrules), "mode", p->global.dry_run ? "dry-run" : "enforce",
		     R.via ? "via" : NULL, R.via, NULL);
	if (p->global.reload_off)
		atomic_store_explicit(&ss_reload_next, 0, memory_order_relaxed);
}

void ss_reload_look(int64_t now)
{
	int64_t next = atomic_load_explicit(&ss_reload_next, memory_order_acquire); /* R as start left it */
	if (!next || now < next || atomic_exchange_explicit(&R.busy, 1, memory_order_acquire))
		return;
	/* the look is ours; another thread that read the same second finds busy */
	atomic_store_explicit(&ss_reload_next, now + 1, memory_order_relaxed);
	int saved = errno;
	struct ident id = look_at(R.path);
	if (id.valid && !same(&id, &R.loaded)) {
		struct timespec wall;
		clock_gettime(CLOCK_REALTIME, &wall);
		/* unchanged since the previous look, and for a while: not being written */
		if (same(&id, &R.seen) && wall.tv_sec - id.mtime.tv_sec >= SS_RELOAD_SETTLE)
			load(&id);
	}
	R.seen = id;
	errno = saved;
	atomic_store_explicit(&R.busy, 0, memory_order_release);
}

const struct ss_rule *ss_reload_rule(uint32_t id)
{
	unsigned n = atomic_load_explicit(&nlives, memory_order_acquire);
	for (unsigned i = 0; id && i < n; i++) {
		const struct ss_live *l = &lives[i];
		if (l->policy && id > l->rule_base && id <= l->rule_base + l->policy->nrules)
			return &l->policy->rules[id - l->rule_base - 1];
	}
	return NULL;
}

uint32_t ss_reload_rule_id(const struct ss_rule *r)
{
	unsigned n = atomic_load_explicit(&nlives, memory_order_acquire);
	for (unsigned i = 0; r && i < n; i++) {
		const struct ss_live *l = &lives[i];
		if (l->policy && r >= l->policy->rules && r < l->policy->rules + l->policy->nrules)
			return l->rule_base + (uint32_t)(r - l->policy->rules) + 1;
	}
	return 0;
}

void ss_reload_after_fork(void)
{
	atomic_store(&R.busy, 0); /* a look another thread had begun does not exist here */
	unsigned n = atomic_load(&nlives);
	for (unsigned i = 0; i < n; i++) {
		struct ss_policy *p = lives[i].policy;
		if (!p)
			continue;
		ss_rotate_seed(p, ss_setup_seed());
		for (unsigned k = 0; k < p->nrules; k++) {
			struct ss_rule_state *st = p->rules[k].state;
			atomic_store(&st->matched, 0);
			atomic_store(&st->applied, 0);
			atomic_store(&st->failed, 0);
		}
	}
}

void ss_reload_summary(const char *via)
{
	unsigned n = atomic_load(&nlives);
	for (unsigned i = 0; i < n; i++)
		if (lives[i].policy)
			ss_setup_summary(lives[i].policy, via);
	if (!n)
		ss_setup_summary(NULL, via);
}

/*
 * setup: the policy as a front end starts with it (see setup.h).
 */
#include "setup.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "log.h"
#include "logstart.h"
#include "periodic.h"
#include "rotate.h"
#include "warnrate.h"
#include "window.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/usr/local/etc"
#endif
#define DEFAULT_POLICY SYSCONFDIR "/sockshim/sockshim.ini"

/* Problems found while loading, kept until we know where they go (the log
 * is set up from the policy itself). No malloc: a load may run from another
 * library's constructor or a signal handler. */
static struct {
	char text[8192];
	size_t len;
	unsigned n;
} problems;

static void add_problem(void *ctx, enum ss_severity sev, const char *file, unsigned line, const char *msg)
{
	(void)ctx;
	(void)sev;
	struct fmt f;
	fmt_init(&f, problems.text + problems.len, sizeof(problems.text) - problems.len);
	fmt_str(&f, file);
	if (line) {
		fmt_char(&f, ':');
		fmt_u64(&f, line);
	}
	fmt_str(&f, ": ");
	fmt_str(&f, msg);
	if (!f.truncated) {
		problems.len += f.len + 1; /* keep the NUL as separator */
		problems.n++;
	}
}

void ss_setup_reset(void)
{
	problems.n = 0;
	problems.len = 0;
}

static const char *env(const char *name)
{
	const char *v = secure_getenv(name); /* NULL under AT_SECURE */
	return v && *v ? v : NULL;
}

/* SOCKSHIM_LOG and friends override [global]; bad values are config errors. */
static void apply_env(struct ss_policy *p)
{
	static const struct {
		const char *var, *key;
	} vars[] = {
		{ "SOCKSHIM_LOG", "log" },
		{ "SOCKSHIM_LOG_LEVEL", "log_level" },
		{ "SOCKSHIM_LOG_FORMAT", "log_format" },
		{ "SOCKSHIM_MODE", "mode" },
	};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = env(vars[i].var);
		if (!v)
			continue;
		const char *expected = ss_global_apply(&p->global, p->arena, vars[i].key, v);
		if (expected) {
			char msg[256];
			struct fmt f;
			fmt_init(&f, msg, sizeof(msg));
			fmt_str(&f, "bad value '");
			fmt_str(&f, v);
			fmt_str(&f, "': expected ");
			fmt_str(&f, expected);
			add_problem(NULL, SS_SEV_ERROR, vars[i].var, 0, msg);
		}
	}
}

static void write_stderr(const char *s)
{
	ss_log_stderr(s, strlen(s));
}

int ss_setup_load(struct ss_setup *s)
{
	memset(s, 0, sizeof(*s));
	s->path = env("SOCKSHIM_POLICY");
	s->found = true;
	struct ss_policy *p = NULL;
	if (!s->path) {
		s->path = DEFAULT_POLICY;
		s->found = access(s->path, F_OK) == 0;
	}
	if (s->found)
		p = ss_policy_load(s->path, add_problem, NULL);
	s->usable = p && p->nerrors == 0;
	if (!p) /* no file, an unusable one, or no memory: defaults for [global] */
		p = ss_policy_parse(s->found ? s->path : "(none)", "", 0, NULL, NULL);
	if (!p)
		return -1;
	s->policy = p;
	apply_env(p);

	struct ss_log_config lc = { p->global.log, p->global.log_path, p->global.log_level, p->global.log_format };
	ss_log_setup(&lc);

	if (problems.n) {
		if (!p->global.on_error_passthrough) {
			for (size_t off = 0; off < problems.len; off += strlen(problems.text + off) + 1) {
				write_stderr("sockshim: ");
				write_stderr(problems.text + off);
				write_stderr("\n");
			}
			if (ss_log_for_fatal()) {
				for (size_t off = 0; off < problems.len; off += strlen(problems.text + off) + 1)
					ss_log_event(SS_LEVEL_ERROR, "policy-error", "msg", problems.text + off, "exit", "78", NULL);
			}
			return SS_EX_CONFIG;
		}
		s->usable = false; /* ss_setup_started says so, after the start line */
	}
	return 0;
}

uint64_t ss_setup_seed(void)
{
	uint64_t s = 0;
	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != sizeof(s)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)getpid() << 16;
	}
	return s;
}

void ss_setup_rotation(struct ss_setup *s)
{
	s->seed = ss_setup_seed();
	ss_rotate_seed(s->policy, s->seed);
	if (!s->usable)
		return;
	ss_window_probe(s->policy);
	char where[64];
	const char *why = ss_rotate_share(s->policy, s->seed, where, sizeof(where));
	if (why)
		ss_log_event(SS_LEVEL_WARN, "rotate-scope", "msg", why, "segment", where, "fallback", "rotate_scope = process", NULL);
}

void ss_setup_started(const struct ss_setup *s, const char *program, const char *exe, const char *via)
{
	ss_logstart_defer(program, exe, s->found ? s->path : NULL, s->usable ? s->policy->nrules : 0,
			  s->policy->global.dry_run ? "dry-run" : "enforce", via);
	ss_periodic_arm(s->usable ? s->policy : NULL, via);
	/* what the load found: after the start line, which these lines write first */
	if (problems.n) {
		for (size_t off = 0; off < problems.len; off += strlen(problems.text + off) + 1)
			ss_log_event(SS_LEVEL_ERROR, "policy-error", "msg", problems.text + off, NULL);
		ss_log_event(SS_LEVEL_ERROR, "passthrough", "msg", "on_error = passthrough: every call passes through untouched", NULL);
	} else if (!s->found) {
		ss_log_event(SS_LEVEL_WARN, "no-policy", "msg", "no policy (set SOCKSHIM_POLICY or install " DEFAULT_POLICY "): every call passes through untouched", NULL);
	}
}

void ss_setup_summary(const struct ss_policy *p, const char *via)
{
	ss_summary_lines(p, via, 0);
	ss_warn_flush(); /* the warnings still held back */
	ss_log_report_dropped(); /* after the summary lines, which may be lost too */
}

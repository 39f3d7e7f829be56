/*
 * setup: the policy as a front end starts with it.
 *
 * The preload (ready.c) and the seccomp supervisor (supervise.c) find, read
 * and report on the policy the same way: SOCKSHIM_POLICY or the default
 * file, the SOCKSHIM_* overrides, the log set up from both, every problem as
 * FILE:LINE: message on stderr (and in the log when it is a file or syslog),
 * exit 78 or pass-through as on_error says, then the start line, and at exit
 * a summary line per rule. One file, so both say the same things.
 */
#ifndef SOCKSHIM_SETUP_H
#define SOCKSHIM_SETUP_H

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

#define SS_EX_CONFIG 78

struct ss_setup {
	struct ss_policy *policy; /* never NULL after a load that returned 0 (defaults without a usable file) */
	bool usable;              /* its rules apply; false: every call passes through */
	bool found;               /* a policy file exists */
	const char *path;         /* the file looked for */
	uint64_t seed;            /* rotation's, fresh per process */
};

/*
 * Load the policy and set up the log. 0: loaded (s->usable says whether the
 * rules apply). SS_EX_CONFIG: the policy is broken and on_error = fail; the
 * errors have been reported and the front end must stop with that status.
 * -1: out of memory (pass everything through, silently).
 */
int ss_setup_load(struct ss_setup *s);

/* Forget the problems of a load that never finished (a child forked in
 * the middle of one loads again). */
void ss_setup_reset(void);

/* Seed rotation and, for a usable policy, share the cursors host-wide
 * where rotate_scope asks it (a warning when they cannot be). */
void ss_setup_rotation(struct ss_setup *s);

/* A fresh rotation seed (a forked child takes a new one). */
uint64_t ss_setup_seed(void);

/* The "start" line's values (written before the process's first other
 * line, logstart.h), then what the load found (a policy in pass-through,
 * no policy). Call before ss_setup_rotation. exe and via may be NULL. */
void ss_setup_started(const struct ss_setup *s, const char *program, const char *exe, const char *via);

/* At exit: one "summary" line per rule that matched a call (info). */
void ss_setup_summary(const struct ss_policy *p, const char *via);

#endif

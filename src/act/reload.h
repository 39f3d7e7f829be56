/*
 * reload: the live policy, and a changed policy file loaded aside while the
 * program runs (reload = on, the default).
 *
 * Everything a front end reads about the policy goes through one atomic
 * pointer to a struct ss_live: the policy itself (its rules, their rotation
 * cursors, host-wide segments and counters, the rule index), the index the
 * hot path screens with, and the mode. A reload builds a new ss_live
 * completely and publishes it with one release store; a call that read the
 * old one finishes with it.
 *
 * A published policy is never freed: another thread (or a signal handler)
 * may still be in a call that one decided, and its counters go into the exit
 * summary. A process keeps at most SS_RELOAD_MAX policies (the first and
 * SS_RELOAD_MAX - 1 reloads); a change after that is refused with an error
 * line until the program restarts.
 *
 * The file is looked at from socket() and from every call a rule matched (the
 * supervisor: every notification), at most once a second, by one thread at
 * a time (a try-lock: the others carry on with the policy they have). A new
 * file is loaded only once it holds still: the same device, inode, size and
 * modification time at two looks, and not modified for SS_RELOAD_SETTLE
 * seconds, so a file an editor is still writing in place is never
 * half-loaded. A broken file leaves the policy as it is and logs its
 * FILE:LINE errors at error.
 */
#ifndef SOCKSHIM_RELOAD_H
#define SOCKSHIM_RELOAD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "index.h"
#include "policy.h"
#include "setup.h"

#ifndef SS_RELOAD_MAX
#define SS_RELOAD_MAX 32
#endif
#ifndef SS_RELOAD_SETTLE
#define SS_RELOAD_SETTLE 2 /* seconds a file must have gone unmodified */
#endif

struct ss_live {
	struct ss_policy *policy;      /* NULL: every call passes through */
	const struct ss_index *screen; /* what the hot path screens with, or NULL */
	bool dry;                      /* mode = dry-run */
	bool debug;                    /* the debug log was asked for (fixed at start) */
	bool idle;                     /* no rule to apply and no debug log: hooks only call libc */
	bool programs;                 /* some rule has `program` */
	bool window;                   /* some rule has `source_port` */
	unsigned rule_base;            /* this policy's rules have ids rule_base + 1 ... */
};

extern _Atomic(const struct ss_live *) ss_live_now;
/* Non-zero while a changed file should be looked for: the second of the
 * next look (CLOCK_MONOTONIC_COARSE); 0: reload is off. */
extern _Atomic int64_t ss_reload_next;

/* The live policy; never NULL. */
static inline const struct ss_live *ss_live(void)
{
	return atomic_load_explicit(&ss_live_now, memory_order_acquire);
}

/*
 * Publish the policy a front end started with (s from ss_setup_load, after
 * ss_setup_rotation) and arm the reload unless it says reload = off or
 * there is no file. program and exe are what `program` globs are matched
 * against in a reloaded policy (as ss_policy_bind_program; they must
 * outlive the process's calls); bind_program false: the front end matches
 * programs itself (the supervisor). via names the front end in the log
 * (NULL: the preload).
 */
void ss_reload_start(const struct ss_setup *s, const char *program, const char *exe, bool bind_program, const char *via);

void ss_reload_look(int64_t now);

/* Look for a changed policy file, at most once a second: a clock read when
 * the reload is armed and nothing else. */
static inline void ss_reload_tick(void)
{
	int64_t next = atomic_load_explicit(&ss_reload_next, memory_order_relaxed);
	if (!next)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	if (ts.tv_sec >= next)
		ss_reload_look(ts.tv_sec);
}

/* The rule with id (ss_reload_rule_id), in whichever policy holds it, or
 * NULL. Ids stay valid across reloads (a listen decided at bind). */
const struct ss_rule *ss_reload_rule(uint32_t id);
uint32_t ss_reload_rule_id(const struct ss_rule *r);

/* In a forked child: a fresh rotation seed for every kept policy, zeroed
 * counters (the child's summary counts its own calls), no look in
 * progress. */
void ss_reload_after_fork(void);

/* At exit: the summary lines of every kept policy, oldest first. */
void ss_reload_summary(const char *via);

#endif

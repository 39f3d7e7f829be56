/*
 * periodic: the per-rule summary lines, at exit and every summary_interval.
 *
 * No thread and no timer signal in the program: the counts change only when
 * a call is decided, so the call that counts a decision (ss_act_tally) asks
 * whether the interval is up, and the one that finds it up writes the lines.
 * One compare-and-swap on the deadline lets exactly one thread write each
 * period. A process killed by a signal then leaves a summary at most one
 * interval old; with summary_interval = off nothing here runs but a load of
 * a zero.
 */
#ifndef SOCKSHIM_PERIODIC_H
#define SOCKSHIM_PERIODIC_H

#include <stdatomic.h>

#include "policy.h"

/* Start the periods for p (NULL: no rules, nothing to summarise), tagging
 * its lines with via ("seccomp") when not NULL. The first period ends one
 * summary_interval from now. Call once the policy is in place (again for a
 * policy that replaces it). */
void ss_periodic_arm(const struct ss_policy *p, const char *via);

/* The interval in seconds, 0: off. Read inline so that a decided call pays
 * one load when summary_interval is off; set only by ss_periodic_arm. */
extern _Atomic unsigned ss_periodic_interval;
void ss_periodic_due(unsigned interval);

/* After a decision was counted: write the summary lines if the interval is
 * up. Async-signal-safe; errno is preserved. */
static inline void ss_periodic_tick(void)
{
	unsigned iv = atomic_load_explicit(&ss_periodic_interval, memory_order_acquire);
	if (iv)
		ss_periodic_due(iv);
}

/* One "summary" line per rule of p that matched a call (info). interval:
 * the period in seconds for a periodic summary (logged as interval=N), 0
 * for the one at exit. */
void ss_summary_lines(const struct ss_policy *p, const char *via, unsigned interval);

#endif

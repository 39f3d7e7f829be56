/*
 * periodic: per-rule summary lines, written at exit and by the first decided
 * call after each summary_interval (see periodic.h).
 */
#include "periodic.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "fmt.h"
#include "log.h"

static struct {
	const struct ss_policy *_Atomic policy;
	const char *_Atomic via;
	_Atomic int64_t deadline;  /* CLOCK_MONOTONIC second the period ends */
} P;

_Atomic unsigned ss_periodic_interval;

static int64_t now_sec(void)
{
	struct timespec ts;
	/* the coarse clock: a vDSO read, no system call; a second's precision is plenty */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

void ss_periodic_arm(const struct ss_policy *p, const char *via)
{
	unsigned iv = p ? p->global.summary_interval : 0;
	atomic_store_explicit(&ss_periodic_interval, 0, memory_order_relaxed);
	atomic_store_explicit(&P.via, via, memory_order_relaxed);
	atomic_store_explicit(&P.policy, p, memory_order_relaxed);
	atomic_store_explicit(&P.deadline, now_sec() + iv, memory_order_relaxed);
	/* release: a thread that sees the interval sees the rest */
	atomic_store_explicit(&ss_periodic_interval, iv, memory_order_release);
}

void ss_periodic_due(unsigned iv)
{
	int saved = errno;
	int64_t now = now_sec();
	int64_t d = atomic_load_explicit(&P.deadline, memory_order_relaxed);
	/* the thread whose swap moves the deadline on writes this period's lines */
	if (now >= d && atomic_compare_exchange_strong_explicit(&P.deadline, &d, now + iv, memory_order_relaxed,
								 memory_order_relaxed))
		ss_summary_lines(atomic_load_explicit(&P.policy, memory_order_relaxed),
				 atomic_load_explicit(&P.via, memory_order_relaxed), iv);
	errno = saved;
}

void ss_summary_lines(const struct ss_policy *p, const char *via, unsigned interval)
{
	for (unsigned i = 0; p && ss_log_enabled(SS_LEVEL_INFO) && i < p->nrules; i++) {
		const struct ss_rule *r = &p->rules[i];
		uint64_t m = atomic_load(&r->state->matched);
		if (!m)
			continue;
		char line[16], matched[24], applied[24], failed[24], every[16];
		struct fmt f;
		fmt_init(&f, line, sizeof(line));
		fmt_u64(&f, r->line);
		fmt_init(&f, matched, sizeof(matched));
		fmt_u64(&f, m);
		fmt_init(&f, applied, sizeof(applied));
		fmt_u64(&f, atomic_load(&r->state->applied));
		fmt_init(&f, failed, sizeof(failed));
		fmt_u64(&f, atomic_load(&r->state->failed));
		fmt_init(&f, every, sizeof(every));
		fmt_u64(&f, interval);
		/* the optional keys go last, NULL ending the list where they are absent */
		const char *k1 = interval ? "interval" : via ? "via" : NULL;
		const char *v1 = interval ? every : via;
		const char *k2 = interval && via ? "via" : NULL;
		/* under dry_run nothing was applied: say what would have been */
		const char *applied_key = p->global.dry_run ? "would_apply" : "applied";
		ss_log_event(SS_LEVEL_INFO, "summary", "rule", r->name, "line", line, "matched", matched, applied_key, applied,
			     "failed", failed, k1, v1, k2, via, NULL);
	}
}

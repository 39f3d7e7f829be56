/*
 * warnrate: rate-limited warnings (see warnrate.h).
 */
#include "warnrate.h"

#include <errno.h>
#include <stdatomic.h>
#include <time.h>

#include "fmt.h"
#include "log.h"

#define SLOTS 64
#define SECOND_NS 1000000000LL

static struct slot {
	_Atomic int64_t next;  /* CLOCK_MONOTONIC ns before which no line is written (0: any time) */
	_Atomic uint64_t held; /* calls refused since the last line */
	/* what ss_warn_limited last wrote, for the line at exit (static or policy strings) */
	const char *_Atomic event, *_Atomic rule, *_Atomic msg, *_Atomic k, *_Atomic v;
} slots[SLOTS];

bool ss_warn_take(unsigned key, uint64_t *held_back)
{
	struct slot *s = &slots[key % SLOTS];
	struct timespec ts;
	int saved = errno;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	errno = saved;
	int64_t now = (int64_t)ts.tv_sec * SECOND_NS + ts.tv_nsec;
	int64_t next = atomic_load_explicit(&s->next, memory_order_relaxed);
	/* a full second between two lines, not a change of the clock's second */
	if (now < next || !atomic_compare_exchange_strong_explicit(&s->next, &next, now + SECOND_NS,
								    memory_order_relaxed, memory_order_relaxed)) {
		atomic_fetch_add_explicit(&s->held, 1, memory_order_relaxed);
		return false;
	}
	*held_back = atomic_exchange_explicit(&s->held, 0, memory_order_relaxed);
	return true;
}

void ss_warn_release(unsigned key, uint64_t held_back)
{
	struct slot *s = &slots[key % SLOTS];
	atomic_fetch_add_explicit(&s->held, held_back, memory_order_relaxed);
	atomic_store_explicit(&s->next, 0, memory_order_relaxed);
}

static void write_line(const char *event, const char *rule, const char *msg, uint64_t held, const char *k,
		       const char *v)
{
	char count[24];
	struct fmt f;
	fmt_init(&f, count, sizeof(count));
	fmt_u64(&f, held);
	if (rule)
		ss_log_event(SS_LEVEL_WARN, event, "rule", rule, "msg", msg, "suppressed", count, k, v, NULL);
	else
		ss_log_event(SS_LEVEL_WARN, event, "msg", msg, "suppressed", count, k, v, NULL);
}

void ss_warn_limited(unsigned key, const char *event, const char *rule, const char *msg, const char *k,
		     const char *v)
{
	if (!ss_log_enabled(SS_LEVEL_WARN))
		return;
	uint64_t held;
	if (!ss_warn_take(key, &held))
		return;
	struct slot *s = &slots[key % SLOTS];
	atomic_store_explicit(&s->rule, rule, memory_order_relaxed);
	atomic_store_explicit(&s->msg, msg, memory_order_relaxed);
	atomic_store_explicit(&s->k, k, memory_order_relaxed);
	atomic_store_explicit(&s->v, v, memory_order_relaxed);
	atomic_store_explicit(&s->event, event, memory_order_release);
	write_line(event, rule, msg, held, k, v);
}

void ss_warn_flush(void)
{
	if (!ss_log_enabled(SS_LEVEL_WARN))
		return;
	for (unsigned i = 0; i < SLOTS; i++) {
		struct slot *s = &slots[i];
		const char *event = atomic_load_explicit(&s->event, memory_order_acquire);
		if (!event || !atomic_load_explicit(&s->held, memory_order_relaxed))
			continue;
		uint64_t held = atomic_exchange_explicit(&s->held, 0, memory_order_relaxed);
		if (held)
			write_line(event, atomic_load_explicit(&s->rule, memory_order_relaxed),
				   SS_WARN_AT_EXIT, held,
				   atomic_load_explicit(&s->k, memory_order_relaxed),
				   atomic_load_explicit(&s->v, memory_order_relaxed));
	}
}

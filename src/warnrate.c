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

static struct slot {
	_Atomic int64_t second; /* of the last line written, +1 (0: never) */
	_Atomic uint64_t held;  /* calls refused since */
} slots[SLOTS];

bool ss_warn_take(unsigned key, uint64_t *held_back)
{
	struct slot *s = &slots[key % SLOTS];
	struct timespec ts;
	int saved = errno;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	errno = saved;
	int64_t now = (int64_t)ts.tv_sec + 1;
	int64_t last = atomic_load_explicit(&s->second, memory_order_relaxed);
	if (last == now || !atomic_compare_exchange_strong_explicit(&s->second, &last, now, memory_order_relaxed,
								    memory_order_relaxed)) {
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
	atomic_store_explicit(&s->second, 0, memory_order_relaxed);
}

void ss_warn_limited(unsigned key, const char *event, const char *rule, const char *msg, const char *k,
		     const char *v)
{
	if (!ss_log_enabled(SS_LEVEL_WARN))
		return;
	uint64_t held;
	if (!ss_warn_take(key, &held))
		return;
	char count[24];
	struct fmt f;
	fmt_init(&f, count, sizeof(count));
	fmt_u64(&f, held);
	if (rule)
		ss_log_event(SS_LEVEL_WARN, event, "rule", rule, "msg", msg, "suppressed", count, k, v, NULL);
	else
		ss_log_event(SS_LEVEL_WARN, event, "msg", msg, "suppressed", count, k, v, NULL);
}

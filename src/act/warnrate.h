/*
 * warnrate: warnings that may come in floods (a source pool or port window
 * that ran out, a sink dropping lines), logged at warn at most once a
 * second per key, each line with the count of those held back before it.
 *
 * Lock-free and async-signal-safe: a small table of atomic slots, a key
 * (a rule's line number, or one of the SS_WARN_* keys below) picks its slot
 * by its value modulo the table's size; two keys sharing a slot share its
 * limit. Two lines of a slot are a full second apart (CLOCK_MONOTONIC).
 */
#ifndef SOCKSHIM_WARNRATE_H
#define SOCKSHIM_WARNRATE_H

#include <stdbool.h>
#include <stdint.h>

/* keys no rule line number takes (a rule's line is below 1 << 30) */
#define SS_WARN_DROPPED 0xfffffff0u
#define SS_WARN_NOFD 0xfffffff1u /* the supervisor out of descriptors */

/* May the warning for key be written now? true at most once a second per
 * slot; *held_back is then the number of calls refused since the last
 * true (each refused call counts one). */
bool ss_warn_take(unsigned key, uint64_t *held_back);

/* Give back what ss_warn_take allowed (its line could not be written):
 * the next call may write at once. */
void ss_warn_release(unsigned key, uint64_t held_back);

/* ss_warn_take, then, when it allows, one warn line: event, "rule" (NULL:
 * left out), "msg", one more key/value pair (k NULL: none) and
 * "suppressed" (the count held back). */
void ss_warn_limited(unsigned key, const char *event, const char *rule, const char *msg, const char *k,
		     const char *v);

/* At exit: for each key ss_warn_limited wrote a line for, one more line
 * with the count held back since (none where nothing was held back), its
 * msg SS_WARN_AT_EXIT: the line itself counts no call. */
#define SS_WARN_AT_EXIT "held back until exit"
void ss_warn_flush(void);

#endif

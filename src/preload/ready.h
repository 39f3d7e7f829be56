/*
 * ready: the preload's start-up state, as every hook reads it inline: is the
 * policy in place (the first hook to ask loads it: ready.c), and the live
 * policy's fields the hooks gate on.
 */
#ifndef SOCKSHIM_READY_H
#define SOCKSHIM_READY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "reload.h"
#include "shim.h"

enum { ST_NEW, ST_LOADING, ST_READY };

extern _Atomic int g_state __attribute__((visibility("hidden"))); /* ST_*, defined in ready.c */
/* The live policy (reload.h), each read once where one call must see one. */
#define g_policy (ss_live()->policy) /* NULL: pass everything through */
#define g_dry (ss_live()->dry)
/* The debug log was asked for. A gate for the hot path only: whoever logs
 * still asks the log, which may have been turned off since. */
#define g_debug (ss_live()->debug)
/* The rule index, when it can tell a call no rule holds before anything
 * else is looked at (no debug log, no rule that holds every address). */
#define g_screen (ss_live()->screen)

/* true once the policy is in place, loading it or waiting for its load
 * first (see ready.c). */
bool ready_slow(int st) __attribute__((visibility("hidden")));

static inline bool ready(void)
{
	int st = atomic_load_explicit(&g_state, memory_order_acquire);
	return st == ST_READY || ready_slow(st);
}

/* Does some rule of p name op (bind: listen too, which may bind)? */
static inline bool rules_for(const struct ss_policy *p, enum ss_op op)
{
	unsigned want = SS_OPBIT(op) | (op == SS_OP_BIND ? SS_OPBIT(SS_OP_LISTEN) : 0);
	return p && (p->op_mask & want);
}

static inline bool idle(void)
{
	return ss_live()->idle; /* no rule to apply, no debug log: only libc, no bookkeeping */
}

/* A debug line for a call that makes no decision (socket, close...), gated
 * inline: the hot path makes no call unless the debug log may be on. */
static inline void log_plain(const char *op, int fd, uint32_t ent, const struct ss_addr *addr, const char *extra, int rc, int err)
{
	/* g_debug is read only once the load that set it is seen done */
	if (atomic_load_explicit(&g_state, memory_order_acquire) != ST_READY || g_debug)
		shim_log_plain_line(op, fd, ent, addr, extra, rc, err);
}

#endif

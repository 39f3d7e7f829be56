/*
 * logstart: the deferred "start" line (see logstart.h).
 */
#include "logstart.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "log.h"

#ifndef SOCKSHIM_VERSION
#define SOCKSHIM_VERSION "0"
#endif

enum { NONE, PENDING, WRITING, DONE };

static atomic_int state = NONE;
static struct {
	char program[256], exe[256], policy[1024], mode[16], via[16], rules[16];
	bool has_program, has_exe, has_policy, has_via;
} S;

static bool keep(char *dst, size_t cap, const char *src)
{
	if (!src || strlen(src) >= cap)
		return false;
	strcpy(dst, src);
	return true;
}

static void write_start(enum ss_log_level level)
{
	const char *program = S.has_program ? S.program : NULL;
	const char *exe = S.has_exe ? S.exe : NULL;
	const char *policy = S.has_policy ? S.policy : NULL;
	ss_log_event(level, "start", "version", SOCKSHIM_VERSION, "program", program, "exe", exe, "policy", policy,
		     "rules", S.rules, "mode", S.mode, S.has_via ? "via" : NULL, S.via, NULL);
}

void ss_logstart_defer(const char *program, const char *exe, const char *policy, unsigned rules,
		       const char *mode, const char *via)
{
	S.has_program = keep(S.program, sizeof(S.program), program);
	S.has_exe = keep(S.exe, sizeof(S.exe), exe);
	S.has_policy = keep(S.policy, sizeof(S.policy), policy);
	S.has_via = keep(S.via, sizeof(S.via), via);
	keep(S.mode, sizeof(S.mode), mode);
	struct fmt f;
	fmt_init(&f, S.rules, sizeof(S.rules));
	fmt_u64(&f, rules);
	/* SOCKSHIM_LOG_START=always: every process says it loaded the shim */
	const char *when = secure_getenv("SOCKSHIM_LOG_START");
	if (ss_log_enabled(SS_LEVEL_DEBUG) || (when && strcmp(when, "always") == 0)) {
		atomic_store_explicit(&state, DONE, memory_order_release);
		write_start(SS_LEVEL_INFO);
		return;
	}
	atomic_store_explicit(&state, PENDING, memory_order_release);
}

void ss_logstart_before(void)
{
	int st = atomic_load_explicit(&state, memory_order_acquire);
	if (st == DONE || st == NONE)
		return;
	if (st == PENDING) {
		int expected = PENDING;
		if (atomic_compare_exchange_strong_explicit(&state, &expected, WRITING, memory_order_acq_rel,
							    memory_order_acquire)) {
			write_start(SS_LEVEL_INFO);
			atomic_store_explicit(&state, DONE, memory_order_release);
			return;
		}
	}
	/* another thread (or the code this signal handler interrupted) is
	 * writing it: let it finish, but never wait long */
	for (int i = 0; i < 2000 && atomic_load_explicit(&state, memory_order_acquire) == WRITING; i++)
		sched_yield();
}

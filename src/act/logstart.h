/*
 * logstart: a process's "start" line, written only when the process has
 * something else to log.
 *
 * A front end hands the start line's values over once per process image
 * (ss_logstart_defer); at log_level = debug it is written at once, as
 * every call is logged then anyway, and so it is with
 * SOCKSHIM_LOG_START=always (proof that every process loaded the shim). Otherwise it waits: log.c calls
 * ss_logstart_before() before every other line (a decision, a warning, a
 * summary), and the first such line writes it first. So a process that
 * never meets a rule logs nothing, and one that does logs exactly one start
 * line, before its first other line.
 *
 * Lock-free and async-signal-safe: one atomic state word. A thread that
 * finds another one writing the start line waits for it a bounded while
 * (a signal handler interrupting that very write gives up and goes on). A
 * forked child inherits the state: a start line its parent wrote is not
 * written again; one still pending is the child's to write (with its pid).
 */
#ifndef SOCKSHIM_LOGSTART_H
#define SOCKSHIM_LOGSTART_H

#include "policy.h"

/* Keep the start line's values (copied: the arguments need not live on);
 * NULL values print as "-" (null in JSON); via NULL is left out. */
void ss_logstart_defer(const char *program, const char *exe, const char *policy, unsigned rules,
		       const char *mode, const char *via);

/* Before a line that is not the start line: write the pending start line
 * first (at info: under log_level = warn or error there is none). */
void ss_logstart_before(void);

#endif

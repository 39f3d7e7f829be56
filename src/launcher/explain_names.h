/*
 * explain_names: the launcher's side of names (policy format 1.1: `on =
 * resolve` and `host`).
 *
 * - `sockshim explain POLICY resolve NAME`: the rule that decides a lookup
 *   of NAME and its answer, asked of the engine exactly as the preload's
 *   lookup hooks ask it (src/preload/resolve.c);
 * - check's warnings about rules that only the preload can carry out: the
 *   --seccomp front end never sees a name lookup (it happens inside the
 *   program: Go's own resolver, a static binary's libc, DNS over a socket
 *   the supervisor sees only as UDP to port 53).
 */
#ifndef SOCKSHIM_EXPLAIN_NAMES_H
#define SOCKSHIM_EXPLAIN_NAMES_H

#include <stdbool.h>

#include "policy.h"

/*
 * explain POLICY resolve NAME [--program NAME] [--family ipv4|ipv6]:
 * argv[0] is POLICY, argv[1] "resolve", argc words in all. Prints the
 * decision on stdout; returns the exit status (0, 64 usage, 78 a broken
 * policy, its errors on stderr as FILE:LINE: message).
 */
int explain_resolve(int argc, char **argv);

/* Whether a rule is one only the preload can carry out (on = resolve, or
 * a `host` matcher). */
bool names_rule_needs_preload(const struct ss_rule *r);

/* check's warning for each such rule of p, given to warn (FILE:LINE:
 * warning: ... is the caller's form). */
typedef void (*names_warn_fn)(const struct ss_policy *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void names_lint(const struct ss_policy *p, names_warn_fn warn);

#endif

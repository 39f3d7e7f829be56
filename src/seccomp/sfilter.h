/*
 * sfilter: the seccomp filter of the supervised front end (supervise.h).
 *
 * The filter sends the socket calls a policy can decide to the supervisor
 * (SECCOMP_RET_USER_NOTIF) and lets every other system call run untouched,
 * so a program pays for supervision only on the calls the policy names.
 * Installed in the child between fork and exec; inherited by every thread,
 * child and exec of the target.
 */
#ifndef SOCKSHIM_SFILTER_H
#define SOCKSHIM_SFILTER_H

#include <stdbool.h>

/* What the filter sends to the supervisor. */
struct sfilter_want {
	unsigned ops;   /* SS_OPBIT mask of the policy's rules (policy.h) */
	bool reuse;     /* some rule forces or denies SO_REUSEADDR/SO_REUSEPORT,
			 * or picks a UDP source (which pins them off): the
			 * program's own setsockopt of those must be seen */
	bool opts;      /* some rule rotates source ports: a setsockopt of an
			 * option optread cannot read back must be seen */
	bool all;       /* the debug log: every call of the list */
};

struct ss_policy;

/* What a policy needs trapped (p NULL: no policy, nothing but the debug
 * log's calls): its rules' operations, the program's reuse options where a
 * rule forces, denies or pins them, the options optread cannot read back
 * where a rule rotates ports; with reload on, all of bind, listen, connect
 * and send, since the filter is installed once and a new file may name any
 * of them; every call of the list when debug. */
struct sfilter_want sfilter_want_of(const struct ss_policy *p, bool reload, bool debug);

/*
 * Install the filter on the calling thread (SECCOMP_FILTER_FLAG_NEW_LISTENER,
 * with PR_SET_NO_NEW_PRIVS only when the caller lacks CAP_SYS_ADMIN).
 * Returns the notification fd (close-on-exec), or -1 with errno.
 * Calls only system calls the filter itself lets through afterwards.
 */
int sfilter_install(const struct sfilter_want *w);

/* Which system calls the filter would send (tests, the launcher's notes):
 * a comma-separated list of names into buf. */
void sfilter_describe(const struct sfilter_want *w, char *buf, unsigned size);

#endif

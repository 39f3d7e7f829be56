/*
 * supserve: the supervising process of `sockshim --seccomp` (see
 * supervise.h for the front end as a whole).
 *
 * The launcher forks it; it forks the command under the filter, answers the
 * filter's calls, and tells the launcher the command's pid and, once the
 * command is reaped, its wait status. It keeps answering until no process
 * carries the filter any more (the notification fd reports POLLHUP), so what
 * the command left running (a daemon that double-forked, a background job)
 * stays supervised after the launcher exited with the command's status. It
 * is a child subreaper, so what the command leaves behind becomes its child:
 * it stays a descendant (ptrace access rules for pidfd_getfd and
 * process_vm_readv) and is reaped here. It runs in a session of its own, so
 * a terminal's signals and hang-up do not reach it; SIGTERM stops it (the
 * calls of what it supervised then fail with ENOSYS). Its stdin and stdout
 * are /dev/null, and so is stderr unless the log is written there.
 */
#ifndef SOCKSHIM_SUPSERVE_H
#define SOCKSHIM_SUPSERVE_H

#include <signal.h>
#include <stdint.h>

#include "policy.h"
#include "sfilter.h"

#define EX_NOSUPERVISOR 125

/* What the supervising process writes to the launcher, one at a time. */
struct supserve_note {
	int32_t what;  /* SUPSERVE_* */
	int32_t value; /* the command's pid, or its wait status */
};
enum {
	SUPSERVE_TARGET = 1, /* the command runs under the filter: its pid */
	SUPSERVE_ENDED,      /* its wait status; nothing left: exiting now */
	SUPSERVE_LEFT_BEHIND /* its wait status; still supervising what it left */
};

/*
 * Run in the launcher's child; never returns. argv as for ss_supervise; w:
 * the calls to trap; p, dry_run: as for supcall_setup; app_mask: the signal
 * mask the command gets; notes: the pipe to the launcher. Failing to start
 * the command under the filter reports SUPSERVE_ENDED with exit status 125
 * (the reason on stderr); a command that cannot be run, 126 or 127.
 */
_Noreturn void supserve_run(char **argv, const struct sfilter_want *w, struct ss_policy *p, bool dry_run,
			    const sigset_t *app_mask, int notes);

#endif

/*
 * supervise: the seccomp front end of the engine (`sockshim --seccomp`).
 *
 * For programs LD_PRELOAD cannot reach (static binaries, Go, raw system
 * calls): the command runs under a seccomp filter that sends its socket calls
 * to this process (SECCOMP_RET_USER_NOTIF, kernel >= 5.9), which reads the
 * call's arguments from the target, asks the same engine the preloaded shim
 * asks, and carries out the decision on the target's own socket, duplicated
 * with pidfd_getfd(). A call no rule matches continues in the kernel
 * untouched (SECCOMP_USER_NOTIF_FLAG_CONTINUE).
 *
 * Not a security boundary: the kernel documents user notification as such
 * (a target thread can change the memory behind a pointer after the check;
 * a call that continues reads it again). It shapes cooperative programs.
 */
#ifndef SOCKSHIM_SUPERVISE_H
#define SOCKSHIM_SUPERVISE_H

/*
 * Run argv[0] (searched on PATH) with argv under the supervisor, with the
 * policy of SOCKSHIM_POLICY (else the default path) and the SOCKSHIM_LOG,
 * SOCKSHIM_LOG_LEVEL, SOCKSHIM_LOG_FORMAT and SOCKSHIM_MODE overrides, read
 * exactly as the preloaded shim reads them. The supervisor is a process of
 * its own (supserve.h): what the target leaves running when it exits (a
 * daemon) stays supervised by it, which ends when the last process under
 * the filter is gone, and logs the summary then; when the target left
 * nothing, the summary is logged before this returns. Returns when the
 * target exits: its exit status; a target killed by a signal makes the caller die of the
 * same signal (no core file of its own). 78 for a policy with errors (unless
 * on_error = passthrough), 126/127 when the command cannot be run, 125 when
 * the kernel refuses the supervisor (no seccomp user notification).
 * Forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH
 * sent to the caller with kill(2) to the target. Call from a
 * single-threaded process.
 */
int ss_supervise(char **argv);

#endif

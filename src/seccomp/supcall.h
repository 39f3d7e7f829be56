/*
 * supcall: one seccomp notification of the supervised front end, from the
 * target's arguments to the answer (see supervise.h).
 *
 * Each call is read from the target (process_vm_readv), its socket
 * duplicated (pidfd_getfd), the engine asked, and the decision carried out
 * with the same action code as the preloaded shim (actions.h) on the
 * duplicate, which shares the target's file description: options, binds and
 * connects made there are the target's. The notification is checked still
 * valid (SECCOMP_IOCTL_NOTIF_ID_VALID) after everything was read from the
 * target and before anything is done on its behalf.
 *
 * A call that may block (a connect, or a Fast Open send, on a blocking
 * socket) is carried out in a worker thread, so the loop goes on answering
 * the target's other threads and processes; at most SUPCALL_MAX_WORKERS
 * at a time, beyond which they run in the receiving thread, which answers
 * nothing else meanwhile. Most blocking connects never get there
 * (supconnect.c: the connect made non-blocking, then continued); a
 * connect with SO_SNDTIMEO, which otherwise takes a worker, continues
 * instead when every worker is busy (workers_full). Left to block the
 * receiver: a connect from a window the kernel does not check, a
 * rewritten connect repeated after a failed attempt, a Fast Open send.
 */
#ifndef SOCKSHIM_SUPCALL_H
#define SOCKSHIM_SUPCALL_H

#include <stdbool.h>

#include "policy.h"

#define SUPCALL_MAX_WORKERS 256

/* p: the usable policy, or NULL (every call continues; debug lines only). */
void supcall_setup(int notify_fd, struct ss_policy *p, bool dry_run);

/* Start the thread that receives and answers the notifications (blocking
 * in RECV; SYNC_WAKE_UP set where the kernel has it). false when no thread
 * could be made: the caller then polls and calls supcall_handle. */
bool supcall_start(void);

/* Has the receiving thread found the notification fd itself failing? It
 * then ended, and raised SIGCHLD to wake the loop. */
bool supcall_broken(void);

/* Receive and answer one notification, in the caller. false when the
 * notification fd itself failed (not when one call did). Not while the
 * receiving thread runs. */
bool supcall_handle(void);

#endif

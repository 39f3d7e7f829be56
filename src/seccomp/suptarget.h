/*
 * suptarget: what the supervisor takes from a supervised process: a
 * duplicate of one of its fds (pidfd_getfd), bytes of its memory
 * (process_vm_readv/writev), the names a rule's `program` matches, and
 * whether an fd is close-on-exec. The kernel allows each only with ptrace
 * access to the process; a refusal is logged once per kind.
 */
#ifndef SOCKSHIM_SUPTARGET_H
#define SOCKSHIM_SUPTARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Empty the pidfd cache; once, before the first call. */
void target_init(void);

/* Our duplicate of thread tid's fd tfd, or -1 with errno. Called by one
 * thread at a time. */
int target_fd(pid_t tid, int tfd);

/*
 * target_fd failed with err on a call that a rule may decide (may_decide):
 * the errno to fail it with, or 0 to let it go on. Out of descriptors or
 * of memory, the call must not go on untouched, its rule unapplied: it
 * fails with ENOBUFS ("insufficient resources", which connect, bind and
 * the sends may return and a program retries or reports as a passing
 * shortage; EMFILE would blame the program's own descriptors), and a
 * warning says so, at most once a second (warnrate.h). Any other err (the
 * thread gone, access refused: see the top) lets the call go on.
 */
int target_short(int err, bool may_decide);

/* n bytes at addr in pid's memory into dst; false when unreadable. */
bool target_read(pid_t pid, uint64_t addr, void *dst, size_t n);
bool target_write(pid_t pid, uint64_t addr, const void *src, size_t n);

/* Base name of pid's argv[0] and of its executable, for `program`. */
void target_names(pid_t pid, char *argv0, char *exe, size_t size);

/* Is pid's fd tfd close-on-exec? (Our duplicate always is.) */
bool target_cloexec(pid_t pid, int tfd);

#endif

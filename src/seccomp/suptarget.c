/*
 * suptarget: reaching into a supervised process (see suptarget.h): its fds
 * through pidfds kept per thread, its memory, its names and fd flags.
 */
#include "suptarget.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fmt.h"
#include "log.h"
#include "names.h"
#include "warnrate.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* 6.9: a pidfd for a thread, not only a leader */
#endif

/*
 * The kernel lets us read a target's memory and take its fds only with
 * ptrace access to it: Yama's ptrace_scope 2 or 3, a process that made
 * itself non-dumpable (PR_SET_DUMPABLE 0, or one that changed its
 * credentials) and a process of another user refuse it. Its calls then
 * continue untouched: say so, once per kind of refusal.
 */
static _Atomic bool warned_getfd, warned_read;

static void warn_refused(_Atomic bool *once, const char *call, pid_t pid, int err)
{
	if ((err != EPERM && err != EACCES) || atomic_exchange(once, true))
		return;
	char p[16];
	struct fmt f;
	fmt_init(&f, p, sizeof(p));
	fmt_u64(&f, (uint64_t)pid);
	ss_log_event(SS_LEVEL_WARN, "unreachable", "target", p, "call", call, "errno", ss_errno_name(err), "msg",
		     "the kernel refuses the supervisor access to this process (Yama ptrace_scope, a non-dumpable "
		     "process, or another user's): its socket calls continue untouched, no rule applies to them",
		     NULL);
	errno = err;
}

static pid_t tgid_of(pid_t tid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	const char *t = strstr(buf, "\nTgid:");
	return t ? (pid_t)atoi(t + 6) : -1;
}

/*
 * pidfds of the target's threads, by thread id, so that a call costs no
 * pidfd_open and close of its own. A pidfd names one task for good: once
 * that thread is gone (its id perhaps another task's by now), pidfd_getfd
 * fails with ESRCH, and the slot is opened again for the caller. A thread
 * that execs takes over its leader's pid, which the leader's pidfd then
 * names. Only a pidfd of the calling thread itself is kept: before 6.9
 * (no PIDFD_THREAD) a non-leader's calls go through its leader's pidfd,
 * opened and closed per call, since a kept one could outlive the thread id
 * and serve another process's call. Up to PIDFDS_MAX are held, never more
 * than a quarter of the descriptors the supervisor may open (its soft
 * limit is raised to the hard one first: the command, forked before, keeps
 * its own), at least one: a Go program whose goroutines wait in trapped
 * calls runs hundreds of threads, which 64 slots made open and close a
 * pidfd for nearly every call; under a low limit (`ulimit -n 12`) a cache
 * of 64 took every descriptor the duplicates need. A slot taken by another
 * thread is closed and reused. When the supervisor runs out of descriptors
 * all the other slots are closed and the call tried once more. Used by the
 * loop thread only (begin, the setsockopt and sendmmsg handlers): no lock.
 */
#define PIDFDS_MAX 1024
static struct {
	pid_t tid;
	int pfd; /* -1: empty */
} pidfds[PIDFDS_MAX];
static size_t n_pidfds = 1;

void target_init(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
			getrlimit(RLIMIT_NOFILE, &rl);
		}
		rlim_t q = rl.rlim_cur / 4;
		n_pidfds = q > PIDFDS_MAX ? PIDFDS_MAX : q < 1 ? 1 : (size_t)q;
	}
	for (size_t i = 0; i < PIDFDS_MAX; i++) {
		pidfds[i].tid = 0;
		pidfds[i].pfd = -1;
	}
}

/* pidfd_getfd through a pidfd of tid's process; -1 with errno. */
static int getfd_uncached(pid_t tid, int tfd)
{
	pid_t tgid = tgid_of(tid);
	int pfd = tgid > 0 ? (int)syscall(SYS_pidfd_open, tgid, 0) : -1;
	if (pfd < 0)
		return -1;
	int fd = (int)syscall(SYS_pidfd_getfd, pfd, tfd, 0);
	int err = errno;
	close(pfd);
	errno = err;
	return fd;
}

/* Out of descriptors: close every cached pidfd but slot keep's. */
static bool shed_pidfds(size_t keep)
{
	bool any = false;
	for (size_t i = 0; i < n_pidfds; i++) {
		if (i != keep && pidfds[i].pfd >= 0) {
			close(pidfds[i].pfd);
			pidfds[i].pfd = -1;
			pidfds[i].tid = 0;
			any = true;
		}
	}
	return any;
}

static int target_fd_once(pid_t tid, int tfd);

/* Our duplicate of the target's fd tfd, or -1 with errno. */
int target_fd(pid_t tid, int tfd)
{
	int fd = target_fd_once(tid, tfd);
	if (fd < 0 && (errno == EMFILE || errno == ENFILE) && shed_pidfds((size_t)tid % n_pidfds))
		fd = target_fd_once(tid, tfd);
	return fd;
}

static int target_fd_once(pid_t tid, int tfd)
{
	size_t h = (size_t)tid % n_pidfds;
	int fd = -1, err = 0;
	for (int fresh = 0; fresh < 2; fresh++) {
		if (pidfds[h].tid != tid || pidfds[h].pfd < 0) {
			if (pidfds[h].pfd >= 0)
				close(pidfds[h].pfd);
			pidfds[h].pfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
			if (pidfds[h].pfd < 0 && errno == EINVAL)
				pidfds[h].pfd = (int)syscall(SYS_pidfd_open, tid, 0); /* before 6.9: a leader */
			pidfds[h].tid = pidfds[h].pfd >= 0 ? tid : 0;
			if (pidfds[h].pfd < 0) {
				if (errno != EINVAL)
					return -1; /* ESRCH: the thread is gone */
				fd = getfd_uncached(tid, tfd); /* before 6.9, not a leader */
				err = errno;
				break;
			}
			fresh = 1;
		}
		fd = (int)syscall(SYS_pidfd_getfd, pidfds[h].pfd, tfd, 0);
		err = errno;
		if (fd >= 0 || err != ESRCH)
			break;
		close(pidfds[h].pfd); /* a thread gone, its id reused: once more */
		pidfds[h].pfd = -1;
	}
	if (fd < 0)
		warn_refused(&warned_getfd, "pidfd_getfd", tid, err);
	errno = err;
	return fd;
}

int target_short(int err, bool may_decide)
{
	if (!may_decide || (err != EMFILE && err != ENFILE && err != ENOMEM))
		return 0;
	ss_warn_limited(SS_WARN_NOFD, "no-descriptor", NULL,
			"the supervisor cannot duplicate the socket of a call a rule may decide (raise its "
			"RLIMIT_NOFILE): the call fails with ENOBUFS",
			"errno", ss_errno_name(err));
	return ENOBUFS;
}

bool target_read(pid_t pid, uint64_t addr, void *dst, size_t n)
{
	if (!n)
		return true;
	struct iovec l = { dst, n }, r = { (void *)(uintptr_t)addr, n };
	if (process_vm_readv(pid, &l, 1, &r, 1, 0) == (ssize_t)n)
		return true;
	warn_refused(&warned_read, "process_vm_readv", pid, errno);
	return false;
}

bool target_write(pid_t pid, uint64_t addr, const void *src, size_t n)
{
	struct iovec l = { (void *)src, n }, r = { (void *)(uintptr_t)addr, n };
	return process_vm_writev(pid, &l, 1, &r, 1, 0) == (ssize_t)n;
}

static void copy_base(char *dst, size_t size, const char *path)
{
	const char *s = ss_base_name(path);
	size_t n = strlen(s);
	if (n >= size)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* Base name of the target's argv[0] and of its executable, for `program`. */
void target_names(pid_t pid, char *argv0, char *exe, size_t size)
{
	char path[64], buf[4096];
	argv0[0] = exe[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			copy_base(argv0, size, buf);
		}
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		copy_base(exe, size, buf);
	}
}

/* Is the target's fd tfd close-on-exec? (Our duplicate always is.) */
bool target_cloexec(pid_t pid, int tfd)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, tfd);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	const char *f = strstr(buf, "flags:");
	return !f || (strtoul(f + 6, NULL, 8) & O_CLOEXEC);
}

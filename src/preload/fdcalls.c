/*
 * fdcalls: the hooks' calls that decide nothing and write no log line
 * (fcntl, fclose, _Fork, dup*, close_range, closefrom) keep the fd table in
 * step with the kernel's. close writes a debug line: it stays in shim.c
 * with the other hooks that write one.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "fdtab.h"
#include "optlog.h"
#include "real.h"

int shim_fcntl(int fd, int cmd, void *arg, int is64)
{
	int rc = is64 ? real_fcntl64(fd, cmd, arg) : real_fcntl(fd, cmd, arg);
	if (rc >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)) {
		int saved = errno;
		fdtab_set(rc, fdtab_get(fd)); /* the same socket, with what we know of it */
		optlog_copy(fd, rc);
		errno = saved;
	}
	return rc;
}

int shim_fclose(FILE *fp)
{
	/* glibc closes the fd inside fclose, where no close hook sees it */
	int fd = fp ? fileno(fp) : -1; /* a bad FILE * crashes in libc all the same */
	if (fd >= 0)
		fdtab_clear(fd);
	return real_fclose(fp);
}

pid_t shim_fork_raw(void)
{
	pid_t pid = real__Fork();
	if (pid == 0)
		shim_after_fork_child();
	return pid;
}

int shim_dup(int fd)
{
	int rc = real_dup(fd);
	if (rc >= 0) {
		fdtab_set(rc, fdtab_get(fd));
		optlog_copy(fd, rc);
	}
	return rc;
}

int shim_dup2(int fd, int fd2)
{
	int rc = real_dup2(fd, fd2);
	if (rc >= 0 && fd != fd2) {
		fdtab_set(fd2, fdtab_get(fd));
		optlog_copy(fd, fd2);
	}
	return rc;
}

int shim_dup3(int fd, int fd2, int flags)
{
	int rc = real_dup3(fd, fd2, flags);
	if (rc >= 0) {
		fdtab_set(fd2, fdtab_get(fd));
		optlog_copy(fd, fd2);
	}
	return rc;
}

int shim_close_range(unsigned int first, unsigned int last, int flags)
{
	int rc = real_close_range(first, last, flags);
	if (rc == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
		fdtab_clear_range(first, last);
	return rc;
}

void shim_closefrom(int lowfd)
{
	if (lowfd >= 0)
		fdtab_clear_range((unsigned)lowfd, ~0U);
	real_closefrom(lowfd);
}

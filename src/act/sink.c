/*
 * sink: the log's file, FIFO, pipe, terminal or syslog socket, opened and
 * written so that the program never waits for them (see sink.h).
 */
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "real.h"

/* Move fd above the range programs usually iterate over when they close
 * "all" their descriptors; keep the low one if that fails. */
static int move_high(int fd)
{
	struct rlimit rl;
	int target = 900;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 1024)
		target = (int)rl.rlim_cur > 64 ? (int)rl.rlim_cur - 24 : 10;
	int high = real_fcntl(fd, F_DUPFD_CLOEXEC, (void *)(intptr_t)target);
	if (high < 0)
		return fd;
	real_close(fd);
	return high;
}

/* O_NONBLOCK: a FIFO without a reader gives ENXIO at once instead of
 * blocking the program before main; a full FIFO then gives EAGAIN. (It
 * changes nothing for a regular file.) */
#define FILE_FLAGS (O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK)

int sink_open_file(const char *path)
{
	int fd = open(path, FILE_FLAGS, 0640);
	return fd < 0 ? -1 : move_high(fd);
}

int sink_file_follow(int fd, const char *path, bool create, struct stat *st)
{
	struct stat now;
	if (lstat(path, &now) == 0) {
		if (!S_ISREG(now.st_mode) || (now.st_dev == st->st_dev && now.st_ino == st->st_ino))
			return 0;
	} else if (errno != ENOENT) {
		return 0;
	} else if (!create) {
		return -1;
	}
	int nfd = open(path, FILE_FLAGS, 0640);
	if (nfd < 0)
		return 0;
	struct stat ns;
	/* a FIFO slipped in between: not a file to switch to (its flags differ) */
	if (fstat(nfd, &ns) != 0 || !S_ISREG(ns.st_mode) || real_dup3(nfd, fd, O_CLOEXEC) < 0) {
		real_close(nfd);
		return 0;
	}
	real_close(nfd);
	*st = ns;
	return 1;
}

int sink_open_tty(void)
{
	int fd = open("/proc/self/fd/2", O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	return fd < 0 ? -1 : move_high(fd);
}

static int dgram_addr(struct sockaddr_un *un, const char *path)
{
	memset(un, 0, sizeof(*un));
	un->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(un->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(un->sun_path, path);
	return 0;
}

int sink_open_dgram(const char *path)
{
	struct sockaddr_un un;
	if (dgram_addr(&un, path) < 0)
		return -1;
	int fd = real_socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (real_connect(fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
		int e = errno;
		real_close(fd);
		errno = e;
		return -1;
	}
	return move_high(fd);
}

int sink_reconnect(int fd, const char *path)
{
	struct sockaddr_un un;
	if (dgram_addr(&un, path) < 0)
		return -1;
	return real_connect(fd, (struct sockaddr *)&un, sizeof(un));
}

/* 0, or the errno of the write that failed: a full disk or a closed pipe
 * changes nothing for the program. */
int sink_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno;
		if (w == 0)
			return EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * A write to a pipe whose reader is gone raises SIGPIPE, which would kill a
 * program that never wrote to that pipe itself. Block it around our write and
 * swallow the one we caused, unless the program already had one pending.
 */
static int write_no_sigpipe(int fd, const char *p, size_t n)
{
	sigset_t pipe_set, old, pending;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	if (pthread_sigmask(SIG_BLOCK, &pipe_set, &old) != 0)
		return sink_write_all(fd, p, n);
	bool had = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
	int err = sink_write_all(fd, p, n);
	if (err == EPIPE && !had) {
		struct timespec zero = { 0, 0 };
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR) {
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

/*
 * Write to a pipe or FIFO without ever blocking the program or killing it:
 * a line that does not fit now is dropped (EAGAIN; a reader that is not
 * reading must not stall the program on lines it never wrote itself), and
 * the SIGPIPE of a reader that is gone is swallowed (EPIPE). A FIFO we
 * opened ourselves is O_NONBLOCK, so the write says EAGAIN itself. fd 2's
 * file description is the program's, whose O_NONBLOCK flag is not ours to
 * change: one poll with no timeout asks first. POLLOUT on a pipe means a
 * free buffer page, which holds a whole line of ours (< PIPE_BUF); POLLERR,
 * that no reader is left. (Another writer of the same pipe can fill that
 * page between our poll and our write; the write then waits until the
 * reader takes a page.)
 */
int sink_write_pipe(int fd, const char *p, size_t n, bool nonblock)
{
	if (!nonblock) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		if (poll(&pfd, 1, 0) < 0)
			return errno;
		if (pfd.revents & POLLNVAL)
			return EBADF;
		if (pfd.revents & POLLERR)
			return EPIPE;
		if (!(pfd.revents & POLLOUT))
			return EAGAIN;
	}
	return write_no_sigpipe(fd, p, n);
}

/*
 * fd 2 as a terminal, pty or any other device: a terminal stopped by XOFF
 * (Ctrl-S), or a pty whose master nobody reads, blocks a write for as long
 * as it likes, and the file description's O_NONBLOCK is the program's. fd
 * is best our own O_NONBLOCK description of the same device (sink_open_tty):
 * the write itself then says EAGAIN. Otherwise one poll with no timeout asks
 * first (a terminal with room for part of a line still blocks the write
 * until the rest fits). A short write is not continued: the rest could block.
 */
int sink_write_polled(int fd, const char *p, size_t n, bool nonblock)
{
	if (nonblock) {
		ssize_t w = write(fd, p, n);
		return w < 0 ? errno : (size_t)w == n ? 0 : EAGAIN;
	}
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	if (poll(&pfd, 1, 0) < 0)
		return errno;
	if (pfd.revents & POLLNVAL)
		return EBADF;
	if (pfd.revents & (POLLERR | POLLHUP))
		return EIO;
	if (!(pfd.revents & POLLOUT))
		return EAGAIN;
	ssize_t w = write(fd, p, n);
	if (w < 0)
		return errno;
	return (size_t)w == n ? 0 : EAGAIN;
}

/* The syslog socket: one datagram, never waiting for room in a receiver's
 * queue (MSG_DONTWAIT: a receiver that stops reading costs lines, EAGAIN);
 * MSG_NOSIGNAL keeps the SIGPIPE of a socket shut down under us from the
 * program, with no signal-mask calls. The socket is ours: a flag per call
 * rather than O_NONBLOCK only so that one system call does it all. */
int sink_write_dgram(int fd, const char *p, size_t n)
{
	ssize_t w;
	do
		w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (w < 0 && errno == EINTR);
	return w < 0 ? errno : 0;
}

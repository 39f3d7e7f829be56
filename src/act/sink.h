/*
 * sink: opening and writing the log's file, FIFO, pipe or syslog socket so
 * that the program never waits and never gets a signal for our lines.
 *
 * Each write is one system call for a line (< PIPE_BUF: never interleaved
 * with other writers) and returns 0 or the errno of the failure; a line a
 * sink cannot take now fails with EAGAIN, never blocks. log.c counts what
 * fails and decides what to say about it. errno is left as the failure
 * left it: callers save and restore the program's.
 */
#ifndef SOCKSHIM_SINK_H
#define SOCKSHIM_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* Open a log file for appending (created 0640, never through a symbolic
 * link), moved high and close-on-exec. It is opened O_NONBLOCK, so a FIFO
 * without a reader fails at once with ENXIO (instead of blocking until one
 * comes) and a full FIFO makes a write fail with EAGAIN. -1 and errno on
 * failure. */
int sink_open_file(const char *path);

/* Follow a log file renamed away (logrotate's create mode, or mv): when
 * path names a regular file other than the one open on fd (*st: its dev and
 * inode), open that one as sink_open_file does and put it on fd's number
 * with dup3 (so no other thread's write lands anywhere but in one of the
 * two files), *st then describing it. When path names nothing, the file is
 * created only if create (the caller saw it missing a second before too:
 * logrotate creates it itself right after the rename). A symbolic link or
 * anything else not a regular file at path is never followed: the old file
 * goes on. 1: switched; 0: nothing to do (or it could not be done); -1:
 * path names nothing and create was false. errno is not kept. */
int sink_file_follow(int fd, const char *path, bool create, struct stat *st);

/* A unix datagram socket connected to path (syslog), moved high and
 * close-on-exec; -1 and errno (ENAMETOOLONG for a path that does not fit). */
int sink_open_dgram(const char *path);

/* Connect fd (from sink_open_dgram) to path again: a receiver that went
 * away and came back (a syslog daemon restarting). 0 or -1 and errno. The
 * fd stays the same, so no other thread's write can land elsewhere. */
int sink_reconnect(int fd, const char *path);

/* A regular file or a terminal: write(2) until done (a partial write, only
 * at a full disk, is followed by the failing one). */
int sink_write_all(int fd, const char *p, size_t n);

/* A pipe or FIFO. nonblock: we opened it O_NONBLOCK ourselves; otherwise
 * (fd 2, whose file description is the program's) one poll with no timeout
 * asks first whether the line fits. SIGPIPE is kept from the program: a
 * reader that is gone gives EPIPE. */
int sink_write_pipe(int fd, const char *p, size_t n, bool nonblock);

/* Our own O_NONBLOCK file description of the device fd 2 is (through
 * /proc/self/fd/2), moved high and close-on-exec; -1 and errno. */
int sink_open_tty(void);

/* fd 2 as a terminal, pty or other device (anything but a regular file, a
 * pipe or a socket). nonblock: fd is from sink_open_tty, one write;
 * otherwise one poll with no timeout, then one write. EAGAIN for a line
 * that does not fit now (or only partly: the rest is dropped). */
int sink_write_polled(int fd, const char *p, size_t n, bool nonblock);

/* The syslog socket: one datagram, MSG_DONTWAIT | MSG_NOSIGNAL. A receiver
 * that stopped reading gives EAGAIN; one that went away ECONNREFUSED, then
 * ENOTCONN. */
int sink_write_dgram(int fd, const char *p, size_t n);

#endif

/*
 * optlog: the socket options an application set on each fd, in order, so a
 * connection retried on a fresh socket (a source port whose 4-tuple turned
 * out to be taken) carries exactly what the application asked for.
 *
 * Only kept while some rule rotates source ports (optlog_enable). One record
 * per fd in pages mapped on first use, like fdtab: no lock, no malloc.
 * Appends reserve their space atomically. A record is "complete" only when
 * the shim saw the socket created and every option fitted; a retry needs a
 * complete record, otherwise the application gets the kernel's error.
 */
#ifndef SOCKSHIM_OPTLOG_H
#define SOCKSHIM_OPTLOG_H

#include <stdbool.h>
#include <sys/socket.h>

void optlog_enable(void);
bool optlog_enabled(void);

/* A socket was just created on fd (socket, accept): an empty, complete record. */
void optlog_start(int fd);
/* fd was closed or replaced by something the shim did not create. */
void optlog_forget(int fd);
/* to now refers to the same socket as from (dup*, F_DUPFD). */
void optlog_copy(int from, int to);
/* The application set an option successfully. */
void optlog_record(int fd, int level, int name, const void *val, socklen_t len);

/* Set fd's recorded options on newfd, in order. false (nothing done) when
 * the record is not complete. Options the kernel refuses are skipped. */
bool optlog_replay(int fd, int newfd);

#endif

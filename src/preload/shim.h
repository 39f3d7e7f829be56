/*
 * shim: the LD_PRELOAD front end of the engine. Each shim_X does what the
 * hook X promises: the same result and errno as libc's X unless a rule of
 * the policy says otherwise. hooks.c exports them under libc's names.
 */
#ifndef SOCKSHIM_SHIM_H
#define SOCKSHIM_SHIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "addr.h"

/* Load the policy and open the log, once; safe to call from any hook. */
void shim_init(void);
/* Fresh pid, rotation seed and counters in a forked child. */
void shim_after_fork_child(void);
/* At exit: one "summary" line per rule that matched a call (info). */
void shim_fini(void);

int shim_socket(int domain, int type, int protocol);
int shim_socketpair(int domain, int type, int protocol, int sv[2]);
int shim_bind(int fd, const struct sockaddr *addr, socklen_t len);
int shim_listen(int fd, int backlog);
int shim_connect(int fd, const struct sockaddr *addr, socklen_t len);
int shim_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
ssize_t shim_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr, socklen_t len);
ssize_t shim_sendmsg(int fd, const struct msghdr *msg, int flags);
int shim_sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags);
int shim_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags, int is_accept4);
int shim_close(int fd);
int shim_dup(int fd);
int shim_dup2(int fd, int fd2);
int shim_dup3(int fd, int fd2, int flags);
int shim_close_range(unsigned int first, unsigned int last, int flags);
void shim_closefrom(int lowfd);
int shim_fclose(FILE *fp);
/* fcntl and fcntl64; is64 picks which real function is called. */
int shim_fcntl(int fd, int cmd, void *arg, int is64);
pid_t shim_fork_raw(void);

/* For the hooks kept in files of their own (accept.c, batch.c, connect state): */
/* The fd's entry (fdtab.h); an fd the shim did not see created is asked
 * about once. */
uint32_t shim_fd_entry(int fd);
/* sendmsg of m (already copied from the application's memory) with its
 * own decision, as shim_sendmsg gives it. */
ssize_t shim_send_msg(int fd, const struct msghdr *m, int flags);
/* true once the policy is in place (the first hook to ask loads it). */
bool shim_ready(void);
/* Will a debug line for a call that makes no decision be written? (May
 * load the policy, as any hook may.) */
bool shim_plain_logged(void);
/* Write that line (fd's entry ent says what the socket is; addr may be
 * NULL). errno is set to err. */
void shim_log_plain_line(const char *op, int fd, uint32_t ent, const struct ss_addr *addr, const char *extra, int rc, int err);

#endif

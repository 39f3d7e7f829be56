/*
 * real: the libc functions the hooks stand in front of.
 *
 * Each real_X resolves libc's X with dlsym(RTLD_NEXT) the first time it is
 * needed (so a hook called before our constructor still works), publishes
 * the pointer with release/acquire atomics (no pthread_once: not
 * async-signal-safe), refuses NULL or our own hook, and falls back to the
 * raw system call when libc's symbol cannot be had.
 */
#ifndef SOCKSHIM_REAL_H
#define SOCKSHIM_REAL_H

#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Resolve every symbol now; called from the constructor. */
void real_resolve_all(void);

int real_socket(int domain, int type, int protocol);
int real_socketpair(int domain, int type, int protocol, int sv[2]);
int real_bind(int fd, const struct sockaddr *addr, socklen_t len);
int real_listen(int fd, int backlog);
int real_connect(int fd, const struct sockaddr *addr, socklen_t len);
int real_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
ssize_t real_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr, socklen_t len);
ssize_t real_sendmsg(int fd, const struct msghdr *msg, int flags);
int real_sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags);
int real_accept(int fd, struct sockaddr *addr, socklen_t *len);
int real_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int real_close(int fd);
int real_dup(int fd);
int real_dup2(int fd, int fd2);
int real_dup3(int fd, int fd2, int flags);
int real_close_range(unsigned int first, unsigned int last, int flags);
void real_closefrom(int lowfd);
int real_fclose(FILE *fp);
int real_fcntl(int fd, int cmd, void *arg);
int real_fcntl64(int fd, int cmd, void *arg);
pid_t real__Fork(void);

#endif

/*
 * supkind: what the supervisor asks the kernel about a target's socket at
 * the start of a call, once: its kind and its local address, and from them
 * what the preload would know from watching the program. Internal to the
 * seccomp front end.
 */
#ifndef SOCKSHIM_SUPKIND_H
#define SOCKSHIM_SUPKIND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "actions.h"
#include "suppin.h"

/* The kind of socket fd as fdtab_classify gives it (FD_TCP, FD_UDP,
 * FD_V6, ...), with its local address in *local, *len: the family is the
 * one getsockname answers (for an AF_INET or AF_INET6 socket, bound or
 * not, its own), so SO_DOMAIN is not asked; SO_PROTOCOL is, and SO_TYPE
 * only when the local port is not 0 (a raw socket may name IPPROTO_TCP,
 * and its local port is always its protocol's number). 0 with errno when
 * the kernel does not say (ENOTSOCK). */
uint32_t sup_kind(int fd, struct sockaddr_storage *local, socklen_t *len);

/* Is the local address sup_kind read the wildcard with port 0? A TCP
 * socket in that state has never connected, or gave back everything a
 * failed attempt took: its connect is a first one (no TCP_INFO needed). */
bool sup_unbound(const struct sockaddr_storage *local, socklen_t len);

/* For a call whose rule picks the source: fill what actions.c reads of
 * the socket's entry from the kernel and the pins (see supkind.c). */
void sup_learn(struct ss_call *c, const struct pin *pin, const struct sockaddr_storage *local, socklen_t len);

#endif

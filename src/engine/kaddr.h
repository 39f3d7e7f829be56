/*
 * kaddr: the address of a bind, connect or send as the kernel will read it
 * for the socket it is made on, for every front end.
 *
 * The kernel does not take only the family that matches the socket:
 * - AF_INET (net/ipv4/af_inet.c, udp.c, datagram.c): a bind with AF_UNSPEC
 *   and INADDR_ANY is a bind of 0.0.0.0 (a compatibility case); a UDP send
 *   with AF_UNSPEC is a send to the AF_INET address it carries; a connect
 *   with AF_UNSPEC (TCP or UDP) disconnects, and so does a TCP Fast Open
 *   send's (EOPNOTSUPP).
 * - AF_INET6 UDP (net/ipv6/udp.c, datagram.c): a send or connect with a
 *   plain sockaddr_in goes over IPv4 unless IPV6_V6ONLY is on (then
 *   ENETUNREACH / EAFNOSUPPORT); a send with AF_UNSPEC names no
 *   destination (the connected peer's, decided at connect). TCP and bind on
 *   AF_INET6 take only AF_INET6.
 * So a rule must see those addresses too, or a program passes a denied one
 * by spelling its family differently.
 */
#ifndef SOCKSHIM_KADDR_H
#define SOCKSHIM_KADDR_H

#include <stdbool.h>
#include <sys/socket.h>

#include "addr.h"
#include "policy.h"

/*
 * Read sa/len (a copy holding at least min(len, sizeof(struct
 * sockaddr_in6)) bytes) for op on a socket of proto (SS_PROTO_*) and
 * family (SS_FAM_*). true: the kernel acts on the address, which is in *a
 * in the socket's own form (an IPv4 address on an AF_INET6 socket as
 * IPv4-mapped, the form the engine matches as IPv4). false: the kernel
 * refuses it (EINVAL, EAFNOSUPPORT...) or it names no destination
 * (disconnect): the call is the kernel's to answer. v6only (may be NULL:
 * taken as off) is asked only for a sockaddr_in on an AF_INET6 socket;
 * it must preserve errno.
 */
bool ss_kernel_addr(struct ss_addr *a, enum ss_op op, unsigned proto, unsigned family, const struct sockaddr *sa,
		    socklen_t len, int (*v6only)(void *ctx), void *ctx);

#endif

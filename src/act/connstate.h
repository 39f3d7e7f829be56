/*
 * connstate: what a connect() on a TCP/UDP socket is to the kernel, for
 * both front ends: a new attempt, which the policy decides, or the
 * continuation or report of an earlier one, which passes through unchanged.
 *
 * Linux (net/ipv4/af_inet.c, __inet_stream_connect) starts a new attempt
 * only on a socket that is unconnected and closed. A non-blocking connect
 * that failed leaves the socket "connecting" and closed: the next connect
 * reports the failure (the pending error, or ECONNABORTED once SO_ERROR was
 * read) and disconnects it; the one after that really connects. AF_UNSPEC
 * disconnects too. A UDP connect is always a new association. So a flag
 * kept since the first connect cannot tell; the kernel can, and is asked
 * only about sockets that connected before.
 */
#ifndef SOCKSHIM_CONNSTATE_H
#define SOCKSHIM_CONNSTATE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "fdtab.h"

/* Did a connect with this result start or continue an attempt (TCP), or
 * make an association (UDP: rc == 0)? */
static inline bool ss_connect_in_progress(int rc, int err)
{
	return rc == 0 || err == EINPROGRESS || err == EALREADY || err == EISCONN || err == EINTR;
}

/*
 * Will the kernel act on a connect on TCP socket fd as a new attempt? One
 * getsockopt(TCP_INFO): closed and with no segment sent since it was last
 * unconnected (a failed attempt the kernel has not reported yet still
 * counts its SYN). true also when the kernel cannot say (not TCP, error):
 * then the call is decided, as a first connect would be. errno is kept.
 */
bool ss_tcp_connect_is_new(int fd);

/* The UDP half of ss_connect_noted, out of line: an association made
 * (rc == 0) on fd, whose entry is e. */
void ss_udp_connect_noted(int fd, uint32_t e, int family, const struct sockaddr *addr, socklen_t len);

/*
 * Preload: bring fd's entry up to date after a connect on it returned
 * (rc, err). family: the address family the program passed, or -1 when
 * the shim did not copy the address (it is then read through peek from
 * addr/len, for a UDP association only). A TCP attempt in progress is
 * marked FD_CONNECTING (its end is learned from the kernel at the next
 * connect: ss_connect_is_repeat); a UDP association marks FD_BOUND, and
 * a UDP disconnect asks the kernel whether the address went with it.
 * Inline: every connect the shim sees ends here. errno is kept.
 */
static inline void ss_connect_noted(int fd, int family, const struct sockaddr *addr, socklen_t len, int rc, int err)
{
	uint32_t e = fdtab_get(fd);
	if (!(e & (FD_TCP | FD_UDP)) || !ss_connect_in_progress(rc, err))
		return;
	if (e & FD_TCP) {
		/* an AF_UNSPEC the shim did not copy marks too: a stale mark
		 * costs one question to the kernel at the next connect */
		if (!(e & FD_CONNECTING) && family != AF_UNSPEC)
			fdtab_or(fd, FD_CONNECTING);
	} else if (rc == 0 && !((e & FD_BOUND) && family >= 0 && family != AF_UNSPEC)) {
		ss_udp_connect_noted(fd, e, family, addr, len);
	}
}

/*
 * Preload: is a connect on TCP socket fd, whose entry *ent says it
 * connected before, the continuation or report of that attempt (true:
 * pass it through)? false: a new attempt; FD_CONNECTING is cleared in
 * *ent and in fdtab.
 */
bool ss_connect_is_repeat(int fd, uint32_t *ent);


/*
 * Has TCP socket fd a local address? As ss_act_has_address, but a closed
 * socket whose earlier attempt failed (or was disconnected) still shows the
 * port it gave back in getsockname: for a wildcard address with a port on a
 * closed socket the kernel is asked whether the port is really held, by a
 * bind to the wildcard with IP_BIND_ADDRESS_NO_PORT, which a bound socket
 * refuses (EINVAL) and an unbound one takes without a port (it only clears
 * the stale port). For a socket whose history is not known (seccomp, or
 * adopted). probe false (dry-run) asks getsockname only: the bind would
 * change what getsockname shows. errno is kept.
 */
bool ss_tcp_has_address(int fd, bool probe);

/* The same, given what getsockname said of fd (ss, len): for a caller that
 * asked it already. */
bool ss_tcp_has_address_at(int fd, const struct sockaddr_storage *ss, socklen_t len, bool probe);

#endif

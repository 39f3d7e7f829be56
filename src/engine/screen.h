/*
 * screen: the preload's first look at an address, before the socket is
 * looked up or the address parsed: can any rule of the index hold it?
 *
 * The common pass-through under a large policy ends here. Inline, on the
 * hook's path; reads only the sockaddr already copied to the stack.
 */
#ifndef SOCKSHIM_SCREEN_H
#define SOCKSHIM_SCREEN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "index.h"

/*
 * false when no rule filed by address or port can hold the address in copy,
 * whatever the op (the caller keeps the index only when every rule has an
 * addr or a port). true when some rule may. A :: on an AF_INET6 socket may
 * be a dual-stack wildcard, which takes 0.0.0.0 too: rules holding 0.0.0.0
 * are asked as well.
 */
static inline __attribute__((always_inline)) bool ss_screen_may_hold(const struct ss_index *x, const struct sockaddr_storage *copy,
								      socklen_t len)
{
	const struct ss_index_dim *d4 = &x->dim[SS_DIM_V4];
	/* The port first: a rule with a port holds the call only if it holds
	 * the port, so when no rule holds it and every rule with an addr has a
	 * port too (one host, many ports), the address is never looked up. */
	if (copy->ss_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)copy;
		unsigned pm = ss_index_marks2(x->port_marks, ntohs(in->sin_port));
		if (pm & SS_MARK_ONE)
			return true;
		if (!pm && !x->addr_one)
			return false;
		uint32_t v4 = ntohl(in->sin_addr.s_addr);
		if (!ss_index_marks_may_hold(ss_index_marks2(x->v4_marks, v4 >> 16), pm))
			return false; /* no rule's address is near */
		return ss_index_marks_may_hold(d4->mark[ss_index_find32(d4, v4)], pm);
	}
	if (copy->ss_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)copy;
		unsigned pm = ss_index_marks2(x->port_marks, ntohs(in6->sin6_port));
		if (pm & SS_MARK_ONE)
			return true;
		if (!pm && !x->addr_one)
			return false;
		const uint8_t *b = in6->sin6_addr.s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) { /* matched as IPv4 */
			uint32_t v4 = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
			return ss_index_marks_may_hold(d4->mark[ss_index_find32(d4, v4)], pm);
		}
		const struct ss_index_dim *d6 = &x->dim[SS_DIM_V6];
		if (ss_index_marks_may_hold(d6->mark[ss_index_find(d6, ss_u128_from_bytes(b))], pm))
			return true;
		/* a :: may be a dual-stack wildcard, which takes 0.0.0.0 too */
		return IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr) && ss_index_marks_may_hold(d4->mark[ss_index_find32(d4, 0)], pm);
	}
	return true; /* a short IPv6 length: the whole decision */
}

#endif

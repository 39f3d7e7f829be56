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
	struct ss_index_hit a, p;
	if (copy->ss_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)copy;
		ss_index_hit_of(&x->dim[SS_DIM_PORT], ss_index_find32(&x->dim[SS_DIM_PORT], ntohs(in->sin_port)), &p);
		if (p.n_one)
			return true;
		ss_index_hit_of(&x->dim[SS_DIM_V4], ss_index_find32(&x->dim[SS_DIM_V4], ntohl(in->sin_addr.s_addr)), &a);
		return ss_index_may_hold(&a, &p);
	}
	if (copy->ss_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)copy;
		ss_index_hit_of(&x->dim[SS_DIM_PORT], ss_index_find32(&x->dim[SS_DIM_PORT], ntohs(in6->sin6_port)), &p);
		if (p.n_one)
			return true;
		const uint8_t *b = in6->sin6_addr.s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) { /* matched as IPv4 */
			uint32_t v4 = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
			ss_index_hit_of(&x->dim[SS_DIM_V4], ss_index_find32(&x->dim[SS_DIM_V4], v4), &a);
			return ss_index_may_hold(&a, &p);
		}
		ss_index_hit_of(&x->dim[SS_DIM_V6], ss_index_find(&x->dim[SS_DIM_V6], ss_u128_from_bytes(b)), &a);
		if (ss_index_may_hold(&a, &p))
			return true;
		if (!IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr))
			return false;
		ss_index_hit_of(&x->dim[SS_DIM_V4], ss_index_find32(&x->dim[SS_DIM_V4], 0), &a);
		return ss_index_may_hold(&a, &p);
	}
	return true; /* a short IPv6 length: the whole decision */
}

#endif

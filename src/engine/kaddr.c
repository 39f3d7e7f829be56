/*
 * kaddr: see kaddr.h. The cases follow Linux's inet_bind,
 * inet_dgram_connect / __inet_stream_connect, udp_sendmsg, udpv6_sendmsg,
 * __ip6_datagram_connect and tcp_sendmsg_fastopen.
 */
#include "kaddr.h"

#include <netinet/in.h>
#include <string.h>

/* A sockaddr_in's fields, whatever its family field says. */
static void read_in(struct ss_addr *a, const struct sockaddr *sa)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
	memset(a, 0, sizeof(*a));
	a->family = 4;
	memcpy(a->ip, &in->sin_addr, 4);
	a->port = ntohs(in->sin_port);
}

/* The IPv4 cases of an AF_INET socket: what AF_UNSPEC is taken for. */
static bool on_inet(struct ss_addr *a, enum ss_op op, unsigned proto, const struct sockaddr *sa, socklen_t len)
{
	if (len < (socklen_t)sizeof(struct sockaddr_in))
		return false; /* EINVAL, or a disconnect for AF_UNSPEC connect */
	if (sa->sa_family == AF_INET) {
		read_in(a, sa);
		return true;
	}
	if (sa->sa_family != AF_UNSPEC)
		return false; /* EAFNOSUPPORT */
	switch (op) {
	case SS_OP_BIND: /* "compatibility games": AF_UNSPEC only with INADDR_ANY */
		read_in(a, sa);
		return ((const struct sockaddr_in *)sa)->sin_addr.s_addr == htonl(INADDR_ANY);
	case SS_OP_SEND: /* UDP takes it as AF_INET; TCP Fast Open refuses it */
		read_in(a, sa);
		return proto == SS_PROTO_UDP;
	default: /* connect: a disconnect */
		return false;
	}
}

bool ss_kernel_addr(struct ss_addr *a, enum ss_op op, unsigned proto, unsigned family, const struct sockaddr *sa,
		    socklen_t len, int (*v6only)(void *ctx), void *ctx)
{
	if (!sa || len < (socklen_t)sizeof(sa_family_t) || len > (socklen_t)sizeof(struct sockaddr_storage))
		return false;
	if (family != SS_FAM_V6)
		return on_inet(a, op, proto, sa, len);
	if (sa->sa_family == AF_INET6)
		return ss_addr_from_sockaddr(a, sa, len); /* false below the 24-byte RFC 2133 form: EINVAL */
	/* A sockaddr_in on an AF_INET6 socket: an IPv4 send or connect for
	 * UDP (not with IPV6_V6ONLY); bind and TCP refuse it. */
	if (sa->sa_family != AF_INET || proto != SS_PROTO_UDP || (op != SS_OP_SEND && op != SS_OP_CONNECT))
		return false;
	if (len < (socklen_t)sizeof(struct sockaddr_in) || (v6only && v6only(ctx) == 1))
		return false;
	read_in(a, sa);
	return ss_addr_for_family(a, 6);
}

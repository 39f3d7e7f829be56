/*
 * supkind: a target's socket as the kernel describes it (see supkind.h).
 */
#include "supkind.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "addr.h"
#include "connstate.h"
#include "fdtab.h"

/* The port getsockname gave (network order is fine: only 0 matters) */
static unsigned local_port(const struct sockaddr_storage *local)
{
	return local->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)local)->sin6_port
					    : ((const struct sockaddr_in *)local)->sin_port;
}

uint32_t sup_kind(int fd, struct sockaddr_storage *local, socklen_t *len)
{
	int type, proto;
	socklen_t l2 = sizeof(type), l3 = sizeof(proto);
	*len = sizeof(*local);
	memset(local, 0, sizeof(*local));
	if (getsockname(fd, (struct sockaddr *)local, len) < 0)
		return 0;
	if (local->ss_family != AF_INET && local->ss_family != AF_INET6)
		return FD_KNOWN | FD_OTHER; /* a unix, netlink, packet... socket */
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &l3) < 0)
		return 0;
	/* Only a raw socket names TCP or UDP with another type than stream or
	 * datagram, and a raw socket's local port is its protocol for good:
	 * with port 0 the type is not asked (every first connect or send). */
	if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP) && !local_port(local))
		type = proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	else if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l2) < 0)
		return 0;
	return fdtab_classify(local->ss_family, type, proto);
}

bool sup_unbound(const struct sockaddr_storage *local, socklen_t len)
{
	struct ss_addr a;
	return ss_addr_from_sockaddr(&a, (const struct sockaddr *)local, len) && !a.port && ss_addr_is_any(&a);
}

/* ss_act_has_address on the address sup_kind read */
static bool has_address(const struct sockaddr_storage *local, socklen_t len)
{
	struct ss_addr a;
	return ss_addr_from_sockaddr(&a, (const struct sockaddr *)local, len) && (a.port || !ss_addr_is_any(&a));
}

/*
 * What the preload knows from watching the program, asked of the kernel
 * and the pins instead, so that the socket is no longer adopted (actions.c:
 * plan_source, udp_exclusive): whether it has a local address (the one
 * sup_kind read), and whether the supervisor gave it that address (else
 * the program did: "app-bound"); whether the program turned SO_REUSEADDR
 * or SO_REUSEPORT on (a flag a rule pinned on is the rule's). Its options
 * stay unknown: optlog has no record for our duplicate (but the one
 * supconnect.c's prepare_retry makes), so fresh_socket refuses a retry as
 * it does for an adopted socket.
 */
void sup_learn(struct ss_call *c, const struct pin *pin, const struct sockaddr_storage *local, socklen_t len)
{
	c->ent &= ~(FD_ADOPTED | FD_APPBOUND);
	if (pin->bound)
		c->ent |= FD_BOUND;
	else if (c->proto == SS_PROTO_TCP ? ss_tcp_has_address_at(c->fd, local, len, !c->dry) : has_address(local, len))
		c->ent |= FD_BOUND | (c->proto == SS_PROTO_TCP && pin_ours(c->fd) ? 0 : FD_APPBOUND);
	if (c->proto != SS_PROTO_UDP)
		return;
	static const struct {
		int opt;
		unsigned shift;
	} flags[2] = { { SO_REUSEADDR, FD_RA_SHIFT }, { SO_REUSEPORT, FD_RP_SHIFT } };
	for (int i = 0; i < 2; i++) {
		int on = 0;
		socklen_t l = sizeof(on);
		if (((pin->locks >> flags[i].shift) & 3u) != FD_LOCK_ON &&
		    getsockopt(c->fd, SOL_SOCKET, flags[i].opt, &on, &l) == 0 && on)
			c->ent |= FD_APPREUSE;
	}
}

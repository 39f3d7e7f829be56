/*
 * actions: carry out a rule's actions on the application's real socket.
 *
 * A struct ss_call holds one intercepted call while it is being decided and
 * carried out: what the application passed, what the socket is, the rule,
 * and the action strings for the log. Every function here honours dry-run:
 * it records what it would do and changes nothing.
 */
#ifndef SOCKSHIM_ACTIONS_H
#define SOCKSHIM_ACTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "log.h"
#include "policy.h"

struct ss_call {
	enum ss_op op;
	int fd;
	uint32_t ent;             /* fdtab entry */
	unsigned proto, family;   /* SS_PROTO_*, SS_FAM_* */
	struct ss_addr app;       /* as the application passed it */
	const struct ss_rule *rule;
	bool dry;
	bool failed;              /* an action could not be carried out */
	struct ss_actions acts;
};

/* SO_REUSEADDR / SO_REUSEPORT force or deny, pinned against later undoing. */
void ss_act_reuse(struct ss_call *c);

/* The rule's sockopt list. */
void ss_act_sockopts(struct ss_call *c);

/*
 * Apply the rule's rewrite to *target (in the socket's family). false when
 * the rewrite cannot be expressed for this socket (IPv6 target on an IPv4
 * socket): the call must then fail with EAFNOSUPPORT.
 */
bool ss_act_rewrite(struct ss_call *c, struct ss_addr *target);

/*
 * Pin the source address/port before connecting or sending to dest.
 * Returns 0 when bound or nothing was to be done, -1 with errno when the
 * bind failed (the kernel's own error, e.g. EADDRINUSE when the whole port
 * window is busy).
 */
int ss_act_source(struct ss_call *c, const struct ss_addr *dest);

/* true when the socket already has a local address (asks the kernel only
 * for sockets the shim did not see created). */
bool ss_socket_is_bound(const struct ss_call *c);

#endif

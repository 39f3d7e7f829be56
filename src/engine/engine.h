/*
 * engine: which rule decides an operation. Pure: no I/O, no interposition,
 * no allocation, safe from any thread or signal handler.
 *
 * Front ends (the preload hooks, the launcher's explain, a supervisor)
 * describe what the application asked for as an ss_opdesc and carry out the
 * rule that comes back; NULL means the call passes through untouched.
 */
#ifndef SOCKSHIM_ENGINE_H
#define SOCKSHIM_ENGINE_H

#include "addr.h"
#include "policy.h"

struct ss_opdesc {
	enum ss_op op;
	unsigned proto;             /* SS_PROTO_TCP or SS_PROTO_UDP */
	unsigned family;            /* SS_FAM_V4 or SS_FAM_V6: the socket's family */
	const struct ss_addr *addr; /* as the application passed it (local for bind/listen) */
	const char *program;        /* NULL: use the policy's bound program */
	/* bind/listen of :: on an AF_INET6 socket with IPV6_V6ONLY=0: the
	 * socket takes 0.0.0.0 too, so rules holding 0.0.0.0 match as well */
	bool dual;
	/* connect/send: the name a lookup returned the address for; resolve:
	 * the name looked up. Normal form (hostname.h); NULL: none, and no
	 * `host` rule matches. */
	const char *host;
};

/* The first rule whose matchers all match, or NULL. */
const struct ss_rule *ss_decide(const struct ss_policy *p, const struct ss_opdesc *op);

/* Whether rule r matches op (exposed for explain and tests). */
bool ss_rule_matches(const struct ss_rule *r, const struct ss_opdesc *op);

#endif

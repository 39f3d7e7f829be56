/*
 * decide: the one path from "what the program passed" to a decision, for
 * every front end (the preload's hooks, the seccomp supervisor, explain), so
 * they cannot disagree.
 *
 * It turns a call (op, the socket's protocol and family, the address as
 * passed, the program's names) into engine operations and settles the two
 * things the engine alone cannot: which of the program's names a rule's
 * `program` globs see, and whether a bind or listen of :: on an AF_INET6
 * socket also takes 0.0.0.0 (IPV6_V6ONLY=0, POLICY.md's dual-stack rule).
 * Pure apart from the front end's v6only callback, which it calls only when
 * the answer depends on it: a :: bind that a rule holding 0.0.0.0 would
 * decide differently.
 */
#ifndef SOCKSHIM_DECIDE_H
#define SOCKSHIM_DECIDE_H

#include "engine.h"

struct ss_callsite {
	enum ss_op op;
	unsigned proto;             /* SS_PROTO_*: the socket's */
	unsigned family;            /* SS_FAM_*: the socket's */
	const struct ss_addr *addr; /* as the program passed it (local for bind/listen) */
	/* The program's names, as `program` globs see them: NULL argv0 means the
	 * names the policy was bound to (ss_policy_bind_program); else the
	 * earlier rule of the two answers for argv0 and exe (exe may be NULL or
	 * empty). */
	const char *argv0, *exe;
	/* The socket's IPV6_V6ONLY: 1 on, 0 off, -1 not known (taken as on).
	 * NULL: taken as on. Must preserve errno. */
	int (*v6only)(void *ctx);
	void *ctx;
};

/* Whether the call is a bind or listen of :: on an AF_INET6 socket, whose
 * answer may depend on IPV6_V6ONLY. */
bool ss_call_is_wild6(const struct ss_callsite *c);

/*
 * The rule that decides the call, or NULL (pass through). *dual, when not
 * NULL, says whether the socket was taken as dual-stack (asked, and
 * IPV6_V6ONLY=0); it is false when the question did not matter.
 */
const struct ss_rule *ss_decide_call(const struct ss_policy *p, const struct ss_callsite *c, bool *dual);

/* The same with the name `host` rules see: for connect/send the name a
 * lookup returned c->addr for, for resolve the name looked up (normal
 * form, hostname.h); NULL: none, and no `host` rule matches. */
const struct ss_rule *ss_decide_call_host(const struct ss_policy *p, const struct ss_callsite *c, const char *host, bool *dual);

#endif

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
	int8_t netns;             /* 0: not asked yet; 1, -1: whether the socket is of the
				   * namespace whose port range was probed (window.h), asked
				   * once per call; each front end zeroes it */
	struct ss_actions acts;
};

/* Count a decided call's outcome (c->rule set) for the rule's summary
 * line; a rule without actions is logged "allow". */
void ss_act_tally(struct ss_call *c);

/* Count a name lookup that rule r decides, for its summary line: matched,
 * and applied (in dry-run too, where the summary says would_apply), as
 * ss_act_tally counts a socket call; a lookup's actions cannot fail. */
void ss_act_tally_resolve(const struct ss_rule *r);

/* Record in the host table that a lookup of name (normal form) returned a,
 * when a `host` rule could ever ask: the live policy has one on connect or
 * send (a resolve rule's `host` is the name itself), or reload is
 * on (a reloaded file may bring one, and it then matches the addresses
 * looked up before). Otherwise the table stays untouched. */
void ss_act_remember(const struct ss_addr *a, const char *name);

/* Has fd a local address (bound, auto-bound by a send, or connected)? The
 * kernel's answer (getsockname), for a socket whose history is not known;
 * errno is kept. */
bool ss_act_has_address(int fd);

/* SO_REUSEADDR / SO_REUSEPORT force or deny, pinned against later undoing. */
void ss_act_reuse(struct ss_call *c);

/* The rule's sockopt list. */
void ss_act_sockopts(struct ss_call *c);

/*
 * Apply the rule's rewrite to *target (in the socket's family). false when
 * the rewrite cannot be expressed for this socket (IPv6 target on an IPv4
 * socket): the call must then fail with EAFNOSUPPORT (under dry-run it is
 * logged as failing and true is returned: the call goes on untouched).
 */
bool ss_act_rewrite(struct ss_call *c, struct ss_addr *target);

/*
 * Pin the source address/port before sending to dest (UDP's first send).
 * Returns 0 when bound or nothing was to be done, -1 with errno when the
 * bind failed (the kernel's own error, e.g. EADDRINUSE when the whole port
 * window is busy).
 */
int ss_act_source(struct ss_call *c, const struct ss_addr *dest);

/* How many addresses of the rule's pool a socket like c's may be bound to
 * for a call to dest (an IPv6 socket talking to an IPv4-mapped destination
 * takes only the IPv4 ones). One: a connect from it has no other address
 * to hand over to when every port from it is taken. */
unsigned ss_act_usable_sources(const struct ss_call *c, const struct ss_addr *dest);

/*
 * May a connect from the rule's window, when its port's 4-tuple is taken,
 * be retried on a fresh socket that then replaces the program's? Only where
 * the kernel cannot check the window's ports (window.h: those are retried on
 * the same socket) and only for a blocking socket: a non-blocking connect
 * gets EADDRNOTAVAIL instead, since the program may watch the socket it has
 * (epoll registrations stay with the replaced socket, not the fd number).
 */
bool ss_act_may_replace(struct ss_call *c);

/* Does a connect under c's rule stay on the program's own socket, whatever
 * it retries (no window, or a TCP window the kernel checks), so that the
 * socket is never replaced by a fresh one? */
bool ss_act_same_socket(struct ss_call *c);

/*
 * connect(c->fd, to) from the rule's source. A pool address with no port
 * left for this destination hands over to the next address on the same
 * socket; a window port whose 4-tuple is taken (EADDRNOTAVAIL) is retried
 * from the next port: on the same socket where the kernel checks the window
 * (window.h), else on a fresh socket carrying the application's options,
 * put in place on the application's fd (see ss_act_may_replace). Returns
 * connect's result with errno: the application sees one connect. With no
 * source to pin it is just the real connect.
 */
int ss_act_connect(struct ss_call *c, const struct ss_addr *dest, const struct sockaddr *to, socklen_t tolen);

#endif

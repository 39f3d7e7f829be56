/*
 * decide: see decide.h.
 */
#include "decide.h"

#include <stddef.h>
#include <string.h>

bool ss_call_is_wild6(const struct ss_callsite *c)
{
	static const uint8_t zero[16];
	return (c->op == SS_OP_BIND || c->op == SS_OP_LISTEN) && c->family == SS_FAM_V6 && c->addr->family == 6 &&
	       memcmp(c->addr->ip, zero, sizeof(zero)) == 0;
}

/* The first rule for d under the program's names (see decide.h). */
static const struct ss_rule *for_program(const struct ss_policy *p, struct ss_opdesc *d, const struct ss_callsite *c)
{
	d->program = c->argv0;
	const struct ss_rule *a = ss_decide(p, d);
	if (!c->argv0 || !c->exe || !c->exe[0])
		return a;
	/* a rule's program matches argv[0] or the executable: the first rule
	 * matching either is the earlier of the two answers */
	d->program = c->exe;
	const struct ss_rule *b = ss_decide(p, d);
	return !a ? b : !b ? a : (a < b ? a : b);
}

const struct ss_rule *ss_decide_call(const struct ss_policy *p, const struct ss_callsite *c, bool *dual)
{
	return ss_decide_call_host(p, c, NULL, dual);
}

const struct ss_rule *ss_decide_call_host(const struct ss_policy *p, const struct ss_callsite *c, const char *host, bool *dual)
{
	struct ss_opdesc d = { c->op, c->proto, c->family, c->addr, NULL, false, host };
	if (dual)
		*dual = false;
	const struct ss_rule *r = for_program(p, &d, c);
	if (!c->v6only || !ss_call_is_wild6(c))
		return r;
	/* Only when a rule that holds 0.0.0.0 would decide otherwise is the
	 * socket asked (one getsockopt, on this rare path only). */
	d.dual = true;
	const struct ss_rule *r2 = for_program(p, &d, c);
	if (r2 == r || c->v6only(c->ctx) != 0)
		return r;
	if (dual)
		*dual = true;
	return r2;
}

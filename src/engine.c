/*
 * engine: first-match rule selection (see engine.h).
 */
#include "engine.h"

bool ss_rule_matches(const struct ss_rule *r, const struct ss_opdesc *op)
{
	if (!(r->ops & SS_OPBIT(op->op)))
		return false;
	if (r->protos && !(r->protos & op->proto))
		return false;
	if (r->families && !(r->families & op->family))
		return false;
	if (op->program) {
		bool ok = r->nprograms == 0;
		for (unsigned i = 0; i < r->nprograms && !ok; i++)
			ok = ss_glob_match(r->programs[i], op->program);
		if (!ok)
			return false;
	} else if (!r->program_ok) {
		return false;
	}
	if (r->has_port && !ss_portset_contains(&r->port, op->addr->port))
		return false;
	if (r->has_addr && !ss_ipset_contains(&r->addr, op->addr))
		return false;
	return true;
}

const struct ss_rule *ss_decide(const struct ss_policy *p, const struct ss_opdesc *op)
{
	if (p->nerrors || !(p->op_mask & SS_OPBIT(op->op)))
		return NULL;
	for (unsigned i = 0; i < p->nrules; i++)
		if (ss_rule_matches(&p->rules[i], op))
			return &p->rules[i];
	return NULL;
}

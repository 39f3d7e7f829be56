/*
 * engine: first-match rule selection (see engine.h).
 */
#include "engine.h"

#include <stdint.h>

#include "index.h"

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

/* Walk the candidate lists of the index in rule order: the first candidate
 * that matches is the first rule that matches. */
static const struct ss_rule *decide_indexed(const struct ss_policy *p, const struct ss_index *x, const struct ss_opdesc *op)
{
	const uint32_t *l[3] = { NULL, NULL, x->always };
	uint32_t n[3], at[3] = { 0, 0, 0 };
	uint32_t v4;
	if (ss_addr_v4_view(op->addr, &v4))
		n[0] = ss_index_lookup32(&x->dim[SS_DIM_V4], v4, &l[0]);
	else
		ss_index_lookup(&x->dim[SS_DIM_V6], ss_u128_from_bytes(op->addr->ip), &l[0], &n[0]);
	n[1] = ss_index_lookup32(&x->dim[SS_DIM_PORT], op->addr->port, &l[1]);
	n[2] = x->nalways;
	if (!(n[0] | n[1] | n[2]))
		return NULL; /* the common pass-through: no rule holds the address or port */
	for (;;) {
		int w = -1;
		uint32_t best = UINT32_MAX;
		for (int i = 0; i < 3; i++)
			if (at[i] < n[i] && l[i][at[i]] < best)
				best = l[i][at[w = i]];
		if (w < 0)
			return NULL;
		at[w]++;
		if (ss_rule_matches(&p->rules[best], op))
			return &p->rules[best];
	}
}

const struct ss_rule *ss_decide(const struct ss_policy *p, const struct ss_opdesc *op)
{
	if (p->nerrors || !(p->op_mask & SS_OPBIT(op->op)))
		return NULL;
	if (p->index)
		return decide_indexed(p, p->index, op);
	for (unsigned i = 0; i < p->nrules; i++)
		if (ss_rule_matches(&p->rules[i], op))
			return &p->rules[i];
	return NULL;
}

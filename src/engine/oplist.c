/*
 * oplist: see oplist.h.
 */
#include "oplist.h"

#include "index.h"

bool ss_policy_index(struct ss_policy *p)
{
	for (unsigned op = 0; op < SS_OP_COUNT; op++) {
		uint32_t k = 0;
		for (unsigned i = 0; i < p->nrules; i++)
			k += (p->rules[i].ops & SS_OPBIT(op)) != 0;
		uint32_t *ids = arena_alloc(p->arena, (k ? k : 1) * sizeof(uint32_t));
		if (!ids)
			return false;
		for (unsigned i = 0, j = 0; i < p->nrules; i++)
			if (p->rules[i].ops & SS_OPBIT(op))
				ids[j++] = i;
		p->op_rules[op] = ids;
		p->op_nrules[op] = k;
	}
	p->index = ss_index_build(p->arena, p->rules, p->nrules);
	return true;
}

/*
 * oplist: what a loaded policy keeps to decide quickly: the rules naming
 * each op (so a decision never tries a rule on another op: a `resolve` rule
 * costs a connect nothing) and the index (index.h).
 */
#ifndef SOCKSHIM_OPLIST_H
#define SOCKSHIM_OPLIST_H

#include <stdbool.h>

#include "policy.h"

/* Build p->op_rules, p->op_nrules and p->index from p->rules, in p's arena.
 * false when memory runs out. */
bool ss_policy_index(struct ss_policy *p);

#endif

/*
 * engine: first-match rule selection (see engine.h).
 */
#include "engine.h"

#include "hostname.h"

#include <stdint.h>

#include "hostindex.h"
#include "index.h"

/* 0.0.0.0, which a dual-stack wildcard bind takes as well as :: */
static const struct ss_addr any4 = { .family = 4 };

bool ss_rule_matches(const struct ss_rule *r, const struct ss_opdesc *op)
{
	if (!(r->ops & SS_OPBIT(op->op)))
		return false;
	if (r->protos && !(r->protos & op->proto))
		return false;
	/* a lookup asks for one family or both (AF_UNSPEC): a rule with
	 * `family` takes it only when it names every family asked for, so that
	 * family = ipv6 never decides an AF_UNSPEC lookup's IPv4 answers */
	if (r->families && (op->op == SS_OP_RESOLVE ? (op->family & ~r->families) != 0 : !(r->families & op->family)))
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
	if (r->nhosts && (!op->host || !ss_host_match(r->hosts, r->nhosts, op->host)))
		return false;
	if (op->op == SS_OP_RESOLVE)
		return true; /* no address */
	if (r->has_port && !ss_portset_contains(&r->port, op->addr->port))
		return false;
	if (r->has_addr && !ss_ipset_contains(&r->addr, op->addr) && !(op->dual && ss_ipset_contains(&r->addr, &any4)))
		return false;
	return true;
}

/* Candidate lists of one decision: at most two address hits (a dual-stack
 * wildcard asks :: and 0.0.0.0), each giving its "one" list and the shorter
 * of its "both" list and the port's, plus the port's "one" list and the
 * rules with neither, and for a destination with a name the host index's
 * rules for it and its glob rules. */
#define MAX_LISTS 8

static unsigned add_hits(const struct ss_index_hit *a, const struct ss_index_hit *port, const uint32_t **l, uint32_t *n, unsigned k)
{
	l[k] = a->one;
	n[k++] = a->n_one;
	bool a_shorter = a->n_both <= port->n_both;
	l[k] = a_shorter ? a->both : port->both;
	n[k++] = a_shorter ? a->n_both : port->n_both;
	return k;
}

/* Walk the candidate lists of the index in rule order: the first candidate
 * that matches is the first rule that matches. */
static const struct ss_rule *decide_indexed(const struct ss_policy *p, const struct ss_index *x, const struct ss_opdesc *op)
{
	const uint32_t *l[MAX_LISTS];
	uint32_t n[MAX_LISTS], at[MAX_LISTS] = { 0 };
	struct ss_index_hit a, port;
	uint32_t v4;
	unsigned k = 0;
	ss_index_hit_of(&x->dim[SS_DIM_PORT], ss_index_find32(&x->dim[SS_DIM_PORT], op->addr->port), &port);
	if (ss_addr_v4_view(op->addr, &v4))
		ss_index_hit_of(&x->dim[SS_DIM_V4], ss_index_find32(&x->dim[SS_DIM_V4], v4), &a);
	else
		ss_index_hit_of(&x->dim[SS_DIM_V6], ss_index_find(&x->dim[SS_DIM_V6], ss_u128_from_bytes(op->addr->ip)), &a);
	bool may = ss_index_may_hold(&a, &port);
	k = add_hits(&a, &port, l, n, k);
	if (op->dual) {
		ss_index_hit_of(&x->dim[SS_DIM_V4], ss_index_find32(&x->dim[SS_DIM_V4], 0), &a);
		may = may || ss_index_may_hold(&a, &port);
		k = add_hits(&a, &port, l, n, k);
	}
	/* host rules: those for this name only, none when it has no name */
	const uint32_t *hl = NULL;
	uint32_t hn = 0, gn = 0;
	if (x->hosts && op->host) {
		hn = ss_hostindex_exact(x->hosts, op->host, &hl);
		gn = x->hosts->nglobs;
	}
	if (!may && !x->nalways && !hn && !gn)
		return NULL; /* the common pass-through: no rule holds the address or port */
	l[k] = port.one;
	n[k++] = port.n_one;
	l[k] = x->always;
	n[k++] = x->nalways;
	if (hn) {
		l[k] = hl;
		n[k++] = hn;
	}
	if (gn) {
		l[k] = x->hosts->globs;
		n[k++] = gn;
	}
	for (;;) {
		int w = -1;
		uint32_t best = UINT32_MAX;
		for (unsigned i = 0; i < k; i++)
			if (at[i] < n[i] && l[i][at[i]] < best)
				best = l[i][at[w = (int)i]];
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
	if (p->index && op->op != SS_OP_RESOLVE)
		return decide_indexed(p, p->index, op);
	/* only the rules on this op: a resolve rule costs a connect nothing */
	const uint32_t *ids = p->op_rules[op->op];
	for (uint32_t i = 0, n = p->op_nrules[op->op]; i < n; i++)
		if (ss_rule_matches(&p->rules[ids[i]], op))
			return &p->rules[ids[i]];
	return NULL;
}

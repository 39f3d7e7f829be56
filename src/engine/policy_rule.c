/*
 * policy_rule: a rule whose section has ended, checked as a whole (keys
 * that mean nothing for its `on`, actions that cannot go together) and
 * copied into the policy's arena (see policy_parse.h).
 */
#include <string.h>

#include "fmt.h"
#include "policy_parse.h"

static void *vec_to_arena(struct parser *ps, struct vec *v)
{
	void *d = NULL;
	if (v->len) {
		d = arena_alloc(ps->p->arena, v->len * v->elem);
		if (d)
			memcpy(d, v->data, v->len * v->elem);
		else
			ps->oom = true;
	}
	vec_free(v);
	return d;
}

static void ops_text(struct fmt *f, unsigned ops)
{
	bool first = true;
	for (unsigned op = 0; op < SS_OP_COUNT; op++) {
		if (!(ops & SS_OPBIT(op)))
			continue;
		if (!first)
			fmt_str(f, ", ");
		fmt_str(f, pp_op_names[op]);
		first = false;
	}
}

void pp_finish_rule(struct parser *ps, struct rule_build *rb)
{
	struct ss_rule *r = &rb->r;
	struct arena *ar = ps->p->arena;

	r->has_addr = rb->key_line[K_ADDR] != 0;
	r->has_port = rb->key_line[K_PORT] != 0;
	r->has_source_port = rb->key_line[K_SOURCE_PORT] != 0;
	r->line_reuseaddr = rb->key_line[K_REUSEADDR];
	r->line_reuseport = rb->key_line[K_REUSEPORT];
	r->line_source = rb->key_line[K_SOURCE];
	r->line_source_port = rb->key_line[K_SOURCE_PORT];
	r->line_rotate = rb->key_line[K_ROTATE];
	if (!ss_ipset_builder_finish(&rb->addr, ar, &r->addr) ||
	    !ss_portset_builder_finish(&rb->port, ar, &r->port) ||
	    !ss_portset_builder_finish(&rb->source_port, ar, &r->source_port))
		ps->oom = true;
	r->nprograms = (unsigned)rb->programs.len;
	r->programs = vec_to_arena(ps, &rb->programs);
	r->nsockopts = (unsigned)rb->sockopts.len;
	r->sockopts = vec_to_arena(ps, &rb->sockopts);
	r->nsource = (unsigned)rb->sources.len;
	r->source = vec_to_arena(ps, &rb->sources);
	r->program_ok = true;
	r->state = arena_alloc(ar, sizeof(*r->state));
	if (!r->state)
		ps->oom = true;
	else
		r->state->cursor = r->state->local;

	if (!rb->key_line[K_ON]) {
		pp_report(ps, r->line, "rule '", r->name, "' has no 'on' (bind, listen, connect or send)", NULL);
		return;
	}
	for (unsigned k = 0; k < K_COUNT; k++) {
		if (!rb->key_line[k] || !pp_keys[k].action)
			continue;
		r->has_actions = true;
		unsigned useless = r->ops & ~pp_keys[k].ops;
		if (useless) {
			char ops[64];
			struct fmt f;
			fmt_init(&f, ops, sizeof(ops));
			ops_text(&f, useless);
			pp_report(ps, rb->key_line[k], "'", pp_keys[k].name, "' means nothing for on = ", ops, NULL);
		}
	}
	if (rb->key_line[K_DENY]) {
		for (unsigned k = 0; k < K_COUNT; k++)
			if (k != K_DENY && rb->key_line[k] && pp_keys[k].action)
				pp_report(ps, rb->key_line[k], "'", pp_keys[k].name, "' cannot be combined with 'deny' in one rule", NULL);
	}
	if (rb->key_line[K_ROTATE] && !rb->key_line[K_SOURCE] && !rb->key_line[K_SOURCE_PORT])
		pp_report(ps, rb->key_line[K_ROTATE], "'rotate' needs 'source' or 'source_port'", NULL);
	if (rb->key_line[K_ROTATE_SCOPE] && !rb->key_line[K_SOURCE] && !rb->key_line[K_SOURCE_PORT])
		pp_report(ps, rb->key_line[K_ROTATE_SCOPE], "'rotate_scope' needs 'source' or 'source_port'", NULL);
	if (rb->key_line[K_ROTATE] && r->rotate == SS_ROTATE_KERNEL) {
		if (!rb->key_line[K_SOURCE_PORT])
			pp_report(ps, rb->key_line[K_ROTATE], "'rotate = kernel' needs 'source_port'", NULL);
		else if (r->source_port.n != 1)
			pp_report(ps, rb->key_line[K_SOURCE_PORT], "'rotate = kernel' takes a single port range in 'source_port'", NULL);
	}
	if (r->has_rewrite && r->rewrite_ip && r->rewrite.family == 6 && r->families == SS_FAM_V4)
		pp_report(ps, rb->key_line[K_REWRITE], "'rewrite' to an IPv6 address cannot apply to family = ipv4", NULL);
	if (r->has_source_port && r->source_port.count && r->source_port.r[0].lo == 0)
		pp_report(ps, rb->key_line[K_SOURCE_PORT], "'source_port' cannot include port 0", NULL);
}

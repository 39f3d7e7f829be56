/*
 * policy_rule: a rule whose section has ended, checked as a whole (keys
 * that mean nothing for its `on`, actions that cannot go together) and
 * copied into the policy's arena (see policy_parse.h).
 */
#include <string.h>

#include "fmt.h"
#include "hostname.h"
#include "names.h"
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

static void bad_value_at(struct parser *ps, unsigned line, const char *key, const char *item, const char *expected)
{
	char msg[400];
	struct fmt f;
	fmt_init(&f, msg, sizeof(msg));
	fmt_str(&f, "bad value '");
	fmt_str(&f, item);
	fmt_str(&f, "' for '");
	fmt_str(&f, key);
	fmt_str(&f, "': expected ");
	fmt_str(&f, expected);
	pp_report(ps, line, msg, NULL);
}

#define SS_ANSWERS_MAX 16

/* resolve's rewrite: a list of addresses to answer with. */
static void read_answers(struct parser *ps, struct rule_build *rb, unsigned line)
{
	struct ss_addr got[SS_ANSWERS_MAX];
	unsigned n = 0;
	const char *s = rb->rewrite_text;
	for (;;) {
		const char *comma = strchr(s, ',');
		const char *e = comma ? comma : s + strlen(s);
		while (s < e && pp_is_space(*s))
			s++;
		while (e > s && pp_is_space(e[-1]))
			e--;
		char item[64];
		if (s == e && !comma && n)
			break; /* a trailing comma */
		if ((size_t)(e - s) >= sizeof(item) || s == e) {
			bad_value_at(ps, line, "rewrite", rb->rewrite_text, "a list of addresses such as 127.0.0.1, ::1");
			return;
		}
		memcpy(item, s, (size_t)(e - s));
		item[e - s] = '\0';
		if (n == SS_ANSWERS_MAX) {
			pp_report(ps, line, "'rewrite' on resolve takes at most 16 addresses", NULL);
			return;
		}
		if (!ss_addr_parse_ip(&got[n], item)) {
			bad_value_at(ps, line, "rewrite", item, "an address such as 127.0.0.1 or ::1 (on = resolve answers with addresses, no port)");
			return;
		}
		got[n].port = 0;
		n++;
		if (!comma)
			break;
		s = comma + 1;
	}
	struct ss_rule *r = &rb->r;
	bool v4 = false, v6 = false;
	for (unsigned i = 0; i < n; i++)
		*(got[i].family == 4 ? &v4 : &v6) = true;
	if (r->families == SS_FAM_V4 && !v4)
		pp_report(ps, line, "'rewrite' holds no IPv4 address for family = ipv4", NULL);
	if (r->families == SS_FAM_V6 && !v6)
		pp_report(ps, line, "'rewrite' holds no IPv6 address for family = ipv6", NULL);
	struct ss_addr *a = arena_alloc(ps->p->arena, n * sizeof(*a));
	if (!a) {
		ps->oom = true;
		return;
	}
	memcpy(a, got, n * sizeof(*a));
	r->answers = a;
	r->nanswers = n;
}

/* rewrite and deny, once the rule's `on` is known: addresses and EAI_*
 * names for resolve, an endpoint and an errno name for the socket ops. */
static void read_rewrite_deny(struct parser *ps, struct rule_build *rb)
{
	struct ss_rule *r = &rb->r;
	bool res = r->ops & SS_OPBIT(SS_OP_RESOLVE), sock = (r->ops & SOCK_OPS) || !r->ops;
	if (rb->rewrite_text) {
		unsigned line = rb->key_line[K_REWRITE];
		if (res && sock)
			pp_report(ps, line, "'rewrite' means addresses to answer with for on = resolve and a new destination for the other ops: write two rules", NULL);
		else if (res)
			read_answers(ps, rb, line);
		else if (!ss_addr_parse_endpoint(&r->rewrite, &r->rewrite_ip, &r->rewrite_port, rb->rewrite_text))
			bad_value_at(ps, line, "rewrite", rb->rewrite_text, "ADDR, ADDR:PORT, [V6]:PORT or :PORT");
		else
			r->has_rewrite = true;
	}
	if (rb->deny_text) {
		unsigned line = rb->key_line[K_DENY];
		const char *v = rb->deny_text;
		if (res && sock) {
			pp_report(ps, line, "'deny' takes an EAI_* name for on = resolve and an errno name for the other ops: write two rules", NULL);
		} else if (res) {
			r->deny_eai = ss_eai_from_name(v);
			if (!r->deny_eai)
				bad_value_at(ps, line, "deny", v, "a lookup error such as EAI_NONAME, EAI_AGAIN or EAI_FAIL (on = resolve)");
		} else {
			r->deny = ss_errno_from_name(v);
			if (!r->deny)
				bad_value_at(ps, line, "deny", v,
					     ss_eai_from_name(v) ? "an errno name such as EACCES or ECONNREFUSED (EAI_* names are for on = resolve)"
								 : "an errno name such as EACCES or ECONNREFUSED");
		}
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
	r->nhosts = (unsigned)rb->hosts.len;
	r->hosts = vec_to_arena(ps, &rb->hosts);
	read_rewrite_deny(ps, rb);
	r->program_ok = true;
	r->state = arena_alloc(ar, sizeof(*r->state));
	if (!r->state)
		ps->oom = true;
	else
		r->state->cursor = r->state->local;

	if (!rb->key_line[K_ON]) {
		pp_report(ps, r->line, "rule '", r->name, "' has no 'on' (bind, listen, connect, send or resolve)", NULL);
		return;
	}
	for (unsigned k = 0; k < K_COUNT; k++) {
		if (!rb->key_line[k])
			continue;
		r->has_actions |= pp_keys[k].action;
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

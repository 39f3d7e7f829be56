/*
 * Unit tests of the rule index (src/engine/index.c): for random policies of many
 * rules (IPv4, IPv6 and IPv4-mapped CIDRs, ports, overlapping sets, rules
 * with no addr or port, every op and proto), the indexed decision is the
 * first rule that matches, as a walk over every rule finds it, for random
 * operations aimed at the rules' boundaries and elsewhere. The same for the
 * shapes users write (one host, many ports; many hosts, one port; nested
 * CIDRs; wildcard rules that dual-stack binds of :: reach), where a call no
 * rule matches must also be told so by the index at once, without walking
 * the rules. And the index is really used for large policies and left out
 * for small ones.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "index.h"
#include "policy.h"
#include "screen.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* Addresses close to each other, so ranges overlap and touch. */
static void cidr(char *out, size_t cap)
{
	switch (rnd(4)) {
	case 0:
		snprintf(out, cap, "10.%u.%u.0/%u", rnd(4), rnd(256), 16 + rnd(17));
		break;
	case 1:
		snprintf(out, cap, "10.%u.%u.%u", rnd(4), rnd(256), rnd(256));
		break;
	case 2:
		snprintf(out, cap, "fd00::%x:%x/%u", rnd(4), rnd(65536), 100 + rnd(29));
		break;
	default:
		snprintf(out, cap, "::ffff:10.%u.%u.0/%u", rnd(4), rnd(256), 112 + rnd(17));
		break;
	}
}

static char *random_policy(unsigned nrules)
{
	size_t cap = 256 + nrules * 256, len = 0;
	char *t = malloc(cap);
	static const char *ons[] = { "connect", "bind", "send", "connect, send", "bind, listen" };
	for (unsigned r = 0; r < nrules; r++) {
		len += (size_t)snprintf(t + len, cap - len, "[r%u]\non = %s\n", r, ons[rnd(5)]);
		if (rnd(3) == 0)
			len += (size_t)snprintf(t + len, cap - len, "proto = %s\n", rnd(2) ? "tcp" : "udp");
		unsigned shape = rnd(40); /* 0: neither, 1-4: port only, else addr (+ port) */
		if (shape >= 5) {
			len += (size_t)snprintf(t + len, cap - len, "addr = ");
			for (unsigned k = 1 + rnd(3); k > 0; k--) {
				char c[64];
				cidr(c, sizeof(c));
				len += (size_t)snprintf(t + len, cap - len, "%s%s", c, k > 1 ? ", " : "\n");
			}
		}
		if ((shape >= 1 && shape <= 4) || (shape >= 5 && rnd(2))) {
			unsigned lo = 1000 + rnd(40);
			len += (size_t)snprintf(t + len, cap - len, "port = %u-%u, %u\n", lo, lo + rnd(5), 2000 + rnd(8));
		}
	}
	return t;
}

static void random_op(struct ss_addr *a, struct ss_opdesc *d)
{
	memset(a, 0, sizeof(*a));
	unsigned kind = rnd(3);
	if (kind == 1) {
		a->family = 6;
		uint8_t ip[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (uint8_t)rnd(4), (uint8_t)rnd(256), (uint8_t)rnd(256) };
		memcpy(a->ip, ip, 16);
	} else {
		a->family = kind == 0 ? 4 : 6;
		uint8_t v4[4] = { 10, (uint8_t)rnd(4), (uint8_t)rnd(256), (uint8_t)(rnd(2) ? 0 : rnd(256)) };
		if (kind == 0) {
			memcpy(a->ip, v4, 4);
		} else { /* ::ffff:10.x.y.z */
			a->ip[10] = a->ip[11] = 0xff;
			memcpy(a->ip + 12, v4, 4);
		}
	}
	a->port = (uint16_t)(rnd(2) ? 1000 + rnd(50) : 2000 + rnd(10));
	static const enum ss_op ops[] = { SS_OP_CONNECT, SS_OP_BIND, SS_OP_SEND, SS_OP_LISTEN };
	d->op = ops[rnd(4)];
	d->proto = rnd(2) ? SS_PROTO_TCP : SS_PROTO_UDP;
	d->family = a->family == 4 ? SS_FAM_V4 : SS_FAM_V6;
	d->addr = a;
	d->program = NULL;
	d->dual = false;
}

static const struct ss_rule *walk(const struct ss_policy *p, const struct ss_opdesc *d)
{
	if (!(p->op_mask & SS_OPBIT(d->op)))
		return NULL;
	for (unsigned i = 0; i < p->nrules; i++)
		if (ss_rule_matches(&p->rules[i], d))
			return &p->rules[i];
	return NULL;
}

static void indexed_equals_walk(void **state)
{
	(void)state;
	unsigned decided = 0, total = 0, indexed = 0;
	for (unsigned round = 0; round < 40; round++) {
		unsigned nrules = 8 + rnd(300);
		char *text = random_policy(nrules);
		struct ss_policy *p = ss_policy_parse("i.ini", text, strlen(text), NULL, NULL);
		assert_non_null(p);
		if (p->nerrors)
			fail_msg("random policy did not parse:\n%s", text);
		ss_policy_bind_program(p, "x", "x");
		indexed += p->index != NULL; /* NULL: over the memory budget, every rule walked */
		for (unsigned k = 0; k < 5000; k++) {
			struct ss_addr a;
			struct ss_opdesc d;
			random_op(&a, &d);
			const struct ss_rule *want = walk(p, &d), *got = ss_decide(p, &d);
			if (want != got)
				fail_msg("round %u op %u: index says %s, walk says %s", round, k, got ? got->name : "-", want ? want->name : "-");
			struct sockaddr_storage ss;
			socklen_t sl = ss_addr_to_sockaddr(&a, &ss);
			if (want && p->index && !p->index->nalways && !ss_screen_may_hold(p->index, &ss, sl))
				fail_msg("round %u op %u: the screen turns away a call rule %s decides", round, k, want->name);
			decided += want != NULL;
			total++;
		}
		ss_policy_free(p);
		free(text);
	}
	print_message("  %u of 40 policies indexed; %u of %u operations decided by a rule\n", indexed, decided, total);
	assert_true(indexed >= 20);
	/* the comparison means something only if both outcomes were common */
	assert_true(decided > total / 10 && decided < total - total / 10);
}

enum shape { SAME_ADDR, SAME_PORT, NESTED, WILDCARDS, NSHAPES };

static char *shaped_policy(enum shape sh, unsigned nrules)
{
	size_t cap = 256 + nrules * 128, len = 0;
	char *t = malloc(cap);
	for (unsigned r = 0; r < nrules; r++) {
		len += (size_t)snprintf(t + len, cap - len, "[r%u]\non = connect, bind, send\n", r);
		switch (sh) {
		case SAME_ADDR: /* one host, many ports */
			len += (size_t)snprintf(t + len, cap - len, "addr = 127.0.0.0/8\nport = %u\n", 1000 + r);
			break;
		case SAME_PORT: /* many hosts, one port */
			len += (size_t)snprintf(t + len, cap - len, "addr = 10.%u.%u.0/24\nport = 9300\n", r / 256, r % 256);
			break;
		case NESTED: /* CIDRs inside each other around 127.0.0.1, each with a port of its own */
			len += (size_t)snprintf(t + len, cap - len, "addr = 127.0.0.0/%u\nport = %u\n", 8 + r % 25, 1000 + r);
			break;
		default: /* what dual-stack wildcard binds meet */
			switch (r % 5) {
			case 0:
				len += (size_t)snprintf(t + len, cap - len, "addr = 0.0.0.0\nport = %u\n", 1000 + r);
				break;
			case 1:
				len += (size_t)snprintf(t + len, cap - len, "addr = ::\nport = %u\n", 1000 + r);
				break;
			case 2:
				len += (size_t)snprintf(t + len, cap - len, "addr = 0.0.0.0/0\nfamily = %s\n", r & 1 ? "ipv6" : "ipv4");
				break;
			case 3:
				len += (size_t)snprintf(t + len, cap - len, "addr = 127.0.0.0/8, ::1\nport = %u\n", 1000 + r);
				break;
			default:
				len += (size_t)snprintf(t + len, cap - len, "port = %u\n", 1000 + r);
				break;
			}
		}
	}
	return t;
}

/* Ports the shapes use and ports they do not; 127.0.0.1, 10.x, 0.0.0.0, ::, ::1 */
static void shaped_op(struct ss_addr *a, struct ss_opdesc *d, unsigned nrules)
{
	memset(a, 0, sizeof(*a));
	memset(d, 0, sizeof(*d));
	unsigned kind = rnd(6);
	a->family = kind >= 3 ? 6 : 4;
	if (kind == 0) {
		uint8_t ip[4] = { 127, 0, 0, 1 };
		memcpy(a->ip, ip, 4);
	} else if (kind == 1) {
		uint8_t ip[4] = { 10, (uint8_t)rnd(5), (uint8_t)rnd(256), 1 };
		memcpy(a->ip, ip, 4);
	} else if (kind == 4) {
		a->ip[15] = 1; /* ::1 */
	} else if (kind == 5) { /* ::ffff:127.0.0.1 */
		uint8_t ip[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1 };
		memcpy(a->ip, ip, 16);
	} /* kind 2: 0.0.0.0, kind 3: :: */
	a->port = (uint16_t)(rnd(3) ? 1000 + rnd(nrules + 50) : 9300 + rnd(2));
	static const enum ss_op ops[] = { SS_OP_CONNECT, SS_OP_BIND, SS_OP_SEND, SS_OP_LISTEN };
	d->op = ops[rnd(4)];
	d->proto = rnd(2) ? SS_PROTO_TCP : SS_PROTO_UDP;
	d->family = a->family == 4 ? SS_FAM_V4 : SS_FAM_V6;
	d->addr = a;
	d->dual = kind == 3 && d->op != SS_OP_CONNECT && d->op != SS_OP_SEND && rnd(2);
}

/* How many rules a decision of d looks at: its candidates from the index. */
static uint32_t index_candidates(const struct ss_index *x, const struct ss_opdesc *d)
{
	struct ss_index_hit a, p;
	uint32_t v4, n = x->nalways;
	ss_index_hit_of(&x->dim[SS_DIM_PORT], ss_index_find32(&x->dim[SS_DIM_PORT], d->addr->port), &p);
	if (ss_addr_v4_view(d->addr, &v4))
		ss_index_hit_of(&x->dim[SS_DIM_V4], ss_index_find32(&x->dim[SS_DIM_V4], v4), &a);
	else
		ss_index_hit_of(&x->dim[SS_DIM_V6], ss_index_find(&x->dim[SS_DIM_V6], ss_u128_from_bytes(d->addr->ip)), &a);
	bool may = ss_index_may_hold(&a, &p);
	n += p.n_one + a.n_one + (a.n_both < p.n_both ? a.n_both : p.n_both);
	if (d->dual) {
		ss_index_hit_of(&x->dim[SS_DIM_V4], ss_index_find32(&x->dim[SS_DIM_V4], 0), &a);
		may = may || ss_index_may_hold(&a, &p);
		n += a.n_one + (a.n_both < p.n_both ? a.n_both : p.n_both);
	}
	return may || x->nalways ? n : 0;
}

static void shaped_policies_equal_walk(void **state)
{
	(void)state;
	static const unsigned sizes[] = { 100, 1000 };
	for (unsigned sh = 0; sh < NSHAPES; sh++) {
		for (unsigned z = 0; z < 2; z++) {
			char *text = shaped_policy((enum shape)sh, sizes[z]);
			struct ss_policy *p = ss_policy_parse("s.ini", text, strlen(text), NULL, NULL);
			assert_non_null(p);
			assert_int_equal(p->nerrors, 0);
			ss_policy_bind_program(p, "x", "x");
			assert_non_null(p->index);
			unsigned decided = 0, walked = 0, unmatched = 0;
			for (unsigned k = 0; k < 20000; k++) {
				struct ss_addr a;
				struct ss_opdesc d;
				shaped_op(&a, &d, sizes[z]);
				const struct ss_rule *want = walk(p, &d), *got = ss_decide(p, &d);
				if (want != got)
					fail_msg("shape %u, %u rules, op %u: index says %s, walk says %s", sh, sizes[z], k,
						 got ? got->name : "-", want ? want->name : "-");
				decided += want != NULL;
				/* the hooks' screen (screen.h) never turns away a call a rule decides */
				struct sockaddr_storage ss;
				socklen_t sl = ss_addr_to_sockaddr(&a, &ss);
				if (want && !p->index->nalways && !ss_screen_may_hold(p->index, &ss, sl))
					fail_msg("shape %u, %u rules, op %u: the screen turns away a call rule %s decides", sh, sizes[z], k, want->name);
				if (!want && sh != WILDCARDS && (p->op_mask & SS_OPBIT(d.op))) {
					/* the fast path: no rule looked at, or (nested: a
					 * rule's address with another's port) one */
					unmatched++;
					walked += index_candidates(p->index, &d) > (sh == NESTED ? 1u : 0u);
				}
			}
			if (walked)
				fail_msg("shape %u, %u rules: the index walked rules for %u of %u calls no rule matches", sh, sizes[z],
					 walked, unmatched);
			assert_true(decided > 0);
			ss_policy_free(p);
			free(text);
		}
	}
}

/* A bind of :: on a dual-stack socket matches a rule on 0.0.0.0, not one
 * on IPv4 addresses only; with IPV6_V6ONLY it matches only IPv6 rules. */
static void dual_stack_wildcard(void **state)
{
	(void)state;
	const char *t = "[v4lo]\non = bind\naddr = 127.0.0.0/8\n"
			"[any4]\non = bind\naddr = 0.0.0.0\nrewrite = 127.0.0.7\n"
			"[all4]\non = listen\naddr = 0.0.0.0/0\n"
			"[any6]\non = bind, listen\naddr = ::\n";
	struct ss_policy *p = ss_policy_parse("d.ini", t, strlen(t), NULL, NULL);
	assert_non_null(p);
	assert_int_equal(p->nerrors, 0);
	ss_policy_bind_program(p, "x", "x");
	struct ss_addr any6 = { .family = 6, .port = 8080 };
	struct ss_opdesc d = { SS_OP_BIND, SS_PROTO_TCP, SS_FAM_V6, &any6, NULL, true, NULL };
	const struct ss_rule *r = ss_decide(p, &d);
	assert_non_null(r);
	assert_string_equal(r->name, "any4");
	d.op = SS_OP_LISTEN;
	assert_string_equal(ss_decide(p, &d)->name, "all4");
	d.dual = false;
	assert_string_equal(ss_decide(p, &d)->name, "any6");
	d.op = SS_OP_BIND;
	assert_string_equal(ss_decide(p, &d)->name, "any6");
	ss_policy_free(p);
}

static void small_policies_walk(void **state)
{
	(void)state;
	const char *t = "[a]\non = connect\naddr = 10.0.0.0/8\n[b]\non = bind\nport = 80\n";
	struct ss_policy *p = ss_policy_parse("s.ini", t, strlen(t), NULL, NULL);
	assert_non_null(p);
	assert_null(p->index);
	ss_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(indexed_equals_walk),
		cmocka_unit_test(small_policies_walk),
		cmocka_unit_test(shaped_policies_equal_walk),
		cmocka_unit_test(dual_stack_wildcard),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

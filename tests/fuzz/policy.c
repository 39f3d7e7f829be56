/*
 * libFuzzer target: arbitrary bytes as policy text, through the loader and
 * then through what the shim does with a loaded policy (ready.c's load()):
 * environment overrides of [global], program binding, rotation seeding and
 * the host-scope cursors (which a parsed, not loaded, policy must refuse
 * without touching the file system), and the decision on a few operations.
 *
 * Everything is in memory. Every report must be a one-line error at a line
 * of the text, in order, counted in nerrors; every policy must satisfy
 * check_policy(); and everything the parse mapped must be unmapped by
 * ss_policy_free() (LeakSanitizer cannot see mmap: common.c keeps a ledger).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "engine.h"
#include "fmt.h"
#include "rotate.h"
#include "shadow.h"

static const char file[] = "fuzz.ini";

static uint64_t hash(const uint8_t *d, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ d[i]) * 0x100000001b3ULL;
	return h;
}

/* The first line of the input, as an environment override would bring a value. */
static void first_line(const uint8_t *d, size_t n, char *out, size_t cap)
{
	size_t k = 0;
	while (k < n && k + 1 < cap && d[k] != '\n' && d[k] != '\0')
		k++;
	memcpy(out, d, k);
	out[k] = '\0';
}

static bool has_glob_chars(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* What ss_policy_bind_program must have settled for each rule. */
static void check_binding(const struct ss_policy *p, const char *argv0, const char *exe)
{
	for (unsigned i = 0; i < p->nrules; i++) {
		const struct ss_rule *r = &p->rules[i];
		bool ok = r->nprograms == 0;
		for (unsigned k = 0; k < r->nprograms && !ok; k++) {
			const char *names[2] = { argv0, exe };
			for (int j = 0; j < 2 && !ok; j++) {
				if (!names[j])
					continue;
				int ref = ref_glob(r->programs[k], names[j]);
				bool got = ss_glob_match(r->programs[k], names[j]);
				if (ref >= 0 && ref != got) {
					fprintf(stderr, "glob '%s' on '%s': ss_glob_match %d, fnmatch %d\n", r->programs[k], names[j], got, ref);
					CHECK(!"ss_glob_match agrees with fnmatch");
				}
				ok = got;
			}
		}
		CHECK(r->program_ok == ok);
	}
}

static void rotation(struct ss_policy *p, uint64_t seed, bool clean)
{
	ss_rotate_seed(p, seed);
	for (unsigned i = 0; i < p->nrules; i++) {
		struct ss_rule *r = &p->rules[i];
		struct ss_rule_state *st = r->state;
		if (r->nsource) {
			uint64_t t;
			uint32_t s = ss_rotate_next(st, SS_CURSOR_ADDR, r->nsource, r->rotate, &t);
			CHECK(s < r->nsource);
			CHECK(atomic_load(&st->cursor[SS_CURSOR_ADDR]) == t + 1);
		}
		if (r->has_source_port && r->source_port.count) {
			uint32_t n = r->source_port.count;
			uint64_t t;
			uint32_t s = ss_rotate_next(st, SS_CURSOR_PORT, n, r->rotate, &t);
			uint32_t stride = ss_rotate_stride(st, t, n, r->rotate);
			CHECK(s < n && stride >= 1 && (stride < n || stride == 1));
			uint16_t port = ss_portset_nth(&r->source_port, s);
			CHECK(ss_portset_contains(&r->source_port, port));
			CHECK(port != 0 || !clean); /* port 0 in a window is an error */
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t live = fuzz_live_mappings();
	struct reports rep;
	reports_init(&rep, file, data, size);
	rep.json = true;

	struct ss_policy *p = ss_policy_parse(file, (const char *)data, size, collect_report, &rep);
	CHECK(p); /* NULL only when memory runs out */
	CHECK(p->nerrors == rep.n);
	bool clean = p->nerrors == 0;
	check_policy(p, file, clean);

	/* Deterministic, and the same without a report callback (the shim's
	 * fallback parse passes none). Small inputs only: it doubles the cost. */
	if (size <= 512) {
		struct ss_policy *q = ss_policy_parse(file, (const char *)data, size, NULL, NULL);
		CHECK(q && q->nerrors == p->nerrors && q->nrules == p->nrules && q->op_mask == p->op_mask);
		for (unsigned i = 0; i < p->nrules; i++)
			CHECK(strcmp(q->rules[i].name, p->rules[i].name) == 0 && q->rules[i].ops == p->rules[i].ops);
		ss_policy_free(q);
	}

	/* check's shadowing analysis finds, for each rule, the first earlier
	 * rule that comparing every pair finds */
	if (clean && p->nrules <= 64) {
		uint32_t by[64];
		CHECK(ss_shadow_find(p, SS_SHADOW_MAX_COMPARE, by) == 0);
		for (uint32_t b = 0; b < p->nrules; b++) {
			uint32_t first = UINT32_MAX;
			for (uint32_t a = 0; a < b && first == UINT32_MAX; a++)
				if (ss_rule_shadows(&p->rules[a], &p->rules[b]))
					first = a;
			CHECK(by[b] == first);
		}
	}

	for (unsigned i = 0; i < p->nrules; i++) {
		const struct ss_rule *r = &p->rules[i];
		check_json(r->name);
		for (unsigned k = 0; k < r->nprograms; k++)
			check_json(r->programs[k]);
		for (unsigned k = 0; k < r->nsockopts; k++)
			check_json(r->sockopts[k].text);
	}

	/* SOCKSHIM_LOG and friends: the first line as the value of each key */
	char value[128];
	first_line(data, size, value, sizeof(value));
	static const char *const gkeys[] = { "log", "log_level", "log_format", "mode", "on_error", "logs" };
	for (size_t k = 0; k < sizeof(gkeys) / sizeof(gkeys[0]); k++) {
		struct ss_global g = p->global;
		const char *expected = ss_global_apply(&p->global, p->arena, gkeys[k], value);
		if (k == 5)
			CHECK(expected != NULL);
		if (expected) {
			CHECK(*expected);
			CHECK(memcmp(&g, &p->global, sizeof(g)) == 0); /* a refused value changes nothing */
		}
	}
	check_policy(p, file, clean);

	/* program binding: each literal name matches itself; globs as fnmatch says */
	for (unsigned i = 0; i < p->nrules && i < 8; i++) {
		const struct ss_rule *r = &p->rules[i];
		if (!r->nprograms)
			continue;
		const char *name = r->programs[0];
		ss_policy_bind_program(p, name, NULL);
		check_binding(p, name, NULL);
		if (!has_glob_chars(name))
			CHECK(r->program_ok);
	}
	ss_policy_bind_program(p, value, "fuzz-exe");
	check_binding(p, value, "fuzz-exe");
	ss_policy_bind_program(p, NULL, NULL);
	check_binding(p, NULL, NULL);

	uint64_t seed = hash(data, size);
	rotation(p, seed, clean);

	/* A parsed policy has no file: host-scope cursors are refused, nothing is mapped. */
	char path[256];
	bool host = false;
	for (unsigned i = 0; i < p->nrules; i++)
		host |= p->rules[i].rotate_host;
	size_t before = fuzz_live_mappings();
	const char *why = ss_rotate_share(p, seed, path, sizeof(path));
	CHECK((why != NULL) == host);
	CHECK(fuzz_live_mappings() == before);
	for (unsigned i = 0; i < p->nrules; i++)
		CHECK(p->rules[i].state->cursor == p->rules[i].state->local);

	/* A broken policy decides nothing; a clean one decides as its rules say. */
	struct ss_addr a;
	CHECK(ss_addr_parse_ip(&a, (seed & 1) ? "10.1.2.3" : "::ffff:127.0.0.1"));
	a.port = (uint16_t)(seed >> 8);
	ss_policy_bind_program(p, "fuzz", NULL);
	for (unsigned op = 0; op < SS_OP_COUNT; op++) {
		CHECK(strcmp(ss_op_name((enum ss_op)op), "?") != 0);
		struct ss_opdesc d = { (enum ss_op)op, (seed & 2) ? SS_PROTO_UDP : SS_PROTO_TCP,
				       (seed & 4) ? SS_FAM_V6 : SS_FAM_V4, &a, (seed & 8) ? "fuzz" : NULL, false, NULL };
		const struct ss_rule *got = ss_decide(p, &d), *want = NULL;
		for (unsigned i = 0; i < p->nrules && !want && clean; i++)
			if (ss_rule_matches(&p->rules[i], &d))
				want = &p->rules[i];
		CHECK(got == want);
	}
	CHECK(strcmp(ss_op_name(SS_OP_COUNT), "?") == 0);

	ss_policy_free(p);
	CHECK(fuzz_live_mappings() == live); /* the policy's arena and every scratch vector are gone */
	return 0;
}

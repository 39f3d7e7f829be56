/*
 * hostindex: see hostindex.h.
 */
#include "hostindex.h"

static bool is_glob(const char *pat)
{
	return strpbrk(pat, "*?[") != NULL;
}

static bool has_glob(const struct ss_rule *r)
{
	for (unsigned i = 0; i < r->nhosts; i++)
		if (is_glob(r->hosts[i]))
			return true;
	return false;
}

/* The slot of name: its own, or the empty one where it goes. */
static struct ss_hostslot *slot_of(struct ss_hostslot *slot, uint32_t mask, const char *name, uint64_t h)
{
	for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask)
		if (!slot[i].name || (slot[i].hash == h && strcmp(slot[i].name, name) == 0))
			return &slot[i];
}

const struct ss_hostindex *ss_hostindex_build(struct arena *a, const struct ss_rule *rules, uint32_t n, bool *oom)
{
	uint32_t pairs = 0, nglobs = 0;
	for (uint32_t r = 0; r < n; r++) {
		if (!ss_hostindex_files(&rules[r]))
			continue;
		if (has_glob(&rules[r]))
			nglobs++;
		else
			pairs += rules[r].nhosts;
	}
	if (!pairs && !nglobs)
		return NULL;
	uint32_t size = 2;
	while (size < 2 * pairs)
		size *= 2;
	struct ss_hostindex *x = arena_alloc(a, sizeof(*x));
	struct ss_hostslot *slot = arena_alloc(a, size * sizeof(*slot));
	uint32_t *ids = arena_alloc(a, (pairs ? pairs : 1) * sizeof(uint32_t));
	uint32_t *globs = arena_alloc(a, (nglobs ? nglobs : 1) * sizeof(uint32_t));
	if (!x || !slot || !ids || !globs) {
		*oom = true;
		return NULL;
	}
	/* first the count of each name's rules (a rule naming it twice once),
	 * then the lists, filled in rule order */
	for (int pass = 0; pass < 2; pass++) {
		uint32_t g = 0;
		for (uint32_t r = 0; r < n; r++) {
			const struct ss_rule *rule = &rules[r];
			if (!ss_hostindex_files(rule))
				continue;
			if (has_glob(rule)) {
				if (pass)
					globs[g++] = r;
				continue;
			}
			for (unsigned i = 0; i < rule->nhosts; i++) {
				uint64_t h = ss_hostindex_hash(rule->hosts[i]);
				struct ss_hostslot *s = slot_of(slot, size - 1, rule->hosts[i], h);
				if (!s->name) {
					s->name = rule->hosts[i];
					s->hash = h;
				}
				if (s->last == r + 1)
					continue;
				s->last = r + 1;
				if (pass)
					ids[s->start + s->n] = r;
				s->n++;
			}
		}
		if (pass)
			break;
		uint32_t at = 0;
		for (uint32_t i = 0; i < size; i++) {
			slot[i].start = at;
			at += slot[i].n;
			slot[i].n = 0;
			slot[i].last = 0;
		}
	}
	x->slot = slot;
	x->mask = size - 1;
	x->ids = ids;
	x->globs = globs;
	x->nglobs = nglobs;
	return x;
}

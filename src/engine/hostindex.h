/*
 * hostindex: which `host` rules can match a destination's name, so a
 * connect under a hundred `host` rules tries the one or two that name it,
 * not all of them.
 *
 * Part of the index (index.h), built once at load, read-only afterwards.
 * It files the rules that have `host` and neither `addr` nor `port` (a rule
 * with an addr or a port is filed by those, and its `host` is checked when
 * it is tried). A rule whose patterns are all exact names (no * ? [) is
 * filed under each of them in a hash table of the normal-form names; a rule
 * with a glob among its patterns goes to the glob list, tried for any name.
 * A call with no name (an address no lookup returned) tries none of them.
 * Lists are in rule order, so the index's merge keeps first match.
 */
#ifndef SOCKSHIM_HOSTINDEX_H
#define SOCKSHIM_HOSTINDEX_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "policy.h"

struct ss_hostslot {
	const char *name; /* NULL: an empty slot */
	uint64_t hash;
	uint32_t start, n, last; /* its rules: ids[start .. start + n); last: building only */
};

struct ss_hostindex {
	const struct ss_hostslot *slot;
	uint32_t mask; /* slots - 1, a power of two less one */
	const uint32_t *ids;
	const uint32_t *globs; /* rules with a glob pattern, in rule order */
	uint32_t nglobs;
};

/* Whether the host index files rule r (and the index's `always` list does not). */
static inline bool ss_hostindex_files(const struct ss_rule *r)
{
	return r->nhosts && !r->has_addr && !r->has_port && (r->ops & SS_SOCK_OPS);
}

/* The hash of a normal-form name (FNV-1a). */
static inline uint64_t ss_hostindex_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

/* The rules filed under the exact name (normal form), in rule order: their
 * number, the list in *ids. */
static inline uint32_t ss_hostindex_exact(const struct ss_hostindex *x, const char *name, const uint32_t **ids)
{
	uint64_t h = ss_hostindex_hash(name);
	for (uint32_t i = (uint32_t)h & x->mask;; i = (i + 1) & x->mask) {
		const struct ss_hostslot *s = &x->slot[i];
		if (!s->name)
			return 0;
		if (s->hash == h && strcmp(s->name, name) == 0) {
			*ids = x->ids + s->start;
			return s->n;
		}
	}
}

/* The host index of rules[0 .. n); NULL when no rule is filed in it, or
 * when memory runs out (*oom set). */
const struct ss_hostindex *ss_hostindex_build(struct arena *a, const struct ss_rule *rules, uint32_t n, bool *oom);

#endif

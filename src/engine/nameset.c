/*
 * nameset: open addressing with linear probing (see nameset.h); at most
 * half full, so a probe sequence stays short whatever the names.
 */
#include "nameset.h"

#include <string.h>

#include "arena.h"

struct ss_nameset_slot {
	const char *name; /* NULL: empty */
	uint32_t hash, value;
};

#define FIRST_CAP 256

/* FNV-1a, then a finalizer so the low bits (the index) depend on every
 * byte: names like r1, r2, ... differ in their last bytes only. */
static uint32_t hash_name(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

void ss_nameset_init(struct ss_nameset *s)
{
	s->slot = NULL;
	s->cap = s->n = 0;
}

static struct ss_nameset_slot *find(const struct ss_nameset *s, const char *name, uint32_t h)
{
	size_t mask = s->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct ss_nameset_slot *e = &s->slot[i];
		if (!e->name || (e->hash == h && strcmp(e->name, name) == 0))
			return e;
	}
}

static bool grow(struct ss_nameset *s)
{
	size_t cap = s->cap ? s->cap * 2 : FIRST_CAP;
	struct ss_nameset_slot *old = s->slot;
	size_t oldcap = s->cap;
	struct ss_nameset_slot *t = scratch_get(cap * sizeof(*t));
	if (!t)
		return false;
	memset(t, 0, cap * sizeof(*t));
	s->slot = t;
	s->cap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].name)
			*find(s, old[i].name, old[i].hash) = old[i];
	if (old)
		scratch_put(old, oldcap * sizeof(*old));
	return true;
}

int ss_nameset_put(struct ss_nameset *s, const char *name, uint32_t value, uint32_t *earlier)
{
	uint32_t h = hash_name(name);
	if (s->cap) {
		struct ss_nameset_slot *e = find(s, name, h);
		if (e->name) {
			*earlier = e->value;
			return 0;
		}
	}
	if ((s->n + 1) * 2 > s->cap && !grow(s))
		return -1;
	struct ss_nameset_slot *e = find(s, name, h);
	e->name = name;
	e->hash = h;
	e->value = value;
	s->n++;
	return 1;
}

bool ss_nameset_get(const struct ss_nameset *s, const char *name, uint32_t *value)
{
	if (!s->cap)
		return false;
	const struct ss_nameset_slot *e = find(s, name, hash_name(name));
	if (!e->name)
		return false;
	*value = e->value;
	return true;
}

void ss_nameset_free(struct ss_nameset *s)
{
	if (s->slot)
		scratch_put(s->slot, s->cap * sizeof(*s->slot));
	ss_nameset_init(s);
}

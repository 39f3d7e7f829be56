/*
 * nameset: a hash set of names, each with a number, for the duplicate-name
 * check of a load (a rule's name against every earlier one, in O(1)).
 *
 * No malloc: the table is a scratch buffer (arena.h), grown by doubling and
 * given back by ss_nameset_free() when the load ends, so a policy keeps no
 * memory for it. Names are not copied: each must stay valid while the set
 * lives (rule names live in the policy's arena).
 */
#ifndef SOCKSHIM_NAMESET_H
#define SOCKSHIM_NAMESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ss_nameset_slot;

struct ss_nameset {
	struct ss_nameset_slot *slot;
	size_t cap, n; /* cap: a power of two, or 0 before the first put */
};

void ss_nameset_init(struct ss_nameset *s);
/*
 * Add name with value. Returns 1 when added, 0 when the name is there
 * already (its value in *earlier, the set unchanged), -1 when memory runs
 * out.
 */
int ss_nameset_put(struct ss_nameset *s, const char *name, uint32_t value, uint32_t *earlier);
/* The value of name, or false when it is not in the set. */
bool ss_nameset_get(const struct ss_nameset *s, const char *name, uint32_t *value);
void ss_nameset_free(struct ss_nameset *s);

#endif

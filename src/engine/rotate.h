/*
 * rotate: where in a rule's source pool or port window the next connection
 * starts. Lock-free: one atomic cursor per rule and per kind.
 *
 * sequential: cursor order; random: a hashed cursor, so the order looks
 * random but no two calls sharing a cursor start at the same draw.
 *
 * rotate_scope = process (default): each process starts its cursors at a
 * random offset (reseeded after fork), so a child does not replay its
 * parent's sequence. rotate_scope = host: the cursors live in a small System V
 * shared memory segment shared by every process of the same user that loads
 * the same policy file (same device and inode), attached once at load. It
 * cannot be shrunk under an attached process (a mapped file can: SIGBUS), and
 * only a segment this user created and nobody else can write is used.
 * Cursors are plain atomic counters, so a process dying at any point leaves
 * nothing held.
 */
#ifndef SOCKSHIM_ROTATE_H
#define SOCKSHIM_ROTATE_H

#include <stdint.h>

#include "policy.h"

/* Seed this process and offset every process-scope rule's cursors; call at
 * start and in the child after fork. */
void ss_rotate_seed(struct ss_policy *p, uint64_t seed);

/*
 * Attach the shared cursors of every rotate_scope = host rule. Returns NULL
 * on success (or when no rule needs it), else why the host scope could not be
 * set up; those rules then rotate per process. where_out gets the segment's
 * key, for the log. Refused: a segment another user created, one with any
 * group or other permission bit, one too small for this policy, one claimed
 * by another policy file whose key collides.
 */
const char *ss_rotate_share(struct ss_policy *p, uint64_t seed, char *where_out, unsigned where_size);

/* Index in [0, n) where the next search starts; n > 0. *ticket gets the
 * cursor value drawn, for ss_rotate_skip. */
uint32_t ss_rotate_next(struct ss_rule_state *st, int which, uint32_t n, enum ss_rotate how, uint64_t *ticket);

/* The step between the entries a search tries after a busy one: 1 for
 * sequential; for random a step coprime with n drawn from ticket, so every
 * entry is still tried once but busy runs do not funnel every search onto the
 * entry right after them. */
uint32_t ss_rotate_stride(const struct ss_rule_state *st, uint64_t ticket, uint32_t n, enum ss_rotate how);

/* The search that drew ticket found `by` busy entries before a free one:
 * move the cursor past them too, unless another draw came in between (so
 * concurrent searches never make the cursor jump over free entries). */
void ss_rotate_skip(struct ss_rule_state *st, int which, uint64_t ticket, uint32_t by);

#endif

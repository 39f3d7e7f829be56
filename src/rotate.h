/*
 * rotate: where in a rule's source pool or port window the next connection
 * starts. Lock-free: one atomic cursor per rule and per kind.
 *
 * sequential: cursor order; random: a hashed cursor, so the order looks
 * random but no two calls in a process start at the same draw; each process
 * starts its cursors at a random offset (reseeded after fork), so a child
 * does not replay its parent's sequence.
 */
#ifndef SOCKSHIM_ROTATE_H
#define SOCKSHIM_ROTATE_H

#include <stdint.h>

#include "policy.h"

/* Seed this process and offset every rule's cursors; call at start and in
 * the child after fork. */
void ss_rotate_seed(struct ss_policy *p, uint64_t seed);

/* Index in [0, n) where the next search starts. n > 0. */
uint32_t ss_rotate_next(_Atomic uint64_t *cursor, uint32_t n, enum ss_rotate how);

#endif

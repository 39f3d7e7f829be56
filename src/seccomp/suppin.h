/*
 * suppin: what the supervisor remembers of a socket across calls, by its
 * inode: reuse flags pinned, a UDP socket it gave its address, an option a
 * retry could not copy, the address a rewritten bind was passed.
 * Thread-safe.
 */
#ifndef SOCKSHIM_SUPPIN_H
#define SOCKSHIM_SUPPIN_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

struct pin {
	uint64_t ino;
	uint32_t locks;      /* FD_RA_MASK | FD_RP_MASK bits */
	bool bound;          /* a UDP socket the supervisor gave its address */
	bool opaque;         /* carries an option optread cannot read back */
	bool has_app;
	struct ss_addr app;  /* the address the program passed to bind */
};

/* fd's inode (0: fstat failed). */
uint64_t inode_of(int fd);

/* What is remembered of fd (zeroed when nothing). */
struct pin pin_get(int fd);

/* Remember of fd what its fd-table entry ent says the supervisor did. */
void pin_put(int fd, uint32_t ent, const struct ss_addr *app, bool opaque);

/* Did the supervisor give this TCP socket its address (a rule's source,
 * or its own connect)? false when unknown (forgotten after 4096 others). */
bool pin_ours(int fd);

/* May the socket carry an option optread cannot read back? */
bool pin_opaque(uint64_t ino);

#endif

/*
 * held: the (source port, destination) pairs this process holds through
 * exact binds into a window the kernel cannot check (actions.c), so that a
 * connect is not offered a port whose 4-tuple its own process already holds
 * towards the same destination: a non-blocking connect cannot be retried
 * once that bound port meets EADDRNOTAVAIL.
 *
 * A fixed table of 1024 words, lock-free (compare-and-swap), no allocation.
 * An entry names the fd that connected; it is trusted only after the kernel
 * confirms it (the fd's local port and TCP state, and its peer once
 * established), so a closed or reused fd is an entry to drop, never a port
 * wrongly skipped for long. A full table records nothing: the kernel's
 * EADDRNOTAVAIL then shows, as without the table.
 */
#ifndef SOCKSHIM_HELD_H
#define SOCKSHIM_HELD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* fd has connected (or is connecting) from port to `to`. */
void ss_held_add(int fd, uint16_t port, const struct sockaddr *to, socklen_t tolen);

/* Does a socket of this process hold port towards `to` now? errno kept. */
bool ss_held_taken(uint16_t port, const struct sockaddr *to, socklen_t tolen);

#endif

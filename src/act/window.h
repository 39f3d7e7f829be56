/*
 * window: how a TCP connect gets its port inside a source_port window.
 *
 * The kernel can pick a connect's port inside a per-socket range
 * (IP_LOCAL_PORT_RANGE, Linux 6.3+) with its own 4-tuple check: a port
 * serves every destination it has no connection to, TIME_WAIT included,
 * exactly as the system's ephemeral range does. A failed pick
 * (EADDRNOTAVAIL) leaves the socket unbound, so the next port is tried on
 * the same socket: nothing the program registered (epoll, F_SETOWN, dup'ed
 * fds) is lost. A one-port range [p, p] makes the kernel try exactly p,
 * which is how sequential and random rotation keep their order.
 *
 * The kernel clamps a socket's range to net.ipv4.ip_local_port_range and
 * skips net.ipv4.ip_local_reserved_ports, silently: a window is "checked"
 * (left to the kernel) only when every port of it lies inside the former
 * and none in the latter, as read at start-up, and the socket is in the
 * network namespace they were read in. Otherwise the shim binds exact ports
 * itself (actions.c). The ranges may change while a program runs: each
 * connect from a checked window is verified (getsockname), and a port
 * outside the window is logged as what it is and ends kernel checking.
 */
#ifndef SOCKSHIM_WINDOW_H
#define SOCKSHIM_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#include "netset.h"
#include "policy.h"

#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif

/* Read what the kernel offers (the option, the system's range and reserved
 * ports) once at start-up, when some rule of p has a source_port window.
 * Makes no allocation; safe to call again (after fork, a reload). */
void ss_window_probe(const struct ss_policy *p);

/* May the kernel pick (and check) the ports of window w? */
bool ss_window_checked(const struct ss_portset *w);

/* ss_window_checked, for socket fd: false too when fd is in another network
 * namespace than the one whose ranges were read (a supervised program that
 * made its own, or one that moved): its kernel would apply other ranges. */
bool ss_window_checked_fd(const struct ss_portset *w, int fd);

/* The kernel was seen to leave a window: from now on no window is left to it
 * in this process (exact binds), until the next ss_window_probe. */
void ss_window_distrust(void);

/* Restrict fd's next auto-bound port to [lo, hi] (0, 0: no restriction
 * of its own). 0 or -1 with errno. */
int ss_window_range(int fd, uint16_t lo, uint16_t hi);

#endif

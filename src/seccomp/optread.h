/*
 * optread: the socket options a program set, read back from the kernel.
 *
 * The seccomp front end's substitute for optlog's recording (optlog.h): the
 * supervisor does not see a program's setsockopt calls go by (trapping them
 * all would cost a round trip each, five per connection for a Go client),
 * so before a connect that may have to be retried on a fresh socket it asks
 * the kernel instead. Every option of a known list whose value differs from
 * a fresh socket's of the same kind is handed out as the setsockopt call
 * that gives a fresh socket the same value.
 *
 * Options outside the list cannot be read back (socket filters, TCP_MD5SIG,
 * multicast memberships, timestamping, ...): the seccomp filter sends every
 * setsockopt of one to the supervisor (optread_names), which then knows the
 * socket carries something it cannot copy. What the list cannot tell apart
 * from the default (a buffer size set to exactly the default value, which
 * also stops the kernel from tuning it) is not copied.
 */
#ifndef SOCKSHIM_OPTREAD_H
#define SOCKSHIM_OPTREAD_H

#include <stdbool.h>
#include <sys/socket.h>

/* The levels that hold options of the list, for the filter. */
#define OPTREAD_NLEVELS 5
extern const int optread_levels[OPTREAD_NLEVELS];

/* The option names of level that optread accounts for (aliases included:
 * SO_BINDTODEVICE and SO_BINDTOIFINDEX, SO_SNDBUF and SO_SNDBUFFORCE, the
 * old and new SO_*TIMEO), into names (at most max). Returns how many. */
unsigned optread_names(int level, int *names, unsigned max);

/* One option to set on a fresh socket. */
typedef void (*optread_fn)(void *ctx, int level, int name, const void *val, socklen_t len);

/*
 * Call fn, in a fixed order, for each listed option of fd (an AF_INET or
 * AF_INET6 TCP or UDP socket: v6, tcp say which) whose value differs from
 * a fresh socket's. Options that do nothing for the socket's kind are not
 * read (multicast and receive-ancillary options of a TCP socket). 0, or -1
 * with errno when no fresh socket could be made to compare with.
 * Thread-safe; the fresh socket's values are read once per kind.
 */
int optread_diff(int fd, bool v6, bool tcp, optread_fn fn, void *ctx);

#endif

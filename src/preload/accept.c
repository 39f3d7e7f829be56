/*
 * accept: the accept and accept4 hooks. Nothing is decided here; the new
 * fd inherits what the shim knows of the listener, and the debug log shows
 * the peer.
 *
 * The peer address lies in the program's buffer, which holds only as many
 * bytes as the program said (*len on entry): the kernel sets *len to the
 * address's full length, which may be more than it copied (a 16-byte
 * buffer on an IPv6 socket comes back with *len = 28). So the shim reads
 * the length the program passed, before the call, and at most that many
 * bytes of the address, through peek; and it reads nothing at all unless
 * the debug line is to be written.
 */
#include <errno.h>

#include "fdtab.h"
#include "optlog.h"
#include "peek.h"
#include "real.h"
#include "shim.h"

/* The peer address the kernel left in addr, within the in bytes the
 * program gave; false when it cannot be read or is not a whole address. */
static bool peer_address(struct ss_addr *peer, const struct sockaddr *addr, const socklen_t *len, socklen_t in)
{
	socklen_t out;
	if (!peek(&out, len, sizeof(out)))
		return false;
	socklen_t n = out < in ? out : in;
	struct sockaddr_storage copy;
	if (n > (socklen_t)sizeof(copy))
		n = sizeof(copy);
	if (n < (socklen_t)sizeof(sa_family_t) || !peek(&copy, addr, n))
		return false;
	return ss_addr_from_sockaddr(peer, (const struct sockaddr *)&copy, n) > 0;
}

int shim_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags, int is_accept4)
{
	socklen_t in = 0;
	bool logged = shim_plain_logged();
	bool peer_wanted = logged && addr && len && peek(&in, len, sizeof(in));
	int rc = is_accept4 ? real_accept4(fd, addr, len, flags) : real_accept(fd, addr, len);
	int err = errno;
	if (rc >= 0) {
		uint32_t e = fdtab_get(fd);
		fdtab_set(rc, e ? (e & FD_INHERIT) | FD_BOUND | FD_CONNECTING : 0);
		optlog_forget(rc);
		struct ss_addr peer;
		bool has_peer = peer_wanted && (e & (FD_TCP | FD_UDP)) && peer_address(&peer, addr, len, in);
		if (logged)
			shim_log_plain_line(is_accept4 ? "accept4" : "accept", rc, e, has_peer ? &peer : NULL, NULL, rc, err);
	}
	errno = err;
	return rc;
}

/*
 * batch: sendmmsg. A batch no rule can decide goes to the kernel whole; a
 * batch in which some message meets a rule is sent message by message, so
 * each gets the decision sendmsg would give it (rewrite, deny, a `host`
 * rule on the name its destination was looked up by).
 */
#include <errno.h>
#include <sys/socket.h>

#include "engine.h"
#include "fdtab.h"
#include "hosttab.h"
#include "kaddr.h"
#include "peek.h"
#include "ready.h"
#include "real.h"
#include "shim.h"

/* The kernel sends at most this many messages of one sendmmsg (UIO_MAXIOV). */
#define MMSG_MAX 1024u

/* Does any message of the batch meet a rule? The kernel stops at the first
 * message it cannot read; so does the scan. A TCP socket names a
 * destination only with Fast Open (MSG_FASTOPEN): that batch connects. */
static bool batch_needs_rules(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
	const struct ss_policy *p = ready() ? g_policy : NULL; /* one policy for the scan */
	if (!rules_for(p, SS_OP_SEND))
		return false;
	uint32_t e = shim_fd_entry(fd);
	unsigned proto;
	if (e & FD_UDP)
		proto = SS_PROTO_UDP;
	else if ((e & FD_TCP) && (flags & MSG_FASTOPEN))
		proto = SS_PROTO_TCP;
	else
		return false;
	for (unsigned i = 0; i < vlen; i++) {
		struct msghdr m;
		struct ss_addr a;
		if (!peek(&m, &vec[i].msg_hdr, sizeof(m)))
			break;
		struct sockaddr_storage copy;
		unsigned fam = (e & FD_V6) ? SS_FAM_V6 : SS_FAM_V4;
		int got = m.msg_name ? peek_sockaddr(&copy, m.msg_name, m.msg_namelen) : 0;
		if (got < 0)
			break;
		/* as the kernel reads it (kaddr.h); what it refuses is its own */
		if (got == 0 || !ss_kernel_addr(&a, SS_OP_SEND, proto, fam, (struct sockaddr *)&copy, m.msg_namelen,
						fdtab_ask_v6only, &fd))
			continue;
		char host[SS_HOST_MAX]; /* asked only when some send rule has host */
		struct ss_opdesc d = { SS_OP_SEND, proto, fam, &a, NULL, false, ss_host_for(p, SS_OP_SEND, &a, host) };
		if (ss_decide(p, &d))
			return true;
	}
	return false;
}

int shim_sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
	if (idle())
		return real_sendmmsg(fd, vec, vlen, flags);
	if (!batch_needs_rules(fd, vec, vlen < MMSG_MAX ? vlen : MMSG_MAX, flags)) {
		int rc = real_sendmmsg(fd, vec, vlen, flags);
		if (rc > 0 && fdtab_get(fd)) /* an fd the shim knows is now bound */
			fdtab_or(fd, FD_BOUND);
		return rc;
	}
	if (vlen > MMSG_MAX)
		vlen = MMSG_MAX;
	int saved = errno;
	unsigned sent = 0;
	for (; sent < vlen; sent++) {
		struct msghdr m;
		ssize_t r;
		if (!peek(&m, &vec[sent].msg_hdr, sizeof(m)))
			r = sent ? -1 : real_sendmsg(fd, &vec[sent].msg_hdr, flags); /* the kernel's EFAULT */
		else if (m.msg_name && m.msg_namelen)
			r = shim_send_msg(fd, &m, flags);
		else
			r = real_sendmsg(fd, &m, flags);
		if (r < 0) {
			if (sent == 0)
				return -1; /* errno from the first message, as sendmmsg reports it */
			errno = saved; /* a partial batch succeeds; the error shows on the next call */
			break;
		}
		vec[sent].msg_len = (unsigned)r;
	}
	return (int)sent;
}

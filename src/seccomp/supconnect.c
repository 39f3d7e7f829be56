/*
 * supconnect: the supervisor's connect, bind, listen and setsockopt
 * handlers (see supjob.h).
 *
 * A connect's socket stays "adopted" for actions.c (its history unknown)
 * but where begin learned it; its options stay unknown but for a connect
 * from a window of source ports: there they are read back from the kernel
 * (optread.h) into optlog's record for our duplicate, so that actions.c
 * can retry a taken 4-tuple on a fresh socket exactly as the preload does;
 * the supervisor then puts that socket in the target at the program's fd
 * number (SECCOMP_IOCTL_NOTIF_ADDFD), for a blocking connect from a window
 * the kernel cannot check (actions.h); as with the preload's dup3, what
 * referred to the old socket does not follow. A checked window is retried
 * on the program's own socket, through our duplicate of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "actions.h"
#include "connstate.h"
#include "fdtab.h"
#include "fmt.h"
#include "log.h"
#include "names.h"
#include "optlog.h"
#include "optread.h"
#include "supjob.h"
#include "supkind.h"
#include "suppin.h"
#include "suptarget.h"

/* ---- a connect retried on a fresh socket ---- */

static void record_opt(void *ctx, int level, int name, const void *val, socklen_t len)
{
	optlog_record(*(const int *)ctx, level, name, val, len);
}

/*
 * Before a connect from explicit ports of a window, which actions.c retries
 * on a fresh socket when a port's 4-tuple is taken: record the program's
 * options, read back (optread.h), in optlog under our duplicate's fd
 * number, as the preload records them while they are set. Not for a
 * socket that is bound already (it is never re-bound), that may carry an
 * option optread cannot read back, or whose network namespace or owner is
 * not ours (the fresh socket is made here, so it would be ours): with no
 * record, a taken 4-tuple is the kernel's error (noretry=options-unknown).
 * Returns the socket's inode when prepared, to tell afterwards whether it
 * was replaced; else 0.
 */
static uint64_t prepare_retry(struct job *j)
{
	struct ss_call *c = &j->c;
	const struct ss_rule *r = c->rule;
	if (!g_window || !r->has_source_port || !ss_act_may_replace(c) || (c->ent & (FD_BOUND | FD_ADOPTED)))
		return 0; /* bound already (learned in begin) */
	struct stat st;
	uint64_t cookie = 0;
	socklen_t l = sizeof(cookie);
	if (fstat(j->fd, &st) < 0 || st.st_uid != g_euid || !g_netns ||
	    getsockopt(j->fd, SOL_SOCKET, 71 /* SO_NETNS_COOKIE */, &cookie, &l) < 0 || cookie != g_netns)
		return 0;
	if (pin_opaque((uint64_t)st.st_ino))
		return 0;
	optlog_start(j->fd);
	if (optread_diff(j->fd, c->family == SS_FAM_V6, c->proto == SS_PROTO_TCP, record_opt, &j->fd) < 0) {
		optlog_forget(j->fd);
		return 0;
	}
	return (uint64_t)st.st_ino;
}


/* The socket actions.c put in place of our duplicate, installed at the
 * target's fd number (which closes the target's spoiled one): the program
 * sees one connect on its own fd. 0 or -1 with errno. */
static int replace_in_target(struct job *j)
{
	struct seccomp_notif_addfd a;
	memset(&a, 0, sizeof(a));
	a.id = j->id;
	a.flags = SECCOMP_ADDFD_FLAG_SETFD;
	a.srcfd = (uint32_t)j->fd;
	a.newfd = (uint32_t)j->tfd;
	a.newfd_flags = target_cloexec(j->pid, j->tfd) ? O_CLOEXEC : 0;
	int rc;
	while ((rc = ioctl(g_notify, SECCOMP_IOCTL_NOTIF_ADDFD, &a)) < 0 && errno == EINTR) {
	}
	return rc < 0 ? -1 : 0;
}

static void do_connect(struct job *j)
{
	struct sockaddr_storage ss;
	socklen_t tl;
	const struct sockaddr *ta = dest(j, &ss, &tl);
	uint64_t ino = prepare_retry(j);
	int rc = ss_act_connect(&j->c, &j->to, ta, tl);
	int err = errno;
	gave_address(j, rc == 0 || err == EINPROGRESS);
	if (ino && inode_of(j->fd) != ino && replace_in_target(j) < 0) {
		/* the target went away, or has no room for it: its own socket
		 * is bound to a taken port and cannot connect */
		struct fmt f;
		char v[48];
		fmt_init(&f, v, sizeof(v));
		fmt_str(&f, "retry:");
		fmt_str(&f, ss_errno_name(errno));
		ss_actions_add(&j->c.acts, "failed", v);
		j->c.failed = true;
		rc = -1;
		err = EADDRNOTAVAIL;
	}
	finish(j, rc, err);
}

static void do_plain_connect(struct job *j)
{
	struct sockaddr_storage ss;
	socklen_t tl;
	const struct sockaddr *ta = dest(j, &ss, &tl);
	int rc = connect(j->fd, ta, tl);
	int err = rc < 0 ? errno : 0;
	log_call(j, rc, err, false);
	answer(j, rc, err, false);
	job_free(j);
}

/*
 * A TCP connect whose rule pins one source address and nothing else of
 * where the call goes (no rewrite, no source_port): the supervisor binds
 * the socket to the source (with IP_BIND_ADDRESS_NO_PORT, so that the
 * kernel picks the port at connect with the 4-tuple check) and lets the
 * program's own thread make the connect, which then blocks or not, and
 * fails or not, exactly as it does bare (CONTINUE). That saves the connect
 * made here, and before a blocking one the hand-off of the receiving role.
 * Not where a retry is the supervisor's to make: a rewrite (the address
 * would be read again from the program's memory, after the decision), a
 * window of ports, or a pool with another address to hand over to when
 * every port from this one is taken; not in dry-run (nothing to prepare).
 */
static bool may_continue(const struct job *j)
{
	const struct ss_call *c = &j->c;
	const struct ss_rule *r = c->rule;
	return c->proto == SS_PROTO_TCP && !c->dry && !j->rewritten && !r->has_rewrite && !r->has_source_port &&
	       ss_act_usable_sources(c, &j->to) <= 1;
}

/* The decision line says "continue" after what was done: its rc and errno
 * are the preparation's (0, or the bind's error, then the program's too),
 * not the connect's, which the kernel makes afterwards. */
static void continue_from_source(struct job *j)
{
	if (ss_act_source(&j->c, &j->to) < 0)
		return finish(j, -1, errno);
	log_call(j, 0, 0, true);
	pin_put(j->fd, j->c.ent, NULL, false);
	answer(j, 0, 0, true);
	job_free(j);
}

/*
 * A blocking TCP connect the supervisor makes itself (a window, a pool, a
 * source with options to retry) on the program's own socket: made here
 * with O_NONBLOCK set for the call on the open file (the program's thread
 * is in this connect meanwhile), so that picking the source, and every
 * retry of a taken 4-tuple, happens here as before, but the handshake is
 * not waited for. On EINPROGRESS the program's call continues: a blocking
 * connect on a socket whose attempt is under way waits for it and returns
 * what a blocking connect returns (0, ECONNREFUSED, ETIMEDOUT), and the
 * receiving role stays with this thread (no hand-off before a call that
 * may block). For a rewrite too: the continued call passes the program's
 * own address again, which the kernel ignores on a socket whose attempt
 * is under way (but for AF_UNSPEC, which would only abort the program's
 * own attempt), and no duplicate is left behind holding a connect the
 * program may give up on (EINTR, then close). Not where the socket may be
 * replaced by a fresh one (a window the kernel does not check: that one
 * must be made with the program's flags), nor
 * on a socket with SO_SNDTIMEO: the continued call would find the attempt
 * under way and, timed out, return EALREADY where a bare one returns
 * EINPROGRESS; the worker's connect, on the same open file, gives the
 * kernel's own answer. But when every worker is busy (workers_full), the
 * receiving thread would wait in that connect, every other call of the
 * program with it: then (any_timeout) the call continues here too, and a
 * timeout says EALREADY. true when the call was answered.
 *
 * Only the O_NONBLOCK set here is cleared afterwards (the flags are read
 * again), so an F_SETFL another thread of the program made during the
 * connect stays. Left: one that set O_NONBLOCK itself meanwhile loses it,
 * one made between an F_GETFL here and its F_SETFL (fcntl has no atomic
 * set-one-bit) is lost, and a thread that reads the flags meanwhile sees
 * O_NONBLOCK.
 */
static bool connect_then_continue(struct job *j, bool any_timeout)
{
	struct ss_call *c = &j->c;
	if (c->proto != SS_PROTO_TCP || c->dry || !ss_act_same_socket(c))
		return false;
	struct timeval tmo = { 0, 0 };
	socklen_t tmol = sizeof(tmo);
	if (!any_timeout &&
	    (getsockopt(j->fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, &tmol) < 0 || tmo.tv_sec || tmo.tv_usec))
		return false;
	j->fl = fcntl(j->fd, F_GETFL);
	j->has_fl = true;
	if (j->fl < 0 || (j->fl & O_NONBLOCK) || fcntl(j->fd, F_SETFL, j->fl | O_NONBLOCK) < 0)
		return false;
	struct sockaddr_storage ss;
	socklen_t tl;
	const struct sockaddr *ta = dest(j, &ss, &tl);
	int rc = ss_act_connect(c, &j->to, ta, tl);
	int err = errno;
	int now = fcntl(j->fd, F_GETFL);
	fcntl(j->fd, F_SETFL, (now < 0 ? j->fl : now) & ~O_NONBLOCK);
	gave_address(j, rc == 0 || err == EINPROGRESS);
	if (rc == 0 || err != EINPROGRESS) {
		finish(j, rc, err); /* at once, as a blocking connect would have it */
		return true;
	}
	log_call(j, 0, 0, true);
	pin_put(j->fd, c->ent, NULL, false);
	answer(j, 0, 0, true);
	job_free(j);
	return true;
}

/* Is the TCP socket in TCP_CLOSE (a failed attempt, which a repeat makes
 * again, to the address it passes)? Otherwise its attempt is under way or
 * made, and the kernel ignores the address of a repeat: it continues
 * (no worker holding a duplicate while the program's call waits). */
static bool tcp_closed(int fd)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);
	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) < 0 || ti.tcpi_state == TCP_CLOSE;
}

void on_connect(struct job *j)
{
	if (!begin(j, SS_OP_CONNECT, j->args[1], j->args[2]) || !j->c.rule)
		return pass(j);
	struct ss_call *c = &j->c;
	/* a socket with no local address at all has no attempt behind it */
	if (c->proto == SS_PROTO_TCP && !sup_unbound(&j->local, j->locallen) && !ss_tcp_connect_is_new(j->fd)) {
		/* A repeat (a non-blocking connect asked again, or a call the
		 * kernel restarts after a signal): not a decision (a debug line);
		 * only the redirect is kept, so it goes where the first went. */
		const struct ss_rule *r = c->rule;
		unmatch(j);
		if (c->dry || !r->has_rewrite || !tcp_closed(j->fd))
			return pass(j);
		c->rule = r;
		bool ok = ss_act_rewrite(c, &j->to);
		c->rule = NULL;
		if (!ok)
			return pass(j);
		j->rewritten = true;
		if (!still_valid(j))
			return drop(j);
		return carry_out(j, do_plain_connect);
	}
	if (denied(j) || !rewrite(j))
		return;
	ss_act_sockopts(c);
	if (!still_valid(j))
		return drop(j);
	if (may_continue(j))
		return continue_from_source(j);
	if (connect_then_continue(j, false) || (workers_full() && connect_then_continue(j, true)))
		return;
	carry_out(j, do_connect);
}

/* ---- bind, listen ---- */

void on_bind(struct job *j)
{
	if (!begin(j, SS_OP_BIND, j->args[1], j->args[2]) || !j->c.rule)
		return pass(j);
	struct ss_call *c = &j->c;
	if (denied(j) || !rewrite(j))
		return;
	ss_act_reuse(c);
	ss_act_sockopts(c);
	if (!still_valid(j))
		return drop(j);
	struct sockaddr_storage ss;
	socklen_t tl;
	const struct sockaddr *ta = dest(j, &ss, &tl);
	int rc = bind(j->fd, ta, tl);
	int err = errno;
	if (rc == 0 && j->rewritten)
		pin_put(j->fd, 0, &c->app, false); /* listen decides on what the program asked for */
	finish(j, rc, err);
}

void on_listen(struct job *j)
{
	if (!begin(j, SS_OP_LISTEN, 0, 0) || !j->c.rule)
		return pass(j);
	struct ss_call *c = &j->c;
	struct ss_addr local;
	socklen_t ll = j->rawlen;
	bool unbound = ss_addr_from_sockaddr(&local, (struct sockaddr *)&j->raw, ll) && local.port == 0 && ss_addr_is_any(&local);
	if (denied(j))
		return;
	ss_act_reuse(c);
	ss_act_sockopts(c);
	if (c->rule->has_rewrite) {
		if (!unbound) {
			ss_actions_add(&c->acts, "skip", "rewrite-bound");
		} else {
			if (!rewrite(j))
				return;
			if (j->rewritten) {
				if (!still_valid(j))
					return drop(j);
				struct sockaddr_storage ss;
				socklen_t tl = ss_addr_to_sockaddr(&j->to, &ss);
				if (bind(j->fd, (struct sockaddr *)&ss, tl) < 0)
					return finish(j, -1, errno);
			}
		}
	}
	if (!still_valid(j))
		return drop(j);
	int rc = listen(j->fd, (int)j->args[1]);
	finish(j, rc, errno);
}

/* ---- setsockopt: the program cannot undo a pinned reuse flag ---- */

static bool readable_opt(int level, int name)
{
	int names[48];
	unsigned n = optread_names(level, names, 48);
	for (unsigned i = 0; i < n; i++)
		if (names[i] == name)
			return true;
	return false;
}

void on_setsockopt(struct job *j)
{
	int level = (int)j->args[1], name = (int)j->args[2];
	int v;
	if (g_window && !readable_opt(level, name)) {
		/* sent because a retry could not copy it: remember the socket
		 * (whether or not the call succeeds: the safe side) */
		j->fd = target_fd(j->pid, j->tfd);
		if (j->fd >= 0)
			pin_put(j->fd, 0, NULL, true);
		return pass(j);
	}
	if (level != SOL_SOCKET || (name != SO_REUSEADDR && name != SO_REUSEPORT) || j->args[4] < sizeof(int))
		return pass(j);
	j->fd = target_fd(j->pid, j->tfd);
	if (j->fd < 0 || !target_read(j->pid, j->args[3], &v, sizeof(v)))
		return pass(j);
	struct pin pin = pin_get(j->fd);
	unsigned lock = (pin.locks >> (name == SO_REUSEADDR ? FD_RA_SHIFT : FD_RP_SHIFT)) & 3u;
	bool on = v != 0;
	if (!lock || on == (lock == FD_LOCK_ON))
		return pass(j);
	if (!still_valid(j))
		return drop(j);
	struct ss_actions a;
	ss_actions_init(&a);
	ss_actions_add(&a, "ignored", on ? (name == SO_REUSEADDR ? "SO_REUSEADDR=1" : "SO_REUSEPORT=1")
				   : (name == SO_REUSEADDR ? "SO_REUSEADDR=0" : "SO_REUSEPORT=0"));
	struct ss_decision d;
	memset(&d, 0, sizeof(d));
	d.via = "seccomp";
	d.pid = j->pid;
	d.op = "setsockopt";
	d.fd = j->tfd;
	d.rule = "(pinned)";
	d.actions = &a;
	int t = 0, dom = 0;
	socklen_t l = sizeof(t);
	if (getsockopt(j->fd, SOL_SOCKET, SO_TYPE, &t, &l) == 0)
		d.proto = t == SOCK_STREAM ? SS_PROTO_TCP : SS_PROTO_UDP;
	l = sizeof(dom);
	if (getsockopt(j->fd, SOL_SOCKET, SO_DOMAIN, &dom, &l) == 0)
		d.family = dom == AF_INET6 ? SS_FAM_V6 : SS_FAM_V4;
	ss_log_decision(SS_LEVEL_INFO, &d);
	answer(j, 0, 0, false);
	job_free(j);
}

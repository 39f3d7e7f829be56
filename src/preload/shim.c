/*
 * shim: turn intercepted calls into engine operations and carry out the
 * decisions (see shim.h): the per-call screen, then the bodies of the hooks
 * that decide or log (socket, bind, listen, connect, setsockopt, send*,
 * close). Start-up is ready.c; the fd table's other calls are fdcalls.c.
 *
 * The hot path takes no lock and allocates nothing: the policy is loaded once
 * (from the constructor, or from the first hook that runs before it) into an
 * mmap arena, replaced as a whole by a reload (reload.h); per-fd state lives
 * in the lock-free fdtab.
 * A call that no rule can match costs a table lookup and no system call.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actions.h"
#include "connstate.h"
#include "decide.h"
#include "engine.h"
#include "fdtab.h"
#include "fmt.h"
#include "hosttab.h"
#include "index.h"
#include "kaddr.h"
#include "log.h"
#include "optlog.h"
#include "peek.h"
#include "ready.h"
#include "real.h"
#include "reload.h"
#include "screen.h"

/* ---- per-fd knowledge ---- */

/* The fd's entry; an fd the shim did not see created is asked about once. */
static uint32_t fd_entry(int fd)
{
	uint32_t e = fdtab_get(fd);
	if (e)
		return e;
	int saved = errno;
	e = fdtab_ask_kernel(fd);
	if (!e) {
		e = errno == ENOTSOCK ? FD_KNOWN | FD_OTHER : 0;
		if (e)
			fdtab_set(fd, e);
		errno = saved;
		return FD_KNOWN | FD_OTHER; /* let the kernel answer the call */
	}
	if (e & (FD_TCP | FD_UDP))
		e |= FD_ADOPTED;
	fdtab_set(fd, e);
	errno = saved;
	return e;
}

uint32_t shim_fd_entry(int fd)
{
	return fd_entry(fd);
}

/* Record bits on an fd the shim knows; unknown fds stay unknown. */
static inline void mark(int fd, uint32_t bits)
{
	if (fdtab_get(fd))
		fdtab_or(fd, bits);
}

/* ---- one call ---- */

/* The hot path's helpers are inlined whatever the compiler thinks of their
 * size: a pass-through call is a few dozen instructions, calls included. */
#define HOT static inline __attribute__((always_inline))

/* false when no rule can hold the address in copy (screen.h); true when
 * some rule may, or there is no index to ask. */
HOT bool some_rule_may_hold(const struct sockaddr_storage *copy, socklen_t len)
{
	return !g_screen || ss_screen_may_hold(g_screen, copy, len);
}

/* Will the shim look at this call at all (a rule for op, or the debug log)? */
static inline bool watching(enum ss_op op)
{
	return ready() && (rules_for(g_policy, op) || g_debug);
}

/* What begin_call found. */
enum {
	CALL_PASS,   /* not the shim's: no rule for op, not TCP/UDP, an address the kernel refuses */
	CALL_UNHELD, /* not the shim's: no rule holds the address, for any op */
	CALL_OURS,   /* c is filled in, c->rule decided */
};

/*
 * A look at the call before anything else: CALL_PASS or CALL_UNHELD when it
 * is not the shim's, CALL_OURS when begin_call has to decide it. Inline, and
 * kept apart from begin_call, so a hook's pass-through path holds no
 * struct ss_call.
 */
HOT int screen(enum ss_op op, const struct sockaddr *sa, socklen_t len, struct sockaddr_storage *copy)
{
	if (!watching(op))
		return CALL_PASS;
	if (peek_sockaddr(copy, sa, len) <= 0)
		return CALL_PASS;
	return some_rule_may_hold(copy, len) ? CALL_OURS : CALL_UNHELD;
}

/* Fill c for a call the shim watches, its address already copied (by
 * screen(), or listen's own), or say why it is not the shim's after all. */
static int begin_call(struct ss_call *c, enum ss_op op, int fd, const struct sockaddr_storage *copy, socklen_t len)
{
	uint32_t ent = fd_entry(fd);
	if (!(ent & (FD_TCP | FD_UDP)))
		return CALL_PASS;
	c->fd = fd;
	c->proto = (ent & FD_TCP) ? SS_PROTO_TCP : SS_PROTO_UDP;
	c->family = (ent & FD_V6) ? SS_FAM_V6 : SS_FAM_V4;
	const struct ss_live *lv = ss_live(); /* one policy decides the whole call */
	/* as the kernel reads it for this socket; what it refuses is its own to answer */
	if (!ss_kernel_addr(&c->app, op, c->proto, c->family, (const struct sockaddr *)copy, len, fdtab_ask_v6only, &c->fd))
		return CALL_PASS;
	c->ent = ent;
	c->op = op;
	c->dry = lv->dry;
	c->failed = false;
	c->netns = 0;
	c->rule = NULL;
	if (rules_for(lv->policy, op)) {
		struct ss_callsite s = { op, c->proto, c->family, &c->app, NULL, NULL, fdtab_ask_v6only, &c->fd };
		char host[SS_HOST_MAX]; /* the name a lookup returned the address for, asked only when a rule has host */
		c->rule = ss_decide_call_host(lv->policy, &s, ss_host_for(lv->policy, op, &c->app, host), NULL);
	}
	/* the action strings are only for the log line of a decision */
	if (c->rule) {
		atomic_fetch_add_explicit(&c->rule->state->matched, 1, memory_order_relaxed);
		ss_reload_tick(); /* a matched call looks for a changed file too (for the next calls) */
		ss_actions_init(&c->acts);
	} else if (g_debug) {
		ss_actions_init(&c->acts);
	}
	return CALL_OURS;
}

static int log_call(struct ss_call *c, int rc, int err);

/* Log the call and return rc with errno = err, as the application sees it. */
static inline int end_call(struct ss_call *c, int rc, int err)
{
	if (!c->rule && !g_debug) {
		errno = err;
		return rc;
	}
	return log_call(c, rc, err);
}

static int log_call(struct ss_call *c, int rc, int err)
{
	if (c->rule)
		ss_act_tally(c);
	struct ss_decision d = { ss_op_name(c->op), c->fd, c->proto, c->family, &c->app,
				 c->rule ? c->rule->name : NULL, &c->acts, c->dry && c->rule, rc, err, NULL, 0 };
	ss_log_decision(c->rule ? SS_LEVEL_INFO : SS_LEVEL_DEBUG, &d);
	errno = err;
	return rc;
}

/* A deny rule: true when the call is refused here (not in dry-run). */
static bool denied(struct ss_call *c)
{
	if (!c->rule->deny)
		return false;
	ss_actions_add(&c->acts, "deny", ss_errno_name(c->rule->deny));
	if (c->dry)
		return false;
	end_call(c, -1, c->rule->deny);
	return true;
}

/* The rewritten address as a sockaddr, or the application's own. */
static const struct sockaddr *target_sockaddr(const struct ss_addr *t, struct sockaddr_storage *ss, socklen_t *len,
					      const struct sockaddr *orig, socklen_t origlen)
{
	if (!t) {
		*len = origlen;
		return orig;
	}
	*len = ss_addr_to_sockaddr(t, ss);
	return (const struct sockaddr *)ss;
}


bool shim_plain_logged(void)
{
	/* g_debug is read only once the load that set it is seen done */
	return (atomic_load_explicit(&g_state, memory_order_acquire) != ST_READY || g_debug) && ready() &&
	       ss_log_enabled(SS_LEVEL_DEBUG);
}

void shim_log_plain_line(const char *op, int fd, uint32_t ent, const struct ss_addr *addr, const char *extra, int rc, int err)
{
	if (!(ent & (FD_TCP | FD_UDP)) || !ready() || !ss_log_enabled(SS_LEVEL_DEBUG))
		return;
	struct ss_actions a;
	ss_actions_init(&a);
	if (extra)
		ss_actions_add(&a, extra, NULL);
	struct ss_decision d = { op, fd, (ent & FD_TCP) ? SS_PROTO_TCP : SS_PROTO_UDP, (ent & FD_V6) ? SS_FAM_V6 : SS_FAM_V4,
				 addr, NULL, &a, false, rc, err, NULL, 0 };
	ss_log_decision(SS_LEVEL_DEBUG, &d);
	errno = err;
}

/* ---- the operations ---- */

int shim_socket(int domain, int type, int protocol)
{
	ss_reload_tick(); /* a changed policy file, looked for at most once a second */
	if (idle())
		return real_socket(domain, type, protocol);
	int fd = real_socket(domain, type, protocol);
	int err = errno;
	if (fd >= 0) {
		uint32_t e = fdtab_classify(domain, type, protocol);
		fdtab_set(fd, e);
		if ((e & (FD_TCP | FD_UDP)) && ready() && optlog_enabled())
			optlog_start(fd);
		log_plain("socket", fd, e, NULL, NULL, fd, err);
	}
	errno = err;
	return fd;
}

int shim_socketpair(int domain, int type, int protocol, int sv[2])
{
	int rc = real_socketpair(domain, type, protocol, sv);
	if (rc == 0) {
		fdtab_set(sv[0], FD_KNOWN | FD_OTHER);
		fdtab_set(sv[1], FD_KNOWN | FD_OTHER);
	}
	return rc;
}

/* Decide now, at bind, which rule will decide listen() on this socket. */
static uint32_t listen_decision(const struct ss_call *c)
{
	struct ss_policy *p = g_policy;
	if (!p || !(p->op_mask & SS_OPBIT(SS_OP_LISTEN)) || c->proto != SS_PROTO_TCP)
		return 0;
	struct ss_callsite s = { SS_OP_LISTEN, c->proto, c->family, &c->app, NULL, NULL, fdtab_ask_v6only, (void *)&c->fd };
	uint32_t idx = ss_reload_rule_id(ss_decide_call(p, &s, NULL)); /* ids outlive a reload */
	return FD_LISTEN_SET | (idx <= 0xffff ? idx << FD_LISTEN_SHIFT : 0);
}

/* bind() as the application asked, for a call that is not the shim's. */
static inline int bind_untouched(int fd, const struct sockaddr *addr, socklen_t len, int got)
{
	int rc = real_bind(fd, addr, len);
	/* no rule holds the address: none will decide listen() either */
	if (rc == 0)
		mark(fd, FD_BOUND | FD_APPBOUND | (got == CALL_UNHELD ? FD_LISTEN_SET : 0));
	return rc;
}

static __attribute__((noinline)) int bind_decided(int fd, const struct sockaddr *addr, socklen_t len,
						  const struct sockaddr_storage *copy)
{
	struct ss_call c;
	int got = begin_call(&c, SS_OP_BIND, fd, copy, len);
	if (got != CALL_OURS)
		return bind_untouched(fd, addr, len, got);
	struct ss_addr t = c.app;
	bool rewritten = false;
	if (c.rule) {
		if (denied(&c))
			return -1;
		if (c.rule->has_rewrite) {
			if (!ss_act_rewrite(&c, &t))
				return end_call(&c, -1, EAFNOSUPPORT);
			rewritten = !c.dry;
		}
		ss_act_reuse(&c);
		ss_act_sockopts(&c);
	}
	struct sockaddr_storage ss;
	socklen_t tl;
	const struct sockaddr *ta = target_sockaddr(rewritten ? &t : NULL, &ss, &tl, addr, len);
	int rc = real_bind(fd, ta, tl);
	int err = errno;
	if (rc == 0)
		mark(fd, FD_BOUND | FD_APPBOUND | listen_decision(&c));
	return end_call(&c, rc, err);
}

int shim_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	if (idle())
		return real_bind(fd, addr, len);
	struct sockaddr_storage copy;
	int got = screen(SS_OP_BIND, addr, len, &copy);
	if (got != CALL_OURS)
		return bind_untouched(fd, addr, len, got);
	return bind_decided(fd, addr, len, &copy);
}

int shim_listen(int fd, int backlog)
{
	if (idle())
		return real_listen(fd, backlog);
	struct ss_call c;
	uint32_t e = 0;
	bool wanted = watching(SS_OP_LISTEN);
	if (wanted)
		e = fd_entry(fd);
	const struct ss_rule *pre = NULL;
	if ((e & FD_LISTEN_SET) && FD_LISTEN_RULE(e)) /* decided at bind, maybe by an older policy */
		pre = ss_reload_rule(FD_LISTEN_RULE(e));
	if (!(e & FD_TCP) || ((e & FD_LISTEN_SET) && !pre && !ss_log_enabled(SS_LEVEL_DEBUG))) {
		int rc = real_listen(fd, backlog);
		if (rc == 0)
			mark(fd, FD_BOUND | FD_LISTENING);
		return rc;
	}

	/* listen() passes no address: the rule was decided at bind() from the
	 * address the application passed there; a socket never bound is on
	 * the wildcard; only a socket the shim did not see bound is asked. */
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	memset(&local, 0, sizeof(local));
	bool unbound = !(e & (FD_BOUND | FD_CONNECTING | FD_ADOPTED));
	int saved = errno;
	if (unbound) {
		local.ss_family = (e & FD_V6) ? AF_INET6 : AF_INET;
		llen = (e & FD_V6) ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	} else if (getsockname(fd, (struct sockaddr *)&local, &llen) < 0) {
		errno = saved;
		return real_listen(fd, backlog);
	}
	bool ok = begin_call(&c, SS_OP_LISTEN, fd, &local, llen) == CALL_OURS;
	errno = saved;
	if (!ok)
		return real_listen(fd, backlog);
	if (!unbound && !(e & FD_BOUND))
		unbound = c.app.port == 0 && ss_addr_is_any(&c.app); /* adopted: as the kernel says */
	if (e & FD_LISTEN_SET) {
		if (c.rule)
			atomic_fetch_sub_explicit(&c.rule->state->matched, 1, memory_order_relaxed);
		c.rule = pre;
		if (pre) {
			atomic_fetch_add_explicit(&pre->state->matched, 1, memory_order_relaxed);
			ss_actions_init(&c.acts);
		}
	}
	if (c.rule) {
		if (denied(&c))
			return -1;
		ss_act_reuse(&c);
		ss_act_sockopts(&c);
		if (c.rule->has_rewrite) {
			if (!unbound) {
				ss_actions_add(&c.acts, "skip", "rewrite-bound");
			} else {
				struct ss_addr t = c.app;
				if (!ss_act_rewrite(&c, &t))
					return end_call(&c, -1, EAFNOSUPPORT);
				if (!c.dry) {
					struct sockaddr_storage ss;
					socklen_t tl = ss_addr_to_sockaddr(&t, &ss);
					if (real_bind(fd, (struct sockaddr *)&ss, tl) < 0)
						return end_call(&c, -1, errno);
				}
			}
		}
	}
	int rc = real_listen(fd, backlog);
	int err = errno;
	if (rc == 0)
		mark(fd, FD_BOUND | FD_LISTENING);
	return end_call(&c, rc, err);
}

/* connect() as the application asked, for a call that is not the shim's
 * (family: of the address, when the shim copied it; else -1). */
static inline int connect_untouched(int fd, const struct sockaddr *addr, socklen_t len, int family)
{
	int rc = real_connect(fd, addr, len);
	int err = rc ? errno : 0;
	ss_connect_noted(fd, family, addr, len, rc, err);
	if (rc)
		errno = err;
	return rc;
}

static __attribute__((noinline)) int connect_decided(int fd, const struct sockaddr *addr, socklen_t len,
						     const struct sockaddr_storage *copy)
{
	struct ss_call c;
	if (begin_call(&c, SS_OP_CONNECT, fd, copy, len) != CALL_OURS)
		return connect_untouched(fd, addr, len, copy->ss_family);

	/* A TCP socket that connected before: the kernel's continuation or
	 * report of that attempt passes through, not a decision; a new attempt
	 * (the old one failed and was reported, or AF_UNSPEC) is decided. */
	if (c.rule && c.proto == SS_PROTO_TCP && (c.ent & FD_CONNECTING) && ss_connect_is_repeat(fd, &c.ent)) {
		atomic_fetch_sub_explicit(&c.rule->state->matched, 1, memory_order_relaxed);
		c.rule = NULL; /* goes through as asked, with a debug line like any call */
	}
	struct ss_addr t = c.app;
	bool rewritten = false;
	if (c.rule) {
		if (denied(&c))
			return -1;
		if (c.rule->has_rewrite) {
			if (!ss_act_rewrite(&c, &t))
				return end_call(&c, -1, EAFNOSUPPORT);
			rewritten = !c.dry;
		}
		ss_act_sockopts(&c);
	}
	struct sockaddr_storage ss;
	socklen_t tl;
	const struct sockaddr *ta = target_sockaddr(rewritten ? &t : NULL, &ss, &tl, addr, len);
	int rc = c.rule ? ss_act_connect(&c, &t, ta, tl) : real_connect(fd, ta, tl);
	int err = errno;
	ss_connect_noted(fd, copy->ss_family, addr, len, rc, rc ? err : 0);
	return end_call(&c, rc, err);
}

int shim_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	if (idle())
		return real_connect(fd, addr, len);
	struct sockaddr_storage copy;
	int got = screen(SS_OP_CONNECT, addr, len, &copy);
	if (got != CALL_OURS) /* copied when no rule holds it */
		return connect_untouched(fd, addr, len, got == CALL_UNHELD ? copy.ss_family : -1);
	return connect_decided(fd, addr, len, &copy);
}

static const char *optname(int level, int name)
{
	if (level == SOL_SOCKET && name == SO_REUSEADDR)
		return "SO_REUSEADDR";
	if (level == SOL_SOCKET && name == SO_REUSEPORT)
		return "SO_REUSEPORT";
	return NULL;
}

/* What the shim keeps of an option the application set: whether it turned
 * the reuse flags on (a UDP port the shim picks must not be shared), and the
 * option itself when a rule may have to replay it on a fresh socket. */
static void remember_option(int fd, int level, int name, const void *val, socklen_t len)
{
	int saved = errno;
	uint32_t e = fdtab_get(fd);
	if (e & (FD_TCP | FD_UDP)) {
		int on; /* the kernel read it, but another thread may unmap it since: peek */
		if (!(e & FD_APPREUSE) && optname(level, name) && len >= (socklen_t)sizeof(int) && peek(&on, val, sizeof(on)) && on)
			fdtab_or(fd, FD_APPREUSE);
		/* only what is set before connect can matter for a retry (and
		 * options toggled on a live connection are a hot path) */
		if (!(e & (FD_BOUND | FD_CONNECTING)))
			optlog_record(fd, level, name, val, len);
	}
	errno = saved;
}

int shim_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	if (idle())
		return real_setsockopt(fd, level, name, val, len);
	const char *pinned = optname(level, name);
	uint32_t e = pinned ? fdtab_get(fd) : 0;
	unsigned lock = (e >> (name == SO_REUSEADDR ? FD_RA_SHIFT : FD_RP_SHIFT)) & 3u;
	int v;
	if (lock && len >= (socklen_t)sizeof(int) && peek(&v, val, sizeof(int))) {
		bool on = v != 0;
		if (on != (lock == FD_LOCK_ON)) {
			/* the policy forced this option; the application's undo is ignored */
			struct ss_actions a;
			ss_actions_init(&a);
			ss_actions_add(&a, "ignored", on ? (name == SO_REUSEADDR ? "SO_REUSEADDR=1" : "SO_REUSEPORT=1")
						   : (name == SO_REUSEADDR ? "SO_REUSEADDR=0" : "SO_REUSEPORT=0"));
			struct ss_decision d = { "setsockopt", fd, (e & FD_TCP) ? SS_PROTO_TCP : SS_PROTO_UDP,
						 (e & FD_V6) ? SS_FAM_V6 : SS_FAM_V4, NULL, "(pinned)", &a, false, 0, 0, NULL, 0 };
			int saved = errno;
			ss_log_decision(SS_LEVEL_INFO, &d);
			errno = saved;
			return 0;
		}
	}
	int rc = real_setsockopt(fd, level, name, val, len);
	if (rc == 0 && (pinned || optlog_enabled()))
		remember_option(fd, level, name, val, len);
	if (atomic_load_explicit(&g_state, memory_order_acquire) == ST_READY && g_debug) {
		int err = errno;
		char opt[48];
		struct fmt f;
		fmt_init(&f, opt, sizeof(opt));
		fmt_str(&f, "opt=");
		ss_optname_format(&f, level, name);
		if (len == (socklen_t)sizeof(int) && peek(&v, val, sizeof(int))) {
			fmt_char(&f, '=');
			fmt_i64(&f, v);
		}
		log_plain("setsockopt", fd, fdtab_get(fd), NULL, opt, rc, err);
	}
	return rc;
}

/*
 * One send naming a destination: buf/n for sendto, or msg for sendmsg.
 * Returns what the real call returned.
 */
static __attribute__((noinline)) ssize_t send_decided(int fd, const void *buf, size_t n, const struct msghdr *msg,
						       int flags, const struct sockaddr *addr, socklen_t len,
						       const struct sockaddr_storage *copy)
{
	struct ss_call c;
	bool began = begin_call(&c, SS_OP_SEND, fd, copy, len) == CALL_OURS;
	bool ours = began && (c.proto == SS_PROTO_UDP || (flags & MSG_FASTOPEN)); /* TCP names a destination only with Fast Open */
	if (!ours) {
		if (began && c.rule) /* not a decision after all: keep the summary honest */
			atomic_fetch_sub_explicit(&c.rule->state->matched, 1, memory_order_relaxed);
		ssize_t rc = msg ? real_sendmsg(fd, msg, flags) : real_sendto(fd, buf, n, flags, addr, len);
		return rc;
	}
	struct ss_addr t = c.app;
	bool rewritten = false;
	if (c.rule) {
		if (denied(&c))
			return -1;
		if (c.rule->has_rewrite) {
			if (!ss_act_rewrite(&c, &t))
				return end_call(&c, -1, EAFNOSUPPORT);
			rewritten = !c.dry;
		}
		ss_act_sockopts(&c);
		if (ss_act_source(&c, &t) < 0)
			return end_call(&c, -1, errno);
	}
	struct sockaddr_storage ss;
	socklen_t tl;
	const struct sockaddr *ta = target_sockaddr(rewritten ? &t : NULL, &ss, &tl, addr, len);
	ssize_t rc;
	if (msg) {
		struct msghdr m = *msg;
		m.msg_name = (void *)ta;
		m.msg_namelen = tl;
		rc = real_sendmsg(fd, &m, flags);
	} else {
		rc = real_sendto(fd, buf, n, flags, ta, tl);
	}
	int err = errno;
	if (rc >= 0 && !(c.ent & (FD_BOUND | FD_CONNECTING)))
		mark(fd, c.proto == SS_PROTO_TCP ? FD_CONNECTING : FD_BOUND);
	/* a datagram count fits an int; the log keeps rc as the call's result */
	end_call(&c, rc < 0 ? -1 : (int)(rc > 0x7fffffff ? 0x7fffffff : rc), err);
	errno = err;
	return rc;
}

static inline ssize_t send_one(int fd, const void *buf, size_t n, const struct msghdr *msg, int flags,
			       const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_storage copy;
	if (screen(SS_OP_SEND, addr, len, &copy) != CALL_OURS)
		return msg ? real_sendmsg(fd, msg, flags) : real_sendto(fd, buf, n, flags, addr, len);
	return send_decided(fd, buf, n, msg, flags, addr, len, &copy);
}

ssize_t shim_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr, socklen_t len)
{
	if (idle())
		return real_sendto(fd, buf, n, flags, addr, len);
	if (!addr)
		return real_sendto(fd, buf, n, flags, addr, len);
	return send_one(fd, buf, n, NULL, flags, addr, len);
}

ssize_t shim_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (idle())
		return real_sendmsg(fd, msg, flags);
	struct msghdr m;
	if (!watching(SS_OP_SEND) || !peek(&m, msg, sizeof(m)) || !m.msg_name || !m.msg_namelen)
		return real_sendmsg(fd, msg, flags);
	return send_one(fd, NULL, 0, &m, flags, m.msg_name, m.msg_namelen);
}

ssize_t shim_send_msg(int fd, const struct msghdr *m, int flags)
{
	return send_one(fd, NULL, 0, m, flags, m->msg_name, m->msg_namelen);
}

int shim_close(int fd)
{
	if (idle())
		return real_close(fd);
	uint32_t e = fdtab_get(fd);
	fdtab_clear(fd); /* before the fd number can be reused by another thread */
	optlog_forget(fd);
	int rc = real_close(fd);
	if (e & (FD_TCP | FD_UDP))
		log_plain("close", fd, e, NULL, NULL, rc, errno);
	return rc;
}

/*
 * actions: setsockopt and bind on the application's socket, on behalf of a
 * rule (see actions.h).
 */
#include "actions.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>

#include "connstate.h"
#include "fdtab.h"
#include "fmt.h"
#include "held.h"
#include "hosttab.h"
#include "names.h"
#include "optlog.h"
#include "periodic.h"
#include "real.h"
#include "reload.h"
#include "rotate.h"
#include "warnrate.h"
#include "window.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

static void add_failure(struct ss_call *c, const char *what, int err)
{
	c->failed = true;
	if (!ss_actions_wanted(&c->acts))
		return;
	char v[96];
	struct fmt f;
	fmt_init(&f, v, sizeof(v));
	fmt_str(&f, what);
	fmt_char(&f, ':');
	fmt_str(&f, ss_errno_name(err));
	ss_actions_add(&c->acts, "failed", v);
}

void ss_act_reuse(struct ss_call *c)
{
	static const struct {
		const char *name;
		int opt;
		unsigned shift;
	} flags[2] = { { "reuseaddr", SO_REUSEADDR, FD_RA_SHIFT }, { "reuseport", SO_REUSEPORT, FD_RP_SHIFT } };
	const struct ss_rule *r = c->rule;
	enum ss_flag_action want[2] = { r->reuseaddr, r->reuseport };

	for (int i = 0; i < 2; i++) {
		if (want[i] == SS_FLAG_NONE)
			continue;
		const char *v = want[i] == SS_FLAG_FORCE ? "force" : "deny";
		/* On UDP these let another socket take over the port and its
		 * datagrams: only when the rule names UDP explicitly. */
		if (c->proto == SS_PROTO_UDP && !(r->protos & SS_PROTO_UDP)) {
			ss_actions_add(&c->acts, "skip", i ? "reuseport-udp" : "reuseaddr-udp");
			continue;
		}
		ss_actions_add(&c->acts, flags[i].name, v);
		if (c->dry)
			continue;
		int on = want[i] == SS_FLAG_FORCE;
		if (real_setsockopt(c->fd, SOL_SOCKET, flags[i].opt, &on, sizeof(on)) < 0) {
			add_failure(c, flags[i].name, errno);
			continue;
		}
		uint32_t lock = (on ? FD_LOCK_ON : FD_LOCK_OFF) << flags[i].shift;
		c->ent = (c->ent & ~(3u << flags[i].shift)) | lock;
		fdtab_set(c->fd, c->ent);
	}
}

/* Set the rule's options on fd; log them unless quiet (a replay). */
static void sockopts_on(struct ss_call *c, int fd, bool quiet)
{
	const struct ss_rule *r = c->rule;
	for (unsigned i = 0; i < r->nsockopts; i++) {
		const struct ss_sockopt *o = &r->sockopts[i];
		enum ss_optscope sc = o->opt->scope;
		if ((sc == SS_SCOPE_IPV4 && c->family != SS_FAM_V4) || (sc == SS_SCOPE_IPV6 && c->family != SS_FAM_V6) ||
		    (sc == SS_SCOPE_TCP && c->proto != SS_PROTO_TCP)) {
			if (!quiet)
				ss_actions_add(&c->acts, "skip", o->opt->name);
			continue;
		}
		if (!quiet)
			ss_actions_add(&c->acts, "sockopt", o->text);
		if (c->dry)
			continue;
		int rc;
		if (o->opt->kind == SS_OPT_STRING) {
			rc = real_setsockopt(fd, o->opt->level, o->opt->optname, o->sval, (socklen_t)strlen(o->sval) + 1);
		} else if (o->opt->kind == SS_OPT_LINGER) {
			struct linger lg = { o->ival >= 0, o->ival >= 0 ? o->ival : 0 };
			rc = real_setsockopt(fd, o->opt->level, o->opt->optname, &lg, sizeof(lg));
		} else {
			rc = real_setsockopt(fd, o->opt->level, o->opt->optname, &o->ival, sizeof(o->ival));
		}
		if (rc < 0 && !quiet)
			add_failure(c, o->opt->name, errno);
	}
}

void ss_act_sockopts(struct ss_call *c)
{
	sockopts_on(c, c->fd, false);
}

bool ss_act_rewrite(struct ss_call *c, struct ss_addr *target)
{
	const struct ss_rule *r = c->rule;
	struct ss_addr t = *target;
	if (r->rewrite_ip) {
		uint16_t port = t.port;
		t = r->rewrite;
		t.port = port;
	}
	if (r->rewrite_port)
		t.port = r->rewrite.port;
	if (!ss_addr_for_family(&t, c->family == SS_FAM_V6 ? 6 : 4)) {
		ss_actions_add(&c->acts, "rewrite", "impossible-for-ipv4-socket");
		c->failed = true;
		return c->dry; /* dry-run: logged as failing, the call goes on untouched */
	}
	ss_actions_add_addr(&c->acts, "rewrite", &t, true);
	if (!c->dry)
		*target = t;
	return true;
}

void ss_act_tally(struct ss_call *c)
{
	if (c->failed)
		atomic_fetch_add_explicit(&c->rule->state->failed, 1, memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&c->rule->state->applied, 1, memory_order_relaxed);
	if (!c->rule->has_actions)
		ss_actions_add(&c->acts, "allow", NULL);
	ss_periodic_tick();
}

void ss_act_tally_resolve(const struct ss_rule *r)
{
	atomic_fetch_add_explicit(&r->state->matched, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->state->applied, 1, memory_order_relaxed);
	ss_reload_tick();
}

void ss_act_remember(const struct ss_addr *a, const char *name)
{
	const struct ss_live *lv = ss_live();
	if ((lv->policy && (lv->policy->host_ops & ~SS_OPBIT(SS_OP_RESOLVE))) || atomic_load_explicit(&ss_reload_next, memory_order_relaxed))
		ss_hosttab_put(a, name);
}

bool ss_act_has_address(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct ss_addr a;
	int saved = errno;
	bool bound = getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
		     ss_addr_from_sockaddr(&a, (struct sockaddr *)&ss, len) && (a.port || !ss_addr_is_any(&a));
	errno = saved;
	return bound;
}

/* true when the socket already has a local address (asks the kernel only
 * for sockets the shim did not see created) */
static bool socket_is_bound(const struct ss_call *c)
{
	if (c->ent & (FD_BOUND | FD_CONNECTING)) /* a TCP connect in progress has an address */
		return true;
	return (c->ent & FD_ADOPTED) && (c->proto == SS_PROTO_TCP ? ss_tcp_has_address(c->fd, !c->dry) : ss_act_has_address(c->fd));
}

/*
 * The pool addresses usable for this socket and destination, starting at the
 * rule's cursor: an IPv6 socket talking to an IPv4-mapped destination needs
 * an IPv4(-mapped) source. With no pool, one wildcard "address" (only the
 * port is pinned).
 */
struct sources {
	const struct ss_rule *r;
	int want, sockfam;
	uint32_t start, i;
	bool kernel; /* rotate=kernel left to a checked window: verify after */
};

/* ss_window_checked_fd for c's socket, its namespace asked once per call */
static bool window_checked_fd(struct ss_call *c, const struct ss_portset *w)
{
	if (!ss_window_checked(w))
		return false;
	if (!c->netns)
		c->netns = ss_window_checked_fd(w, c->fd) ? 1 : -1;
	return c->netns > 0;
}

static void sources_init(struct sources *it, struct ss_call *c, const struct ss_addr *dest)
{
	uint32_t v4;
	it->r = c->rule;
	it->kernel = false;
	it->sockfam = c->family == SS_FAM_V6 ? 6 : 4;
	it->want = (c->family == SS_FAM_V4 || ss_addr_v4_view(dest, &v4)) ? 4 : 6;
	it->i = 0;
	it->start = it->r->nsource ? ss_rotate_next(it->r->state, SS_CURSOR_ADDR, it->r->nsource, it->r->rotate, NULL) : 0;
}

unsigned ss_act_usable_sources(const struct ss_call *c, const struct ss_addr *dest)
{
	const struct ss_rule *r = c->rule;
	uint32_t v4;
	int sockfam = c->family == SS_FAM_V6 ? 6 : 4;
	int want = (c->family == SS_FAM_V4 || ss_addr_v4_view(dest, &v4)) ? 4 : 6;
	unsigned n = 0;
	for (uint32_t i = 0; i < r->nsource; i++) {
		struct ss_addr a = r->source[i];
		if (a.family == want && ss_addr_for_family(&a, sockfam))
			n++;
	}
	return n;
}

static bool sources_next(struct sources *it, struct ss_addr *out)
{
	const struct ss_rule *r = it->r;
	if (!r->nsource) {
		if (it->i++)
			return false;
		memset(out, 0, sizeof(*out));
		out->family = it->sockfam;
		return true;
	}
	while (it->i < r->nsource) {
		const struct ss_addr *s = &r->source[(it->start + it->i++) % r->nsource];
		if (s->family != it->want)
			continue;
		*out = *s;
		if (ss_addr_for_family(out, it->sockfam))
			return true;
	}
	return false;
}

static int bind_to(int fd, const struct ss_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t len = ss_addr_to_sockaddr(a, &ss);
	return real_bind(fd, (struct sockaddr *)&ss, len);
}

/* "key=ADDR:ERRNO" (with the port when there is one) */
static void add_busy(struct ss_call *c, const char *key, const struct ss_addr *a, int err)
{
	if (!ss_actions_wanted(&c->acts))
		return;
	char v[96];
	struct fmt f;
	fmt_init(&f, v, sizeof(v));
	if (a->port)
		fmt_endpoint(&f, a);
	else
		fmt_ip(&f, a);
	fmt_char(&f, ':');
	fmt_str(&f, ss_errno_name(err));
	ss_actions_add(&c->acts, key, v);
}

static void add_count(struct ss_call *c, const char *key, uint32_t n)
{
	if (!ss_actions_wanted(&c->acts))
		return;
	char v[16];
	struct fmt f;
	fmt_init(&f, v, sizeof(v));
	fmt_u64(&f, n);
	ss_actions_add(&c->acts, key, v);
}

/*
 * A UDP port the shim picks is never shared: replies to two sockets on one
 * port go to only one of them. Clear the reuse flags (only when the
 * application may have set them) and pin them off.
 */
static void udp_exclusive(struct ss_call *c, int fd)
{
	if (c->proto != SS_PROTO_UDP)
		return;
	if (c->ent & (FD_APPREUSE | FD_ADOPTED)) {
		int off = 0;
		real_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &off, sizeof(off));
		real_setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &off, sizeof(off));
		ss_actions_add(&c->acts, "exclusive", "udp");
	}
	c->ent = (c->ent & ~(FD_RA_MASK | FD_RP_MASK | FD_APPREUSE)) | FD_LOCK_OFF << FD_RA_SHIFT | FD_LOCK_OFF << FD_RP_SHIFT;
}

static void mark_bound(struct ss_call *c)
{
	c->ent |= FD_BOUND;
	fdtab_set(c->fd, c->ent);
}

enum plan {
	PLAN_NONE,   /* nothing to bind: pass the call on */
	PLAN_NOPORT, /* bind pool addresses, the kernel picks the port at connect */
	PLAN_WINDOW, /* bind explicit ports of the window */
};

/* What the rule asks for this socket; logs the skips and dry-run intent. */
static enum plan plan_source(struct ss_call *c, const struct ss_addr *dest, struct sources *it)
{
	const struct ss_rule *r = c->rule;
	if (!r->nsource && !r->has_source_port)
		return PLAN_NONE;
	if (socket_is_bound(c)) {
		/* never re-bind: the application (or an earlier call) chose already */
		ss_actions_add(&c->acts, "skip", (c->ent & FD_APPBOUND) ? "app-bound" : "bound");
		return PLAN_NONE;
	}
	struct ss_addr first;
	sources_init(it, c, dest);
	if (!sources_next(it, &first)) {
		ss_actions_add(&c->acts, "skip", "no-source-for-family");
		return PLAN_NONE;
	}
	it->i = 0; /* the executor starts from the same address */
	if (r->has_source_port && r->rotate == SS_ROTATE_KERNEL) {
		const struct ss_portset *w = &r->source_port;
		/* outside the system's range the kernel would quietly pick from
		 * that range instead: only a checked window is left to it */
		if (window_checked_fd(c, w) && (c->dry || ss_window_range(c->fd, w->r[0].lo, w->r[0].hi) == 0)) {
			ss_actions_add(&c->acts, "rotate", "kernel");
			it->kernel = !c->dry;
			if (!r->nsource)
				return PLAN_NONE; /* connect() binds inside the window */
		} else {
			/* an older kernel: rotate here instead */
			ss_actions_add(&c->acts, "rotate", "kernel-unavailable");
			if (c->dry)
				return PLAN_NONE;
			return PLAN_WINDOW;
		}
	}
	if (c->dry) {
		if (r->has_source_port && r->rotate != SS_ROTATE_KERNEL)
			first.port = ss_portset_nth(&r->source_port, 0);
		ss_actions_add_addr(&c->acts, "source", &first, first.port != 0);
		return PLAN_NONE;
	}
	return r->has_source_port && r->rotate != SS_ROTATE_KERNEL ? PLAN_WINDOW : PLAN_NOPORT;
}

/*
 * After a connect from a checked window (rc, err: what it returned): did the
 * kernel connect from a port of the window (the offered one, when not 0)? It
 * silently uses its whole range instead when the system's range changed
 * since it was read. Then the port really used is logged, with a warning,
 * and no window is left to the kernel any more (window.h). The port (or -1
 * when unknown); errno kept.
 */
static int verify_port(struct ss_call *c, int rc, int err, uint16_t offered)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	struct ss_addr used;
	if ((rc < 0 && err != EINPROGRESS && err != EINTR) ||
	    getsockname(c->fd, (struct sockaddr *)&ss, &l) < 0 || !ss_addr_from_sockaddr(&used, (struct sockaddr *)&ss, l)) {
		errno = err;
		return -1; /* no connection (nothing bound to check), or unknown */
	}
	if (offered ? used.port != offered : !ss_portset_contains(&c->rule->source_port, used.port)) {
		ss_window_distrust();
		ss_actions_add(&c->acts, "warn", "kernel-left-window");
		if (!offered)
			ss_actions_add_addr(&c->acts, "source", &used, true);
	}
	errno = err;
	return used.port;
}

/* Has the program restricted fd's ports itself (IP_LOCAL_PORT_RANGE not
 * 0)? errno kept. */
static bool own_port_range(int fd)
{
	uint32_t v = 0;
	socklen_t l = sizeof(v);
	int err = errno;
	bool own = getsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &v, &l) == 0 && v != 0;
	errno = err;
	return own;
}

/*
 * Bind fd to each usable pool address in turn with the port left to the
 * kernel, and (when to is not NULL) connect. A pool address with no port left
 * for this destination (EADDRNOTAVAIL at connect: every 4-tuple taken) hands
 * over to the next one on the same socket: a socket bound with
 * IP_BIND_ADDRESS_NO_PORT may be bound again until it connects.
 */
static int source_noport(struct ss_call *c, struct sources *it, const struct sockaddr *to, socklen_t tolen)
{
	struct ss_addr src;
	int err = EADDRNOTAVAIL;
	bool whole = false; /* the range below is ours, to clear after the connect */
	if (c->proto == SS_PROTO_TCP) {
		int one = 1;
		real_setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		/* A per-socket range makes connect() search the ephemeral range
		 * odd and even ports alike. Without one it tries every even
		 * port before any odd one, so once an address has used half its
		 * ports each connect scans them all (from ~31,000 connects/s
		 * down to a few hundred). Bounds outside the system's range (1
		 * and 65535) leave the system's range in force. Kernels without
		 * the option (before 6.3) refuse it: nothing changes there.
		 * Only for a connect made here (to), which clears it afterwards:
		 * the option must read back as the program left it. A program's
		 * own range is its choice of port and stays. */
		if (to && c->rule->rotate != SS_ROTATE_KERNEL && !own_port_range(c->fd))
			whole = ss_window_range(c->fd, 1, 65535) == 0;
	}
	udp_exclusive(c, c->fd);
	while (sources_next(it, &src)) {
		if (bind_to(c->fd, &src) < 0) {
			err = errno;
			if (err != EADDRNOTAVAIL && err != EADDRINUSE)
				break;
			add_busy(c, "busy", &src, err);
			continue;
		}
		int rc = to ? real_connect(c->fd, to, tolen) : 0;
		err = errno;
		if (rc < 0 && err == EADDRNOTAVAIL) {
			add_busy(c, "busy", &src, err); /* no port left from here: the next address */
			continue;
		}
		if (whole)
			ss_window_range(c->fd, 0, 0); /* the port is chosen */
		ss_actions_add_addr(&c->acts, "source", &src, false);
		if (it->kernel && to)
			verify_port(c, rc, err, 0);
		mark_bound(c);
		errno = err;
		return rc;
	}
	if (whole)
		ss_window_range(c->fd, 0, 0);
	add_failure(c, "source", err);
	errno = err;
	return -1;
}

/*
 * A fresh socket like c->fd (family, type, non-blocking) carrying every
 * option the application set on c->fd and the rule's own, for a retry.
 * -1 with errno when no socket can be had; -2 when the application's options
 * are not all known (set before the shim was loaded, or too many to keep).
 */
static int fresh_socket(struct ss_call *c)
{
	if (c->ent & FD_ADOPTED)
		return -2; /* created before the shim was loaded: options unknown */
	int fl = real_fcntl(c->fd, F_GETFL, NULL);
	if (fl < 0)
		return -1;
	int type = (c->proto == SS_PROTO_TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC | ((fl & O_NONBLOCK) ? SOCK_NONBLOCK : 0);
	int s = real_socket(c->family == SS_FAM_V6 ? AF_INET6 : AF_INET, type, 0);
	if (s < 0)
		return -1;
	if (!optlog_replay(c->fd, s)) {
		real_close(s);
		return -2;
	}
	sockopts_on(c, s, true);
	udp_exclusive(c, s);
	return s;
}

/* Put s in place of c->fd (same fd number, same close-on-exec flag). */
static int install(struct ss_call *c, int s)
{
	int fdfl = real_fcntl(c->fd, F_GETFD, NULL);
	int rc = real_dup3(s, c->fd, fdfl >= 0 && (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0);
	int err = errno;
	real_close(s);
	errno = err;
	return rc;
}

/*
 * A TCP connect from a checked window (window.h): for each usable pool
 * address (bound with the port left open), each port in rotation order is
 * offered to the kernel alone, which connects from it only when the 4-tuple
 * is free. A taken one (EADDRNOTAVAIL) leaves the socket unbound, so the
 * next port is tried on the same socket: the program's fd, and whatever it
 * registered on it, stay what they were. -2 when the socket refuses the
 * option before any port was tried (errno kept): nothing was done.
 */
static int window_checked(struct ss_call *c, struct sources *it, const struct sockaddr *to, socklen_t tolen)
{
	const struct ss_rule *r = c->rule;
	const struct ss_portset *w = &r->source_port;
	uint32_t n = w->count, taken = 0;
	uint64_t ticket;
	uint32_t start = ss_rotate_next(r->state, SS_CURSOR_PORT, n, r->rotate, &ticket);
	uint32_t stride = ss_rotate_stride(r->state, ticket, n, r->rotate);
	struct ss_addr src;
	int err = EADDRNOTAVAIL;

	if (r->nsource) {
		int one = 1;
		real_setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	}
	while (sources_next(it, &src)) {
		if (r->nsource && bind_to(c->fd, &src) < 0) {
			err = errno;
			if (err != EADDRNOTAVAIL && err != EADDRINUSE)
				break;
			add_busy(c, "busy", &src, err);
			continue;
		}
		for (uint32_t i = 0; i < n; i++) {
			src.port = ss_portset_nth(w, (uint32_t)((start + (uint64_t)i * stride) % n));
			if (ss_window_range(c->fd, src.port, src.port) < 0) {
				if (!taken)
					return -2; /* the socket refuses the option: bind exact ports */
				err = errno;
				goto out;
			}
			int rc = real_connect(c->fd, to, tolen);
			err = errno;
			if (rc < 0 && err == EADDRNOTAVAIL) {
				if (taken++ < 4)
					add_busy(c, "taken", &src, err);
				continue;
			}
			if (r->rotate == SS_ROTATE_SEQUENTIAL && i > 0)
				ss_rotate_skip(r->state, SS_CURSOR_PORT, ticket, i); /* past the taken ports too */
			if (taken)
				add_count(c, "retries", taken);
			int used = verify_port(c, rc, err, src.port);
			if (used > 0)
				src.port = (uint16_t)used; /* the log names the port really used */
			ss_actions_add_addr(&c->acts, "source", &src, true);
			mark_bound(c);
			errno = err;
			return rc;
		}
		if (!r->nsource)
			break;
		src.port = 0;
		add_busy(c, "busy", &src, EADDRNOTAVAIL); /* every port taken from here: the next address */
	}
out:
	if (taken)
		add_count(c, "retries", taken);
	add_failure(c, "source", err);
	errno = err;
	return -1;
}

bool ss_act_same_socket(struct ss_call *c)
{
	const struct ss_rule *r = c->rule;
	return !r->has_source_port || (c->proto == SS_PROTO_TCP && window_checked_fd(c, &r->source_port));
}

bool ss_act_may_replace(struct ss_call *c)
{
	const struct ss_rule *r = c->rule;
	if (!r->has_source_port || c->dry)
		return false;
	if (c->proto == SS_PROTO_TCP && window_checked_fd(c, &r->source_port))
		return false; /* retried on the same socket */
	int fl = real_fcntl(c->fd, F_GETFL, NULL);
	return fl >= 0 && !(fl & O_NONBLOCK);
}

/* Make a TCP socket's exact bind into the window shareable, as the ports'
 * TIME_WAIT leftovers then are too (each carries the flag of the socket it
 * came from): a port serves every destination whose 4-tuple is free, and a
 * taken one shows at connect. UDP ports stay exclusive. */
static void shareable(struct ss_call *c, int fd)
{
	if (c->proto != SS_PROTO_TCP)
		return;
	int one = 1;
	real_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
}

/*
 * Bind explicit ports of the window, from the rule's cursor, on each usable
 * pool address in turn (a window the kernel cannot check). A busy port (EADDRINUSE at bind) is skipped on the
 * same socket. A port whose 4-tuple is taken (EADDRNOTAVAIL at connect)
 * leaves the socket bound for good, so the next port is tried on a fresh
 * socket, which replaces the application's on success: only for a blocking
 * socket, where connect itself tells the program the outcome. A
 * non-blocking one may already be watched (epoll, poll on a dup) through
 * the open file a replacement would drop, so it gets the kernel's
 * EADDRNOTAVAIL instead (noretry=non-blocking). When the window is full
 * the last error is the kernel's own and the application gets it.
 */
static int source_window(struct ss_call *c, struct sources *it, const struct sockaddr *to, socklen_t tolen)
{
	const struct ss_rule *r = c->rule;
	const struct ss_portset *w = &r->source_port;
	if (c->proto == SS_PROTO_TCP && to && window_checked_fd(c, w)) {
		int rc = window_checked(c, it, to, tolen);
		if (rc != -2) {
			/* the port is chosen: clear the one-port range, so that a later
			 * connect on this socket (after AF_UNSPEC) is not held to it */
			int err = errno;
			ss_window_range(c->fd, 0, 0);
			errno = err;
			return rc;
		}
		it->i = 0;
	}
	uint32_t n = w->count, busy = 0, retries = 0, held = 0;
	uint64_t ticket;
	uint32_t start = ss_rotate_next(r->state, SS_CURSOR_PORT, n, r->rotate, &ticket);
	uint32_t stride = ss_rotate_stride(r->state, ticket, n, r->rotate);
	struct ss_addr src;
	int s = c->fd, err = EADDRINUSE;
	bool spoiled = false; /* s is bound and can no longer be used */

	udp_exclusive(c, c->fd);
	shareable(c, c->fd);
	while (sources_next(it, &src)) {
		for (uint32_t i = 0; i < n; i++) {
			src.port = ss_portset_nth(w, (uint32_t)((start + (uint64_t)i * stride) % n));
			if (spoiled) {
				if (!ss_act_may_replace(c)) {
					ss_actions_add(&c->acts, "noretry", "non-blocking");
					err = EADDRNOTAVAIL;
					goto out;
				}
				int fresh = fresh_socket(c);
				if (fresh < 0) {
					if (fresh == -2)
						ss_actions_add(&c->acts, "noretry", "options-unknown");
					else
						add_failure(c, "retry", errno);
					err = EADDRNOTAVAIL; /* what the last connect said */
					goto out;
				}
				if (s != c->fd)
					real_close(s);
				s = fresh;
				shareable(c, s);
				spoiled = false;
			}
			if (to && c->proto == SS_PROTO_TCP && ss_held_taken(src.port, to, tolen)) {
				held++; /* this process holds it towards `to`: connect would fail */
				continue;
			}
			if (bind_to(s, &src) < 0) {
				err = errno;
				if (err == EADDRINUSE) {
					busy++;
					continue;
				}
				if (err == EADDRNOTAVAIL && r->nsource > 1) {
					add_busy(c, "busy", &src, err);
					break; /* not an address of this host: the next one */
				}
				goto out;
			}
			if (r->rotate == SS_ROTATE_SEQUENTIAL && i > 0)
				ss_rotate_skip(r->state, SS_CURSOR_PORT, ticket, i); /* past the busy ports too */
			int rc = to ? real_connect(s, to, tolen) : 0;
			err = errno;
			if (rc < 0 && err == EADDRNOTAVAIL) {
				if (retries++ < 4)
					add_busy(c, "taken", &src, err);
				spoiled = true;
				continue;
			}
			if (busy)
				add_count(c, "busy-ports", busy);
			if (held)
				add_count(c, "held-ports", held);
			if (retries)
				add_count(c, "retries", retries);
			ss_actions_add_addr(&c->acts, "source", &src, true);
			if (s != c->fd && install(c, s) < 0) {
				/* cannot happen short of fd exhaustion: keep the kernel's error */
				add_failure(c, "retry", errno);
				errno = EADDRNOTAVAIL;
				return -1;
			}
			if (to && c->proto == SS_PROTO_TCP && (rc == 0 || err == EINPROGRESS))
				ss_held_add(c->fd, src.port, to, tolen);
			mark_bound(c);
			errno = err;
			return rc;
		}
	}
	if (held)
		err = EADDRNOTAVAIL; /* every free port's 4-tuple is this process's: as the kernel's own range says */
out:
	if (s != c->fd)
		real_close(s);
	if (busy)
		add_count(c, "busy-ports", busy);
	if (held)
		add_count(c, "held-ports", held);
	if (retries)
		add_count(c, "retries", retries);
	add_failure(c, "source", err);
	errno = err;
	return -1;
}

/* Every source address or port of the rule was taken: a warning even at
 * log_level = warn, where no decision line says it (one a second per rule). */
static int exhausted(const struct ss_call *c, int rc)
{
	if (rc < 0 && (errno == EADDRNOTAVAIL || errno == EADDRINUSE)) {
		int saved = errno;
		ss_warn_limited(c->rule->line, "exhausted", c->rule->name,
				"no source address or port of the rule is free", "errno", ss_errno_name(saved));
		errno = saved;
	}
	return rc;
}

int ss_act_source(struct ss_call *c, const struct ss_addr *dest)
{
	struct sources it;
	switch (plan_source(c, dest, &it)) {
	case PLAN_NOPORT: return exhausted(c, source_noport(c, &it, NULL, 0));
	case PLAN_WINDOW: return exhausted(c, source_window(c, &it, NULL, 0));
	default: return 0;
	}
}

int ss_act_connect(struct ss_call *c, const struct ss_addr *dest, const struct sockaddr *to, socklen_t tolen)
{
	struct sources it = { .kernel = false };
	int saved = errno, rc;
	switch (plan_source(c, dest, &it)) {
	case PLAN_NOPORT: rc = exhausted(c, source_noport(c, &it, to, tolen)); break;
	case PLAN_WINDOW: rc = exhausted(c, source_window(c, &it, to, tolen)); break;
	default:
		rc = real_connect(c->fd, to, tolen);
		if (it.kernel)
			verify_port(c, rc, errno, 0);
		return rc;
	}
	if (rc == 0)
		errno = saved; /* a success after retries leaves errno as it was */
	return rc;
}

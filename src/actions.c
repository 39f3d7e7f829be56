/*
 * actions: setsockopt and bind on the application's socket, on behalf of a
 * rule (see actions.h).
 */
#include "actions.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "fdtab.h"
#include "real.h"
#include "rotate.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif

static void add_failure(struct ss_call *c, const char *what, int err)
{
	char v[96];
	struct fmt f;
	fmt_init(&f, v, sizeof(v));
	fmt_str(&f, what);
	fmt_char(&f, ':');
	fmt_str(&f, ss_errno_name(err));
	ss_actions_add(&c->acts, "failed", v);
	c->failed = true;
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

void ss_act_sockopts(struct ss_call *c)
{
	const struct ss_rule *r = c->rule;
	for (unsigned i = 0; i < r->nsockopts; i++) {
		const struct ss_sockopt *o = &r->sockopts[i];
		enum ss_optscope sc = o->opt->scope;
		if ((sc == SS_SCOPE_IPV4 && c->family != SS_FAM_V4) || (sc == SS_SCOPE_IPV6 && c->family != SS_FAM_V6) ||
		    (sc == SS_SCOPE_TCP && c->proto != SS_PROTO_TCP)) {
			ss_actions_add(&c->acts, "skip", o->opt->name);
			continue;
		}
		ss_actions_add(&c->acts, "sockopt", o->text);
		if (c->dry)
			continue;
		int rc;
		if (o->opt->kind == SS_OPT_STRING) {
			rc = real_setsockopt(c->fd, o->opt->level, o->opt->optname, o->sval, (socklen_t)strlen(o->sval) + 1);
		} else if (o->opt->kind == SS_OPT_LINGER) {
			struct linger lg = { o->ival >= 0, o->ival >= 0 ? o->ival : 0 };
			rc = real_setsockopt(c->fd, o->opt->level, o->opt->optname, &lg, sizeof(lg));
		} else {
			rc = real_setsockopt(c->fd, o->opt->level, o->opt->optname, &o->ival, sizeof(o->ival));
		}
		if (rc < 0)
			add_failure(c, o->opt->name, errno);
	}
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
		return false;
	}
	ss_actions_add_addr(&c->acts, "rewrite", &t, true);
	if (!c->dry)
		*target = t;
	return true;
}

bool ss_socket_is_bound(const struct ss_call *c)
{
	if (c->ent & FD_BOUND)
		return true;
	if (!(c->ent & FD_ADOPTED))
		return false;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct ss_addr a;
	int saved = errno;
	bool bound = getsockname(c->fd, (struct sockaddr *)&ss, &len) == 0 &&
		     ss_addr_from_sockaddr(&a, (struct sockaddr *)&ss, len) && (a.port || !ss_addr_is_any(&a));
	errno = saved;
	return bound;
}

/* Pick the pool address for this socket and destination: an IPv6 socket
 * talking to an IPv4-mapped destination needs an IPv4(-mapped) source. */
static bool pick_address(struct ss_call *c, const struct ss_addr *dest, struct ss_addr *out)
{
	const struct ss_rule *r = c->rule;
	uint32_t v4;
	int want = (c->family == SS_FAM_V4 || ss_addr_v4_view(dest, &v4)) ? 4 : 6;

	if (r->nsource == 0) {
		memset(out, 0, sizeof(*out)); /* wildcard: only the port is pinned */
		out->family = c->family == SS_FAM_V6 ? 6 : 4;
		return true;
	}
	uint32_t start = ss_rotate_next(&r->state->addr_cursor, r->nsource, r->rotate);
	for (uint32_t i = 0; i < r->nsource; i++) {
		const struct ss_addr *s = &r->source[(start + i) % r->nsource];
		if (s->family != want)
			continue;
		*out = *s;
		return ss_addr_for_family(out, c->family == SS_FAM_V6 ? 6 : 4);
	}
	return false;
}

static int bind_to(struct ss_call *c, const struct ss_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t len = ss_addr_to_sockaddr(a, &ss);
	return real_bind(c->fd, (struct sockaddr *)&ss, len);
}

int ss_act_source(struct ss_call *c, const struct ss_addr *dest)
{
	const struct ss_rule *r = c->rule;
	struct ss_addr src;

	if (!r->nsource && !r->has_source_port)
		return 0;
	if (ss_socket_is_bound(c)) {
		/* never re-bind: the application (or an earlier call) chose already */
		ss_actions_add(&c->acts, "skip", (c->ent & FD_APPBOUND) ? "app-bound" : "bound");
		return 0;
	}
	if (!pick_address(c, dest, &src)) {
		ss_actions_add(&c->acts, "skip", "no-source-for-family");
		return 0;
	}

	if (!r->has_source_port) {
		ss_actions_add_addr(&c->acts, "source", &src, false);
		if (c->dry)
			return 0;
		/* Leave the port to connect(), which checks the full 4-tuple: the
		 * pool is then not limited to one port range in total. */
		if (c->proto == SS_PROTO_TCP) {
			int one = 1;
			real_setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		}
		if (bind_to(c, &src) < 0) {
			int e = errno;
			add_failure(c, "source", e);
			errno = e;
			return -1;
		}
		c->ent |= FD_BOUND;
		fdtab_or(c->fd, FD_BOUND);
		return 0;
	}

	const struct ss_portset *w = &r->source_port;
	if (r->rotate == SS_ROTATE_KERNEL) {
		uint32_t range = (uint32_t)w->r[0].hi << 16 | w->r[0].lo;
		if (c->dry) {
			ss_actions_add_addr(&c->acts, "source", &src, false);
			ss_actions_add(&c->acts, "rotate", "kernel");
			return 0;
		}
		if (real_setsockopt(c->fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, sizeof(range)) == 0) {
			ss_actions_add(&c->acts, "rotate", "kernel");
			if (!r->nsource)
				return 0; /* connect() binds inside the window */
			ss_actions_add_addr(&c->acts, "source", &src, false);
			int one = 1;
			if (c->proto == SS_PROTO_TCP)
				real_setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
			if (bind_to(c, &src) < 0) {
				int e = errno;
				add_failure(c, "source", e);
				errno = e;
				return -1;
			}
			c->ent |= FD_BOUND;
			fdtab_or(c->fd, FD_BOUND);
			return 0;
		}
		/* an older kernel: rotate here instead */
		ss_actions_add(&c->acts, "rotate", "kernel-unavailable");
	}

	uint32_t n = w->count;
	uint32_t start = ss_rotate_next(&r->state->port_cursor, n, r->rotate);
	int err = EADDRINUSE;
	for (uint32_t i = 0; i < n; i++) {
		src.port = ss_portset_nth(w, (start + i) % n);
		if (c->dry) {
			ss_actions_add_addr(&c->acts, "source", &src, true);
			return 0;
		}
		if (bind_to(c, &src) == 0) {
			/* move the cursor past the busy ports too, so the next
			 * connection does not land on the port just taken */
			if (i > 0 && r->rotate == SS_ROTATE_SEQUENTIAL)
				atomic_fetch_add_explicit(&r->state->port_cursor, i, memory_order_relaxed);
			ss_actions_add_addr(&c->acts, "source", &src, true);
			c->ent |= FD_BOUND;
			fdtab_or(c->fd, FD_BOUND);
			return 0;
		}
		err = errno;
		if (err != EADDRINUSE)
			break; /* not a busy port: the window will not help */
	}
	add_failure(c, "source", err);
	errno = err;
	return -1;
}

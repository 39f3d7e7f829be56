/*
 * diffrand: random socket call sequences for the random differential test
 * (tests/e2e/57-differential-random.sh). A seeded generator makes each
 * sequence; it runs in a forked child, in a network namespace of its own
 * (so fd numbers, ports and TIME_WAIT leftovers start equal every time), and
 * writes one trace record per call into memory shared with the parent:
 *
 *   N op(args) = rc errno [out-values] {kernel state of the fds involved}
 *
 * The same seed gives the same sequence in every process, so a run without
 * the shim and a run under it must print the same lines:
 *
 *   diffrand [--seed S] [--seqs K] [--len L]   one line per sequence:
 *       "seq SEED calls=C end=exit:0|SIGNAME hash=H", then "total seqs= calls="
 *   --replay                                   the records themselves
 *   --expect FILE                              per sequence "PID SEED bind= listen=
 *       connect= retry= send=": calls the kernel acted on that a policy
 *       matching everything must have logged (pid: to find its log lines)
 *   --known-open accept-edge|send-buffer       leave out a case a front end
 *       still gets wrong (see the test script, where the list lives)
 *   --block-ms N                               the timer below (default 20)
 *
 * Normalisations (the only ones): a port outside the fixed set the sequences
 * use (an ephemeral port the kernel picked at random) prints as E; a unix
 * autobind name as @auto; a netlink port id as self/auto. What depends on
 * timing is settled before it is recorded: calls that could block forever
 * are cut off by a 20 ms timer (EINTR, the same either way; longer under the
 * seccomp supervisor, whose answer takes a round trip); a blocking accept is
 * made only once poll() says a connection waits ("skipped(none waiting)"); a
 * TCP connect to a listener whose accept queue is full (its SYN would only
 * be dropped) is left out ("skipped(queue full)"); a non-blocking connect's
 * EINPROGRESS is followed by a poll (or epoll_wait, when the sequence
 * registered the fd) until it settles, recorded as such; a TCP socket whose
 * connect that timer cut off (EINTR) goes on connecting in the kernel, so
 * its pending error (SO_ERROR) prints as ~ from then on, whenever a reset
 * lands. Each child starts
 * with fds 3-63 closed and waits until ::1 is up in its namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BAD_PTR ((void *)8) /* below mmap_min_addr: never mapped */
#define TRACE_MAX (1u << 20)
#define MAX_FD 32   /* the sequences' fds stay below this (dup2 targets too) */
#define NPORTS 3
static const int ports[NPORTS] = { 7001, 7002, 7003 };

/* ---- the generator's randomness: splitmix64, one stream per sequence ---- */
static uint64_t rng;
static uint64_t next64(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
static unsigned pick(unsigned n) { return (unsigned)(next64() % n); }
static int chance(unsigned pct) { return pick(100) < pct; }

/* ---- memory the calls point into: a page followed by an unreadable one ---- */
static char *edge; /* first byte of the PROT_NONE page */
static void *at_edge(size_t n) { return edge - n; }

static int known_accept_edge; /* --known-open accept-edge */
static int known_send_buffer; /* --known-open send-buffer */
static long block_us = 20000; /* --block-ms: how long a call may block */

static int timing_cut(int fd);
#include "diffrand.h"

/* ---- the sequence's view of its fds ---- */
static int open_fds(int *v, int want_sock)
{
	struct pollfd p[MAX_FD - 3]; /* one poll tells which are open (POLLNVAL: not) */
	int n = 0;
	for (int fd = 3; fd < MAX_FD; fd++) p[fd - 3] = (struct pollfd){ fd, 0, 0 };
	if (poll(p, MAX_FD - 3, 0) < 0) return 0;
	for (int fd = 3; fd < MAX_FD; fd++) {
		struct stat st;
		if (p[fd - 3].revents & POLLNVAL) continue;
		if (want_sock && (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))) continue;
		v[n++] = fd;
	}
	return n;
}

/* An fd for a call: mostly an open socket (one that suits, when pred says),
 * sometimes another open fd, a closed number or a hopeless one. */
static int pick_fd(int (*pred)(int))
{
	int v[MAX_FD], n = open_fds(v, 1);
	static const int bad[] = { -1, 0x3fffffff, 29, 30 };
	if (chance(5)) return bad[pick(4)];
	if (chance(4)) { int all[MAX_FD], m = open_fds(all, 0); if (m) return all[pick((unsigned)m)]; }
	if (pred && n && chance(85)) {
		int good[MAX_FD], g = 0;
		for (int i = 0; i < n; i++) if (pred(v[i])) good[g++] = v[i];
		if (g) return good[pick((unsigned)g)];
	}
	return n ? v[pick((unsigned)n)] : bad[pick(4)];
}

static int dom_of(int fd) { return iopt(fd, SOL_SOCKET, SO_DOMAIN); }
static int is_inet(int fd) { int d = dom_of(fd); return d == AF_INET || d == AF_INET6; }
static int is_listener(int fd) { return iopt(fd, SOL_SOCKET, SO_ACCEPTCONN) == 1; }
static int is_stream(int fd) { return is_inet(fd) && iopt(fd, SOL_SOCKET, SO_TYPE) == SOCK_STREAM && !is_listener(fd); }

static int unconnected(int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	return is_inet(fd) && !is_listener(fd) && getpeername(fd, (struct sockaddr *)&ss, &l) < 0;
}

static int proto_ok(int fd) /* TCP or UDP over IP: what a policy can act on */
{
	int t = iopt(fd, SOL_SOCKET, SO_TYPE), p = iopt(fd, SOL_SOCKET, SO_PROTOCOL);
	return is_inet(fd) && ((t == SOCK_STREAM && p == IPPROTO_TCP) || (t == SOCK_DGRAM && p == IPPROTO_UDP));
}

static int bound_stream(int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	return is_stream(fd) && getsockname(fd, (struct sockaddr *)&ss, &l) == 0 &&
	       (ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
}
static int unbound_inet(int fd) { return is_inet(fd) && !bound_stream(fd) && !is_listener(fd); }
static int waiting(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	return is_listener(fd) && poll(&p, 1, 0) == 1;
}

/* Sockets by inode, for what the generator must remember across fd numbers. */
#define NSOCK 64
static struct { ino_t ino; int inprogress, listened, cut; } socks[NSOCK];
static int *sock_flag(int fd, int which)
{
	static int dummy;
	struct stat st;
	if (fstat(fd, &st) < 0) return &dummy;
	for (int i = 0; i < NSOCK; i++) {
		if (socks[i].ino == st.st_ino || socks[i].ino == 0) {
			socks[i].ino = st.st_ino;
			return which == 2 ? &socks[i].cut : which ? &socks[i].listened : &socks[i].inprogress;
		}
	}
	return &dummy;
}

/* the pending error of a socket whose connect the block timer cut off */
static int timing_cut(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0) return 0;
	for (int i = 0; i < NSOCK && socks[i].ino; i++)
		if (socks[i].ino == st.st_ino) return socks[i].cut;
	return 0;
}

/* What a policy matching everything must log, counted by the child. */
static struct { unsigned bind, listen, connect, retry, send; } must;

/* ---- addresses ---- */
struct addr { struct sockaddr_storage ss; socklen_t len; char desc[96]; void *ptr; };

static void set_inet(struct addr *a, int fam, const char *ip, int port)
{
	memset(&a->ss, 0, sizeof(a->ss));
	if (fam == AF_INET) {
		struct sockaddr_in *s = (void *)&a->ss;
		s->sin_family = AF_INET;
		s->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, ip, &s->sin_addr);
		a->len = sizeof(*s);
		snprintf(a->desc, sizeof(a->desc), fixed_port(port) ? "%s:%d" : "%s:E", ip, port);
	} else {
		struct sockaddr_in6 *s = (void *)&a->ss;
		s->sin6_family = AF_INET6;
		s->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, ip, &s->sin6_addr);
		a->len = sizeof(*s);
		snprintf(a->desc, sizeof(a->desc), fixed_port(port) ? "[%s]:%d" : "[%s]:E", ip, port);
	}
}

/* A listener of the sequence's, by chance: its port, and the address a
 * socket of family dom reaches it on (NULL when there is none). */
static const char *listener_addr(int dom, int *port)
{
	int v[MAX_FD], n = open_fds(v, 1), l[MAX_FD], k = 0;
	for (int i = 0; i < n; i++) if (iopt(v[i], SOL_SOCKET, SO_ACCEPTCONN) == 1 && iopt(v[i], SOL_SOCKET, SO_DOMAIN) != AF_UNIX) l[k++] = v[i];
	if (!k) return NULL;
	int fd = l[pick((unsigned)k)];
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return NULL;
	int v6 = ss.ss_family == AF_INET6;
	*port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
	if (dom == AF_INET6) return v6 ? "::1" : "::ffff:127.0.0.1";
	return "127.0.0.1";
}

/* A destination or local address for a socket of family dom (for a
 * connect: often one of the sequence's listeners), with the pointer and
 * length variants the calls are tried with. */
static void make_addr(struct addr *a, int dom, int for_connect)
{
	static const char *ip4[] = { "127.0.0.1", "127.0.0.1", "127.0.0.1", "0.0.0.0", "127.0.0.2", "192.0.2.1" };
	static const char *ip6[] = { "::1", "::1", "::", "::ffff:127.0.0.1", "2001:db8::1" };
	memset(a, 0, sizeof(*a));
	int fam = dom, lport;
	const char *lip;
	unsigned r = pick(100);
	if (for_connect && (dom == AF_INET || dom == AF_INET6) && r < 60 && (lip = listener_addr(dom, &lport))) {
		set_inet(a, dom, lip, lport);
		fam = -1;
	} else if (r < 8) fam = dom == AF_INET ? AF_INET6 : AF_INET; /* the other family */
	else if (r < 11) fam = AF_UNIX;
	else if (r < 14 && for_connect) fam = AF_UNSPEC;
	if (fam > 0 && fam != AF_INET && fam != AF_INET6 && fam != AF_UNIX && fam != AF_UNSPEC) fam = AF_INET;
	int port = chance(85) || for_connect ? ports[pick(NPORTS)] : 0; /* a TCP SYN to port 0 is never answered */
	if (fam == AF_INET) {
		set_inet(a, fam, ip4[pick(6)], port);
	} else if (fam == AF_INET6) {
		set_inet(a, fam, ip6[pick(5)], port);
	} else if (fam == AF_UNIX) {
		struct sockaddr_un *s = (void *)&a->ss;
		s->sun_family = AF_UNIX;
		if (chance(20)) {
			a->len = sizeof(sa_family_t); /* autobind */
			snprintf(a->desc, sizeof(a->desc), "u:unnamed");
		} else {
			int k = (int)pick(3);
			snprintf(s->sun_path + 1, sizeof(s->sun_path) - 1, "sx%d", k);
			a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 4);
			snprintf(a->desc, sizeof(a->desc), "u:@sx%d", k);
		}
	} else if (fam == AF_UNSPEC) {
		a->ss.ss_family = AF_UNSPEC;
		a->len = sizeof(struct sockaddr_in);
		snprintf(a->desc, sizeof(a->desc), "unspec");
	}
	/* length and pointer variants */
	r = pick(100);
	size_t l = strlen(a->desc);
	if (r < 6) { a->len = a->len > 2 ? a->len - 1 : 0; snprintf(a->desc + l, sizeof(a->desc) - l, "/short"); }
	else if (r < 9) { a->len = 0; snprintf(a->desc + l, sizeof(a->desc) - l, "/len0"); }
	else if (r < 12) { a->len = sizeof(a->ss); snprintf(a->desc + l, sizeof(a->desc) - l, "/len128"); }
	else if (r < 14 && fam == AF_INET6) { a->len = 24; snprintf(a->desc + l, sizeof(a->desc) - l, "/len24"); }
	r = pick(100);
	l = strlen(a->desc);
	a->ptr = &a->ss;
	if (r < 15) { /* ends exactly at the unreadable page: a valid call */
		size_t n = a->len > sizeof(a->ss) ? sizeof(a->ss) : a->len;
		a->ptr = at_edge(n);
		memcpy(a->ptr, &a->ss, n);
		snprintf(a->desc + l, sizeof(a->desc) - l, "@edge");
	} else if (r < 19 && a->len > 4) { /* shorter than its length: EFAULT */
		a->ptr = at_edge(a->len / 2);
		memcpy(a->ptr, &a->ss, a->len / 2);
		snprintf(a->desc + l, sizeof(a->desc) - l, "@edge-short");
	} else if (r < 21) { a->ptr = NULL; snprintf(a->desc + l, sizeof(a->desc) - l, "@null"); }
	else if (r < 23) { a->ptr = BAD_PTR; snprintf(a->desc + l, sizeof(a->desc) - l, "@unmapped"); }
}

/* ---- the calls ---- */
static int ep = -1; /* the sequence's epoll instance, once made */
static int ep_regs[MAX_FD];

static void arm(void) { struct itimerval t = { { 0, 0 }, { block_us / 1000000, block_us % 1000000 } }; setitimer(ITIMER_REAL, &t, NULL); }
static void disarm(void) { struct itimerval t = { { 0, 0 }, { 0, 0 } }; setitimer(ITIMER_REAL, &t, NULL); }
static void on_alarm(int sig) { (void)sig; }

#define RESULT(rc) out(" = %ld %s", (long)(rc), ename((rc) < 0 ? errno : 0))

static void do_socket(void)
{
	static const int doms[] = { AF_INET, AF_INET, AF_INET, AF_INET6, AF_INET6, AF_INET6, AF_UNIX, AF_NETLINK, AF_INET, 12345 };
	static const int types[] = { SOCK_STREAM, SOCK_STREAM, SOCK_STREAM, SOCK_DGRAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_RAW, 77 };
	int dom = doms[pick(10)], type = types[pick(8)], proto = 0;
	if (chance(1)) dom = AF_PACKET; /* rare: closing one waits for an RCU grace period */
	if (dom == AF_NETLINK) type = chance(80) ? SOCK_RAW : type;
	if (type == SOCK_RAW && (dom == AF_INET || dom == AF_INET6)) proto = dom == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	if (dom == AF_PACKET) { type = SOCK_DGRAM; proto = htons(0x88b5); }
	if (chance(3)) proto = 99;
	int fl = chance(30) ? SOCK_NONBLOCK : 0;
	fl |= chance(20) ? SOCK_CLOEXEC : 0;
	out("socket(%d,%d%s%s,%d)", dom, type, fl & SOCK_NONBLOCK ? "|NB" : "", fl & SOCK_CLOEXEC ? "|CX" : "", proto);
	int rc = socket(dom, type | fl, proto);
	RESULT(rc);
	snap(rc);
	if (rc >= 0 && dom == AF_INET6 && chance(30)) { /* V6ONLY as often as not */
		int one = 1;
		out(" setsockopt(V6ONLY,1)=%d", setsockopt(rc, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)));
	}
}

static void do_socketpair(void)
{
	static const int types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };
	int dom = chance(85) ? AF_UNIX : AF_INET, type = types[pick(3)] | (chance(30) ? SOCK_NONBLOCK : 0);
	int sv[2] = { -1, -1 }, *p = sv;
	const char *k = "ok";
	unsigned r = pick(100);
	if (r < 5) { p = NULL; k = "null"; }
	else if (r < 10) { p = at_edge(sizeof(int)); k = "edge-short"; }
	else if (r < 20) { p = at_edge(2 * sizeof(int)); k = "edge"; }
	out("socketpair(%d,%#x,%s)", dom, (unsigned)type, k);
	int rc = socketpair(dom, type, 0, p);
	RESULT(rc);
	if (rc == 0) { snap(p[0]); snap(p[1]); }
}

static void do_bind(void)
{
	int fd = pick_fd(unbound_inet);
	struct addr a;
	make_addr(&a, dom_of(fd) > 0 ? dom_of(fd) : AF_INET, 0);
	int counted = proto_ok(fd) && ((struct sockaddr *)&a.ss)->sa_family == dom_of(fd);
	out("bind(%d,%s,%u)", fd, a.desc, a.len);
	int rc = bind(fd, a.ptr, a.len);
	RESULT(rc);
	if (rc == 0 && counted) must.bind++;
	snap(fd);
}


static void do_listen(void)
{
	static const int backlogs[] = { 0, 1, 4, 16, 128, -1 };
	int fd = pick_fd(bound_stream), bl = backlogs[pick(6)];
	int counted = proto_ok(fd) && !*sock_flag(fd, 1);
	out("listen(%d,%d)", fd, bl);
	int rc = listen(fd, bl);
	RESULT(rc);
	if (rc == 0 && counted) { must.listen++; *sock_flag(fd, 1) = 1; }
	snap(fd);
}

/* Would a SYN to port be dropped (a listener of the sequence's with a full
 * accept queue)? Such a connect only waits out the timer: it is left out. */
static int queue_full(int port)
{
	int v[MAX_FD], n = open_fds(v, 1);
	for (int i = 0; i < n; i++) {
		struct sockaddr_storage ss;
		socklen_t l = sizeof(ss);
		struct tcp_info ti;
		socklen_t tl = sizeof(ti);
		if (!is_listener(v[i]) || getsockname(v[i], (struct sockaddr *)&ss, &l) < 0) continue;
		int p = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
		if (p == port && getsockopt(v[i], IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 && ti.tcpi_unacked >= ti.tcpi_sacked)
			return 1;
	}
	return 0;
}

/* After EINPROGRESS: wait (bounded) until the connect settles, by epoll when
 * the sequence registered an fd with it, else by poll. */
static void settle(int fd)
{
	if (ep >= 0 && fd < MAX_FD && ep_regs[fd]) {
		struct epoll_event ev[8];
		int n = epoll_wait(ep, ev, 8, 50);
		out(" epoll_wait=%d", n);
		for (int i = 0; i < n; i++) out(",%d:%#x", ev[i].data.fd, ev[i].events);
		return;
	}
	struct pollfd p = { fd, POLLOUT, 0 };
	int n = poll(&p, 1, 50);
	out(" poll=%d,%#x", n, (unsigned)p.revents);
}

static void do_connect(void)
{
	int fd = pick_fd(unconnected);
	struct addr a;
	make_addr(&a, dom_of(fd) > 0 ? dom_of(fd) : AF_INET, 1);
	int fam = ((struct sockaddr *)&a.ss)->sa_family;
	int counted = proto_ok(fd) && fam == dom_of(fd) && a.ptr == (void *)&a.ss && a.len >= 16;
	int tcp = iopt(fd, SOL_SOCKET, SO_TYPE) == SOCK_STREAM, *inprog = sock_flag(fd, 0), was = *inprog;
	if (ep >= 0 && fd >= 0 && fd < MAX_FD && !ep_regs[fd] && chance(30)) { /* register before connect, as nginx does */
		struct epoll_event ev = { EPOLLOUT | EPOLLIN, { .fd = fd } };
		int r = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		out("epoll_ctl(ADD,%d)=%d ", fd, r);
		if (r == 0) ep_regs[fd] = 1;
	}
	out("connect(%d,%s,%u)", fd, a.desc, a.len);
	int port = fam == AF_INET ? ntohs(((struct sockaddr_in *)&a.ss)->sin_port)
		 : fam == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&a.ss)->sin6_port) : 0;
	if (tcp && is_inet(fd) && port && queue_full(port)) { out(" = skipped(queue full)"); return; }
	/* a TCP socket whose earlier attempt already completed: its connect
	 * only reports that (0 once, then EISCONN), no new attempt is made */
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	int reports = was && tcp && getpeername(fd, (struct sockaddr *)&peer, &plen) == 0;
	arm();
	int rc = connect(fd, a.ptr, a.len);
	int e = errno;
	disarm();
	errno = e;
	RESULT(rc);
	if (counted && !reports && (rc == 0 || e == EINPROGRESS)) {
		if (was && tcp) must.retry++;
		else must.connect++;
	}
	if (rc < 0 && e == EINPROGRESS) { *inprog = 1; settle(fd); }
	if (rc < 0 && e == EINTR && tcp) *sock_flag(fd, 2) = 1;
	snap(fd);
}

/* accept's address buffer and length: the variants that catch a hook
 * reading more than the caller gave it. */
static void do_accept(void)
{
	int fd = pick_fd(chance(70) ? waiting : is_listener), flags = 0, four = chance(50);
	static const int fls[] = { 0, SOCK_NONBLOCK, SOCK_CLOEXEC, 0x40 };
	if (four) flags = fls[pick(4)];
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss), *lp = &len;
	void *ap = &ss;
	const char *k = "full";
	unsigned r = pick(100), famlen = dom_of(fd) == AF_INET6 ? 28 : 16;
	if (r < 10) { ap = NULL; lp = NULL; k = "null"; }
	else if (r < 25) { len = 16; k = "edge16"; }
	else if (r < 35) { len = 28; k = "edge28"; }
	else if (r < 42) { len = 8; k = "edge8"; }
	else if (r < 48) { lp = at_edge(sizeof(socklen_t)); *lp = sizeof(ss); k = "len@edge"; }
	else if (r < 51) { lp = BAD_PTR; k = "len@unmapped"; }
	else if (r < 54) { ap = BAD_PTR; len = 16; k = "addr@unmapped"; }
	else if (r < 57) { len = 0; k = "len0"; }
	else if (r < 59) { len = (socklen_t)-1; k = "len-1"; }
	if (!strncmp(k, "edge", 4)) {
		if (known_accept_edge && len < famlen) len = famlen; /* left out: see the test script */
		ap = at_edge(len);
	}
	/* a blocking accept only when a connection waits */
	struct pollfd p = { fd, POLLIN, 0 };
	int ready = fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
	int nb = fd >= 0 && (kfcntl(fd, F_GETFL, 0) & O_NONBLOCK);
	socklen_t in = lp && lp != BAD_PTR ? *lp : 0;
	if (four) out("accept4(%d,%s,%u,%#x)", fd, k, (unsigned)in, (unsigned)flags);
	else out("accept(%d,%s,%u)", fd, k, (unsigned)in);
	if (!ready && !nb && is_listener(fd)) { out(" = skipped(none waiting)"); return; }
	arm();
	int rc = four ? accept4(fd, ap, lp, flags) : accept(fd, ap, lp);
	int e = errno;
	disarm();
	errno = e;
	RESULT(rc);
	if (rc >= 0 && lp && lp != BAD_PTR) {
		char s[80];
		socklen_t got = *lp;
		struct sockaddr_storage cp;
		memset(&cp, 0, sizeof(cp));
		if (ap) memcpy(&cp, ap, got < in ? got : in);
		fmt_addr(s, sizeof(s), (struct sockaddr *)&cp, got < in ? got : in);
		out(" len=%u peer=%s", (unsigned)got, ap ? s : "-");
	}
	snap(fd);
	snap(rc);
}

static void do_sockopt(int get)
{
	static const struct { int level, name; const char *n; } opts[] = {
		{ SOL_SOCKET, SO_REUSEADDR, "REUSEADDR" }, { SOL_SOCKET, SO_REUSEPORT, "REUSEPORT" },
		{ SOL_SOCKET, SO_KEEPALIVE, "KEEPALIVE" }, { IPPROTO_IPV6, IPV6_V6ONLY, "V6ONLY" },
		{ IPPROTO_TCP, TCP_NODELAY, "NODELAY" }, { SOL_SOCKET, SO_ERROR, "ERROR" },
		{ SOL_SOCKET, SO_TYPE, "TYPE" }, { IPPROTO_IP, IP_TOS, "TOS" }, { 999, 1, "badlevel" },
		{ SOL_SOCKET, 9999, "badname" },
	};
	int fd = pick_fd(NULL), o = (int)pick(10);
	int v = (int)pick(2), *vp = &v;
	socklen_t len = sizeof(int), *lp = &len;
	const char *k = "ok";
	unsigned r = pick(100);
	if (r < 6) { vp = NULL; k = "null"; }
	else if (r < 12) { vp = at_edge(2); len = 4; k = "edge-short"; }
	else if (r < 20) { vp = at_edge(4); *vp = v; k = "edge"; }
	else if (r < 25) { len = (socklen_t)pick(3); k = "shortlen"; }
	else if (r < 28 && get) { lp = at_edge(2); k = "len@edge-short"; }
	if (get) {
		socklen_t in = lp == &len ? len : 0;
		out("getsockopt(%d,%s,%s,%u)", fd, opts[o].n, k, (unsigned)in);
		int rc = getsockopt(fd, opts[o].level, opts[o].name, vp, lp);
		RESULT(rc);
		if (rc == 0 && lp == &len) out(" len=%u val=%d", (unsigned)len, vp && len >= 4 ? *vp : -2);
	} else {
		out("setsockopt(%d,%s,%s,%d,%u)", fd, opts[o].n, k, vp == &v ? v : -1, (unsigned)len);
		int rc = setsockopt(fd, opts[o].level, opts[o].name, vp, len);
		RESULT(rc);
	}
	snap(fd);
}

static void do_send(void)
{
	static char data[64] = "diffrand";
	int fd = pick_fd(is_inet), kind = (int)pick(4);
	int flags = MSG_NOSIGNAL | (chance(90) || dom_of(fd) == AF_UNIX ? MSG_DONTWAIT : 0);
	struct addr a;
	make_addr(&a, dom_of(fd) > 0 ? dom_of(fd) : AF_INET, 1);
	if (chance(25)) { a.ptr = NULL; a.len = 0; snprintf(a.desc, sizeof(a.desc), "none"); }
	int udp = proto_ok(fd) && iopt(fd, SOL_SOCKET, SO_TYPE) == SOCK_DGRAM;
	int counted = udp && a.ptr == (void *)&a.ss && ((struct sockaddr *)&a.ss)->sa_family == dom_of(fd) && a.len >= 16;
	void *buf = data;
	size_t n = 1 + pick(16);
	const char *bk = "ok";
	unsigned r = pick(100);
	if (known_send_buffer && a.ptr) r = 99; /* left out: see the test script */
	if (r < 5) { buf = NULL; bk = "null"; }
	else if (r < 10) { buf = at_edge(n); bk = "edge"; }
	else if (r < 13) { buf = at_edge(n / 2); bk = "edge-short"; }
	else if (r < 15) { buf = BAD_PTR; bk = "unmapped"; }
	long rc;
	struct iovec iov = { buf, n };
	struct msghdr m;
	memset(&m, 0, sizeof(m));
	m.msg_name = a.ptr;
	m.msg_namelen = a.len;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	arm();
	if (kind == 0) {
		out("send(%d,%s,%zu,%#x)", fd, bk, n, (unsigned)flags);
		counted = 0;
		rc = send(fd, buf, n, flags);
	} else if (kind == 1) {
		out("sendto(%d,%s,%zu,%#x,%s,%u)", fd, bk, n, (unsigned)flags, a.desc, a.len);
		rc = sendto(fd, buf, n, flags, a.ptr, a.len);
	} else if (kind == 2) {
		struct msghdr *mp = &m;
		const char *mk = "ok";
		if (chance(8)) { mp = at_edge(sizeof(m) / 2); memcpy(mp, &m, sizeof(m) / 2); mk = "edge-short"; }
		else if (chance(10)) { mp = at_edge(sizeof(m)); *mp = m; mk = "edge"; }
		out("sendmsg(%d,%s,%s,%zu,%#x,%s,%u)", fd, mk, bk, n, (unsigned)flags, a.desc, a.len);
		rc = sendmsg(fd, mp, flags);
		if (strcmp(mk, "ok") && strcmp(mk, "edge")) counted = 0;
	} else {
		struct mmsghdr v[3];
		unsigned vlen = 1 + pick(3);
		for (unsigned i = 0; i < 3; i++) { memset(&v[i], 0, sizeof(v[i])); v[i].msg_hdr = m; }
		struct mmsghdr *vp = v;
		if (chance(8)) { vp = at_edge(sizeof(v[0])); *vp = v[0]; vlen = 2; }
		out("sendmmsg(%d,%s,%zu,%#x,%s,%u,x%u%s)", fd, bk, n, (unsigned)flags, a.desc, a.len, vlen, vp == v ? "" : ",edge");
		counted = 0;
		rc = sendmmsg(fd, vp, vlen, flags);
		if (rc > 0) { out(" lens="); for (int i = 0; i < rc; i++) out("%u,", vp[i].msg_len); }
	}
	int e = errno;
	disarm();
	errno = e;
	RESULT(rc);
	if (rc >= 0 && counted && strcmp(bk, "unmapped")) must.send++;
	snap(fd);
}

static void do_fdop(void)
{
	int fd = pick_fd(NULL), rc, t = (int)(3 + pick(MAX_FD - 3)), newfd = 0;
	unsigned op = pick(12);
	switch (op) {
	case 0: case 1: case 2:
		out("close(%d)", fd); rc = close(fd); break;
	case 3:
		out("dup(%d)", fd); rc = dup(fd); newfd = 1; break;
	case 4:
		if (chance(10)) t = fd;
		out("dup2(%d,%d)", fd, t); rc = dup2(fd, t); newfd = 1; break;
	case 5: {
		int fl = chance(50) ? O_CLOEXEC : chance(10) ? 0x1 : 0;
		if (chance(10)) t = fd;
		out("dup3(%d,%d,%#x)", fd, t, (unsigned)fl); rc = dup3(fd, t, fl); newfd = 1; break;
	}
	case 6: {
		int nb = (int)pick(2);
		out("fcntl(%d,SETFL,%s)", fd, nb ? "NB" : "0"); rc = fcntl(fd, F_SETFL, nb ? O_NONBLOCK : 0); break;
	}
	case 7: {
		static const int cmds[] = { F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, 9999 };
		int c = cmds[pick(6)];
		long arg = c == F_SETFD ? FD_CLOEXEC : (long)pick(20);
		out("fcntl(%d,%d,%ld)", fd, c, arg); rc = fcntl(fd, c, arg);
		newfd = c == F_DUPFD || c == F_DUPFD_CLOEXEC; break;
	}
	case 8: case 9: {
		int how = (int)pick(4);
		out("shutdown(%d,%d)", fd, how); rc = shutdown(fd, how); break;
	}
	case 10: {
		unsigned lo = 3 + pick(MAX_FD - 3), hi = chance(30) ? ~0u : lo + pick(6);
		int fl = chance(30) ? CLOSE_RANGE_CLOEXEC : chance(5) ? 0x40 : 0;
		if (chance(5)) { unsigned x = lo; lo = hi; hi = x; }
		out("close_range(%u,%u,%#x)", lo, hi, (unsigned)fl); rc = close_range(lo, hi, fl); break;
	}
	default:
		if (chance(40)) {
			int p[2];
			out("pipe2"); rc = pipe2(p, O_NONBLOCK); RESULT(rc); if (!rc) { snap(p[0]); snap(p[1]); } return;
		}
		if (ep < 0) {
			out("epoll_create1"); rc = ep = epoll_create1(EPOLL_CLOEXEC); newfd = 1; break;
		}
		out("closefrom(%d)", t); errno = 0; closefrom(t); rc = 0; break;
	}
	RESULT(rc);
	if (ep >= 0 && kfcntl(ep, F_GETFD, 0) < 0) { ep = -1; memset(ep_regs, 0, sizeof(ep_regs)); }
	snap(fd);
	if (newfd && rc >= 0 && rc != fd) snap(rc);
	if ((op == 4 || op == 5 || op == 10 || op == 11) && t != fd && t != rc) snap(t);
}

/* One call, chosen by weight; more sockets are made while there are few. */
static void one_call(void)
{
	int v[MAX_FD], n = open_fds(v, 1);
	unsigned w = pick(100);
	if (n < 2 && w < 60) w = 0;
	if (w < 14) do_socket();
	else if (w < 17) do_socketpair();
	else if (w < 30) do_bind();
	else if (w < 38) do_listen();
	else if (w < 53) do_connect();
	else if (w < 64) do_accept();
	else if (w < 71) do_sockopt(0);
	else if (w < 75) do_sockopt(1);
	else if (w < 87) do_send();
	else do_fdop();
	out("\n");
}

/* The child: a namespace with loopback up, then len calls, then every fd. */
static void run_sequence(uint64_t seed, unsigned len)
{
	rng = seed;
	if (unshare(CLONE_NEWNET) < 0) { out("unshare %s\n", ename(errno)); _exit(3); }
	int s = (int)syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0 || (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) < 0)) {
		out("lo up %s\n", ename(errno)); _exit(3);
	}
	syscall(SYS_close, s);
	for (int fd = 3; fd < 64; fd++) /* whatever the caller left open */
		syscall(SYS_close, fd);
	/* ::1 appears on lo a moment after it is up (addrconf works
	 * asynchronously): wait for it, so no v6 call races it */
	struct sockaddr_in6 one = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	for (int i = 0; i < 2000; i++) {
		int t = (int)syscall(SYS_socket, AF_INET6, SOCK_DGRAM, 0);
		long r = syscall(SYS_bind, t, &one, sizeof(one));
		syscall(SYS_close, t);
		if (r == 0) break;
		struct timespec ts = { 0, 100000 };
		nanosleep(&ts, NULL);
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm; /* no SA_RESTART: a call that blocks ends with EINTR */
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (unsigned i = 0; i < len; i++) {
		out("%u ", i);
		one_call();
	}
	/* what a policy matching everything must have logged (a fact of the
	 * sequence, the same in every run) */
	out("must %u %u %u %u %u\n", must.bind, must.listen, must.connect, must.retry, must.send);
	out("end");
	for (int fd = 3; fd < MAX_FD; fd++) if (kfcntl(fd, F_GETFD, 0) >= 0) snap(fd);
	out("\n");
	_exit(0);
}

/* The parent's watchdog: a sequence that hangs ends as killed=KILL. */
static pid_t child;
static void on_watchdog(int sig) { (void)sig; if (child > 0) kill(child, SIGKILL); }

static uint64_t fnv(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
	return h;
}

int main(int argc, char **argv)
{
	uint64_t seed = 1;
	unsigned seqs = 100, len = 40, replay = 0;
	FILE *expect = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--seqs") && i + 1 < argc) seqs = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--len") && i + 1 < argc) len = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--replay")) replay = 1;
		else if (!strcmp(argv[i], "--expect") && i + 1 < argc) {
			if (!(expect = fopen(argv[++i], "w"))) { perror(argv[i]); return 2; }
		} else if (!strcmp(argv[i], "--known-open") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "accept-edge")) known_accept_edge = 1;
			if (!strcmp(argv[i], "send-buffer")) known_send_buffer = 1;
		} else if (!strcmp(argv[i], "--block-ms") && i + 1 < argc) {
			block_us = strtol(argv[++i], NULL, 0) * 1000;
		} else {
			fprintf(stderr, "usage: diffrand [--seed S] [--seqs K] [--len L] [--replay] [--expect FILE] [--block-ms N]\n"
					"                [--known-open accept-edge|send-buffer]...\n");
			return 2;
		}
	}
	long pg = sysconf(_SC_PAGESIZE);
	char *shm = mmap(NULL, TRACE_MAX + 64, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *g = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED || g == MAP_FAILED || mprotect(g + pg, (size_t)pg, PROT_NONE) < 0) { perror("mmap"); return 2; }
	edge = g + pg;
	trace_len = (size_t *)(void *)shm;
	trace = shm + 64;
	unsigned long long calls = 0;
	signal(SIGALRM, on_watchdog);
	for (unsigned k = 0; k < seqs; k++) {
		uint64_t s = seed + k;
		*trace_len = 0;
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0) { perror("fork"); return 2; }
		if (pid == 0) {
			run_sequence(s, len);
		}
		int st;
		child = pid;
		alarm(60);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
		alarm(0);
		child = 0;
		char end[32];
		if (WIFSIGNALED(st)) snprintf(end, sizeof(end), "%s", sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "SIG?");
		else snprintf(end, sizeof(end), "exit:%d", WEXITSTATUS(st));
		unsigned nrec = 0; /* records: the lines that start with the call's number */
		for (size_t i = 0; i < *trace_len; i++)
			nrec += (i == 0 || trace[i - 1] == '\n') && trace[i] >= '0' && trace[i] <= '9';
		calls += nrec;
		if (replay) /* a record cut short by a crash ends where the call began */
			printf("# seq %llu\n%.*s%s", (unsigned long long)s, (int)*trace_len, trace,
			       *trace_len && trace[*trace_len - 1] != '\n' ? " ...died\n" : "");
		printf("seq %llu calls=%u end=%s hash=%016llx\n", (unsigned long long)s, nrec, end,
		       (unsigned long long)fnv(trace, *trace_len));
		if (expect) {
			trace[*trace_len] = 0;
			const char *m = strstr(trace, "\nmust ");
			unsigned b = 0, l = 0, c = 0, r = 0, sd = 0;
			if (m) sscanf(m, "\nmust %u %u %u %u %u", &b, &l, &c, &r, &sd);
			fprintf(expect, "%d %llu bind=%u listen=%u connect=%u retry=%u send=%u\n", (int)pid,
				(unsigned long long)s, b, l, c, r, sd);
		}
	}
	printf("total seqs=%u calls=%llu\n", seqs, calls);
	if (expect) fclose(expect);
	return 0;
}

/*
 * supcall: decide and carry out one supervised socket call (see supcall.h).
 *
 * The supervisor keeps no per-fd table: what the preload learns by watching
 * socket()/bind()/close() is asked of the kernel on the duplicate instead
 * (SO_DOMAIN/SO_TYPE/SO_PROTOCOL, getsockname, TCP_INFO, the reuse flags).
 * The little it must remember across calls (reuse flags pinned by a rule
 * or by a UDP source it picked, a UDP socket it gave its address, the
 * address a program passed to a bind that was rewritten) is kept per
 * socket inode in `pins`. A socket is "adopted" for actions.c (its history
 * is unknown), except in a call whose rule picks the source, where what
 * actions.c reads of the fd table is learned from the kernel and the pins
 * (learn). Its options stay unknown but for a connect from a window of
 * source ports: there they are read back from the kernel (optread.h) into
 * optlog's record for our duplicate, so that actions.c can retry a taken
 * 4-tuple on a fresh socket exactly as the preload does; the supervisor
 * then puts that socket in the target at the program's fd number
 * (SECCOMP_IOCTL_NOTIF_ADDFD), for a blocking connect from a window the
 * kernel cannot check (actions.h); as with the preload's dup3, what referred
 * to the old socket does not follow. A checked window is retried on the
 * program's own socket, through our duplicate of it.
 */
#include "supcall.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "actions.h"
#include "connstate.h"
#include "decide.h"
#include "engine.h"
#include "fdtab.h"
#include "fmt.h"
#include "kaddr.h"
#include "log.h"
#include "names.h"
#include "optlog.h"
#include "optread.h"
#include "reload.h"
#include "supsend.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* 6.9: a pidfd for a thread, not only a leader */
#endif

#define MMSG_MAX 1024u           /* UIO_MAXIOV: the kernel sends at most this many */

static int g_notify = -1;
/* The live policy (reload.h): a reload replaces it between two calls. */
#define g_policy (ss_live()->policy)
#define g_dry (ss_live()->dry)
#define g_programs (ss_live()->programs)
#define g_window (ss_live()->window) /* some rule binds explicit source ports */
static uint64_t g_netns;       /* our network namespace's cookie (0: unknown) */
static uid_t g_euid;
static size_t g_notif_size;

/* ---- one call ---- */

struct job {
	uint64_t id;
	pid_t pid;          /* the calling thread, in our pid namespace */
	int nr;
	uint64_t args[6];
	int tfd;            /* the target's fd number (logged) */
	int fd;             /* our duplicate, -1 until opened */
	bool began;         /* c describes the call */
	struct ss_call c;
	struct ss_addr to;  /* where the call goes: c.app, or rewritten */
	bool rewritten;
	struct sockaddr_storage raw; /* the sockaddr as the target passed it */
	socklen_t rawlen;
	/* sends */
	int flags;
	struct ss_payload p; /* what it sends (supsend.h) */
	void (*run)(struct job *);
	struct job *next;   /* in the workers' queue */
};

static void job_free(struct job *j)
{
	if (j->fd >= 0) {
		fdtab_clear(j->fd); /* actions.c records state under our fd number */
		optlog_forget(j->fd);
		close(j->fd);
	}
	ss_payload_free(&j->p);
	free(j);
}

static void answer(const struct job *j, int64_t val, int err, bool cont)
{
	struct seccomp_notif_resp r;
	memset(&r, 0, sizeof(r));
	r.id = j->id;
	r.val = err ? 0 : val;
	r.error = err ? -err : 0;
	r.flags = cont ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0;
	/* ENOENT: the target was interrupted by a signal or died meanwhile;
	 * an interrupted call is restarted as a new notification */
	while (ioctl(g_notify, SECCOMP_IOCTL_NOTIF_SEND, &r) < 0 && errno == EINTR) {
	}
}

static bool still_valid(const struct job *j)
{
	uint64_t id = j->id;
	return ioctl(g_notify, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* ---- the target ---- */

/*
 * The kernel lets us read a target's memory and take its fds only with
 * ptrace access to it: Yama's ptrace_scope 2 or 3, a process that made
 * itself non-dumpable (PR_SET_DUMPABLE 0, or one that changed its
 * credentials) and a process of another user refuse it. Its calls then
 * continue untouched: say so, once per kind of refusal.
 */
static _Atomic bool warned_getfd, warned_read;

static void warn_refused(_Atomic bool *once, const char *call, pid_t pid, int err)
{
	if ((err != EPERM && err != EACCES) || atomic_exchange(once, true))
		return;
	char p[16];
	struct fmt f;
	fmt_init(&f, p, sizeof(p));
	fmt_u64(&f, (uint64_t)pid);
	ss_log_event(SS_LEVEL_WARN, "unreachable", "target", p, "call", call, "errno", ss_errno_name(err), "msg",
		     "the kernel refuses the supervisor access to this process (Yama ptrace_scope, a non-dumpable "
		     "process, or another user's): its socket calls continue untouched, no rule applies to them",
		     NULL);
	errno = err;
}

static pid_t tgid_of(pid_t tid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	const char *t = strstr(buf, "\nTgid:");
	return t ? (pid_t)atoi(t + 6) : -1;
}

/*
 * pidfds of the target's threads, by thread id, so that a call costs no
 * pidfd_open and close of its own. A pidfd names one task for good: once
 * that thread is gone (its id perhaps another task's by now), pidfd_getfd
 * fails with ESRCH, and the slot is opened again for the caller. A thread
 * that execs takes over its leader's pid, which the leader's pidfd then
 * names. Only a pidfd of the calling thread itself is kept: before 6.9
 * (no PIDFD_THREAD) a non-leader's calls go through its leader's pidfd,
 * opened and closed per call, since a kept one could outlive the thread id
 * and serve another process's call. At most PIDFDS are held; a slot taken
 * by another thread is closed and reused. Used by the loop thread only
 * (begin, the setsockopt and sendmmsg handlers): no lock.
 */
#define PIDFDS 64
static struct {
	pid_t tid;
	int pfd; /* -1: empty */
} pidfds[PIDFDS];

static void pidfds_init(void)
{
	for (size_t i = 0; i < PIDFDS; i++) {
		pidfds[i].tid = 0;
		pidfds[i].pfd = -1;
	}
}

/* pidfd_getfd through a pidfd of tid's process; -1 with errno. */
static int getfd_uncached(pid_t tid, int tfd)
{
	pid_t tgid = tgid_of(tid);
	int pfd = tgid > 0 ? (int)syscall(SYS_pidfd_open, tgid, 0) : -1;
	if (pfd < 0)
		return -1;
	int fd = (int)syscall(SYS_pidfd_getfd, pfd, tfd, 0);
	int err = errno;
	close(pfd);
	errno = err;
	return fd;
}

/* Our duplicate of the target's fd tfd, or -1 with errno. */
static int target_fd(pid_t tid, int tfd)
{
	size_t h = (size_t)tid % PIDFDS;
	int fd = -1, err = 0;
	for (int fresh = 0; fresh < 2; fresh++) {
		if (pidfds[h].tid != tid || pidfds[h].pfd < 0) {
			if (pidfds[h].pfd >= 0)
				close(pidfds[h].pfd);
			pidfds[h].pfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
			if (pidfds[h].pfd < 0 && errno == EINVAL)
				pidfds[h].pfd = (int)syscall(SYS_pidfd_open, tid, 0); /* before 6.9: a leader */
			pidfds[h].tid = pidfds[h].pfd >= 0 ? tid : 0;
			if (pidfds[h].pfd < 0) {
				if (errno != EINVAL)
					return -1; /* ESRCH: the thread is gone */
				fd = getfd_uncached(tid, tfd); /* before 6.9, not a leader */
				err = errno;
				break;
			}
			fresh = 1;
		}
		fd = (int)syscall(SYS_pidfd_getfd, pidfds[h].pfd, tfd, 0);
		err = errno;
		if (fd >= 0 || err != ESRCH)
			break;
		close(pidfds[h].pfd); /* a thread gone, its id reused: once more */
		pidfds[h].pfd = -1;
	}
	if (fd < 0)
		warn_refused(&warned_getfd, "pidfd_getfd", tid, err);
	errno = err;
	return fd;
}

static bool target_read(pid_t pid, uint64_t addr, void *dst, size_t n)
{
	if (!n)
		return true;
	struct iovec l = { dst, n }, r = { (void *)(uintptr_t)addr, n };
	if (process_vm_readv(pid, &l, 1, &r, 1, 0) == (ssize_t)n)
		return true;
	warn_refused(&warned_read, "process_vm_readv", pid, errno);
	return false;
}

static bool target_write(pid_t pid, uint64_t addr, const void *src, size_t n)
{
	struct iovec l = { (void *)src, n }, r = { (void *)(uintptr_t)addr, n };
	return process_vm_writev(pid, &l, 1, &r, 1, 0) == (ssize_t)n;
}

static void copy_base(char *dst, size_t size, const char *path)
{
	const char *s = ss_base_name(path);
	size_t n = strlen(s);
	if (n >= size)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* Base name of the target's argv[0] and of its executable, for `program`. */
static void target_names(pid_t pid, char *argv0, char *exe, size_t size)
{
	char path[64], buf[4096];
	argv0[0] = exe[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			copy_base(argv0, size, buf);
		}
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		copy_base(exe, size, buf);
	}
}

/* ---- per-socket memory: reuse pins, our binds, rewritten binds ---- */

#define PINS 1024
static struct pin {
	uint64_t ino;
	uint32_t locks;      /* FD_RA_MASK | FD_RP_MASK bits */
	bool bound;          /* a UDP socket the supervisor gave its address */
	bool opaque;         /* carries an option optread cannot read back */
	bool has_app;
	struct ss_addr app;  /* the address the program passed to bind */
} pins[PINS];
static pthread_mutex_t pins_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t inode_of(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* Opaque sockets whose slot was taken by another: a socket whose bit is
 * set here may be one of them (a false positive only forgoes a retry). */
#define LOST_BITS 4096
static uint64_t lost_opaque[LOST_BITS / 64];

static size_t lost_bit(uint64_t ino)
{
	return (size_t)((ino * 0xC2B2AE3D27D4EB4Full) >> 52) % LOST_BITS;
}

/* ino's slot, or NULL; with make, a slot for it, empty when new. A socket
 * inode is not reused before about 2^32 others were made; a full table
 * forgets the slot's previous socket (its opaque mark goes to lost_opaque).
 * Call with pins_lock held. */
static struct pin *pin_slot(uint64_t ino, bool make)
{
	size_t h = (size_t)((ino * 0x9E3779B97F4A7C15ull) >> 54) % PINS;
	struct pin *empty = NULL;
	for (size_t k = 0; k < 8; k++) {
		struct pin *p = &pins[(h + k) % PINS];
		if (p->ino == ino)
			return p;
		if (p->ino == 0 && !empty)
			empty = p;
	}
	if (!make)
		return NULL;
	struct pin *p = empty ? empty : &pins[h];
	if (p->opaque)
		lost_opaque[lost_bit(p->ino) / 64] |= 1ull << (lost_bit(p->ino) % 64);
	memset(p, 0, sizeof(*p));
	p->ino = ino;
	return p;
}

static struct pin pin_get(int fd)
{
	struct pin out = { 0 };
	uint64_t ino = inode_of(fd);
	if (!ino)
		return out;
	pthread_mutex_lock(&pins_lock);
	struct pin *p = pin_slot(ino, false);
	if (p)
		out = *p;
	pthread_mutex_unlock(&pins_lock);
	return out;
}

/*
 * Remember of fd what its entry ent says the supervisor did: the reuse
 * flags pinned, and whether a call carried out here gave it its address
 * (FD_BOUND in a learned entry without the program's bind). The latter for
 * UDP only: a TCP socket connected here is past its first connect
 * (ss_tcp_connect_is_new), and a slot per connection would push out the pins that
 * matter. app: the address the program passed to a rewritten bind.
 */
static void pin_put(int fd, uint32_t ent, const struct ss_addr *app, bool opaque)
{
	uint32_t locks = ent & (FD_RA_MASK | FD_RP_MASK);
	bool bound = (ent & (FD_UDP | FD_BOUND | FD_APPBOUND | FD_ADOPTED)) == (FD_UDP | FD_BOUND);
	if (!locks && !bound && !app && !opaque)
		return;
	uint64_t ino = inode_of(fd);
	if (!ino)
		return;
	pthread_mutex_lock(&pins_lock);
	struct pin *p = pin_slot(ino, true);
	if (locks)
		p->locks = locks;
	if (bound)
		p->bound = true;
	if (app) {
		p->has_app = true;
		p->app = *app;
	}
	if (opaque)
		p->opaque = true;
	pthread_mutex_unlock(&pins_lock);
}

/* May the socket carry an option optread cannot read back? */
static bool pin_opaque(uint64_t ino)
{
	pthread_mutex_lock(&pins_lock);
	struct pin *p = pin_slot(ino, false);
	bool o = (p && p->opaque) || (lost_opaque[lost_bit(ino) / 64] >> (lost_bit(ino) % 64) & 1);
	pthread_mutex_unlock(&pins_lock);
	return o;
}

/* ---- deciding ---- */

/*
 * For a call whose rule picks the source (actions.c: plan_source,
 * udp_exclusive), what the preload knows from watching the program, asked
 * of the kernel and the pins instead, so that the socket is no longer
 * adopted: whether it has a local address, and whether the supervisor gave
 * it that address (else the program did: "app-bound"); whether the program
 * turned SO_REUSEADDR or SO_REUSEPORT on (a flag a rule pinned on is the
 * rule's). Its options stay unknown: optlog has no record for our
 * duplicate (but the one prepare_retry makes), so fresh_socket refuses a
 * retry as it does for an adopted socket.
 */
static void learn(struct ss_call *c, const struct pin *pin)
{
	c->ent &= ~(FD_ADOPTED | FD_APPBOUND);
	if (pin->bound)
		c->ent |= FD_BOUND;
	else if (c->proto == SS_PROTO_TCP ? ss_tcp_has_address(c->fd, !c->dry) : ss_act_has_address(c->fd))
		c->ent |= FD_BOUND | FD_APPBOUND;
	if (c->proto != SS_PROTO_UDP)
		return;
	static const struct {
		int opt;
		unsigned shift;
	} flags[2] = { { SO_REUSEADDR, FD_RA_SHIFT }, { SO_REUSEPORT, FD_RP_SHIFT } };
	for (int i = 0; i < 2; i++) {
		int on = 0;
		socklen_t l = sizeof(on);
		if (((pin->locks >> flags[i].shift) & 3u) != FD_LOCK_ON &&
		    getsockopt(c->fd, SOL_SOCKET, flags[i].opt, &on, &l) == 0 && on)
			c->ent |= FD_APPREUSE;
	}
}

static const struct ss_rule *decide(struct job *j)
{
	struct ss_call *c = &j->c;
	char argv0[256], exe[256];
	struct ss_callsite s = { c->op, c->proto, c->family, &c->app, "", NULL, fdtab_ask_v6only, &j->fd };
	if (g_programs) { /* a rule's program matches argv[0] or the executable */
		target_names(j->pid, argv0, exe, sizeof(argv0));
		s.argv0 = argv0;
		s.exe = exe;
	}
	return ss_decide_call(g_policy, &s, NULL);
}

/*
 * Fill j->c for op with the address at sa/salen in the target (listen: the
 * socket's local address). false: not a call the engine decides (not a
 * TCP/UDP socket, an address the kernel will refuse on its own or cannot
 * read): it continues untouched.
 */
static bool begin(struct job *j, enum ss_op op, uint64_t sa, uint64_t salen)
{
	struct ss_call *c = &j->c;
	if (j->fd < 0)
		j->fd = target_fd(j->pid, j->tfd);
	if (j->fd < 0)
		return false;
	uint32_t kind = fdtab_ask_kernel(j->fd);
	if (!(kind & (FD_TCP | FD_UDP)))
		return false;
	c->proto = (kind & FD_TCP) ? SS_PROTO_TCP : SS_PROTO_UDP;
	c->family = (kind & FD_V6) ? SS_FAM_V6 : SS_FAM_V4;
	c->op = op;
	c->fd = j->fd;
	c->ent = kind | FD_ADOPTED | FD_APPBOUND;
	/* what is remembered of the socket: for listen now (the address its
	 * bind passed), for the others once a rule matched */
	struct pin pin = op == SS_OP_LISTEN ? pin_get(j->fd) : (struct pin){ 0 };
	c->dry = g_dry;
	c->failed = false;
	c->rule = NULL;
	ss_actions_init(&c->acts);

	if (op == SS_OP_LISTEN) {
		/* listen passes no address: the one the program passed to bind,
		 * else what the kernel says (the wildcard when unbound) */
		j->rawlen = sizeof(j->raw);
		if (getsockname(j->fd, (struct sockaddr *)&j->raw, &j->rawlen) < 0)
			return false;
		if (!ss_kernel_addr(&c->app, op, c->proto, c->family, (struct sockaddr *)&j->raw, j->rawlen, NULL, NULL))
			return false;
		if (pin.has_app)
			c->app = pin.app;
	} else {
		if (salen > sizeof(struct sockaddr_storage) || salen < sizeof(sa_family_t))
			return false;
		j->rawlen = (socklen_t)salen;
		memset(&j->raw, 0, sizeof(j->raw));
		if (!target_read(j->pid, sa, &j->raw, j->rawlen))
			return false; /* the kernel's EFAULT */
		/* as the kernel reads it for this socket; what it refuses is its own to answer */
		if (!ss_kernel_addr(&c->app, op, c->proto, c->family, (struct sockaddr *)&j->raw, j->rawlen, fdtab_ask_v6only, &j->fd))
			return false;
	}
	j->to = c->app;
	j->began = true;
	if (g_policy)
		c->rule = decide(j);
	if (c->rule) {
		if (op != SS_OP_LISTEN)
			pin = pin_get(j->fd);
		c->ent |= pin.locks;
		if ((op == SS_OP_CONNECT || op == SS_OP_SEND) && (c->rule->nsource || c->rule->has_source_port))
			learn(c, &pin);
		atomic_fetch_add_explicit(&c->rule->state->matched, 1, memory_order_relaxed);
	}
	return true;
}

/* A call counted as matched that turns out not to be a decision. */
static void unmatch(struct job *j)
{
	if (j->c.rule)
		atomic_fetch_sub_explicit(&j->c.rule->state->matched, 1, memory_order_relaxed);
	j->c.rule = NULL;
}

static void log_call(struct job *j, int rc, int err, bool continued)
{
	struct ss_call *c = &j->c;
	if (!j->began || (!c->rule && !ss_log_enabled(SS_LEVEL_DEBUG)))
		return;
	if (c->rule)
		ss_act_tally(c);
	if (continued)
		ss_actions_add(&c->acts, "continue", NULL); /* the kernel made the call; rc unknown */
	struct ss_decision d;
	memset(&d, 0, sizeof(d));
	d.via = "seccomp";
	d.pid = j->pid;
	d.op = ss_op_name(c->op);
	d.fd = j->tfd;
	d.proto = c->proto;
	d.family = c->family;
	d.addr = &c->app;
	d.rule = c->rule ? c->rule->name : NULL;
	d.actions = &c->acts;
	d.dry_run = c->dry && c->rule;
	d.rc = rc;
	d.err = err;
	ss_log_decision(c->rule ? SS_LEVEL_INFO : SS_LEVEL_DEBUG, &d);
}

/* Let the call run in the kernel as the target made it. */
static void pass(struct job *j)
{
	log_call(j, 0, 0, true);
	answer(j, 0, 0, true);
	job_free(j);
}

/* A send or connect carried out here gave the socket its address, if it
 * had none (the kernel's, when no rule's source was bound): the next call
 * says skip=bound, as the preload marks it. Only in a learned entry. */
static void gave_address(struct job *j, bool ok)
{
	if (ok && !(j->c.ent & FD_ADOPTED))
		j->c.ent |= FD_BOUND;
}

/* Answer with the result of the call carried out here, and log it. */
static void finish(struct job *j, int64_t rc, int err)
{
	if (rc >= 0)
		err = 0;
	/* logged (and pinned) before the answer, as the preload logs before it
	 * returns: once answered, the target may exit, and we with it */
	log_call(j, rc < 0 ? -1 : (int)(rc > 0x7fffffff ? 0x7fffffff : rc), err, false);
	pin_put(j->fd, j->c.ent, NULL, false);
	answer(j, rc, err, false);
	job_free(j);
}

/* The target is gone or its call was interrupted: nothing to answer. */
static void drop(struct job *j)
{
	unmatch(j);
	job_free(j);
}

/* A deny rule: true when the call was refused (not in dry-run). */
static bool denied(struct job *j)
{
	struct ss_call *c = &j->c;
	if (!c->rule->deny)
		return false;
	ss_actions_add(&c->acts, "deny", ss_errno_name(c->rule->deny));
	if (c->dry)
		return false;
	finish(j, -1, c->rule->deny);
	return true;
}

/* The rule's rewrite into j->to; false (and the call answered
 * EAFNOSUPPORT) when it cannot be expressed for this socket. */
static bool rewrite(struct job *j)
{
	if (!j->c.rule->has_rewrite)
		return true;
	if (!ss_act_rewrite(&j->c, &j->to)) {
		finish(j, -1, EAFNOSUPPORT);
		return false;
	}
	j->rewritten = !j->c.dry;
	return true;
}

/* Where the call goes, as a sockaddr: the rewritten address, or exactly
 * the bytes the target passed. */
static const struct sockaddr *dest(struct job *j, struct sockaddr_storage *ss, socklen_t *len)
{
	if (!j->rewritten) {
		*len = j->rawlen;
		return (const struct sockaddr *)&j->raw;
	}
	*len = ss_addr_to_sockaddr(&j->to, ss);
	return (const struct sockaddr *)ss;
}

/*
 * Workers: threads kept for calls that may block, so the loop goes on
 * answering. A thread per call would cost more than the call itself on
 * loopback (creating and ending one: ~10 system calls and a wake-up of
 * another CPU); kept threads wait on a queue and end after WORKER_IDLE_S
 * seconds without work. At most SUPCALL_MAX_WORKERS; beyond that, or when
 * no thread can be made, the call is carried out in the loop.
 */
#define WORKER_IDLE_S 10

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static struct job *q_head, *q_tail;
static unsigned q_len, n_workers, n_idle;

static void *worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&q_lock);
	for (;;) {
		while (!q_head) {
			struct timespec until;
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_sec += WORKER_IDLE_S;
			n_idle++;
			int e = pthread_cond_timedwait(&q_cond, &q_lock, &until);
			n_idle--;
			if (e == ETIMEDOUT && !q_head) {
				n_workers--;
				pthread_mutex_unlock(&q_lock);
				return NULL;
			}
		}
		struct job *j = q_head;
		q_head = j->next;
		if (!q_head)
			q_tail = NULL;
		q_len--;
		pthread_mutex_unlock(&q_lock);
		j->run(j);
		pthread_mutex_lock(&q_lock);
	}
}

/* A new worker; false when none can be made. Called with q_lock held. */
static bool add_worker(void)
{
	static pthread_attr_t at;
	static bool at_ready;
	if (!at_ready) {
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&at, 256 * 1024);
		at_ready = true;
	}
	pthread_t t;
	if (pthread_create(&t, &at, worker, NULL) != 0)
		return false;
	n_workers++;
	return true;
}

/* Run fn(j) here when the socket cannot block, else in a worker thread. */
static void carry_out(struct job *j, void (*fn)(struct job *))
{
	int fl = fcntl(j->fd, F_GETFL);
	bool may_block = j->c.proto == SS_PROTO_TCP && fl >= 0 && !(fl & O_NONBLOCK);
	if (may_block) {
		pthread_mutex_lock(&q_lock);
		/* an idle worker for each queued call, or a new one */
		bool taken = n_idle > q_len || (n_workers < SUPCALL_MAX_WORKERS && add_worker());
		if (taken) {
			j->run = fn;
			j->next = NULL;
			if (q_tail)
				q_tail->next = j;
			else
				q_head = j;
			q_tail = j;
			q_len++;
			pthread_cond_signal(&q_cond);
		}
		pthread_mutex_unlock(&q_lock);
		if (taken)
			return;
	}
	fn(j);
}

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

/* Is the target's fd tfd close-on-exec? (Our duplicate always is.) */
static bool target_cloexec(pid_t pid, int tfd)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, tfd);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	const char *f = strstr(buf, "flags:");
	return !f || (strtoul(f + 6, NULL, 8) & O_CLOEXEC);
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

static void on_connect(struct job *j)
{
	if (!begin(j, SS_OP_CONNECT, j->args[1], j->args[2]) || !j->c.rule)
		return pass(j);
	struct ss_call *c = &j->c;
	if (c->proto == SS_PROTO_TCP && !ss_tcp_connect_is_new(j->fd)) {
		/* A repeat (a non-blocking connect asked again, or a call the
		 * kernel restarts after a signal): not a decision (a debug line);
		 * only the redirect is kept, so it goes where the first went. */
		const struct ss_rule *r = c->rule;
		unmatch(j);
		if (c->dry || !r->has_rewrite)
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
	carry_out(j, do_connect);
}

/* ---- bind, listen ---- */

static void on_bind(struct job *j)
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

static void on_listen(struct job *j)
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

static void on_setsockopt(struct job *j)
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

/* ---- sends naming a destination ---- */

/* Send the gathered payload to the call's destination from our duplicate. */
static ssize_t send_here(struct job *j)
{
	struct sockaddr_storage ss;
	socklen_t tl;
	const struct sockaddr *ta = dest(j, &ss, &tl);
	struct iovec iov = ss_payload_iov(&j->p); /* faults where the target's does */
	struct msghdr m = { (void *)ta, tl, &iov, 1, j->p.ctl, j->p.ctllen, 0 };
	/* a broken pipe must not kill the supervisor; the target gets EPIPE */
	return sendmsg(j->fd, &m, j->flags | MSG_NOSIGNAL);
}

static void do_send(struct job *j)
{
	ssize_t rc = -1;
	if (ss_act_source(&j->c, &j->to) == 0)
		rc = send_here(j);
	int err = errno;
	gave_address(j, rc >= 0);
	finish(j, rc, err);
}

/*
 * One send whose destination is at sa/salen; m: the target's msghdr
 * (sendmsg) or NULL (sendto: the buffer is args[1..2]).
 */
static void send_one(struct job *j, uint64_t sa, uint64_t salen, const struct msghdr *m)
{
	bool began = begin(j, SS_OP_SEND, sa, salen);
	/* TCP names a destination only with Fast Open */
	if (!began || !(j->c.proto == SS_PROTO_UDP || (j->flags & MSG_FASTOPEN))) {
		unmatch(j);
		j->began = false;
		return pass(j);
	}
	if (!j->c.rule)
		return pass(j);
	if (denied(j) || !rewrite(j))
		return;
	ss_act_sockopts(&j->c);
	int err = m ? ss_payload_msg(j->pid, m, &j->p) : ss_payload_buf(j->pid, j->args[1], (size_t)j->args[2], &j->p);
	if (err == EMSGSIZE && !j->rewritten) {
		/* too big to copy: pin the source here, the kernel sends */
		if (!still_valid(j))
			return drop(j);
		if (ss_act_source(&j->c, &j->to) < 0)
			return finish(j, -1, errno);
		ss_actions_add(&j->c.acts, "continue", NULL);
		log_call(j, 0, 0, false);
		pin_put(j->fd, j->c.ent, NULL, false);
		answer(j, 0, 0, true);
		return job_free(j);
	}
	if (err)
		return finish(j, -1, err);
	if (!still_valid(j))
		return drop(j);
	carry_out(j, do_send);
}

static void on_sendto(struct job *j)
{
	j->flags = (int)j->args[3];
	if (!j->args[4])
		return pass(j);
	send_one(j, j->args[4], j->args[5], NULL);
}

static void on_sendmsg(struct job *j)
{
	struct msghdr m;
	j->flags = (int)j->args[2];
	if (!target_read(j->pid, j->args[1], &m, sizeof(m)) || !m.msg_name || !m.msg_namelen)
		return pass(j);
	send_one(j, (uintptr_t)m.msg_name, m.msg_namelen, &m);
}

/*
 * sendmmsg: when no message of the batch meets a rule, the batch continues
 * whole. Otherwise each message is sent here on its own, with its own
 * decision (as the preload does), and its msg_len written back. A message
 * that fails ends the batch: the count so far, or its error when first.
 */
static void on_sendmmsg(struct job *j)
{
	unsigned vlen = (unsigned)j->args[2] < MMSG_MAX ? (unsigned)j->args[2] : MMSG_MAX;
	int flags = (int)j->args[3];
	struct mmsghdr *vec = vlen ? calloc(vlen, sizeof(*vec)) : NULL;
	if (!vec || !target_read(j->pid, j->args[1], vec, vlen * sizeof(*vec))) {
		free(vec);
		return pass(j);
	}
	bool any = false;
	for (unsigned i = 0; i < vlen && !any && g_policy; i++) {
		struct msghdr *m = &vec[i].msg_hdr;
		if (!m->msg_name || !m->msg_namelen)
			continue;
		struct job probe = { .pid = j->pid, .tfd = j->tfd, .fd = j->fd };
		if (begin(&probe, SS_OP_SEND, (uintptr_t)m->msg_name, m->msg_namelen) && probe.c.proto == SS_PROTO_UDP &&
		    probe.c.rule)
			any = true;
		unmatch(&probe);
		j->fd = probe.fd; /* keep the duplicate for the next ones */
	}
	if (!any) {
		free(vec);
		return pass(j);
	}
	int sent = 0, first_err = 0;
	for (unsigned i = 0; i < vlen; i++) {
		struct job *one = calloc(1, sizeof(*one));
		if (!one) {
			first_err = ENOMEM;
			break;
		}
		*one = (struct job){ .id = j->id, .pid = j->pid, .nr = j->nr, .tfd = j->tfd, .fd = -1, .flags = flags };
		one->fd = dup(j->fd);
		struct msghdr *m = &vec[i].msg_hdr;
		ssize_t rc = -1;
		int err = 0;
		if (m->msg_name && m->msg_namelen && begin(one, SS_OP_SEND, (uintptr_t)m->msg_name, m->msg_namelen) &&
		    one->c.rule) {
			if (one->c.rule->deny && !one->c.dry) {
				ss_actions_add(&one->c.acts, "deny", ss_errno_name(one->c.rule->deny));
				err = one->c.rule->deny;
			} else {
				if (one->c.rule->deny)
					ss_actions_add(&one->c.acts, "deny", ss_errno_name(one->c.rule->deny));
				if (one->c.rule->has_rewrite) {
					if (ss_act_rewrite(&one->c, &one->to))
						one->rewritten = !one->c.dry;
					else
						err = EAFNOSUPPORT;
				}
				if (!err) {
					ss_act_sockopts(&one->c);
					err = ss_payload_msg(j->pid, m, &one->p);
				}
				if (!err && ss_act_source(&one->c, &one->to) < 0)
					err = errno;
				if (!err) {
					rc = send_here(one);
					err = rc < 0 ? errno : 0;
					gave_address(one, rc >= 0);
				}
			}
			log_call(one, rc < 0 ? -1 : (int)rc, err, false);
			pin_put(one->fd, one->c.ent, NULL, false); /* for the next message */
		} else {
			/* no rule for this one: sent as the target passed it */
			one->began = false;
			if (ss_payload_msg(j->pid, m, &one->p) == 0) {
				struct iovec iov = ss_payload_iov(&one->p);
				struct msghdr mm = { m->msg_name ? &one->raw : NULL, 0, &iov, 1, one->p.ctl, one->p.ctllen, 0 };
				if (m->msg_name && m->msg_namelen <= sizeof(one->raw) &&
				    target_read(j->pid, (uintptr_t)m->msg_name, &one->raw, m->msg_namelen))
					mm.msg_namelen = m->msg_namelen;
				else
					mm.msg_name = NULL;
				rc = sendmsg(one->fd, &mm, flags | MSG_NOSIGNAL);
				err = rc < 0 ? errno : 0;
			} else {
				err = EFAULT;
			}
		}
		job_free(one);
		if (rc < 0) {
			if (!sent)
				first_err = err ? err : EIO;
			break;
		}
		unsigned ml = (unsigned)rc;
		target_write(j->pid, j->args[1] + i * sizeof(*vec) + offsetof(struct mmsghdr, msg_len), &ml, sizeof(ml));
		sent++;
	}
	free(vec);
	answer(j, sent ? sent : -1, sent ? 0 : first_err, false);
	job_free(j);
}

/* ---- the loop's side ---- */

void supcall_setup(int notify_fd, struct ss_policy *p, bool dry_run)
{
	(void)p; /* published by ss_reload_start, with its mode */
	(void)dry_run;
	g_notify = notify_fd;
	pidfds_init();
	pthread_condattr_t ca; /* the workers' idle timeout, on the monotonic clock */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q_cond, &ca);
	pthread_condattr_destroy(&ca);
	g_euid = geteuid();
	{ /* what a retry must check about a target's socket: our netns (a reload may bring windows) */
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		socklen_t l = sizeof(g_netns);
		if (s < 0 || getsockopt(s, SOL_SOCKET, 71 /* SO_NETNS_COOKIE, 5.14 */, &g_netns, &l) < 0)
			g_netns = 0;
		if (s >= 0)
			close(s);
	}
	struct seccomp_notif_sizes sz;
	g_notif_size = sizeof(struct seccomp_notif);
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) == 0 && sz.seccomp_notif > g_notif_size)
		g_notif_size = sz.seccomp_notif;
}

bool supcall_handle(void)
{
	static union {
		struct seccomp_notif n;
		char bytes[512];
	} buf;
	if (g_notif_size > sizeof(buf))
		return false;
	memset(&buf, 0, g_notif_size);
	if (ioctl(g_notify, SECCOMP_IOCTL_NOTIF_RECV, &buf) < 0)
		return errno == EINTR || errno == ENOENT; /* ENOENT: the caller is gone already */
	struct job *j = calloc(1, sizeof(*j));
	if (!j) {
		struct job tmp = { .id = buf.n.id };
		answer(&tmp, 0, 0, true);
		return true;
	}
	j->id = buf.n.id;
	j->pid = (pid_t)buf.n.pid;
	j->nr = buf.n.data.nr;
	memcpy(j->args, buf.n.data.args, sizeof(j->args));
	j->tfd = (int)j->args[0];
	j->fd = -1;
	switch (j->nr) {
	case SYS_connect: on_connect(j); break;
	case SYS_bind: on_bind(j); break;
	case SYS_listen: on_listen(j); break;
	case SYS_setsockopt: on_setsockopt(j); break;
	case SYS_sendto: on_sendto(j); break;
	case SYS_sendmsg: on_sendmsg(j); break;
	case SYS_sendmmsg: on_sendmmsg(j); break;
	default: pass(j); break;
	}
	return true;
}

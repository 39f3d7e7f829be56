/*
 * supcall: decide and carry out one supervised socket call (see supcall.h).
 *
 * A call's life: received, its socket duplicated and its address read from
 * the target (suptarget.h), decided by the engine, handed to the handler of
 * its call (supconnect.c, supsendto.c), carried out here or in a worker
 * thread, logged and answered. A socket is "adopted" for actions.c (its
 * history is unknown), except in a call whose rule picks the source, where
 * what actions.c reads of the fd table is learned from the kernel and the
 * pins (suppin.h, supkind.h).
 */
#include "supcall.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
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
#include "supjob.h"
#include "supkind.h"
#include "suppin.h"
#include "supsend.h"
#include "suptarget.h"

/* 6.6; glibc 2.36's kernel headers lack them */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP 1u
#endif

int g_notify = -1;
uint64_t g_netns;       /* our network namespace's cookie (0: unknown) */
uid_t g_euid;
static size_t g_notif_size;

/* ---- one call ---- */

/* Our duplicate of the target's socket, closed: while we hold it, a close()
 * in the target does not end the socket (no FIN, the port still held). */
static void release_fd(struct job *j)
{
	if (j->fd >= 0) {
		fdtab_clear(j->fd); /* actions.c records state under our fd number */
		optlog_forget(j->fd);
		close(j->fd);
		j->fd = -1;
	}
}

void job_free(struct job *j)
{
	release_fd(j);
	ss_payload_free(&j->p);
	free(j);
}

/* The duplicate goes first: once answered, the target runs on, and may
 * close the socket before we would. */
void answer(struct job *j, int64_t val, int err, bool cont)
{
	release_fd(j);
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

bool still_valid(const struct job *j)
{
	uint64_t id = j->id;
	return ioctl(g_notify, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* ---- deciding ---- */

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
static int v6only_off(void *ctx)
{
	(void)ctx;
	return 0;
}

/*
 * Could a rule decide a call to the address in j->raw, whatever socket it
 * is made on? Asked before the socket is duplicated, so that a call no
 * rule can match costs no pidfd_getfd, getsockopt or close: each kind of
 * socket the kernel would take the address on (TCP or UDP, AF_INET or
 * AF_INET6, IPV6_V6ONLY off: the widest reading) is put to the engine. A
 * `program` rule needs the target's names (read from /proc per call) and
 * the debug level logs every call with its socket's kind: then the socket
 * is always asked.
 */
static bool may_match(const struct job *j, enum ss_op op)
{
	if (!g_policy)
		return false;
	if (g_programs || ss_log_enabled(SS_LEVEL_DEBUG))
		return true;
	static const unsigned protos[2] = { SS_PROTO_TCP, SS_PROTO_UDP }, fams[2] = { SS_FAM_V4, SS_FAM_V6 };
	for (int p = 0; p < 2; p++) {
		for (int f = 0; f < 2; f++) {
			struct ss_addr a;
			if (!ss_kernel_addr(&a, op, protos[p], fams[f], (const struct sockaddr *)&j->raw, j->rawlen, NULL,
					    NULL))
				continue;
			struct ss_callsite s = { op, protos[p], fams[f], &a, NULL, NULL, v6only_off, NULL };
			if (ss_decide_call(g_policy, &s, NULL))
				return true;
		}
	}
	return false;
}

bool begin(struct job *j, enum ss_op op, uint64_t sa, uint64_t salen)
{
	struct ss_call *c = &j->c;
	if (op != SS_OP_LISTEN) {
		if (salen > sizeof(struct sockaddr_storage) || salen < sizeof(sa_family_t))
			return false;
		j->rawlen = (socklen_t)salen;
		memset(&j->raw, 0, sizeof(j->raw));
		if (!target_read(j->pid, sa, &j->raw, j->rawlen))
			return false; /* the kernel's EFAULT */
		if (!may_match(j, op))
			return false;
	}
	if (j->fd < 0)
		j->fd = target_fd(j->pid, j->tfd);
	if (j->fd < 0) {
		/* a listen's address is the socket's: any listen rule may decide it */
		j->refuse = target_short(errno, op != SS_OP_LISTEN || (g_policy && g_policy->op_nrules[SS_OP_LISTEN]));
		return false;
	}
	uint32_t kind = sup_kind(j->fd, &j->local, &j->locallen);
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
	c->netns = 0;
	c->rule = NULL;
	ss_actions_init(&c->acts);

	if (op == SS_OP_LISTEN) {
		/* listen passes no address: the one the program passed to bind,
		 * else what the kernel says (the wildcard when unbound) */
		j->raw = j->local;
		j->rawlen = j->locallen;
		if (!ss_kernel_addr(&c->app, op, c->proto, c->family, (struct sockaddr *)&j->raw, j->rawlen, NULL, NULL))
			return false;
		if (pin.has_app)
			c->app = pin.app;
	} else {
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
			sup_learn(c, &pin, &j->local, j->locallen);
		atomic_fetch_add_explicit(&c->rule->state->matched, 1, memory_order_relaxed);
	}
	return true;
}

/* A call counted as matched that turns out not to be a decision. */
void unmatch(struct job *j)
{
	if (j->c.rule)
		atomic_fetch_sub_explicit(&j->c.rule->state->matched, 1, memory_order_relaxed);
	j->c.rule = NULL;
}

void log_call(struct job *j, int rc, int err, bool continued)
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

/* Let the call run in the kernel as the target made it (but one begin
 * refused: see refuse_short). */
void pass(struct job *j)
{
	if (j->refuse) {
		answer(j, -1, j->refuse, false);
		return job_free(j);
	}
	log_call(j, 0, 0, true);
	answer(j, 0, 0, true);
	job_free(j);
}

/* A send or connect carried out here gave the socket its address, if it
 * had none (the kernel's, when no rule's source was bound): the next call
 * says skip=bound, as the preload marks it. Only in a learned entry. */
void gave_address(struct job *j, bool ok)
{
	if (ok && !(j->c.ent & FD_ADOPTED))
		j->c.ent |= FD_BOUND;
}

/* Answer with the result of the call carried out here, and log it. */
void finish(struct job *j, int64_t rc, int err)
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
void drop(struct job *j)
{
	unmatch(j);
	job_free(j);
}

/* A deny rule: true when the call was refused (not in dry-run). */
bool denied(struct job *j)
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
bool rewrite(struct job *j)
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
const struct sockaddr *dest(struct job *j, struct sockaddr_storage *ss, socklen_t *len)
{
	if (!j->rewritten) {
		*len = j->rawlen;
		return (const struct sockaddr *)&j->raw;
	}
	*len = ss_addr_to_sockaddr(&j->to, ss);
	return (const struct sockaddr *)ss;
}

/*
 * Threads: one at a time holds the receiving role (it alone calls RECV and
 * begins calls, so the pidfd cache and the receive buffer need no lock). A
 * call that may block is carried out by the thread that received it, on a
 * warm cache and at once; before it starts, the role passes to a parked
 * thread, or to a new one, so the others' calls go on being answered.
 * Handing a call to a waiting worker instead put a wake-up of another CPU
 * before every blocking connect. A thread done with its call takes the
 * role back if it is free (no one else woke for it yet), else parks; a
 * thread parked for WORKER_IDLE_S seconds ends. At most SUPCALL_MAX_WORKERS
 * threads; beyond that, the call blocks the receiver as a loop would.
 */
#define WORKER_IDLE_S 10

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static bool role_free;            /* no thread holds the receiving role */
static unsigned n_threads, n_parked;
static bool g_threaded;           /* supcall_start's threads run */
static _Thread_local bool gave_role; /* this thread passed the role on */

static void *receiver(void *arg);

static bool add_thread(void)
{
	pthread_attr_t at;
	pthread_t t;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 256 * 1024);
	bool ok = pthread_create(&t, &at, receiver, NULL) == 0;
	pthread_attr_destroy(&at);
	return ok;
}

/* After a call this thread gave the role away for: take it back or park.
 * false: parked too long, the thread ends. */
static bool retake_role(void)
{
	pthread_mutex_lock(&q_lock);
	while (!role_free) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += WORKER_IDLE_S;
		n_parked++;
		int e = pthread_cond_timedwait(&q_cond, &q_lock, &until);
		n_parked--;
		if (e == ETIMEDOUT && !role_free) {
			n_threads--;
			pthread_mutex_unlock(&q_lock);
			return false;
		}
	}
	role_free = false;
	pthread_mutex_unlock(&q_lock);
	gave_role = false;
	return true;
}

bool workers_full(void)
{
	pthread_mutex_lock(&q_lock);
	bool full = g_threaded && !gave_role && !n_parked && n_threads >= SUPCALL_MAX_WORKERS;
	pthread_mutex_unlock(&q_lock);
	return full;
}

/* Run fn(j); when the socket may block, the receiving role first goes to
 * another thread. */
void carry_out(struct job *j, void (*fn)(struct job *))
{
	int fl = j->has_fl ? j->fl : fcntl(j->fd, F_GETFL);
	bool may_block = j->c.proto == SS_PROTO_TCP && fl >= 0 && !(fl & O_NONBLOCK);
	if (may_block && g_threaded && !gave_role) {
		pthread_mutex_lock(&q_lock);
		bool passed = false;
		bool wake = false;
		if (n_parked) {
			role_free = passed = wake = true;
		} else if (n_threads < SUPCALL_MAX_WORKERS && add_thread()) {
			n_threads++; /* it starts holding the role */
			passed = true;
		}
		pthread_mutex_unlock(&q_lock);
		if (wake) /* after the unlock: the woken thread does not wait for the mutex */
			pthread_cond_signal(&q_cond);
		gave_role = passed;
	}
	fn(j);
}

/* ---- the loop's side ---- */

void supcall_setup(int notify_fd, struct ss_policy *p, bool dry_run)
{
	(void)p; /* published by ss_reload_start, with its mode */
	(void)dry_run;
	g_notify = notify_fd;
	target_init();
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

/* RECV's outcome: a call handled, none (ENOENT: its caller gone already,
 * or no process left to call), or the fd failed. */
enum { GOT, NONE, BROKEN };

static int receive_one(void)
{
	static union {
		struct seccomp_notif n;
		char bytes[512];
	} buf; /* one receiving thread at a time (supcall.h) */
	if (g_notif_size > sizeof(buf))
		return BROKEN;
	memset(&buf, 0, g_notif_size);
	if (ioctl(g_notify, SECCOMP_IOCTL_NOTIF_RECV, &buf) < 0)
		return errno == EINTR ? GOT : errno == ENOENT ? NONE : BROKEN;
	struct job *j = calloc(1, sizeof(*j));
	if (!j) {
		struct job tmp = { .id = buf.n.id, .fd = -1 };
		answer(&tmp, 0, 0, true);
		return GOT;
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
	return GOT;
}

bool supcall_handle(void)
{
	ss_reload_tick(); /* a changed policy file decides the calls from now on */
	return receive_one() != BROKEN;
}

/*
 * The receiving thread: RECV blocks until a call comes, so a call costs no
 * poll; with SYNC_WAKE_UP the target's call wakes this thread on the
 * target's CPU (which then waits for the answer) and the answer wakes the
 * target on ours, instead of each wake-up going to the other core. Only
 * since 6.6 does a RECV end when no process carries the filter any more
 * (ENOENT then; before, the loop's POLLHUP ends the process).
 */
static _Atomic bool g_broken;

static bool hung_up(void)
{
	struct pollfd pf = { g_notify, 0, 0 };
	return poll(&pf, 1, 0) > 0 && (pf.revents & (POLLHUP | POLLERR | POLLNVAL));
}

static void *receiver(void *arg)
{
	(void)arg;
	for (;;) {
		ss_reload_tick();
		int got = receive_one();
		if (got == BROKEN) {
			atomic_store(&g_broken, true);
			kill(getpid(), SIGCHLD); /* wakes the loop (its signalfd) */
			return NULL;
		}
		if (gave_role && !retake_role())
			return NULL;
		if (got == NONE && hung_up())
			return NULL;
	}
}

bool supcall_start(void)
{
	/* 6.6: wake-ups of either side on the waker's CPU; an older kernel refuses it (EINVAL) */
	uint64_t sync = SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;
	ioctl(g_notify, SECCOMP_IOCTL_NOTIF_SET_FLAGS, sync);
	g_threaded = true;
	n_threads = 1;
	if (!add_thread()) {
		g_threaded = false;
		return false;
	}
	return true;
}

bool supcall_broken(void)
{
	return atomic_load(&g_broken);
}

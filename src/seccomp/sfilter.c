/*
 * sfilter: build and install the supervisor's seccomp filter (see sfilter.h).
 *
 * The program is a list of blocks, one per system call sent to the
 * supervisor. Two calls are narrowed by their arguments so the common case
 * never leaves the kernel: sendto without an address (a connected socket's
 * send), and setsockopt of anything but SO_REUSEADDR/SO_REUSEPORT.
 * Another architecture (a 32-bit program on a 64-bit kernel) or the x32 ABI
 * is let through untouched: its socket calls have other numbers (socketcall),
 * and this front end does not decode them.
 */
#include "sfilter.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fmt.h"
#include "optread.h"
#include "policy.h"

#if defined(__x86_64__)
#define SF_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SF_ARCH AUDIT_ARCH_AARCH64
#else
#error "sfilter: unsupported architecture"
#endif

#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_HI(i) (offsetof(struct seccomp_data, args) + 8 * (i) + 4)
#else
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i) + 4)
#define ARG_HI(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#endif

#define MAX_INSNS 320

struct prog {
	struct sock_filter f[MAX_INSNS];
	unsigned n;
};

static void put(struct prog *p, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	if (p->n < MAX_INSNS)
		p->f[p->n++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
}

#define LD(p, off) put(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)(off))
#define RET(p, v) put(p, BPF_RET | BPF_K, 0, 0, (v))
#define NOTIFY SECCOMP_RET_USER_NOTIF
#define ALLOW SECCOMP_RET_ALLOW

enum kind { PLAIN, SENDTO_WITH_ADDR, SETSOCKOPT };

/*
 * setsockopt(fd, level, name, ...): sent when the name is SO_REUSEADDR or
 * SO_REUSEPORT and w->reuse (a pinned flag the program must not undo), or
 * when w->opts and optread cannot read the option back (optread.h): the
 * socket then carries something a retry could not copy. Every other call
 * runs untouched. Laid out as: load the level; one jump per level to its
 * block, else the default; each block loads the name and ends in
 * "default; allow; notify".
 */
static void setsockopt_body(struct prog *p, const struct sfilter_want *w)
{
	int names[OPTREAD_NLEVELS][48];
	unsigned nnames[OPTREAD_NLEVELS], nlev = 0, lev[OPTREAD_NLEVELS];
	bool reuse = w->reuse || w->all;
	for (unsigned i = 0; i < OPTREAD_NLEVELS; i++) {
		int level = optread_levels[i];
		nnames[i] = w->opts ? optread_names(level, names[i], 48) : 0;
		if (nnames[i] || (reuse && level == SOL_SOCKET))
			lev[nlev++] = i;
	}
	uint32_t dflt = w->opts ? NOTIFY : ALLOW;
	LD(p, ARG_LO(1));
	unsigned at = p->n + nlev + 1; /* where the first level's block starts */
	for (unsigned k = 0; k < nlev; k++) {
		unsigned i = lev[k];
		put(p, BPF_JMP | BPF_JEQ | BPF_K, (uint8_t)(at - (p->n + 1)), 0, (uint32_t)optread_levels[i]);
		unsigned nreuse = (reuse && optread_levels[i] == SOL_SOCKET) ? 2 : 0;
		at += 1 + nreuse + nnames[i] + 3;
	}
	RET(p, dflt);
	for (unsigned k = 0; k < nlev; k++) {
		unsigned i = lev[k];
		unsigned nreuse = (reuse && optread_levels[i] == SOL_SOCKET) ? 2 : 0;
		unsigned m = nreuse + nnames[i]; /* jumps in this block */
		LD(p, ARG_LO(2));
		/* jump j (0-based) lands on "allow" at m + 1 or "notify" at m + 2 */
		for (unsigned j = 0; j < m; j++) {
			bool notify = j < nreuse;
			uint32_t name = notify ? (j ? SO_REUSEPORT : SO_REUSEADDR) : (uint32_t)names[i][j - nreuse];
			put(p, BPF_JMP | BPF_JEQ | BPF_K, (uint8_t)(m - j + (notify ? 1 : 0)), 0, name);
		}
		RET(p, dflt);
		RET(p, ALLOW);
		RET(p, NOTIFY);
	}
}

/* One block: "if nr == NR then <body>"; a non-matching nr skips the body. */
static void block(struct prog *p, int nr, enum kind k, const struct sfilter_want *w)
{
	LD(p, offsetof(struct seccomp_data, nr));
	switch (k) {
	case PLAIN:
		put(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, (uint32_t)nr);
		RET(p, NOTIFY);
		break;
	case SENDTO_WITH_ADDR: /* args[4] == NULL: a connected send, not ours */
		put(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 6, (uint32_t)nr);
		LD(p, ARG_LO(4));
		put(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 3, 0);
		LD(p, ARG_HI(4));
		put(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0);
		RET(p, ALLOW);
		RET(p, NOTIFY);
		break;
	case SETSOCKOPT: {
		static struct prog body;
		body.n = 0;
		setsockopt_body(&body, w);
		put(p, BPF_JMP | BPF_JEQ | BPF_K, 0, (uint8_t)(body.n > 255 ? 255 : body.n), (uint32_t)nr);
		for (unsigned i = 0; i < body.n; i++)
			put(p, body.f[i].code, body.f[i].jt, body.f[i].jf, body.f[i].k);
		if (body.n > 255)
			p->n = MAX_INSNS; /* cannot jump over it: refuse (E2BIG) */
		break;
	}
	}
}

struct entry {
	const char *name;
	int nr;
	enum kind kind;
};

/* The calls sent for w, into e (at most 8). */
static unsigned wanted(const struct sfilter_want *w, struct entry *e)
{
	unsigned n = 0;
	bool all = w->all;
	if (all || (w->ops & SS_OPBIT(SS_OP_CONNECT)))
		e[n++] = (struct entry){ "connect", SYS_connect, PLAIN };
	if (all || (w->ops & (SS_OPBIT(SS_OP_BIND) | SS_OPBIT(SS_OP_LISTEN))))
		e[n++] = (struct entry){ "bind", SYS_bind, PLAIN };
	if (all || (w->ops & SS_OPBIT(SS_OP_LISTEN)))
		e[n++] = (struct entry){ "listen", SYS_listen, PLAIN };
	if (all || (w->ops & SS_OPBIT(SS_OP_SEND))) {
		e[n++] = (struct entry){ "sendto", SYS_sendto, SENDTO_WITH_ADDR };
		e[n++] = (struct entry){ "sendmsg", SYS_sendmsg, PLAIN };
		e[n++] = (struct entry){ "sendmmsg", SYS_sendmmsg, PLAIN };
	}
	if (all || w->reuse || w->opts)
		e[n++] = (struct entry){ "setsockopt", SYS_setsockopt, SETSOCKOPT };
	return n;
}

void sfilter_describe(const struct sfilter_want *w, char *buf, unsigned size)
{
	struct entry e[8];
	unsigned n = wanted(w, e);
	struct fmt f;
	fmt_init(&f, buf, size);
	for (unsigned i = 0; i < n; i++) {
		if (i)
			fmt_char(&f, ',');
		fmt_str(&f, e[i].name);
	}
	if (!n)
		fmt_str(&f, "none");
}

int sfilter_install(const struct sfilter_want *w)
{
	static struct prog p; /* called once, in the child */
	struct entry e[8];
	unsigned n = wanted(w, e);
	p.n = 0;
	LD(&p, offsetof(struct seccomp_data, arch));
	put(&p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, SF_ARCH);
	RET(&p, ALLOW);
	LD(&p, offsetof(struct seccomp_data, nr));
	put(&p, BPF_JMP | BPF_JGE | BPF_K, 0, 1, __X32_SYSCALL_BIT);
	RET(&p, ALLOW);
	for (unsigned i = 0; i < n; i++)
		block(&p, e[i].nr, e[i].kind, w);
	RET(&p, ALLOW);
	if (p.n >= MAX_INSNS) {
		errno = E2BIG;
		return -1;
	}
	struct sock_fprog fp = { (unsigned short)p.n, p.f };
	/* Without NO_NEW_PRIVS a setuid target keeps its privileges; the kernel
	 * allows that only to a caller with CAP_SYS_ADMIN. */
	int fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &fp);
	if (fd < 0 && errno == EACCES) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			return -1;
		fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &fp);
	}
	return fd;
}

struct sfilter_want sfilter_want_of(const struct ss_policy *p, bool reload, bool debug)
{
	struct sfilter_want w = { 0, false, false, debug };
	if (p) {
		w.ops = p->op_mask;
		for (unsigned i = 0; i < p->nrules; i++) {
			const struct ss_rule *r = &p->rules[i];
			/* a UDP source the rule picks has its reuse flags pinned
			 * off (actions.c, udp_exclusive) */
			bool udp_source = (r->nsource || r->has_source_port) && (!r->protos || (r->protos & SS_PROTO_UDP)) &&
					  (r->ops & (SS_OPBIT(SS_OP_CONNECT) | SS_OPBIT(SS_OP_SEND)));
			if (r->reuseaddr != SS_FLAG_NONE || r->reuseport != SS_FLAG_NONE || udp_source)
				w.reuse = true;
			if (r->has_source_port)
				w.opts = true;
		}
	}
	if (reload)
		w = (struct sfilter_want){ SS_OPBIT(SS_OP_BIND) | SS_OPBIT(SS_OP_LISTEN) | SS_OPBIT(SS_OP_CONNECT) |
						   SS_OPBIT(SS_OP_SEND),
					   true, true, w.all };
	return w;
}

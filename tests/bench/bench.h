/*
 * bench.h: the few helpers the benchmark programs share (header-only, so
 * run.sh can build each program from its one .c file).
 */
#ifndef SOCKSHIM_BENCH_H
#define SOCKSHIM_BENCH_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* Raise RLIMIT_NOFILE as far as allowed: as root up to fs.nr_open, otherwise
 * up to the hard limit. Returns the soft limit now in force. */
static inline long bench_raise_nofile(void)
{
	struct rlimit rl;
	long want = 0;
	FILE *f = fopen("/proc/sys/fs/nr_open", "r");
	if (f) {
		if (fscanf(f, "%ld", &want) != 1)
			want = 0;
		fclose(f);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	if (want > 0 && (rlim_t)want > rl.rlim_max) {
		struct rlimit up = { (rlim_t)want, (rlim_t)want };
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			return want;
	}
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	return (long)rl.rlim_cur;
}

/* "EADDRNOTAVAIL" rather than a sentence: the table wants short names. */
static inline const char *bench_errname(int e)
{
	static __thread char buf[16];
	if (e == 0)
		return "none";
	const char *n = strerrorname_np(e);
	if (n)
		return n;
	snprintf(buf, sizeof(buf), "errno%d", e);
	return buf;
}

static inline double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ADDR PORT -> sockaddr_in; exits on a bad address (these are fixed by the
 * scripts, a typo should stop the run at once). */
static inline struct sockaddr_in bench_sin(const char *addr, const char *port)
{
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(port));
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "bad IPv4 address: %s\n", addr);
		exit(2);
	}
	return sin;
}

/*
 * Parking: holding more connections than RLIMIT_NOFILE allows.
 *
 * Raising the hard RLIMIT_NOFILE needs CAP_SYS_RESOURCE, which a container
 * may withhold (fs.nr_open and fs.file-max are then not the limit). A file
 * sent with SCM_RIGHTS over a unix socket and not yet received is "in
 * flight": it keeps the connection open, but takes no slot in the sender's
 * fd table. So the program collects up to PARK_BATCH open fds, sends them in
 * one message over a socketpair it keeps (the receiving end never reads),
 * then closes its own copies. Past RLIMIT_NOFILE in-flight files per user the
 * kernel wants CAP_SYS_ADMIN or CAP_SYS_RESOURCE (ETOOMANYREFS otherwise).
 * When a pair's send buffer is full, a new pair is opened.
 */
#include <sys/socket.h>
#include <unistd.h>

#define PARK_BATCH 250 /* SCM_MAX_FD is 253 */
#define PARK_PAIRS 4096

struct bench_park {
	int batch[PARK_BATCH];
	int nbatch;
	int pair[2]; /* the current pair; earlier ones stay open, unread */
	int npairs;
	long parked;
};

static inline void bench_park_init(struct bench_park *p)
{
	memset(p, 0, sizeof(*p));
	p->pair[0] = p->pair[1] = -1;
}

/* Send the collected fds; 0, or -1 with errno (then they stay open). */
static inline int bench_park_flush(struct bench_park *p)
{
	if (p->nbatch == 0)
		return 0;
	union {
		char buf[CMSG_SPACE(sizeof(int) * PARK_BATCH)];
		struct cmsghdr align;
	} u;
	char byte = 0;
	struct iovec iov = { &byte, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)p->nbatch) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)p->nbatch);
	memcpy(CMSG_DATA(cm), p->batch, sizeof(int) * (size_t)p->nbatch);
	for (int tries = 0; tries < 2; tries++) {
		if (p->pair[0] >= 0 && sendmsg(p->pair[0], &mh, MSG_DONTWAIT | MSG_NOSIGNAL) == 1) {
			for (int i = 0; i < p->nbatch; i++)
				close(p->batch[i]);
			p->parked += p->nbatch;
			p->nbatch = 0;
			return 0;
		}
		if (p->pair[0] >= 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (p->npairs >= PARK_PAIRS) {
			errno = ENOSPC;
			return -1;
		}
		/* the first pair, or the current one is full: open another */
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p->pair) < 0)
			return -1;
		p->npairs++;
	}
	errno = EAGAIN;
	return -1;
}

/* Hold fd open, parked. 0, or -1 with errno when a full batch cannot be
 * sent: fd is then not taken (the caller still owns it). */
static inline int bench_park(struct bench_park *p, int fd)
{
	if (p->nbatch == PARK_BATCH && bench_park_flush(p) < 0)
		return -1;
	p->batch[p->nbatch++] = fd;
	return 0;
}

#endif

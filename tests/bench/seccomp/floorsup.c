/*
 * floorsup: the floor of the seccomp benchmarks (80-seccomp.sh, 82-seccomp-go.sh).
 *
 * It runs a command under exactly the filter `sockshim --seccomp` installs
 * for a policy (it links src/sfilter.c and asks it for the same list of
 * calls), and answers every notification with SECCOMP_USER_NOTIF_FLAG_CONTINUE
 * and nothing else: no poll, no reading of the target, no decision, no log.
 * What remains is the irreducible cost of a supervised call: the target's
 * switch to the supervisor and back, and the two notify ioctls. A
 * supervisor cannot be cheaper than this on the same filter.
 *
 *   floorsup [-t THREADS] [-w] [-s] POLICY -- CMD ARGS...
 *       THREADS (default 1) threads each loop NOTIF_RECV, NOTIF_SEND; -w
 *       first sets SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (kernel >= 6.6: the
 *       caller and the supervisor hand the CPU to each other, as a
 *       supervisor may choose to); -s prints "floorsup: calls=LIST
 *       threads=T sync=0|1 notifications=N" on stderr at the end.
 *       Exits with the command's exit status (128 + signal if killed).
 *   floorsup --filter-of PID
 *       prints the first seccomp filter of PID as the kernel holds it
 *       (PTRACE_SECCOMP_GET_FILTER, root): "insns=N fnv1a=HASH", so a
 *       benchmark can check the floor and the supervisor run one program.
 *
 * Built by the Makefile (make bench), not by tests/bench/run.sh: it links
 * the supervisor's filter builder and the engine.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "policy.h"
#include "sfilter.h"

/* kernel 6.6; Debian 12's headers lack it */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP 1
#endif

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif

static void report(void *ctx, enum ss_severity sev, const char *file, unsigned line, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "floorsup: %s:%u: %s: %s\n", file ? file : "?", line, sev == SS_SEV_ERROR ? "error" : "warning",
		msg);
}

/* The calls the supervisor traps for policy p: its own sfilter_want_of, with
 * the log level and reload setting the supervisor would take from the
 * environment or the policy. */
static struct sfilter_want want_of(const struct ss_policy *p)
{
	const char *lvl = getenv("SOCKSHIM_LOG_LEVEL");
	bool debug = lvl && *lvl ? strcmp(lvl, "debug") == 0 : p->global.log_level == SS_LEVEL_DEBUG;
	const char *rl = getenv("SOCKSHIM_RELOAD");
	bool reload = rl && *rl ? strcmp(rl, "off") != 0 : !p->global.reload_off;
	return sfilter_want_of(p->nerrors ? NULL : p, reload, debug);
}

/* ---- the answering loop ---- */

static int g_notify = -1;
static bool g_count;           /* -s: count the answers */
static atomic_ulong g_answered;

static void *answer(void *arg)
{
	(void)arg;
	struct seccomp_notif req;
	for (;;) {
		memset(&req, 0, sizeof(req)); /* the kernel wants it zeroed */
		if (ioctl(g_notify, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
			if (errno == EINTR || errno == ENOENT)
				continue; /* the caller went away before we read it */
			break;
		}
		struct seccomp_notif_resp resp = { .id = req.id, .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE };
		ioctl(g_notify, SECCOMP_IOCTL_NOTIF_SEND, &resp); /* ENOENT: it went away; nothing to do */
		if (g_count)
			atomic_fetch_add_explicit(&g_answered, 1, memory_order_relaxed);
	}
	return NULL;
}

static _Noreturn void command(const struct sfilter_want *w, char **argv, int tell, int wait_go)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL); /* never left running under a dead floor */
	int fd = sfilter_install(w);
	int msg = fd >= 0 ? fd : -errno;
	if (write(tell, &msg, sizeof(msg)) != (ssize_t)sizeof(msg) || fd < 0)
		_exit(125);
	char go;
	if (read(wait_go, &go, 1) != 1)
		_exit(125);
	close(fd);
	close(tell);
	close(wait_go);
	execvp(argv[0], argv);
	fprintf(stderr, "floorsup: %s: %s\n", argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

static int filter_of(pid_t pid)
{
	if (ptrace(PTRACE_ATTACH, pid, 0, 0) < 0) {
		perror("floorsup: ptrace attach");
		return 1;
	}
	int st;
	while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR) {
	}
	static struct sock_filter f[4096];
	long n = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, 0, f);
	int e = errno;
	if (n > 0 && n <= 4096)
		n = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, 0, f);
	ptrace(PTRACE_DETACH, pid, 0, 0);
	if (n <= 0 || n > 4096) {
		fprintf(stderr, "floorsup: PTRACE_SECCOMP_GET_FILTER: %s\n", n < 0 ? strerror(e) : "no filter");
		return 1;
	}
	uint64_t h = 1469598103934665603ull;
	const unsigned char *b = (const unsigned char *)f;
	for (size_t i = 0; i < (size_t)n * sizeof(f[0]); i++)
		h = (h ^ b[i]) * 1099511628211ull;
	printf("insns=%ld fnv1a=%016llx\n", n, (unsigned long long)h);
	return 0;
}

static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: floorsup [-t THREADS] [-s] POLICY -- CMD ARGS...\n"
			"       floorsup --filter-of PID\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--filter-of") == 0)
		return filter_of((pid_t)atoi(argv[2]));
	int threads = 1, i = 1;
	bool stats = false, sync = false;
	for (; i < argc && argv[i][0] == '-' && strcmp(argv[i], "--"); i++) {
		if (strcmp(argv[i], "-s") == 0)
			stats = g_count = true;
		else if (strcmp(argv[i], "-w") == 0)
			sync = true;
		else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
			threads = atoi(argv[++i]);
		else
			usage();
	}
	if (i + 2 >= argc || strcmp(argv[i + 1], "--") || threads < 1 || threads > 64)
		usage();
	struct ss_policy *p = ss_policy_load(argv[i], report, NULL);
	if (!p)
		return 78;
	struct sfilter_want w = want_of(p);
	char calls[128];
	sfilter_describe(&w, calls, sizeof(calls));
	char **cmd = argv + i + 2;

	int up[2], down[2];
	if (pipe2(up, O_CLOEXEC) < 0 || pipe2(down, O_CLOEXEC) < 0) {
		perror("floorsup: pipe");
		return 125;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		perror("floorsup: fork");
		return 125;
	}
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		command(&w, cmd, up[1], down[0]);
	}
	close(up[1]);
	close(down[0]);
	int msg = -1;
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (read(up[0], &msg, sizeof(msg)) == (ssize_t)sizeof(msg) && msg >= 0 && pidfd >= 0)
		g_notify = (int)syscall(SYS_pidfd_getfd, pidfd, msg, 0);
	if (g_notify < 0) {
		fprintf(stderr, "floorsup: cannot supervise: %s\n", strerror(msg < 0 ? -msg : errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return 125;
	}
	close(pidfd);
	if (sync && ioctl(g_notify, SECCOMP_IOCTL_NOTIF_SET_FLAGS, (__u64)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0) {
		fprintf(stderr, "floorsup: SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (kernel >= 6.6): %s\n", strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return 125;
	}
	pthread_t t;
	for (int k = 0; k < threads; k++) {
		if (pthread_create(&t, NULL, answer, NULL)) {
			fprintf(stderr, "floorsup: cannot start a thread\n");
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return 125;
		}
	}
	char go = 1;
	if (write(down[1], &go, 1) != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return 125;
	}
	close(down[1]);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
	}
	if (stats)
		fprintf(stderr, "floorsup: calls=%s threads=%d sync=%d notifications=%lu\n", calls, threads, sync,
			atomic_load(&g_answered));
	/* the answering threads end with the process */
	if (WIFEXITED(st))
		_exit(WEXITSTATUS(st));
	_exit(WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1);
}

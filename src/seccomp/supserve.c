/*
 * supserve: the supervising process (see supserve.h).
 *
 * The command installs the filter (sfilter.h) and tells us the notification
 * fd's number through a pipe; we take the fd with pidfd_getfd() and only then
 * let it exec, so no call of the command is ever sent before someone
 * listens. The loop polls the notification fd (supcall.h answers each call,
 * blocking ones in worker threads) and a signalfd of SIGCHLD (the command or
 * something it left behind ended: reap it).
 *
 * When the command is reaped, the filter may have no user left: the kernel
 * drops a task's hold on it as the task dies, before its parent reaps it, so
 * POLLHUP is set by then. A short grace covers a child that died with it.
 */
#include "supserve.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fmt.h"
#include "log.h"
#include "reload.h"
#include "setup.h"
#include "supcall.h"

#define ORPHAN_GRACE_MS 20 /* after the command is reaped, wait this long for POLLHUP */

/* ---- the command ---- */

static _Noreturn void command(char **argv, const struct sfilter_want *w, const sigset_t *mask, int tell, int wait_go)
{
	sigprocmask(SIG_SETMASK, mask, NULL);
	int fd = sfilter_install(w);
	int msg = fd >= 0 ? fd : -errno;
	if (write(tell, &msg, sizeof(msg)) != (ssize_t)sizeof(msg) || fd < 0)
		_exit(EX_NOSUPERVISOR);
	char go;
	if (read(wait_go, &go, 1) != 1)
		_exit(EX_NOSUPERVISOR); /* the supervisor could not take the fd */
	close(fd);
	close(tell);
	close(wait_go);
	execvp(argv[0], argv);
	int e = errno;
	fprintf(stderr, "sockshim: %s: %s\n", argv[0], strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}

/* ---- the supervisor ---- */

static int g_notes = -1;

static void note(int what, int value)
{
	if (g_notes < 0)
		return;
	struct supserve_note n = { what, value };
	while (write(g_notes, &n, sizeof(n)) < 0 && errno == EINTR) {
	}
	if (what != SUPSERVE_TARGET) {
		close(g_notes); /* the launcher exits on it: nothing more to say */
		g_notes = -1;
	}
}

static _Noreturn void give_up(int status)
{
	note(SUPSERVE_ENDED, status);
	_exit(0);
}

/* Start the command; its notification fd, or -1 (reported, reaped). */
static int start(char **argv, const struct sfilter_want *w, const sigset_t *app_mask, pid_t *pid_out)
{
	int up[2], down[2], status = 0;
	if (pipe2(up, O_CLOEXEC) < 0 || pipe2(down, O_CLOEXEC) < 0) {
		perror("sockshim: pipe");
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		perror("sockshim: fork");
		return -1;
	}
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		command(argv, w, app_mask, up[1], down[0]);
	}
	close(up[1]);
	close(down[0]);
	signal(SIGPIPE, SIG_IGN); /* after fork: the command keeps its own disposition */

	int msg = 0, notify = -1;
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	ssize_t n = read(up[0], &msg, sizeof(msg));
	if (n == (ssize_t)sizeof(msg) && msg >= 0 && pidfd >= 0)
		notify = (int)syscall(SYS_pidfd_getfd, pidfd, msg, 0);
	if (pidfd >= 0)
		close(pidfd);
	close(up[0]);
	if (notify < 0) {
		int e = n != (ssize_t)sizeof(msg) ? EIO : msg < 0 ? -msg : errno;
		fprintf(stderr, "sockshim: --seccomp: cannot supervise (%s): %s\n",
			msg < 0 ? "seccomp user notification, kernel >= 5.9" : "pidfd_getfd", strerror(e));
		close(down[1]);
		waitpid(pid, &status, 0);
		return -1;
	}
	*pid_out = pid;
	note(SUPSERVE_TARGET, pid);
	char go = 1;
	if (write(down[1], &go, 1) != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		close(notify);
		return -1;
	}
	close(down[1]);
	return notify;
}

/* Out of the launcher's session and terminal, stdin and stdout on
 * /dev/null, and stderr too unless the log is there: a caller reading the
 * launcher's output through a pipe is not held open by us. */
static void detach(void)
{
	setsid();
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		if (!ss_log_on_stderr())
			dup2(null, 2);
		if (null > 2)
			close(null);
	}
	sigset_t term;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_UNBLOCK, &term, NULL);
}

static bool orphaned(int notify, int wait_ms)
{
	struct pollfd pf = { notify, 0, 0 }; /* POLLHUP is always reported */
	while (poll(&pf, 1, wait_ms) < 0 && errno == EINTR) {
	}
	return pf.revents & (POLLHUP | POLLERR | POLLNVAL);
}

static void log_pid(const char *event, const char *key, pid_t pid, const char *msg)
{
	char v[16];
	struct fmt f;
	fmt_init(&f, v, sizeof(v));
	fmt_u64(&f, (uint64_t)pid);
	ss_log_event(SS_LEVEL_INFO, event, "msg", msg, key, v, NULL);
}

_Noreturn void supserve_run(char **argv, const struct sfilter_want *w, struct ss_policy *p, bool dry_run,
			    const sigset_t *app_mask, int notes)
{
	g_notes = notes;
	ss_log_set_pid(getpid());
	/* what the command leaves behind becomes our child, not init's */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	int cfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);

	pid_t target = -1;
	int notify = cfd >= 0 ? start(argv, w, app_mask, &target) : -1;
	if (notify < 0) {
		if (cfd < 0)
			perror("sockshim: signalfd");
		give_up(EX_NOSUPERVISOR << 8); /* a wait status of exit 125 */
	}
	detach();

	char traps[128];
	sfilter_describe(w, traps, sizeof(traps));
	char cpid[16];
	struct fmt f;
	fmt_init(&f, cpid, sizeof(cpid));
	fmt_u64(&f, (uint64_t)target);
	ss_log_event(SS_LEVEL_DEBUG, "supervise", "target", cpid, "calls", traps, NULL);

	supcall_setup(notify, p, dry_run);
	/* a thread receives the calls; this loop waits for POLLHUP and SIGCHLD */
	bool threaded = supcall_start();
	bool done = false, hup = false, summed = false;
	struct pollfd pf[2] = { { notify, threaded ? 0 : POLLIN, 0 }, { cfd, POLLIN, 0 } };
	for (;;) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if ((threaded && pf[0].fd >= 0 && supcall_broken()) || (pf[0].revents & POLLIN)) {
			if (threaded || !supcall_handle()) {
				/* the fd is broken: closing it makes the calls
				 * sent from now on fail (ENOSYS) instead of
				 * waiting forever */
				ss_log_event(SS_LEVEL_ERROR, "supervise", "msg",
					     "the notification fd failed: supervised calls fail with ENOSYS", NULL);
				close(notify);
				notify = pf[0].fd = -1;
				hup = true;
			}
		} else if (pf[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			pf[0].fd = -1; /* no process carries the filter any more */
			hup = true;
		}
		if (pf[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(cfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			}
			int st;
			pid_t r;
			while ((r = waitpid(-1, &st, WNOHANG)) > 0) {
				if (r != target)
					continue;
				done = true;
				if (!hup && !orphaned(notify, ORPHAN_GRACE_MS)) {
					log_pid("supervise", "supervisor", getpid(),
						"the command exited; what it left running stays supervised");
					note(SUPSERVE_LEFT_BEHIND, st);
				} else {
					hup = true;
					pf[0].fd = -1;
					ss_reload_summary("seccomp");
					summed = true;
					note(SUPSERVE_ENDED, st);
				}
			}
		}
		if (done && hup)
			break;
	}
	if (!summed)
		ss_reload_summary("seccomp");
	note(SUPSERVE_ENDED, EX_NOSUPERVISOR << 8); /* only when the loop failed before the command ended */
	_exit(0);
}

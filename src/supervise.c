/*
 * supervise: start the target under the seccomp filter, answer its calls
 * until it exits, and end as it ended (see supervise.h).
 *
 * The child installs the filter (sfilter.h) and tells us the notification
 * fd's number through a pipe; we take the fd with pidfd_getfd() and only then
 * let it exec, so no call of the target is ever sent before someone listens.
 * The loop polls three things: the notification fd (supcall.h answers each
 * call, blocking ones in worker threads), the child's pidfd (it exited), and
 * a signalfd of the signals we pass on to it.
 */
#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fmt.h"
#include "log.h"
#include "policy.h"
#include "setup.h"
#include "sfilter.h"
#include "supcall.h"

#define EX_NOSUPERVISOR 125

/* The usable policy into *out (NULL: every call passes through); 0 or the
 * exit status to stop with. Read and reported as the preload does. */
static int load_policy(const char *program, struct ss_policy **out, bool *dry)
{
	struct ss_setup s;
	*out = NULL;
	int rc = ss_setup_load(&s);
	if (rc)
		return rc < 0 ? EX_NOSUPERVISOR : rc;
	/* `program` is matched per call against the calling process */
	ss_policy_bind_program(s.policy, program, NULL);
	ss_setup_rotation(&s);
	*dry = s.policy->global.dry_run;
	ss_setup_started(&s, program, NULL, "seccomp");
	if (s.usable)
		*out = s.policy;
	return 0;
}

/* ---- the child ---- */

static void child(char **argv, const struct sfilter_want *w, const sigset_t *mask, int tell, int wait_go)
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

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

/* End as the target ended. */
static int pass_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		struct rlimit no_core = { 0, 0 };
		setrlimit(RLIMIT_CORE, &no_core); /* the target dumped its own */
		signal(sig, SIG_DFL);
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, sig);
		sigprocmask(SIG_UNBLOCK, &s, NULL);
		kill(getpid(), sig);
		return 128 + sig;
	}
	return 1;
}

int ss_supervise(char **argv)
{
	if (!argv || !argv[0])
		return 127;
	struct ss_policy *p = NULL;
	bool dry = false;
	int rc = load_policy(ss_base_name(argv[0]), &p, &dry);
	if (rc)
		return rc;
	struct sfilter_want w = { 0, false, false, ss_log_enabled(SS_LEVEL_DEBUG) };
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

	sigset_t fwd, old;
	sigemptyset(&fwd);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&fwd, forwarded[i]);
	sigprocmask(SIG_BLOCK, &fwd, &old);

	int up[2], down[2];
	if (pipe2(up, O_CLOEXEC) < 0 || pipe2(down, O_CLOEXEC) < 0) {
		perror("sockshim: pipe");
		return EX_NOSUPERVISOR;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		perror("sockshim: fork");
		return EX_NOSUPERVISOR;
	}
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		child(argv, &w, &old, up[1], down[0]);
	}
	close(up[1]);
	close(down[0]);
	signal(SIGPIPE, SIG_IGN); /* after fork: the target keeps its own disposition */

	int msg = 0, notify = -1, status = 0;
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	ssize_t n = read(up[0], &msg, sizeof(msg));
	if (n == (ssize_t)sizeof(msg) && msg >= 0 && pidfd >= 0)
		notify = (int)syscall(SYS_pidfd_getfd, pidfd, msg, 0);
	if (notify < 0) {
		int e = n != (ssize_t)sizeof(msg) ? EIO : msg < 0 ? -msg : errno;
		fprintf(stderr, "sockshim: --seccomp: cannot supervise (%s): %s\n",
			msg < 0 ? "seccomp user notification, kernel >= 5.9" : "pidfd_getfd", strerror(e));
		close(down[1]);
		waitpid(pid, &status, 0);
		return EX_NOSUPERVISOR;
	}
	char go = 1;
	if (write(down[1], &go, 1) != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return EX_NOSUPERVISOR;
	}
	close(down[1]);
	close(up[0]);

	char traps[128];
	sfilter_describe(&w, traps, sizeof(traps));
	char cpid[16];
	struct fmt f;
	fmt_init(&f, cpid, sizeof(cpid));
	fmt_u64(&f, (uint64_t)pid);
	ss_log_event(SS_LEVEL_DEBUG, "supervise", "target", cpid, "calls", traps, NULL);

	supcall_setup(notify, p, dry);
	int sfd = signalfd(-1, &fwd, SFD_CLOEXEC | SFD_NONBLOCK);
	struct pollfd pf[3] = { { notify, POLLIN, 0 }, { pidfd, POLLIN, 0 }, { sfd, POLLIN, 0 } };
	for (;;) {
		if (poll(pf, sfd >= 0 ? 3 : 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (sfd >= 0 && (pf[2].revents & POLLIN)) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				/* a terminal's signal reached the whole process group
				 * already; pass on only what was sent to us alone */
				if (si.ssi_code == SI_USER || si.ssi_code == SI_QUEUE)
					kill(pid, (int)si.ssi_signo);
			}
		}
		if (pf[0].revents & POLLIN) {
			if (!supcall_handle()) {
				/* the fd is broken: closing it makes the target's
				 * sent calls fail (ENOSYS) instead of waiting forever */
				close(notify);
				pf[0].fd = -1;
			}
		} else if (pf[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			pf[0].fd = -1;
		}
		if (pf[1].revents & POLLIN)
			break;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	ss_setup_summary(p, "seccomp");
	return pass_status(status);
}

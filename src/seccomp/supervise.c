/*
 * supervise: the launcher's side of `sockshim --seccomp` (see supervise.h).
 *
 * It reads the policy, forks the supervising process (supserve.h), which
 * starts the command under the filter and answers its calls, and waits for
 * the note of the command's end: its pid first, so that signals sent to us
 * are passed on to it, then its wait status, with which we end at once. When
 * the command left processes that still carry the filter (a daemon), the
 * supervising process goes on serving them after we are gone.
 */
#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#include "log.h"
#include "policy.h"
#include "reload.h"
#include "setup.h"
#include "sfilter.h"
#include "supserve.h"


/* The base name of the file cmd runs (found on PATH as execvp finds it,
 * links resolved), as the preload's start line says exe=; NULL if none. */
static const char *exe_of(const char *cmd, char *out, size_t cap)
{
	char path[PATH_MAX], real[PATH_MAX];
	const char *found = NULL;
	if (strchr(cmd, '/')) {
		found = cmd;
	} else {
		const char *dirs = getenv("PATH");
		for (const char *d = dirs ? dirs : "/usr/local/bin:/usr/bin:/bin"; d && !found;) {
			const char *colon = strchr(d, ':');
			int n = colon ? (int)(colon - d) : (int)strlen(d);
			if (snprintf(path, sizeof(path), "%.*s/%s", n, n ? d : ".", cmd) < (int)sizeof(path) &&
			    access(path, X_OK) == 0)
				found = path;
			d = colon ? colon + 1 : NULL;
		}
	}
	if (!found || !realpath(found, real) || strlen(ss_base_name(real)) >= cap)
		return NULL;
	strcpy(out, ss_base_name(real));
	return out;
}

/* Rules this front end cannot carry out, said once (this process reads the
 * policy once for every process the command starts): a name lookup happens
 * inside the program, where no system call shows it (`sockshim check` names
 * each rule). */
static void warn_names(const struct ss_policy *p)
{
	unsigned n = 0;
	for (unsigned i = 0; i < p->nrules; i++)
		n += (p->rules[i].ops & SS_OPBIT(SS_OP_RESOLVE)) || p->rules[i].nhosts;
	if (n)
		fprintf(stderr, "sockshim: warning: %s: %u rule%s on name lookups (on = resolve, host) do nothing under --seccomp: "
			"lookups happen inside the program and are never seen\n", p->path, n, n == 1 ? "" : "s");
}

/* The usable policy into *out (NULL: every call passes through); 0 or the
 * exit status to stop with. Read and reported as the preload does. */
static int load_policy(const char *cmd, struct ss_policy **out, bool *dry)
{
	const char *program = ss_base_name(cmd);
	char exe[256];
	struct ss_setup s;
	*out = NULL;
	int rc = ss_setup_load(&s);
	if (rc)
		return rc < 0 ? EX_NOSUPERVISOR : rc;
	/* `program` is matched per call against the calling process */
	ss_policy_bind_program(s.policy, program, NULL);
	ss_setup_started(&s, program, exe_of(cmd, exe, sizeof(exe)), "seccomp");
	ss_setup_rotation(&s);
	*dry = s.policy->global.dry_run;
	ss_reload_start(&s, program, NULL, false, "seccomp");
	if (s.usable) {
		warn_names(s.policy);
		*out = s.policy;
	}
	return 0;
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
	int rc = load_policy(argv[0], &p, &dry);
	if (rc)
		return rc;
	/* the filter is installed once: a reload may bring rules for any call */
	struct sfilter_want w = sfilter_want_of(p, atomic_load_explicit(&ss_reload_next, memory_order_relaxed),
						ss_log_enabled(SS_LEVEL_DEBUG));

	sigset_t fwd, old;
	sigemptyset(&fwd);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&fwd, forwarded[i]);
	sigprocmask(SIG_BLOCK, &fwd, &old);

	int notes[2];
	if (pipe2(notes, O_CLOEXEC) < 0) {
		perror("sockshim: pipe");
		return EX_NOSUPERVISOR;
	}
	fflush(NULL);
	pid_t sup = fork();
	if (sup < 0) {
		perror("sockshim: fork");
		return EX_NOSUPERVISOR;
	}
	if (sup == 0) {
		close(notes[0]);
		supserve_run(argv, &w, p, dry, &old, notes[1]);
	}
	close(notes[1]);

	pid_t target = -1;
	int tfd = -1; /* a pidfd of the target: a signal never reaches a reused pid */
	int status = EX_NOSUPERVISOR << 8;
	bool sup_ends = true; /* it ends with the command: wait for it */
	int sfd = signalfd(-1, &fwd, SFD_CLOEXEC | SFD_NONBLOCK);
	struct pollfd pf[2] = { { notes[0], POLLIN, 0 }, { sfd, POLLIN, 0 } };
	for (;;) {
		if (poll(pf, sfd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (sfd >= 0 && (pf[1].revents & POLLIN)) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				/* a terminal's signal reached the whole process group
				 * already; pass on only what was sent to us alone */
				if (tfd >= 0 && (si.ssi_code == SI_USER || si.ssi_code == SI_QUEUE))
					syscall(SYS_pidfd_send_signal, tfd, (int)si.ssi_signo, NULL, 0);
			}
		}
		if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		struct supserve_note n;
		ssize_t got = read(notes[0], &n, sizeof(n));
		if (got < 0 && errno == EINTR)
			continue;
		if (got != (ssize_t)sizeof(n)) {
			fprintf(stderr, "sockshim: --seccomp: the supervisor ended before the command%s\n",
				target > 0 ? ": its socket calls now fail (ENOSYS)" : "");
			break;
		}
		if (n.what == SUPSERVE_TARGET) {
			target = n.value;
			tfd = (int)syscall(SYS_pidfd_open, target, 0); /* it waits for its go: alive */
			continue;
		}
		status = n.value;
		sup_ends = n.what == SUPSERVE_ENDED;
		break;
	}
	int st;
	while (waitpid(sup, &st, sup_ends ? 0 : WNOHANG) < 0 && errno == EINTR) {
	}
	return pass_status(status);
}

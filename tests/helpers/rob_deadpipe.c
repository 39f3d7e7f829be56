/*
 * rob_deadpipe: run a command whose stderr is a pipe nobody reads, with
 * SIGPIPE at its default action and unblocked. Prints how the command
 * ended: "exit=N", "signal=NAME", or "hung" (killed after SECONDS).
 * Run it bare; put the shim in the command's environment.
 *
 *   rob_deadpipe [-n SECONDS] COMMAND [ARG...]
 *
 * By default the read end is closed before the command starts, so any write
 * to stderr fails with EPIPE and raises SIGPIPE, which kills the command.
 * With -n the read end stays open but is never read, as by a parent that
 * reads its child's stderr only after the child exits: once the pipe
 * buffer (64 KiB) is full, a write to stderr blocks.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int secs = 0, arg = 1;
	if (argc > 3 && strcmp(argv[1], "-n") == 0) {
		secs = atoi(argv[2]);
		arg = 3;
	}
	if (argc <= arg) {
		fprintf(stderr, "usage: rob_deadpipe [-n SECONDS] COMMAND [ARG...]\n");
		return 2;
	}
	int p[2];
	if (pipe(p) < 0)
		return 1;
	if (!secs)
		close(p[0]);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		sigset_t s;
		sigemptyset(&s);
		sigprocmask(SIG_SETMASK, &s, NULL);
		if (secs)
			close(p[0]);
		dup2(p[1], 2);
		close(p[1]);
		execvp(argv[arg], argv + arg);
		_exit(127);
	}
	close(p[1]);
	int st;
	for (int waited = 0;; waited++) {
		pid_t r = waitpid(pid, &st, secs ? WNOHANG : 0);
		if (r == pid)
			break;
		if (r < 0)
			return 1;
		if (waited >= secs * 100) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			printf("hung\n");
			return 0;
		}
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	if (WIFEXITED(st))
		printf("exit=%d\n", WEXITSTATUS(st));
	else
		printf("signal=%s\n", sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?");
	return 0;
}

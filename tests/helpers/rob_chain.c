/*
 * rob_chain: a chain of processes made by exec, fork, vfork and posix_spawn,
 * each of which connects once, for the lifecycle tests.
 *
 *   rob_chain PORT [STEP...]
 *
 * Every image (a fresh exec of rob_chain) prints "image pid=P prog=rob_chain",
 * then connects to 127.0.0.1:PORT and prints "connect pid=P local=IP:PORT"
 * (getsockname; or "connect pid=P failed errno=E"), closes with an RST, and
 * carries out the first STEP with the remaining ones:
 *   exec      execv(itself, rest): a new image, the same pid
 *   fork      fork(); the child goes on with rest in this image (it prints
 *             "forked pid=C" and connects again); the parent waits
 *   forkexec  fork(); the child execv's itself with rest
 *   vfork     vfork(); the child execv's itself with rest
 *   spawn     posix_spawn(itself, rest)
 *   sh        exec /bin/sh -c, which prints "image pid=P prog=sh" and exec's
 *             rob_chain with rest (sh itself makes no connection)
 *   py        exec $CHAIN_PY (a python3 path), which prints its image line,
 *             connects and prints like rob_chain, then os.execv's rob_chain
 *             with rest
 * A parent exits with its child's status (128+N for a signal), so the first
 * process's status is the whole chain's. stdout is unbuffered: no child
 * repeats a parent's output.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *port_arg;
static char self[PATH_MAX];

static void connect_once(void)
{
	struct sockaddr_in a, me;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)atoi(port_arg));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		printf("connect pid=%d failed errno=%s\n", (int)getpid(), strerrorname_np(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	socklen_t len = sizeof(me);
	memset(&me, 0, sizeof(me));
	getsockname(fd, (struct sockaddr *)&me, &len);
	char ip[INET_ADDRSTRLEN] = "?";
	inet_ntop(AF_INET, &me.sin_addr, ip, sizeof(ip));
	printf("connect pid=%d local=%s:%u\n", (int)getpid(), ip, ntohs(me.sin_port));
	struct linger lg = { 1, 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* argv for the next rob_chain image: rob_chain PORT rest... */
static char **next_argv(char **rest, int nrest, int extra, char **out)
{
	int i = extra; /* out[0..extra-1]: the caller's */
	out[i++] = "rob_chain";
	out[i++] = (char *)port_arg;
	for (int k = 0; k < nrest; k++)
		out[i++] = rest[k];
	out[i] = NULL;
	return out;
}

static int status_of(pid_t pid)
{
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return 125;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: rob_chain PORT [exec|fork|forkexec|vfork|spawn|sh|py...]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	port_arg = argv[1];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 2;
	self[n] = '\0';
	printf("image pid=%d prog=rob_chain\n", (int)getpid());

	char **steps = argv + 2;
	int nsteps = argc - 2;
	char *av[64];
	if (nsteps > 50)
		return 2;
	for (;;) {
		connect_once();
		if (nsteps == 0)
			return 0;
		const char *step = steps[0];
		char **rest = steps + 1;
		int nrest = nsteps - 1;
		if (strcmp(step, "exec") == 0) {
			execv(self, next_argv(rest, nrest, 0, av));
			printf("exec-failed errno=%s\n", strerrorname_np(errno));
			return 126;
		} else if (strcmp(step, "fork") == 0) {
			pid_t pid = fork();
			if (pid == 0) {
				printf("forked pid=%d\n", (int)getpid());
				steps = rest;
				nsteps = nrest;
				continue;
			}
			return status_of(pid);
		} else if (strcmp(step, "forkexec") == 0 || strcmp(step, "vfork") == 0) {
			next_argv(rest, nrest, 0, av);
			pid_t pid = step[0] == 'f' ? fork() : vfork();
			if (pid == 0) {
				execv(self, av);
				_exit(126);
			}
			return status_of(pid);
		} else if (strcmp(step, "spawn") == 0) {
			pid_t pid;
			int rc = posix_spawn(&pid, self, NULL, NULL, next_argv(rest, nrest, 0, av), environ);
			if (rc != 0) {
				printf("spawn-failed errno=%s\n", strerrorname_np(rc));
				return 126;
			}
			return status_of(pid);
		} else if (strcmp(step, "sh") == 0) {
			next_argv(rest, nrest, 3, av);
			av[0] = "sh";
			av[1] = "-c";
			av[2] = "echo \"image pid=$$ prog=sh\"; exec \"$CHAIN_SELF\" \"$@\"";
			/* $0 is av[3] ("rob_chain"), "$@" is PORT rest... */
			setenv("CHAIN_SELF", self, 1);
			execv("/bin/sh", av);
			printf("exec-failed errno=%s\n", strerrorname_np(errno));
			return 126;
		} else if (strcmp(step, "py") == 0) {
			const char *py = getenv("CHAIN_PY");
			if (!py)
				return 2;
			next_argv(rest, nrest, 3, av);
			av[0] = (char *)py; /* a path: python finds its prefix from it */
			av[1] = "-c";
			av[2] = "import os, socket, struct, sys\n"
				"print('image pid=%d prog=%s' % (os.getpid(), os.path.basename(os.environ['CHAIN_PY'])), flush=True)\n"
				"s = socket.socket()\n"
				"s.connect(('127.0.0.1', int(sys.argv[2])))\n"
				"print('connect pid=%d local=%s:%d' % ((os.getpid(),) + s.getsockname()), flush=True)\n"
				"s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))\n"
				"s.close()\n"
				"os.execv(os.environ['CHAIN_SELF'], sys.argv[1:])\n";
			/* sys.argv: ['-c', 'rob_chain', PORT, rest...] */
			setenv("CHAIN_SELF", self, 1);
			execv(py, av);
			printf("exec-failed errno=%s\n", strerrorname_np(errno));
			return 126;
		} else {
			fprintf(stderr, "rob_chain: unknown step %s\n", step);
			return 2;
		}
	}
}

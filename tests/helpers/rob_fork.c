/*
 * rob_fork: a parent and a child each connect once, for the fork tests.
 *
 *   rob_fork MODE PORT [PROGRAM ARG...]
 *
 * The parent connects to 127.0.0.1:PORT and prints "parent pid=P local=A:B".
 * Then, by MODE:
 *   fork, _Fork   the child connects the same way and prints
 *                 "child pid=C local=A:B"; then the parent connects again
 *                 and prints "parent-again pid=P local=A:B"
 *   vfork, spawn  the child (vfork+execv, or posix_spawn) runs PROGRAM ARG...
 *                 and the parent prints "child pid=C"
 * and finally "child-status=N" (the child's exit status, or "signal=N").
 * Every connection is closed with an RST so its port is free at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static int port;

static void connect_once(const char *who)
{
	struct sockaddr_in a, me;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		printf("%s pid=%d connect-failed errno=%s\n", who, (int)getpid(), strerrorname_np(errno));
		close(fd);
		return;
	}
	socklen_t len = sizeof(me);
	getsockname(fd, (struct sockaddr *)&me, &len);
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &me.sin_addr, ip, sizeof(ip));
	printf("%s pid=%d local=%s:%u\n", who, (int)getpid(), ip, ntohs(me.sin_port));
	struct linger lg = { 1, 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static void report(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) < 0)
		printf("child-status=wait-failed\n");
	else if (WIFEXITED(st))
		printf("child-status=%d\n", WEXITSTATUS(st));
	else
		printf("child-status=signal=%d\n", WTERMSIG(st));
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: rob_fork fork|_Fork|vfork|spawn PORT [PROGRAM ARG...]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0); /* nothing buffered for a child to repeat */
	const char *mode = argv[1];
	port = atoi(argv[2]);
	connect_once("parent");

	pid_t pid;
	if (strcmp(mode, "fork") == 0 || strcmp(mode, "_Fork") == 0) {
		pid = mode[0] == 'f' ? fork() : _Fork();
		if (pid == 0) {
			connect_once("child");
			_exit(0);
		}
		report(pid);
		connect_once("parent-again");
		return 0;
	}
	if (argc < 4)
		return 2;
	if (strcmp(mode, "vfork") == 0) {
		pid = vfork();
		if (pid == 0) {
			execv(argv[3], argv + 3);
			_exit(127);
		}
	} else if (strcmp(mode, "spawn") == 0) {
		int rc = posix_spawn(&pid, argv[3], NULL, NULL, argv + 3, environ);
		if (rc != 0) {
			printf("spawn-failed errno=%s\n", strerrorname_np(rc));
			return 1;
		}
	} else {
		return 2;
	}
	printf("child pid=%d\n", (int)pid);
	report(pid);
	return 0;
}

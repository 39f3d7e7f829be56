/*
 * eintr_close: a blocking TCP connect to IP:PORT interrupted by SIGALRM
 * after 1 s (a handler without SA_RESTART), then the fd closed, as a
 * program that gives up on a slow connect does; then it stays alive for
 * SECS seconds, so that what is left of the attempt can be looked at.
 *
 *   eintr_close IP PORT SECS
 *
 * Prints "connect rc=R errno=NAME" and "closed".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void on_alarm(int sig)
{
	(void)sig;
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &a.sin_addr) != 1)
		return 2;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm; /* no SA_RESTART: connect returns EINTR */
	sigaction(SIGALRM, &sa, NULL);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return 1;
	alarm(1);
	int rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
	int err = rc < 0 ? errno : 0;
	close(fd);
	printf("connect rc=%d errno=%s\nclosed\n", rc, err ? strerrorname_np(err) : "0");
	fflush(stdout);
	sleep((unsigned)atoi(argv[3]));
	return 0;
}

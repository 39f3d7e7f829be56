/*
 * static_server: a plain TCP server for the seccomp front end's tests, meant
 * to be linked statically (gcc -static), so no LD_PRELOAD can reach it.
 *
 *   static_server NAME ADDR PORT SECONDS
 *
 * Binds ADDR:PORT without setting any option itself, listens, prints
 * "NAME listening reuseport=N" (N: SO_REUSEPORT as the kernel reports it),
 * then answers "NAME\n" to each connection and closes it. On SIGTERM, or
 * after SECONDS, prints "NAME served=N" and exits 0. A failed bind prints
 * "NAME bind-failed ERRNO" and exits 3.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: static_server NAME ADDR PORT SECONDS\n");
		return 2;
	}
	const char *name = argv[1];
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)atoi(argv[3]));
	if (inet_pton(AF_INET, argv[2], &a.sin_addr) != 1)
		return 2;
	long seconds = atol(argv[4]);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 64) < 0) {
		printf("%s bind-failed %s\n", name, strerrorname_np(errno) ? strerrorname_np(errno) : "?");
		return 3;
	}
	int rp = 0;
	socklen_t l = sizeof(rp);
	getsockopt(s, SOL_SOCKET, SO_REUSEPORT, &rp, &l);
	printf("%s listening reuseport=%d\n", name, rp ? 1 : 0);

	long served = 0;
	time_t end = time(NULL) + seconds;
	while (!stop && time(NULL) < end) {
		struct pollfd pf = { s, POLLIN, 0 };
		if (poll(&pf, 1, 100) <= 0)
			continue;
		int c = accept(s, NULL, NULL);
		if (c < 0)
			continue;
		served++;
		char line[64];
		int n = snprintf(line, sizeof(line), "%s\n", name);
		if (write(c, line, (size_t)n) < 0) {
		}
		close(c);
	}
	printf("%s served=%ld\n", name, served);
	return 0;
}

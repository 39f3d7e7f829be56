/*
 * daemon_client: a program that daemonizes the classic way, for the seccomp
 * front end's daemon test (built with gcc -static).
 *
 *   daemon_client GOFILE OUTFILE ADDR PORT DENYADDR DENYPORT
 *
 * The foreground process forks and exits 0 at once; the child calls setsid()
 * and forks again, and exits; the grandchild (the daemon) puts its stdio on
 * /dev/null, writes "pid N" to OUTFILE, then waits (at most 20 s) until
 * GOFILE exists. Then it connects to ADDR:PORT and to DENYADDR:DENYPORT and
 * appends what the kernel said about each to OUTFILE:
 *   pinned rc=R errno=NAME local=IP:PORT
 *   denied rc=R errno=NAME
 *   done
 * and exits 0. A call the kernel refuses as an unknown system call (ENOSYS:
 * no supervisor behind the filter) shows as errno=ENOSYS.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *ename(int e)
{
	switch (e) {
	case 0: return "0";
	case ENOSYS: return "ENOSYS";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ENETUNREACH: return "ENETUNREACH";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	default: return "other";
	}
}

static int try_connect(const char *ip, int port, char *local, size_t size)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, ip, &a.sin_addr);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		return -1;
	int rc = connect(s, (struct sockaddr *)&a, sizeof(a));
	int e = errno;
	struct sockaddr_in l;
	socklen_t len = sizeof(l);
	if (local && getsockname(s, (struct sockaddr *)&l, &len) == 0) {
		char ipb[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &l.sin_addr, ipb, sizeof(ipb));
		snprintf(local, size, "%s:%u", ipb, ntohs(l.sin_port));
	}
	close(s);
	errno = e;
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: daemon_client GOFILE OUTFILE ADDR PORT DENYADDR DENYPORT\n");
		return 2;
	}
	pid_t p = fork();
	if (p < 0)
		return 1;
	if (p > 0)
		return 0; /* the foreground: done at once */
	setsid();
	p = fork();
	if (p != 0)
		_exit(p < 0);
	int null = open("/dev/null", O_RDWR);
	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	FILE *out = fopen(argv[2], "a");
	if (!out)
		_exit(1);
	fprintf(out, "pid %d\n", (int)getpid());
	fflush(out);
	for (int i = 0; i < 2000 && access(argv[1], F_OK) != 0; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	char local[64] = "-";
	int rc = try_connect(argv[3], atoi(argv[4]), local, sizeof(local));
	fprintf(out, "pinned rc=%d errno=%s local=%s\n", rc, ename(rc ? errno : 0), local);
	rc = try_connect(argv[5], atoi(argv[6]), NULL, 0);
	fprintf(out, "denied rc=%d errno=%s\n", rc, ename(rc ? errno : 0));
	fprintf(out, "done\n");
	fclose(out);
	return 0;
}

/*
 * nodump: TCP connects from a process that may make itself non-dumpable
 * first, for the test of a supervisor the kernel refuses access to
 * (tests/e2e/95-seccomp-unreachable.sh). Built with gcc -static there.
 *
 *   nodump [-d] [-n N] ADDR PORT     (IPv4)
 *   -d  prctl(PR_SET_DUMPABLE, 0) before anything else
 * One line per connect: "connect rc=R errno=E local=IP:PORT".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int c, n = 1;
	while ((c = getopt(argc, argv, "dn:")) != -1) {
		switch (c) {
		case 'd':
			if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
				perror("prctl");
				return 1;
			}
			break;
		case 'n': n = atoi(optarg); break;
		default: return 2;
		}
	}
	if (argc - optind != 2)
		return 2;
	struct sockaddr_in to;
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons((unsigned short)atoi(argv[optind + 1]));
	if (inet_pton(AF_INET, argv[optind], &to.sin_addr) != 1)
		return 2;
	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int rc = connect(fd, (struct sockaddr *)&to, sizeof(to));
		int err = rc < 0 ? errno : 0;
		struct sockaddr_in me;
		socklen_t l = sizeof(me);
		char ip[INET_ADDRSTRLEN] = "?";
		if (getsockname(fd, (struct sockaddr *)&me, &l) == 0)
			inet_ntop(AF_INET, &me.sin_addr, ip, sizeof(ip));
		printf("connect rc=%d errno=%s local=%s\n", rc, err ? strerror(err) : "0", ip);
		close(fd);
	}
	return 0;
}

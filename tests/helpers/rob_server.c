/*
 * rob_server: a plain TCP listener for the robustness tests. It prints the
 * peer address the kernel reports for every connection it accepts, one line
 * each ("peer IP:PORT"), closes each one at once (an orderly FIN: an RST
 * could reach a non-blocking client before it has seen its connect succeed),
 * and exits after N connections or after SECONDS of waiting, printing
 * "done accepted=N".
 *
 *   rob_server ADDR PORT N SECONDS
 *
 * Run it bare (not under the shim): it is the kernel's witness.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: rob_server ADDR PORT N SECONDS\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &a.sin_addr) != 1)
		return 2;
	long n = atol(argv[3]);
	long deadline = now_ms() + atol(argv[4]) * 1000L;

	int l = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 4096) < 0) {
		printf("listen-failed errno=%s\n", strerrorname_np(errno));
		return 1;
	}
	long got = 0;
	while (got < n) {
		long left = deadline - now_ms();
		if (left <= 0)
			break;
		struct pollfd p = { l, POLLIN, 0 };
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);
		int c = accept(l, (struct sockaddr *)&peer, &len);
		if (c < 0)
			continue;
		char ip[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof(ip));
		printf("peer %s:%u\n", ip, ntohs(peer.sin_port));
		close(c);
		got++;
	}
	printf("done accepted=%ld\n", got);
	return 0;
}

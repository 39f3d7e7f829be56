/*
 * sndtimeo_connect: one blocking TCP connect to IP:PORT with SO_SNDTIMEO
 * set to MS milliseconds, as a program bounds its connect.
 *
 *   sndtimeo_connect IP PORT MS
 *
 * Prints "connect rc=R errno=NAME t=S" (S: seconds the call took, to a
 * tenth).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

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
	long ms = atol(argv[3]);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return 1;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
	int err = rc < 0 ? errno : 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double t = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("connect rc=%d errno=%s t=%.1f\n", rc, err ? strerrorname_np(err) : "0", t);
	return 0;
}

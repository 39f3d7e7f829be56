/*
 * stall_probe: THREADS threads each make one blocking TCP connect to
 * IP:PORT with SO_SNDTIMEO of SECS seconds (0: none); 1 s after the start
 * one more thread connects to 127.0.0.1:PROBE_PORT (a live listener) and
 * times it: many slow connects must not hold up an unrelated one.
 *
 *   stall_probe THREADS SECS IP PORT PROBE_PORT
 *
 * Prints "probe rc=R t=S" and one line of "OK=n"/"NAME=n" per errno.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define NERR 200
static int secs, probe_port;
static struct sockaddr_in to;
static _Atomic unsigned counts[NERR];

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *run(void *arg)
{
	(void)arg;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return NULL;
	struct timeval tv = { secs, 0 };
	if (secs)
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	int e = connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0 ? errno : 0;
	close(fd);
	atomic_fetch_add(&counts[e < NERR ? e : NERR - 1], 1);
	return NULL;
}

static void *probe(void *arg)
{
	(void)arg;
	sleep(1);
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)probe_port);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	double t0 = now();
	int rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
	printf("probe rc=%d t=%.1f\n", rc, now() - t0);
	fflush(stdout);
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 6)
		return 2;
	int n = atoi(argv[1]);
	secs = atoi(argv[2]);
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons((unsigned short)atoi(argv[4]));
	probe_port = atoi(argv[5]);
	if (n < 1 || n > 4000 || inet_pton(AF_INET, argv[3], &to.sin_addr) != 1)
		return 2;
	static pthread_t t[4000];
	pthread_t pt;
	pthread_create(&pt, NULL, probe, NULL);
	for (int i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, run, NULL) != 0)
			return 1;
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	pthread_join(pt, NULL);
	const char *sep = "";
	for (int e = 0; e < NERR; e++) {
		if (counts[e]) {
			printf("%s%s=%u", sep, e ? strerrorname_np(e) : "OK", counts[e]);
			sep = " ";
		}
	}
	printf("\n");
	return 0;
}

/*
 * thr_connect: THREADS threads each make N blocking connects to IP:PORT
 * (socket, connect, close) and the errno of every connect is counted.
 *
 *   thr_connect THREADS N IP PORT
 *
 * Prints one line: "OK=n" and "NAME=n" per errno, in errno order, then
 * "socket-failed=n" when socket() itself failed.
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
#include <unistd.h>

#define NERR 200
static int n_each;
static struct sockaddr_in to;
static _Atomic unsigned counts[NERR], socket_failed;

static void *run(void *arg)
{
	(void)arg;
	for (int i = 0; i < n_each; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0) {
			atomic_fetch_add(&socket_failed, 1);
			continue;
		}
		int e = connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0 ? errno : 0;
		close(fd);
		atomic_fetch_add(&counts[e < NERR ? e : NERR - 1], 1);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: thr_connect THREADS N IP PORT\n");
		return 2;
	}
	int nt = atoi(argv[1]);
	n_each = atoi(argv[2]);
	to.sin_family = AF_INET;
	to.sin_port = htons((unsigned short)atoi(argv[4]));
	if (nt < 1 || nt > 1000 || inet_pton(AF_INET, argv[3], &to.sin_addr) != 1)
		return 2;
	pthread_t t[1000];
	for (int i = 0; i < nt; i++)
		if (pthread_create(&t[i], NULL, run, NULL) != 0)
			return 1;
	for (int i = 0; i < nt; i++)
		pthread_join(t[i], NULL);
	const char *sep = "";
	for (int e = 0; e < NERR; e++) {
		if (counts[e]) {
			printf("%s%s=%u", sep, e ? strerrorname_np(e) : "OK", counts[e]);
			sep = " ";
		}
	}
	if (socket_failed)
		printf("%ssocket-failed=%u", sep, socket_failed);
	printf("\n");
	return 0;
}

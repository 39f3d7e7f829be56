/*
 * fd_churn: threads that open, configure and close sockets at once, so fd
 * numbers move between threads (one closes an fd, another's socket() gets
 * the number at once), for the concurrency tests.
 *
 *   fd_churn THREADS ROUNDS
 *
 * Each thread, ROUNDS times: socket (TCP or UDP, IPv4 or IPv6 in turn),
 * three setsockopt calls (SO_KEEPALIVE, SO_RCVBUF, TCP_NODELAY or
 * SO_REUSEADDR), dup of every fourth socket, close. The threads share
 * nothing but the fd table. Prints "sockets=N setsockopt-failed=N
 * close-failed=N" and exits 0.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static int rounds;
static atomic_int made, opt_failed, close_failed;

static void *churn(void *arg)
{
	int id = (int)(long)arg;
	for (int i = 0; i < rounds; i++) {
		int tcp = (i + id) % 3 != 0, v6 = (i / 3) % 2;
		int s = socket(v6 ? AF_INET6 : AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
		if (s < 0)
			continue;
		atomic_fetch_add(&made, 1);
		int one = 1, buf = 65536;
		if (setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) < 0)
			atomic_fetch_add(&opt_failed, 1);
		if (setsockopt(s, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf)) < 0)
			atomic_fetch_add(&opt_failed, 1);
		if ((tcp ? setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one))
			 : setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one))) < 0)
			atomic_fetch_add(&opt_failed, 1);
		if (i % 4 == 0) {
			int d = dup(s);
			if (d >= 0 && close(d) < 0)
				atomic_fetch_add(&close_failed, 1);
		}
		if (close(s) < 0)
			atomic_fetch_add(&close_failed, 1);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	rounds = argc > 2 ? atoi(argv[2]) : 1000;
	if (n < 1 || n > 64 || rounds < 1) {
		fprintf(stderr, "usage: fd_churn THREADS ROUNDS\n");
		return 2;
	}
	pthread_t t[64];
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, churn, (void *)(long)i);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	printf("sockets=%d setsockopt-failed=%d close-failed=%d\n", atomic_load(&made), atomic_load(&opt_failed),
	       atomic_load(&close_failed));
	return 0;
}

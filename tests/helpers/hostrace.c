/*
 * hostrace THREADS ROUNDS PORT NAMES: THREADS threads each, ROUNDS times,
 * look up a random one of good-I.test / bad-I.test (I < NAMES, AF_INET)
 * and connect to the answer at PORT, so that many threads re-record the
 * same names while others match connects against them. Prints
 * "bad_denied=N bad_other=N good=N lookupfail=N": bad_other counts bad
 * connects that did not fail with EACCES (a deny-by-host that failed open).
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int rounds, names;
static const char *port;
static atomic_int bad_denied, bad_other, good, lookupfail;

static void *run(void *arg)
{
	unsigned seed = (unsigned)(size_t)arg;
	for (int r = 0; r < rounds; r++) {
		int i = rand_r(&seed) % names, is_good = rand_r(&seed) & 1;
		char name[64];
		snprintf(name, sizeof(name), "%s-%d.test", is_good ? "good" : "bad", i);
		struct addrinfo h = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res;
		if (getaddrinfo(name, port, &h, &res)) {
			lookupfail++;
			continue;
		}
		int s = socket(AF_INET, SOCK_STREAM, 0);
		int rc = connect(s, res->ai_addr, res->ai_addrlen), e = errno;
		freeaddrinfo(res);
		close(s);
		if (is_good)
			good++;
		else if (rc < 0 && e == EACCES)
			bad_denied++;
		else
			bad_other++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: hostrace THREADS ROUNDS PORT NAMES\n");
		return 2;
	}
	int n = atoi(argv[1]);
	rounds = atoi(argv[2]), port = argv[3], names = atoi(argv[4]);
	pthread_t t[64];
	if (n < 1 || n > 64 || names < 1)
		return 2;
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, run, (void *)(size_t)(i * 7919 + 1));
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	printf("bad_denied=%d bad_other=%d good=%d lookupfail=%d\n", bad_denied, bad_other, good, lookupfail);
	return 0;
}

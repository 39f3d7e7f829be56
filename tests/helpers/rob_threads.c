/*
 * rob_threads: many threads connecting at once, for the robustness tests.
 *
 *   rob_threads PORT THREADS CONNECTS [LO-HI]
 *
 * Listens on 127.0.0.1:PORT, then THREADS threads each make CONNECTS
 * blocking connects to it: socket, connect, getsockname, read the one byte
 * the server sends, close with an RST (SO_LINGER 0). The accept thread
 * sends that byte, waits for the RST and closes: the server never resets a
 * connection whose connect() may still be returning, and neither side keeps
 * a TIME_WAIT. Prints what the kernel said:
 *   connect ok=N fail=N                 (plus "errno NAME=N" per failure kind)
 *   no-byte-from-server=N               (connections that carried nothing)
 *   client-local IP=N ...               (getsockname after connect)
 *   server-peer IP=N ...                (accept's peer address)
 *   outside-window client=N server=N    (ports outside LO-HI, when given)
 *   accepted=N
 *   fds before=N after=N                (entries of /proc/self/fd)
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MAXIP 16

struct tally {
	pthread_mutex_t mu;
	uint32_t ip[MAXIP];
	long n[MAXIP];
	int nip;
};

static struct tally client_ips = { PTHREAD_MUTEX_INITIALIZER, { 0 }, { 0 }, 0 };
static struct tally server_ips = { PTHREAD_MUTEX_INITIALIZER, { 0 }, { 0 }, 0 };
static _Atomic long no_byte, ok_count, fail_count, accepted, client_out, server_out;
static _Atomic long errs[200];
static _Atomic int clients_done;
static int port, nconn, lo = -1, hi = -1, lfd;

static void tally_add(struct tally *t, uint32_t ip)
{
	pthread_mutex_lock(&t->mu);
	int i;
	for (i = 0; i < t->nip; i++)
		if (t->ip[i] == ip)
			break;
	if (i == t->nip && t->nip < MAXIP)
		t->ip[t->nip++] = ip;
	if (i < MAXIP)
		t->n[i]++;
	pthread_mutex_unlock(&t->mu);
}

static void tally_print(const char *label, struct tally *t)
{
	printf("%s", label);
	for (int i = 0; i < t->nip; i++) {
		struct in_addr a = { t->ip[i] };
		printf(" %s=%ld", inet_ntoa(a), t->n[i]);
	}
	putchar('\n');
}

static int outside(unsigned p)
{
	return lo >= 0 && (p < (unsigned)lo || p > (unsigned)hi);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 3; /* ".", ".." and the directory's own fd */
}

static void *server(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd p = { lfd, POLLIN, 0 };
		if (poll(&p, 1, 100) <= 0) {
			if (atomic_load(&clients_done) && atomic_load(&accepted) >= atomic_load(&ok_count))
				break;
			continue;
		}
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);
		int c = accept(lfd, (struct sockaddr *)&peer, &len);
		if (c < 0)
			continue;
		tally_add(&server_ips, peer.sin_addr.s_addr);
		if (outside(ntohs(peer.sin_port)))
			atomic_fetch_add(&server_out, 1);
		char b = 'x';
		struct timeval tv = { 5, 0 };
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (write(c, &b, 1) == 1)
			while (read(c, &b, 1) > 0) {
			}
		close(c);
		atomic_fetch_add(&accepted, 1);
	}
	return NULL;
}

static void *client(void *arg)
{
	(void)arg;
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < nconn; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			int e = errno;
			atomic_fetch_add(&fail_count, 1);
			atomic_fetch_add(&errs[e < 200 ? e : 0], 1);
			continue;
		}
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			int e = errno;
			atomic_fetch_add(&fail_count, 1);
			atomic_fetch_add(&errs[e < 200 ? e : 0], 1);
			close(fd);
			continue;
		}
		atomic_fetch_add(&ok_count, 1);
		struct sockaddr_in me;
		socklen_t len = sizeof(me);
		if (getsockname(fd, (struct sockaddr *)&me, &len) == 0) {
			tally_add(&client_ips, me.sin_addr.s_addr);
			if (outside(ntohs(me.sin_port)))
				atomic_fetch_add(&client_out, 1);
		}
		/* the server's byte (bounded wait), then an RST: no TIME_WAIT */
		struct timeval tv = { 5, 0 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		char b;
		if (read(fd, &b, 1) != 1)
			atomic_fetch_add(&no_byte, 1);
		struct linger lg = { 1, 0 };
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: rob_threads PORT THREADS CONNECTS [LO-HI]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	port = atoi(argv[1]);
	int nthr = atoi(argv[2]);
	nconn = atoi(argv[3]);
	if (argc > 4 && sscanf(argv[4], "%d-%d", &lo, &hi) != 2)
		return 2;
	if (nthr < 1 || nthr > 256)
		return 2;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 4096) < 0) {
		printf("listen-failed errno=%s\n", strerrorname_np(errno));
		return 1;
	}
	int before = count_fds();
	pthread_t srv, thr[256];
	pthread_create(&srv, NULL, server, NULL);
	for (int i = 0; i < nthr; i++)
		pthread_create(&thr[i], NULL, client, NULL);
	for (int i = 0; i < nthr; i++)
		pthread_join(thr[i], NULL);
	atomic_store(&clients_done, 1);
	pthread_join(srv, NULL);
	int after = count_fds();

	printf("connect ok=%ld fail=%ld\n", atomic_load(&ok_count), atomic_load(&fail_count));
	printf("no-byte-from-server=%ld\n", atomic_load(&no_byte));
	for (int e = 0; e < 200; e++)
		if (atomic_load(&errs[e]))
			printf("errno %s=%ld\n", strerrorname_np(e) ? strerrorname_np(e) : "?", atomic_load(&errs[e]));
	tally_print("client-local", &client_ips);
	tally_print("server-peer", &server_ips);
	if (lo >= 0)
		printf("outside-window client=%ld server=%ld\n", atomic_load(&client_out), atomic_load(&server_out));
	printf("accepted=%ld\n", atomic_load(&accepted));
	printf("fds before=%d after=%d\n", before, after);
	close(lfd);
	return 0;
}

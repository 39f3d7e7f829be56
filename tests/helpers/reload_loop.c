/*
 * reload_loop: threads that keep making the calls a policy reload changes,
 * for the reload test: what each round saw is printed as the kernel said it.
 *
 *   reload_loop OUT PORT STOPFILE [THREADS]
 *
 * Each thread (default 4), every 50 ms until STOPFILE exists (at most 2000
 * rounds): bind a TCP socket to 127.0.0.5:0 and read SO_REUSEPORT back,
 * then connect a fresh socket to 127.0.0.1:PORT. One line per round is
 * appended to OUT: "MS connect=OK|ERRNO reuseport=0|1".
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

static int g_out, g_port;
static const char *g_stop;

static const char *errname(int e)
{
	switch (e) {
	case EACCES: return "EACCES";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EPERM: return "EPERM";
	case ENETUNREACH: return "ENETUNREACH";
	default: return "OTHER";
	}
}

static void *run(void *arg)
{
	(void)arg;
	for (int i = 0; i < 2000 && access(g_stop, F_OK) != 0; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET };
		inet_pton(AF_INET, "127.0.0.5", &a.sin_addr);
		int b = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int rp = 0;
		socklen_t l = sizeof(rp);
		if (bind(b, (struct sockaddr *)&a, sizeof(a)) < 0 || getsockopt(b, SOL_SOCKET, SO_REUSEPORT, &rp, &l) < 0)
			rp = -1;
		close(b);
		inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
		a.sin_port = htons((uint16_t)g_port);
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		const char *c = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0 ? "OK" : errname(errno);
		close(s);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		char line[96];
		int n = snprintf(line, sizeof(line), "%lld connect=%s reuseport=%d\n",
				 (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, c, rp > 0 ? 1 : rp);
		if (write(g_out, line, (size_t)n) != n)
			return NULL;
		usleep(50000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	g_out = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	g_port = atoi(argv[2]);
	g_stop = argv[3];
	int n = argc > 4 ? atoi(argv[4]) : 4;
	pthread_t t[16];
	if (g_out < 0 || n < 1 || n > 16)
		return 2;
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, run, NULL);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return 0;
}

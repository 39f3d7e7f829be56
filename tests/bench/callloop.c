/*
 * callloop: N iterations of one socket call on loopback, timed, so a script
 * can compare the same loop bare and under the shim: its system calls
 * (strace -c), its instructions (callgrind) or its time.
 *
 *   callloop OP N [PORT]
 *
 *   OP           one iteration is
 *   socket       socket(AF_INET, SOCK_DGRAM) + close
 *   bind         socket + bind(127.0.0.1:0) + close
 *   connect      connect(127.0.0.1:PORT) on one UDP socket (a UDP connect
 *                only sets the default destination: no handshake, no packet)
 *   setsockopt   setsockopt(SO_REUSEADDR, 1) on one UDP socket
 *   sendto       sendto(127.0.0.1:PORT, 1 byte) on one unconnected UDP socket
 *
 * PORT (default 9300) is where a UDP socket of this program listens and is
 * never read: datagrams beyond its buffer are dropped by the kernel, and
 * sendto still succeeds. Everything outside the loop (that socket, the
 * iteration's own socket for connect/setsockopt/sendto) is set up the same
 * way for every N, so the difference between N and 2N is N iterations.
 *
 * The destination sockaddr lives on the stack, as in most programs. Prints
 * one line: op=OP n=N elapsed=S ns_per_iter=X failures=K (K calls that
 * returned -1; the first errno is named as first_errno=NAME).
 */
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

static long g_fail;
static int g_first_errno;

static void check(long rc)
{
	if (rc < 0) {
		if (!g_fail++)
			g_first_errno = errno;
	}
}

static int udp_socket(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		fprintf(stderr, "callloop: socket: %s\n", bench_errname(errno));
		exit(1);
	}
	return s;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: callloop socket|bind|connect|setsockopt|sendto N [PORT]\n");
		return 2;
	}
	const char *op = argv[1];
	long n = atol(argv[2]);
	struct sockaddr_in dst = bench_sin("127.0.0.1", argc == 4 ? argv[3] : "9300");
	struct sockaddr_in any = bench_sin("127.0.0.1", "0");

	int sink = udp_socket();
	if (bind(sink, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
		fprintf(stderr, "callloop: bind 127.0.0.1:%d: %s\n", ntohs(dst.sin_port), bench_errname(errno));
		return 1;
	}
	int s = udp_socket(); /* the socket of the one-socket loops */
	const int one = 1;
	double t0 = 0;

	if (strcmp(op, "socket") == 0) {
		t0 = bench_now();
		for (long i = 0; i < n; i++) {
			int f = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			check(f);
			check(close(f));
		}
	} else if (strcmp(op, "bind") == 0) {
		t0 = bench_now();
		for (long i = 0; i < n; i++) {
			int f = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			check(f);
			check(bind(f, (struct sockaddr *)&any, sizeof(any)));
			check(close(f));
		}
	} else if (strcmp(op, "connect") == 0) {
		t0 = bench_now();
		for (long i = 0; i < n; i++)
			check(connect(s, (struct sockaddr *)&dst, sizeof(dst)));
	} else if (strcmp(op, "setsockopt") == 0) {
		t0 = bench_now();
		for (long i = 0; i < n; i++)
			check(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	} else if (strcmp(op, "sendto") == 0) {
		t0 = bench_now();
		for (long i = 0; i < n; i++)
			check(sendto(s, "x", 1, 0, (struct sockaddr *)&dst, sizeof(dst)));
	} else {
		fprintf(stderr, "callloop: unknown OP %s\n", op);
		return 2;
	}
	double elapsed = bench_now() - t0;
	printf("op=%s n=%ld elapsed=%.6f ns_per_iter=%.1f failures=%ld first_errno=%s\n", op, n, elapsed,
	       n ? elapsed * 1e9 / (double)n : 0.0, g_fail, bench_errname(g_first_errno));
	return 0;
}

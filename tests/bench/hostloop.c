/*
 * hostloop: the loops of the name benchmarks (57-host.sh), timed, so the same
 * loop can be compared bare and under the shim (instructions: callgrind).
 *
 *   hostloop connect NAME N [PORT]
 *       one getaddrinfo(NAME, PORT, AF_INET, SOCK_DGRAM) before the loop,
 *       then N connects of one UDP socket to its first answer (a UDP connect
 *       only sets the default destination: no handshake, no packet). NAME
 *       may be numeric (no lookup: an address no lookup returned).
 *   hostloop resolve NAME N
 *       N rounds of getaddrinfo(NAME, "80", AF_INET, SOCK_STREAM) and
 *       freeaddrinfo.
 *
 * PORT (default 9300) is where a UDP socket of this program listens, never
 * read. Prints one line: op=OP n=N elapsed=S ns_per_iter=X failures=K.
 */
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: hostloop connect|resolve NAME N [PORT]\n");
		return 2;
	}
	const char *op = argv[1], *name = argv[2], *port = argc > 4 ? argv[4] : "9300";
	long n = atol(argv[3]), fail = 0;
	double t0;

	if (strcmp(op, "connect") == 0) {
		struct sockaddr_in sink_sa = bench_sin("127.0.0.1", port);
		int sink = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (bind(sink, (struct sockaddr *)&sink_sa, sizeof(sink_sa)) < 0) {
			fprintf(stderr, "hostloop: bind 127.0.0.1:%s: %s\n", port, bench_errname(errno));
			return 1;
		}
		struct addrinfo hints = {0}, *res = NULL;
		hints.ai_family = AF_INET;
		hints.ai_socktype = SOCK_DGRAM;
		int rc = getaddrinfo(name, port, &hints, &res);
		if (rc) {
			fprintf(stderr, "hostloop: getaddrinfo %s: %s\n", name, gai_strerror(rc));
			return 1;
		}
		struct sockaddr_in dst;
		memcpy(&dst, res->ai_addr, sizeof(dst));
		freeaddrinfo(res);
		int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		t0 = bench_now();
		for (long i = 0; i < n; i++)
			if (connect(s, (struct sockaddr *)&dst, sizeof(dst)) < 0)
				fail++;
	} else if (strcmp(op, "resolve") == 0) {
		t0 = bench_now();
		for (long i = 0; i < n; i++) {
			struct addrinfo hints = {0}, *res = NULL;
			hints.ai_family = AF_INET;
			hints.ai_socktype = SOCK_STREAM;
			if (getaddrinfo(name, "80", &hints, &res)) {
				fail++;
				continue;
			}
			freeaddrinfo(res);
		}
	} else {
		fprintf(stderr, "hostloop: unknown OP %s\n", op);
		return 2;
	}
	double elapsed = bench_now() - t0;
	printf("op=%s n=%ld elapsed=%.6f ns_per_iter=%.1f failures=%ld\n", op, n, elapsed,
	       n ? elapsed * 1e9 / (double)n : 0.0, fail);
	return 0;
}

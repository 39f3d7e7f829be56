/*
 * conncount ADDR PORT CAP SECONDS: open blocking TCP connections to ADDR:PORT
 * one after another and hold every one open, until the first error, CAP
 * connections, or SECONDS have passed. Prints one line:
 *
 *   count=N stop=WHY elapsed=S maxrss_kb=K sources=D nofile=L parked=P marks=M
 *
 * WHY is the errno name of the first failing socket()/connect(), "cap",
 * "time-limit" or "park-ERRNO". D is the number of distinct source addresses
 * the kernel reports (getsockname) for the connections made. Every
 * connection makes the same calls (socket, connect, getsockname), with or
 * without the shim, so the two runs differ only by what the shim adds.
 * M lists when each multiple of 25,000 was reached: "25000:0.71,50000:1.40"
 * (seconds since the first connect), "-" if none; the same goes to stderr as
 * progress.
 *
 * When RLIMIT_NOFILE cannot be raised to CAP, the connections are parked as
 * in-flight SCM_RIGHTS files (see bench.h): still open, still this
 * process's, but out of its fd table. One sendmsg per 250 connections, the
 * same in the bare and the shim run.
 *
 * The time limit is an interval timer whose handler (no SA_RESTART) breaks a
 * connect() that hangs, e.g. on a full accept queue.
 */
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bench.h"

#define MAX_SOURCES 256

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: conncount ADDR PORT CAP SECONDS\n");
		return 2;
	}
	struct sockaddr_in dst = bench_sin(argv[1], argv[2]);
	long cap = atol(argv[3]);
	double seconds = atof(argv[4]);
	long nofile = bench_raise_nofile();
	bool parking = nofile < cap + 64;
	struct bench_park pk;
	bench_park_init(&pk);
	char why_buf[48];
	char marks[1024] = "-";
	size_t mlen = 0;

	struct sigaction sa = { .sa_handler = on_alarm };
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { .it_value = { (time_t)seconds, (suseconds_t)((seconds - (time_t)seconds) * 1e6) } };
	setitimer(ITIMER_REAL, &it, NULL);

	uint32_t sources[MAX_SOURCES];
	unsigned nsources = 0;
	long count = 0;
	const char *why = "cap";
	double t0 = bench_now();

	while (count < cap) {
		if (timed_out) {
			why = "time-limit";
			break;
		}
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0) {
			why = bench_errname(errno);
			break;
		}
		if (connect(s, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
			why = timed_out && errno == EINTR ? "time-limit" : bench_errname(errno);
			close(s);
			break;
		}
		struct sockaddr_in me;
		socklen_t len = sizeof(me);
		if (getsockname(s, (struct sockaddr *)&me, &len) == 0) {
			unsigned i = 0;
			while (i < nsources && sources[i] != me.sin_addr.s_addr)
				i++;
			if (i == nsources && nsources < MAX_SOURCES)
				sources[nsources++] = me.sin_addr.s_addr;
		}
		count++;
		if (parking && bench_park(&pk, s) < 0) {
			snprintf(why_buf, sizeof(why_buf), "park-%s", bench_errname(errno));
			why = why_buf;
			break;
		}
		if (count % 25000 == 0) {
			double t = bench_now() - t0;
			fprintf(stderr, "conncount: %ld connections after %.1f s\n", count, t);
			if (mlen + 32 < sizeof(marks))
				mlen += (size_t)snprintf(marks + mlen, sizeof(marks) - mlen, "%s%ld:%.2f", mlen ? "," : "",
							 count, t);
		}
	}
	double elapsed = bench_now() - t0;

	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("count=%ld stop=%s elapsed=%.2f maxrss_kb=%ld sources=%u nofile=%ld parked=%ld marks=%s\n", count,
	       why, elapsed, ru.ru_maxrss, nsources, nofile, pk.parked, marks);
	fflush(stdout);
	/* the kernel closes the connections at exit */
	return 0;
}

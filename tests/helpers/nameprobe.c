/*
 * nameprobe: name lookups through libc, and connects to what they returned,
 * for the end-to-end tests of `on = resolve` and `host =`. Every step prints
 * what libc and the kernel answered, one line each.
 *
 *   nameprobe gai NAME [SERVICE [FAMILY [SOCKTYPE [FLAGS]]]]
 *       getaddrinfo; one line per entry "FAMILY SOCKTYPE PROTO ADDR PORT",
 *       or "error EAI_NAME". FAMILY: unspec inet inet6; SOCKTYPE: 0 stream
 *       dgram raw; FLAGS: a number. SERVICE "-" is NULL.
 *   nameprobe ghbn NAME              gethostbyname
 *   nameprobe ghbn2 NAME FAMILY      gethostbyname2
 *   nameprobe ghbn_r NAME BUFLEN     gethostbyname_r with a BUFLEN-byte buffer
 *   nameprobe ghbn2_r NAME FAMILY BUFLEN
 *       "name=N addrtype=F len=L addr=A,B..." or "error h_errno=NAME" (the
 *       _r forms: "rc=ERRNO h_errno=NAME" when they fail, ERANGE included)
 *   nameprobe connect NAME PORT [NAME PORT...]
 *       for each: getaddrinfo(NAME, SOCK_STREAM), connect to the first entry,
 *       "NAME PORT rc=R errno=E peer=ADDR:PORT" (getpeername)
 *   nameprobe fork NAME PORT
 *       the parent looks NAME up; a forked child connects to the address
 *       (it never looks anything up itself) and prints as connect does
 *   nameprobe threads NTHREADS N PORTBASE
 *       thread t (0..NTHREADS-1) looks up "svc-T.test" and connects to it at
 *       PORTBASE+t, N times, concurrently with the others; it checks each
 *       time that getpeername is 127.0.0.(10+t):PORTBASE+t. Even threads
 *       expect connects to succeed, odd ones ECONNREFUSED (a host rule).
 *       One line per thread: "thread T ok=N refused=N wrong=N lookupfail=N"
 *   nameprobe ghbn_thread NAME
 *       a thread calls gethostbyname and ends; once another thread has run
 *       and ended too, the first thread's hostent is read from main:
 *       "name=N addr=A" or "error h_errno=NAME"
 *   nameprobe reuse NAME [FLAGS]
 *       getaddrinfo(NAME, "80", SOCK_STREAM, FLAGS; FLAGS "null": NULL
 *       hints), "flags=0x.." per entry; then the first entry as the hints
 *       of getaddrinfo("localhost", "80"): "reuse ok" or "reuse EAI_NAME"
 *   nameprobe loop NAME N [leak]
 *       N getaddrinfo/freeaddrinfo rounds of NAME (for ASan and valgrind);
 *       "loop N entries=E errors=K". With "leak", the results are never
 *       freed: a leak checker must see it (the control of the clean run).
 *
 * Exit status 0 unless the arguments are bad (2).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <locale.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *eai_name(int e)
{
	switch (e) {
	case EAI_BADFLAGS: return "EAI_BADFLAGS";
	case EAI_NONAME: return "EAI_NONAME";
	case EAI_AGAIN: return "EAI_AGAIN";
	case EAI_FAIL: return "EAI_FAIL";
	case EAI_FAMILY: return "EAI_FAMILY";
	case EAI_SOCKTYPE: return "EAI_SOCKTYPE";
	case EAI_SERVICE: return "EAI_SERVICE";
	case EAI_MEMORY: return "EAI_MEMORY";
	case EAI_SYSTEM: return "EAI_SYSTEM";
	case EAI_OVERFLOW: return "EAI_OVERFLOW";
	case EAI_NODATA: return "EAI_NODATA";
	case EAI_ADDRFAMILY: return "EAI_ADDRFAMILY";
	default: return "EAI_?";
	}
}

static const char *herr_name(int h)
{
	switch (h) {
	case 0: return "0";
	case HOST_NOT_FOUND: return "HOST_NOT_FOUND";
	case TRY_AGAIN: return "TRY_AGAIN";
	case NO_RECOVERY: return "NO_RECOVERY";
	case NO_DATA: return "NO_DATA";
	case NETDB_INTERNAL: return "NETDB_INTERNAL";
	default: return "?";
	}
}

static int family_arg(const char *s)
{
	if (!strcmp(s, "inet"))
		return AF_INET;
	if (!strcmp(s, "inet6"))
		return AF_INET6;
	return atoi(s); /* a number: any family, a bad one included */
}

static const char *family_name(int f)
{
	return f == AF_INET ? "inet" : f == AF_INET6 ? "inet6" : "other";
}

static int socktype_arg(const char *s)
{
	if (!strcmp(s, "stream"))
		return SOCK_STREAM;
	if (!strcmp(s, "dgram"))
		return SOCK_DGRAM;
	if (!strcmp(s, "raw"))
		return SOCK_RAW;
	return atoi(s);
}

static const char *socktype_name(int t)
{
	return t == SOCK_STREAM ? "stream" : t == SOCK_DGRAM ? "dgram" : t == SOCK_RAW ? "raw" : "other";
}

/* "ADDR:PORT" or "[ADDR]:PORT" of a sockaddr */
static void fmt_sa(const struct sockaddr *sa, char *out, size_t n)
{
	char a[INET6_ADDRSTRLEN] = "?";
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		snprintf(out, n, "%s:%u", a, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		snprintf(out, n, "[%s]:%u", a, ntohs(in6->sin6_port));
	} else {
		snprintf(out, n, "family-%d", sa->sa_family);
	}
}

static int cmd_gai(int argc, char **argv)
{
	const char *name = argv[2];
	const char *svc = argc > 3 && strcmp(argv[3], "-") ? argv[3] : NULL;
	struct addrinfo hints = {0}, *res = NULL;
	hints.ai_family = argc > 4 ? family_arg(argv[4]) : AF_UNSPEC;
	hints.ai_socktype = argc > 5 ? socktype_arg(argv[5]) : 0;
	hints.ai_flags = argc > 6 ? atoi(argv[6]) : 0;
	int rc = getaddrinfo(name, svc, &hints, &res);
	if (rc) {
		printf("error %s\n", eai_name(rc));
		return 0;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		char a[INET6_ADDRSTRLEN] = "?";
		unsigned port = 0;
		if (ai->ai_family == AF_INET) {
			struct sockaddr_in *in = (void *)ai->ai_addr;
			inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
			port = ntohs(in->sin_port);
		} else if (ai->ai_family == AF_INET6) {
			struct sockaddr_in6 *in6 = (void *)ai->ai_addr;
			inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
			port = ntohs(in6->sin6_port);
		}
		printf("%s %s %d %s %u\n", family_name(ai->ai_family), socktype_name(ai->ai_socktype),
		       ai->ai_protocol, a, port);
	}
	freeaddrinfo(res);
	return 0;
}

static void print_hostent(const struct hostent *h)
{
	printf("name=%s addrtype=%s len=%d addr=", h->h_name ? h->h_name : "(null)",
	       family_name(h->h_addrtype), h->h_length);
	for (int i = 0; h->h_addr_list[i]; i++) {
		char a[INET6_ADDRSTRLEN] = "?";
		inet_ntop(h->h_addrtype, h->h_addr_list[i], a, sizeof(a));
		printf("%s%s", i ? "," : "", a);
	}
	printf("\n");
}

static int cmd_ghbn(int argc, char **argv)
{
	const char *op = argv[1], *name = argv[2];
	struct hostent *h;
	if (!strcmp(op, "ghbn")) {
		h_errno = 0;
		h = gethostbyname(name);
	} else if (!strcmp(op, "ghbn2")) {
		if (argc < 4)
			return 2;
		h_errno = 0;
		h = gethostbyname2(name, family_arg(argv[3]));
	} else {
		int two = !strcmp(op, "ghbn2_r");
		if (argc < (two ? 5 : 4))
			return 2;
		size_t len = (size_t)atol(argv[two ? 4 : 3]);
		char *buf = malloc(len ? len : 1);
		struct hostent he, *out = NULL;
		int herr = 0, rc;
		if (two)
			rc = gethostbyname2_r(name, family_arg(argv[3]), &he, buf, len, &out, &herr);
		else
			rc = gethostbyname_r(name, &he, buf, len, &out, &herr);
		if (rc || !out)
			printf("rc=%s h_errno=%s\n", rc == ERANGE ? "ERANGE" : rc ? strerror(rc) : "0",
			       herr_name(herr));
		else
			print_hostent(out);
		free(buf);
		return 0;
	}
	if (!h)
		printf("error h_errno=%s\n", herr_name(h_errno));
	else
		print_hostent(h);
	return 0;
}

/* look NAME up (SOCK_STREAM) and connect to its first answer; prints one line */
static void lookup_connect(const char *name, const char *port, int print_fail)
{
	struct addrinfo hints = {0}, *res = NULL;
	hints.ai_socktype = SOCK_STREAM;
	int rc = getaddrinfo(name, port, &hints, &res);
	if (rc) {
		if (print_fail)
			printf("%s %s lookup=%s\n", name, port, eai_name(rc));
		return;
	}
	int fd = socket(res->ai_family, SOCK_STREAM, 0);
	int c = connect(fd, res->ai_addr, res->ai_addrlen);
	int e = errno;
	char peer[80] = "-";
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (c == 0 && getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		fmt_sa((struct sockaddr *)&ss, peer, sizeof(peer));
	printf("%s %s rc=%d errno=%s peer=%s\n", name, port, c, c ? strerrorname_np(e) : "0", peer);
	close(fd);
	freeaddrinfo(res);
}

static int cmd_connect(int argc, char **argv)
{
	for (int i = 2; i + 1 < argc; i += 2)
		lookup_connect(argv[i], argv[i + 1], 1);
	return 0;
}

static int cmd_fork(char **argv)
{
	struct addrinfo hints = {0}, *res = NULL;
	hints.ai_socktype = SOCK_STREAM;
	int rc = getaddrinfo(argv[2], argv[3], &hints, &res);
	if (rc) {
		printf("parent lookup=%s\n", eai_name(rc));
		return 0;
	}
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		int fd = socket(res->ai_family, SOCK_STREAM, 0);
		int c = connect(fd, res->ai_addr, res->ai_addrlen);
		int e = errno;
		char peer[80] = "-";
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		if (c == 0 && getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
			fmt_sa((struct sockaddr *)&ss, peer, sizeof(peer));
		printf("child rc=%d errno=%s peer=%s\n", c, c ? strerrorname_np(e) : "0", peer);
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(p, &st, 0);
	freeaddrinfo(res);
	return 0;
}

struct worker {
	pthread_t tid;
	int t, n, portbase;
	int ok, refused, wrong, lookupfail;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	char name[32], port[16], want[40];
	snprintf(name, sizeof(name), "svc-%d.test", w->t);
	snprintf(port, sizeof(port), "%d", w->portbase + w->t);
	snprintf(want, sizeof(want), "127.0.0.%d:%d", 10 + w->t, w->portbase + w->t);
	for (int i = 0; i < w->n; i++) {
		struct addrinfo hints = {0}, *res = NULL;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_family = AF_INET;
		if (getaddrinfo(name, port, &hints, &res)) {
			w->lookupfail++;
			continue;
		}
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		int c = connect(fd, res->ai_addr, res->ai_addrlen);
		int e = errno;
		if (c == 0) {
			struct sockaddr_storage ss;
			socklen_t sl = sizeof(ss);
			char peer[80] = "-";
			if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
				fmt_sa((struct sockaddr *)&ss, peer, sizeof(peer));
			if (!strcmp(peer, want))
				w->ok++;
			else
				w->wrong++;
		} else if (e == ECONNREFUSED) {
			w->refused++;
		} else {
			w->wrong++;
		}
		close(fd);
		freeaddrinfo(res);
	}
	return NULL;
}

static int cmd_threads(char **argv)
{
	int nt = atoi(argv[2]), n = atoi(argv[3]), base = atoi(argv[4]);
	if (nt < 1 || nt > 64 || n < 1)
		return 2;
	struct worker *w = calloc((size_t)nt, sizeof(*w));
	for (int t = 0; t < nt; t++) {
		w[t].t = t;
		w[t].n = n;
		w[t].portbase = base;
		pthread_create(&w[t].tid, NULL, worker_run, &w[t]);
	}
	for (int t = 0; t < nt; t++) {
		pthread_join(w[t].tid, NULL);
		printf("thread %d ok=%d refused=%d wrong=%d lookupfail=%d\n", t, w[t].ok, w[t].refused,
		       w[t].wrong, w[t].lookupfail);
	}
	free(w);
	return 0;
}

static int cmd_loop(int argc, char **argv)
{
	long n = atol(argv[3]), entries = 0, errors = 0;
	int leak = argc > 4 && !strcmp(argv[4], "leak");
	for (long i = 0; i < n; i++) {
		struct addrinfo hints = {0}, *res = NULL;
		hints.ai_socktype = (i & 1) ? SOCK_STREAM : 0;
		hints.ai_family = (i % 3 == 0) ? AF_UNSPEC : (i % 3 == 1) ? AF_INET : AF_INET6;
		if (getaddrinfo(argv[2], (i & 2) ? "http" : "8080", &hints, &res)) {
			errors++;
			continue;
		}
		for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
			entries++;
		if (!leak)
			freeaddrinfo(res);
	}
	printf("loop %ld entries=%ld errors=%ld\n", n, entries, errors);
	return 0;
}

static void *ghbn_run(void *name)
{
	return gethostbyname(name);
}

static void *nop_run(void *arg)
{
	return arg;
}

static int cmd_ghbn_thread(char **argv)
{
	pthread_t t;
	void *r;
	pthread_create(&t, NULL, ghbn_run, argv[2]);
	pthread_join(t, &r);
	int herr = h_errno;
	pthread_create(&t, NULL, nop_run, NULL);
	pthread_join(t, NULL);
	struct hostent *h = r;
	if (!h) {
		printf("error h_errno=%s\n", herr_name(herr));
		return 0;
	}
	char a[INET6_ADDRSTRLEN] = "?";
	inet_ntop(h->h_addrtype, h->h_addr_list[0], a, sizeof(a));
	printf("name=%s addr=%s\n", h->h_name, a);
	return 0;
}

static int cmd_reuse(int argc, char **argv)
{
	struct addrinfo hints = {0}, *res = NULL, *res2 = NULL;
	hints.ai_socktype = SOCK_STREAM;
	bool null = argc > 3 && !strcmp(argv[3], "null");
	if (argc > 3 && !null)
		hints.ai_flags = (int)strtol(argv[3], NULL, 0);
	int rc = getaddrinfo(argv[2], "80", null ? NULL : &hints, &res);
	if (rc) {
		printf("error %s\n", eai_name(rc));
		return 0;
	}
	for (struct addrinfo *p = res; p; p = p->ai_next)
		printf("flags=0x%x\n", (unsigned)p->ai_flags);
	struct addrinfo again = *res;
	again.ai_next = NULL;
	again.ai_addr = NULL;
	again.ai_addrlen = 0;
	again.ai_canonname = NULL;
	rc = getaddrinfo("localhost", "80", &again, &res2);
	printf("reuse %s\n", rc ? eai_name(rc) : "ok");
	if (!rc)
		freeaddrinfo(res2);
	freeaddrinfo(res);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	setlocale(LC_ALL, ""); /* AI_IDN reads the name in the locale's charset */
	if (argc < 3)
		return 2;
	const char *op = argv[1];
	if (!strcmp(op, "gai"))
		return cmd_gai(argc, argv);
	if (!strcmp(op, "ghbn_thread"))
		return cmd_ghbn_thread(argv);
	if (!strncmp(op, "ghbn", 4))
		return cmd_ghbn(argc, argv);
	if (!strcmp(op, "connect"))
		return cmd_connect(argc, argv);
	if (!strcmp(op, "fork") && argc >= 4)
		return cmd_fork(argv);
	if (!strcmp(op, "threads") && argc >= 5)
		return cmd_threads(argv);
	if (!strcmp(op, "reuse"))
		return cmd_reuse(argc, argv);
	if (!strcmp(op, "loop") && argc >= 4)
		return cmd_loop(argc, argv);
	return 2;
}

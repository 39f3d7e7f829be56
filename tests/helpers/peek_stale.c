/*
 * peek_stale: socket calls naming memory that stopped being readable, or
 * that only looks like stack. Each case prints "NAME rc=R errno=E" per call;
 * the kernel says EFAULT for every unreadable address, and a shim that
 * reads it itself kills the program with SIGSEGV instead.
 *
 *   unmap    connect with an address on an mmap'd page, munmap the page,
 *            then connect, sendto and bind with the same address
 *   protect  the same, the page made PROT_NONE instead
 *   altstack a thread's signal handler runs on an alternate stack placed
 *            right below the thread's guard page and connects with an
 *            address in that guard page
 *   mainalt  the main thread's handler runs on an alternate stack placed
 *            below the main stack, with a PROT_NONE page just above it,
 *            and connects with an address on that page
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define ALT_SIZE 65536

static const struct sockaddr *target; /* what the handler connects to */

static void report(const char *name, int rc)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "%s rc=%d errno=%s\n", name, rc, rc < 0 ? strerrorname_np(errno) : "0");
	if (write(1, line, (size_t)n) < 0)
		_exit(3);
}

static void fill(struct sockaddr_in *a, int port)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static int stale(int unmap)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 2;
	struct sockaddr_in *a = (struct sockaddr_in *)(p + pg - sizeof(*a));
	fill(a, 1);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	report("connect-readable", connect(fd, (struct sockaddr *)a, sizeof(*a)));
	close(fd);
	if (unmap ? munmap(p, (size_t)pg) : mprotect(p, (size_t)pg, PROT_NONE))
		return 2;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	report("connect-gone", connect(fd, (struct sockaddr *)a, sizeof(*a)));
	close(fd);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	report("sendto-gone", (int)sendto(fd, "x", 1, 0, (struct sockaddr *)a, sizeof(*a)));
	report("bind-gone", bind(fd, (struct sockaddr *)a, sizeof(*a)));
	close(fd);
	return 0;
}

static void on_alt(int sig)
{
	(void)sig;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	report("connect-on-altstack", connect(fd, target, sizeof(struct sockaddr_in)));
	close(fd);
}

/* Run on_alt on an alternate stack at alt (ALT_SIZE bytes). */
static int raise_on(char *alt)
{
	stack_t ss = { .ss_sp = alt, .ss_size = ALT_SIZE };
	struct sigaction sa = { .sa_handler = on_alt, .sa_flags = SA_ONSTACK };
	if (sigaltstack(&ss, NULL) || sigaction(SIGUSR1, &sa, NULL))
		return 2;
	/* a connect first, off the alternate stack: the shim has seen this thread */
	struct sockaddr_in here;
	fill(&here, 1);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	report("connect-on-stack", connect(fd, (struct sockaddr *)&here, sizeof(here)));
	close(fd);
	return pthread_kill(pthread_self(), SIGUSR1) ? 2 : 0;
}

static void *thread_case(void *out)
{
	pthread_attr_t at;
	void *lo;
	size_t size, guard;
	if (pthread_getattr_np(pthread_self(), &at) || pthread_attr_getstack(&at, &lo, &size) ||
	    pthread_attr_getguardsize(&at, &guard) || guard == 0) {
		*(int *)out = 2;
		return NULL;
	}
	char *g = (char *)lo - guard; /* the guard page: PROT_NONE */
	char *alt = mmap(g - ALT_SIZE, ALT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (alt != g - ALT_SIZE) {
		*(int *)out = 2;
		return NULL;
	}
	target = (const struct sockaddr *)(g + 64);
	*(int *)out = raise_on(alt);
	return NULL;
}

/* The lowest address of the main stack, from /proc/self/maps. */
static uintptr_t main_stack_lo(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	uintptr_t lo = 0, hi;
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "[stack]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			break;
	if (f)
		fclose(f);
	return lo;
}

static int main_case(void)
{
	uintptr_t lo = main_stack_lo();
	if (!lo)
		return 2;
	/* an alternate stack and a PROT_NONE page above it, a few MiB below
	 * the main stack (the kernel keeps 1 MiB free below it) */
	for (uintptr_t off = 4 << 20; off <= 32 << 20; off += 4 << 20) {
		char *want = (char *)((lo - off) & ~(uintptr_t)0xffff);
		char *alt = mmap(want, ALT_SIZE + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (alt == MAP_FAILED)
			continue;
		if (alt != want || mprotect(alt + ALT_SIZE, 4096, PROT_NONE))
			return 2;
		target = (const struct sockaddr *)(alt + ALT_SIZE + 64);
		return raise_on(alt);
	}
	return 2;
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";
	if (!strcmp(c, "unmap") || !strcmp(c, "protect"))
		return stale(!strcmp(c, "unmap"));
	if (!strcmp(c, "altstack")) {
		pthread_t t;
		int rc = 2;
		if (pthread_create(&t, NULL, thread_case, &rc) || pthread_join(t, NULL))
			return 2;
		return rc;
	}
	if (!strcmp(c, "mainalt"))
		return main_case();
	fprintf(stderr, "usage: peek_stale unmap|protect|altstack|mainalt\n");
	return 2;
}

/*
 * rot_client: many connections to one destination, from many threads and
 * processes, reporting what the kernel says, for the rotation tests.
 *
 *   rot_client [options] ADDR PORT      (ADDR: 127.0.0.1 or [::ffff:127.0.0.1] ...)
 *   -P N   processes (fork, no exec; default 1)   -t N  threads per process (1)
 *   -n N   connections per thread (1)             -k    non-blocking connect
 *   -r     SO_REUSEADDR before connect            -x    close each at once (SO_LINGER 0)
 *   -o     set TCP_NODELAY, SO_KEEPALIVE, IP_TOS, SO_PRIORITY, TCP_KEEPIDLE before
 *          connect and check after it that the connected fd still has them
 *   -F     attach an accept-all socket filter before connect
 *   -u     UDP: connect, send, expect the server's echo on this socket
 *   -S     UDP without connect: the first sendto pins the source
 *   -6     AF_INET6 sockets
 *   -f F   append "IP PORT" (getsockname) of every connection to F
 *   -w S   keep the connections open S seconds after the last one
 * Prints (totals over every process and thread):
 *   ok=N fail=N
 *   errno NAME=N              (one line per errno of a failed connect)
 *   opts-lost=N reply-lost=N fd-changed=N
 *   fds-leaked=N              (open fds after closing everything, minus before)
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int nprocs = 1, nthreads = 1, nconn = 1, nonblock, reuse, linger0, opts, filter, udp, sendonly, v6, hold;
static const char *portfile;
static struct sockaddr_storage dest;
static socklen_t destlen;

struct totals {
	_Atomic long ok, fail, opts_lost, reply_lost, fd_changed, leaked;
	_Atomic long err[256];
};
static struct totals *tot;
static pthread_barrier_t start_line;

static const struct {
	int level, name, value;
} options[] = {
	{ IPPROTO_TCP, TCP_NODELAY, 1 },
	{ SOL_SOCKET, SO_KEEPALIVE, 1 },
	{ IPPROTO_IP, IP_TOS, IPTOS_LOWDELAY },
	{ SOL_SOCKET, SO_PRIORITY, 3 },
	{ IPPROTO_TCP, TCP_KEEPIDLE, 77 },
};

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 1; /* the DIR's own fd; "." and ".." count as the rest */
}

static void record_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	char ip[INET6_ADDRSTRLEN] = "?", line[96];
	unsigned port = 0;
	if (!portfile || getsockname(fd, (struct sockaddr *)&ss, &l) < 0)
		return;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (void *)&ss;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		port = ntohs(in->sin_port);
	} else {
		struct sockaddr_in6 *in6 = (void *)&ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		port = ntohs(in6->sin6_port);
	}
	int k = snprintf(line, sizeof(line), "%s %u\n", ip, port);
	int f = open(portfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (f >= 0) {
		if (write(f, line, (size_t)k) < 0)
			perror("rot_client");
		close(f);
	}
}

/* Connect fd; 0 or -1 with errno, waiting for a non-blocking connect. */
static int do_connect(int fd)
{
	if (connect(fd, (struct sockaddr *)&dest, destlen) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -1;
	struct pollfd p = { fd, POLLOUT, 0 };
	if (poll(&p, 1, 5000) != 1) {
		errno = ETIMEDOUT;
		return -1;
	}
	int err = 0;
	socklen_t l = sizeof(err);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
	errno = err;
	return err ? -1 : 0;
}

static void check_options(int fd)
{
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		int v = -1;
		socklen_t l = sizeof(v);
		if (options[i].level == IPPROTO_TCP && udp)
			continue;
		if (getsockopt(fd, options[i].level, options[i].name, &v, &l) < 0 || v != options[i].value) {
			tot->opts_lost++;
			return;
		}
	}
	if (nonblock && !(fcntl(fd, F_GETFL) & O_NONBLOCK))
		tot->opts_lost++;
	if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC))
		tot->opts_lost++;
}

/* UDP: send a token, expect it back on this very socket. -1 with errno when
 * the send itself fails. */
static int udp_roundtrip(int fd)
{
	char tok[64], back[64];
	int k = snprintf(tok, sizeof(tok), "%d-%d-%ld", getpid(), fd, (long)random());
	struct timeval tv = { 2, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ssize_t n;
	if (sendonly)
		n = sendto(fd, tok, (size_t)k, 0, (struct sockaddr *)&dest, destlen);
	else
		n = send(fd, tok, (size_t)k, 0);
	if (n != k)
		return -1;
	n = recv(fd, back, sizeof(back), 0);
	if (n != k || memcmp(tok, back, (size_t)k) != 0)
		tot->reply_lost++;
	return 0;
}

static void *worker(void *arg)
{
	(void)arg;
	int *held = calloc((size_t)nconn, sizeof(int));
	int nheld = 0;
	pthread_barrier_wait(&start_line);
	for (int i = 0; i < nconn; i++) {
		int type = (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0);
		int fd = socket(v6 ? AF_INET6 : AF_INET, type, 0);
		if (fd < 0) {
			tot->fail++;
			tot->err[errno & 255]++;
			continue;
		}
		int one = 1;
		if (reuse)
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (opts)
			for (size_t k = 0; k < sizeof(options) / sizeof(options[0]); k++)
				if (!(options[k].level == IPPROTO_TCP && udp))
					setsockopt(fd, options[k].level, options[k].name, &options[k].value, sizeof(int));
		if (filter) {
			struct sock_filter accept_all = BPF_STMT(BPF_RET | BPF_K, 0xffff);
			struct sock_fprog prog = { 1, &accept_all };
			setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
		}
		struct stat before, after;
		fstat(fd, &before);
		int rc = sendonly ? 0 : do_connect(fd);
		if (rc == 0 && udp)
			rc = udp_roundtrip(fd);
		if (rc < 0) {
			tot->fail++;
			tot->err[errno & 255]++;
			close(fd);
			continue;
		}
		tot->ok++;
		fstat(fd, &after);
		if (before.st_ino != after.st_ino)
			tot->fd_changed++; /* a fresh socket was put in place: fine, counted */
		if (opts)
			check_options(fd);
		record_port(fd);
		if (linger0) {
			struct linger lg = { 1, 0 };
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(fd);
		} else {
			held[nheld++] = fd;
		}
	}
	pthread_barrier_wait(&start_line);
	if (hold)
		sleep((unsigned)hold);
	for (int i = 0; i < nheld; i++)
		close(held[i]);
	free(held);
	return NULL;
}

static int run_process(void)
{
	int before = count_fds();
	pthread_t *th = calloc((size_t)nthreads, sizeof(pthread_t));
	pthread_barrier_init(&start_line, NULL, (unsigned)nthreads);
	for (int i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	free(th);
	tot->leaked += count_fds() - before;
	return 0;
}

static int parse_dest(const char *addr, const char *port)
{
	memset(&dest, 0, sizeof(dest));
	if (addr[0] == '[') {
		char host[64];
		snprintf(host, sizeof(host), "%.*s", (int)strcspn(addr + 1, "]"), addr + 1);
		struct sockaddr_in6 *in6 = (void *)&dest;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((unsigned short)atoi(port));
		destlen = sizeof(*in6);
		return inet_pton(AF_INET6, host, &in6->sin6_addr) == 1 ? 0 : -1;
	}
	struct sockaddr_in *in = (void *)&dest;
	in->sin_family = AF_INET;
	in->sin_port = htons((unsigned short)atoi(port));
	destlen = sizeof(*in);
	return inet_pton(AF_INET, addr, &in->sin_addr) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	int c;
	while ((c = getopt(argc, argv, "P:t:n:krxoFuS6f:w:")) != -1) {
		switch (c) {
		case 'P': nprocs = atoi(optarg); break;
		case 't': nthreads = atoi(optarg); break;
		case 'n': nconn = atoi(optarg); break;
		case 'k': nonblock = 1; break;
		case 'r': reuse = 1; break;
		case 'x': linger0 = 1; break;
		case 'o': opts = 1; break;
		case 'F': filter = 1; break;
		case 'u': udp = 1; break;
		case 'S': udp = sendonly = 1; break;
		case '6': v6 = 1; break;
		case 'f': portfile = optarg; break;
		case 'w': hold = atoi(optarg); break;
		default: return 2;
		}
	}
	if (argc - optind != 2 || parse_dest(argv[optind], argv[optind + 1]) < 0) {
		fprintf(stderr, "usage: rot_client [options] ADDR PORT\n");
		return 2;
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	tot = mmap(NULL, sizeof(*tot), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	srandom((unsigned)getpid());
	if (nprocs <= 1) {
		run_process();
	} else {
		for (int p = 0; p < nprocs; p++) {
			pid_t pid = fork();
			if (pid == 0) {
				srandom((unsigned)getpid());
				run_process();
				_exit(0);
			}
		}
		int st;
		while (wait(&st) > 0)
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
				tot->fail++;
	}
	printf("ok=%ld fail=%ld\n", (long)tot->ok, (long)tot->fail);
	for (int e = 1; e < 256; e++)
		if (tot->err[e])
			printf("errno %s=%ld\n", strerrorname_np(e) ? strerrorname_np(e) : "?", (long)tot->err[e]);
	printf("opts-lost=%ld reply-lost=%ld fd-changed=%ld\n", (long)tot->opts_lost, (long)tot->reply_lost,
	       (long)tot->fd_changed);
	printf("fds-leaked=%ld\n", (long)tot->leaked);
	return 0;
}

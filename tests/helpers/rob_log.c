/*
 * rob_log: an application that takes over the file descriptors the shim may
 * log to, then makes connects that a rule logs (PITFALLS 32).
 *
 *   rob_log MODE PORT [FILE]
 *
 * It listens on 127.0.0.1:PORT itself and makes 5 connects to it after the
 * takeover; then it writes its own line "app-own-line" to the fd it took over
 * (so FILE must end up holding exactly that line). MODE:
 *   close2      close(2), open FILE (lands on fd 2)
 *   dup2file    open FILE, dup2 it over fd 2
 *   dup2tcp     dup2 a connected TCP socket over fd 2; the bytes its peer
 *               receives are printed as "peer-received=<hex>"
 *   dup2unix    the same with a socketpair
 *   closerange  close_range(3, ~0U, 0), open FILE (lands on fd 3)
 *   closefrom   closefrom(3), open FILE
 *   closeloop   close() every fd from 3 to 1023, open FILE
 *   rawclose    syscall(SYS_close_range, 3, ~0U, 0), bypassing every hook
 *   dup2high    dup2 FILE over each open fd from 3 up (the shim's log fd
 *               among them)
 *   rawdup2     the same with syscall(SYS_dup3), bypassing every hook, then
 *               wait until the clock's second changes (the shim checks a
 *               log fd no hook saw touched once a second)
 * Prints "takeover fd=N" (the fd FILE or the socket got), "connects ok=N" and
 * "done"; exits 0.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int port;

static struct sockaddr_in lo_addr(void)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int listener(void)
{
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = lo_addr();
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 64) < 0) {
		printf("listen-failed errno=%s\n", strerrorname_np(errno));
		exit(1);
	}
	return l;
}

static int connect_one(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = lo_addr();
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(s);
		return -1;
	}
	return s;
}

static int connects(int l)
{
	int ok = 0;
	for (int i = 0; i < 5; i++) {
		int s = connect_one();
		if (s < 0)
			continue;
		ok++;
		int c = accept(l, NULL, NULL);
		close(c);
		close(s);
	}
	return ok;
}

static void own_line(int fd)
{
	static const char line[] = "app-own-line\n";
	if (write(fd, line, sizeof(line) - 1) != (ssize_t)(sizeof(line) - 1))
		printf("own-line-write-failed errno=%s\n", strerrorname_np(errno));
}

static int open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		printf("open-failed errno=%s\n", strerrorname_np(errno));
		exit(1);
	}
	return fd;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: rob_log MODE PORT [FILE]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *mode = argv[1], *file = argc > 3 ? argv[3] : NULL;
	port = atoi(argv[2]);
	int l = -1, fd = -1;

	if (strcmp(mode, "close2") == 0) {
		close(2);
		fd = open_file(file);
	} else if (strcmp(mode, "dup2file") == 0) {
		int f = open_file(file);
		fd = dup2(f, 2);
		close(f);
	} else if (strcmp(mode, "dup2tcp") == 0 || strcmp(mode, "dup2unix") == 0) {
		int pair[2];
		if (mode[4] == 't') {
			l = listener();
			pair[0] = connect_one();
			pair[1] = accept(l, NULL, NULL);
		} else if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0) {
			return 1;
		}
		fd = dup2(pair[0], 2);
		close(pair[0]);
		printf("takeover fd=%d\n", fd);
		if (l < 0)
			l = listener();
		printf("connects ok=%d\n", connects(l));
		own_line(2);
		close(2); /* the last reference: the peer sees EOF */
		char buf[4096];
		size_t got = 0;
		for (;;) {
			struct pollfd p = { pair[1], POLLIN, 0 };
			if (poll(&p, 1, 2000) <= 0)
				break;
			ssize_t n = read(pair[1], buf + got, sizeof(buf) - got);
			if (n <= 0)
				break;
			got += (size_t)n;
			if (got == sizeof(buf))
				break;
		}
		printf("peer-received=");
		for (size_t i = 0; i < got; i++)
			printf("%02x", (unsigned char)buf[i]);
		printf("\ndone\n");
		return 0;
	} else if (strcmp(mode, "closerange") == 0) {
		close_range(3, ~0U, 0);
		fd = open_file(file);
	} else if (strcmp(mode, "closefrom") == 0) {
		closefrom(3);
		fd = open_file(file);
	} else if (strcmp(mode, "closeloop") == 0) {
		for (int i = 3; i < 1024; i++)
			close(i);
		fd = open_file(file);
	} else if (strcmp(mode, "rawclose") == 0) {
		syscall(SYS_close_range, 3, ~0U, 0);
		fd = open_file(file);
	} else if (strcmp(mode, "dup2high") == 0 || strcmp(mode, "rawdup2") == 0) {
		bool raw = mode[0] == 'r';
		fd = open_file(file);
		int fds[64], n = 0;
		DIR *d = opendir("/proc/self/fd");
		struct dirent *e;
		while (d && (e = readdir(d)) && n < 64) {
			int x = atoi(e->d_name);
			if (e->d_name[0] != '.' && x > 2 && x != fd && x != dirfd(d))
				fds[n++] = x;
		}
		if (d)
			closedir(d);
		for (int i = 0; i < n; i++) {
			if (raw)
				syscall(SYS_dup3, fd, fds[i], 0);
			else
				dup2(fd, fds[i]);
			printf("dup2-over fd=%d\n", fds[i]);
		}
		if (raw) {
			/* CLOCK_REALTIME as the shim's time stamps (time() is coarse) */
			struct timespec t0, t;
			clock_gettime(CLOCK_REALTIME, &t0);
			do {
				usleep(10000);
				clock_gettime(CLOCK_REALTIME, &t);
			} while (t.tv_sec == t0.tv_sec);
		}
	} else {
		fprintf(stderr, "rob_log: unknown mode %s\n", mode);
		return 2;
	}
	printf("takeover fd=%d\n", fd);
	l = listener();
	printf("connects ok=%d\n", connects(l));
	own_line(fd);
	close(fd);
	printf("done\n");
	return 0;
}

/*
 * rob_errno: a fixed table of socket calls, most of them failing, printing
 * exactly what each returned: "NAME rc=R errno=E". errno is set to a
 * sentinel (4242) before every call, so a successful call that changes errno
 * shows too. The output must be the same bare and under the shim with a
 * policy that changes nothing (PITFALLS 31).
 *
 *   rob_errno LISTEN_PORT CLOSED_PORT     the table
 *   rob_errno badptr                      calls given an invalid pointer, each
 *                                         in a child: "NAME rc=R errno=E" or
 *                                         "NAME killed-by-signal=N"
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SENTINEL 4242

static void show(const char *name, long rc)
{
	int e = errno;
	const char *en = e == SENTINEL ? "sentinel" : strerrorname_np(e);
	if (en)
		printf("%s rc=%ld errno=%s\n", name, rc, en);
	else
		printf("%s rc=%ld errno=%d\n", name, rc, e);
}

/* CALL(name, expr): run expr with errno = SENTINEL and print the outcome */
#define CALL(name, expr)                  \
	do {                              \
		errno = SENTINEL;         \
		long rc_ = (long)(expr);  \
		show(name, rc_ < 0 ? -1 : rc_ > 0 ? 1 : 0); \
	} while (0)

static struct sockaddr_in v4(const char *ip, int port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

#define SA(x) ((struct sockaddr *)&(x))

static int tcp(void) { return socket(AF_INET, SOCK_STREAM, 0); }
static int udp(void) { return socket(AF_INET, SOCK_DGRAM, 0); }

static void table(int lport, int cport)
{
	struct sockaddr_in lst = v4("127.0.0.1", lport), closed = v4("127.0.0.1", cport);
	struct sockaddr_in foreign = v4("192.0.2.1", 80), any = v4("127.0.0.1", 0);
	struct sockaddr_in6 six;
	memset(&six, 0, sizeof(six));
	six.sin6_family = AF_INET6;
	six.sin6_port = htons((unsigned short)lport);
	six.sin6_addr = in6addr_loopback;
	char b = 'x';
	int one = 1;

	int l = tcp();
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	CALL("listener-bind", bind(l, SA(lst), sizeof(lst)));
	CALL("listener-listen", listen(l, 64));

	int s = tcp();
	CALL("connect-refused", connect(s, SA(closed), sizeof(closed)));
	close(s);
	s = tcp();
	CALL("connect-unreachable", connect(s, SA(foreign), sizeof(foreign)));
	close(s);
	s = tcp();
	CALL("connect-short-len", connect(s, SA(lst), 4));
	CALL("connect-len-8", connect(s, SA(lst), 8));
	CALL("connect-v6-addr-on-v4", connect(s, SA(six), sizeof(six)));
	CALL("connect-null-addr", connect(s, NULL, sizeof(lst)));
	CALL("connect-null-addr-0", connect(s, NULL, 0));
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	CALL("connect-unspec", connect(s, &unspec, sizeof(unspec)));
	CALL("connect-ok", connect(s, SA(lst), sizeof(lst)));
	CALL("connect-again-isconn", connect(s, SA(lst), sizeof(lst)));
	CALL("bind-after-connect", bind(s, SA(any), sizeof(any)));
	CALL("listen-after-connect", listen(s, 1));
	CALL("close-ok", close(s));
	CALL("close-again", close(s));

	s = tcp();
	CALL("bind-foreign", bind(s, SA(foreign), sizeof(foreign)));
	CALL("bind-in-use", bind(s, SA(lst), sizeof(lst)));
	CALL("bind-short-len", bind(s, SA(any), 3));
	CALL("bind-null", bind(s, NULL, sizeof(any)));
	CALL("bind-ok", bind(s, SA(any), sizeof(any)));
	CALL("bind-twice", bind(s, SA(any), sizeof(any)));
	CALL("accept-not-listening", accept(s, NULL, NULL));
	CALL("accept4-bad-flags", accept4(l, NULL, NULL, 0x7fff0000));
	close(s);

	int nul = open("/dev/null", O_RDONLY);
	CALL("connect-not-socket", connect(nul, SA(lst), sizeof(lst)));
	CALL("bind-not-socket", bind(nul, SA(any), sizeof(any)));
	CALL("listen-not-socket", listen(nul, 1));
	CALL("setsockopt-not-socket", setsockopt(nul, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	CALL("sendto-not-socket", sendto(nul, &b, 1, 0, SA(closed), sizeof(closed)));
	close(nul);
	CALL("connect-bad-fd", connect(-1, SA(lst), sizeof(lst)));
	CALL("connect-closed-fd", connect(987, SA(lst), sizeof(lst)));
	CALL("bind-bad-fd", bind(987, SA(any), sizeof(any)));
	CALL("listen-bad-fd", listen(987, 1));
	CALL("setsockopt-bad-fd", setsockopt(987, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));

	s = tcp();
	CALL("setsockopt-bad-level", setsockopt(s, 12345, 1, &one, sizeof(one)));
	CALL("setsockopt-short", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, 1));
	CALL("setsockopt-reuseaddr-ok", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	CALL("setsockopt-reuseport-null", setsockopt(s, SOL_SOCKET, SO_REUSEPORT, NULL, sizeof(one)));
	CALL("sendto-tcp-unconnected", sendto(s, &b, 1, MSG_NOSIGNAL, NULL, 0));
	CALL("sendto-tcp-addr-unconnected", sendto(s, &b, 1, MSG_NOSIGNAL, SA(lst), sizeof(lst)));
	CALL("fastopen-refused", sendto(s, &b, 1, MSG_FASTOPEN | MSG_NOSIGNAL, SA(closed), sizeof(closed)));
	close(s);

	/* non-blocking connect: EINPROGRESS, then 0 once established, then EISCONN */
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CALL("nb-connect", connect(s, SA(lst), sizeof(lst)));
	struct pollfd p = { s, POLLOUT, 0 };
	poll(&p, 1, 2000);
	CALL("nb-connect-repeat", connect(s, SA(lst), sizeof(lst)));
	CALL("nb-connect-third", connect(s, SA(lst), sizeof(lst)));
	close(s);

	int u = udp();
	CALL("listen-udp", listen(u, 1));
	CALL("sendto-udp-port0", sendto(u, &b, 1, 0, SA(any), sizeof(any)));
	CALL("sendto-udp-unreachable", sendto(u, &b, 1, 0, SA(foreign), sizeof(foreign)));
	CALL("sendto-udp-short-len", sendto(u, &b, 1, 0, SA(closed), 5));
	CALL("sendto-udp-v6-addr", sendto(u, &b, 1, 0, SA(six), sizeof(six)));
	CALL("sendto-udp-ok", sendto(u, &b, 1, 0, SA(closed), sizeof(closed)));
	struct iovec iov = { &b, 1 };
	struct msghdr m = { .msg_name = &foreign, .msg_namelen = sizeof(foreign), .msg_iov = &iov, .msg_iovlen = 1 };
	CALL("sendmsg-udp-unreachable", sendmsg(u, &m, 0));
	m.msg_namelen = 3;
	CALL("sendmsg-udp-short-len", sendmsg(u, &m, 0));
	struct mmsghdr mm[2];
	memset(mm, 0, sizeof(mm));
	mm[0].msg_hdr.msg_name = &foreign;
	mm[0].msg_hdr.msg_namelen = sizeof(foreign);
	mm[0].msg_hdr.msg_iov = &iov;
	mm[0].msg_hdr.msg_iovlen = 1;
	mm[1] = mm[0];
	CALL("sendmmsg-udp-unreachable", sendmmsg(u, mm, 2, 0));
	mm[0].msg_hdr.msg_name = &closed;
	CALL("sendmmsg-udp-second-fails", sendmmsg(u, mm, 2, 0));
	close(u);
	u = udp();
	CALL("udp-connect-closed-port", connect(u, SA(closed), sizeof(closed)));
	CALL("udp-send-1", sendto(u, &b, 1, 0, NULL, 0));
	struct timespec ts = { 0, 20000000 };
	nanosleep(&ts, NULL);
	CALL("udp-send-2-refused", sendto(u, &b, 1, 0, NULL, 0));
	CALL("udp-disconnect", connect(u, &unspec, sizeof(unspec)));
	close(u);

	CALL("socket-bad-proto", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
	CALL("socket-bad-domain", socket(12345, SOCK_STREAM, 0));
	CALL("socket-bad-type", socket(AF_INET, 12345, 0));
	int sv[2];
	CALL("socketpair-inet", socketpair(AF_INET, SOCK_STREAM, 0, sv));
	CALL("socketpair-unix", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CALL("close-sv0", close(sv[0]));
	CALL("close-sv1", close(sv[1]));
	CALL("close-minus-1", close(-1));
	CALL("dup-bad", dup(-1));
	CALL("dup2-bad", dup2(-1, 50));
	CALL("dup2-same-bad", dup2(77, 77));
	s = tcp();
	CALL("dup3-same", dup3(s, s, 0));
	CALL("dup3-bad-flags", dup3(s, 60, 0x7ff));
	CALL("dup2-same-ok", dup2(s, s) == s ? 0 : -1);
	CALL("dup-ok-then-close", close(dup(s)));
	close(s);
	CALL("close-range-inverted", close_range(20, 10, 0));
	CALL("close-range-bad-flags", close_range(500, 600, 0x40000000));
	CALL("close-range-empty-ok", close_range(700, 800, 0));
	close(l);
}

/* Each call in a child, so a crash is reported instead of ending the table. */
static void guarded(const char *name, int which)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		void *bad = (void *)8;
		int s = which < 3 ? socket(AF_INET, SOCK_STREAM, 0) : socket(AF_INET, SOCK_DGRAM, 0);
		char b = 'x';
		errno = SENTINEL;
		long rc = which == 0 ? connect(s, bad, sizeof(struct sockaddr_in))
			: which == 1 ? bind(s, bad, sizeof(struct sockaddr_in))
			: which == 2 ? setsockopt(s, SOL_SOCKET, SO_REUSEADDR, bad, sizeof(int))
			: which == 3 ? sendto(s, &b, 1, 0, bad, sizeof(struct sockaddr_in))
				     : sendmsg(s, bad, 0);
		show(name, rc < 0 ? -1 : rc);
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st))
		printf("%s killed-by-signal=%s\n", name, sigabbrev_np(WTERMSIG(st)));
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && strcmp(argv[1], "badptr") == 0) {
		guarded("connect-bad-pointer", 0);
		guarded("bind-bad-pointer", 1);
		guarded("setsockopt-bad-pointer", 2);
		guarded("sendto-bad-pointer", 3);
		guarded("sendmsg-bad-pointer", 4);
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: rob_errno LISTEN_PORT CLOSED_PORT | rob_errno badptr\n");
		return 2;
	}
	table(atoi(argv[1]), atoi(argv[2]));
	return 0;
}

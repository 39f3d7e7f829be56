/*
 * diffcalls: a fixed table of edge-case and bad socket calls for the
 * differential test (tests/e2e/57-differential.sh). Each row runs in a
 * forked child that makes its own fds (and its own loopback listener where
 * it needs one), and prints exactly one line:
 *
 *   NAME rc=R errno=E         the row's last call (E from strerrorname_np,
 *                             "0" when the call succeeded)
 *   NAME killed=SIGNAME       the row died (a crash must show as a difference)
 *   NAME setup=STEP errno=E   a preparatory call failed, so the row proves nothing
 *
 * The output is the same on every run without the shim, and must be the
 * same under the shim with any policy that changes nothing (PITFALLS 31).
 *
 *   diffcalls            every row, in table order
 *   diffcalls NAME...    only these rows
 *
 * Calls that return a new fd report rc=0 on success: fd numbers are not part
 * of what libc promises. Only 127.0.0.1 and ::1 are ever connected or sent
 * to; 192.0.2.1 (TEST-NET-1) is only bound, to get EADDRNOTAVAIL.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SA(x) ((struct sockaddr *)&(x))
#define BAD_PTR ((void *)8) /* below mmap_min_addr: never mapped */
#define HUGE_FD 0x3fffffff  /* above any RLIMIT_NOFILE */

/* CALL(expr): the row's final call, with errno cleared just before it. */
#define CALL(expr) (errno = 0, (long)(expr))

static const char *row_name; /* the row this child runs */

static const char *err_name(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "unknown";
}

/* A preparatory step failed: say which and end the row. */
static void setup_failed(const char *step)
{
	printf("%s setup=%s errno=%s\n", row_name, step, err_name(errno));
	fflush(stdout);
	_exit(0);
}

static long need(long rc, const char *step)
{
	if (rc < 0)
		setup_failed(step);
	return rc;
}

/* A successful call that returns an fd reports 0 (see the header). */
static long fd_rc(long rc)
{
	return rc >= 0 ? 0 : rc;
}

/* ---- addresses and fds for the rows ---- */

static struct sockaddr_in v4(const char *ip, int port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

static struct sockaddr_in6 v6(const char *ip, int port)
{
	struct sockaddr_in6 a;
	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	a.sin6_port = htons((unsigned short)port);
	inet_pton(AF_INET6, ip, &a.sin6_addr);
	return a;
}

static int new_socket(int domain, int type, int protocol)
{
	return (int)need(socket(domain, type, protocol), "socket");
}

static int tcp4(void) { return new_socket(AF_INET, SOCK_STREAM, 0); }
static int tcp6(void) { return new_socket(AF_INET6, SOCK_STREAM, 0); }
static int udp4(void) { return new_socket(AF_INET, SOCK_DGRAM, 0); }

static int port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	need(getsockname(fd, SA(ss), &len), "getsockname");
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* A socket bound to 127.0.0.1 on a port the kernel picks. */
static int bound(int type)
{
	int fd = new_socket(AF_INET, type, 0);
	struct sockaddr_in a = v4("127.0.0.1", 0);
	need(bind(fd, SA(a), sizeof(a)), "bind");
	return fd;
}

/* A TCP listener on 127.0.0.1; *port gets its port. */
static int listener(int backlog, int *port)
{
	int fd = bound(SOCK_STREAM);
	need(listen(fd, backlog), "listen");
	*port = port_of(fd);
	return fd;
}

/* A port on 127.0.0.1 where nothing listens: held by a bound TCP socket
 * that never listens, so no other row or process can take it meanwhile. */
static int refusing_port(void)
{
	return port_of(bound(SOCK_STREAM));
}

/* A connected TCP client (the listener stays open in this child). */
static int connected_tcp(void)
{
	int port;
	listener(16, &port);
	int fd = tcp4();
	struct sockaddr_in a = v4("127.0.0.1", port);
	need(connect(fd, SA(a), sizeof(a)), "connect");
	return fd;
}

/* Wait until the listener's accept queue holds n connections. */
static void wait_queued(int l, unsigned n)
{
	for (int i = 0; i < 200; i++) {
		struct tcp_info ti;
		socklen_t len = sizeof(ti);
		need(getsockopt(l, IPPROTO_TCP, TCP_INFO, &ti, &len), "tcp_info");
		if (ti.tcpi_unacked >= n) /* for a listener: its accept queue */
			return;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	errno = ETIMEDOUT;
	setup_failed("wait-queued");
}

/* A listener with one connection waiting to be accepted. */
static int pending_listener(void)
{
	int port;
	int l = listener(16, &port);
	int c = tcp4();
	struct sockaddr_in a = v4("127.0.0.1", port);
	need(connect(c, SA(a), sizeof(a)), "connect");
	wait_queued(l, 1);
	return l;
}

/* A non-blocking TCP client whose connect to port is in progress. */
static int connecting(int port)
{
	int fd = new_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = v4("127.0.0.1", port);
	if (connect(fd, SA(a), sizeof(a)) == 0 || errno != EINPROGRESS) {
		if (errno == 0)
			errno = EISCONN;
		setup_failed("connect-in-progress");
	}
	return fd;
}

static void wait_writable(int fd)
{
	struct pollfd p = { fd, POLLOUT, 0 };
	if (need(poll(&p, 1, 3000), "poll") == 0) {
		errno = ETIMEDOUT;
		setup_failed("poll");
	}
}

static int closed_fd(void)
{
	int fd = tcp4();
	need(close(fd), "close");
	return fd;
}

static int pipe_fd(void)
{
	int p[2];
	need(pipe(p), "pipe");
	return p[0];
}

static int regular_file(void)
{
	return (int)need(open("/proc/self/exe", O_RDONLY), "open-file");
}

static int dev_null(void)
{
	return (int)need(open("/dev/null", O_RDWR), "open-dev-null");
}

/*
 * The start of a page that cannot be read, right after a readable one. A
 * pointer there looks like user memory, unlike BAD_PTR; the kernel still
 * answers EFAULT, where a library that reads it first dies of SIGSEGV.
 */
static char *guard_page(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		setup_failed("mmap");
	need(mprotect(m + pg, (size_t)pg, PROT_NONE), "mprotect");
	return m + pg;
}

static char byte = 'x';
static struct iovec one_byte = { &byte, 1 };

/* A one-byte datagram to dest. */
static struct msghdr datagram(void *dest, socklen_t len)
{
	struct msghdr m;
	memset(&m, 0, sizeof(m));
	m.msg_name = dest;
	m.msg_namelen = len;
	m.msg_iov = &one_byte;
	m.msg_iovlen = 1;
	return m;
}

/* A UDP socket bound on 127.0.0.1 to receive what rows send; its port. */
static int sink_port(void)
{
	return port_of(bound(SOCK_DGRAM));
}

/* ---- bad fds: closed, out of range, not a socket ---- */

static long connect_fd_minus1(void)
{
	struct sockaddr_in a = v4("127.0.0.1", 9);
	return CALL(connect(-1, SA(a), sizeof(a)));
}

static long connect_fd_huge(void)
{
	struct sockaddr_in a = v4("127.0.0.1", 9);
	return CALL(connect(HUGE_FD, SA(a), sizeof(a)));
}

static long connect_closed_fd(void)
{
	int fd = closed_fd();
	struct sockaddr_in a = v4("127.0.0.1", 9);
	return CALL(connect(fd, SA(a), sizeof(a)));
}

static long connect_pipe(void)
{
	int fd = pipe_fd();
	struct sockaddr_in a = v4("127.0.0.1", 9);
	return CALL(connect(fd, SA(a), sizeof(a)));
}

static long connect_regular_file(void)
{
	int fd = regular_file();
	struct sockaddr_in a = v4("127.0.0.1", 9);
	return CALL(connect(fd, SA(a), sizeof(a)));
}

static long connect_dev_null(void)
{
	int fd = dev_null();
	struct sockaddr_in a = v4("127.0.0.1", 9);
	return CALL(connect(fd, SA(a), sizeof(a)));
}

static long bind_fd_minus1(void)
{
	struct sockaddr_in a = v4("127.0.0.1", 0);
	return CALL(bind(-1, SA(a), sizeof(a)));
}

static long bind_closed_fd(void)
{
	int fd = closed_fd();
	struct sockaddr_in a = v4("127.0.0.1", 0);
	return CALL(bind(fd, SA(a), sizeof(a)));
}

static long bind_pipe(void)
{
	int fd = pipe_fd();
	struct sockaddr_in a = v4("127.0.0.1", 0);
	return CALL(bind(fd, SA(a), sizeof(a)));
}

static long bind_dev_null(void)
{
	int fd = dev_null();
	struct sockaddr_in a = v4("127.0.0.1", 0);
	return CALL(bind(fd, SA(a), sizeof(a)));
}

static long listen_fd_huge(void)
{
	return CALL(listen(HUGE_FD, 1));
}

static long listen_regular_file(void)
{
	int fd = regular_file();
	return CALL(listen(fd, 1));
}

static long setsockopt_closed_fd(void)
{
	int fd = closed_fd(), on = 1;
	return CALL(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)));
}

static long setsockopt_pipe(void)
{
	int fd = pipe_fd(), on = 1;
	return CALL(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)));
}

static long sendto_fd_minus1(void)
{
	struct sockaddr_in a = v4("127.0.0.1", 9);
	return CALL(sendto(-1, &byte, 1, 0, SA(a), sizeof(a)));
}

static long sendto_regular_file(void)
{
	int fd = regular_file();
	struct sockaddr_in a = v4("127.0.0.1", 9);
	return CALL(sendto(fd, &byte, 1, 0, SA(a), sizeof(a)));
}

static long sendmsg_dev_null(void)
{
	int fd = dev_null();
	struct sockaddr_in a = v4("127.0.0.1", 9);
	struct msghdr m = datagram(&a, sizeof(a));
	return CALL(sendmsg(fd, &m, 0));
}

static long sendmmsg_closed_fd(void)
{
	int fd = closed_fd();
	struct sockaddr_in a = v4("127.0.0.1", 9);
	struct mmsghdr v = { datagram(&a, sizeof(a)), 0 };
	return CALL(sendmmsg(fd, &v, 1, 0));
}

static long accept_dev_null(void)
{
	int fd = dev_null();
	return fd_rc(CALL(accept(fd, NULL, NULL)));
}

/* ---- address pointers and lengths ---- */

static long connect_null_addr(void)
{
	int fd = tcp4();
	return CALL(connect(fd, NULL, sizeof(struct sockaddr_in)));
}

static long connect_addr_ptr_8(void)
{
	int fd = tcp4();
	return CALL(connect(fd, BAD_PTR, sizeof(struct sockaddr_in)));
}

static long connect_addr_guard_page(void)
{
	int fd = tcp4();
	char *g = guard_page();
	return CALL(connect(fd, (struct sockaddr *)g, sizeof(struct sockaddr_in)));
}

static long connect_len_short(void)
{
	int fd = tcp4();
	struct sockaddr_in a = v4("127.0.0.1", 9);
	return CALL(connect(fd, SA(a), 4));
}

static long connect_len_0(void)
{
	int fd = tcp4();
	struct sockaddr_in a = v4("127.0.0.1", 9);
	return CALL(connect(fd, SA(a), 0));
}

/* The buffers behind these lengths are real: only the length is wrong. */
static long connect_len_4096(void)
{
	int fd = tcp4();
	static struct sockaddr_in big[4096 / sizeof(struct sockaddr_in)];
	big[0] = v4("127.0.0.1", 9);
	return CALL(connect(fd, SA(big[0]), 4096));
}

static long connect_len_7fffffff(void)
{
	int fd = tcp4();
	struct sockaddr_in a = v4("127.0.0.1", 9);
	return CALL(connect(fd, SA(a), 0x7fffffff));
}

static long bind_null_addr(void)
{
	int fd = tcp4();
	return CALL(bind(fd, NULL, sizeof(struct sockaddr_in)));
}

static long bind_addr_ptr_8(void)
{
	int fd = tcp4();
	return CALL(bind(fd, BAD_PTR, sizeof(struct sockaddr_in)));
}

static long bind_addr_guard_page(void)
{
	int fd = tcp4();
	char *g = guard_page();
	return CALL(bind(fd, (struct sockaddr *)g, sizeof(struct sockaddr_in)));
}

static long bind_len_short(void)
{
	int fd = tcp4();
	struct sockaddr_in a = v4("127.0.0.1", 0);
	return CALL(bind(fd, SA(a), 3));
}

static long bind_len_0(void)
{
	int fd = tcp4();
	struct sockaddr_in a = v4("127.0.0.1", 0);
	return CALL(bind(fd, SA(a), 0));
}

static long bind_len_7fffffff(void)
{
	int fd = tcp4();
	struct sockaddr_in a = v4("127.0.0.1", 0);
	return CALL(bind(fd, SA(a), 0x7fffffff));
}

/* NULL address with a length: the kernel ignores the length. */
static long sendto_null_addr_len_16(void)
{
	int fd = udp4();
	return CALL(sendto(fd, &byte, 1, 0, NULL, sizeof(struct sockaddr_in)));
}

static long sendto_addr_ptr_8(void)
{
	int fd = udp4();
	return CALL(sendto(fd, &byte, 1, 0, BAD_PTR, sizeof(struct sockaddr_in)));
}

static long sendto_addr_guard_page(void)
{
	int fd = udp4();
	char *g = guard_page();
	return CALL(sendto(fd, &byte, 1, 0, (struct sockaddr *)g, sizeof(struct sockaddr_in)));
}

static long sendto_len_short(void)
{
	int fd = udp4();
	struct sockaddr_in a = v4("127.0.0.1", sink_port());
	return CALL(sendto(fd, &byte, 1, 0, SA(a), 5));
}

static long sendto_len_4096(void)
{
	int fd = udp4();
	static struct sockaddr_in big[4096 / sizeof(struct sockaddr_in)];
	big[0] = v4("127.0.0.1", sink_port());
	return CALL(sendto(fd, &byte, 1, 0, SA(big[0]), 4096));
}

static long sendto_buf_ptr_8(void)
{
	int fd = udp4();
	struct sockaddr_in a = v4("127.0.0.1", sink_port());
	return CALL(sendto(fd, BAD_PTR, 1, 0, SA(a), sizeof(a)));
}

static long sendmsg_msghdr_ptr_8(void)
{
	int fd = udp4();
	return CALL(sendmsg(fd, BAD_PTR, 0));
}

static long sendmsg_msghdr_guard_page(void)
{
	int fd = udp4();
	char *g = guard_page();
	return CALL(sendmsg(fd, (struct msghdr *)g, 0));
}

static long sendmsg_name_ptr_8(void)
{
	int fd = udp4();
	struct msghdr m = datagram(BAD_PTR, sizeof(struct sockaddr_in));
	return CALL(sendmsg(fd, &m, 0));
}

static long sendmsg_name_guard_page(void)
{
	int fd = udp4();
	struct msghdr m = datagram(guard_page(), sizeof(struct sockaddr_in));
	return CALL(sendmsg(fd, &m, 0));
}

static long sendmsg_namelen_short(void)
{
	int fd = udp4();
	struct sockaddr_in a = v4("127.0.0.1", sink_port());
	struct msghdr m = datagram(&a, 3);
	return CALL(sendmsg(fd, &m, 0));
}

static long sendmsg_iov_ptr_8(void)
{
	int fd = udp4();
	struct sockaddr_in a = v4("127.0.0.1", sink_port());
	struct msghdr m = datagram(&a, sizeof(a));
	m.msg_iov = BAD_PTR;
	return CALL(sendmsg(fd, &m, 0));
}

static long sendmmsg_vec_ptr_8(void)
{
	int fd = udp4();
	return CALL(sendmmsg(fd, BAD_PTR, 1, 0));
}

static long sendmmsg_vec_guard_page(void)
{
	int fd = udp4();
	char *g = guard_page();
	return CALL(sendmmsg(fd, (struct mmsghdr *)g, 1, 0));
}

/* The first message is good and the second lies in an unreadable page: the
 * kernel sends one and reports 1 (the error would show on the next call). */
static long sendmmsg_second_entry_unmapped(void)
{
	int fd = udp4();
	static struct sockaddr_in a;
	a = v4("127.0.0.1", sink_port());
	struct mmsghdr *vec = (struct mmsghdr *)(guard_page() - sizeof(struct mmsghdr));
	vec[0].msg_hdr = datagram(&a, sizeof(a));
	vec[0].msg_len = 0;
	return CALL(sendmmsg(fd, vec, 2, 0));
}

/* The kernel sends at most UIO_MAXIOV (1024) messages per call. */
static long sendmmsg_vlen_over_uiomaxiov(void)
{
	int fd = udp4();
	static struct sockaddr_in a;
	static struct mmsghdr vec[1025];
	a = v4("127.0.0.1", sink_port());
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++)
		vec[i].msg_hdr = datagram(&a, sizeof(a));
	return CALL(sendmmsg(fd, vec, 1025, 0));
}

/* ---- an address of the wrong family for the socket ---- */

static long connect_v6_addr_on_tcp4(void)
{
	int fd = tcp4();
	struct sockaddr_in6 a = v6("::1", 9);
	return CALL(connect(fd, SA(a), sizeof(a)));
}

static long connect_v4_addr_on_tcp6(void)
{
	int fd = tcp6();
	struct sockaddr_in a = v4("127.0.0.1", 9);
	return CALL(connect(fd, SA(a), sizeof(a)));
}

static long connect_unix_addr_on_tcp4(void)
{
	int fd = tcp4();
	struct sockaddr_un a = { .sun_family = AF_UNIX, .sun_path = "/nonexistent/diffcalls" };
	return CALL(connect(fd, SA(a), sizeof(a)));
}

static long bind_v6_addr_on_tcp4(void)
{
	int fd = tcp4();
	struct sockaddr_in6 a = v6("::1", 0);
	return CALL(bind(fd, SA(a), sizeof(a)));
}

static long bind_v4_addr_on_tcp6(void)
{
	int fd = tcp6();
	struct sockaddr_in a = v4("127.0.0.1", 0);
	return CALL(bind(fd, SA(a), sizeof(a)));
}

static long sendto_v6_addr_on_udp4(void)
{
	int fd = udp4();
	struct sockaddr_in6 a = v6("::1", 9);
	return CALL(sendto(fd, &byte, 1, 0, SA(a), sizeof(a)));
}

/* Not an error: a v4-mapped destination on a dual-stack socket. */
static long connect_v4mapped_on_tcp6(void)
{
	int port;
	listener(16, &port);
	int fd = tcp6();
	struct sockaddr_in6 a = v6("::ffff:127.0.0.1", port);
	return CALL(connect(fd, SA(a), sizeof(a)));
}

/* ---- sockets the policy never touches: unix, netlink, raw, packet ---- */

static long unix_connect_inet_addr(void)
{
	int fd = new_socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_in a = v4("127.0.0.1", 9);
	return CALL(connect(fd, SA(a), sizeof(a)));
}

static long unix_connect_missing_path(void)
{
	int fd = new_socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX, .sun_path = "/nonexistent/diffcalls" };
	return CALL(connect(fd, SA(a), sizeof(a)));
}

static long unix_sendto_inet_addr(void)
{
	int fd = new_socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_in a = v4("127.0.0.1", 9);
	return CALL(sendto(fd, &byte, 1, 0, SA(a), sizeof(a)));
}

static long unix_listen_dgram(void)
{
	int fd = new_socket(AF_UNIX, SOCK_DGRAM, 0);
	return CALL(listen(fd, 1));
}

static long netlink_connect_inet_addr(void)
{
	int fd = new_socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	struct sockaddr_in a = v4("127.0.0.1", 9);
	return CALL(connect(fd, SA(a), sizeof(a)));
}

static long netlink_bind_short_len(void)
{
	int fd = new_socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	struct sockaddr_nl a = { .nl_family = AF_NETLINK };
	return CALL(bind(fd, SA(a), 4));
}

/* Fails on the address: nothing reaches the routing subsystem. */
static long netlink_sendto_inet_addr(void)
{
	int fd = new_socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	struct sockaddr_in a = v4("127.0.0.1", 9);
	return CALL(sendto(fd, &byte, 1, 0, SA(a), sizeof(a)));
}

static long raw_icmp_connect_loopback(void)
{
	int fd = new_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	struct sockaddr_in a = v4("127.0.0.1", 0);
	return CALL(connect(fd, SA(a), sizeof(a)));
}

static long raw_icmp_bind_nonlocal(void)
{
	int fd = new_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	struct sockaddr_in a = v4("192.0.2.1", 0);
	return CALL(bind(fd, SA(a), sizeof(a)));
}

static long raw_icmp_sendto_no_addr(void)
{
	int fd = new_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	return CALL(sendto(fd, &byte, 1, 0, NULL, 0));
}

static long raw_icmp_setsockopt_bad_level(void)
{
	int fd = new_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), on = 1;
	return CALL(setsockopt(fd, 12345, 1, &on, sizeof(on)));
}

/* Protocol 0: the packet socket receives nothing and sends nothing here. */
static long packet_bind_short_len(void)
{
	int fd = new_socket(AF_PACKET, SOCK_RAW, 0);
	struct sockaddr_ll a = { .sll_family = AF_PACKET };
	return CALL(bind(fd, SA(a), 4));
}

/* ---- bind, connect, listen, accept in the wrong state ---- */

static long bind_twice(void)
{
	int fd = bound(SOCK_STREAM);
	struct sockaddr_in a = v4("127.0.0.1", 0);
	return CALL(bind(fd, SA(a), sizeof(a)));
}

static long bind_nonlocal(void)
{
	int fd = tcp4();
	struct sockaddr_in a = v4("192.0.2.1", 0);
	return CALL(bind(fd, SA(a), sizeof(a)));
}

static long bind_port_in_use(void)
{
	int port;
	listener(16, &port);
	int fd = tcp4();
	struct sockaddr_in a = v4("127.0.0.1", port);
	return CALL(bind(fd, SA(a), sizeof(a)));
}

static long bind_after_connect(void)
{
	int fd = connected_tcp();
	struct sockaddr_in a = v4("127.0.0.1", 0);
	return CALL(bind(fd, SA(a), sizeof(a)));
}

/* AF_UNSPEC with INADDR_ANY: Linux takes it as AF_INET for old programs. */
static long bind_unspec_any_on_tcp4(void)
{
	int fd = tcp4();
	struct sockaddr_in a = v4("0.0.0.0", 0);
	a.sin_family = AF_UNSPEC;
	return CALL(bind(fd, SA(a), sizeof(a)));
}

static long connect_twice(void)
{
	int port;
	listener(16, &port);
	int fd = tcp4();
	struct sockaddr_in a = v4("127.0.0.1", port);
	need(connect(fd, SA(a), sizeof(a)), "connect");
	return CALL(connect(fd, SA(a), sizeof(a)));
}

static long connect_refused(void)
{
	int fd = tcp4();
	struct sockaddr_in a = v4("127.0.0.1", refusing_port());
	return CALL(connect(fd, SA(a), sizeof(a)));
}

static long connect_unspec_udp(void)
{
	int fd = udp4();
	struct sockaddr_in a = v4("127.0.0.1", sink_port());
	need(connect(fd, SA(a), sizeof(a)), "connect");
	struct sockaddr u = { .sa_family = AF_UNSPEC };
	return CALL(connect(fd, &u, sizeof(u)));
}

static long connect_unspec_tcp(void)
{
	int fd = connected_tcp();
	struct sockaddr u = { .sa_family = AF_UNSPEC };
	return CALL(connect(fd, &u, sizeof(u)));
}

static long connect_unspec_len_1(void)
{
	int fd = connected_tcp();
	struct sockaddr u = { .sa_family = AF_UNSPEC };
	return CALL(connect(fd, &u, 1));
}

static long nb_connect_first(void)
{
	int port;
	listener(16, &port);
	int fd = new_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = v4("127.0.0.1", port);
	return CALL(connect(fd, SA(a), sizeof(a)));
}

/* The listener's accept queue is full (backlog 1, two waiting): the SYN is
 * dropped, so the connect stays in progress however long we wait. */
static long nb_connect_while_syn_sent(void)
{
	int port;
	int l = listener(1, &port);
	struct sockaddr_in a = v4("127.0.0.1", port);
	for (int i = 0; i < 2; i++)
		need(connect(tcp4(), SA(a), sizeof(a)), "connect-fill");
	wait_queued(l, 2);
	int fd = connecting(port);
	return CALL(connect(fd, SA(a), sizeof(a)));
}

static long nb_connect_after_established(void)
{
	int port;
	listener(16, &port);
	int fd = connecting(port);
	wait_writable(fd);
	struct sockaddr_in a = v4("127.0.0.1", port);
	return CALL(connect(fd, SA(a), sizeof(a)));
}

static long nb_connect_third(void)
{
	int port;
	listener(16, &port);
	int fd = connecting(port);
	wait_writable(fd);
	struct sockaddr_in a = v4("127.0.0.1", port);
	need(connect(fd, SA(a), sizeof(a)), "connect-second");
	return CALL(connect(fd, SA(a), sizeof(a)));
}

static long nb_connect_refused_again(void)
{
	int port = refusing_port();
	int fd = connecting(port);
	wait_writable(fd);
	struct sockaddr_in a = v4("127.0.0.1", port);
	return CALL(connect(fd, SA(a), sizeof(a)));
}

static long listen_connected(void)
{
	int fd = connected_tcp();
	return CALL(listen(fd, 1));
}

static long listen_udp(void)
{
	int fd = udp4();
	return CALL(listen(fd, 1));
}

static long accept_not_listening(void)
{
	int fd = bound(SOCK_STREAM);
	return fd_rc(CALL(accept(fd, NULL, NULL)));
}

static long accept_udp(void)
{
	int fd = udp4();
	return fd_rc(CALL(accept(fd, NULL, NULL)));
}

/* With a connection waiting, so the kernel gets as far as the address. */
static long accept_addr_ptr_8(void)
{
	int l = pending_listener();
	socklen_t len = sizeof(struct sockaddr_in);
	return fd_rc(CALL(accept(l, BAD_PTR, &len)));
}

static long accept_addr_guard_page(void)
{
	int l = pending_listener();
	socklen_t len = sizeof(struct sockaddr_in);
	return fd_rc(CALL(accept(l, (struct sockaddr *)guard_page(), &len)));
}

static long accept_null_addrlen(void)
{
	int l = pending_listener();
	struct sockaddr_in a;
	return fd_rc(CALL(accept(l, SA(a), NULL)));
}

static long accept4_bad_flags(void)
{
	int l = pending_listener();
	return fd_rc(CALL(accept4(l, NULL, NULL, 0x7fff0000)));
}

static long accept_nonblock_empty(void)
{
	int port;
	int l = listener(16, &port);
	need(fcntl(l, F_SETFL, O_NONBLOCK), "fcntl");
	return fd_rc(CALL(accept(l, NULL, NULL)));
}

/* ---- sends on the wrong kind of socket or with bad flags ---- */

static long sendto_tcp_unconnected(void)
{
	int fd = tcp4();
	struct sockaddr_in a = v4("127.0.0.1", refusing_port());
	return CALL(sendto(fd, &byte, 1, MSG_NOSIGNAL, SA(a), sizeof(a)));
}

/* No MSG_NOSIGNAL: SIGPIPE ends the row, with or without the shim. */
static long sendto_tcp_unconnected_sigpipe(void)
{
	int fd = tcp4();
	struct sockaddr_in a = v4("127.0.0.1", refusing_port());
	return CALL(sendto(fd, &byte, 1, 0, SA(a), sizeof(a)));
}

static long sendmsg_tcp_unconnected(void)
{
	int fd = tcp4();
	struct sockaddr_in a = v4("127.0.0.1", refusing_port());
	struct msghdr m = datagram(&a, sizeof(a));
	return CALL(sendmsg(fd, &m, MSG_NOSIGNAL));
}

static long sendto_udp_msg_oob(void)
{
	int fd = udp4();
	struct sockaddr_in a = v4("127.0.0.1", sink_port());
	return CALL(sendto(fd, &byte, 1, MSG_OOB, SA(a), sizeof(a)));
}

static long sendto_udp_port_0(void)
{
	int fd = udp4();
	struct sockaddr_in a = v4("127.0.0.1", 0);
	return CALL(sendto(fd, &byte, 1, 0, SA(a), sizeof(a)));
}

static long sendto_udp_too_long(void)
{
	int fd = udp4();
	static char big[70000];
	struct sockaddr_in a = v4("127.0.0.1", sink_port());
	return CALL(sendto(fd, big, sizeof(big), 0, SA(a), sizeof(a)));
}

/* ---- setsockopt with bad arguments ---- */

static long setsockopt_bad_level(void)
{
	int fd = tcp4(), on = 1;
	return CALL(setsockopt(fd, 12345, 1, &on, sizeof(on)));
}

static long setsockopt_bad_optname(void)
{
	int fd = tcp4(), on = 1;
	return CALL(setsockopt(fd, SOL_SOCKET, 9999, &on, sizeof(on)));
}

static long setsockopt_optlen_0(void)
{
	int fd = tcp4(), on = 1;
	return CALL(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, 0));
}

static long setsockopt_optlen_1(void)
{
	int fd = tcp4(), on = 1;
	return CALL(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, 1));
}

static long setsockopt_null_optval(void)
{
	int fd = tcp4();
	return CALL(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, NULL, sizeof(int)));
}

static long setsockopt_optval_guard_page(void)
{
	int fd = tcp4();
	return CALL(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, guard_page(), sizeof(int)));
}

/* Not an error: an int option reads sizeof(int) whatever the length says. */
static long setsockopt_optlen_huge(void)
{
	int fd = tcp4(), on = 1;
	return CALL(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, 0x7fffffff));
}

static long setsockopt_tcp_level_on_udp(void)
{
	int fd = udp4(), on = 1;
	return CALL(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)));
}

/* After a bind (a policy may hold SO_REUSEADDR on this socket by now). */
static long setsockopt_reuseaddr_guard_after_bind(void)
{
	int fd = bound(SOCK_STREAM);
	return CALL(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, guard_page(), sizeof(int)));
}

/* ---- socket(), close, dup, shutdown ---- */

static long socket_bad_domain(void)
{
	return fd_rc(CALL(socket(12345, SOCK_STREAM, 0)));
}

static long socket_bad_type(void)
{
	return fd_rc(CALL(socket(AF_INET, 12345, 0)));
}

static long socket_bad_protocol(void)
{
	return fd_rc(CALL(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP)));
}

static long socketpair_inet(void)
{
	int sv[2];
	return CALL(socketpair(AF_INET, SOCK_STREAM, 0, sv));
}

static long close_fd_minus1(void)
{
	return CALL(close(-1));
}

static long close_twice(void)
{
	int fd = tcp4();
	need(close(fd), "close");
	return CALL(close(fd));
}

static long dup_closed_fd(void)
{
	int fd = closed_fd();
	return fd_rc(CALL(dup(fd)));
}

static long dup2_bad_oldfd(void)
{
	int fd = tcp4();
	return fd_rc(CALL(dup2(HUGE_FD, fd)));
}

static long dup2_negative_newfd(void)
{
	int fd = tcp4();
	return fd_rc(CALL(dup2(fd, -1)));
}

static long dup3_same_fd(void)
{
	int fd = tcp4();
	return fd_rc(CALL(dup3(fd, fd, 0)));
}

static long dup3_bad_flags(void)
{
	int fd = tcp4(), other = tcp4();
	return fd_rc(CALL(dup3(fd, other, 0x1)));
}

static long shutdown_unconnected(void)
{
	int fd = tcp4();
	return CALL(shutdown(fd, SHUT_RDWR));
}

static long shutdown_pipe(void)
{
	int fd = pipe_fd();
	return CALL(shutdown(fd, SHUT_RDWR));
}

/* ---- the table ---- */

static const struct row {
	const char *name;
	long (*run)(void);
} rows[] = {
	{ "connect-fd-minus1", connect_fd_minus1 },
	{ "connect-fd-huge", connect_fd_huge },
	{ "connect-closed-fd", connect_closed_fd },
	{ "connect-pipe", connect_pipe },
	{ "connect-regular-file", connect_regular_file },
	{ "connect-dev-null", connect_dev_null },
	{ "bind-fd-minus1", bind_fd_minus1 },
	{ "bind-closed-fd", bind_closed_fd },
	{ "bind-pipe", bind_pipe },
	{ "bind-dev-null", bind_dev_null },
	{ "listen-fd-huge", listen_fd_huge },
	{ "listen-regular-file", listen_regular_file },
	{ "setsockopt-closed-fd", setsockopt_closed_fd },
	{ "setsockopt-pipe", setsockopt_pipe },
	{ "sendto-fd-minus1", sendto_fd_minus1 },
	{ "sendto-regular-file", sendto_regular_file },
	{ "sendmsg-dev-null", sendmsg_dev_null },
	{ "sendmmsg-closed-fd", sendmmsg_closed_fd },
	{ "accept-dev-null", accept_dev_null },

	{ "connect-null-addr", connect_null_addr },
	{ "connect-addr-ptr-8", connect_addr_ptr_8 },
	{ "connect-addr-guard-page", connect_addr_guard_page },
	{ "connect-len-short", connect_len_short },
	{ "connect-len-0", connect_len_0 },
	{ "connect-len-4096", connect_len_4096 },
	{ "connect-len-7fffffff", connect_len_7fffffff },
	{ "bind-null-addr", bind_null_addr },
	{ "bind-addr-ptr-8", bind_addr_ptr_8 },
	{ "bind-addr-guard-page", bind_addr_guard_page },
	{ "bind-len-short", bind_len_short },
	{ "bind-len-0", bind_len_0 },
	{ "bind-len-7fffffff", bind_len_7fffffff },
	{ "sendto-null-addr-len-16", sendto_null_addr_len_16 },
	{ "sendto-addr-ptr-8", sendto_addr_ptr_8 },
	{ "sendto-addr-guard-page", sendto_addr_guard_page },
	{ "sendto-len-short", sendto_len_short },
	{ "sendto-len-4096", sendto_len_4096 },
	{ "sendto-buf-ptr-8", sendto_buf_ptr_8 },
	{ "sendmsg-msghdr-ptr-8", sendmsg_msghdr_ptr_8 },
	{ "sendmsg-msghdr-guard-page", sendmsg_msghdr_guard_page },
	{ "sendmsg-name-ptr-8", sendmsg_name_ptr_8 },
	{ "sendmsg-name-guard-page", sendmsg_name_guard_page },
	{ "sendmsg-namelen-short", sendmsg_namelen_short },
	{ "sendmsg-iov-ptr-8", sendmsg_iov_ptr_8 },
	{ "sendmmsg-vec-ptr-8", sendmmsg_vec_ptr_8 },
	{ "sendmmsg-vec-guard-page", sendmmsg_vec_guard_page },
	{ "sendmmsg-second-entry-unmapped", sendmmsg_second_entry_unmapped },
	{ "sendmmsg-vlen-over-uiomaxiov", sendmmsg_vlen_over_uiomaxiov },

	{ "connect-v6-addr-on-tcp4", connect_v6_addr_on_tcp4 },
	{ "connect-v4-addr-on-tcp6", connect_v4_addr_on_tcp6 },
	{ "connect-unix-addr-on-tcp4", connect_unix_addr_on_tcp4 },
	{ "bind-v6-addr-on-tcp4", bind_v6_addr_on_tcp4 },
	{ "bind-v4-addr-on-tcp6", bind_v4_addr_on_tcp6 },
	{ "sendto-v6-addr-on-udp4", sendto_v6_addr_on_udp4 },
	{ "connect-v4mapped-on-tcp6", connect_v4mapped_on_tcp6 },

	{ "unix-connect-inet-addr", unix_connect_inet_addr },
	{ "unix-connect-missing-path", unix_connect_missing_path },
	{ "unix-sendto-inet-addr", unix_sendto_inet_addr },
	{ "unix-listen-dgram", unix_listen_dgram },
	{ "netlink-connect-inet-addr", netlink_connect_inet_addr },
	{ "netlink-bind-short-len", netlink_bind_short_len },
	{ "netlink-sendto-inet-addr", netlink_sendto_inet_addr },
	{ "raw-icmp-connect-loopback", raw_icmp_connect_loopback },
	{ "raw-icmp-bind-nonlocal", raw_icmp_bind_nonlocal },
	{ "raw-icmp-sendto-no-addr", raw_icmp_sendto_no_addr },
	{ "raw-icmp-setsockopt-bad-level", raw_icmp_setsockopt_bad_level },
	{ "packet-bind-short-len", packet_bind_short_len },

	{ "bind-twice", bind_twice },
	{ "bind-nonlocal", bind_nonlocal },
	{ "bind-port-in-use", bind_port_in_use },
	{ "bind-after-connect", bind_after_connect },
	{ "bind-unspec-any-on-tcp4", bind_unspec_any_on_tcp4 },
	{ "connect-twice", connect_twice },
	{ "connect-refused", connect_refused },
	{ "connect-unspec-udp", connect_unspec_udp },
	{ "connect-unspec-tcp", connect_unspec_tcp },
	{ "connect-unspec-len-1", connect_unspec_len_1 },
	{ "nb-connect-first", nb_connect_first },
	{ "nb-connect-while-syn-sent", nb_connect_while_syn_sent },
	{ "nb-connect-after-established", nb_connect_after_established },
	{ "nb-connect-third", nb_connect_third },
	{ "nb-connect-refused-again", nb_connect_refused_again },
	{ "listen-connected", listen_connected },
	{ "listen-udp", listen_udp },
	{ "accept-not-listening", accept_not_listening },
	{ "accept-udp", accept_udp },
	{ "accept-addr-ptr-8", accept_addr_ptr_8 },
	{ "accept-addr-guard-page", accept_addr_guard_page },
	{ "accept-null-addrlen", accept_null_addrlen },
	{ "accept4-bad-flags", accept4_bad_flags },
	{ "accept-nonblock-empty", accept_nonblock_empty },

	{ "sendto-tcp-unconnected", sendto_tcp_unconnected },
	{ "sendto-tcp-unconnected-sigpipe", sendto_tcp_unconnected_sigpipe },
	{ "sendmsg-tcp-unconnected", sendmsg_tcp_unconnected },
	{ "sendto-udp-msg-oob", sendto_udp_msg_oob },
	{ "sendto-udp-port-0", sendto_udp_port_0 },
	{ "sendto-udp-too-long", sendto_udp_too_long },

	{ "setsockopt-bad-level", setsockopt_bad_level },
	{ "setsockopt-bad-optname", setsockopt_bad_optname },
	{ "setsockopt-optlen-0", setsockopt_optlen_0 },
	{ "setsockopt-optlen-1", setsockopt_optlen_1 },
	{ "setsockopt-null-optval", setsockopt_null_optval },
	{ "setsockopt-optval-guard-page", setsockopt_optval_guard_page },
	{ "setsockopt-optlen-huge", setsockopt_optlen_huge },
	{ "setsockopt-tcp-level-on-udp", setsockopt_tcp_level_on_udp },
	{ "setsockopt-reuseaddr-guard-after-bind", setsockopt_reuseaddr_guard_after_bind },

	{ "socket-bad-domain", socket_bad_domain },
	{ "socket-bad-type", socket_bad_type },
	{ "socket-bad-protocol", socket_bad_protocol },
	{ "socketpair-inet", socketpair_inet },
	{ "close-fd-minus1", close_fd_minus1 },
	{ "close-twice", close_twice },
	{ "dup-closed-fd", dup_closed_fd },
	{ "dup2-bad-oldfd", dup2_bad_oldfd },
	{ "dup2-negative-newfd", dup2_negative_newfd },
	{ "dup3-same-fd", dup3_same_fd },
	{ "dup3-bad-flags", dup3_bad_flags },
	{ "shutdown-unconnected", shutdown_unconnected },
	{ "shutdown-pipe", shutdown_pipe },
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* Run one row in a child; print its line, or how the child ended. */
static void run_row(const struct row *r)
{
	fflush(stdout); /* the child must not print the parent's buffer again */
	pid_t pid = fork();
	if (pid < 0) {
		printf("%s setup=fork errno=%s\n", r->name, err_name(errno));
		return;
	}
	if (pid == 0) {
		row_name = r->name;
		alarm(10); /* a row that hangs shows as killed=SIGALRM */
		long rc = r->run();
		int err = errno;
		printf("%s rc=%ld errno=%s\n", r->name, rc, rc < 0 ? err_name(err) : "0");
		fflush(stdout);
		_exit(0);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			printf("%s setup=waitpid errno=%s\n", r->name, err_name(errno));
			return;
		}
	}
	if (WIFSIGNALED(st)) {
		const char *s = sigabbrev_np(WTERMSIG(st));
		if (s)
			printf("%s killed=SIG%s\n", r->name, s);
		else
			printf("%s killed=%d\n", r->name, WTERMSIG(st));
	} else if (WEXITSTATUS(st) != 0) {
		printf("%s exit=%d\n", r->name, WEXITSTATUS(st));
	}
}

int main(int argc, char **argv)
{
	if (argc == 1) {
		for (size_t i = 0; i < NROWS; i++)
			run_row(&rows[i]);
		return 0;
	}
	for (int a = 1; a < argc; a++) {
		size_t i = 0;
		while (i < NROWS && strcmp(rows[i].name, argv[a]) != 0)
			i++;
		if (i == NROWS) {
			fprintf(stderr, "diffcalls: no row %s\n", argv[a]);
			return 2;
		}
		run_row(&rows[i]);
	}
	return 0;
}

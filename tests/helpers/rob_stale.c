/*
 * rob_stale: an fd number whose socket was closed where no hook sees it
 * (fclose of an fdopen()ed socket: glibc closes it internally), then reused
 * by a new TCP socket that also arrives where no hook sees it. The new
 * socket's connect must meet the policy like any other.
 *
 *   rob_stale MODE PORT
 *
 * The first socket (connected, or an AF_UNIX socketpair end for MODE
 * *-unix) is closed with fclose(fdopen()); a fresh, unbound TCP socket then
 * lands on the same number by MODE:
 *   dupfd, dupfd-unix   fcntl(F_DUPFD) of a socket made with socket()
 *   scm, scm-unix       received with recvmsg(SCM_RIGHTS)
 *   control             close() and socket() (both hooked)
 * Prints "first fd=N local=IP" and "reused fd=N same-number=0|1 connect
 * rc=R errno=E local=IP" (getsockname after connect).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct sockaddr_in target;

static const char *local_ip(int fd)
{
	static char ip[INET_ADDRSTRLEN];
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	memset(&me, 0, sizeof(me));
	getsockname(fd, (struct sockaddr *)&me, &len);
	inet_ntop(AF_INET, &me.sin_addr, ip, sizeof(ip));
	return ip;
}

static void send_fd(int over, int fd)
{
	char c = 'f';
	struct iovec iov = { &c, 1 };
	char ctl[CMSG_SPACE(sizeof(int))];
	memset(ctl, 0, sizeof(ctl));
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(over, &m, 0) < 0)
		exit(1);
}

static int recv_fd(int over)
{
	char c;
	struct iovec iov = { &c, 1 };
	char ctl[CMSG_SPACE(sizeof(int))];
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	if (recvmsg(over, &m, 0) < 0)
		return -1;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	int fd = -1;
	if (cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: rob_stale dupfd|dupfd-unix|scm|scm-unix|control PORT\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *mode = argv[1];
	memset(&target, 0, sizeof(target));
	target.sin_family = AF_INET;
	target.sin_port = htons((unsigned short)atoi(argv[2]));
	target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int is_unix = strstr(mode, "-unix") != NULL;

	/* the carrier for SCM_RIGHTS, and the socket to pass, made first */
	int carrier[2] = { -1, -1 };
	if (strncmp(mode, "scm", 3) == 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, carrier) < 0)
		return 1;
	int fresh = socket(AF_INET, SOCK_STREAM, 0);

	int first, other = -1;
	if (is_unix) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
			return 1;
		first = sv[0];
		other = sv[1];
		printf("first fd=%d unix\n", first);
	} else {
		first = socket(AF_INET, SOCK_STREAM, 0);
		int rc = connect(first, (struct sockaddr *)&target, sizeof(target));
		printf("first fd=%d connect rc=%d local=%s\n", first, rc, local_ip(first));
	}

	int reused;
	if (strcmp(mode, "control") == 0) {
		close(first);
		reused = socket(AF_INET, SOCK_STREAM, 0);
		close(fresh);
	} else {
		FILE *f = fdopen(first, "r+");
		if (!f)
			return 1;
		fclose(f); /* glibc closes the fd itself: no hook sees it */
		if (strncmp(mode, "dupfd", 5) == 0) {
			reused = fcntl(fresh, F_DUPFD, 0);
		} else {
			send_fd(carrier[0], fresh);
			reused = recv_fd(carrier[1]);
		}
		close(fresh);
	}
	if (other >= 0)
		close(other);
	errno = 0;
	int rc = connect(reused, (struct sockaddr *)&target, sizeof(target));
	int e = errno;
	printf("reused fd=%d same-number=%d connect rc=%d errno=%s local=%s\n", reused, reused == first, rc,
	       rc < 0 ? strerrorname_np(e) : "0", local_ip(reused));
	return 0;
}

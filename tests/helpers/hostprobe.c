/*
 * hostprobe: name lookups, then connects and datagrams to what they
 * returned, in one process, for the host table's tests (29-names-*).
 *
 *   hostprobe STEP...
 *     gai NAME             getaddrinfo(NAME, AF_INET, SOCK_DGRAM): prints
 *                          "gai NAME N" (N answers) or "gai NAME EAI_..."
 *     connect ADDR PORT    a TCP connect: "connect ADDR PORT rc=R errno=E"
 *     mmsg PORT NAME...    one sendmmsg on one UDP socket, a datagram per
 *                          NAME (payload NAME) to the first answer of
 *                          getaddrinfo(NAME) at PORT: "mmsg rc=R errno=E"
 *     fork STEP... end     the steps up to `end` run in a child, which
 *                          prints its lines with "child " before them; the
 *                          parent waits for it and goes on after `end`
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *who = "";

static const char *ename(int e)
{
	return e == 0 ? "0" : e == ECONNREFUSED ? "ECONNREFUSED" : e == EACCES ? "EACCES" : e == ENETUNREACH ? "ENETUNREACH" : strerrorname_np(e);
}

static int lookup(const char *name, unsigned port, struct sockaddr_in *out)
{
	struct addrinfo h = { .ai_family = AF_INET, .ai_socktype = SOCK_DGRAM }, *res = NULL;
	int rc = getaddrinfo(name, NULL, &h, &res);
	if (rc)
		return rc;
	if (out) {
		memcpy(out, res->ai_addr, sizeof(*out));
		out->sin_port = htons((unsigned short)port);
	}
	int n = 0;
	for (struct addrinfo *p = res; p; p = p->ai_next)
		n++;
	freeaddrinfo(res);
	return -n;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "gai") == 0 && i + 1 < argc) {
			int rc = lookup(argv[++i], 0, NULL);
			if (rc > 0)
				printf("%sgai %s %s\n", who, argv[i], gai_strerror(rc));
			else
				printf("%sgai %s %d\n", who, argv[i], -rc);
		} else if (strcmp(argv[i], "connect") == 0 && i + 2 < argc) {
			struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[i + 2])) };
			inet_pton(AF_INET, argv[i + 1], &a.sin_addr);
			int fd = socket(AF_INET, SOCK_STREAM, 0);
			int rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
			printf("%sconnect %s %s rc=%d errno=%s\n", who, argv[i + 1], argv[i + 2], rc, ename(rc ? errno : 0));
			close(fd);
			i += 2;
		} else if (strcmp(argv[i], "mmsg") == 0 && i + 2 < argc) {
			unsigned port = (unsigned)atoi(argv[++i]);
			struct sockaddr_in to[16];
			struct iovec iov[16];
			struct mmsghdr m[16];
			unsigned n = 0;
			memset(m, 0, sizeof(m));
			while (i + 1 < argc && n < 16 && strcmp(argv[i + 1], "gai") && strcmp(argv[i + 1], "connect") &&
			       strcmp(argv[i + 1], "mmsg") && strcmp(argv[i + 1], "fork") && strcmp(argv[i + 1], "end")) {
				const char *name = argv[++i];
				if (lookup(name, port, &to[n]) > 0) {
					printf("%smmsg %s: no answer\n", who, name);
					continue;
				}
				iov[n].iov_base = (void *)name;
				iov[n].iov_len = strlen(name);
				m[n].msg_hdr.msg_name = &to[n];
				m[n].msg_hdr.msg_namelen = sizeof(to[n]);
				m[n].msg_hdr.msg_iov = &iov[n];
				m[n].msg_hdr.msg_iovlen = 1;
				n++;
			}
			int fd = socket(AF_INET, SOCK_DGRAM, 0);
			int rc = sendmmsg(fd, m, n, 0);
			printf("%smmsg rc=%d errno=%s\n", who, rc, ename(rc < 0 ? errno : 0));
			close(fd);
		} else if (strcmp(argv[i], "fork") == 0) {
			pid_t pid = fork();
			if (pid == 0) {
				who = "child ";
				continue;
			}
			int st;
			waitpid(pid, &st, 0);
			while (i + 1 < argc && strcmp(argv[i + 1], "end"))
				i++;
			i++;
		} else if (strcmp(argv[i], "end") == 0) {
			return 0; /* the child's steps are done */
		} else {
			fprintf(stderr, "hostprobe: bad step %s\n", argv[i]);
			return 2;
		}
	}
	return 0;
}

/*
 * hooks: the only symbols libsockshim.so exports (see sockshim.map). Each is
 * a one-line forwarder to a shim_X of shim.h, so the interposition surface
 * can be read at a glance. The constructor loads the policy early; every
 * hook also works before it has run.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "resolve.h"
#include "shim.h"

#define EXPORT __attribute__((visibility("default")))

__attribute__((constructor)) static void sockshim_constructor(void)
{
	shim_init();
}

__attribute__((destructor)) static void sockshim_destructor(void)
{
	shim_fini();
}

EXPORT int socket(int domain, int type, int protocol) { return shim_socket(domain, type, protocol); }
EXPORT int socketpair(int domain, int type, int protocol, int sv[2]) { return shim_socketpair(domain, type, protocol, sv); }
EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len) { return shim_bind(fd, addr, len); }
EXPORT int listen(int fd, int backlog) { return shim_listen(fd, backlog); }
EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len) { return shim_connect(fd, addr, len); }
EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len) { return shim_setsockopt(fd, level, name, val, len); }
EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr, socklen_t len) { return shim_sendto(fd, buf, n, flags, addr, len); }
EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) { return shim_sendmsg(fd, msg, flags); }
EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags) { return shim_sendmmsg(fd, vec, vlen, flags); }
EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len) { return shim_accept4(fd, addr, len, 0, 0); }
EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) { return shim_accept4(fd, addr, len, flags, 1); }
EXPORT int close(int fd) { return shim_close(fd); }
EXPORT int dup(int fd) { return shim_dup(fd); }
EXPORT int dup2(int fd, int fd2) { return shim_dup2(fd, fd2); }
EXPORT int dup3(int fd, int fd2, int flags) { return shim_dup3(fd, fd2, flags); }
EXPORT int close_range(unsigned int first, unsigned int last, int flags) { return shim_close_range(first, last, flags); }
EXPORT void closefrom(int lowfd) { shim_closefrom(lowfd); }
EXPORT int fclose(FILE *fp) { return shim_fclose(fp); }
EXPORT pid_t _Fork(void) { return shim_fork_raw(); }

/* name lookups (resolve.c) */
EXPORT int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res) { return shim_getaddrinfo(node, service, hints, res); }
EXPORT struct hostent *gethostbyname(const char *name) { return shim_gethostbyname2(name, AF_INET); }
EXPORT struct hostent *gethostbyname2(const char *name, int af) { return shim_gethostbyname2(name, af); }
EXPORT int gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t buflen, struct hostent **result, int *h_errnop) { return shim_gethostbyname2_r(name, AF_INET, ret, buf, buflen, result, h_errnop); }
EXPORT int gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf, size_t buflen, struct hostent **result, int *h_errnop) { return shim_gethostbyname2_r(name, af, ret, buf, buflen, result, h_errnop); }

/* fcntl's third argument is an int or a pointer; one word carries either. */
EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return shim_fcntl(fd, cmd, arg, 0);
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return shim_fcntl(fd, cmd, arg, 1);
}

/*
 * real: lazy, lock-free resolution of libc's socket functions (see real.h).
 */
#include "real.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <errno.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *resolve(void *_Atomic *slot, const char *name, void *self)
{
	void *f = dlsym(RTLD_NEXT, name);
	if (!f || f == self)
		return NULL;
	/* A race that resolves twice stores the same value. */
	atomic_store_explicit(slot, f, memory_order_release);
	return f;
}

/*
 * REAL(ret, name, params, args, fallback) defines real_name(params): call
 * libc's name(args), or evaluate fallback when libc's symbol is missing. Once
 * resolved it is one load and a jump: the first call's resolution lives in
 * a function of its own, so the common path saves no registers.
 */
#define REAL(ret, name, params, args, fallback)                                                  \
	static void *_Atomic p_##name;                                                           \
	static __attribute__((noinline, cold)) ret first_##name params                            \
	{                                                                                         \
		void *f = resolve(&p_##name, #name, (void *)name);                                \
		if (f) {                                                                          \
			ret(*fn) params = (ret(*) params)f;                                       \
			return fn args;                                                           \
		}                                                                                 \
		return fallback;                                                                  \
	}                                                                                         \
	ret real_##name params                                                                    \
	{                                                                                         \
		void *f = atomic_load_explicit(&p_##name, memory_order_acquire);                 \
		if (__builtin_expect(!f, 0))                                                      \
			return first_##name args;                                                 \
		ret(*fn) params = (ret(*) params)f;                                               \
		return fn args;                                                                   \
	}

REAL(int, socket, (int domain, int type, int protocol), (domain, type, protocol),
     (int)syscall(SYS_socket, domain, type, protocol))
REAL(int, socketpair, (int domain, int type, int protocol, int sv[2]), (domain, type, protocol, sv),
     (int)syscall(SYS_socketpair, domain, type, protocol, sv))
REAL(int, bind, (int fd, const struct sockaddr *addr, socklen_t len), (fd, addr, len),
     (int)syscall(SYS_bind, fd, addr, len))
REAL(int, listen, (int fd, int backlog), (fd, backlog), (int)syscall(SYS_listen, fd, backlog))
REAL(int, connect, (int fd, const struct sockaddr *addr, socklen_t len), (fd, addr, len),
     (int)syscall(SYS_connect, fd, addr, len))
REAL(int, setsockopt, (int fd, int level, int name, const void *val, socklen_t len), (fd, level, name, val, len),
     (int)syscall(SYS_setsockopt, fd, level, name, val, len))
REAL(ssize_t, sendto, (int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr, socklen_t len),
     (fd, buf, n, flags, addr, len), syscall(SYS_sendto, fd, buf, n, flags, addr, len))
REAL(ssize_t, sendmsg, (int fd, const struct msghdr *msg, int flags), (fd, msg, flags),
     syscall(SYS_sendmsg, fd, msg, flags))
REAL(int, sendmmsg, (int fd, struct mmsghdr *vec, unsigned int vlen, int flags), (fd, vec, vlen, flags),
     (int)syscall(SYS_sendmmsg, fd, vec, vlen, flags))
REAL(int, accept, (int fd, struct sockaddr *addr, socklen_t *len), (fd, addr, len),
     (int)syscall(SYS_accept4, fd, addr, len, 0))
REAL(int, accept4, (int fd, struct sockaddr *addr, socklen_t *len, int flags), (fd, addr, len, flags),
     (int)syscall(SYS_accept4, fd, addr, len, flags))
REAL(int, close, (int fd), (fd), (int)syscall(SYS_close, fd))
REAL(int, dup, (int fd), (fd), (int)syscall(SYS_dup, fd))
REAL(int, dup2, (int fd, int fd2), (fd, fd2), (int)syscall(SYS_dup2, fd, fd2))
REAL(int, dup3, (int fd, int fd2, int flags), (fd, fd2, flags), (int)syscall(SYS_dup3, fd, fd2, flags))
REAL(int, close_range, (unsigned int first, unsigned int last, int flags), (first, last, flags),
     (int)syscall(SYS_close_range, first, last, flags))

REAL(int, fclose, (FILE *fp), (fp), (errno = EBADF, -1))
REAL(pid_t, _Fork, (void), (), (pid_t)syscall(SYS_fork))

/* fcntl is variadic: its argument travels as one pointer-sized word, as
 * glibc itself reads it, and the real function is called as variadic. */
#define REAL_FCNTL(name)                                                                 \
	static void *_Atomic p_##name;                                                   \
	int real_##name(int fd, int cmd, void *arg)                                       \
	{                                                                                 \
		void *f = atomic_load_explicit(&p_##name, memory_order_acquire);         \
		if (!f)                                                                   \
			f = resolve(&p_##name, #name, (void *)name);                      \
		if (f)                                                                    \
			return ((int (*)(int, int, ...))f)(fd, cmd, arg);                 \
		return (int)syscall(SYS_fcntl, fd, cmd, arg);                             \
	}
REAL_FCNTL(fcntl)
REAL_FCNTL(fcntl64)

static void *_Atomic p_closefrom;
void real_closefrom(int lowfd)
{
	void *f = atomic_load_explicit(&p_closefrom, memory_order_acquire);
	if (!f)
		f = resolve(&p_closefrom, "closefrom", (void *)closefrom);
	if (f)
		((void (*)(int))f)(lowfd);
	else
		syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0);
}

void real_resolve_all(void)
{
	static const struct { void *_Atomic *slot; const char *name; void *self; } all[] = {
		{ &p_socket, "socket", (void *)socket },
		{ &p_socketpair, "socketpair", (void *)socketpair },
		{ &p_bind, "bind", (void *)bind },
		{ &p_listen, "listen", (void *)listen },
		{ &p_connect, "connect", (void *)connect },
		{ &p_setsockopt, "setsockopt", (void *)setsockopt },
		{ &p_sendto, "sendto", (void *)sendto },
		{ &p_sendmsg, "sendmsg", (void *)sendmsg },
		{ &p_sendmmsg, "sendmmsg", (void *)sendmmsg },
		{ &p_accept, "accept", (void *)accept },
		{ &p_accept4, "accept4", (void *)accept4 },
		{ &p_close, "close", (void *)close },
		{ &p_dup, "dup", (void *)dup },
		{ &p_dup2, "dup2", (void *)dup2 },
		{ &p_dup3, "dup3", (void *)dup3 },
		{ &p_close_range, "close_range", (void *)close_range },
		{ &p_closefrom, "closefrom", (void *)closefrom },
		{ &p_fclose, "fclose", (void *)fclose },
		{ &p_fcntl, "fcntl", (void *)fcntl },
		{ &p_fcntl64, "fcntl64", (void *)fcntl64 },
		{ &p__Fork, "_Fork", (void *)_Fork },
	};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!atomic_load_explicit(all[i].slot, memory_order_acquire))
			resolve(all[i].slot, all[i].name, all[i].self);
}

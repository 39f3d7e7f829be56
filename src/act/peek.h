/*
 * peek: read memory the application handed to a socket call, without ever
 * faulting.
 *
 * The kernel answers EFAULT for an address, msghdr or option value it cannot
 * read; a shim that reads the same pointer first would kill the program with
 * SIGSEGV instead. So the shim copies what it needs to look at through
 * peek(), and a call whose memory cannot be read goes to the kernel
 * untouched, to get its EFAULT.
 */
#ifndef SOCKSHIM_PEEK_H
#define SOCKSHIM_PEEK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* peek's whole answer for what is not on the calling thread's stack. */
bool peek_slow(void *dst, const void *src, size_t n);

extern void *__libc_stack_end; /* the main thread's stack top, from ld.so */

/* Further than this below the stack top: not the stack we think. */
#define PEEK_STACK_MAX ((uintptr_t)64 << 20)

/* The calling thread's stack, [lo, hi), learned by its first peek_slow;
 * hi 0 until then (or if it cannot be learned: /proc not mounted). Static
 * TLS: a preloaded library's thread-locals are read with no call. */
#define PEEK_TLS __attribute__((tls_model("initial-exec")))
struct peek_stack {
	uintptr_t lo, hi;
};
extern __thread struct peek_stack peek_stack_bounds PEEK_TLS;

/* sp inside the thread's own stack, and a..a+n between sp and its top:
 * live frames, mapped and readable. */
static inline bool peek_on_stack(uintptr_t sp, uintptr_t a, size_t n)
{
	uintptr_t lo = peek_stack_bounds.lo, hi = peek_stack_bounds.hi;
	return sp >= lo && sp < hi && a >= sp && a < hi && n <= hi - a;
}

/* Copy n bytes at src into dst. false: some byte of src..src+n cannot be read
 * (dst is then unspecified). Async-signal-safe; errno is preserved. Costs no
 * system call for memory on the calling thread's live stack (once its bounds
 * are known); otherwise one process_vm_readv. */
static inline bool peek(void *dst, const void *src, size_t n)
{
	/* The common case, an address in a caller's frame: between our frame
	 * and the stack top, so mapped and readable. */
	uintptr_t a = (uintptr_t)src, sp = (uintptr_t)__builtin_frame_address(0);
	if (peek_on_stack(sp, a, n)) {
		if (n == 16) /* a sockaddr_in: no call to memcpy */
			__builtin_memcpy(dst, src, 16);
		else
			memcpy(dst, src, n);
		return true;
	}
	return peek_slow(dst, src, n);
}

/*
 * The sockaddr the application passed, copied without faulting. 1: in copy.
 * 0: a length the kernel refuses: the kernel's to answer. -1: unreadable
 * (the kernel's EFAULT).
 */
static inline __attribute__((always_inline)) int peek_sockaddr(struct sockaddr_storage *copy, const struct sockaddr *sa,
							      socklen_t len)
{
	if (len > (socklen_t)sizeof(struct sockaddr_storage) || len < (socklen_t)sizeof(sa_family_t))
		return 0;
	socklen_t n = len < (socklen_t)sizeof(struct sockaddr_in6) ? len : (socklen_t)sizeof(struct sockaddr_in6);
	return peek(copy, sa, n) ? 1 : -1;
}

/* The process peek reads from: call at start and in a forked child (getpid
 * is a system call; peek must not cost one per call). At start it also
 * learns the calling thread's stack bounds; another thread learns its own
 * at its first peek of memory the fast path cannot vouch for (one read of
 * /proc/self/maps per thread). */
void peek_set_pid(int pid);

#endif

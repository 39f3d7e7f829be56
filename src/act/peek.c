/*
 * peek: see peek.h.
 *
 * Two ways to know memory is readable:
 * - It lies between the stack pointer and the top of the calling thread's
 *   own stack, while the stack pointer is inside that stack: live frames,
 *   mapped by definition. The stack's bounds are learned once per thread
 *   (stack_learn below). A stack pointer anywhere else (a signal handler on
 *   a sigaltstack, a coroutine's stack) is not believed: what lies between
 *   it and the thread's stack top can be a guard page or a hole.
 * - Otherwise the kernel copies it (process_vm_readv on ourselves), and says
 *   EFAULT where a plain read would raise SIGSEGV. Memory off the stack can
 *   be unmapped or made PROT_NONE at any time, by any thread: no cache of
 *   "seen readable" can be trusted, so every such read goes to the kernel.
 *   If a seccomp filter forbids that call, the shim reads directly, as it
 *   would without peek.
 */
#include "peek.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define LEARN_TRIES 4 /* per thread: a first call on a sigaltstack can't learn */

__thread struct peek_stack peek_stack_bounds PEEK_TLS;
static __thread unsigned char learning PEEK_TLS, tries PEEK_TLS;
static _Atomic int kernel_copy = 1; /* 0 once process_vm_readv is refused */
static _Atomic int self_pid;


/*
 * The start of the readable mapping that holds addr, from /proc/self/maps
 * (open, read and close are async-signal-safe; nothing is allocated). 0 if
 * it cannot be read or addr is in no readable mapping. Each line starts
 * "start-end perms": parsed as it streams by, so no line needs to fit.
 */
static uintptr_t mapping_start(uintptr_t addr)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	char buf[2048];
	uintptr_t v[2] = { 0, 0 }, found = 0;
	int field = 0; /* 0 start, 1 end, 2 perms' first letter, 3 rest of line */
	for (int reads = 0; reads < 4096 && !found; reads++) {
		ssize_t got = read(fd, buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		for (ssize_t i = 0; i < got && !found; i++) {
			char c = buf[i];
			if (c == '\n') {
				field = 0;
				v[0] = v[1] = 0;
			} else if (field < 2) {
				int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
				if (d >= 0)
					v[field] = v[field] << 4 | (uintptr_t)d;
				else
					field++; /* '-' after start, ' ' after end */
			} else if (field == 2) {
				if (c == 'r' && v[0] <= addr && addr < v[1])
					found = v[0];
				field = 3;
			}
		}
	}
	syscall(SYS_close, fd); /* not through our own close hook */
	return found;
}

/*
 * Learn the calling thread's stack: [start of the mapping that holds its
 * top, top). The top is __libc_stack_end for the main thread and the thread
 * descriptor for the others (glibc puts it at the top of every thread's
 * stack); the one that sp lies below, in the same mapping, is ours. Only
 * stored when sp is inside it, so a first call on a sigaltstack learns
 * nothing and a later one tries again. lo is stored before hi: a signal
 * handler that interrupts us sees no bounds or whole ones.
 */
static void stack_learn(uintptr_t sp)
{
	struct peek_stack *s = &peek_stack_bounds;
	if (s->hi || learning || tries >= LEARN_TRIES)
		return;
	learning = 1;
	tries++;
	atomic_signal_fence(memory_order_seq_cst);
	int saved = errno;
	uintptr_t tops[2] = { (uintptr_t)__libc_stack_end, (uintptr_t)pthread_self() };
	for (int i = 0; i < 2; i++) {
		uintptr_t top = tops[i];
		if (!(sp < top && top - sp <= PEEK_STACK_MAX))
			continue;
		uintptr_t lo = mapping_start(top - 1);
		if (!lo || sp < lo)
			continue;
		if (top - lo > PEEK_STACK_MAX)
			lo = top - PEEK_STACK_MAX;
		s->lo = lo;
		atomic_signal_fence(memory_order_seq_cst);
		s->hi = top;
		break;
	}
	errno = saved;
	atomic_signal_fence(memory_order_seq_cst);
	learning = 0;
}

void peek_set_pid(int pid)
{
	atomic_store_explicit(&self_pid, pid, memory_order_relaxed);
	/* the loading thread (most often the only one) learns its stack now,
	 * among start-up's system calls, so its calls never pay for it */
	stack_learn((uintptr_t)__builtin_frame_address(0));
}

bool peek_slow(void *dst, const void *src, size_t n)
{
	uintptr_t a = (uintptr_t)src;
	if (n == 0)
		return true;
	/* below mmap_min_addr, in the kernel's half, or wrapping: never readable */
	if (a < 65536 || a >= ((uintptr_t)1 << 47) || n > ((uintptr_t)1 << 47) - a)
		return false;
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	if (!peek_stack_bounds.hi) {
		stack_learn(sp);
		if (peek_on_stack(sp, a, n)) {
			memcpy(dst, src, n);
			return true;
		}
	}
	if (atomic_load_explicit(&kernel_copy, memory_order_relaxed)) {
		int saved = errno;
		int pid = atomic_load_explicit(&self_pid, memory_order_relaxed);
		if (!pid)
			peek_set_pid(pid = getpid());
		struct iovec local = { dst, n }, remote = { (void *)src, n };
		ssize_t got = process_vm_readv(pid, &local, 1, &remote, 1, 0);
		int err = errno;
		errno = saved;
		if (got == (ssize_t)n)
			return true;
		if (got >= 0 || err == EFAULT)
			return false;
		atomic_store_explicit(&kernel_copy, 0, memory_order_relaxed); /* ENOSYS, EPERM: filtered */
	}
	memcpy(dst, src, n);
	return true;
}

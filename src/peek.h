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

/* Copy n bytes at src into dst. false: some byte of src..src+n cannot be read
 * (dst is then unspecified). Async-signal-safe; errno is preserved. Costs no
 * system call for memory on the calling thread's live stack or on a page
 * already seen readable; otherwise one process_vm_readv. */
bool peek(void *dst, const void *src, size_t n);

/* The process peek reads from: call at start and in a forked child (getpid
 * is a system call; peek must not cost one per call). */
void peek_set_pid(int pid);

#endif

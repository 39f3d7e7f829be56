/*
 * supsend: copy a send's payload from the target so that sending it from
 * the supervisor's duplicate gives the target's (rc, errno) and side
 * effects (see supsend.h).
 */
#include "supsend.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>

#define CTL_MAX 4096u  /* ancillary data of a sendmsg */
#define IOV_MAX_ 1024u /* UIO_MAXIOV */
/* x86_64's TASK_SIZE (4-level page tables): the kernel's access_ok fails
 * past it before doing anything else */
#define USER_END 0x7ffffffff000ull

static _Atomic(char *) g_fault; /* SS_PAYLOAD_MAX bytes nobody can read */

static bool read_all(pid_t pid, uint64_t addr, void *dst, size_t n)
{
	if (!n)
		return true;
	struct iovec l = { dst, n }, r = { (void *)(uintptr_t)addr, n };
	return process_vm_readv(pid, &l, 1, &r, 1, 0) == (ssize_t)n;
}

static bool user_range(uint64_t addr, size_t n)
{
	return addr <= USER_END && n <= USER_END - addr;
}

/* Read n bytes at addr into p->data; an unreadable range leaves p->data
 * NULL (the send then faults in the kernel's copy). */
static int read_data(pid_t pid, const struct iovec *iov, size_t n, size_t total, struct ss_payload *p)
{
	p->data = malloc(total ? total : 1);
	if (!p->data)
		return ENOMEM;
	p->len = 0;
	for (size_t i = 0; i < n; i++) {
		if (!read_all(pid, (uintptr_t)iov[i].iov_base, p->data + p->len, iov[i].iov_len)) {
			free(p->data);
			p->data = NULL;
			p->len = total;
			return 0;
		}
		p->len += iov[i].iov_len;
	}
	return 0;
}

int ss_payload_buf(pid_t pid, uint64_t addr, size_t n, struct ss_payload *p)
{
	if (!user_range(addr, n))
		return EFAULT;
	if (n > SS_PAYLOAD_MAX)
		return EMSGSIZE;
	struct iovec one = { (void *)(uintptr_t)addr, n };
	return read_data(pid, &one, 1, n, p);
}

int ss_payload_msg(pid_t pid, const struct msghdr *m, struct ss_payload *p)
{
	size_t n = m->msg_iovlen;
	if (n > IOV_MAX_)
		return EMSGSIZE;
	struct iovec *iov = n ? calloc(n, sizeof(*iov)) : NULL;
	if (n && !iov)
		return ENOMEM;
	if (!read_all(pid, (uintptr_t)m->msg_iov, iov, n * sizeof(*iov))) {
		free(iov);
		return EFAULT;
	}
	size_t total = 0;
	int err = 0;
	for (size_t i = 0; i < n && !err; i++) {
		if (!user_range((uintptr_t)iov[i].iov_base, iov[i].iov_len))
			err = EFAULT;
		else if (iov[i].iov_len > SS_PAYLOAD_MAX || (total += iov[i].iov_len) > SS_PAYLOAD_MAX)
			err = EMSGSIZE;
	}
	if (!err && m->msg_control && m->msg_controllen) {
		if (m->msg_controllen > CTL_MAX) {
			err = ENOBUFS;
		} else if (!(p->ctl = malloc(m->msg_controllen))) {
			err = ENOMEM;
		} else if (!read_all(pid, (uintptr_t)m->msg_control, p->ctl, m->msg_controllen)) {
			err = EFAULT;
		} else {
			p->ctllen = m->msg_controllen;
		}
	}
	if (!err)
		err = read_data(pid, iov, n, total, p);
	free(iov);
	return err;
}

/* A range of SS_PAYLOAD_MAX bytes mapped PROT_NONE, made once. */
static char *fault_area(void)
{
	char *a = atomic_load_explicit(&g_fault, memory_order_acquire);
	if (a)
		return a;
	void *m = mmap(NULL, SS_PAYLOAD_MAX, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	char *want = NULL;
	if (!atomic_compare_exchange_strong_explicit(&g_fault, &want, (char *)m, memory_order_acq_rel,
						     memory_order_acquire)) {
		munmap(m, SS_PAYLOAD_MAX);
		return want;
	}
	return m;
}

struct iovec ss_payload_iov(const struct ss_payload *p)
{
	if (p->data || !p->len)
		return (struct iovec){ p->data, p->len };
	return (struct iovec){ fault_area(), p->len };
}

void ss_payload_free(struct ss_payload *p)
{
	free(p->data);
	free(p->ctl);
	p->data = p->ctl = NULL;
}

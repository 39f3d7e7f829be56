/*
 * supsend: the payload of a send the supervisor carries out itself, copied
 * from the target (process_vm_readv), so that its sendmsg fails as the
 * target's own would: an unreadable data buffer is not an error here but a
 * payload that faults in the kernel's copy (after the automatic bind, the
 * address and route checks, exactly where the kernel's copy of the target's
 * buffer would fault); what the kernel reads before it (the iovec array,
 * a range outside user space, the ancillary data) fails with EFAULT now.
 */
#ifndef SOCKSHIM_SUPSEND_H
#define SOCKSHIM_SUPSEND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct msghdr;

#define SS_PAYLOAD_MAX (256u * 1024u) /* payload the supervisor copies to send itself */

struct ss_payload {
	char *data;    /* NULL when unreadable (fault) */
	size_t len;
	char *ctl;
	size_t ctllen;
};

/* The data of sendmsg's m, gathered into one buffer, and its ancillary
 * data: 0 or an errno (EMSGSIZE: larger than SS_PAYLOAD_MAX). */
int ss_payload_msg(pid_t pid, const struct msghdr *m, struct ss_payload *p);

/* sendto's buffer of n bytes at addr: 0 or an errno. */
int ss_payload_buf(pid_t pid, uint64_t addr, size_t n, struct ss_payload *p);

/* The iovec to send p with: its data, or a range that faults. */
struct iovec ss_payload_iov(const struct ss_payload *p);

void ss_payload_free(struct ss_payload *p);

#endif

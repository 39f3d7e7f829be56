/*
 * supsendto: the supervisor's handlers of sends that name a destination
 * (sendto, sendmsg, sendmmsg; see supjob.h): the payload is copied
 * (supsend.h) and sent from our duplicate with the decided source.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actions.h"
#include "connstate.h"
#include "fdtab.h"
#include "fmt.h"
#include "log.h"
#include "names.h"
#include "optlog.h"
#include "optread.h"
#include "supjob.h"
#include "suppin.h"
#include "suptarget.h"

#define MMSG_MAX 1024u           /* UIO_MAXIOV: the kernel sends at most this many */

/* ---- sends naming a destination ---- */

/* Send the gathered payload to the call's destination from our duplicate. */
static ssize_t send_here(struct job *j)
{
	struct sockaddr_storage ss;
	socklen_t tl;
	const struct sockaddr *ta = dest(j, &ss, &tl);
	struct iovec iov = ss_payload_iov(&j->p); /* faults where the target's does */
	struct msghdr m = { (void *)ta, tl, &iov, 1, j->p.ctl, j->p.ctllen, 0 };
	/* a broken pipe must not kill the supervisor; the target gets EPIPE */
	return sendmsg(j->fd, &m, j->flags | MSG_NOSIGNAL);
}

static void do_send(struct job *j)
{
	ssize_t rc = -1;
	if (ss_act_source(&j->c, &j->to) == 0)
		rc = send_here(j);
	int err = errno;
	gave_address(j, rc >= 0);
	finish(j, rc, err);
}

/*
 * One send whose destination is at sa/salen; m: the target's msghdr
 * (sendmsg) or NULL (sendto: the buffer is args[1..2]).
 */
static void send_one(struct job *j, uint64_t sa, uint64_t salen, const struct msghdr *m)
{
	bool began = begin(j, SS_OP_SEND, sa, salen);
	/* TCP names a destination only with Fast Open */
	if (!began || !(j->c.proto == SS_PROTO_UDP || (j->flags & MSG_FASTOPEN))) {
		unmatch(j);
		j->began = false;
		return pass(j);
	}
	if (!j->c.rule)
		return pass(j);
	if (denied(j) || !rewrite(j))
		return;
	ss_act_sockopts(&j->c);
	int err = m ? ss_payload_msg(j->pid, m, &j->p) : ss_payload_buf(j->pid, j->args[1], (size_t)j->args[2], &j->p);
	if (err == EMSGSIZE && !j->rewritten) {
		/* too big to copy: pin the source here, the kernel sends */
		if (!still_valid(j))
			return drop(j);
		if (ss_act_source(&j->c, &j->to) < 0)
			return finish(j, -1, errno);
		ss_actions_add(&j->c.acts, "continue", NULL);
		log_call(j, 0, 0, false);
		pin_put(j->fd, j->c.ent, NULL, false);
		answer(j, 0, 0, true);
		return job_free(j);
	}
	if (err)
		return finish(j, -1, err);
	if (!still_valid(j))
		return drop(j);
	carry_out(j, do_send);
}

void on_sendto(struct job *j)
{
	j->flags = (int)j->args[3];
	if (!j->args[4])
		return pass(j);
	send_one(j, j->args[4], j->args[5], NULL);
}

void on_sendmsg(struct job *j)
{
	struct msghdr m;
	j->flags = (int)j->args[2];
	if (!target_read(j->pid, j->args[1], &m, sizeof(m)) || !m.msg_name || !m.msg_namelen)
		return pass(j);
	send_one(j, (uintptr_t)m.msg_name, m.msg_namelen, &m);
}

/*
 * sendmmsg: when no message of the batch meets a rule, the batch continues
 * whole. Otherwise each message is sent here on its own, with its own
 * decision (as the preload does), and its msg_len written back. A message
 * that fails ends the batch: the count so far, or its error when first.
 */
void on_sendmmsg(struct job *j)
{
	unsigned vlen = (unsigned)j->args[2] < MMSG_MAX ? (unsigned)j->args[2] : MMSG_MAX;
	int flags = (int)j->args[3];
	struct mmsghdr *vec = vlen ? calloc(vlen, sizeof(*vec)) : NULL;
	if (!vec || !target_read(j->pid, j->args[1], vec, vlen * sizeof(*vec))) {
		free(vec);
		return pass(j);
	}
	bool any = false;
	for (unsigned i = 0; i < vlen && !any && g_policy; i++) {
		struct msghdr *m = &vec[i].msg_hdr;
		if (!m->msg_name || !m->msg_namelen)
			continue;
		struct job probe = { .pid = j->pid, .tfd = j->tfd, .fd = j->fd };
		/* TCP names a destination only with Fast Open, as in send_one */
		if (begin(&probe, SS_OP_SEND, (uintptr_t)m->msg_name, m->msg_namelen) &&
		    (probe.c.proto == SS_PROTO_UDP || (flags & MSG_FASTOPEN)) && probe.c.rule)
			any = true;
		unmatch(&probe);
		j->fd = probe.fd; /* keep the duplicate for the next ones */
	}
	if (!any) {
		free(vec);
		return pass(j);
	}
	int sent = 0, first_err = 0;
	for (unsigned i = 0; i < vlen; i++) {
		struct job *one = calloc(1, sizeof(*one));
		if (!one) {
			first_err = ENOMEM;
			break;
		}
		*one = (struct job){ .id = j->id, .pid = j->pid, .nr = j->nr, .tfd = j->tfd, .fd = -1, .flags = flags };
		one->fd = dup(j->fd);
		struct msghdr *m = &vec[i].msg_hdr;
		ssize_t rc = -1;
		int err = 0;
		if (m->msg_name && m->msg_namelen && begin(one, SS_OP_SEND, (uintptr_t)m->msg_name, m->msg_namelen) &&
		    one->c.rule) {
			if (one->c.rule->deny && !one->c.dry) {
				ss_actions_add(&one->c.acts, "deny", ss_errno_name(one->c.rule->deny));
				err = one->c.rule->deny;
			} else {
				if (one->c.rule->deny)
					ss_actions_add(&one->c.acts, "deny", ss_errno_name(one->c.rule->deny));
				if (one->c.rule->has_rewrite) {
					if (ss_act_rewrite(&one->c, &one->to))
						one->rewritten = !one->c.dry;
					else
						err = EAFNOSUPPORT;
				}
				if (!err) {
					ss_act_sockopts(&one->c);
					err = ss_payload_msg(j->pid, m, &one->p);
				}
				if (!err && ss_act_source(&one->c, &one->to) < 0)
					err = errno;
				if (!err) {
					rc = send_here(one);
					err = rc < 0 ? errno : 0;
					gave_address(one, rc >= 0);
				}
			}
			log_call(one, rc < 0 ? -1 : (int)rc, err, false);
			pin_put(one->fd, one->c.ent, NULL, false); /* for the next message */
		} else {
			/* no rule for this one: sent as the target passed it */
			one->began = false;
			if (ss_payload_msg(j->pid, m, &one->p) == 0) {
				struct iovec iov = ss_payload_iov(&one->p);
				struct msghdr mm = { m->msg_name ? &one->raw : NULL, 0, &iov, 1, one->p.ctl, one->p.ctllen, 0 };
				if (m->msg_name && m->msg_namelen <= sizeof(one->raw) &&
				    target_read(j->pid, (uintptr_t)m->msg_name, &one->raw, m->msg_namelen))
					mm.msg_namelen = m->msg_namelen;
				else
					mm.msg_name = NULL;
				rc = sendmsg(one->fd, &mm, flags | MSG_NOSIGNAL);
				err = rc < 0 ? errno : 0;
			} else {
				err = EFAULT;
			}
		}
		job_free(one);
		if (rc < 0) {
			if (!sent)
				first_err = err ? err : EIO;
			break;
		}
		unsigned ml = (unsigned)rc;
		target_write(j->pid, j->args[1] + i * sizeof(*vec) + offsetof(struct mmsghdr, msg_len), &ml, sizeof(ml));
		sent++;
	}
	free(vec);
	answer(j, sent ? sent : -1, sent ? 0 : first_err, false);
	job_free(j);
}

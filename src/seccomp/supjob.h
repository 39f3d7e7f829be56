/*
 * supjob: one supervised call on its way through supcall.c and the
 * handlers of each trapped call (supconnect.c, supsendto.c): what they
 * share. Internal to the seccomp front end.
 */
#ifndef SOCKSHIM_SUPJOB_H
#define SOCKSHIM_SUPJOB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "actions.h"
#include "reload.h"
#include "supsend.h"

struct job {
	uint64_t id;
	pid_t pid;          /* the calling thread, in our pid namespace */
	int nr;
	uint64_t args[6];
	int tfd;            /* the target's fd number (logged) */
	int fd;             /* our duplicate, -1 until opened */
	bool began;         /* c describes the call */
	int refuse;         /* begin could not take the socket of a call a
			     * rule may decide: pass answers this errno */
	struct ss_call c;
	struct ss_addr to;  /* where the call goes: c.app, or rewritten */
	bool rewritten;
	bool has_fl;        /* fl holds the socket's file status flags (F_GETFL) */
	int fl;
	struct sockaddr_storage raw; /* the sockaddr as the target passed it */
	socklen_t rawlen;
	struct sockaddr_storage local; /* getsockname of the socket, as begin found it */
	socklen_t locallen;
	/* sends */
	int flags;
	struct ss_payload p; /* what it sends (supsend.h) */
};

extern int g_notify;
/* The live policy (reload.h): a reload replaces it between two calls. */
#define g_policy (ss_live()->policy)
#define g_dry (ss_live()->dry)
#define g_programs (ss_live()->programs)
#define g_window (ss_live()->window) /* some rule binds explicit source ports */
extern uint64_t g_netns;       /* our network namespace's cookie (0: unknown) */
extern uid_t g_euid;

/* supcall.c: a call's life (see there) */
void job_free(struct job *j);
void answer(struct job *j, int64_t val, int err, bool cont);
bool still_valid(const struct job *j);
bool begin(struct job *j, enum ss_op op, uint64_t sa, uint64_t salen);
void unmatch(struct job *j);
void log_call(struct job *j, int rc, int err, bool continued);
void pass(struct job *j);
void gave_address(struct job *j, bool ok);
void finish(struct job *j, int64_t rc, int err);
void drop(struct job *j);
bool denied(struct job *j);
bool rewrite(struct job *j);
const struct sockaddr *dest(struct job *j, struct sockaddr_storage *ss, socklen_t *len);
void carry_out(struct job *j, void (*fn)(struct job *));
/* Would carry_out run a call that may block in the receiving thread
 * itself (SUPCALL_MAX_WORKERS busy), stalling every other call? */
bool workers_full(void);

/* the handlers, by call */
void on_connect(struct job *j);
void on_bind(struct job *j);
void on_listen(struct job *j);
void on_setsockopt(struct job *j);
void on_sendto(struct job *j);
void on_sendmsg(struct job *j);
void on_sendmmsg(struct job *j);

#endif

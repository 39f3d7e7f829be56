/*
 * log: the decision log (POLICY.md, "Decision log").
 *
 * Every line is formatted on the stack and written with one write(2), so it
 * is async-signal-safe, never interleaves with other processes' lines (lines
 * stay under PIPE_BUF), never touches stdio, and preserves errno. The sink
 * is checked to still be the file or socket it opened (fstat dev/inode), so
 * an application that closes or dup2()s over the log fd never receives a
 * byte of ours: stderr before every line; a file or syslog sink, whose fd
 * is high and marked in the fd table (fdtab.h), whenever a hook has touched
 * that fd, after a write fails with EBADF, and once a second (log.c, emit,
 * says what only that last check catches: raw system calls).
 */
#ifndef SOCKSHIM_LOG_H
#define SOCKSHIM_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "policy.h"

struct ss_log_config {
	enum ss_log_target target;
	const char *path;  /* file or syslog socket */
	enum ss_log_level level;
	enum ss_log_format format;
};

/* Open the sink. Problems (unreachable syslog, unwritable file) are written
 * once to stderr and logging is then off. Call once per process image. */
void ss_log_setup(const struct ss_log_config *c);
/* The pid stamped on lines; call after fork. */
void ss_log_set_pid(int pid);

/* Write raw text to fd 2 the safe way (never into a socket, never blocking
 * on a full pipe, never raising SIGPIPE); errno is preserved. For messages
 * that must reach the user whatever the log settings (policy errors). */
void ss_log_stderr(const char *p, size_t n);

/* Before the program is stopped for a bad policy: true when the sink is not
 * stderr, so the errors must be logged there too. A stderr sink that cannot
 * be written (fd 2 is a socket: inetd, or a systemd service's journal
 * stream) is replaced by syslog first, so the reason is never lost. */
bool ss_log_for_fatal(void);

bool ss_log_enabled(enum ss_log_level level);
/* Is the log written to fd 2? (A detached process keeps fd 2 only then.) */
bool ss_log_on_stderr(void);

/* Action strings of one decision: NUL-separated in buf. They exist only for
 * the decision's log line: when no decision can be logged (log_level below
 * info, or no sink), init leaves wanted false and nothing is added. */
struct ss_actions {
	char buf[640];
	unsigned len, n;
	bool wanted;
};
void ss_actions_init(struct ss_actions *a);
/* Will the strings be logged? (Skip building a value for them if not.) */
static inline bool ss_actions_wanted(const struct ss_actions *a)
{
	return a->wanted;
}
/* Append "key" or "key=value". */
void ss_actions_add(struct ss_actions *a, const char *key, const char *value);
/* Append "key=ip:port" (or "key=ip" when with_port is false). */
void ss_actions_add_addr(struct ss_actions *a, const char *key, const struct ss_addr *addr, bool with_port);

struct ss_decision {
	const char *op;          /* "connect", "bind", ..., "socket", "setsockopt" */
	int fd;
	unsigned proto, family;  /* SS_PROTO_*, SS_FAM_*; 0 when unknown */
	const struct ss_addr *addr; /* as the application passed it, or NULL */
	const char *rule;        /* NULL: no rule */
	const struct ss_actions *actions;
	bool dry_run;
	int rc, err;             /* the result the application sees */
	const char *via;         /* the front end that decided when not the preload ("seccomp"), else NULL */
	int pid;                 /* the process that made the call, when not this one (0: this one) */
};

/* connect and send lines carry the name a lookup returned the address
 * for (host=, JSON "host"), from the host table (hosttab.h), looked up only
 * when the line is written. */
void ss_log_decision(enum ss_log_level level, const struct ss_decision *d);

/* A name lookup's decision (op resolve). */
struct ss_resolve_line {
	const char *call;        /* "getaddrinfo", "gethostbyname", ... */
	const char *host;        /* the name as the program passed it */
	unsigned family;         /* SS_FAM_* asked for; both bits: any */
	const char *rule;        /* NULL: no rule */
	const struct ss_actions *actions;
	bool dry_run;
	int rc;                  /* 0, or the EAI_* code the program sees */
	const struct ss_addr *answer; /* the addresses the program got (port 0) */
	unsigned nanswer;
};
void ss_log_resolve(enum ss_log_level level, const struct ss_resolve_line *r);

/* A free-form event line: event is a short word ("start", "error", ...),
 * then key/value pairs as a NULL-terminated list of strings. */
void ss_log_event(enum ss_log_level level, const char *event, ...);

/* At exit: the count of lines the sink did not take and that no later line
 * reported yet, as a "log-dropped" warning, if the sink takes it now (a sink
 * still not taking lines loses it: nothing here waits). */
void ss_log_report_dropped(void);

#endif

/*
 * log: one write(2) per line to stderr, a file or the syslog socket
 * (see log.h; sink.c opens and writes them). A sink that cannot take a line now (a full pipe, a stalled
 * syslog receiver, a full disk, a FIFO nobody reads) costs the line, never
 * the program's progress: the line is dropped and counted, and the count is
 * reported in the sink once it takes lines again, or at exit.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fdtab.h"
#include "fmt.h"
#include "hostname.h"
#include "hosttab.h"
#include "logline.h"
#include "logstart.h"
#include "sink.h"
#include "warnrate.h"

#define LINE_MAX_BYTES SS_LOGLINE_MAX
#define MAX_REOPENS 16

/*
 * The fd table entry (fdtab.h) that marks the fd of a file or syslog sink.
 * Every hook that closes an fd or puts another file on its number (close,
 * close_range, closefrom, fclose, dup2, dup3, and socket, accept, dup,
 * F_DUPFD landing on a number freed where no hook saw it) rewrites that
 * fd's entry, and never to this value: FD_OTHER never goes with
 * FD_ADOPTED in entries the hooks make, and a copy of it (dup2 of our own
 * fd) is our file still. So while the entry holds the mark, the fd is the
 * file we opened, as far as any hook can tell, and a line costs no system
 * call besides its write(2). See emit() for what no hook sees. (An idle
 * shim, no rule and no debug log, leaves the table alone in close(); it
 * logs no decision then, and event lines are always checked.)
 */
#define SINK_MARK FD_LOGSINK

/* A literal string, its length known at compile time. */
#define LIT(f, s) fmt_mem((f), (s), sizeof(s) - 1)

static struct {
	enum ss_log_target target;
	enum ss_log_level level;
	enum ss_log_format format;
	int fd;
	bool ok;
	dev_t dev;
	ino_t ino;
	char path[256];
	bool pipe;      /* writes can raise SIGPIPE: keep it from the program */
	bool sock;      /* the syslog socket */
	bool polled; /* fd 2 a terminal or device: never a blocking write */
	int tty_fd;  /* our O_NONBLOCK description of it, marked; -1: none */
	bool own_nonblock; /* a FIFO we opened O_NONBLOCK ourselves: a full one says EAGAIN */
	/* a FIFO with no reader yet: fd is -1, opened again once a second;
	 * cleared (release) only after fd is the opened FIFO */
	atomic_bool waiting;
	int reopens;
	int pid;
	_Atomic int64_t verified; /* the second of the last fstat check of a marked sink */
	_Atomic int64_t retried;  /* the second of the last reopen or reconnect tried */
	_Atomic uint64_t dropped; /* lines the sink did not take, not yet reported */
	_Atomic int64_t followed; /* the second the file's path was last looked at (follow_rename) */
	bool path_gone;           /* ... and named nothing then */
	atomic_bool switching;    /* follow_rename is putting the new file on L.fd */
} L = { .target = SS_LOG_STDERR, .level = SS_LEVEL_INFO, .format = SS_FORMAT_TEXT, .fd = 2, .ok = true, .tty_fd = -1 };

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void ss_log_set_pid(int pid)
{
	if (L.pid && pid != L.pid) /* a forked child: the parent reports its own drops */
		atomic_store_explicit(&L.dropped, 0, memory_order_relaxed);
	L.pid = pid;
}

bool ss_log_enabled(enum ss_log_level level)
{
	return L.ok && level <= L.level;
}

bool ss_log_on_stderr(void)
{
	return L.ok && L.target == SS_LOG_STDERR;
}

/* Take fd (a file or syslog sink we opened) as the sink, and mark it in
 * the fd table. */
static void remember(int fd)
{
	struct stat st;
	L.fd = fd;
	L.ok = fd >= 0 && fstat(fd, &st) == 0;
	if (L.ok) {
		L.dev = st.st_dev;
		L.ino = st.st_ino;
		L.sock = S_ISSOCK(st.st_mode);
		L.pipe = S_ISFIFO(st.st_mode);
		L.own_nonblock = L.pipe && L.target == SS_LOG_FILE;
		L.polled = false; /* a device we opened is O_NONBLOCK: EAGAIN itself */
		atomic_store_explicit(&L.waiting, false, memory_order_release);
		/* if the table cannot hold it (out of memory), every line checks */
		fdtab_set(fd, SINK_MARK);
	}
}

/* A sink that takes lines again after a gap (a syslog receiver restarted,
 * a FIFO's reader came): the count of what it missed is its first line,
 * even when a count went, less than a second ago, to the receiver that
 * then went away unread. */
static void fresh_sink(void)
{
	ss_warn_release(SS_WARN_DROPPED, 0);
}

static int open_sink(void)
{
	if (L.target == SS_LOG_FILE)
		return sink_open_file(L.path);
	if (L.target == SS_LOG_SYSLOG)
		return sink_open_dgram(L.path);
	return -1;
}

/* A syslog receiver that went away: connect to the path again, at most
 * once a second (sink_reconnect). */
static bool reconnect_syslog(int64_t second)
{
	if (atomic_exchange_explicit(&L.retried, second, memory_order_relaxed) == second)
		return false;
	if (sink_reconnect(L.fd, L.path) != 0)
		return false;
	fresh_sink();
	return true;
}

static void complain(const char *what, int err, const char *then)
{
	char buf[512];
	struct fmt f;
	fmt_init(&f, buf, sizeof(buf));
	fmt_str(&f, "sockshim: warning: ");
	fmt_str(&f, what);
	fmt_str(&f, " ");
	fmt_str(&f, L.path);
	fmt_str(&f, ": ");
	fmt_str(&f, strerrorname_np(err) ? strerrorname_np(err) : "error");
	fmt_str(&f, then);
	ss_log_stderr(buf, f.len);
}

void ss_log_setup(const struct ss_log_config *c)
{
	L.target = c->target;
	L.level = c->level;
	L.format = c->format;
	L.reopens = 0;
	L.own_nonblock = false;
	atomic_store_explicit(&L.waiting, false, memory_order_relaxed);
	L.path[0] = '\0';
	if (c->path && strlen(c->path) < sizeof(L.path))
		strcpy(L.path, c->path);
	if (!L.pid)
		L.pid = getpid();

	switch (c->target) {
	case SS_LOG_NONE:
		L.ok = false;
		break;
	case SS_LOG_STDERR: {
		/* fd 2 may be a client socket (inetd, socket activation): never write there */
		struct stat st;
		L.fd = 2;
		L.ok = fstat(2, &st) == 0 && !S_ISSOCK(st.st_mode);
		if (L.ok) {
			L.dev = st.st_dev;
			L.ino = st.st_ino;
			L.pipe = S_ISFIFO(st.st_mode);
			L.polled = !L.pipe && !S_ISREG(st.st_mode);
			if (L.polled && L.tty_fd < 0 && (L.tty_fd = sink_open_tty()) >= 0)
				fdtab_set(L.tty_fd, SINK_MARK);
			L.sock = false;
		}
		break;
	}
	case SS_LOG_FILE:
	case SS_LOG_SYSLOG: {
		int fd = open_sink();
		if (fd < 0 && errno == ENXIO && c->target == SS_LOG_FILE) {
			/* a FIFO nobody reads yet: wait for a reader, never block */
			complain("log FIFO", ENXIO, " (no reader); lines are dropped until one opens it\n");
			L.fd = -1;
			L.ok = true;
			atomic_store_explicit(&L.waiting, true, memory_order_relaxed);
			L.pipe = true;
			L.sock = false;
			break;
		}
		if (fd < 0) {
			complain(c->target == SS_LOG_FILE ? "cannot open log file" : "cannot reach syslog at", errno,
				 "; decision logging is off\n");
			L.ok = false;
			break;
		}
		remember(fd);
		break;
	}
	}
}

bool ss_log_for_fatal(void)
{
	if (L.target == SS_LOG_STDERR && !L.ok) {
		struct ss_log_config c = { SS_LOG_SYSLOG, "/dev/log", SS_LEVEL_ERROR, L.format };
		ss_log_setup(&c);
	}
	return L.target != SS_LOG_STDERR && L.ok;
}

/* Is L.fd still the sink we opened? Reopen a file or syslog sink that the
 * application closed or replaced; give up on stderr. */
static bool sink_still_ours(void)
{
	struct stat st;
	if (fstat(L.fd, &st) == 0 && st.st_dev == L.dev && st.st_ino == L.ino)
		return true;
	if (atomic_load_explicit(&L.switching, memory_order_acquire))
		return true; /* the renamed file's successor, not yet recorded */
	/* the number is no longer ours: "unknown" to the hooks, not our mark
	 * (a raw close leaves it there) */
	if (L.target != SS_LOG_STDERR && fdtab_get(L.fd) == SINK_MARK)
		fdtab_clear(L.fd);
	if (L.target == SS_LOG_STDERR || L.reopens >= MAX_REOPENS) {
		L.ok = false;
		return false;
	}
	L.reopens++;
	int fd = open_sink();
	if (fd < 0) {
		L.ok = false;
		return false;
	}
	remember(fd);
	return L.ok;
}

/*
 * logrotate (create mode) renames the file and makes a new one at the path:
 * once a second, a log file whose path names another file now moves to it
 * (sink_file_follow), so every process writing the log (each checks for
 * itself) is in the new file a second after the rename. Lines written
 * before go to the old one, none is lost.
 */
static void follow_rename(int64_t second)
{
	if (L.target != SS_LOG_FILE || L.pipe ||
	    atomic_exchange_explicit(&L.followed, second, memory_order_relaxed) == second)
		return;
	struct stat st = { .st_dev = L.dev, .st_ino = L.ino };
	atomic_store_explicit(&L.switching, true, memory_order_release);
	int r = sink_file_follow(L.fd, L.path, L.path_gone, &st);
	if (r > 0) {
		L.dev = st.st_dev;
		L.ino = st.st_ino;
	}
	atomic_store_explicit(&L.switching, false, memory_order_release);
	L.path_gone = r < 0;
}

static int write_line(int fd, const struct fmt *f)
{
	if (L.sock)
		return sink_write_dgram(fd, f->buf, f->len);
	if (L.pipe)
		return sink_write_pipe(fd, f->buf, f->len, L.own_nonblock);
	if (L.polled && L.tty_fd >= 0 && fdtab_get(L.tty_fd) == SINK_MARK)
		return sink_write_polled(L.tty_fd, f->buf, f->len, true);
	if (L.polled)
		return sink_write_polled(fd, f->buf, f->len, false);
	return sink_write_all(fd, f->buf, f->len);
}

void ss_log_stderr(const char *p, size_t n)
{
	int saved = errno;
	struct stat st;
	if (fstat(2, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		if (S_ISFIFO(st.st_mode))
			sink_write_pipe(2, p, n, false);
		else if (!S_ISREG(st.st_mode))
			sink_write_polled(2, p, n, false);
		else
			sink_write_all(2, p, n);
	}
	errno = saved;
}

static int report_dropped(int fd, bool at_exit);

/* The count of lines lost goes first, once the sink takes lines again (an
 * atomic load per line, no system call, while nothing is lost). 0, or the
 * errno of the write that failed. */
static int put(int fd, const struct fmt *f)
{
	if (atomic_load_explicit(&L.dropped, memory_order_relaxed)) {
		int err = report_dropped(fd, false);
		if (err)
			return err;
	}
	return write_line(fd, f);
}

static void dropped_one(void)
{
	atomic_fetch_add_explicit(&L.dropped, 1, memory_order_relaxed);
}

/* A FIFO that had no reader: open it again, at most once a second. */
static bool reopen_waiting(int64_t second)
{
	if (atomic_exchange_explicit(&L.retried, second, memory_order_relaxed) == second)
		return false;
	int fd = open_sink();
	if (fd < 0)
		return false;
	remember(fd);
	atomic_store_explicit(&L.verified, second, memory_order_relaxed);
	fresh_sink();
	return L.ok;
}

/*
 * Write one finished line (second: its time stamp's). A file or syslog sink
 * whose fd still carries SINK_MARK in the fd table is written at once: the
 * fstat check that would cost a second system call per line is made once a
 * second, and for event lines (start, errors, summaries: rare). stderr is
 * checked before every line: fd 2 belongs to the program, and glibc
 * replaces it where no hook sees (freopen, daemon).
 *
 * What no hook sees on a marked fd is a raw system call. A raw close shows
 * as EBADF: the sink is reopened and the line written there. A raw dup2 over
 * our fd, or a raw close followed by the program's next file landing on our
 * number (which is high, see move_high), is caught by the check of the next
 * second, not before.
 *
 * A line the sink does not take now (sink.h: a full pipe or FIFO, a syslog
 * receiver not reading, a full disk,
 * a FIFO still without a reader) is counted, and put() writes the count
 * before the next line the sink takes.
 */
static void emit(struct fmt *f, int64_t second, bool check)
{
	if (atomic_load_explicit(&L.waiting, memory_order_acquire) && !reopen_waiting(second)) {
		dropped_one();
		return;
	}
	int fd = L.fd;
	bool trusted = !check && L.target != SS_LOG_STDERR && fdtab_get(fd) == SINK_MARK &&
		       atomic_load_explicit(&L.verified, memory_order_relaxed) == second;
	if (!trusted) {
		if (!sink_still_ours())
			return;
		follow_rename(second);
		fd = L.fd;
		if (L.target != SS_LOG_STDERR)
			atomic_store_explicit(&L.verified, second, memory_order_relaxed);
	}
	int err = put(fd, f);
	if (err == EBADF && trusted && sink_still_ours())
		err = put(L.fd, f);
	if ((err == ECONNREFUSED || err == ENOTCONN) && L.sock && reconnect_syslog(second))
		err = put(L.fd, f);
	if (err)
		dropped_one();
}

/* Start a line; returns the second of its time stamp. */
static int64_t begin(struct fmt *f, char *buf, size_t cap, enum ss_log_level level, int pid)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	fmt_init(f, buf, cap - 1); /* room for the final newline */
	if (L.target == SS_LOG_SYSLOG) {
		static const int sev[] = { 3, 4, 6, 7 };
		fmt_char(f, '<');
		fmt_u64(f, 8 + sev[level]); /* facility user */
		fmt_char(f, '>');
		LIT(f, "sockshim[");
		fmt_u64(f, (uint64_t)pid);
		LIT(f, "]: ");
	}
	if (L.format == SS_FORMAT_JSON) {
		LIT(f, "{\"ts\":\"");
		fmt_time_utc(f, ts.tv_sec, ts.tv_nsec);
		LIT(f, "\",\"pid\":");
		fmt_u64(f, (uint64_t)pid);
		LIT(f, ",\"level\":\"");
		fmt_str(f, level_names[level]);
		fmt_char(f, '"');
	} else {
		fmt_time_utc(f, ts.tv_sec, ts.tv_nsec);
		if (L.target != SS_LOG_SYSLOG) {
			LIT(f, " sockshim[");
			fmt_u64(f, (uint64_t)pid);
			fmt_char(f, ']');
		}
		fmt_char(f, ' ');
		fmt_str(f, level_names[level]);
	}
	return ts.tv_sec;
}

static void finish(struct fmt *f)
{
	if (L.format == SS_FORMAT_JSON)
		fmt_char(f, '}');
	/* begin() kept one byte back, so the newline always fits */
	f->cap++;
	f->truncated = false;
	fmt_char(f, '\n');
}

int64_t ss_logline_begin(struct fmt *f, char *buf, size_t cap, enum ss_log_level level)
{
	ss_logstart_before();
	return begin(f, buf, cap, level, L.pid);
}

void ss_logline_end(struct fmt *f, int64_t second)
{
	finish(f);
	emit(f, second, false);
}

bool ss_logline_json(void)
{
	return L.format == SS_FORMAT_JSON;
}

/* ,"KEY":"VAL" with VAL escaped, or ,"KEY":null; KEY as it is */
void ss_logline_member(struct fmt *f, const char *prefix, size_t n, const char *val)
{
	fmt_mem(f, prefix, n);
	if (!val) {
		LIT(f, "null");
		return;
	}
	fmt_char(f, '"');
	fmt_json_str(f, val);
	fmt_char(f, '"');
}
/* the same with a literal KEY */

static void json_key_str(struct fmt *f, const char *key, const char *val)
{
	LIT(f, ",\"");
	fmt_str(f, key);
	fmt_char(f, '"');
	ss_logline_member(f, ":", 1, val);
}

static const char *proto_name(unsigned p)
{
	return p == SS_PROTO_TCP ? "tcp" : p == SS_PROTO_UDP ? "udp" : NULL;
}

/* The name a lookup returned a connect's or send's address for. */
/* A decision's action strings: the members of a JSON array (its brackets
 * are the caller's), or " actions=A,B" in the text form (nothing for none). */
void ss_logline_actions_json(struct fmt *f, const struct ss_actions *a)
{
	for (unsigned i = 0, off = 0; a && i < a->n; i++) {
		if (i)
			fmt_char(f, ',');
		fmt_char(f, '"');
		fmt_json_str(f, a->buf + off);
		fmt_char(f, '"');
		off += (unsigned)strlen(a->buf + off) + 1;
	}
}

void ss_logline_actions_text(struct fmt *f, const struct ss_actions *a)
{
	if (!a || !a->n)
		return;
	LIT(f, " actions=");
	for (unsigned i = 0, off = 0; i < a->n; i++) {
		if (i)
			fmt_char(f, ',');
		fmt_str(f, a->buf + off);
		off += (unsigned)strlen(a->buf + off) + 1;
	}
}

/* A name a program looked up, in the text form: its bytes are the
 * program's, so anything but printable ASCII (white space, control bytes,
 * bytes of UTF-8 such as U+202E, which turns the rest of a terminal line
 * around) and the backslash itself are written as \xHH: one line, one
 * word, and the bytes can be read back. */
void ss_logline_text_name(struct fmt *f, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p > ' ' && *p < 0x7f && *p != '\\') {
			fmt_char(f, (char)*p);
		} else {
			LIT(f, "\\x");
			fmt_char(f, hex[*p >> 4]);
			fmt_char(f, hex[*p & 15]);
		}
	}
}

static bool line_host(const struct ss_decision *d, char out[static SS_HOST_MAX])
{
	return d->addr && d->op && (strcmp(d->op, "connect") == 0 || strcmp(d->op, "send") == 0) && ss_hosttab_get(d->addr, out);
}

static void decision_json(struct fmt *f, const struct ss_decision *d)
{
	const struct ss_actions *a = d->actions;
	LIT(f, ",\"event\":\"decision\"");
	JSON_MEMBER(f, "op", d->op);
	LIT(f, ",\"fd\":");
	fmt_i64(f, d->fd);
	if (d->proto == SS_PROTO_TCP)
		LIT(f, ",\"proto\":\"tcp\"");
	else if (d->proto == SS_PROTO_UDP)
		LIT(f, ",\"proto\":\"udp\"");
	else
		LIT(f, ",\"proto\":null");
	if (d->family == SS_FAM_V4)
		LIT(f, ",\"family\":\"ipv4\"");
	else if (d->family == SS_FAM_V6)
		LIT(f, ",\"family\":\"ipv6\"");
	else
		LIT(f, ",\"family\":null");
	if (d->addr) {
		LIT(f, ",\"addr\":\""); /* an address needs no escaping */
		fmt_endpoint(f, d->addr);
		fmt_char(f, '"');
	} else {
		LIT(f, ",\"addr\":null");
	}
	char host[SS_HOST_MAX];
	if (line_host(d, host))
		JSON_MEMBER(f, "host", host);
	JSON_MEMBER(f, "rule", d->rule);
	LIT(f, ",\"actions\":[");
	ss_logline_actions_json(f, a);
	if (d->dry_run)
		LIT(f, "],\"dry_run\":true,\"rc\":");
	else
		LIT(f, "],\"dry_run\":false,\"rc\":");
	fmt_i64(f, d->rc);
	JSON_MEMBER(f, "errno", d->rc < 0 ? ss_errno_name(d->err) : NULL);
	if (d->via)
		JSON_MEMBER(f, "via", d->via);
}

static void decision_text(struct fmt *f, const struct ss_decision *d)
{
	const struct ss_actions *a = d->actions;
	fmt_char(f, ' ');
	fmt_str(f, d->op);
	LIT(f, " fd=");
	fmt_i64(f, d->fd);
	if (proto_name(d->proto)) {
		fmt_char(f, ' ');
		fmt_str(f, proto_name(d->proto));
	}
	if (d->addr) {
		fmt_char(f, ' ');
		fmt_endpoint(f, d->addr);
	}
	char host[SS_HOST_MAX];
	if (line_host(d, host)) {
		LIT(f, " host=");
		ss_logline_text_name(f, host);
	}
	LIT(f, " rule=");
	fmt_str(f, d->rule ? d->rule : "-");
	ss_logline_actions_text(f, a);
	if (d->dry_run)
		LIT(f, " dry-run");
	LIT(f, " rc=");
	fmt_i64(f, d->rc);
	if (d->rc < 0) {
		LIT(f, " errno=");
		fmt_str(f, ss_errno_name(d->err));
	}
	if (d->via) {
		LIT(f, " via=");
		fmt_str(f, d->via);
	}
}

void ss_log_decision(enum ss_log_level level, const struct ss_decision *d)
{
	if (!ss_log_enabled(level))
		return;
	int saved = errno;
	ss_logstart_before();
	char buf[LINE_MAX_BYTES];
	struct fmt f;
	int64_t second = begin(&f, buf, sizeof(buf), level, d->pid ? d->pid : L.pid);
	if (L.format == SS_FORMAT_JSON)
		decision_json(&f, d);
	else
		decision_text(&f, d);
	finish(&f);
	emit(&f, second, false);
	errno = saved;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* An event line's body after begin(): its name, then the key/value pairs. */
static void event_body(struct fmt *f, const char *event, va_list ap)
{
	if (L.format == SS_FORMAT_JSON)
		json_key_str(f, "event", event);
	else {
		fmt_char(f, ' ');
		fmt_str(f, event);
	}
	bool names_rule = false;
	for (const char *k; (k = va_arg(ap, const char *)) != NULL;) {
		const char *v = va_arg(ap, const char *);
		names_rule |= strcmp(k, "rule") == 0;
		if (L.format == SS_FORMAT_JSON) {
			if (v && all_digits(v)) {
				LIT(f, ",\"");
				fmt_str(f, k);
				LIT(f, "\":");
				fmt_str(f, v);
			} else {
				json_key_str(f, k, v);
			}
		} else {
			fmt_char(f, ' ');
			fmt_str(f, k);
			fmt_char(f, '=');
			fmt_str(f, v ? v : "-");
		}
	}
	/* every JSON line naming a rule has an actions array, so a filter on
	 * the rule can iterate it whatever the line's kind */
	if (names_rule && L.format == SS_FORMAT_JSON)
		LIT(f, ",\"actions\":[]");
}

static void event_line(struct fmt *f, const char *event, ...)
{
	va_list ap;
	va_start(ap, event);
	event_body(f, event, ap);
	va_end(ap);
}

void ss_log_event(enum ss_log_level level, const char *event, ...)
{
	if (!ss_log_enabled(level))
		return;
	int saved = errno;
	if (strcmp(event, "start") != 0)
		ss_logstart_before();
	char buf[LINE_MAX_BYTES];
	struct fmt f;
	va_list ap;
	int64_t second = begin(&f, buf, sizeof(buf), level, L.pid);
	va_start(ap, event);
	event_body(&f, event, ap);
	va_end(ap);
	finish(&f);
	emit(&f, second, true); /* rare lines: always checked */
	errno = saved;
}

/*
 * Write the count of lines the sink did not take ("log-dropped", warn)
 * straight to fd, before the line that finds the sink taking lines again,
 * at most once a second (warnrate.h) but at exit.
 * 0, or the errno of the write that failed (the count stays).
 */
static int report_dropped(int fd, bool at_exit)
{
	/* taken whole, so two threads never report the same lines */
	uint64_t n = atomic_exchange_explicit(&L.dropped, 0, memory_order_relaxed);
	if (!n || L.level < SS_LEVEL_WARN) /* no warnings logged: nothing to say it with */
		return 0;
	/* a sink that keeps dropping: one count a second (it adds up meanwhile) */
	uint64_t held = 0;
	if (!at_exit && !ss_warn_take(SS_WARN_DROPPED, &held)) {
		atomic_fetch_add_explicit(&L.dropped, n, memory_order_relaxed);
		return 0;
	}
	char buf[512], count[24];
	struct fmt f;
	fmt_init(&f, count, sizeof(count));
	fmt_u64(&f, n);
	begin(&f, buf, sizeof(buf), SS_LEVEL_WARN, L.pid);
	event_line(&f, "log-dropped", "dropped", count, "msg", "lines the log sink did not take", NULL);
	finish(&f);
	int err = write_line(fd, &f);
	if (err) {
		atomic_fetch_add_explicit(&L.dropped, n, memory_order_relaxed);
		if (!at_exit)
			ss_warn_release(SS_WARN_DROPPED, held);
	}
	return err;
}

void ss_log_report_dropped(void)
{
	if (!L.ok || !atomic_load_explicit(&L.dropped, memory_order_relaxed))
		return;
	int saved = errno;
	ss_logstart_before();
	if (atomic_load_explicit(&L.waiting, memory_order_acquire)) { /* a reader may have come within the last second */
		int fd = open_sink();
		if (fd >= 0)
			remember(fd);
	}
	if (!atomic_load_explicit(&L.waiting, memory_order_acquire) && sink_still_ours()) {
		int err = report_dropped(L.fd, true);
		/* a syslog receiver that came back within the last second */
		if ((err == ECONNREFUSED || err == ENOTCONN) && L.sock) {
			atomic_store_explicit(&L.retried, 0, memory_order_relaxed);
			if (reconnect_syslog(1))
				report_dropped(L.fd, true);
		}
	}
	errno = saved;
}

void ss_actions_init(struct ss_actions *a)
{
	a->len = a->n = 0;
	a->buf[0] = '\0';
	/* every decision line is info or debug: below that, none is written */
	a->wanted = ss_log_enabled(SS_LEVEL_INFO);
}

static void actions_push(struct ss_actions *a, struct fmt *f)
{
	if (f->truncated)
		return; /* drop an action string that does not fit rather than cut it */
	a->len += (unsigned)f->len + 1;
	a->n++;
}

void ss_actions_add(struct ss_actions *a, const char *key, const char *value)
{
	if (!a->wanted)
		return;
	struct fmt f;
	fmt_init(&f, a->buf + a->len, sizeof(a->buf) - a->len);
	fmt_str(&f, key);
	if (value) {
		fmt_char(&f, '=');
		fmt_str(&f, value);
	}
	actions_push(a, &f);
}

void ss_actions_add_addr(struct ss_actions *a, const char *key, const struct ss_addr *addr, bool with_port)
{
	if (!a->wanted)
		return;
	struct fmt f;
	fmt_init(&f, a->buf + a->len, sizeof(a->buf) - a->len);
	fmt_str(&f, key);
	fmt_char(&f, '=');
	if (with_port)
		fmt_endpoint(&f, addr);
	else
		fmt_ip(&f, addr);
	actions_push(a, &f);
}

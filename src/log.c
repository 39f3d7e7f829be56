/*
 * log: one write(2) per line to stderr, a file or the syslog socket
 * (see log.h).
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "real.h"

#define LINE_MAX_BYTES 3072 /* < PIPE_BUF: concurrent writers never interleave */
#define MAX_REOPENS 16

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
	int reopens;
	int pid;
} L = { .target = SS_LOG_STDERR, .level = SS_LEVEL_INFO, .format = SS_FORMAT_TEXT, .fd = 2, .ok = true };

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void ss_log_set_pid(int pid)
{
	L.pid = pid;
}

bool ss_log_enabled(enum ss_log_level level)
{
	return L.ok && level <= L.level;
}

/* Move fd above the range programs usually iterate over when they close
 * "all" their descriptors; keep the low one if that fails. */
static int move_high(int fd)
{
	struct rlimit rl;
	int target = 900;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 1024)
		target = (int)rl.rlim_cur > 64 ? (int)rl.rlim_cur - 24 : 10;
	int high = real_fcntl(fd, F_DUPFD_CLOEXEC, (void *)(intptr_t)target);
	if (high < 0)
		return fd;
	real_close(fd);
	return high;
}

static void remember(int fd)
{
	struct stat st;
	L.fd = fd;
	L.ok = fd >= 0 && fstat(fd, &st) == 0;
	if (L.ok) {
		L.dev = st.st_dev;
		L.ino = st.st_ino;
		L.pipe = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode);
	}
}

static int open_sink(void)
{
	if (L.target == SS_LOG_FILE) {
		int fd = open(L.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0640);
		return fd < 0 ? -1 : move_high(fd);
	}
	if (L.target == SS_LOG_SYSLOG) {
		struct sockaddr_un un;
		memset(&un, 0, sizeof(un));
		un.sun_family = AF_UNIX;
		if (strlen(L.path) >= sizeof(un.sun_path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		strcpy(un.sun_path, L.path);
		int fd = real_socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (real_connect(fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
			int e = errno;
			real_close(fd);
			errno = e;
			return -1;
		}
		return move_high(fd);
	}
	return -1;
}

static void complain(const char *what, int err)
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
	fmt_str(&f, "; decision logging is off\n");
	ss_log_stderr(buf, f.len);
}

void ss_log_setup(const struct ss_log_config *c)
{
	L.target = c->target;
	L.level = c->level;
	L.format = c->format;
	L.reopens = 0;
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
		}
		break;
	}
	case SS_LOG_FILE:
	case SS_LOG_SYSLOG: {
		int fd = open_sink();
		if (fd < 0) {
			complain(c->target == SS_LOG_FILE ? "cannot open log file" : "cannot reach syslog at", errno);
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

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* a full disk or a closed pipe changes nothing for the program */
		p += w;
		n -= (size_t)w;
	}
}

/*
 * A write to a pipe whose reader is gone raises SIGPIPE, which would kill a
 * program that never wrote to that pipe itself. Block it around our write and
 * swallow the one we caused, unless the program already had one pending.
 */
static void write_no_sigpipe(int fd, const char *p, size_t n)
{
	sigset_t pipe_set, old, pending;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	if (pthread_sigmask(SIG_BLOCK, &pipe_set, &old) != 0) {
		write_all(fd, p, n);
		return;
	}
	bool had = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
	write_all(fd, p, n);
	if (errno == EPIPE && !had) {
		struct timespec zero = { 0, 0 };
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR) {
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/*
 * Write to a pipe or socket without ever blocking the program or killing it:
 * a line that does not fit in the pipe now is dropped (a reader that is not
 * reading must not stall the program on lines it never wrote itself), and
 * the SIGPIPE of a reader that is gone is swallowed.
 */
static void write_pipe(int fd, const char *p, size_t n)
{
	int size = real_fcntl(fd, F_GETPIPE_SZ, NULL), queued = 0;
	if (size > 0 && ioctl(fd, FIONREAD, &queued) == 0 && (size_t)(size - queued) < n + 4096)
		return;
	write_no_sigpipe(fd, p, n);
}

void ss_log_stderr(const char *p, size_t n)
{
	int saved = errno;
	struct stat st;
	if (fstat(2, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		if (S_ISFIFO(st.st_mode))
			write_pipe(2, p, n);
		else
			write_all(2, p, n);
	}
	errno = saved;
}

static void emit(struct fmt *f)
{
	if (!sink_still_ours())
		return;
	if (L.pipe)
		write_pipe(L.fd, f->buf, f->len);
	else
		write_all(L.fd, f->buf, f->len);
}

static void begin(struct fmt *f, char *buf, size_t cap, enum ss_log_level level)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	fmt_init(f, buf, cap - 1); /* room for the final newline */
	if (L.target == SS_LOG_SYSLOG) {
		static const int sev[] = { 3, 4, 6, 7 };
		fmt_char(f, '<');
		fmt_u64(f, 8 + sev[level]); /* facility user */
		fmt_char(f, '>');
		fmt_str(f, "sockshim[");
		fmt_u64(f, (uint64_t)L.pid);
		fmt_str(f, "]: ");
	}
	if (L.format == SS_FORMAT_JSON) {
		fmt_str(f, "{\"ts\":\"");
		fmt_time_utc(f, ts.tv_sec, ts.tv_nsec);
		fmt_str(f, "\",\"pid\":");
		fmt_u64(f, (uint64_t)L.pid);
		fmt_str(f, ",\"level\":\"");
		fmt_str(f, level_names[level]);
		fmt_char(f, '"');
	} else {
		fmt_time_utc(f, ts.tv_sec, ts.tv_nsec);
		if (L.target != SS_LOG_SYSLOG) {
			fmt_str(f, " sockshim[");
			fmt_u64(f, (uint64_t)L.pid);
			fmt_char(f, ']');
		}
		fmt_char(f, ' ');
		fmt_str(f, level_names[level]);
	}
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

static void json_key_str(struct fmt *f, const char *key, const char *val)
{
	fmt_str(f, ",\"");
	fmt_str(f, key);
	fmt_str(f, "\":");
	if (!val) {
		fmt_str(f, "null");
		return;
	}
	fmt_char(f, '"');
	fmt_json_str(f, val);
	fmt_char(f, '"');
}

static const char *proto_name(unsigned p)
{
	return p == SS_PROTO_TCP ? "tcp" : p == SS_PROTO_UDP ? "udp" : NULL;
}

static const char *family_name(unsigned fam)
{
	return fam == SS_FAM_V4 ? "ipv4" : fam == SS_FAM_V6 ? "ipv6" : NULL;
}

void ss_log_decision(enum ss_log_level level, const struct ss_decision *d)
{
	if (!ss_log_enabled(level))
		return;
	int saved = errno;
	char buf[LINE_MAX_BYTES], ep[80];
	struct fmt f, e;
	fmt_init(&e, ep, sizeof(ep));
	if (d->addr)
		fmt_endpoint(&e, d->addr);
	begin(&f, buf, sizeof(buf), level);
	const struct ss_actions *a = d->actions;
	if (L.format == SS_FORMAT_JSON) {
		json_key_str(&f, "op", d->op);
		fmt_str(&f, ",\"fd\":");
		fmt_i64(&f, d->fd);
		json_key_str(&f, "proto", proto_name(d->proto));
		json_key_str(&f, "family", family_name(d->family));
		json_key_str(&f, "addr", d->addr ? ep : NULL);
		json_key_str(&f, "rule", d->rule);
		fmt_str(&f, ",\"actions\":[");
		for (unsigned i = 0, off = 0; a && i < a->n; i++) {
			if (i)
				fmt_char(&f, ',');
			fmt_char(&f, '"');
			fmt_json_str(&f, a->buf + off);
			fmt_char(&f, '"');
			off += (unsigned)strlen(a->buf + off) + 1;
		}
		fmt_str(&f, "],\"dry_run\":");
		fmt_str(&f, d->dry_run ? "true" : "false");
		fmt_str(&f, ",\"rc\":");
		fmt_i64(&f, d->rc);
		json_key_str(&f, "errno", d->rc < 0 ? ss_errno_name(d->err) : NULL);
	} else {
		fmt_char(&f, ' ');
		fmt_str(&f, d->op);
		fmt_str(&f, " fd=");
		fmt_i64(&f, d->fd);
		if (proto_name(d->proto)) {
			fmt_char(&f, ' ');
			fmt_str(&f, proto_name(d->proto));
		}
		if (d->addr) {
			fmt_char(&f, ' ');
			fmt_str(&f, ep);
		}
		fmt_str(&f, " rule=");
		fmt_str(&f, d->rule ? d->rule : "-");
		if (a && a->n) {
			fmt_str(&f, " actions=");
			for (unsigned i = 0, off = 0; i < a->n; i++) {
				if (i)
					fmt_char(&f, ',');
				fmt_str(&f, a->buf + off);
				off += (unsigned)strlen(a->buf + off) + 1;
			}
		}
		if (d->dry_run)
			fmt_str(&f, " dry-run");
		fmt_str(&f, " rc=");
		fmt_i64(&f, d->rc);
		if (d->rc < 0) {
			fmt_str(&f, " errno=");
			fmt_str(&f, ss_errno_name(d->err));
		}
	}
	finish(&f);
	emit(&f);
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

void ss_log_event(enum ss_log_level level, const char *event, ...)
{
	if (!ss_log_enabled(level))
		return;
	int saved = errno;
	char buf[LINE_MAX_BYTES];
	struct fmt f;
	va_list ap;
	begin(&f, buf, sizeof(buf), level);
	if (L.format == SS_FORMAT_JSON)
		json_key_str(&f, "event", event);
	else {
		fmt_char(&f, ' ');
		fmt_str(&f, event);
	}
	va_start(ap, event);
	for (const char *k; (k = va_arg(ap, const char *)) != NULL;) {
		const char *v = va_arg(ap, const char *);
		if (L.format == SS_FORMAT_JSON) {
			if (v && all_digits(v)) {
				fmt_str(&f, ",\"");
				fmt_str(&f, k);
				fmt_str(&f, "\":");
				fmt_str(&f, v);
			} else {
				json_key_str(&f, k, v);
			}
		} else {
			fmt_char(&f, ' ');
			fmt_str(&f, k);
			fmt_char(&f, '=');
			fmt_str(&f, v ? v : "-");
		}
	}
	va_end(ap);
	finish(&f);
	emit(&f);
	errno = saved;
}

void ss_actions_init(struct ss_actions *a)
{
	a->len = a->n = 0;
	a->buf[0] = '\0';
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

/*
 * diffrand.h: the trace side of tests/helpers/diffrand.c (included once,
 * by it alone): records in memory shared with the parent, and what the
 * kernel reports about an fd, asked without any hooked function where one
 * would do (fcntl as a raw system call), with the few normalisations the
 * header of diffrand.c lists.
 */
#ifndef DIFFRAND_H
#define DIFFRAND_H

/* ---- the trace: records in a shared mapping the parent reads ---- */
static char *trace;       /* TRACE_MAX bytes after a size_t length */
static size_t *trace_len;
static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	va_list ap;
	size_t room = TRACE_MAX - *trace_len;
	if (room < 2)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(trace + *trace_len, room, fmt, ap);
	va_end(ap);
	*trace_len += n < 0 ? 0 : ((size_t)n < room ? (size_t)n : room - 1);
}

static const char *ename(int e)
{
	const char *n = e ? strerrorname_np(e) : "0";
	return n ? n : "E?";
}

/* ---- how the kernel sees an fd (never through a hooked function) ---- */
static int kfcntl(int fd, int cmd, long arg) { return (int)syscall(SYS_fcntl, fd, cmd, arg); }

static int iopt(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);
	int saved = errno;
	if (getsockopt(fd, level, name, &v, &l) < 0)
		v = -1;
	errno = saved;
	return v;
}

static int fixed_port(int p) { for (int i = 0; i < NPORTS; i++) if (ports[i] == p) return 1; return p == 0; }

static void fmt_addr(char *o, size_t n, const struct sockaddr *sa, socklen_t len)
{
	char ip[INET6_ADDRSTRLEN], pt[8];
	if (len < sizeof(sa_family_t)) { snprintf(o, n, "-"); return; }
	switch (sa->sa_family) {
	case AF_INET: {
		const struct sockaddr_in *a = (const void *)sa;
		if (len < sizeof(*a)) { snprintf(o, n, "4:cut%u", (unsigned)len); break; }
		int p = ntohs(a->sin_port);
		snprintf(pt, sizeof(pt), fixed_port(p) ? "%d" : "E", p);
		snprintf(o, n, "%s:%s", inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip)), pt);
		break;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *a = (const void *)sa;
		if (len < sizeof(*a)) { snprintf(o, n, "6:cut%u", (unsigned)len); break; }
		int p = ntohs(a->sin6_port);
		snprintf(pt, sizeof(pt), fixed_port(p) ? "%d" : "E", p);
		snprintf(o, n, "[%s]:%s", inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip)), pt);
		break;
	}
	case AF_UNIX: {
		const struct sockaddr_un *a = (const void *)sa;
		size_t pl = len - offsetof(struct sockaddr_un, sun_path);
		if (len <= offsetof(struct sockaddr_un, sun_path))
			snprintf(o, n, "u:unnamed");
		else if (a->sun_path[0] == 0 && pl == 6)
			snprintf(o, n, "u:@auto");
		else if (a->sun_path[0] == 0)
			snprintf(o, n, "u:@%.*s", (int)(pl - 1), a->sun_path + 1);
		else
			snprintf(o, n, "u:%.*s", (int)pl, a->sun_path);
		break;
	}
	case AF_NETLINK: {
		const struct sockaddr_nl *a = (const void *)sa;
		snprintf(o, n, "nl:%s", a->nl_pid == 0 ? "0" : a->nl_pid == (unsigned)getpid() ? "self" : "auto");
		break;
	}
	default:
		snprintf(o, n, "f%d", sa->sa_family);
	}
}

/* One fd's kernel state: "-" when closed, else its kind, flags and, for a
 * socket, family/type, names, reuse flags, pending error, listening. */
static void snap(int fd)
{
	if (fd < 0 || fd >= 1024) return;
	int fdfl = kfcntl(fd, F_GETFD, 0), fl = kfcntl(fd, F_GETFL, 0);
	if (fdfl < 0) { out(" {%d:-}", fd); return; }
	struct stat st;
	fstat(fd, &st);
	out(" {%d:%s%s%s", fd, S_ISSOCK(st.st_mode) ? "sock" : S_ISFIFO(st.st_mode) ? "fifo" : "file",
	    fdfl & FD_CLOEXEC ? ",cx" : "", fl & O_NONBLOCK ? ",nb" : "");
	if (S_ISSOCK(st.st_mode)) {
		struct sockaddr_storage ss;
		char a[80], b[80];
		socklen_t l = sizeof(ss);
		int dom = iopt(fd, SOL_SOCKET, SO_DOMAIN);
		if (getsockname(fd, (struct sockaddr *)&ss, &l) < 0) snprintf(a, sizeof(a), "!%s", ename(errno));
		else fmt_addr(a, sizeof(a), (struct sockaddr *)&ss, l);
		l = sizeof(ss);
		if (getpeername(fd, (struct sockaddr *)&ss, &l) < 0) snprintf(b, sizeof(b), "!%s", ename(errno));
		else fmt_addr(b, sizeof(b), (struct sockaddr *)&ss, l);
		out(" d%d t%d %s>%s ra%d rp%d err=%s%s", dom, iopt(fd, SOL_SOCKET, SO_TYPE), a, b,
		    iopt(fd, SOL_SOCKET, SO_REUSEADDR), iopt(fd, SOL_SOCKET, SO_REUSEPORT),
		    timing_cut(fd) ? (iopt(fd, SOL_SOCKET, SO_ERROR), "~") : ename(iopt(fd, SOL_SOCKET, SO_ERROR)),
		    iopt(fd, SOL_SOCKET, SO_ACCEPTCONN) == 1 ? " L" : "");
		if (dom == AF_INET6) out(" v6only=%d", iopt(fd, IPPROTO_IPV6, IPV6_V6ONLY));
	}
	out("}");
}

#endif

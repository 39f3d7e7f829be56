/*
 * run: the launcher's run mode, made of system calls only (see run.h).
 *
 * On this path every system call, page fault and CPUID counts: under a
 * hypervisor one page fault costs as much as tens of system calls. So it
 * does the least it can before the exec: an open(O_PATH) and a readlink of
 * /proc/self/fd per path to resolve; access, open, statx, fgetxattr and one
 * pread of the command for the warnings; and the strings it makes are packed
 * in one buffer on the stack.
 */
#include "run.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef LIBDIR
#define LIBDIR "/usr/local/lib"
#endif

/* ---- system calls: the result, or -errno ---- */

#if defined(__x86_64__)
static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
	return ret;
}

/*
 * The launcher's entry point (the Makefile links it with -e sockshim_start):
 * run_early() with the initial stack; if it returns, the C library's own
 * _start, with the stack as the kernel left it and %rdx = 0 (no finalizer),
 * as if nothing had happened.
 */
__asm__(".text\n"
	".globl sockshim_start\n"
	".type sockshim_start, @function\n"
	"sockshim_start:\n"
	"	mov %rsp, %rbx\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call run_early\n"
	"	mov %rbx, %rsp\n"
	"	xor %edx, %edx\n"
	"	jmp _start\n"
	".size sockshim_start, . - sockshim_start\n");
#else
/* Elsewhere the launcher starts in the C library (see the Makefile), so
 * run.c may call it. */
static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	long r = syscall(n, a, b, c, d, e, f);
	return r < 0 ? -errno : r;
}
#endif

static long sys(long n, long a, long b, long c, long d, long e)
{
	return sys6(n, a, b, c, d, e, 0);
}

static int sys_open(const char *path, int flags)
{
	return (int)sys(SYS_openat, AT_FDCWD, (long)path, flags, 0, 0);
}

static void sys_close(int fd)
{
	sys(SYS_close, fd, 0, 0, 0, 0);
}

static long sys_readlink(const char *path, char *buf, size_t size)
{
	return sys(SYS_readlinkat, AT_FDCWD, (long)path, (long)buf, (long)size, 0);
}

static int sys_access(const char *path, int mode)
{
	return (int)sys(SYS_faccessat, AT_FDCWD, (long)path, mode, 0, 0);
}

/* ---- strings ---- */

/* The empty asm in a loop keeps the compiler from making it a call to
 * strlen or memcpy: there are none yet when this runs. */
#define NOT_A_LIBCALL() __asm__ volatile("" ::: "memory")

static size_t len(const char *s)
{
	size_t n = 0;
	while (s[n]) {
		n++;
		NOT_A_LIBCALL();
	}
	return n;
}

static bool eq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* Does a bare -l value look like a path (a '/' or a '.' in it)? */
static bool has_path_char(const char *s)
{
	for (; *s; s++)
		if (*s == '/' || *s == '.')
			return true;
	return false;
}

static bool starts(const char *s, const char *prefix)
{
	while (*prefix)
		if (*s++ != *prefix++)
			return false;
	return true;
}

/* Is entry "NAME=value" of an environment the variable name? */
static bool is_var(const char *entry, const char *name)
{
	return starts(entry, name) && entry[len(name)] == '=';
}

/* getenv(3) in env */
static const char *env_get(char **env, const char *name)
{
	for (; *env; env++)
		if (is_var(*env, name))
			return *env + len(name) + 1;
	return NULL;
}

/*
 * Strings made one after another in one buffer, so that they touch as few
 * stack pages as they can. put() cuts off what does not fit, as snprintf
 * does; end() closes the string being made and returns it.
 */
struct strs {
	char *mem;
	size_t size, used, n; /* used: closed strings; n: the open one's length */
};

static char *cur(struct strs *s)
{
	return s->mem + s->used;
}

static size_t room(const struct strs *s)
{
	return s->size - s->used - s->n - 1;
}

static void putn(struct strs *s, const char *p, size_t n)
{
	char *d = cur(s) + s->n;
	for (size_t i = 0; i < n && room(s); i++, s->n++) {
		d[i] = p[i];
		NOT_A_LIBCALL();
	}
	cur(s)[s->n] = '\0';
}

static void put(struct strs *s, const char *p)
{
	putn(s, p, len(p));
}

static void put_uint(struct strs *s, unsigned v)
{
	char d[12];
	int i = sizeof(d);
	do
		d[--i] = (char)('0' + v % 10);
	while ((v /= 10) && i);
	putn(s, d + i, sizeof(d) - (size_t)i);
}

static char *end(struct strs *s)
{
	char *p = cur(s);
	s->used += s->n + 1;
	s->n = 0;
	return p;
}

/* Forget the open string (scratch). */
static void drop(struct strs *s)
{
	s->n = 0;
	cur(s)[0] = '\0';
}

/* resolve's answer, apart so that its buffer is on the stack only when used */
__attribute__((noinline)) static int put_resolved(struct strs *s, const char *path, run_resolve_fn resolve)
{
	char real[PATH_MAX];
	int e = resolve(path, real);
	if (!e)
		put(s, real);
	return e;
}

/*
 * Append realpath(path) to the open string: the kernel's own name for the
 * file, read back from /proc/self/fd. 0, an errno value, or -1 when /proc
 * cannot tell and there is no resolve.
 */
static int put_canonical(struct strs *s, const char *path, run_resolve_fn resolve)
{
	int fd = sys_open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -fd;
	/* "/proc/self/fd/N" and what it links to, past the open string */
	struct strs t = { cur(s) + s->n, room(s) + 1, 0, 0 };
	char *link = cur(&t);
	put(&t, "/proc/self/fd/");
	put_uint(&t, (unsigned)fd);
	end(&t);
	long n = sys_readlink(link, cur(&t), room(&t));
	sys_close(fd);
	if (n > 0 && (size_t)n < room(&t) && cur(&t)[0] == '/') {
		putn(s, cur(&t), (size_t)n); /* a copy to lower addresses, front to back: safe */
		return 0;
	}
	return resolve ? put_resolved(s, path, resolve) : -1;
}

/* ---- the library ---- */

/* The library's path (see run.h) as the open string, which must be empty:
 * 0, RUN_NO_LIBRARY or RUN_NEED_LIBC. */
static int put_library(struct strs *s, char **env, run_resolve_fn resolve)
{
	const char *lib = env_get(env, "SOCKSHIM_LIBRARY");
	if (lib && *lib) {
		put(s, lib);
		return sys_access(cur(s), R_OK) == 0 ? 0 : RUN_NO_LIBRARY;
	}
	/* the launcher's directory, then each candidate after it, as scratch */
	char *self = cur(s);
	long n = sys_readlink("/proc/self/exe", self, room(s));
	if (n > 0 && (size_t)n < room(s)) {
		while (n > 0 && self[n - 1] != '/')
			n--;
		if (n > 0) {
			self[n - 1] = '\0';
			s->n = (size_t)n - 1;
			const char *dir = end(s);
			static const char rel[][32] = { "/libsockshim.so", "/../lib/libsockshim.so", "/../lib/sockshim/libsockshim.so" };
			for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
				put(s, dir);
				put(s, rel[i]);
				const char *cand = end(s);
				if (sys_access(cand, R_OK) == 0) {
					int e = put_canonical(s, cand, resolve);
					if (e < 0)
						return RUN_NEED_LIBC;
					if (!e)
						return 0;
					drop(s);
				}
			}
		}
	}
	drop(s);
	put(s, LIBDIR "/libsockshim.so");
	return sys_access(cur(s), R_OK) == 0 ? 0 : RUN_NO_LIBRARY;
}

/* ---- warnings: programs a preload cannot reach ---- */

__attribute__((noinline)) static void warn(const char *path, const char *a, const char *b)
{
	char line[PATH_MAX + 200];
	struct strs l = { line, sizeof(line), 0, 0 };
	put(&l, "sockshim: warning: ");
	put(&l, path);
	put(&l, a);
	put(&l, b);
	sys(SYS_write, 2, (long)line, (long)l.n, 0, 0);
}

/* A 64-bit ELF file with no PT_INTERP: nothing loads LD_PRELOAD into it. */
static bool is_static_elf(int fd)
{
	union {
		Elf64_Ehdr eh;
		char b[1024]; /* the program headers too, as a rule */
	} u;
	long got = sys(SYS_pread64, fd, (long)u.b, sizeof(u.b), 0, 0);
	if (got < (long)sizeof(Elf64_Ehdr) || !starts((const char *)u.eh.e_ident, ELFMAG) ||
	    u.eh.e_ident[EI_CLASS] != ELFCLASS64)
		return false;
	for (unsigned i = 0; i < u.eh.e_phnum; i++) {
		uint64_t off = u.eh.e_phoff + (uint64_t)i * u.eh.e_phentsize;
		Elf64_Phdr ph;
		if (off + sizeof(ph) <= (uint64_t)got) {
			union {
				uint32_t v;
				char c[4];
			} t;
			for (int k = 0; k < 4; k++)
				t.c[k] = u.b[off + (unsigned)k]; /* p_type comes first */
			ph.p_type = t.v;
		} else if (sys(SYS_pread64, fd, (long)&ph, sizeof(ph), (long)off, 0) != (long)sizeof(ph))
			break;
		if (ph.p_type == PT_INTERP)
			return false;
	}
	return true;
}

/* true for a statically linked command: no preload reaches it, the seccomp
 * supervisor will take it. Otherwise warn about what the loader keeps
 * LD_PRELOAD from (setuid, file capabilities). */
static bool is_static_else_warn(const char *path)
{
	/* not the literal "": the linker may fold that into the end of any
	 * string of the C library's, on a page nothing else here touches */
	static const char no_path[1] = { 0 };
	int fd = sys_open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd >= 0 && is_static_elf(fd)) {
		sys_close(fd);
		return true;
	}
	struct statx sx;
	long rc = fd >= 0 ? sys(SYS_statx, fd, (long)no_path, AT_EMPTY_PATH, STATX_MODE, (long)&sx)
			  : sys(SYS_statx, AT_FDCWD, (long)path, 0, STATX_MODE, (long)&sx);
	if (rc == 0) {
		if (sx.stx_mode & (S_ISUID | S_ISGID))
			warn(path, sx.stx_mode & S_ISUID ? " is setuid" : " is setgid",
			     ": the loader ignores LD_PRELOAD for it, so the policy will not apply (run it unprivileged, or as root directly)\n");
		rc = fd >= 0 ? sys(SYS_fgetxattr, fd, (long)"security.capability", 0, 0, 0)
			     : sys(SYS_getxattr, (long)path, (long)"security.capability", 0, 0, 0);
		if (rc > 0)
			warn(path, " has file capabilities: the loader runs it in secure mode and ignores LD_PRELOAD, so the policy will not apply\n", "");
	}
	if (fd >= 0)
		sys_close(fd);
	return false;
}

/* The errno-like answer of try_exec for a static command: not execed here,
 * the seccomp supervisor takes it (RUN_STATIC). */
#define EXEC_STATIC (-1)

/* ---- the exec, as execvp(3) does it ---- */

/* Warn, then execve path; a file with no #! line goes to /bin/sh, as
 * execvp(3) does. Returns the errno, or EXEC_STATIC for a static command. */
static int try_exec(const char *path, char **argv, char **env)
{
	int e = -sys_access(path, X_OK);
	if (e == ENOENT || e == ENOTDIR)
		return e; /* what execve would say: spare it, on each directory of PATH */
	if (!e && is_static_else_warn(path))
		return EXEC_STATIC;
	e = (int)-sys(SYS_execve, (long)path, (long)argv, (long)env, 0, 0);
	if (e != ENOEXEC)
		return e;
	size_t argc = 0;
	while (argv[argc])
		argc++;
	char *sh[argc + 2];
	sh[0] = "/bin/sh";
	sh[1] = (char *)path;
	for (size_t i = 1; i <= argc; i++) {
		sh[i + 1] = argv[i];
		NOT_A_LIBCALL();
	}
	return (int)-sys(SYS_execve, (long)"/bin/sh", (long)sh, (long)env, 0, 0);
}

/* execvp(3): each directory of PATH (default /bin:/usr/bin) in turn; an
 * empty one is the current directory. Returns the errno. */
static int exec_path(struct strs *s, char **argv, char **env)
{
	const char *file = argv[0];
	if (!*file)
		return ENOENT;
	for (const char *c = file; *c; c++)
		if (*c == '/')
			return try_exec(file, argv, env);
	if (len(file) >= NAME_MAX)
		return ENAMETOOLONG;
	const char *path = env_get(env, "PATH");
	if (!path)
		path = "/bin:/usr/bin";
	bool eacces = false;
	int e = ENOENT;
	for (const char *p = path;; p++) {
		const char *q = p;
		while (*q && *q != ':')
			q++;
		drop(s);
		putn(s, p, (size_t)(q - p));
		if (q > p)
			put(s, "/");
		put(s, file);
		if (room(s)) { /* else too long: skipped, as execvp does */
			e = try_exec(cur(s), argv, env);
			if (e == EXEC_STATIC)
				return e;
			if (e == EACCES)
				eacces = true;
			else if (e != ENOENT && e != ESTALE && e != ENOTDIR && e != ENODEV && e != ETIMEDOUT)
				return e;
		}
		if (!*q)
			break;
		p = q;
	}
	return eacces ? EACCES : e;
}

/* ---- run mode ---- */

static void fail(struct run_result *res, enum run_status status, int err, const char *arg)
{
	res->status = status;
	res->err = err;
	res->arg = arg;
}

/* The variables run mode sets: the options' SOCKSHIM_* ones, in set[]
 * order, then LD_PRELOAD. */
static const char env_vars[RUN_OPTION_VARS + 1][20] = { "SOCKSHIM_POLICY", "SOCKSHIM_LOG", "SOCKSHIM_LOG_LEVEL",
							 "SOCKSHIM_MODE", "LD_PRELOAD" };

/* The options before COMMAND: set[k] = "VAR=value" (made in s) for each
 * given, *seccomp for --seccomp. The index of COMMAND, or -1 with res
 * filled. */
static int parse_options(int argc, char **argv, struct strs *s, char *set[RUN_OPTION_VARS], bool *seccomp,
			 run_resolve_fn resolve, struct run_result *res)
{
	int i = 0;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (eq(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-')
			break;
		if (eq(a, "-p") && i + 1 < argc) {
			const char *pol = argv[++i];
			put(s, env_vars[0]);
			put(s, "=");
			int e = put_canonical(s, pol, resolve);
			if (e) {
				fail(res, e < 0 ? RUN_NEED_LIBC : RUN_POLICY, e, pol);
				return -1;
			}
			set[0] = end(s);
		} else if (eq(a, "-l") && i + 1 < argc) {
			const char *l = argv[++i];
			put(s, env_vars[1]);
			put(s, "=");
			if (eq(l, "stderr") || eq(l, "none") || starts(l, "syslog")) {
				put(s, l);
			} else if (!starts(l, "file:") && !has_path_char(l)) {
				/* "stdout" and other words: never a file of that name */
				fail(res, RUN_BAD_LOG, 0, l);
				return -1;
			} else {
				/* a path, bare or as file:PATH; relative to where we are now */
				const char *path = starts(l, "file:") ? l + 5 : l;
				put(s, "file:");
				if (path[0] != '/') {
					char *at = cur(s) + s->n;
					long n = sys(SYS_getcwd, (long)at, (long)room(s), 0, 0, 0);
					if (n > 1 && at[0] == '/') { /* n counts the NUL */
						s->n += (size_t)n - 1;
						put(s, "/");
					}
				}
				put(s, path);
			}
			set[1] = end(s);
		} else if (eq(a, "-v")) {
			set[2] = "SOCKSHIM_LOG_LEVEL=debug";
		} else if (eq(a, "-n")) {
			set[3] = "SOCKSHIM_MODE=dry-run";
		} else if (eq(a, "--seccomp")) {
			*seccomp = true;
		} else {
			fail(res, RUN_BAD_OPTION, 0, a);
			return -1;
		}
	}
	if (i >= argc) {
		fail(res, RUN_USAGE, 0, NULL);
		return -1;
	}
	return i;
}

int run_options(int argc, char **argv, run_resolve_fn resolve, char *buf, size_t size, char *set[RUN_OPTION_VARS],
		bool *seccomp, struct run_result *res)
{
	struct strs s = { buf, size, 0, 0 };
	for (int k = 0; k < RUN_OPTION_VARS; k++)
		set[k] = NULL;
	return parse_options(argc, argv, &s, set, seccomp, resolve, res);
}

/* Above this, the memory run_command needs is a mapping of its own rather
 * than stack: the launcher's run path is built without stack probes (see
 * the Makefile), so no allocation on the stack may come near the guard gap. */
#define STACK_MAX (256 * 1024)

void run_command(int argc, char **argv, char **envp, run_resolve_fn resolve, struct run_result *res)
{
	const char *old_preload = env_get(envp, "LD_PRELOAD");
	size_t envc = 0;
	while (envp[envc])
		envc++;
	/* The strings made here, with room for every path at its longest (an
	 * option's own text is cut off beyond that, as the launcher's snprintf
	 * calls always did), then the new environment. Only the bytes used are
	 * ever touched. */
	size_t size = (8 * PATH_MAX + 2 * (old_preload ? len(old_preload) : 0) + 7) & ~(size_t)7;
	size_t total = size + (envc + 6) * sizeof(char *);
	char on_stack[total <= STACK_MAX ? total : 1] __attribute__((aligned(sizeof(char *))));
	char *mem = on_stack;
	if (total > STACK_MAX) {
		long m = sys6(SYS_mmap, 0, (long)total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m < 0 && m > -4096) {
			fail(res, RUN_EXEC, (int)-m, "environment");
			return;
		}
		mem = (char *)m;
	}
	struct strs s = { mem, size, 0, 0 };
	char **env = (char **)(void *)(mem + size);
	char *set[RUN_OPTION_VARS + 1];
	set[0] = set[1] = set[2] = set[3] = set[4] = NULL; /* no initializer: clang -O0 makes that a memset */
	bool seccomp = false;
	int i = parse_options(argc, argv, &s, set, &seccomp, resolve, res);
	if (i < 0)
		return;
	if (seccomp) {
		fail(res, RUN_SECCOMP, 0, NULL);
		return;
	}

	int r = put_library(&s, envp, resolve);
	if (r) {
		struct strs p = { res->path, sizeof(res->path), 0, 0 };
		put(&p, cur(&s));
		fail(res, (enum run_status)r, 0, NULL);
		return;
	}
	const char *lib = end(&s);
	/* prepend, so other preloads still run, after us */
	put(&s, env_vars[RUN_OPTION_VARS]);
	put(&s, "=");
	put(&s, lib);
	if (old_preload && *old_preload) {
		put(&s, ":");
		put(&s, old_preload);
	}
	set[4] = end(&s);

	size_t n = 0;
	unsigned placed = 0; /* bit v: set[v] took the place of the first NAME= (setenv does that) */
	for (size_t k = 0; k < envc; k++) {
		char *e = envp[k];
		for (unsigned v = 0; v < 5; v++) {
			if (set[v] && !(placed & 1u << v) && is_var(e, env_vars[v])) {
				e = set[v];
				placed |= 1u << v;
				break;
			}
		}
		env[n++] = e;
	}
	for (unsigned v = 0; v < 5; v++)
		if (set[v] && !(placed & 1u << v))
			env[n++] = set[v];
	env[n] = NULL;

	int err = exec_path(&s, argv + i, env);
	fail(res, err == EXEC_STATIC ? RUN_STATIC : RUN_EXEC, err, argv[i]);
}

/* ---- before the C library ---- */

static struct run_result early;
static bool early_failed;

bool run_mode(int argc, char **argv)
{
	if (argc < 2)
		return false;
	const char *w = argv[1];
	return !(eq(w, "check") || eq(w, "explain") || eq(w, "report") || eq(w, "-h") || eq(w, "--help") || eq(w, "--version"));
}

/* Called from sockshim_start only ("used": no C caller) with the initial
 * stack: argc, argv[], NULL, envp[], NULL, auxv. */
void run_early(long *sp);
__attribute__((used)) void run_early(long *sp)
{
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1);
	if (!run_mode(argc, argv))
		return;
	run_command(argc - 1, argv + 1, argv + argc + 1, NULL, &early);
	/* A failed exec has printed its warnings: main() only reports it. Every
	 * other outcome printed nothing, and main() starts over. */
	early_failed = early.status == RUN_EXEC;
}

const struct run_result *run_early_result(void)
{
	return early_failed ? &early : NULL;
}

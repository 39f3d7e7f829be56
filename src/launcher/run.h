/*
 * run: the launcher's run mode, `sockshim [-p POLICY] [-l LOG] [-v] [-n]
 * [--] COMMAND [ARG...]`, as a function that calls no library at all.
 *
 * Starting a program costs what the C library's own start-up costs, and on a
 * virtual machine that is most of it (CPUID probes that exit to the
 * hypervisor, relocations, page faults). So the launcher's entry point is
 * sockshim_start, not the C library's: it runs run_command() on the initial
 * stack before the C library has started, and the common case execs the
 * command from there. Only when that cannot be done (a subcommand, a usage
 * error, a failure to report) does it go on to the C library's start-up and
 * main(), which asks run_early_result() what happened.
 *
 * Contract of everything in run.c: system calls only. No C library call, not
 * even one the compiler makes up (memcpy for a loop), no errno, no
 * thread-local storage, no stack protector, no data that needs relocating
 * (the launcher is a static PIE and relocates itself later, in the C
 * library's start-up): the build fails if run.o has an undefined symbol.
 */
#ifndef SOCKSHIM_RUN_H
#define SOCKSHIM_RUN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

enum run_status {
	RUN_USAGE,      /* no COMMAND: the usage, exit 64 */
	RUN_BAD_OPTION, /* .arg is not an option run mode knows (or lacks its argument): exit 64 */
	RUN_POLICY,     /* -p .arg cannot be resolved (.err): exit 78 */
	RUN_BAD_LOG,    /* -l .arg is a bare word that is no sink (stdout): exit 64 */
	RUN_NO_LIBRARY, /* the library .path cannot be read: exit 127 */
	RUN_EXEC,       /* COMMAND .arg cannot be executed (.err): exit 127 if ENOENT, else 126 */
	RUN_NEED_LIBC,  /* a path could not be resolved through /proc: call again with a resolver */
	RUN_SECCOMP,    /* --seccomp: the supervisor's (main() supervises .arg's command) */
	RUN_STATIC,     /* COMMAND .arg is statically linked: no preload reaches it, main() supervises it */
};

struct run_result {
	enum run_status status;
	int err;         /* an errno value */
	const char *arg; /* one of argv's strings */
	char path[PATH_MAX];
};

/* realpath(3) for a file that exists: 0 with the path in out (PATH_MAX
 * bytes), or an errno value. */
typedef int (*run_resolve_fn)(const char *path, char *out);

/*
 * Run mode, argv being the words after "sockshim" (argc of them), envp the
 * environment: set SOCKSHIM_POLICY (-p, made absolute with symbolic links
 * resolved), SOCKSHIM_LOG (-l, a relative path made absolute),
 * SOCKSHIM_LOG_LEVEL=debug (-v) and SOCKSHIM_MODE=dry-run (-n); put the
 * library first in LD_PRELOAD (SOCKSHIM_LIBRARY, else next to the launcher's
 * executable, in ../lib or ../lib/sockshim, else LIBDIR); warn on fd 2 when
 * COMMAND is setuid or setgid, has file capabilities or is a static 64-bit
 * ELF; and exec COMMAND the way execvp(3) does. Does not return when the
 * exec succeeds; otherwise fills *res (and only then writes to it).
 * Paths are resolved through /proc/self/fd; where that fails, with resolve
 * when it is not NULL, else the result is RUN_NEED_LIBC.
 */
void run_command(int argc, char **argv, char **envp, run_resolve_fn resolve, struct run_result *res);

/* The SOCKSHIM_* variables the options -p, -l, -v, -n set, in that order. */
#define RUN_OPTION_VARS 4

/*
 * The options of run mode (argv as for run_command), for a caller that runs
 * COMMAND itself (the seccomp supervisor): set[k] = "VAR=value", made in
 * buf (size bytes; 8 * PATH_MAX is always enough), or NULL for an option
 * not given; *seccomp for --seccomp. The index of COMMAND in argv, or -1
 * with res saying why (RUN_USAGE, RUN_BAD_OPTION, RUN_POLICY).
 */
int run_options(int argc, char **argv, run_resolve_fn resolve, char *buf, size_t size, char *set[RUN_OPTION_VARS],
		bool *seccomp, struct run_result *res);

/* Is this invocation (main's argc, argv) run mode, rather than a subcommand,
 * --help or --version? main() asks it first, so a word it gives to main()
 * must be one main() handles. */
bool run_mode(int argc, char **argv);

/* What sockshim_start's run_command() left when it tried the exec and that
 * failed (its warnings are out already), else NULL: every other outcome
 * printed nothing, and main() calls run_command() itself. */
const struct run_result *run_early_result(void);

#endif

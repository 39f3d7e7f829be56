/*
 * launcher: the `sockshim` command, a second front end of the engine.
 *
 *   sockshim [-p POLICY] [-l LOG] [-v] [-n] [--seccomp] [--] COMMAND [ARG...]
 *   sockshim check POLICY...
 *   sockshim explain POLICY OP PROTO ADDR:PORT [--program NAME]
 *
 * Running a command execs it in place with the shim prepended to LD_PRELOAD,
 * so its exit status, its death by a signal and every signal sent to it are
 * its own; that is run.c, which does it before the C library has started,
 * and main() only reports its failures. With --seccomp, or for a statically
 * linked COMMAND that no preload reaches, main() runs the seccomp supervisor
 * instead (supervise.h), which decides with the same engine. check and
 * explain load the policy
 * with the same loader and ask the same engine the preloaded shim asks.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "fmt.h"
#include "netset.h"
#include "policy.h"
#include "run.h"
#include "supervise.h"
#include "window.h"

#ifndef SOCKSHIM_VERSION
#define SOCKSHIM_VERSION "0"
#endif
#define EX_USAGE 64
#define EX_CONFIG 78

static const char usage[] =
	"usage: sockshim [-p POLICY] [-l LOG] [-v] [-n] [--seccomp] [--] COMMAND [ARG...]\n"
	"       sockshim check POLICY...\n"
	"       sockshim explain POLICY OP PROTO ADDR:PORT [--program NAME]\n"
	"\n"
	"Run COMMAND with libsockshim preloaded, enforcing POLICY on its sockets.\n"
	"  -p POLICY  the policy file (default: $SOCKSHIM_POLICY, else " SYSCONFDIR_TEXT ")\n"
	"  -l LOG     where decisions go: stderr, none, syslog, file:/path, or a path\n"
	"  -v         log every intercepted call (log_level = debug)\n"
	"  -n         dry-run: decide and log, change nothing\n"
	"  --seccomp  supervise COMMAND's socket calls with seccomp instead of the\n"
	"             preload (for static and Go programs; chosen by itself for a\n"
	"             statically linked COMMAND)\n"
	"  -h, --help, --version\n"
	"\n"
	"check    validate policies; prints FILE:LINE: message per error; exit 0 or 78\n"
	"explain  which rule decides OP (bind, listen, connect, send) for PROTO (tcp, udp)\n"
	"         and ADDR:PORT ([v6]:port for IPv6), and what it would do\n";

static void report(void *ctx, enum ss_severity sev, const char *file, unsigned line, const char *msg)
{
	(void)ctx;
	if (line)
		fprintf(stderr, "%s:%u: %s%s\n", file, line, sev == SS_SEV_WARNING ? "warning: " : "", msg);
	else
		fprintf(stderr, "%s: %s%s\n", file, sev == SS_SEV_WARNING ? "warning: " : "", msg);
}

/* ---- check's warnings: valid policies that will not do what they say ---- */

static unsigned nwarnings;

static void warn(const struct ss_policy *p, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void warn(const struct ss_policy *p, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s:%u: warning: ", p->path, line);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	nwarnings++;
}

static bool mask_covers(unsigned outer, unsigned inner)
{
	return outer == 0 || (inner != 0 && (outer & inner) == inner);
}

/* Every call b can match, a matches too (a comes first, so b never decides). */
static bool shadows(const struct ss_rule *a, const struct ss_rule *b)
{
	if ((a->ops & b->ops) != b->ops || !mask_covers(a->protos, b->protos) || !mask_covers(a->families, b->families))
		return false;
	if (a->has_addr && (!b->has_addr || !ss_ipset_covers(&a->addr, &b->addr)))
		return false;
	if (a->has_port && (!b->has_port || !ss_portset_covers(&a->port, &b->port)))
		return false;
	if (a->nprograms) {
		if (!b->nprograms)
			return false;
		for (unsigned i = 0; i < b->nprograms; i++) {
			bool found = false;
			for (unsigned j = 0; j < a->nprograms && !found; j++)
				found = strcmp(a->programs[j], b->programs[i]) == 0 ||
					(!strpbrk(b->programs[i], "*?[") && ss_glob_match(a->programs[j], b->programs[i]));
			if (!found)
				return false;
		}
	}
	return true;
}

/* Can this host bind the address? (EADDRNOTAVAIL: not one of its own) */
static int bind_probe(const struct ss_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t len = ss_addr_to_sockaddr(a, &ss);
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	int rc = bind(fd, (struct sockaddr *)&ss, len) < 0 ? errno : 0;
	close(fd);
	return rc;
}

static long read_sysctl(const char *path, long dflt)
{
	FILE *f = fopen(path, "re");
	long v = dflt;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = dflt;
		fclose(f);
	}
	return v;
}

static bool kernel_has_port_range(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	uint32_t range = 60999u << 16 | 32768u;
	bool ok = fd >= 0 && setsockopt(fd, IPPROTO_IP, 51 /* IP_LOCAL_PORT_RANGE */, &range, sizeof(range)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static void lint(const struct ss_policy *p)
{
	long unpriv = read_sysctl("/proc/sys/net/ipv4/ip_unprivileged_port_start", 1024);
	long lo = 0, hi = 0;
	FILE *rf = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
	if (rf) {
		if (fscanf(rf, "%ld %ld", &lo, &hi) != 2)
			lo = hi = 0;
		fclose(rf);
	}
	ss_window_probe(p);
	for (unsigned i = 0; i < p->nrules; i++) {
		const struct ss_rule *r = &p->rules[i];
		for (unsigned j = 0; j < i; j++) {
			if (shadows(&p->rules[j], r)) {
				warn(p, r->line, "rule '%s' can never match: rule '%s' (line %u) comes first and matches every call it does",
				     r->name, p->rules[j].name, p->rules[j].line);
				break;
			}
		}
		for (unsigned k = 0; k < r->nsource; k++) {
			int e = bind_probe(&r->source[k]);
			if (e == EADDRNOTAVAIL) {
				char ip[64];
				struct fmt f;
				fmt_init(&f, ip, sizeof(ip));
				fmt_ip(&f, &r->source[k]);
				warn(p, r->line_source, "source %s is not an address of this host: binding it fails with EADDRNOTAVAIL", ip);
			}
		}
		bool udp = r->protos & SS_PROTO_UDP;
		if (udp && r->reuseaddr == SS_FLAG_FORCE)
			warn(p, r->line_reuseaddr, "'reuseaddr = force' on UDP lets another socket take over the port and its datagrams");
		if (udp && r->reuseport == SS_FLAG_FORCE)
			warn(p, r->line_reuseport, "'reuseport = force' on UDP lets another socket of this user share the port and its datagrams");
		if (r->has_source_port && r->source_port.n && r->source_port.r[0].lo < unpriv)
			warn(p, r->line_source_port, "source ports below %ld need CAP_NET_BIND_SERVICE (net.ipv4.ip_unprivileged_port_start)", unpriv);
		if (r->has_source_port && r->rotate == SS_ROTATE_KERNEL && !kernel_has_port_range())
			warn(p, r->line_rotate, "'rotate = kernel': this kernel has no IP_LOCAL_PORT_RANGE (6.3+); the shim rotates the window itself");
		else if (r->has_source_port && (!r->protos || (r->protos & SS_PROTO_TCP)) && !ss_window_checked(&r->source_port))
			warn(p, r->line_source_port,
			     "the kernel cannot check this window's ports (not all inside net.ipv4.ip_local_port_range %ld-%ld, or some in "
			     "ip_local_reserved_ports): the shim binds exact ports, and a non-blocking connect whose 4-tuple is taken gets EADDRNOTAVAIL",
			     lo, hi);
	}
}

static int cmd_check(int argc, char **argv)
{
	if (argc < 1) {
		fputs(usage, stderr);
		return EX_USAGE;
	}
	int rc = 0;
	for (int i = 0; i < argc; i++) {
		struct ss_policy *p = ss_policy_load(argv[i], report, NULL);
		if (!p || p->nerrors) {
			rc = EX_CONFIG;
		} else {
			nwarnings = 0;
			lint(p);
			printf("%s: OK, %u rule%s", argv[i], p->nrules, p->nrules == 1 ? "" : "s");
			if (nwarnings)
				printf(", %u warning%s", nwarnings, nwarnings == 1 ? "" : "s");
			putchar('\n');
		}
		ss_policy_free(p);
	}
	return rc;
}

static void print_ports(const struct ss_portset *s)
{
	for (unsigned i = 0; i < s->n; i++) {
		if (i)
			fputs(", ", stdout);
		if (s->r[i].lo == s->r[i].hi)
			printf("%u", s->r[i].lo);
		else
			printf("%u-%u", s->r[i].lo, s->r[i].hi);
	}
}

static void print_addr(const struct ss_addr *a, bool with_port)
{
	char buf[80];
	struct fmt f;
	fmt_init(&f, buf, sizeof(buf));
	if (with_port)
		fmt_endpoint(&f, a);
	else
		fmt_ip(&f, a);
	fputs(buf, stdout);
}

static void explain_rule(const struct ss_rule *r, enum ss_op op, const struct ss_policy *p)
{
	static const char *const rot[] = { "sequential", "random", "kernel" };
	printf("rule '%s' (%s:%u) decides%s:\n", r->name, p->path, r->line, p->global.dry_run ? " (mode = dry-run: logged only)" : "");
	if (!r->has_actions) {
		puts("  allow: the call passes through unchanged, and is logged");
		return;
	}
	if (r->deny) {
		printf("  deny: the call fails with %s; the real call is not made\n", ss_errno_name(r->deny));
		return;
	}
	if (r->has_rewrite) {
		fputs("  rewrite: ", stdout);
		if (r->rewrite_ip)
			print_addr(&r->rewrite, false);
		else
			fputs("(same address)", stdout);
		if (r->rewrite_port)
			printf(" port %u", r->rewrite.port);
		else
			fputs(" (same port)", stdout);
		puts(op == SS_OP_BIND || op == SS_OP_LISTEN ? " instead of the address asked for" : " instead of the destination asked for");
	}
	if (r->reuseaddr)
		printf("  reuseaddr: SO_REUSEADDR=%d before the call; the application cannot undo it\n", r->reuseaddr == SS_FLAG_FORCE);
	if (r->reuseport)
		printf("  reuseport: SO_REUSEPORT=%d before the call; the application cannot undo it\n", r->reuseport == SS_FLAG_FORCE);
	for (unsigned i = 0; i < r->nsockopts; i++)
		printf("  sockopt: %s\n", r->sockopts[i].text);
	if (r->nsource) {
		fputs("  source: bind to ", stdout);
		for (unsigned i = 0; i < r->nsource; i++) {
			if (i)
				fputs(", ", stdout);
			print_addr(&r->source[i], false);
		}
		if (r->nsource > 1)
			printf(" (a pool, rotated %s)", rot[r->rotate]);
		puts(" before connecting, unless the application bound the socket itself");
	}
	if (r->has_source_port) {
		fputs("  source_port: ", stdout);
		print_ports(&r->source_port);
		printf(" (%u ports, rotate %s%s)\n", r->source_port.count, rot[r->rotate],
		       r->rotate == SS_ROTATE_KERNEL ? ": the kernel picks inside the window, IP_LOCAL_PORT_RANGE"
						     : "; a busy port is skipped, a taken 4-tuple is retried from the next port on a fresh socket");
	} else if (r->nsource) {
		printf("  the port is chosen by the kernel at connect time (IP_BIND_ADDRESS_NO_PORT)%s\n",
		       r->nsource > 1 ? "; an address with no port left hands over to the next one" : "");
	}
	if ((r->nsource > 1 || r->has_source_port) && r->rotate != SS_ROTATE_KERNEL)
		printf("  rotate_scope: %s\n", r->rotate_host ? "host (cursors shared through /dev/shm by every process loading this file)"
								  : "process (each process starts at its own random point)");
}

static int cmd_explain(int argc, char **argv)
{
	const char *program = NULL;
	if (argc == 6 && strcmp(argv[4], "--program") == 0)
		program = argv[5];
	else if (argc != 4) {
		fputs(usage, stderr);
		return EX_USAGE;
	}
	struct ss_opdesc d = { 0 };
	bool found = false;
	for (int op = 0; op < SS_OP_COUNT; op++)
		if (strcmp(argv[1], ss_op_name((enum ss_op)op)) == 0) {
			d.op = (enum ss_op)op;
			found = true;
		}
	if (!found) {
		fprintf(stderr, "sockshim: explain: OP must be bind, listen, connect or send, not '%s'\n", argv[1]);
		return EX_USAGE;
	}
	if (strcmp(argv[2], "tcp") == 0)
		d.proto = SS_PROTO_TCP;
	else if (strcmp(argv[2], "udp") == 0)
		d.proto = SS_PROTO_UDP;
	else {
		fprintf(stderr, "sockshim: explain: PROTO must be tcp or udp, not '%s'\n", argv[2]);
		return EX_USAGE;
	}
	struct ss_addr a;
	bool has_ip, has_port;
	if (!ss_addr_parse_endpoint(&a, &has_ip, &has_port, argv[3]) || !has_ip || !has_port) {
		fprintf(stderr, "sockshim: explain: ADDR:PORT must look like 10.0.0.1:80 or [::1]:80, not '%s'\n", argv[3]);
		return EX_USAGE;
	}
	d.family = a.family == 6 ? SS_FAM_V6 : SS_FAM_V4;
	d.addr = &a;

	struct ss_policy *p = ss_policy_load(argv[0], report, NULL);
	if (!p || p->nerrors) {
		ss_policy_free(p);
		return EX_CONFIG;
	}
	/* Without --program, rules that name programs cannot match. */
	ss_policy_bind_program(p, program ? program : "", NULL);
	const struct ss_rule *r = ss_decide(p, &d);
	printf("%s %s %s", argv[1], argv[2], argv[3]);
	if (program)
		printf(" (program %s)", program);
	puts("");
	if (r) {
		explain_rule(r, d.op, p);
	} else {
		puts("no rule matches: the call passes through untouched");
		if (!program)
			for (unsigned i = 0; i < p->nrules; i++)
				if (p->rules[i].nprograms && ss_rule_matches(&p->rules[i], &(struct ss_opdesc){ d.op, d.proto, d.family, d.addr, p->rules[i].programs[0] })) {
					printf("(rule '%s' at line %u would match for some programs: give --program NAME)\n", p->rules[i].name, p->rules[i].line);
					break;
				}
	}
	ss_policy_free(p);
	return 0;
}

static int resolve_libc(const char *path, char *out)
{
	return realpath(path, out) ? 0 : errno;
}

static int report_run(const struct run_result *r, int argc, char **argv);

/* The supervisor: run mode's options become the environment the preload
 * would have read, then supervise.h runs COMMAND. */
static int cmd_seccomp(int argc, char **argv)
{
	static char buf[8 * PATH_MAX];
	char *set[RUN_OPTION_VARS];
	bool seccomp;
	struct run_result r;
	int i = run_options(argc, argv, resolve_libc, buf, sizeof(buf), set, &seccomp, &r);
	if (i < 0)
		return report_run(&r, argc, argv);
	for (int k = 0; k < RUN_OPTION_VARS; k++)
		if (set[k])
			putenv(set[k]);
	return ss_supervise(argv + i);
}

/* Run mode (see run.h): the exec normally happened in sockshim_start, before
 * the C library started; here only its failures are reported, or the whole
 * of it done when it could not run there (a path /proc could not resolve, a
 * sanitizer build). */
static int cmd_run(int argc, char **argv)
{
	struct run_result mine;
	const struct run_result *r = run_early_result();
	if (!r) {
		run_command(argc, argv, environ, resolve_libc, &mine);
		r = &mine;
	}
	return report_run(r, argc, argv);
}

/* What run mode left: its failure reported, or COMMAND for the supervisor. */
static int report_run(const struct run_result *r, int argc, char **argv)
{
	switch (r->status) {
	case RUN_USAGE:
		fputs(usage, stderr);
		return EX_USAGE;
	case RUN_BAD_OPTION:
		fprintf(stderr, "sockshim: unknown option %s\n%s", r->arg, usage);
		return EX_USAGE;
	case RUN_POLICY:
		fprintf(stderr, "sockshim: %s: %s\n", r->arg, strerror(r->err));
		return EX_CONFIG;
	case RUN_NO_LIBRARY:
		fprintf(stderr, "sockshim: cannot find libsockshim.so (looked for %s); set SOCKSHIM_LIBRARY\n", r->path);
		return 127;
	case RUN_EXEC:
		fprintf(stderr, "sockshim: %s: %s\n", r->arg, strerror(r->err));
		return r->err == ENOENT ? 127 : 126;
	case RUN_NEED_LIBC:
		break; /* not with a resolver */
	case RUN_SECCOMP:
		return cmd_seccomp(argc, argv);
	case RUN_STATIC:
		fprintf(stderr, "sockshim: note: %s is statically linked: LD_PRELOAD cannot reach it, "
				"so it runs under the seccomp supervisor (--seccomp)\n", r->arg);
		return cmd_seccomp(argc, argv);
	}
	return 127;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return EX_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		puts("sockshim " SOCKSHIM_VERSION);
		return 0;
	}
	if (run_mode(argc, argv))
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 2, argv + 2);
	if (strcmp(argv[1], "explain") == 0)
		return cmd_explain(argc - 2, argv + 2);
	fputs(usage, stderr); /* a word run_mode() leaves to main() that main() does not know */
	return EX_USAGE;
}

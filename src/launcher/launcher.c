/*
 * launcher: the `sockshim` command, a second front end of the engine.
 *
 *   sockshim [-p POLICY] [-l LOG] [-v] [-n] [--seccomp] [--] COMMAND [ARG...]
 *   sockshim check POLICY...
 *   sockshim explain POLICY OP PROTO ADDR:PORT [--program NAME] [--family ipv4|ipv6|dual] [--host NAME]
 *   sockshim explain POLICY resolve NAME [--program NAME] [--family ipv4|ipv6]
 *   sockshim report [--json] LOG...
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

#include "actions.h"
#include "decide.h"
#include "explain_names.h"
#include "fmt.h"
#include "hostname.h"
#include "netset.h"
#include "policy.h"
#include "report.h"
#include "run.h"
#include "shadow.h"
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
	"       sockshim explain POLICY OP PROTO ADDR:PORT [--program NAME] [--family ipv4|ipv6|dual] [--host NAME]\n"
	"       sockshim explain POLICY resolve NAME [--program NAME] [--family ipv4|ipv6]\n"
	"       sockshim report [--json] LOG...\n"
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
	"         and ADDR:PORT ([v6]:port for IPv6), and what it would do; --host NAME:\n"
	"         the address came from a lookup of NAME (what 'host' rules see);\n"
	"         explain POLICY resolve NAME: which rule answers a lookup of NAME\n";

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

/* Can this host bind the address? (EADDRNOTAVAIL: not one of its own) */
static int bind_probe_once(const struct ss_addr *a)
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

/* The same, asked once per address: large policies name a few source
 * addresses in thousands of rules. */
static int bind_probe(const struct ss_addr *a)
{
	static struct {
		char ip[64];
		int err;
	} memo[1024];
	char ip[64];
	struct fmt f;
	fmt_init(&f, ip, sizeof(ip));
	fmt_ip(&f, a);
	uint32_t h = 2166136261u;
	for (const char *c = ip; *c; c++)
		h = (h ^ (unsigned char)*c) * 16777619u;
	for (unsigned i = 0; i < 1024; i++) {
		unsigned k = (h + i) & 1023;
		if (strcmp(memo[k].ip, ip) == 0)
			return memo[k].err;
		if (!memo[k].ip[0]) {
			memo[k].err = bind_probe_once(a);
			memcpy(memo[k].ip, ip, sizeof(ip));
			return memo[k].err;
		}
	}
	return bind_probe_once(a); /* more than 1,024 addresses */
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
	static int known = -1; /* asked once, not once per rule */
	if (known < 0) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		uint32_t range = 60999u << 16 | 32768u;
		known = fd >= 0 && setsockopt(fd, IPPROTO_IP, 51 /* IP_LOCAL_PORT_RANGE */, &range, sizeof(range)) == 0;
		if (fd >= 0)
			close(fd);
	}
	return known;
}

/* An IPv6 address that is not IPv4-mapped: no AF_INET socket takes it. */
static bool only_v6(const struct ss_addr *a)
{
	uint32_t v4;
	return a->family == 6 && !ss_addr_v4_view(a, &v4);
}

/* Rules that can never apply as written: whatever the call, they fail or
 * never match (the man page lists them). */
static void lint_impossible(const struct ss_policy *p, const struct ss_rule *r)
{
	bool v4only = r->families == SS_FAM_V4, warned = false;
	/* (a rewrite to IPv6 with family = ipv4 is an error of the policy) */
	for (unsigned k = 0; v4only && k < r->nsource; k++)
		if (only_v6(&r->source[k])) {
			warn(p, r->line_source, "rule '%s': an IPv6 source with 'family = ipv4' can never be bound (EAFNOSUPPORT)", r->name);
			warned = true;
			break;
		}
	if (v4only && r->has_addr && r->addr.n4 == 0) {
		warn(p, r->line, "rule '%s' can never match: 'family = ipv4' with only IPv6 addresses in 'addr'", r->name);
		warned = true;
	}
	if (r->ops == SS_OPBIT(SS_OP_LISTEN) && r->protos == SS_PROTO_UDP)
		warn(p, r->line, "rule '%s' can never match: listen is never called on a UDP socket", r->name);
	/* a source serves only destinations of its own family (actions.c) */
	bool dest4 = r->has_addr ? r->addr.n4 > 0 : true;
	bool dest6 = r->has_addr ? r->addr.n6 > 0 : (!r->families || (r->families & SS_FAM_V6));
	bool src4 = false, src6 = false;
	for (unsigned k = 0; k < r->nsource; k++) {
		src4 |= r->source[k].family == 4;
		src6 |= r->source[k].family == 6;
	}
	if (!warned && r->nsource && !(dest4 && src4) && !(dest6 && src6))
		warn(p, r->line_source, "rule '%s': no source address of the family of the destinations it matches (%s): "
			"its source is never bound (skip=no-source-for-family)", r->name, dest4 && dest6 ? "IPv4 and IPv6" : dest4 ? "IPv4" : "IPv6");
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
	names_lint(p, warn);
	uint32_t *by = calloc(p->nrules ? p->nrules : 1, sizeof(*by));
	long cut = by ? ss_shadow_find(p, SS_SHADOW_MAX_COMPARE, by) : -1;
	if (cut < 0)
		fprintf(stderr, "%s: note: out of memory: rules were not checked for shadowing\n", p->path);
	for (unsigned i = 0; i < p->nrules; i++) {
		const struct ss_rule *r = &p->rules[i];
		lint_impossible(p, r);
		if (cut >= 0 && by[i] != UINT32_MAX) {
			const struct ss_rule *a = &p->rules[by[i]];
			warn(p, r->line, "rule '%s' can never match: rule '%s' (line %u) comes first and matches every call it does",
			     r->name, a->name, a->line);
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
	if (cut > 0)
		fprintf(stderr, "%s: note: %ld rule%s compared with only the first %u earlier rules that could shadow them "
			"(too many share their address, port and program): more of them may never match\n",
			p->path, cut, cut == 1 ? " was" : "s were", (unsigned)SS_SHADOW_MAX_COMPARE);
	free(by);
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
		printf("  rotate_scope: %s\n", r->rotate_host ? "host (cursors shared through System V shm by every process loading this file)"
								  : "process (each process starts at its own random point)");
}

/* explain's v6only callback: the state --family gave (decide.h) */
static int given_v6only(void *ctx)
{
	return *(const int *)ctx;
}

/* What the real call does with the rule's rewrite on this socket, through
 * the action the front ends carry out (actions.h). */
static void explain_effective(const struct ss_rule *r, const struct ss_callsite *cs)
{
	struct ss_call c = { 0 };
	c.op = cs->op;
	c.proto = cs->proto;
	c.family = cs->family;
	c.app = *cs->addr;
	c.rule = r;
	ss_actions_init(&c.acts);
	struct ss_addr t = c.app;
	if (ss_act_rewrite(&c, &t)) {
		fputs("  effective address: ", stdout);
		print_addr(&t, true);
		putchar('\n');
	} else {
		puts("  effective address: none, the call fails with EAFNOSUPPORT (an IPv6 address for an AF_INET socket)");
	}
}

/* What the real connect does with the rule's source and source_port on this
 * socket, through the action the front ends carry out, in dry-run mode
 * (actions.h): the same skips and fallbacks its log line would show. */
static void explain_source(const struct ss_rule *r, const struct ss_callsite *cs, const struct ss_policy *p)
{
	if (cs->op != SS_OP_CONNECT || (!r->nsource && !r->has_source_port))
		return;
	ss_window_probe(p);
	struct ss_call c = { 0 };
	c.op = cs->op;
	c.proto = cs->proto;
	c.family = cs->family;
	c.app = *cs->addr;
	c.rule = r;
	c.fd = -1;
	c.dry = true;
	ss_actions_init(&c.acts);
	c.acts.wanted = true;
	struct ss_addr t = c.app;
	if (r->has_rewrite && !ss_act_rewrite(&c, &t))
		return;
	ss_act_source(&c, &t);
	bool nofam = false, unavail = false;
	fputs("  the real call logs: actions=", stdout);
	for (unsigned o = 0, i = 0; o < c.acts.len && i < c.acts.n; i++) {
		const char *act = c.acts.buf + o;
		printf("%s%s", i ? "," : "", act);
		nofam |= strcmp(act, "skip=no-source-for-family") == 0;
		unavail |= strcmp(act, "rotate=kernel-unavailable") == 0;
		o += (unsigned)strlen(act) + 1;
	}
	putchar('\n');
	if (nofam)
		puts("  effective source: none: the rule has no source address of this destination's family, so nothing is bound and the kernel picks address and port");
	if (unavail)
		puts("  effective rotate: the kernel cannot check this window (outside net.ipv4.ip_local_port_range, or in ip_local_reserved_ports): the shim binds exact ports itself");
}

/* A rule that would decide the call for an address some lookup returned:
 * tried with its first pattern as the name (a glob matches itself). */
static void explain_host_hint(const struct ss_policy *p, const struct ss_callsite *cs)
{
	for (unsigned i = 0; i < p->nrules; i++) {
		const struct ss_rule *o = &p->rules[i];
		if (o->nhosts && (o->ops & SS_OPBIT(cs->op)) && ss_decide_call_host(p, cs, o->hosts[0], NULL) == o) {
			printf("(rule '%s' at line %u would match if the address came from a lookup of %s: give --host NAME)\n", o->name,
			       o->line, o->hosts[0]);
			return;
		}
	}
}

static int cmd_explain(int argc, char **argv)
{
	const char *program = NULL, *family = NULL, *host = NULL;
	char norm[SS_HOST_MAX];
	if (argc >= 2 && strcmp(argv[1], ss_op_name(SS_OP_RESOLVE)) == 0)
		return explain_resolve(argc, argv);
	if (argc < 4 || argc % 2) {
		fputs(usage, stderr);
		return EX_USAGE;
	}
	for (int i = 4; i < argc; i += 2) {
		const char *w = argv[i];
		if (strcmp(w, "--program") == 0) {
			program = argv[i + 1];
		} else if (strcmp(w, "--family") == 0) {
			family = argv[i + 1];
			if (strcmp(family, "ipv4") != 0 && strcmp(family, "ipv6") != 0 && strcmp(family, "dual") != 0) {
				fprintf(stderr, "sockshim: explain: --family must be ipv4, ipv6 or dual, not '%s'\n", family);
				return EX_USAGE;
			}
		} else if (strcmp(w, "--host") == 0) {
			host = argv[i + 1];
			if (!ss_host_norm(norm, host)) {
				fprintf(stderr, "sockshim: explain: --host must be a name a lookup was made for, such as api.example.com, not '%s'\n",
					host);
				return EX_USAGE;
			}
		} else {
			fputs(usage, stderr);
			return EX_USAGE;
		}
	}
	struct ss_callsite cs = { 0 };
	bool found = false;
	for (int op = 0; op < SS_OP_COUNT; op++)
		if (strcmp(argv[1], ss_op_name((enum ss_op)op)) == 0) {
			cs.op = (enum ss_op)op;
			found = true;
		}
	if (!found) {
		fprintf(stderr, "sockshim: explain: OP must be bind, listen, connect, send or resolve, not '%s'\n", argv[1]);
		return EX_USAGE;
	}
	if (strcmp(argv[2], "tcp") == 0)
		cs.proto = SS_PROTO_TCP;
	else if (strcmp(argv[2], "udp") == 0)
		cs.proto = SS_PROTO_UDP;
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
	/* The socket: as --family says, else what the address implies; an IPv6
	 * wildcard is dual-stack unless net.ipv6.bindv6only says otherwise, as
	 * for a program that leaves IPV6_V6ONLY alone. */
	if (!family)
		family = a.family == 4 ? "ipv4" : read_sysctl("/proc/sys/net/ipv6/bindv6only", 0) ? "ipv6" : "dual";
	int v6only = strcmp(family, "dual") != 0;
	cs.family = strcmp(family, "ipv4") == 0 ? SS_FAM_V4 : SS_FAM_V6;
	if (cs.family == SS_FAM_V4 && a.family == 6) {
		printf("%s %s %s\nno rule applies: the kernel refuses an IPv6 address on an AF_INET socket (EAFNOSUPPORT)\n", argv[1], argv[2], argv[3]);
		return 0;
	}
	/* An IPv6 socket is given IPv4 as a program gives it: 0.0.0.0 as ::
	 * (how dual-stack programs ask for it), other addresses v4-mapped. */
	if (cs.family == SS_FAM_V6 && a.family == 4 && !ss_addr_is_any(&a))
		ss_addr_for_family(&a, 6);
	else if (cs.family == SS_FAM_V6 && a.family == 4)
		a = (struct ss_addr){ .family = 6, .port = a.port };
	cs.addr = &a;
	cs.argv0 = program;
	cs.v6only = given_v6only;
	cs.ctx = &v6only;

	struct ss_policy *p = ss_policy_load(argv[0], report, NULL);
	if (!p || p->nerrors) {
		ss_policy_free(p);
		return EX_CONFIG;
	}
	/* Without --program, rules that name programs cannot match. */
	ss_policy_bind_program(p, program ? program : "", NULL);
	/* the preload's question (shim.c): the name is asked for only when a
	 * rule on this op has `host`; a host rule never matches without one */
	const char *name = host && (p->host_ops & SS_OPBIT(cs.op)) ? norm : NULL;
	const struct ss_rule *r = ss_decide_call_host(p, &cs, name, NULL);
	printf("%s %s %s", argv[1], argv[2], argv[3]);
	if (program)
		printf(" (program %s)", program);
	if (host)
		printf(" (an address a lookup of %s returned)", host);
	if (cs.family == SS_FAM_V6) {
		printf(" on an AF_INET6 socket, IPV6_V6ONLY=%d%s: the program passes ", v6only, v6only ? "" : " (dual-stack)");
		print_addr(&a, true);
	}
	puts("");
	if (r) {
		explain_rule(r, cs.op, p);
		if (r->has_rewrite && !r->deny)
			explain_effective(r, &cs);
		if (!r->deny)
			explain_source(r, &cs, p);
	} else {
		puts("no rule matches: the call passes through untouched");
		if (!program)
			for (unsigned i = 0; i < p->nrules; i++) {
				struct ss_callsite other = cs;
				other.argv0 = p->rules[i].programs ? p->rules[i].programs[0] : NULL;
				if (p->rules[i].nprograms && ss_decide_call_host(p, &other, name, NULL) == &p->rules[i]) {
					printf("(rule '%s' at line %u would match for some programs: give --program NAME)\n", p->rules[i].name, p->rules[i].line);
					break;
				}
			}
		if (!host)
			explain_host_hint(p, &cs);
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
	case RUN_BAD_LOG:
		fprintf(stderr, "sockshim: -l %s: not a log sink: use stderr, none, syslog, syslog:/socket, "
				"file:PATH or a path with a '/' or '.' in it\n", r->arg);
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
		fprintf(stderr, "sockshim: %s is static: using --seccomp\n", r->arg);
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
	if (strcmp(argv[1], "report") == 0)
		return report_main(argc - 2, argv + 2);
	fputs(usage, stderr); /* a word run_mode() leaves to main() that main() does not know */
	return EX_USAGE;
}

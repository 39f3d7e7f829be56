/*
 * explain_names: see explain_names.h.
 */
#include "explain_names.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "decide.h"
#include "fmt.h"
#include "hostname.h"

#define EX_USAGE 64
#define EX_CONFIG 78

static const char usage[] = "usage: sockshim explain POLICY resolve NAME [--program NAME] [--family ipv4|ipv6]\n";

static void report(void *ctx, enum ss_severity sev, const char *file, unsigned line, const char *msg)
{
	(void)ctx;
	if (line)
		fprintf(stderr, "%s:%u: %s%s\n", file, line, sev == SS_SEV_WARNING ? "warning: " : "", msg);
	else
		fprintf(stderr, "%s: %s%s\n", file, sev == SS_SEV_WARNING ? "warning: " : "", msg);
}

bool names_rule_needs_preload(const struct ss_rule *r)
{
	return (r->ops & SS_OPBIT(SS_OP_RESOLVE)) || r->nhosts;
}

void names_lint(const struct ss_policy *p, names_warn_fn warn)
{
	for (unsigned i = 0; i < p->nrules; i++) {
		const struct ss_rule *r = &p->rules[i];
		if (r->ops & SS_OPBIT(SS_OP_RESOLVE))
			warn(p, r->line, "rule '%s' applies under the preload only: with --seccomp, name lookups happen inside the "
				"program (Go's own resolver, a static binary's libc) and are never seen, so it answers or refuses none",
			     r->name);
		else if (r->nhosts)
			warn(p, r->line, "rule '%s' matches under the preload only: with --seccomp, name lookups happen inside the "
				"program (Go's own resolver, a static binary's libc) and are never seen, so its 'host' never matches",
			     r->name);
	}
}

/* The answers of family fam (4 or 6) as a list; false when there is none. */
static bool print_answers(const struct ss_rule *r, unsigned fam)
{
	bool any = false;
	for (unsigned i = 0; i < r->nanswers; i++) {
		if (fam && r->answers[i].family != fam)
			continue;
		char ip[64];
		struct fmt f;
		fmt_init(&f, ip, sizeof(ip));
		fmt_ip(&f, &r->answers[i]);
		printf("%s%s", any ? ", " : "", ip);
		any = true;
	}
	return any;
}

/* What a lookup of family fam (0 any, 4, 6) gets from a rewrite: the
 * answers as answer.h hands them back. */
static void explain_answers(const struct ss_rule *r, unsigned fam)
{
	fputs("  rewrite: the lookup is answered with ", stdout);
	print_answers(r, 0);
	puts(", in that order; no DNS query is made");
	if (fam == 0) {
		fputs("  AF_UNSPEC gets all of them; AF_INET gets ", stdout);
		if (!print_answers(r, 4))
			fputs("none (EAI_NONAME)", stdout);
		fputs("; AF_INET6 gets ", stdout);
		if (!print_answers(r, 6))
			fputs("none (EAI_NONAME; with AI_V4MAPPED the IPv4 ones, v4-mapped)", stdout);
		putchar('\n');
	} else {
		printf("  for %s: ", fam == 4 ? "AF_INET" : "AF_INET6");
		if (!print_answers(r, fam))
			fputs(fam == 4 ? "no answer: the lookup fails with EAI_NONAME (gethostbyname: HOST_NOT_FOUND)"
				       : "no answer: EAI_NONAME (HOST_NOT_FOUND), or with AI_V4MAPPED the IPv4 ones, v4-mapped",
			      stdout);
		putchar('\n');
	}
}

static const char *h_errno_name(int h)
{
	return h == HOST_NOT_FOUND ? "HOST_NOT_FOUND" : h == TRY_AGAIN ? "TRY_AGAIN" : h == NO_DATA ? "NO_DATA" : "NO_RECOVERY";
}

int explain_resolve(int argc, char **argv)
{
	const char *program = NULL, *family = NULL;
	if (argc < 3 || argc % 2 == 0) {
		fputs(usage, stderr);
		return EX_USAGE;
	}
	for (int i = 3; i < argc; i += 2) {
		if (strcmp(argv[i], "--program") == 0) {
			program = argv[i + 1];
		} else if (strcmp(argv[i], "--family") == 0) {
			family = argv[i + 1];
			if (strcmp(family, "ipv4") != 0 && strcmp(family, "ipv6") != 0) {
				fprintf(stderr, "sockshim: explain: --family of a lookup must be ipv4 or ipv6 (AF_INET, AF_INET6), not '%s'\n",
					family);
				return EX_USAGE;
			}
		} else {
			fputs(usage, stderr);
			return EX_USAGE;
		}
	}
	const char *name = argv[2];
	char norm[SS_HOST_MAX];
	/* the hooks' question for the family asked: getaddrinfo and, for
	 * AF_INET and AF_INET6, the gethostbyname family, which glibc lets
	 * take other strings as addresses (hostname.h) */
	unsigned fam0 = !family ? 0 : strcmp(family, "ipv4") == 0 ? 4 : 6;
	bool is_name = ss_lookup_name(norm, name, fam0 == 4 ? SS_LOOKUP_GAI_INET : SS_LOOKUP_GAI);
	char norm2[SS_HOST_MAX];
	bool ghbn_name = fam0 && ss_lookup_name(norm2, name, fam0 == 4 ? SS_LOOKUP_GHBN_INET : SS_LOOKUP_GHBN_INET6);

	struct ss_policy *p = ss_policy_load(argv[0], report, NULL);
	if (!p || p->nerrors) {
		ss_policy_free(p);
		return EX_CONFIG;
	}
	/* the family asked for, as the hooks give it: AF_UNSPEC is both */
	unsigned fam = !family ? 0 : strcmp(family, "ipv4") == 0 ? 4 : 6;
	unsigned fams = fam == 4 ? SS_FAM_V4 : fam == 6 ? SS_FAM_V6 : SS_FAM_V4 | SS_FAM_V6;
	printf("resolve %s", name);
	if (program)
		printf(" (program %s)", program);
	printf(", %s\n", fam == 4 ? "AF_INET (gethostbyname, getaddrinfo with ai_family = AF_INET)"
		   : fam == 6 ? "AF_INET6 (gethostbyname2, getaddrinfo with ai_family = AF_INET6)"
			      : "any family (getaddrinfo with AF_UNSPEC)");
	if (fam0 && is_name != ghbn_name) {
		printf("%s; %s\n", is_name ? "getaddrinfo looks it up as a name" : "getaddrinfo takes it as a numeric address (no lookup)",
		       ghbn_name ? "gethostbyname looks it up as a name" : "gethostbyname takes it as a numeric address (no lookup)");
		if (!is_name) {
			is_name = true;
			memcpy(norm, norm2, sizeof(norm));
		}
	}
	if (!is_name) {
		puts("not a name a rule sees (a numeric address, or empty, too long, or with white space): libc answers it untouched");
		ss_policy_free(p);
		return 0;
	}
	ss_policy_bind_program(p, program ? program : "", NULL);
	const struct ss_rule *r = NULL;
	/* the preload's question (resolve.c): the op, the family, the name */
	if (p->op_mask & SS_OPBIT(SS_OP_RESOLVE)) {
		struct ss_callsite s = { SS_OP_RESOLVE, 0, fams, NULL, NULL, NULL, NULL, NULL };
		r = ss_decide_call_host(p, &s, norm, NULL);
	}
	if (!r) {
		puts("no rule matches: the lookup passes through to libc untouched (DNS, /etc/hosts, as nsswitch.conf says)");
		if (!program)
			for (unsigned i = 0; i < p->nrules; i++) {
				const struct ss_rule *o = &p->rules[i];
				struct ss_callsite s = { SS_OP_RESOLVE, 0, fams, NULL, o->programs ? o->programs[0] : NULL, NULL, NULL, NULL };
				if (o->nprograms && ss_decide_call_host(p, &s, norm, NULL) == o) {
					printf("(rule '%s' at line %u would match for some programs: give --program NAME)\n", o->name, o->line);
					break;
				}
			}
	} else {
		printf("rule '%s' (%s:%u) decides%s:\n", r->name, p->path, r->line,
		       p->global.dry_run ? " (mode = dry-run: logged only, libc answers)" : "");
		if (r->deny_eai)
			printf("  deny: the lookup fails with %s (gethostbyname: h_errno %s); no DNS query is made\n", ss_eai_name(r->deny_eai),
			       h_errno_name(ss_eai_h_errno(r->deny_eai)));
		else if (r->nanswers)
			explain_answers(r, fam);
		else
			puts("  allow: the lookup passes through to libc unchanged, and is logged");
	}
	if (p->host_ops && !(r && r->deny_eai && !p->global.dry_run))
		puts("the addresses the program gets back are what 'host' rules on connect and send see for this name");
	bool seccomp_blind = false;
	for (unsigned i = 0; i < p->nrules && !seccomp_blind; i++)
		seccomp_blind = names_rule_needs_preload(&p->rules[i]);
	if (seccomp_blind)
		puts("(under --seccomp no lookup is seen: the program resolves by itself)");
	ss_policy_free(p);
	return 0;
}

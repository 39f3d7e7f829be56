/*
 * policybench: the decision engine alone (no preload), on large policies.
 * It links build/libsockshim-engine.a, so tests/bench/run.sh (which builds
 * each tests/bench/NAME.c on its own) does not build it: 50-policy-size.sh
 * compiles it from this subdirectory.
 *
 *   policybench gen KIND SEED
 *       print a policy: one4 (one rule, addr = 198.51.100.0/24), one6 (one
 *       rule, addr = 2001:db8:1::/48), cidrs (one rule with 100,000 random
 *       CIDRs, 70 % IPv4 and 30 % IPv6, among them both one-entry CIDRs),
 *       rules-nested, rules-disjoint (1,000 rules on connect, each with 3
 *       IPv4 CIDRs in 10/8, one IPv6 CIDR in fd00::/16 and the ports 443,
 *       8000-8099 and one more: none matches the probes; see gen_rules),
 *       rules-nested-last, rules-disjoint-last (the same, the 1,000th rule
 *       being addr = 198.51.100.0/24), rules-otherop (rules-disjoint on bind
 *       and send instead of connect). Random but seeded: the same SEED
 *       gives the same file on every machine. No generated CIDR covers a
 *       probe address except where said.
 *
 *   policybench decide POLICY N PROBE...
 *       load POLICY once; for each PROBE (connect:tcp:198.51.100.7:443,
 *       connect:tcp:[2001:db8::1]:443) print the rule that decides, then
 *       call ss_decide N times and 2N times. Under callgrind each of the
 *       two loops is bracketed by CALLGRIND_ZERO_STATS and a dump named
 *       "PROBE N" / "PROBE 2N", so the script reads the instructions of
 *       exactly those loops; the slope (2N - N) / N is per decision. Outside
 *       valgrind it prints ns per decision instead (a loop of >= 0.2 s).
 *
 *   policybench load POLICY REPS
 *       time ss_policy_load REPS times (the file is read each time; it is
 *       in the page cache after the first); print each time in ms, the
 *       bytes the policy's arena has mapped, the address ranges its rules
 *       hold after merging, and the resident memory it adds (VmRSS while
 *       held, and the peak during the load: VmHWM reset through
 *       /proc/self/clear_refs).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(s) ((void)(s))
#define RUNNING_ON_VALGRIND 0
#define NO_VALGRIND_HEADERS 1
#endif

#include "arena.h"
#include "engine.h"
#include "policy.h"

/* ---- gen ---- */

static uint64_t g_rng;

static uint64_t rnd(void)
{
	/* xorshift64*: the same numbers everywhere, unlike rand() */
	g_rng ^= g_rng >> 12;
	g_rng ^= g_rng << 25;
	g_rng ^= g_rng >> 27;
	return g_rng * 0x2545F4914F6CDD1Dull;
}

static uint32_t rnd_below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

static const uint32_t MISS4 = 0xC000020Au; /* 192.0.2.10, a probe no CIDR covers */
static const uint32_t HIT4 = 0xC6336400u;  /* 198.51.100.0/24 */

static bool covers4(uint32_t net, unsigned len, uint32_t a)
{
	uint32_t mask = len ? ~0u << (32 - len) : 0;
	return (a & mask) == net;
}

static void print4(uint32_t a, unsigned len)
{
	printf("%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, len);
}

/* A random IPv4 CIDR inside base/blen, prefix lo..hi, covering neither
 * probe address (192.0.2.10, 198.51.100.7). */
static void rnd_cidr4(uint32_t base, unsigned blen, unsigned lo, unsigned hi)
{
	for (;;) {
		unsigned len = lo + rnd_below(hi - lo + 1);
		uint32_t a = (uint32_t)rnd();
		uint32_t bmask = blen ? ~0u << (32 - blen) : 0;
		a = (a & ~bmask) | (base & bmask);
		a &= len ? ~0u << (32 - len) : 0;
		if (covers4(a, len, MISS4) || covers4(a, len, HIT4 | 7))
			continue;
		print4(a, len);
		return;
	}
}

/* A random IPv6 CIDR: first 16 bits fixed (top16), prefix lo..hi; never
 * inside 2001:db8::/32, where the IPv6 probes are. */
static void rnd_cidr6(unsigned top16, unsigned lo, unsigned hi)
{
	for (;;) {
		unsigned len = lo + rnd_below(hi - lo + 1);
		uint16_t w[8];
		for (int i = 0; i < 8; i++)
			w[i] = (uint16_t)rnd();
		w[0] = (uint16_t)top16;
		if (top16 == 0x2000)
			w[0] = (uint16_t)(0x2000 | (rnd() & 0x1fff)); /* anywhere in 2000::/3 */
		for (unsigned b = len; b < 128; b++)
			w[b / 16] &= (uint16_t)~(0x8000u >> (b % 16));
		/* inside 2001:db8::/32 or covering it: the probes' /32 */
		uint32_t top = (uint32_t)w[0] << 16 | w[1];
		unsigned m = len < 32 ? len : 32;
		uint32_t mask = m ? ~0u << (32 - m) : 0;
		if ((top & mask) == (0x20010db8u & mask))
			continue;
		printf("%x:%x:%x:%x:%x:%x:%x:%x/%u", w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], len);
		return;
	}
}

/* 1,000 rules. nested: each rule's CIDRs are random (IPv4 /16-/28 in 10/8,
 * IPv6 /16-/64 in fd00::/16), so broad ones of some rules hold narrow ones
 * of others; disjoint: rule i has 10.A.B.0/24 blocks and fd00:i::/32 of its
 * own. Either way no rule covers a probe. last: rule 1,000 is
 * addr = 198.51.100.0/24. */
static void gen_rules(const char *on, bool nested, bool last)
{
	for (int i = 1; i <= 1000; i++) {
		if (last && i == 1000) {
			printf("\n[last]\non = connect\naddr = 198.51.100.0/24\n");
			break;
		}
		printf("\n[r%d]\non = %s\nproto = tcp\naddr = ", i, on);
		for (int k = 0; k < 3; k++) {
			if (nested) {
				rnd_cidr4(0x0A000000u, 8, 16, 28);
			} else {
				int b = 3 * (i - 1) + k; /* 3 blocks per rule, never shared */
				printf("10.%d.%d.0/24", b / 256, b % 256);
			}
			printf(", ");
		}
		if (nested)
			rnd_cidr6(0xfd00, 16, 64);
		else
			printf("fd00:%x::/32", i);
		printf("\nport = 443, 8000-8099, %u\n", 1024 + rnd_below(60000));
		printf("sockopt = SO_KEEPALIVE=1\n");
	}
}

static int gen(const char *kind, const char *seed)
{
	g_rng = strtoull(seed, NULL, 10) * 0x9E3779B97F4A7C15ull | 1;
	printf("[global]\nlog = none\n");
	if (strcmp(kind, "one4") == 0) {
		printf("\n[one]\non = connect\naddr = 198.51.100.0/24\n");
	} else if (strcmp(kind, "one6") == 0) {
		printf("\n[one]\non = connect\naddr = 2001:db8:1::/48\n");
	} else if (strcmp(kind, "cidrs") == 0) {
		printf("\n[big]\non = connect\naddr = ");
		for (int i = 0; i < 100000; i++) {
			if (i == 50000)
				printf("198.51.100.0/24");
			else if (i == 50001)
				printf("2001:db8:1::/48");
			else if (rnd_below(10) < 7)
				rnd_cidr4(0, 0, 16, 32);
			else
				rnd_cidr6(0x2000, 24, 128);
			printf(i == 99999 ? "\n" : i % 8 == 7 ? ",\n  " : ", ");
		}
	} else if (strcmp(kind, "rules-disjoint") == 0) {
		gen_rules("connect", false, false);
	} else if (strcmp(kind, "rules-disjoint-last") == 0) {
		gen_rules("connect", false, true);
	} else if (strcmp(kind, "rules-nested") == 0) {
		gen_rules("connect", true, false);
	} else if (strcmp(kind, "rules-nested-last") == 0) {
		gen_rules("connect", true, true);
	} else if (strcmp(kind, "rules-otherop") == 0) {
		gen_rules("bind, send", false, false);
	} else {
		fprintf(stderr, "policybench: unknown KIND %s\n", kind);
		return 2;
	}
	return 0;
}

/* ---- decide, load ---- */

static void report(void *ctx, enum ss_severity sev, const char *file, unsigned line, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "%s:%u: %s%s\n", file, line, sev == SS_SEV_WARNING ? "warning: " : "", msg);
}

static struct ss_policy *load(const char *path)
{
	struct ss_policy *p = ss_policy_load(path, report, NULL);
	if (!p || p->nerrors) {
		fprintf(stderr, "policybench: %s does not load\n", path);
		exit(1);
	}
	return p;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool parse_probe(const char *s, struct ss_addr *a, struct ss_opdesc *d)
{
	static const char *const ops[] = { "bind", "listen", "connect", "send" };
	const char *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c2)
		return false;
	memset(d, 0, sizeof(*d));
	d->op = SS_OP_COUNT;
	for (int i = 0; i < 4; i++)
		if ((size_t)(c1 - s) == strlen(ops[i]) && strncmp(s, ops[i], (size_t)(c1 - s)) == 0)
			d->op = (enum ss_op)i;
	d->proto = strncmp(c1 + 1, "udp:", 4) == 0 ? SS_PROTO_UDP : SS_PROTO_TCP;
	bool has_ip, has_port;
	if (d->op == SS_OP_COUNT || !ss_addr_parse_endpoint(a, &has_ip, &has_port, c2 + 1) || !has_ip || !has_port)
		return false;
	d->family = a->family == 6 ? SS_FAM_V6 : SS_FAM_V4;
	d->addr = a;
	return true;
}

static volatile uintptr_t g_sink;

/* Not inlined, and the same code for every loop. */
__attribute__((noinline)) static void decide_loop(const struct ss_policy *p, const struct ss_opdesc *d, long n)
{
	uintptr_t acc = 0;
	for (long i = 0; i < n; i++)
		acc += (uintptr_t)ss_decide(p, d);
	g_sink = acc;
}

static int decide(const char *path, long n, int nprobes, char **probes)
{
	struct ss_policy *p = load(path);
	for (int k = 0; k < nprobes; k++) {
		struct ss_addr a;
		struct ss_opdesc d;
		if (!parse_probe(probes[k], &a, &d)) {
			fprintf(stderr, "policybench: bad probe %s\n", probes[k]);
			return 2;
		}
		const struct ss_rule *r = ss_decide(p, &d);
		char tag[160];
		if (RUNNING_ON_VALGRIND) {
			CALLGRIND_ZERO_STATS;
			decide_loop(p, &d, n);
			snprintf(tag, sizeof(tag), "%s N", probes[k]);
			CALLGRIND_DUMP_STATS_AT(tag);
			CALLGRIND_ZERO_STATS;
			decide_loop(p, &d, 2 * n);
			snprintf(tag, sizeof(tag), "%s 2N", probes[k]);
			CALLGRIND_DUMP_STATS_AT(tag);
			printf("probe=%s rule=%s\n", probes[k], r ? r->name : "-");
		} else {
			long total = 0, batch = 1000;
			double t0 = now(), t;
			do {
				decide_loop(p, &d, batch);
				total += batch;
				t = now() - t0;
			} while (t < 0.2);
			printf("probe=%s rule=%s ns=%.1f\n", probes[k], r ? r->name : "-", t * 1e9 / (double)total);
		}
	}
	ss_policy_free(p);
	return 0;
}

static long status_kb(const char *key)
{
	char line[256];
	long v = -1;
	size_t kl = strlen(key);
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, kl) == 0 && line[kl] == ':')
			v = atol(line + kl + 1);
	fclose(f);
	return v;
}

static void reset_peak(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");
	if (f) {
		fputs("5", f); /* resets VmHWM to VmRSS */
		fclose(f);
	}
}

static int load_times(const char *path, int reps)
{
	for (int i = 0; i < reps; i++) {
		reset_peak();
		long rss0 = status_kb("VmRSS");
		double t0 = now();
		struct ss_policy *p = load(path);
		double ms = (now() - t0) * 1e3;
		long rss1 = status_kb("VmRSS"), hwm = status_kb("VmHWM");
		unsigned long ranges = 0;
		for (unsigned k = 0; k < p->nrules; k++)
			ranges += p->rules[k].addr.n4 + p->rules[k].addr.n6;
		printf("ms=%.3f arena_bytes=%zu ranges=%lu rules=%u rss_kb=%ld peak_kb=%ld\n", ms, arena_mapped(p->arena),
		       ranges, p->nrules, rss1 - rss0, hwm - rss0);
		ss_policy_free(p);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "gen") == 0)
		return gen(argv[2], argv[3]);
	if (argc >= 5 && strcmp(argv[1], "decide") == 0)
		return decide(argv[2], atol(argv[3]), argc - 4, argv + 4);
	if (argc == 4 && strcmp(argv[1], "load") == 0)
		return load_times(argv[2], atoi(argv[3]));
	if (argc == 2 && strcmp(argv[1], "has-callgrind-h") == 0) {
#ifdef NO_VALGRIND_HEADERS
		return 1;
#else
		return 0;
#endif
	}
	fprintf(stderr, "usage: policybench gen KIND SEED | decide POLICY N PROBE... | load POLICY REPS\n");
	return 2;
}

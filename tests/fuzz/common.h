/*
 * Shared by the libFuzzer targets of tests/fuzz/: an abort that says which
 * invariant broke, a ledger of the engine's mappings (so a policy that is not
 * released completely is a finding although LeakSanitizer cannot see mmap),
 * the report collector for ss_policy_parse, and the checks every parsed
 * policy and every address must pass. run.sh builds each target from its
 * own .c, this file's common.c and the engine's sources.
 */
#ifndef SOCKSHIM_FUZZ_COMMON_H
#define SOCKSHIM_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "policy.h"

/* The entry point libFuzzer calls, once per input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort with the invariant's text: a crash libFuzzer keeps as an artifact. */
#define CHECK(cond) ((cond) ? (void)0 : fuzz_fail(__FILE__, __LINE__, #cond))
_Noreturn void fuzz_fail(const char *file, int line, const char *what);

/*
 * The engine's sources are compiled with -Dmmap=fuzz_mmap (and munmap,
 * mremap), so every mapping the arena and the vec helpers make goes through
 * this ledger: a munmap or mremap of a length other than the one mapped
 * aborts at once, and fuzz_live_mappings() counts what is still mapped.
 * Unmapped regions are kept poisoned for reuse rather than returned to the
 * kernel (see common.c for why).
 */
size_t fuzz_live_mappings(void);

/* What ss_policy_parse reported, checked as it arrives: a known file name,
 * errors only, lines in the text and in order, short one-line messages. */
struct reports {
	const char *file;
	unsigned lines;     /* physical lines in the text */
	unsigned n, last_line;
	bool json;          /* also check each message's JSON escaping */
};
void reports_init(struct reports *r, const char *file, const uint8_t *text, size_t len);
void collect_report(void *ctx, enum ss_severity sev, const char *file, unsigned line, const char *msg);

/* Invariants of any parsed policy; with clean, those the loader promises for
 * a policy without errors (every rule has 'on', no action its ops ignore,
 * 'deny' alone, rotate's needs met...). */
void check_policy(const struct ss_policy *p, const char *file, bool clean);

/* Text round trips of an address, against inet_ntop and back through
 * ss_addr_parse_ip / ss_addr_parse_endpoint / sockaddr; cap (any value)
 * sizes an extra, probably truncating, fmt buffer. */
void check_addr(const struct ss_addr *a, unsigned cap);

/* fmt_json_str(s) is a JSON string body, valid UTF-8, that decodes back to
 * s with each ill-formed UTF-8 sequence replaced by U+FFFD. */
void check_json(const char *s);

/* The reference for ss_glob_match: fnmatch(3) with FNM_NOESCAPE, which has
 * the same * ? [set] [!set] syntax when no [:class:] is used. Returns -1
 * where it cannot serve: classes, a '[' that never closes (glibc and
 * ss_glob_match differ there, and POSIX lets them), or so many '*' that
 * fnmatch's backtracking would be slow. */
int ref_glob(const char *pattern, const char *s);

#endif

/*
 * hostname: names as `host` rules see them, and the names of lookup errors.
 *
 * A name is compared in one form: lower case, without a trailing dot, at
 * most SS_HOST_MAX - 1 bytes. Patterns are put in that form when the policy
 * is read, names when a lookup is made, so matching is ss_glob_match on two
 * normal forms. Pure: no I/O, no allocation.
 */
#ifndef SOCKSHIM_HOSTNAME_H
#define SOCKSHIM_HOSTNAME_H

#include <stdbool.h>
#include <stddef.h>

#define SS_HOST_MAX 256

/*
 * The normal form of a name looked up, in out. false when it is not a name
 * a `host` rule can see: empty, too long, a control byte or white space in
 * it, or a numeric address (1.2.3.4, ::1; those are not name lookups).
 */
bool ss_host_norm(char out[static SS_HOST_MAX], const char *name);

/*
 * A `host` pattern from a policy, in normal form, in out: letters, digits,
 * '-', '_', '.', and the glob characters * ? [ ] ! ^, every '[' closed by a
 * ']'. NULL when it is fine, else what is wrong ("a name or glob such as
 * api.example.com or *.internal").
 */
const char *ss_host_pattern(char out[static SS_HOST_MAX], const char *pat);

/* Whether the normal-form name matches any of the n normal-form patterns. */
bool ss_host_match(const char *const *pats, unsigned n, const char *name);

/* EAI_* by name and back; 0 / NULL when unknown. The names a resolve rule
 * may deny with: EAI_NONAME, EAI_AGAIN, EAI_FAIL, EAI_NODATA, EAI_FAMILY,
 * EAI_SERVICE, EAI_MEMORY, EAI_ADDRFAMILY. */
int ss_eai_from_name(const char *name);
const char *ss_eai_name(int code);

/* The h_errno the gethostbyname family sets for a lookup error. */
int ss_eai_h_errno(int code);

#endif

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
 * Which lookup a name is handed to: glibc 2.36 decides per function what
 * is an address, answered (or refused) without any lookup, and what is a
 * name it looks up (files, DNS).
 *   SS_LOOKUP_GAI        getaddrinfo: inet_aton's forms exactly (127.1,
 *                        0x7f.1, 2130706433; not 1.2.3.4. nor "1."), IPv6
 *                        with or without a %scope, and "*" (a NULL node).
 *   SS_LOOKUP_GAI_INET   getaddrinfo with AF_INET and no AI_CANONNAME: as
 *                        SS_LOOKUP_GAI, and also what SS_LOOKUP_GHBN_INET
 *                        takes (glibc calls gethostbyname2_r there).
 *   SS_LOOKUP_GHBN_INET  gethostbyname, gethostbyname_r, gethostbyname2
 *                        with AF_INET: digits and dots not ending in a dot
 *                        (a bad one such as 999.1.1.1 is HOST_NOT_FOUND, no
 *                        lookup: 0x1 and 1.2.3.0x4 are names), and anything
 *                        that starts with a hex digit and has a ':', or
 *                        starts with ':'.
 *   SS_LOOKUP_GHBN_INET6 gethostbyname2 and _r with AF_INET6: the digits
 *                        and dots as above; a name of hex digits, ':' and
 *                        '.' with a ':' in it, not ending in a dot.
 */
enum ss_lookup { SS_LOOKUP_GAI, SS_LOOKUP_GAI_INET, SS_LOOKUP_GHBN_INET, SS_LOOKUP_GHBN_INET6 };

/* Whether that lookup takes name as an address rather than a name. */
bool ss_lookup_numeric(const char *name, enum ss_lookup how);

/*
 * The normal form of a name handed to that lookup, in out. false when it
 * is not a name a `host` rule can see: NULL, empty, too long, a control byte
 * or white space in it, or what the lookup takes as an address (above).
 * The root, ".", is the name ".".
 */
bool ss_lookup_name(char out[static SS_HOST_MAX], const char *name, enum ss_lookup how);

/* ss_lookup_name for getaddrinfo (SS_LOOKUP_GAI). */
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

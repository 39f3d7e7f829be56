/*
 * resolve: the preload's name lookups (on = resolve, POLICY.md 1.1), and
 * the host table's records of what they returned.
 *
 * getaddrinfo, gethostbyname, gethostbyname2, gethostbyname_r and
 * gethostbyname2_r. A lookup of a name (not a numeric address, not
 * AI_NUMERICHOST: those are no name lookups and pass through unmatched) is
 * decided by the `resolve` rules: deny answers with the rule's EAI_* code
 * (h_errno for the gethostbyname family) and rewrite with the rule's
 * addresses (answer.h), both without calling libc's lookup at all, so no
 * DNS traffic; a matching rule with no action, or none, lets libc's lookup
 * run. Every address the program gets back (libc's or the rule's) is
 * recorded in the host table (hosttab.h) under the name asked, for `host`
 * rules on connect and send and for the host= of their log lines.
 * In dry-run, rewrite and deny are logged and libc's lookup runs.
 *
 * A numeric address is what glibc takes as one for that call (hostname.h,
 * enum ss_lookup). getaddrinfo_a, gethostbyaddr, getnameinfo and the
 * resolver API (res_query and the rest) are not hooked: they still query
 * DNS under a policy that refuses every lookup. curl, python and node's
 * libuv all call getaddrinfo (from a thread of their own where they want it
 * asynchronous).
 * Lookups made inside a program without libc's functions (Go's resolver,
 * static binaries) are not seen, nor under the seccomp front end.
 */
#ifndef SOCKSHIM_RESOLVE_H
#define SOCKSHIM_RESOLVE_H

#include <netdb.h>
#include <stddef.h>

int shim_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res);
struct hostent *shim_gethostbyname2(const char *name, int af);
int shim_gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf, size_t buflen, struct hostent **result,
			  int *h_errnop);

#endif

/*
 * answer: the results a rewritten lookup hands back, built so the caller
 * frees them exactly as it frees libc's own.
 *
 * getaddrinfo: each answer address is handed, as numeric text with
 * AI_NUMERICHOST, to libc's own getaddrinfo with the caller's hints, and
 * the lists are chained in the rule's order. So service names and ports,
 * AI_NUMERICSERV, socktype 0 (one entry per SOCK_STREAM, SOCK_DGRAM,
 * SOCK_RAW), protocol and every hint error come out exactly as libc gives
 * them, no name is looked up (no DNS traffic), and every node is libc's
 * own allocation, which freeaddrinfo frees node by node. What differs:
 * - the family: AF_INET takes the IPv4 answers, AF_INET6 the IPv6 ones (and,
 *   with AI_V4MAPPED, the IPv4 ones v4-mapped when there is no IPv6 answer,
 *   or always with AI_ALL), AF_UNSPEC all of them, in the rule's order (no
 *   RFC 3484 sorting: the policy's order is the answer's);
 * - AI_ADDRCONFIG (also implied by NULL hints) is libc's own: AF_INET or
 *   AF_INET6 where no address of that family is configured (loopback does
 *   not count) is EAI_NONAME, AF_UNSPEC is narrowed to the one family
 *   configured, as glibc does for a name in /etc/hosts;
 * - each entry's ai_flags are the caller's (glibc's defaults for NULL
 *   hints, AI_V4MAPPED | AI_ADDRCONFIG), as glibc's own entries;
 * - AI_CANONNAME: the first node's ai_canonname is the name asked for
 *   (malloc'd, as freeaddrinfo expects).
 * No answer of the family asked for: EAI_NONAME, as libc says for a name in
 * /etc/hosts without an address of that family, once libc has accepted the
 * service and hints (an unknown service is EAI_SERVICE first, as glibc,
 * which looks the service up before the name).
 *
 * gethostbyname*: a hostent in the caller's buffer (ERANGE when it is too
 * small), the name asked for as h_name, no aliases.
 */
#ifndef SOCKSHIM_ANSWER_H
#define SOCKSHIM_ANSWER_H

#include <netdb.h>
#include <stddef.h>

#include "addr.h"

typedef int (*ss_gai_fn)(const char *, const char *, const struct addrinfo *, struct addrinfo **);

/* 0 and *res, or an EAI_* code (errno set for EAI_SYSTEM, as libc does).
 * real is libc's getaddrinfo; name is what the caller asked for. */
int ss_answer_addrinfo(ss_gai_fn real, const struct ss_addr *addrs, unsigned n, const char *name, const char *service,
		       const struct addrinfo *hints, struct addrinfo **res);

/* A hostent for family af (AF_INET or AF_INET6) in buf: 0; ERANGE when buf
 * is too small (for one answer when none has that family: glibc's ERANGE
 * comes before its "not found"); ENOENT when no answer has that family. */
int ss_answer_hostent(const struct ss_addr *addrs, unsigned n, const char *name, int af, struct hostent *h, char *buf,
		      size_t buflen);

#endif

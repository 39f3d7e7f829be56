/*
 * answer: see answer.h.
 */
#include "answer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The address as the text libc's numeric path reads, for a result of
 * family af (an IPv4 answer v4-mapped for AF_INET6). */
static void numeric_text(const struct ss_addr *a, int af, char out[static INET6_ADDRSTRLEN + 8])
{
	if (a->family == 4 && af == AF_INET6) {
		char v4[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, a->ip, v4, sizeof(v4));
		strcpy(out, "::ffff:");
		strcat(out, v4);
		return;
	}
	inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->ip, out, INET6_ADDRSTRLEN);
}

int ss_answer_addrinfo(ss_gai_fn real, const struct ss_addr *addrs, unsigned n, const char *name, const char *service,
		       const struct addrinfo *hints, struct addrinfo **res)
{
	/* NULL hints are glibc's default ones: AF_UNSPEC, AI_V4MAPPED | AI_ADDRCONFIG */
	struct addrinfo h = { .ai_flags = AI_V4MAPPED | AI_ADDRCONFIG };
	if (hints)
		h = *hints;
	int caller_flags = h.ai_flags;
	h.ai_flags |= AI_NUMERICHOST;
	h.ai_addrlen = 0;
	h.ai_addr = NULL;
	h.ai_canonname = NULL;
	h.ai_next = NULL;
	int fam = h.ai_family;
	bool v6 = false;
	for (unsigned i = 0; i < n; i++)
		v6 |= addrs[i].family == 6;
	bool mapped = fam == AF_INET6 && (h.ai_flags & AI_V4MAPPED) && (!v6 || (h.ai_flags & AI_ALL));

	struct addrinfo *head = NULL, **tail = &head;
	int rc = 0;
	bool any = false;
	for (unsigned i = 0; i < n && rc == 0; i++) {
		const struct ss_addr *a = &addrs[i];
		int af = a->family == 4 ? AF_INET : AF_INET6;
		if (fam == AF_INET && af != AF_INET)
			continue;
		if (fam == AF_INET6 && af != AF_INET6) {
			if (!mapped)
				continue;
			af = AF_INET6;
		}
		char text[INET6_ADDRSTRLEN + 8];
		numeric_text(a, fam == AF_INET6 ? AF_INET6 : af, text);
		struct addrinfo *got = NULL;
		/* the numeric address of the family it has: AF_UNSPEC would also
		 * do, but then a hint error (a bad family) shows the same way */
		rc = real(text, service, &h, &got);
		if (rc == EAI_ADDRFAMILY && (h.ai_flags & AI_ADDRCONFIG)) {
			/* AI_ADDRCONFIG narrowed AF_UNSPEC to the other family */
			rc = 0;
			continue;
		}
		if (rc != 0)
			break;
		any = true;
		*tail = got;
		while (*tail)
			tail = &(*tail)->ai_next;
	}
	if (rc == 0 && !any && fam != AF_UNSPEC && fam != AF_INET && fam != AF_INET6) {
		/* a family libc refuses: its own answer for it */
		rc = real("127.0.0.1", service, &h, &head);
	} else if (rc == 0 && !any) {
		/* glibc looks the service up before the name: a bad service (or
		 * socktype, protocol) says so even when the name has no address
		 * of the family asked for. libc's own verdict on the service,
		 * with an address of that family, comes first. */
		struct addrinfo *probe = NULL;
		rc = real(fam == AF_INET ? "127.0.0.1" : "::1", service, &h, &probe);
		if (probe)
			freeaddrinfo(probe);
		if (rc == 0 || rc == EAI_ADDRFAMILY)
			rc = EAI_NONAME;
	}
	if (rc == 0 && (h.ai_flags & AI_CANONNAME) && head) {
		for (struct addrinfo *p = head; p; p = p->ai_next) {
			free(p->ai_canonname);
			p->ai_canonname = NULL;
		}
		if (!(head->ai_canonname = strdup(name)))
			rc = EAI_MEMORY;
	}
	if (rc != 0) {
		if (head)
			freeaddrinfo(head);
		return rc;
	}
	/* each entry carries the caller's flags, as glibc's do (not the
	 * AI_NUMERICHOST asked of libc here): a result reused as hints must
	 * ask what the caller asked */
	for (struct addrinfo *p = head; p; p = p->ai_next)
		p->ai_flags = caller_flags;
	*res = head;
	return 0;
}

int ss_answer_hostent(const struct ss_addr *addrs, unsigned n, const char *name, int af, struct hostent *h, char *buf,
		      size_t buflen)
{
	unsigned len = af == AF_INET ? 4 : 16, k = 0;
	for (unsigned i = 0; i < n; i++)
		k += addrs[i].family == (af == AF_INET ? 4 : 6);
	/* [pad][aliases: NULL][addr_list: k + 1][addresses][name] */
	uintptr_t p = (uintptr_t)buf, end = p + buflen;
	p = (p + alignof(char *) - 1) & ~(uintptr_t)(alignof(char *) - 1);
	size_t nl = strlen(name) + 1;
	/* glibc's files backend wants room for a parsed line before it knows
	 * whether the name has an address of that family: a buffer too small
	 * for one answer is ERANGE first, then ENOENT */
	unsigned room = k ? k : 1;
	size_t need = sizeof(char *) * (room + 2) + (size_t)len * room + nl;
	if (p > end || end - p < need)
		return ERANGE;
	if (!k)
		return ENOENT;
	char **aliases = (char **)p;
	char **list = aliases + 1;
	char *data = (char *)(list + k + 1);
	aliases[0] = NULL;
	unsigned j = 0;
	for (unsigned i = 0; i < n; i++) {
		if (addrs[i].family != (af == AF_INET ? 4 : 6))
			continue;
		memcpy(data + (size_t)len * j, addrs[i].ip, len);
		list[j] = data + (size_t)len * j;
		j++;
	}
	list[k] = NULL;
	char *nm = data + (size_t)len * k;
	memcpy(nm, name, nl);
	h->h_name = nm;
	h->h_aliases = aliases;
	h->h_addrtype = af;
	h->h_length = (int)len;
	h->h_addr_list = list;
	return 0;
}

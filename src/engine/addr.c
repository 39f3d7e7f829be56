/*
 * addr: sockaddr <-> ss_addr <-> text (see addr.h). Formatting is done by
 * hand because inet_ntop goes through sprintf, which a hook must not call.
 */
#include "addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

bool ss_addr_from_sockaddr(struct ss_addr *a, const struct sockaddr *sa, socklen_t len)
{
	memset(a, 0, sizeof(*a));
	/* the kernel refuses lengths beyond sockaddr_storage with EINVAL */
	if (!sa || len < (socklen_t)sizeof(sa_family_t) || len > (socklen_t)sizeof(struct sockaddr_storage))
		return false;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		a->family = 4;
		memcpy(a->ip, &in->sin_addr, 4);
		a->port = ntohs(in->sin_port);
		return true;
	}
	/* The kernel accepts the 24-byte RFC 2133 sockaddr_in6 (no scope id). */
	if (sa->sa_family == AF_INET6 && len >= 24) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		a->family = 6;
		memcpy(a->ip, &in6->sin6_addr, 16);
		a->port = ntohs(in6->sin6_port);
		a->flowinfo = in6->sin6_flowinfo;
		if (len >= (socklen_t)sizeof(struct sockaddr_in6))
			a->scope_id = in6->sin6_scope_id;
		return true;
	}
	return false;
}

socklen_t ss_addr_to_sockaddr(const struct ss_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == 4) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, a->ip, 4);
		in->sin_port = htons(a->port);
		return sizeof(*in);
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	in6->sin6_family = AF_INET6;
	memcpy(&in6->sin6_addr, a->ip, 16);
	in6->sin6_port = htons(a->port);
	in6->sin6_scope_id = a->scope_id;
	in6->sin6_flowinfo = a->flowinfo;
	return sizeof(*in6);
}

bool ss_addr_v4_view(const struct ss_addr *a, uint32_t *v4)
{
	const uint8_t *p;
	if (a->family == 4)
		p = a->ip;
	else if (memcmp(a->ip, v4mapped_prefix, 12) == 0)
		p = a->ip + 12;
	else
		return false;
	*v4 = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return true;
}

bool ss_addr_for_family(struct ss_addr *a, int family)
{
	if (a->family == family)
		return true;
	if (family == 6) {
		uint8_t v4[4];
		memcpy(v4, a->ip, 4);
		memcpy(a->ip, v4mapped_prefix, 12);
		memcpy(a->ip + 12, v4, 4);
		a->family = 6;
		return true;
	}
	uint32_t v4;
	if (!ss_addr_v4_view(a, &v4))
		return false;
	uint8_t b[4] = { (uint8_t)(v4 >> 24), (uint8_t)(v4 >> 16), (uint8_t)(v4 >> 8), (uint8_t)v4 };
	memset(a->ip, 0, 16);
	memcpy(a->ip, b, 4);
	a->family = 4;
	a->scope_id = 0;
	a->flowinfo = 0;
	return true;
}

bool ss_addr_is_any(const struct ss_addr *a)
{
	static const uint8_t zero[16];
	return memcmp(a->ip, zero, a->family == 4 ? 4 : 16) == 0;
}

bool ss_addr_parse_ip(struct ss_addr *a, const char *s)
{
	memset(a, 0, sizeof(*a));
	if (strchr(s, ':')) {
		a->family = 6;
		return inet_pton(AF_INET6, s, a->ip) == 1;
	}
	a->family = 4;
	return inet_pton(AF_INET, s, a->ip) == 1;
}

static bool parse_port(const char *s, uint16_t *port)
{
	if (!*s || strlen(s) > 5)
		return false;
	unsigned long v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

bool ss_addr_parse_endpoint(struct ss_addr *a, bool *has_ip, bool *has_port, const char *s)
{
	char ip[64];
	const char *port = NULL;
	size_t n;

	memset(a, 0, sizeof(*a));
	*has_ip = *has_port = false;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end)
			return false;
		n = (size_t)(end - s - 1);
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return false;
		if (n >= sizeof(ip))
			return false;
		memcpy(ip, s + 1, n);
		ip[n] = '\0';
		if (!strchr(ip, ':'))
			return false;
	} else {
		const char *colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':')) {
			/* a bare IPv6 address: no port can follow without brackets */
			n = strlen(s);
		} else {
			n = colon ? (size_t)(colon - s) : strlen(s);
			port = colon ? colon + 1 : NULL;
		}
		if (n >= sizeof(ip))
			return false;
		memcpy(ip, s, n);
		ip[n] = '\0';
	}
	if (ip[0]) {
		if (!ss_addr_parse_ip(a, ip))
			return false;
		*has_ip = true;
	}
	if (port) {
		if (!parse_port(port, &a->port))
			return false;
		*has_port = true;
	}
	return *has_ip || *has_port;
}

static void fmt_ip4(struct fmt *f, const uint8_t *b)
{
	for (int i = 0; i < 4; i++) {
		if (i)
			fmt_char(f, '.');
		fmt_u64(f, b[i]);
	}
}

static void fmt_hex16(struct fmt *f, unsigned v)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[4];
	int n = 0;
	for (int shift = 12; shift >= 0; shift -= 4) {
		unsigned d = (v >> shift) & 15;
		if (d || n || shift == 0)
			tmp[n++] = hex[d];
	}
	fmt_mem(f, tmp, (size_t)n);
}

/* RFC 5952 text: lower case, longest run (>= 2) of zero groups as "::". */
static void fmt_ip6(struct fmt *f, const uint8_t *b)
{
	if (memcmp(b, v4mapped_prefix, 12) == 0) {
		fmt_str(f, "::ffff:");
		fmt_ip4(f, b + 12);
		return;
	}
	unsigned g[8];
	for (int i = 0; i < 8; i++)
		g[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
	int best = -1, bestlen = 0;
	for (int i = 0; i < 8;) {
		if (g[i] != 0) {
			i++;
			continue;
		}
		int j = i;
		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > bestlen && j - i >= 2) {
			best = i;
			bestlen = j - i;
		}
		i = j;
	}
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			fmt_str(f, "::");
			i += bestlen - 1;
			continue;
		}
		if (i && i != best + bestlen)
			fmt_char(f, ':');
		fmt_hex16(f, g[i]);
	}
}

void fmt_ip(struct fmt *f, const struct ss_addr *a)
{
	if (a->family == 4)
		fmt_ip4(f, a->ip);
	else
		fmt_ip6(f, a->ip);
}

void fmt_endpoint(struct fmt *f, const struct ss_addr *a)
{
	if (a->family == 6)
		fmt_char(f, '[');
	fmt_ip(f, a);
	if (a->family == 6)
		fmt_char(f, ']');
	fmt_char(f, ':');
	fmt_u64(f, a->port);
}

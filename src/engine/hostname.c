/*
 * hostname: see hostname.h.
 */
#include "hostname.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <string.h>

#include "policy.h"

/* Copy s in lower case without its trailing dot(s); false when empty or
 * too long. */
static bool lower_copy(char out[static SS_HOST_MAX], const char *s)
{
	size_t n = strlen(s);
	while (n && s[n - 1] == '.')
		n--;
	if (!n || n >= SS_HOST_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	out[n] = '\0';
	return true;
}

/* What getaddrinfo takes as an address, not a name: inet_aton's forms
 * (127.1 too), IPv6, IPv6 with a %scope. */
static bool numeric(const char *s)
{
	unsigned char buf[16];
	struct in_addr in;
	if (inet_aton(s, &in) == 1 || inet_pton(AF_INET6, s, buf) == 1)
		return true;
	const char *pct = strchr(s, '%');
	char v6[64];
	if (!pct || (size_t)(pct - s) >= sizeof(v6))
		return false;
	memcpy(v6, s, (size_t)(pct - s));
	v6[pct - s] = '\0';
	return inet_pton(AF_INET6, v6, buf) == 1;
}

bool ss_host_norm(char out[static SS_HOST_MAX], const char *name)
{
	if (!name || !lower_copy(out, name))
		return false;
	for (const char *p = out; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	return !numeric(out);
}

/* Every '[' opens a set that a ']' closes, read as ss_glob_match reads it
 * (a ']' right after '[', '[!' or '[^' is a member). ss_glob_match takes an
 * unclosed '[' as a literal one, which no name has: such a pattern could
 * never match, so it is refused rather than kept. */
static bool brackets_closed(const char *p)
{
	for (; *p; p++) {
		if (*p != '[')
			continue;
		const char *q = p + 1;
		if (*q == '!' || *q == '^')
			q++;
		if (*q == ']')
			q++;
		while (*q && *q != ']')
			q++;
		if (!*q)
			return false;
		p = q;
	}
	return true;
}

const char *ss_host_pattern(char out[static SS_HOST_MAX], const char *pat)
{
	static const char expected[] = "a name or glob such as api.example.com or *.internal";
	if (!lower_copy(out, pat))
		return expected;
	for (const char *p = out; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("-_.*?[]!^", c)))
			return expected;
	}
	if (numeric(out))
		return "a name (a numeric address is never looked up: use 'addr')";
	if (!brackets_closed(out))
		return "a glob whose every '[' is closed by a ']', such as db-[0-9].internal";
	return NULL;
}

bool ss_host_match(const char *const *pats, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (ss_glob_match(pats[i], name))
			return true;
	return false;
}

static const struct {
	const char *name;
	int code, h_err;
} eai[] = {
	{ "EAI_NONAME", EAI_NONAME, HOST_NOT_FOUND },
	{ "EAI_AGAIN", EAI_AGAIN, TRY_AGAIN },
	{ "EAI_FAIL", EAI_FAIL, NO_RECOVERY },
	{ "EAI_NODATA", EAI_NODATA, NO_DATA },
	{ "EAI_FAMILY", EAI_FAMILY, NO_RECOVERY },
	{ "EAI_SERVICE", EAI_SERVICE, NO_RECOVERY },
	{ "EAI_MEMORY", EAI_MEMORY, NO_RECOVERY },
	{ "EAI_ADDRFAMILY", EAI_ADDRFAMILY, NO_DATA },
};

int ss_eai_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(eai) / sizeof(eai[0]); i++)
		if (strcmp(name, eai[i].name) == 0)
			return eai[i].code;
	return 0;
}

const char *ss_eai_name(int code)
{
	for (size_t i = 0; i < sizeof(eai) / sizeof(eai[0]); i++)
		if (eai[i].code == code)
			return eai[i].name;
	return NULL;
}

int ss_eai_h_errno(int code)
{
	for (size_t i = 0; i < sizeof(eai) / sizeof(eai[0]); i++)
		if (eai[i].code == code)
			return eai[i].h_err;
	return NO_RECOVERY;
}

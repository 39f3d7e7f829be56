/*
 * hostname: see hostname.h.
 */
#include "hostname.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <string.h>

#include "policy.h"

/* Copy s in lower case without its trailing dot(s); false when empty or
 * too long. The root, "." (a query of its own), stays ".". */
static bool lower_copy(char out[static SS_HOST_MAX], const char *s)
{
	size_t n = strlen(s);
	while (n && s[n - 1] == '.')
		n--;
	if (!n && s[0] == '.' && s[1] == '\0')
		n = 1;
	if (!n || n >= SS_HOST_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	out[n] = '\0';
	return true;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_xdigit(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/* glibc's inet_aton_exact: inet_aton's forms (127.1, 0x7f.1, 017.0.0.1,
 * 2130706433) and nothing after them. inet_aton itself stops at white
 * space and takes the rest as trailing garbage. */
static bool aton_exact(const char *s)
{
	struct in_addr in;
	for (const char *p = s; *p; p++)
		if (*p == ' ' || (*p >= '\t' && *p <= '\r'))
			return false;
	return inet_aton(s, &in) == 1;
}

/* getaddrinfo's IPv6 text: inet_pton's, with a %scope after it (a scope it
 * cannot read is its EAI_NONAME, still no lookup). */
static bool v6_text(const char *s)
{
	unsigned char buf[16];
	const char *pct = strchr(s, '%');
	char v6[64];
	if (!pct)
		return inet_pton(AF_INET6, s, buf) == 1;
	if ((size_t)(pct - s) >= sizeof(v6))
		return false;
	memcpy(v6, s, (size_t)(pct - s));
	v6[pct - s] = '\0';
	return inet_pton(AF_INET6, v6, buf) == 1;
}

/* glibc's nss digits_dots (the gethostbyname family, and getaddrinfo with
 * AF_INET and no AI_CANONNAME, which calls gethostbyname2_r): a name of
 * digits and dots that does not end in a dot is answered or refused
 * (HOST_NOT_FOUND) as an address, never looked up; so is, for AF_INET, any
 * name that starts with a hex digit and has a ':' or starts with ':', and
 * for AF_INET6 such a name made of hex digits, ':' and '.' only, not ending
 * in a dot. 0x1 or 1.2.3.0x4 are names here (inet_aton's hex is not read). */
static bool digits_dots(const char *s, bool inet6)
{
	size_t n = strlen(s);
	if (!n)
		return false;
	if (is_digit(s[0]) && s[n - 1] != '.' && strspn(s, "0123456789.") == n)
		return true;
	if (!((is_xdigit(s[0]) && strchr(s, ':')) || s[0] == ':'))
		return false;
	if (!inet6)
		return true;
	return s[n - 1] != '.' && strspn(s, "0123456789abcdefABCDEF:.") == n;
}

bool ss_lookup_numeric(const char *name, enum ss_lookup how)
{
	switch (how) {
	case SS_LOOKUP_GAI_INET:
		if (digits_dots(name, false))
			return true;
		/* fall through */
	case SS_LOOKUP_GAI:
		/* getaddrinfo takes "*" for a NULL node (the local addresses) */
		return (name[0] == '*' && name[1] == '\0') || aton_exact(name) || v6_text(name);
	case SS_LOOKUP_GHBN_INET:
		return digits_dots(name, false);
	case SS_LOOKUP_GHBN_INET6:
		return digits_dots(name, true);
	}
	return false;
}

bool ss_lookup_name(char out[static SS_HOST_MAX], const char *name, enum ss_lookup how)
{
	if (!name || ss_lookup_numeric(name, how) || !lower_copy(out, name))
		return false;
	for (const char *p = out; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

bool ss_host_norm(char out[static SS_HOST_MAX], const char *name)
{
	return ss_lookup_name(out, name, SS_LOOKUP_GAI);
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
	if (strcmp(out, "*") != 0 && ss_lookup_numeric(out, SS_LOOKUP_GAI)) /* "*" is a glob here */
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

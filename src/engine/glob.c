/*
 * glob: the shell-style globs of `program` and the base name they are
 * matched against (see policy.h).
 */
#include <string.h>

#include "policy.h"

bool ss_glob_match(const char *pat, const char *s)
{
	const char *star_p = NULL, *star_s = NULL;
	for (;;) {
		if (*pat == '*') {
			star_p = ++pat;
			star_s = s;
			continue;
		}
		if (!*s) {
			if (!*pat)
				return true;
			goto backtrack;
		}
		if (*pat == '?') {
			pat++;
			s++;
			continue;
		}
		if (*pat == '[') {
			const char *p = pat + 1;
			bool neg = *p == '!' || *p == '^';
			if (neg)
				p++;
			bool hit = false;
			const char *start = p;
			while (*p && (*p != ']' || p == start)) {
				if (p[1] == '-' && p[2] && p[2] != ']') {
					if ((unsigned char)*s >= (unsigned char)p[0] && (unsigned char)*s <= (unsigned char)p[2])
						hit = true;
					p += 3;
				} else {
					if (*p == *s)
						hit = true;
					p++;
				}
			}
			if (*p == ']' && hit != neg) {
				pat = p + 1;
				s++;
				continue;
			}
			if (*p != ']' && *pat == *s) { /* unterminated: a literal '[' */
				pat++;
				s++;
				continue;
			}
			goto backtrack;
		}
		if (*pat == *s) {
			pat++;
			s++;
			continue;
		}
backtrack:
		if (!star_p || !*star_s)
			return false;
		pat = star_p;
		s = ++star_s;
	}
}

const char *ss_base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

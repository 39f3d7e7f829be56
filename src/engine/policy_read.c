/*
 * policy_read: the line reader inih reads a policy through, and the
 * sections it meets (see policy_parse.h).
 *
 * Debian's inih reads at most 200 bytes a line and passes no line numbers
 * to the handler. So inih reads through this reader, which counts physical
 * lines, checks the shape of each line (so a syntax error gets its own
 * FILE:LINE), strips inline comments, lets leading white space mean nothing
 * (indented keys are common in policies), and hands a long list to inih in
 * chunks cut at commas, as continuation lines that the handler appends. A
 * list may also be continued on the next line by ending a line with a comma.
 * A section header starts a rule here, its name checked against the earlier
 * ones in a hash set (nameset.h), so a load stays linear in its rules.
 */
#include <string.h>

#include "policy_parse.h"

static bool valid_name(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

/* Validate the rule whose section just ended, so errors come in line order. */
void pp_end_section(struct parser *ps)
{
	struct rule_build *rb = pp_cur_rule(ps);
	if (rb) {
		pp_finish_rule(ps, rb);
		struct ss_rule *r = vec_push(&ps->rules);
		if (r)
			*r = rb->r;
		else
			ps->oom = true;
	}
	ps->sec = SEC_NONE;
}

static void begin_section(struct parser *ps, const char *name, size_t n)
{
	char nm[256];

	pp_end_section(ps);
	if (!valid_name(name, n) || n >= sizeof(nm)) {
		char shown[64];
		size_t k = n < sizeof(shown) - 1 ? n : sizeof(shown) - 1;
		memcpy(shown, name, k);
		shown[k] = '\0';
		pp_report(ps, ps->line, "bad section name '", shown, "': use letters, digits, '_', '.' and '-'", NULL);
		ps->sec = SEC_SKIP;
		return;
	}
	memcpy(nm, name, n);
	nm[n] = '\0';
	if (strcmp(nm, "global") == 0) {
		if (ps->global_line) {
			char l[16];
			pp_report(ps, ps->line, "[global] appears more than once (first at line ", pp_num(l, ps->global_line), ")", NULL);
			ps->sec = SEC_SKIP;
			return;
		}
		ps->global_line = ps->line;
		ps->sec = SEC_GLOBAL;
		return;
	}
	uint32_t first;
	if (ss_nameset_get(&ps->names, nm, &first)) {
		char l[16];
		const struct ss_rule *r = ps->rules.data;
		pp_report(ps, ps->line, "duplicate rule name '", nm, "' (first at line ", pp_num(l, r[first].line), ")", NULL);
		ps->sec = SEC_SKIP;
		return;
	}
	/* the rule goes into ps->rules when its section ends, at this index */
	struct rule_build *b = &ps->building;
	memset(b, 0, sizeof(*b));
	if (!(b->r.name = arena_strdup(ps->p->arena, nm)) ||
	    ss_nameset_put(&ps->names, b->r.name, (uint32_t)ps->rules.len, &first) != 1) {
		ps->oom = true;
		ps->sec = SEC_SKIP;
		return;
	}
	b->r.line = ps->line;
	ss_ipset_builder_init(&b->addr);
	ss_portset_builder_init(&b->port);
	ss_portset_builder_init(&b->source_port);
	vec_init(&b->programs, sizeof(const char *));
	vec_init(&b->sockopts, sizeof(struct ss_sockopt));
	vec_init(&b->sources, sizeof(struct ss_addr));
	vec_init(&b->hosts, sizeof(const char *));
	ps->sec = SEC_RULE;
}

/* Where an inline comment (" ;") starts, or e. */
static const char *comment_start(const char *s, const char *e)
{
	for (const char *q = s; q < e; q++)
		if (*q == ';' && q > s && pp_is_space(q[-1]))
			return q;
	return e;
}

/* Copy up to room bytes of [s, e) into out, cut after a comma when it does
 * not all fit. Returns bytes taken, 0 when no comma allows a cut. */
static size_t take_chunk(const char *s, const char *e, size_t room)
{
	if ((size_t)(e - s) <= room)
		return (size_t)(e - s);
	for (size_t k = room; k > 0; k--)
		if (s[k - 1] == ',')
			return k;
	return 0;
}

static char *emit(char *str, int num, const char *prefix, const char *s, size_t n)
{
	size_t pl = strlen(prefix);
	if (pl + n + 2 > (size_t)num)
		n = (size_t)num - pl - 2;
	memcpy(str, prefix, pl);
	memcpy(str + pl, s, n);
	str[pl + n] = '\n';
	str[pl + n + 1] = '\0';
	return str;
}

static char *emit_long(struct parser *ps, char *str, int num, const char *prefix, const char *s, const char *e)
{
	size_t room = (size_t)num - strlen(prefix) - 2;
	size_t n = take_chunk(s, e, room);
	if (n == 0) {
		pp_report(ps, ps->line, "line too long and not a list that can be split at a comma", NULL);
		ps->chunk = NULL;
		return emit(str, num, "", "", 0);
	}
	ps->chunk = s + n < e ? s + n : NULL;
	ps->chunk_len = (size_t)(e - s) - n;
	return emit(str, num, prefix, s, n);
}

char *pp_reader(char *str, int num, void *stream)
{
	struct parser *ps = stream;

	ps->continuation = false;
	if (ps->chunk) {
		const char *s = ps->chunk;
		ps->continuation = true;
		return emit_long(ps, str, num, " ", s, s + ps->chunk_len);
	}
	for (;;) {
		if (ps->cur >= ps->end) {
			if (ps->comma_pending) {
				pp_report(ps, ps->comma_line, "the list for '", ps->comma_key, "' ends with ',' at the end of the file", NULL);
				ps->comma_pending = false;
			}
			return NULL;
		}
		const char *s = ps->cur, *nl = memchr(s, '\n', (size_t)(ps->end - s));
		const char *e = nl ? nl : ps->end;
		ps->cur = nl ? nl + 1 : ps->end;
		ps->line++;

		if (ps->line == 1 && e - s >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
			s += 3;
		if (memchr(s, '\0', (size_t)(e - s))) {
			pp_report(ps, ps->line, "NUL byte in line", NULL);
			continue;
		}
		while (s < e && pp_is_space(*s))
			s++;
		if (s == e || *s == ';' || *s == '#')
			return emit(str, num, "", "", 0);
		e = comment_start(s, e);
		while (e > s && pp_is_space(e[-1]))
			e--;

		if (ps->comma_pending && *s != '[') {
			/* the previous line's list goes on here */
			ps->comma_pending = e[-1] == ',';
			ps->comma_line = ps->line;
			ps->continuation = true;
			return emit_long(ps, str, num, " ", s, e);
		}
		if (ps->comma_pending) {
			pp_report(ps, ps->comma_line, "the list for '", ps->comma_key, "' ends with ',' before a [section]", NULL);
			ps->comma_pending = false;
		}
		if (*s == '[') {
			const char *close = memchr(s, ']', (size_t)(e - s));
			if (!close || close + 1 != e) {
				pp_end_section(ps);
				pp_report(ps, ps->line, close ? "text after ']' in section header" : "section header lacks ']'", NULL);
				ps->sec = SEC_SKIP;
				return emit(str, num, "", "", 0);
			}
			begin_section(ps, s + 1, (size_t)(close - s - 1));
			return emit(str, num, "", s, (size_t)(e - s));
		}
		const char *sep = s;
		while (sep < e && *sep != '=' && *sep != ':')
			sep++;
		if (sep == e || sep == s) {
			pp_report(ps, ps->line, sep == s ? "line has no key before '='" : "line is not 'key = value', a comment or a [section]", NULL);
			return emit(str, num, "", "", 0);
		}
		ps->comma_pending = e[-1] == ',';
		ps->comma_line = ps->line;
		if (ps->comma_pending) {
			const char *ke = sep;
			while (ke > s && pp_is_space(ke[-1]))
				ke--;
			size_t kn = (size_t)(ke - s) < sizeof(ps->comma_key) ? (size_t)(ke - s) : sizeof(ps->comma_key) - 1;
			memcpy(ps->comma_key, s, kn);
			ps->comma_key[kn] = '\0';
		}
		return emit_long(ps, str, num, "", s, e);
	}
}

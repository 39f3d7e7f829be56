/*
 * report_parse: one log line, text or JSON, into its parts (see
 * report_parse.h). Everything is bounded by the line's length; a line that
 * does not have the shape log.c gives its lines is damaged, never guessed at.
 */
#include "report_parse.h"

#include <string.h>

const char *const rp_bad_names[RP_BAD_COUNT] = { "none", "not-a-log-line", "bad-json", "binary", "too-long" };

bool rp_eq(struct rp_str s, const char *lit)
{
	size_t n = strlen(lit);
	return s.n == n && memcmp(s.p, lit, n) == 0;
}

bool rp_prefix(struct rp_str s, const char *lit)
{
	size_t n = strlen(lit);
	return s.n >= n && memcmp(s.p, lit, n) == 0;
}

long rp_num(struct rp_str s)
{
	if (!s.n || s.n > 18)
		return -1;
	long v = 0;
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return -1;
		v = v * 10 + (s.p[i] - '0');
	}
	return v;
}

struct rp_str rp_get(const struct rp_line *l, const char *key)
{
	for (unsigned i = 0; i < l->npair; i++)
		if (rp_eq(l->key[i], key))
			return l->val[i];
	return (struct rp_str){ "", 0 };
}

static bool is_level(struct rp_str s)
{
	return rp_eq(s, "error") || rp_eq(s, "warn") || rp_eq(s, "info") || rp_eq(s, "debug");
}

/* 2026-11-23T12:04:06.746166Z: digits where log.c puts them */
static bool is_ts(struct rp_str s)
{
	if (s.n < 20 || s.n > 40 || s.p[4] != '-' || s.p[10] != 'T' || s.p[s.n - 1] != 'Z')
		return false;
	for (int i = 0; i < 4; i++)
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
	return true;
}

/* ---- a cursor over the line ---- */
struct cur {
	const char *p, *end;
};

static bool eat(struct cur *c, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
		return false;
	c->p += n;
	return true;
}

static bool digits(struct cur *c, long *v)
{
	const char *s = c->p;
	long x = 0;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9' && c->p - s < 12)
		x = x * 10 + (*c->p++ - '0');
	*v = x;
	return c->p > s;
}

/* "<PRI>sockshim[PID]: " in front of a syslog line */
static bool syslog_prefix(struct cur *c, long *pid)
{
	long pri;
	struct cur k = *c;
	if (!eat(&k, "<") || !digits(&k, &pri) || !eat(&k, ">sockshim[") || !digits(&k, pid) || !eat(&k, "]: "))
		return false;
	*c = k;
	return true;
}

/* ---- text ---- */

/* The next space-separated word, or an empty one at the end. */
static struct rp_str word(struct cur *c)
{
	while (c->p < c->end && *c->p == ' ')
		c->p++;
	const char *s = c->p;
	while (c->p < c->end && *c->p != ' ')
		c->p++;
	return (struct rp_str){ s, (size_t)(c->p - s) };
}

static bool key_word(struct rp_str w, size_t *eq)
{
	for (size_t i = 0; i < w.n; i++) {
		char ch = w.p[i];
		if (ch == '=')
			return (*eq = i) > 0;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
			return false;
	}
	return false;
}

static struct rp_str after(struct rp_str w, size_t k)
{
	return (struct rp_str){ w.p + k, w.n - k };
}

static void split_actions(struct rp_line *l, struct rp_str v)
{
	const char *s = v.p, *end = v.p + v.n;
	while (s < end && l->nact < RP_MAX_ACTIONS) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *e = comma ? comma : end;
		l->act[l->nact++] = (struct rp_str){ s, (size_t)(e - s) };
		s = e + 1;
	}
}

static enum rp_kind text_decision(struct rp_line *l, struct cur *c)
{
	size_t eq;
	l->kind = RP_DECISION;
	for (struct rp_str w; (w = word(c)).n;) {
		if (rp_prefix(w, "fd="))
			continue;
		if (rp_eq(w, "tcp") || rp_eq(w, "udp"))
			continue;
		if (rp_eq(w, "dry-run")) {
			l->dry_run = true;
		} else if (rp_prefix(w, "rule=")) {
			l->rule = after(w, 5);
			if (rp_eq(l->rule, "-"))
				l->rule.n = 0;
		} else if (rp_prefix(w, "actions=")) {
			split_actions(l, after(w, 8));
		} else if (rp_prefix(w, "rc=")) {
			struct rp_str v = after(w, 3);
			bool neg = v.n && v.p[0] == '-';
			long x = rp_num(neg ? after(v, 1) : v);
			if (x < 0)
				return l->kind = RP_BAD;
			l->rc = neg ? -x : x;
			l->has_rc = true;
		} else if (rp_prefix(w, "errno=")) {
			l->err = after(w, 6);
		} else if (rp_prefix(w, "via=")) {
			continue;
		} else if (rp_prefix(w, "host=")) {
			l->host = after(w, 5);
		} else if (!l->addr.n && !l->rule.n && !memchr(w.p, '=', w.n)) {
			l->addr = w;
		} else if (!key_word(w, &eq)) {
			return l->kind = RP_BAD;
		} /* else a KEY=VALUE this reader does not know yet: a later version's */
	}
	return l->has_rc ? RP_DECISION : (l->kind = RP_BAD);
}

/* KEY=VALUE ...; a word that is no KEY= belongs to the value before it
 * (a msg holds spaces). */
static enum rp_kind text_event(struct rp_line *l, struct cur *c)
{
	l->kind = RP_EVENT;
	for (struct rp_str w; (w = word(c)).n;) {
		size_t eq;
		if (key_word(w, &eq) && l->npair < RP_MAX_PAIRS) {
			l->key[l->npair] = (struct rp_str){ w.p, eq };
			l->val[l->npair++] = after(w, eq + 1);
		} else if (l->npair) {
			struct rp_str *v = &l->val[l->npair - 1];
			v->n = (size_t)(w.p + w.n - v->p);
		} else {
			return l->kind = RP_BAD;
		}
	}
	return RP_EVENT;
}

static enum rp_kind parse_text(struct rp_line *l, struct cur *c, bool syslog)
{
	l->ts = word(c);
	if (!is_ts(l->ts))
		return RP_BAD;
	if (!syslog) {
		if (!eat(c, " sockshim[") || !digits(c, &l->pid) || !eat(c, "]"))
			return RP_BAD;
	}
	l->level = word(c);
	if (!is_level(l->level))
		return RP_BAD;
	l->name = word(c);
	if (!l->name.n)
		return RP_BAD;
	struct cur peek = *c;
	struct rp_str next = word(&peek);
	/* a lookup's decision has no socket: "resolve host=NAME ..." */
	if (rp_prefix(next, "fd=") || (rp_eq(l->name, "resolve") && rp_prefix(next, "host=")))
		return text_decision(l, c);
	return text_event(l, c);
}

/* ---- JSON: one flat object, as log.c writes it ---- */

static void ws(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r'))
		c->p++;
}

static bool put_utf8(struct rp_line *l, unsigned u)
{
	char b[4];
	size_t n;
	if (u < 0x80) {
		b[0] = (char)u;
		n = 1;
	} else if (u < 0x800) {
		b[0] = (char)(0xc0 | u >> 6);
		b[1] = (char)(0x80 | (u & 0x3f));
		n = 2;
	} else {
		b[0] = (char)(0xe0 | u >> 12);
		b[1] = (char)(0x80 | ((u >> 6) & 0x3f));
		b[2] = (char)(0x80 | (u & 0x3f));
		n = 3;
	}
	if (l->used + n > sizeof(l->scratch))
		return false;
	memcpy(l->scratch + l->used, b, n);
	l->used += n;
	return true;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* A JSON string into scratch (a surrogate becomes U+FFFD: the shim never
 * writes one). */
static bool json_string(struct rp_line *l, struct cur *c, struct rp_str *out)
{
	if (!eat(c, "\""))
		return false;
	size_t start = l->used;
	while (c->p < c->end) {
		unsigned char ch = (unsigned char)*c->p++;
		if (ch == '"') {
			*out = (struct rp_str){ l->scratch + start, l->used - start };
			return true;
		}
		if (ch < 0x20)
			return false;
		if (ch != '\\') {
			if (l->used >= sizeof(l->scratch))
				return false;
			l->scratch[l->used++] = (char)ch;
			continue;
		}
		if (c->p >= c->end)
			return false;
		char e = *c->p++;
		unsigned u;
		switch (e) {
		case '"': case '\\': case '/': u = (unsigned char)e; break;
		case 'b': u = '\b'; break;
		case 'f': u = '\f'; break;
		case 'n': u = '\n'; break;
		case 'r': u = '\r'; break;
		case 't': u = '\t'; break;
		case 'u':
			if (c->end - c->p < 4)
				return false;
			u = 0;
			for (int i = 0; i < 4; i++) {
				int h = hexval(c->p[i]);
				if (h < 0)
					return false;
				u = u << 4 | (unsigned)h;
			}
			c->p += 4;
			if (u >= 0xd800 && u <= 0xdfff)
				u = 0xfffd;
			break;
		default:
			return false;
		}
		if (!put_utf8(l, u))
			return false;
	}
	return false;
}

/* a number, true, false or null, as it is written */
static bool json_atom(struct cur *c, struct rp_str *out)
{
	const char *s = c->p;
	while (c->p < c->end && ((*c->p >= '0' && *c->p <= '9') || *c->p == '-' || *c->p == '+' || *c->p == '.' ||
				 *c->p == 'e' || *c->p == 'E' || (*c->p >= 'a' && *c->p <= 'z')))
		c->p++;
	*out = (struct rp_str){ s, (size_t)(c->p - s) };
	if (!out->n)
		return false;
	if (*s == '-' || (*s >= '0' && *s <= '9'))
		return true;
	return rp_eq(*out, "true") || rp_eq(*out, "false") || rp_eq(*out, "null");
}

/* An array of strings (actions); other arrays are refused. */
static bool json_array(struct rp_line *l, struct cur *c, bool keep)
{
	if (!eat(c, "["))
		return false;
	ws(c);
	if (eat(c, "]"))
		return true;
	for (;;) {
		struct rp_str s;
		ws(c);
		if (!json_string(l, c, &s))
			return false;
		if (keep && l->nact < RP_MAX_ACTIONS)
			l->act[l->nact++] = s;
		ws(c);
		if (eat(c, "]"))
			return true;
		if (!eat(c, ","))
			return false;
	}
}

static bool signed_num(struct rp_str v, long *out)
{
	bool neg = v.n && v.p[0] == '-';
	long x = rp_num(neg ? after(v, 1) : v);
	if (x < 0)
		return false;
	*out = neg ? -x : x;
	return true;
}

static enum rp_kind parse_json(struct rp_line *l, struct cur *c)
{
	bool has_op = false, has_event = false, has_pid = l->pid > 0;
	struct rp_str event = { "", 0 }, op = { "", 0 };
	if (!eat(c, "{"))
		return RP_BAD;
	ws(c);
	if (eat(c, "}"))
		return RP_BAD;
	for (;;) {
		struct rp_str k, v = { "", 0 };
		bool str = false;
		ws(c);
		if (!json_string(l, c, &k))
			return RP_BAD;
		ws(c);
		if (!eat(c, ":"))
			return RP_BAD;
		ws(c);
		if (c->p < c->end && *c->p == '"') {
			if (!json_string(l, c, &v))
				return RP_BAD;
			str = true;
		} else if (c->p < c->end && *c->p == '[') {
			if (!json_array(l, c, rp_eq(k, "actions")))
				return RP_BAD;
		} else if (!json_atom(c, &v)) {
			return RP_BAD;
		}
		bool null = !str && rp_eq(v, "null");
		if (rp_eq(k, "ts"))
			l->ts = v;
		else if (rp_eq(k, "pid"))
			has_pid = signed_num(v, &l->pid) && l->pid >= 0;
		else if (rp_eq(k, "level"))
			l->level = v;
		else if (rp_eq(k, "event"))
			has_event = true, event = v;
		else if (rp_eq(k, "op"))
			has_op = str, op = v;
		else if (rp_eq(k, "rule"))
			l->rule = null ? (struct rp_str){ "", 0 } : v;
		else if (rp_eq(k, "addr"))
			l->addr = null ? (struct rp_str){ "", 0 } : v;
		else if (rp_eq(k, "host"))
			l->host = null ? (struct rp_str){ "", 0 } : v;
		else if (rp_eq(k, "errno"))
			l->err = null ? (struct rp_str){ "", 0 } : v;
		else if (rp_eq(k, "rc"))
			l->has_rc = signed_num(v, &l->rc);
		else if (rp_eq(k, "dry_run"))
			l->dry_run = rp_eq(v, "true");
		if (l->npair < RP_MAX_PAIRS && !rp_eq(k, "actions")) {
			l->key[l->npair] = k;
			l->val[l->npair++] = v;
		}
		ws(c);
		if (eat(c, "}"))
			break;
		if (!eat(c, ","))
			return RP_BAD;
	}
	ws(c);
	if (c->p != c->end || !is_ts(l->ts) || !is_level(l->level) || !has_pid)
		return RP_BAD;
	if (has_op && (!has_event || rp_eq(event, "decision"))) {
		if (!l->has_rc || !op.n)
			return RP_BAD;
		l->name = op;
		return l->kind = RP_DECISION;
	}
	if (!has_event || !event.n)
		return RP_BAD;
	l->name = event;
	return l->kind = RP_EVENT;
}

enum rp_kind rp_parse(const char *line, size_t n, struct rp_line *l)
{
	memset(l, 0, offsetof(struct rp_line, scratch));
	l->used = 0;
	l->kind = RP_BAD;
	l->bad = RP_BAD_NOT_LOG;
	if (n > RP_LINE_MAX) {
		l->bad = RP_BAD_LONG;
		return RP_BAD;
	}
	if (n && line[n - 1] == '\r')
		n--;
	if (memchr(line, '\0', n)) {
		l->bad = RP_BAD_BINARY;
		return RP_BAD;
	}
	struct cur c = { line, line + n };
	bool syslog = syslog_prefix(&c, &l->pid);
	enum rp_kind k;
	if (c.p < c.end && *c.p == '{') {
		k = parse_json(l, &c);
		if (k == RP_BAD)
			l->bad = RP_BAD_JSON;
	} else {
		k = parse_text(l, &c, syslog);
	}
	l->kind = k;
	if (k != RP_BAD)
		l->bad = RP_BAD_NONE;
	return k;
}

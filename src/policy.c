/*
 * policy: parse and validate a policy file (see policy.h and POLICY.md).
 *
 * inih does the INI parsing, but Debian's build reads at most 200 bytes a
 * line and does not pass line numbers to the handler. So inih reads through
 * our own line reader, which counts physical lines, checks the shape of each
 * line (so a syntax error gets its own FILE:LINE), strips inline comments,
 * lets leading white space mean nothing (indented keys are common in
 * policies), and hands a long list to inih in chunks cut at commas, as
 * continuation lines that the handler appends. A list may also be continued
 * on the next line by ending a line with a comma.
 */
#include "policy.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fmt.h"
#include "index.h"

#define MAX_POLICY_BYTES (256u << 20)

enum key {
	K_ON, K_PROTO, K_FAMILY, K_ADDR, K_PORT, K_PROGRAM,
	K_REUSEADDR, K_REUSEPORT, K_SOCKOPT, K_SOURCE, K_SOURCE_PORT, K_ROTATE, K_ROTATE_SCOPE, K_REWRITE, K_DENY,
	K_COUNT
};

#define ALL_OPS (SS_OPBIT(SS_OP_BIND) | SS_OPBIT(SS_OP_LISTEN) | SS_OPBIT(SS_OP_CONNECT) | SS_OPBIT(SS_OP_SEND))
#define LOCAL_OPS (SS_OPBIT(SS_OP_BIND) | SS_OPBIT(SS_OP_LISTEN))
#define OUT_OPS (SS_OPBIT(SS_OP_CONNECT) | SS_OPBIT(SS_OP_SEND))

static const struct {
	const char *name;
	bool list;       /* may continue over several lines */
	bool action;
	unsigned ops;    /* the ops this key means something for */
} keys[K_COUNT] = {
	[K_ON] = { "on", true, false, ALL_OPS },
	[K_PROTO] = { "proto", true, false, ALL_OPS },
	[K_FAMILY] = { "family", true, false, ALL_OPS },
	[K_ADDR] = { "addr", true, false, ALL_OPS },
	[K_PORT] = { "port", true, false, ALL_OPS },
	[K_PROGRAM] = { "program", true, false, ALL_OPS },
	[K_REUSEADDR] = { "reuseaddr", false, true, LOCAL_OPS },
	[K_REUSEPORT] = { "reuseport", false, true, LOCAL_OPS },
	[K_SOCKOPT] = { "sockopt", true, true, ALL_OPS },
	[K_SOURCE] = { "source", true, true, OUT_OPS },
	[K_SOURCE_PORT] = { "source_port", true, true, OUT_OPS },
	[K_ROTATE] = { "rotate", false, true, OUT_OPS },
	[K_ROTATE_SCOPE] = { "rotate_scope", false, true, OUT_OPS },
	[K_REWRITE] = { "rewrite", false, true, ALL_OPS },
	[K_DENY] = { "deny", false, true, ALL_OPS },
};

static const char *const op_names[SS_OP_COUNT] = { "bind", "listen", "connect", "send" };

const char *ss_op_name(enum ss_op op)
{
	return (unsigned)op < SS_OP_COUNT ? op_names[op] : "?";
}

struct rule_build {
	struct ss_rule r;
	unsigned key_line[K_COUNT];
	struct ss_ipset_builder addr;
	struct ss_portset_builder port, source_port;
	struct vec programs, sockopts, sources;
};

struct parser {
	const char *file;
	ss_report_fn report;
	void *ctx;
	struct ss_policy *p;
	bool oom;

	/* the line reader */
	const char *cur, *end;
	unsigned line;
	const char *chunk;       /* rest of a long line still to hand out */
	size_t chunk_len;
	bool comma_pending;      /* the last key line ended with ',' */
	unsigned comma_line;
	bool continuation;       /* the line inih is handling continues a value */
	bool key_rejected;       /* the current key was refused: skip its continuations */
	char comma_key[64];      /* the key whose list ends with ',' */
	struct vec pending;      /* struct pending_report, delivered in line order */

	/* sections */
	enum { SEC_NONE, SEC_GLOBAL, SEC_RULE, SEC_SKIP } sec;
	unsigned global_line;
	unsigned global_key_line[6];
	struct vec rules;        /* struct rule_build */
};

struct pending_report {
	unsigned line, seq;
	char msg[496];
};

/* Queue an error built from the NULL-terminated list of strings. Rules are
 * checked as a whole when their section ends, so errors are collected and
 * handed out sorted by line (then in the order found) at the end. */
static void report(struct parser *ps, unsigned line, ...)
{
	ps->p->nerrors++;
	struct pending_report *r = vec_push(&ps->pending);
	if (!r) {
		ps->oom = true;
		return;
	}
	struct fmt f;
	va_list ap;
	fmt_init(&f, r->msg, sizeof(r->msg));
	va_start(ap, line);
	for (const char *s; (s = va_arg(ap, const char *)) != NULL;)
		fmt_str(&f, s);
	va_end(ap);
	r->line = line;
	r->seq = (unsigned)ps->pending.len;
}

static int cmp_report(const void *a, const void *b)
{
	const struct pending_report *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void deliver_reports(struct parser *ps)
{
	struct pending_report *r = ps->pending.data;
	sort_elems(r, ps->pending.len, sizeof(*r), cmp_report);
	for (size_t i = 0; i < ps->pending.len && ps->report; i++)
		ps->report(ps->ctx, SS_SEV_ERROR, ps->file, r[i].line, r[i].msg);
	vec_free(&ps->pending);
}

static const char *num(char buf[static 16], unsigned v)
{
	struct fmt f;
	fmt_init(&f, buf, 16);
	fmt_u64(&f, v);
	return buf;
}

/* ---- the line reader ---- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

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

static struct rule_build *cur_rule(struct parser *ps)
{
	return ps->sec == SEC_RULE ? (struct rule_build *)ps->rules.data + ps->rules.len - 1 : NULL;
}

static void finish_rule(struct parser *ps, struct rule_build *rb);

/* Validate the rule whose section just ended, so errors come in line order. */
static void end_section(struct parser *ps)
{
	struct rule_build *rb = cur_rule(ps);
	if (rb)
		finish_rule(ps, rb);
	ps->sec = SEC_NONE;
}

static void begin_section(struct parser *ps, const char *name, size_t n)
{
	char nm[256];

	end_section(ps);
	if (!valid_name(name, n) || n >= sizeof(nm)) {
		char shown[64];
		size_t k = n < sizeof(shown) - 1 ? n : sizeof(shown) - 1;
		memcpy(shown, name, k);
		shown[k] = '\0';
		report(ps, ps->line, "bad section name '", shown, "': use letters, digits, '_', '.' and '-'", NULL);
		ps->sec = SEC_SKIP;
		return;
	}
	memcpy(nm, name, n);
	nm[n] = '\0';
	if (strcmp(nm, "global") == 0) {
		if (ps->global_line) {
			char l[16];
			report(ps, ps->line, "[global] appears more than once (first at line ", num(l, ps->global_line), ")", NULL);
			ps->sec = SEC_SKIP;
			return;
		}
		ps->global_line = ps->line;
		ps->sec = SEC_GLOBAL;
		return;
	}
	struct rule_build *rb = ps->rules.data;
	for (size_t i = 0; i < ps->rules.len; i++) {
		if (strcmp(rb[i].r.name, nm) == 0) {
			char l[16];
			report(ps, ps->line, "duplicate rule name '", nm, "' (first at line ", num(l, rb[i].r.line), ")", NULL);
			ps->sec = SEC_SKIP;
			return;
		}
	}
	struct rule_build *b = vec_push(&ps->rules);
	if (!b || !(b->r.name = arena_strdup(ps->p->arena, nm))) {
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
	ps->sec = SEC_RULE;
}

/* Where an inline comment (" ;") starts, or e. */
static const char *comment_start(const char *s, const char *e)
{
	for (const char *q = s; q < e; q++)
		if (*q == ';' && q > s && is_space(q[-1]))
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
		report(ps, ps->line, "line too long and not a list that can be split at a comma", NULL);
		ps->chunk = NULL;
		return emit(str, num, "", "", 0);
	}
	ps->chunk = s + n < e ? s + n : NULL;
	ps->chunk_len = (size_t)(e - s) - n;
	return emit(str, num, prefix, s, n);
}

static char *reader(char *str, int num, void *stream)
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
				report(ps, ps->comma_line, "the list for '", ps->comma_key, "' ends with ',' at the end of the file", NULL);
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
			report(ps, ps->line, "NUL byte in line", NULL);
			continue;
		}
		while (s < e && is_space(*s))
			s++;
		if (s == e || *s == ';' || *s == '#')
			return emit(str, num, "", "", 0);
		e = comment_start(s, e);
		while (e > s && is_space(e[-1]))
			e--;

		if (ps->comma_pending && *s != '[') {
			/* the previous line's list goes on here */
			ps->comma_pending = e[-1] == ',';
			ps->comma_line = ps->line;
			ps->continuation = true;
			return emit_long(ps, str, num, " ", s, e);
		}
		if (ps->comma_pending) {
			report(ps, ps->comma_line, "the list for '", ps->comma_key, "' ends with ',' before a [section]", NULL);
			ps->comma_pending = false;
		}
		if (*s == '[') {
			const char *close = memchr(s, ']', (size_t)(e - s));
			if (!close || close + 1 != e) {
				end_section(ps);
				report(ps, ps->line, close ? "text after ']' in section header" : "section header lacks ']'", NULL);
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
			report(ps, ps->line, sep == s ? "line has no key before '='" : "line is not 'key = value', a comment or a [section]", NULL);
			return emit(str, num, "", "", 0);
		}
		ps->comma_pending = e[-1] == ',';
		ps->comma_line = ps->line;
		if (ps->comma_pending) {
			const char *ke = sep;
			while (ke > s && is_space(ke[-1]))
				ke--;
			size_t kn = (size_t)(ke - s) < sizeof(ps->comma_key) ? (size_t)(ke - s) : sizeof(ps->comma_key) - 1;
			memcpy(ps->comma_key, s, kn);
			ps->comma_key[kn] = '\0';
		}
		return emit_long(ps, str, num, "", s, e);
	}
}

/* ---- values ---- */

/* Call fn on each trimmed, comma-separated item; a trailing comma is the
 * reader's business (the list continues), an empty item elsewhere is an error. */
static bool each_item(struct parser *ps, const char *key, const char *value,
		      bool (*fn)(struct parser *, struct rule_build *, const char *key, const char *item),
		      struct rule_build *rb)
{
	const char *s = value;
	bool ok = true;
	for (;;) {
		const char *comma = strchr(s, ',');
		const char *e = comma ? comma : s + strlen(s);
		const char *a = s;
		while (a < e && is_space(*a))
			a++;
		while (e > a && is_space(e[-1]))
			e--;
		char item[256];
		if (a == e) {
			if (!comma && s != value)
				break; /* trailing comma */
			report(ps, ps->line, "empty item in the list for '", key, "'", NULL);
			return false;
		}
		if ((size_t)(e - a) >= sizeof(item)) {
			report(ps, ps->line, "item too long in the list for '", key, "'", NULL);
			return false;
		}
		memcpy(item, a, (size_t)(e - a));
		item[e - a] = '\0';
		if (!fn(ps, rb, key, item))
			ok = false;
		if (!comma)
			break;
		s = comma + 1;
	}
	return ok;
}

static bool bad_value(struct parser *ps, const char *key, const char *item, const char *expected)
{
	char msg[400];
	struct fmt f;
	fmt_init(&f, msg, sizeof(msg));
	fmt_str(&f, "bad value '");
	fmt_str(&f, item);
	fmt_str(&f, "' for '");
	fmt_str(&f, key);
	fmt_str(&f, "': expected ");
	fmt_str(&f, expected);
	report(ps, ps->line, msg, NULL);
	return false;
}

static bool item_on(struct parser *ps, struct rule_build *rb, const char *key, const char *item)
{
	for (unsigned op = 0; op < SS_OP_COUNT; op++) {
		if (strcmp(item, op_names[op]) == 0) {
			rb->r.ops |= SS_OPBIT(op);
			return true;
		}
	}
	return bad_value(ps, key, item, "bind, listen, connect or send");
}

static bool item_proto(struct parser *ps, struct rule_build *rb, const char *key, const char *item)
{
	if (strcmp(item, "tcp") == 0)
		rb->r.protos |= SS_PROTO_TCP;
	else if (strcmp(item, "udp") == 0)
		rb->r.protos |= SS_PROTO_UDP;
	else
		return bad_value(ps, key, item, "tcp or udp");
	return true;
}

static bool item_family(struct parser *ps, struct rule_build *rb, const char *key, const char *item)
{
	if (strcmp(item, "ipv4") == 0)
		rb->r.families |= SS_FAM_V4;
	else if (strcmp(item, "ipv6") == 0)
		rb->r.families |= SS_FAM_V6;
	else
		return bad_value(ps, key, item, "ipv4 or ipv6");
	return true;
}

static bool item_addr(struct parser *ps, struct rule_build *rb, const char *key, const char *item)
{
	if (ss_ipset_builder_add(&rb->addr, item, &ps->oom))
		return true;
	return ps->oom ? false : bad_value(ps, key, item, "an address or CIDR such as 10.0.0.0/8 or ::1");
}

static bool item_ports(struct parser *ps, struct ss_portset_builder *b, const char *key, const char *item)
{
	if (ss_portset_builder_add(b, item, &ps->oom))
		return true;
	return ps->oom ? false : bad_value(ps, key, item, "a port or range such as 80 or 8000-8999");
}

static bool item_port(struct parser *ps, struct rule_build *rb, const char *key, const char *item)
{
	return item_ports(ps, &rb->port, key, item);
}

static bool item_source_port(struct parser *ps, struct rule_build *rb, const char *key, const char *item)
{
	return item_ports(ps, &rb->source_port, key, item);
}

static bool item_program(struct parser *ps, struct rule_build *rb, const char *key, const char *item)
{
	(void)key;
	const char **slot = vec_push(&rb->programs);
	if (!slot || !(*slot = arena_strdup(ps->p->arena, item))) {
		ps->oom = true;
		return false;
	}
	return true;
}

static bool item_source(struct parser *ps, struct rule_build *rb, const char *key, const char *item)
{
	struct ss_addr a;
	if (!ss_addr_parse_ip(&a, item))
		return bad_value(ps, key, item, "a local address such as 10.0.0.5 or 2001:db8::5");
	struct ss_addr *slot = vec_push(&rb->sources);
	if (!slot) {
		ps->oom = true;
		return false;
	}
	*slot = a;
	return true;
}

static bool parse_int(const char *s, int *out)
{
	char *end;
	if (!*s)
		return false;
	errno = 0;
	long v = strtol(s, &end, 0);
	if (*end || errno || v < -2147483648L || v > 2147483647L)
		return false;
	*out = (int)v;
	return true;
}

static bool item_sockopt(struct parser *ps, struct rule_build *rb, const char *key, const char *item)
{
	char name[64];
	const char *eq = strchr(item, '=');
	if (!eq || eq == item || (size_t)(eq - item) >= sizeof(name))
		return bad_value(ps, key, item, "NAME=VALUE such as SO_KEEPALIVE=1");
	memcpy(name, item, (size_t)(eq - item));
	name[eq - item] = '\0';
	size_t nl = strlen(name);
	while (nl && is_space(name[nl - 1]))
		name[--nl] = '\0';
	const char *val = eq + 1;
	while (is_space(*val))
		val++;

	struct ss_sockopt o = { 0 };
	o.opt = ss_optname_find(name);
	if (!o.opt) {
		report(ps, ps->line, "unknown socket option '", name, "' in 'sockopt'", NULL);
		return false;
	}
	switch (o.opt->kind) {
	case SS_OPT_INT:
		if (!parse_int(val, &o.ival))
			return bad_value(ps, key, item, "an integer value");
		break;
	case SS_OPT_LINGER:
		if (strcmp(val, "off") == 0)
			o.ival = -1;
		else if (!parse_int(val, &o.ival) || o.ival < 0)
			return bad_value(ps, key, item, "SO_LINGER=SECONDS or SO_LINGER=off");
		break;
	case SS_OPT_STRING:
		if (!*val || strlen(val) >= 16)
			return bad_value(ps, key, item, "an interface name (at most 15 characters)");
		o.sval = arena_strdup(ps->p->arena, val);
		break;
	}
	o.text = arena_strdup(ps->p->arena, item);
	struct ss_sockopt *slot = vec_push(&rb->sockopts);
	if (!slot || !o.text || (o.opt->kind == SS_OPT_STRING && !o.sval)) {
		ps->oom = true;
		return false;
	}
	*slot = o;
	return true;
}

static bool flag_value(struct parser *ps, const char *key, const char *value, enum ss_flag_action *out)
{
	if (strcmp(value, "force") == 0)
		*out = SS_FLAG_FORCE;
	else if (strcmp(value, "deny") == 0)
		*out = SS_FLAG_DENY;
	else
		return bad_value(ps, key, value, "force or deny");
	return true;
}

static void rule_key(struct parser *ps, struct rule_build *rb, enum key k, const char *value)
{
	const char *key = keys[k].name;
	struct ss_rule *r = &rb->r;

	switch (k) {
	case K_ON: each_item(ps, key, value, item_on, rb); break;
	case K_PROTO: each_item(ps, key, value, item_proto, rb); break;
	case K_FAMILY: each_item(ps, key, value, item_family, rb); break;
	case K_ADDR: each_item(ps, key, value, item_addr, rb); break;
	case K_PORT: each_item(ps, key, value, item_port, rb); break;
	case K_PROGRAM: each_item(ps, key, value, item_program, rb); break;
	case K_SOCKOPT: each_item(ps, key, value, item_sockopt, rb); break;
	case K_SOURCE: each_item(ps, key, value, item_source, rb); break;
	case K_SOURCE_PORT: each_item(ps, key, value, item_source_port, rb); break;
	case K_REUSEADDR: flag_value(ps, key, value, &r->reuseaddr); break;
	case K_REUSEPORT: flag_value(ps, key, value, &r->reuseport); break;
	case K_ROTATE:
		if (strcmp(value, "sequential") == 0)
			r->rotate = SS_ROTATE_SEQUENTIAL;
		else if (strcmp(value, "random") == 0)
			r->rotate = SS_ROTATE_RANDOM;
		else if (strcmp(value, "kernel") == 0)
			r->rotate = SS_ROTATE_KERNEL;
		else
			bad_value(ps, key, value, "sequential, random or kernel");
		break;
	case K_ROTATE_SCOPE:
		if (strcmp(value, "process") == 0)
			r->rotate_host = false;
		else if (strcmp(value, "host") == 0)
			r->rotate_host = true;
		else
			bad_value(ps, key, value, "process or host");
		break;
	case K_REWRITE:
		if (!ss_addr_parse_endpoint(&r->rewrite, &r->rewrite_ip, &r->rewrite_port, value))
			bad_value(ps, key, value, "ADDR, ADDR:PORT, [V6]:PORT or :PORT");
		else
			r->has_rewrite = true;
		break;
	case K_DENY:
		r->deny = ss_errno_from_name(value);
		if (!r->deny)
			bad_value(ps, key, value, "an errno name such as EACCES or ECONNREFUSED");
		break;
	case K_COUNT:
		break;
	}
}

static const char *const global_keys[] = { "log", "log_level", "log_format", "mode", "on_error" };

const char *ss_global_apply(struct ss_global *g, struct arena *a, const char *key, const char *value)
{
	if (strcmp(key, "log") == 0) {
		if (strcmp(value, "none") == 0) {
			g->log = SS_LOG_NONE;
		} else if (strcmp(value, "stderr") == 0) {
			g->log = SS_LOG_STDERR;
		} else if (strcmp(value, "syslog") == 0) {
			g->log = SS_LOG_SYSLOG;
			g->log_path = "/dev/log";
		} else if (strncmp(value, "syslog:/", 8) == 0 || strncmp(value, "file:/", 6) == 0) {
			bool sys = value[0] == 's';
			const char *path = arena_strdup(a, value + (sys ? 7 : 5));
			if (!path)
				return "less memory use";
			g->log = sys ? SS_LOG_SYSLOG : SS_LOG_FILE;
			g->log_path = path;
		} else {
			return "none, stderr, syslog, syslog:/socket/path or file:/absolute/path";
		}
		return NULL;
	}
	if (strcmp(key, "log_level") == 0) {
		static const char *const lv[] = { "error", "warn", "info", "debug" };
		for (unsigned i = 0; i < 4; i++)
			if (strcmp(value, lv[i]) == 0) {
				g->log_level = (enum ss_log_level)i;
				return NULL;
			}
		return "error, warn, info or debug";
	}
	if (strcmp(key, "log_format") == 0) {
		if (strcmp(value, "text") == 0)
			g->log_format = SS_FORMAT_TEXT;
		else if (strcmp(value, "json") == 0)
			g->log_format = SS_FORMAT_JSON;
		else
			return "text or json";
		return NULL;
	}
	if (strcmp(key, "mode") == 0) {
		if (strcmp(value, "enforce") == 0)
			g->dry_run = false;
		else if (strcmp(value, "dry-run") == 0)
			g->dry_run = true;
		else
			return "enforce or dry-run";
		return NULL;
	}
	if (strcmp(key, "on_error") == 0) {
		if (strcmp(value, "fail") == 0)
			g->on_error_passthrough = false;
		else if (strcmp(value, "passthrough") == 0)
			g->on_error_passthrough = true;
		else
			return "fail or passthrough";
		return NULL;
	}
	return "a known key";
}

static void global_key(struct parser *ps, unsigned k, const char *value)
{
	const char *expected = ss_global_apply(&ps->p->global, ps->p->arena, global_keys[k], value);
	if (expected)
		bad_value(ps, global_keys[k], value, expected);
}

static void duplicate_key(struct parser *ps, const char *name, unsigned first)
{
	char l[16];
	report(ps, ps->line, "duplicate key '", name, "' (first at line ", num(l, first), ")", NULL);
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parser *ps = user;
	(void)section; /* the reader tracks sections itself, including empty ones */

	if (ps->sec == SEC_SKIP)
		return 1;
	if (!ps->continuation)
		ps->key_rejected = false;
	else if (ps->key_rejected)
		return 1; /* said once for the key's first line */
	if (ps->sec == SEC_NONE) {
		report(ps, ps->line, "'", name, "' is outside any [section]", NULL);
		ps->key_rejected = true;
		return 1;
	}
	if (!*value && !ps->continuation) {
		report(ps, ps->line, "empty value for '", name, "'", NULL);
		return 1;
	}
	if (ps->sec == SEC_GLOBAL) {
		for (unsigned k = 0; k < sizeof(global_keys) / sizeof(global_keys[0]); k++) {
			if (strcmp(name, global_keys[k]) != 0)
				continue;
			if (ps->continuation) {
				report(ps, ps->line, "'", name, "' takes one value, not a list", NULL);
				ps->key_rejected = true;
			} else if (ps->global_key_line[k]) {
				duplicate_key(ps, name, ps->global_key_line[k]);
			} else {
				ps->global_key_line[k] = ps->line;
				global_key(ps, k, value);
			}
			return 1;
		}
		report(ps, ps->line, "unknown key '", name, "' in [global]", NULL);
		ps->key_rejected = true;
		return 1;
	}

	struct rule_build *rb = cur_rule(ps);
	for (unsigned k = 0; k < K_COUNT; k++) {
		if (strcmp(name, keys[k].name) != 0)
			continue;
		if (ps->continuation) {
			if (!keys[k].list) {
				report(ps, ps->line, "'", name, "' takes one value, not a list", NULL);
				ps->key_rejected = true;
			}
			else if (*value)
				rule_key(ps, rb, (enum key)k, value);
			return 1;
		}
		if (rb->key_line[k]) {
			duplicate_key(ps, name, rb->key_line[k]);
			return 1;
		}
		rb->key_line[k] = ps->line;
		rule_key(ps, rb, (enum key)k, value);
		return 1;
	}
	report(ps, ps->line, "unknown key '", name, "' in rule '", rb->r.name, "'", NULL);
	ps->key_rejected = true;
	return 1;
}

/* ---- finishing rules ---- */

static void *vec_to_arena(struct parser *ps, struct vec *v)
{
	void *d = NULL;
	if (v->len) {
		d = arena_alloc(ps->p->arena, v->len * v->elem);
		if (d)
			memcpy(d, v->data, v->len * v->elem);
		else
			ps->oom = true;
	}
	vec_free(v);
	return d;
}

static void ops_text(struct fmt *f, unsigned ops)
{
	bool first = true;
	for (unsigned op = 0; op < SS_OP_COUNT; op++) {
		if (!(ops & SS_OPBIT(op)))
			continue;
		if (!first)
			fmt_str(f, ", ");
		fmt_str(f, op_names[op]);
		first = false;
	}
}

static void finish_rule(struct parser *ps, struct rule_build *rb)
{
	struct ss_rule *r = &rb->r;
	struct arena *ar = ps->p->arena;

	r->has_addr = rb->key_line[K_ADDR] != 0;
	r->has_port = rb->key_line[K_PORT] != 0;
	r->has_source_port = rb->key_line[K_SOURCE_PORT] != 0;
	r->line_reuseaddr = rb->key_line[K_REUSEADDR];
	r->line_reuseport = rb->key_line[K_REUSEPORT];
	r->line_source = rb->key_line[K_SOURCE];
	r->line_source_port = rb->key_line[K_SOURCE_PORT];
	r->line_rotate = rb->key_line[K_ROTATE];
	if (!ss_ipset_builder_finish(&rb->addr, ar, &r->addr) ||
	    !ss_portset_builder_finish(&rb->port, ar, &r->port) ||
	    !ss_portset_builder_finish(&rb->source_port, ar, &r->source_port))
		ps->oom = true;
	r->nprograms = (unsigned)rb->programs.len;
	r->programs = vec_to_arena(ps, &rb->programs);
	r->nsockopts = (unsigned)rb->sockopts.len;
	r->sockopts = vec_to_arena(ps, &rb->sockopts);
	r->nsource = (unsigned)rb->sources.len;
	r->source = vec_to_arena(ps, &rb->sources);
	r->program_ok = true;
	r->state = arena_alloc(ar, sizeof(*r->state));
	if (!r->state)
		ps->oom = true;
	else
		r->state->cursor = r->state->local;

	if (!rb->key_line[K_ON]) {
		report(ps, r->line, "rule '", r->name, "' has no 'on' (bind, listen, connect or send)", NULL);
		return;
	}
	for (unsigned k = 0; k < K_COUNT; k++) {
		if (!rb->key_line[k] || !keys[k].action)
			continue;
		r->has_actions = true;
		unsigned useless = r->ops & ~keys[k].ops;
		if (useless) {
			char ops[64];
			struct fmt f;
			fmt_init(&f, ops, sizeof(ops));
			ops_text(&f, useless);
			report(ps, rb->key_line[k], "'", keys[k].name, "' means nothing for on = ", ops, NULL);
		}
	}
	if (rb->key_line[K_DENY]) {
		for (unsigned k = 0; k < K_COUNT; k++)
			if (k != K_DENY && rb->key_line[k] && keys[k].action)
				report(ps, rb->key_line[k], "'", keys[k].name, "' cannot be combined with 'deny' in one rule", NULL);
	}
	if (rb->key_line[K_ROTATE] && !rb->key_line[K_SOURCE] && !rb->key_line[K_SOURCE_PORT])
		report(ps, rb->key_line[K_ROTATE], "'rotate' needs 'source' or 'source_port'", NULL);
	if (rb->key_line[K_ROTATE_SCOPE] && !rb->key_line[K_SOURCE] && !rb->key_line[K_SOURCE_PORT])
		report(ps, rb->key_line[K_ROTATE_SCOPE], "'rotate_scope' needs 'source' or 'source_port'", NULL);
	if (rb->key_line[K_ROTATE] && r->rotate == SS_ROTATE_KERNEL) {
		if (!rb->key_line[K_SOURCE_PORT])
			report(ps, rb->key_line[K_ROTATE], "'rotate = kernel' needs 'source_port'", NULL);
		else if (r->source_port.n != 1)
			report(ps, rb->key_line[K_SOURCE_PORT], "'rotate = kernel' takes a single port range in 'source_port'", NULL);
	}
	if (r->has_rewrite && r->rewrite_ip && r->rewrite.family == 6 && r->families == SS_FAM_V4)
		report(ps, rb->key_line[K_REWRITE], "'rewrite' to an IPv6 address cannot apply to family = ipv4", NULL);
	if (r->has_source_port && r->source_port.count && r->source_port.r[0].lo == 0)
		report(ps, rb->key_line[K_SOURCE_PORT], "'source_port' cannot include port 0", NULL);
}

struct ss_policy *ss_policy_parse(const char *file, const char *text, size_t len, ss_report_fn report_fn, void *ctx)
{
	struct arena *ar = arena_new();
	if (!ar)
		return NULL;
	struct ss_policy *p = arena_alloc(ar, sizeof(*p));
	struct parser ps = { 0 };
	if (!p || !(p->path = arena_strdup(ar, file))) {
		arena_free(ar);
		return NULL;
	}
	p->arena = ar;
	p->global.log = SS_LOG_STDERR;
	p->global.log_level = SS_LEVEL_INFO;
	ps.file = file;
	ps.report = report_fn;
	ps.ctx = ctx;
	ps.p = p;
	ps.cur = text;
	ps.end = text + len;
	vec_init(&ps.rules, sizeof(struct rule_build));
	vec_init(&ps.pending, sizeof(struct pending_report));

	ini_parse_stream(reader, &ps, handler, &ps);
	end_section(&ps);

	struct rule_build *rb = ps.rules.data;
	p->nrules = (unsigned)ps.rules.len;
	p->rules = p->nrules ? arena_alloc(ar, p->nrules * sizeof(struct ss_rule)) : NULL;
	if (p->nrules && !p->rules)
		ps.oom = true;
	for (unsigned i = 0; i < p->nrules; i++) {
		if (p->rules) {
			p->rules[i] = rb[i].r;
			p->op_mask |= rb[i].r.ops;
		}
	}
	vec_free(&ps.rules);
	deliver_reports(&ps);
	if (!ps.oom && p->nerrors == 0)
		p->index = ss_index_build(ar, p->rules, p->nrules);
	if (ps.oom) {
		arena_free(ar);
		return NULL;
	}
	return p;
}

static void file_error(const char *path, ss_report_fn report_fn, void *ctx, const char *what, int err)
{
	char msg[256];
	struct fmt f;
	fmt_init(&f, msg, sizeof(msg));
	fmt_str(&f, what);
	if (err) {
		fmt_str(&f, ": ");
		fmt_str(&f, ss_errno_name(err));
		const char *d = strerrordesc_np(err);
		if (d) {
			fmt_str(&f, " (");
			fmt_str(&f, d);
			fmt_char(&f, ')');
		}
	}
	if (report_fn)
		report_fn(ctx, SS_SEV_ERROR, path, 0, msg);
}

struct ss_policy *ss_policy_load(const char *path, ss_report_fn report_fn, void *ctx)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		file_error(path, report_fn, ctx, errno == ELOOP ? "cannot open policy (it is a symbolic link)" : "cannot open policy", errno == ELOOP ? 0 : errno);
		return NULL;
	}
	struct stat st;
	const char *bad = NULL;
	if (fstat(fd, &st) < 0)
		bad = "cannot stat policy";
	else if (!S_ISREG(st.st_mode))
		bad = "policy is not a regular file";
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		bad = "policy is writable by group or others; refusing it (chmod go-w)";
	else if (st.st_uid != 0 && st.st_uid != geteuid())
		bad = "policy is owned by another user; refusing it";
	else if ((size_t)st.st_size > MAX_POLICY_BYTES)
		bad = "policy is larger than 256 MiB";
	if (bad) {
		file_error(path, report_fn, ctx, bad, 0);
		close(fd);
		return NULL;
	}
	size_t size = (size_t)st.st_size;
	char *text = NULL;
	if (size) {
		text = scratch_get(size);
		if (!text) {
			close(fd);
			return NULL;
		}
		size_t got = 0;
		while (got < size) {
			ssize_t n = read(fd, text + got, size - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				file_error(path, report_fn, ctx, "cannot read policy", n < 0 ? errno : EIO);
				scratch_put(text, size);
				close(fd);
				return NULL;
			}
			got += (size_t)n;
		}
	}
	close(fd);
	struct ss_policy *p = ss_policy_parse(path, text ? text : "", size, report_fn, ctx);
	scratch_put(text, size);
	if (p) {
		p->file_dev = (uint64_t)st.st_dev;
		p->file_ino = (uint64_t)st.st_ino;
	}
	return p;
}

void ss_policy_free(struct ss_policy *p)
{
	if (p)
		arena_free(p->arena);
}

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

void ss_policy_bind_program(struct ss_policy *p, const char *argv0, const char *exe)
{
	for (unsigned i = 0; i < p->nrules; i++) {
		struct ss_rule *r = &p->rules[i];
		r->program_ok = r->nprograms == 0;
		for (unsigned k = 0; k < r->nprograms && !r->program_ok; k++)
			r->program_ok = (argv0 && ss_glob_match(r->programs[k], argv0)) || (exe && ss_glob_match(r->programs[k], exe));
	}
}

/*
 * policy_keys: the value of each key of a rule and of [global], and the
 * handler inih calls for every key line (see policy_parse.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "hostname.h"
#include "policy_parse.h"

const struct pp_key pp_keys[K_COUNT] = {
	[K_ON] = { "on", true, false, ALL_OPS },
	[K_PROTO] = { "proto", true, false, SOCK_OPS },
	[K_FAMILY] = { "family", true, false, ALL_OPS },
	[K_ADDR] = { "addr", true, false, SOCK_OPS },
	[K_PORT] = { "port", true, false, SOCK_OPS },
	[K_PROGRAM] = { "program", true, false, ALL_OPS },
	[K_HOST] = { "host", true, false, OUT_OPS | SS_OPBIT(SS_OP_RESOLVE) },
	[K_REUSEADDR] = { "reuseaddr", false, true, LOCAL_OPS },
	[K_REUSEPORT] = { "reuseport", false, true, LOCAL_OPS },
	[K_SOCKOPT] = { "sockopt", true, true, SOCK_OPS },
	[K_SOURCE] = { "source", true, true, OUT_OPS },
	[K_SOURCE_PORT] = { "source_port", true, true, OUT_OPS },
	[K_ROTATE] = { "rotate", false, true, OUT_OPS },
	[K_ROTATE_SCOPE] = { "rotate_scope", false, true, OUT_OPS },
	[K_REWRITE] = { "rewrite", false, true, ALL_OPS },
	[K_DENY] = { "deny", false, true, ALL_OPS },
};

const char *const pp_op_names[SS_OP_COUNT] = { "bind", "listen", "connect", "send", "resolve" };

const char *ss_op_name(enum ss_op op)
{
	return (unsigned)op < SS_OP_COUNT ? pp_op_names[op] : "?";
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
		while (a < e && pp_is_space(*a))
			a++;
		while (e > a && pp_is_space(e[-1]))
			e--;
		char item[256];
		if (a == e) {
			if (!comma && s != value)
				break; /* trailing comma */
			pp_report(ps, ps->line, "empty item in the list for '", key, "'", NULL);
			return false;
		}
		if ((size_t)(e - a) >= sizeof(item)) {
			pp_report(ps, ps->line, "item too long in the list for '", key, "'", NULL);
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
	pp_report(ps, ps->line, msg, NULL);
	return false;
}

static bool item_on(struct parser *ps, struct rule_build *rb, const char *key, const char *item)
{
	for (unsigned op = 0; op < SS_OP_COUNT; op++) {
		if (strcmp(item, pp_op_names[op]) == 0) {
			rb->r.ops |= SS_OPBIT(op);
			return true;
		}
	}
	return bad_value(ps, key, item, "bind, listen, connect, send or resolve");
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

static bool item_host(struct parser *ps, struct rule_build *rb, const char *key, const char *item)
{
	char norm[SS_HOST_MAX];
	const char *expected = ss_host_pattern(norm, item);
	if (expected)
		return bad_value(ps, key, item, expected);
	const char **slot = vec_push(&rb->hosts);
	if (!slot || !(*slot = arena_strdup(ps->p->arena, norm))) {
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
	while (nl && pp_is_space(name[nl - 1]))
		name[--nl] = '\0';
	const char *val = eq + 1;
	while (pp_is_space(*val))
		val++;

	struct ss_sockopt o = { 0 };
	o.opt = ss_optname_find(name);
	if (!o.opt) {
		pp_report(ps, ps->line, "unknown socket option '", name, "' in 'sockopt'", NULL);
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
	const char *key = pp_keys[k].name;
	struct ss_rule *r = &rb->r;

	switch (k) {
	case K_ON: each_item(ps, key, value, item_on, rb); break;
	case K_PROTO: each_item(ps, key, value, item_proto, rb); break;
	case K_FAMILY: each_item(ps, key, value, item_family, rb); break;
	case K_ADDR: each_item(ps, key, value, item_addr, rb); break;
	case K_PORT: each_item(ps, key, value, item_port, rb); break;
	case K_PROGRAM: each_item(ps, key, value, item_program, rb); break;
	case K_HOST: each_item(ps, key, value, item_host, rb); break;
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
	case K_REWRITE: /* read with the whole rule (policy_rule.c) */
		if (!(rb->rewrite_text = arena_strdup(ps->p->arena, value)))
			ps->oom = true;
		break;
	case K_DENY:
		if (!(rb->deny_text = arena_strdup(ps->p->arena, value)))
			ps->oom = true;
		break;
	case K_COUNT:
		break;
	}
}

/* A continuation line of rewrite (a long list cut at a comma, or a list
 * that goes on on the next line after a comma), joined to the text so far. */
static void append_rewrite(struct parser *ps, struct rule_build *rb, const char *value)
{
	size_t a = strlen(rb->rewrite_text), b = strlen(value);
	char *t = arena_alloc(ps->p->arena, a + b + 2);
	if (!t) {
		ps->oom = true;
		return;
	}
	memcpy(t, rb->rewrite_text, a);
	t[a] = ' '; /* the text so far ends with the comma the list goes on after */
	memcpy(t + a + 1, value, b + 1);
	rb->rewrite_text = t;
}

static const char *const global_keys[] = { "log", "log_level", "log_format", "mode", "on_error", "summary_interval", "reload" };

/* A duration in whole seconds: N followed by s, m or h (1s to 7 days), or
 * off (0). */
static bool parse_interval(const char *v, unsigned *out)
{
	if (strcmp(v, "off") == 0) {
		*out = 0;
		return true;
	}
	uint64_t n = 0;
	const char *s = v;
	for (; *s >= '0' && *s <= '9' && n <= 604800; s++)
		n = n * 10 + (uint64_t)(*s - '0');
	if (s == v || s[1] != '\0')
		return false;
	n *= s[0] == 's' ? 1 : s[0] == 'm' ? 60 : s[0] == 'h' ? 3600 : 0;
	if (n == 0 || n > 604800)
		return false;
	*out = (unsigned)n;
	return true;
}

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
	if (strcmp(key, "summary_interval") == 0)
		return parse_interval(value, &g->summary_interval) ? NULL : "a duration such as 60s or 5m, or off";
	if (strcmp(key, "reload") == 0) {
		if (strcmp(value, "on") == 0 || strcmp(value, "off") == 0)
			g->reload_off = value[1] == 'f';
		else
			return "on or off";
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
	pp_report(ps, ps->line, "duplicate key '", name, "' (first at line ", pp_num(l, first), ")", NULL);
}

int pp_handler(void *user, const char *section, const char *name, const char *value)
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
		pp_report(ps, ps->line, "'", name, "' is outside any [section]", NULL);
		ps->key_rejected = true;
		return 1;
	}
	if (!*value && !ps->continuation) {
		pp_report(ps, ps->line, "empty value for '", name, "'", NULL);
		return 1;
	}
	if (ps->sec == SEC_GLOBAL) {
		for (unsigned k = 0; k < sizeof(global_keys) / sizeof(global_keys[0]); k++) {
			if (strcmp(name, global_keys[k]) != 0)
				continue;
			if (ps->continuation) {
				pp_report(ps, ps->line, "'", name, "' takes one value, not a list", NULL);
				ps->key_rejected = true;
			} else if (ps->global_key_line[k]) {
				duplicate_key(ps, name, ps->global_key_line[k]);
			} else {
				ps->global_key_line[k] = ps->line;
				global_key(ps, k, value);
			}
			return 1;
		}
		pp_report(ps, ps->line, "unknown key '", name, "' in [global]", NULL);
		ps->key_rejected = true;
		return 1;
	}

	struct rule_build *rb = pp_cur_rule(ps);
	for (unsigned k = 0; k < K_COUNT; k++) {
		if (strcmp(name, pp_keys[k].name) != 0)
			continue;
		if (ps->continuation) {
			if (k == K_REWRITE && rb->rewrite_text) {
				/* resolve's rewrite is a list (policy_rule.c reads it whole) */
				if (*value)
					append_rewrite(ps, rb, value);
			} else if (!pp_keys[k].list) {
				pp_report(ps, ps->line, "'", name, "' takes one value, not a list", NULL);
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
	pp_report(ps, ps->line, "unknown key '", name, "' in rule '", rb->r.name, "'", NULL);
	ps->key_rejected = true;
	return 1;
}

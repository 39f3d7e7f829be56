/*
 * policy_parse: what the parts of the policy loader share while a text is
 * parsed (internal to policy.c, policy_read.c, policy_keys.c and
 * policy_rule.c; the API is policy.h).
 *
 * inih calls pp_reader for each line and pp_handler for each key; a
 * section's end hands its rule to pp_finish_rule. Problems go to pp_report,
 * which queues them so they come out sorted by line when the parse ends.
 */
#ifndef SOCKSHIM_POLICY_PARSE_H
#define SOCKSHIM_POLICY_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "nameset.h"
#include "netset.h"
#include "policy.h"

enum key {
	K_ON, K_PROTO, K_FAMILY, K_ADDR, K_PORT, K_PROGRAM, K_HOST,
	K_REUSEADDR, K_REUSEPORT, K_SOCKOPT, K_SOURCE, K_SOURCE_PORT, K_ROTATE, K_ROTATE_SCOPE, K_REWRITE, K_DENY,
	K_COUNT
};

#define SOCK_OPS (SS_OPBIT(SS_OP_BIND) | SS_OPBIT(SS_OP_LISTEN) | SS_OPBIT(SS_OP_CONNECT) | SS_OPBIT(SS_OP_SEND))
#define ALL_OPS (SOCK_OPS | SS_OPBIT(SS_OP_RESOLVE))
#define LOCAL_OPS (SS_OPBIT(SS_OP_BIND) | SS_OPBIT(SS_OP_LISTEN))
#define OUT_OPS (SS_OPBIT(SS_OP_CONNECT) | SS_OPBIT(SS_OP_SEND))

struct pp_key {
	const char *name;
	bool list;       /* may continue over several lines */
	bool action;
	unsigned ops;    /* the ops this key means something for */
};
extern const struct pp_key pp_keys[K_COUNT];
extern const char *const pp_op_names[SS_OP_COUNT];

struct rule_build {
	struct ss_rule r;
	unsigned key_line[K_COUNT];
	struct ss_ipset_builder addr;
	struct ss_portset_builder port, source_port;
	struct vec programs, sockopts, sources, hosts;
	/* rewrite and deny mean one thing for resolve and another for the
	 * socket ops: read once the whole rule (its `on`) is known */
	const char *rewrite_text, *deny_text;
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
	struct vec pending;      /* queued reports, delivered in line order */

	/* sections */
	enum { SEC_NONE, SEC_GLOBAL, SEC_RULE, SEC_SKIP } sec;
	unsigned global_line;
	unsigned global_key_line[8]; /* one per global_keys[] entry (policy_keys.c), with room */
	struct rule_build building; /* the rule being read (sec == SEC_RULE) */
	struct vec rules;        /* struct ss_rule: the rules whose section has ended */
	struct ss_nameset names; /* rule name -> index in rules */
};

/* Queue an error at line built from the NULL-terminated list of strings. */
void pp_report(struct parser *ps, unsigned line, ...);
/* v in decimal, in buf. */
const char *pp_num(char buf[static 16], unsigned v);

static inline bool pp_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static inline struct rule_build *pp_cur_rule(struct parser *ps)
{
	return ps->sec == SEC_RULE ? &ps->building : NULL;
}

/* inih's reader (stream is the parser). */
char *pp_reader(char *str, int num, void *stream);
/* Finish the section being read (its rule is checked then). */
void pp_end_section(struct parser *ps);
/* inih's handler (user is the parser). */
int pp_handler(void *user, const char *section, const char *name, const char *value);
/* Check a rule whose section ended and move its lists into the arena. */
void pp_finish_rule(struct parser *ps, struct rule_build *rb);

#endif

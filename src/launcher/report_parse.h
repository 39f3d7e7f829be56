/*
 * report_parse: reads one decision-log line, text or JSON, as src/log.c
 * writes it, into its parts. Pure code: no I/O, no allocation, so the
 * fuzzer and `sockshim report` share it.
 *
 * Accepted (see sockshim(1), REPORT):
 *   TS sockshim[PID] LEVEL OP fd=N [tcp|udp] [ADDR] [host=NAME] rule=R [actions=A,B] [dry-run] rc=N [errno=E] [via=V]
 *   TS sockshim[PID] LEVEL resolve host=NAME [KEY=VALUE ...] rule=R [actions=A,B] [dry-run] rc=N [...]
 *   TS sockshim[PID] LEVEL EVENT [KEY=VALUE ...]
 *   {"ts":...,"pid":N,"level":...,("op":... | "event":...), ...}   one flat object
 * each also behind a syslog prefix "<PRI>sockshim[PID]: ". A JSON line with
 * "op" is a decision whether or not it carries "event":"decision".
 */
#ifndef SOCKSHIM_REPORT_PARSE_H
#define SOCKSHIM_REPORT_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* Longer lines are damaged: the shim writes lines under PIPE_BUF. */
#define RP_LINE_MAX 8192
#define RP_MAX_ACTIONS 32
#define RP_MAX_PAIRS 32

/* A piece of text: in the line itself or in the parser's scratch space. */
struct rp_str {
	const char *p;
	size_t n;
};

enum rp_kind { RP_DECISION, RP_EVENT, RP_BAD };

/* Why a line was not read. */
enum rp_bad { RP_BAD_NONE, RP_BAD_NOT_LOG, RP_BAD_JSON, RP_BAD_BINARY, RP_BAD_LONG, RP_BAD_COUNT };

struct rp_line {
	enum rp_kind kind;
	enum rp_bad bad;
	struct rp_str ts, level;
	long pid;
	struct rp_str name;                /* the op of a decision, the event's name */
	/* decisions */
	struct rp_str rule, addr, err;     /* rule.n == 0: no rule ("-" or null) */
	struct rp_str host;                /* the name looked up (resolve), or the one the address came from; n == 0: none */
	struct rp_str act[RP_MAX_ACTIONS];
	unsigned nact;
	bool dry_run, has_rc;
	long rc;
	/* events: every KEY=VALUE (JSON: every member but ts, pid, level, event) */
	struct rp_str key[RP_MAX_PAIRS], val[RP_MAX_PAIRS];
	unsigned npair;
	char scratch[RP_LINE_MAX * 2];     /* decoded JSON strings */
	size_t used;
};

/* Parse line[0..n) (no newline) into *l. Returns l->kind; for RP_BAD,
 * l->bad says why. */
enum rp_kind rp_parse(const char *line, size_t n, struct rp_line *l);

/* The value of event KEY, or an empty string. */
struct rp_str rp_get(const struct rp_line *l, const char *key);

bool rp_eq(struct rp_str s, const char *lit);
bool rp_prefix(struct rp_str s, const char *lit);
/* s as a decimal number, or -1 */
long rp_num(struct rp_str s);

extern const char *const rp_bad_names[RP_BAD_COUNT];

#endif

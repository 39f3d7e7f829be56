/*
 * policy: the in-memory form of a sockshim policy file (see POLICY.md) and
 * its loader.
 *
 * Loading is pure apart from reading the file: no interposition, no global
 * state, no malloc (everything lives in the policy's arena), so the same code
 * serves the preloaded shim, the launcher's check/explain and the fuzzer.
 * A loaded policy is immutable except for the atomic counters in each rule's
 * state, which rotation and statistics update.
 */
#ifndef SOCKSHIM_POLICY_H
#define SOCKSHIM_POLICY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "arena.h"
#include "names.h"
#include "netset.h"

/* SS_OP_RESOLVE is a name lookup (getaddrinfo, gethostbyname*): no socket,
 * no address; matched by host, program and the family asked for. */
enum ss_op { SS_OP_BIND, SS_OP_LISTEN, SS_OP_CONNECT, SS_OP_SEND, SS_OP_RESOLVE, SS_OP_COUNT };
/* the ops on a socket */
#define SS_SOCK_OPS 0xfu
#define SS_OPBIT(op) (1u << (op))

/* Bit masks; a rule's mask of 0 means "any". */
#define SS_PROTO_TCP 1u
#define SS_PROTO_UDP 2u
#define SS_FAM_V4 1u
#define SS_FAM_V6 2u

enum ss_flag_action { SS_FLAG_NONE, SS_FLAG_FORCE, SS_FLAG_DENY };
enum ss_rotate { SS_ROTATE_SEQUENTIAL, SS_ROTATE_RANDOM, SS_ROTATE_KERNEL };

enum ss_log_target { SS_LOG_NONE, SS_LOG_STDERR, SS_LOG_SYSLOG, SS_LOG_FILE };
enum ss_log_level { SS_LEVEL_ERROR, SS_LEVEL_WARN, SS_LEVEL_INFO, SS_LEVEL_DEBUG };
enum ss_log_format { SS_FORMAT_TEXT, SS_FORMAT_JSON };

struct ss_sockopt {
	const struct ss_optname *opt;
	int ival;          /* SS_OPT_INT; SS_OPT_LINGER: seconds, or -1 for off */
	const char *sval;  /* SS_OPT_STRING */
	const char *text;  /* "SO_MARK=7" as written, for the log */
};

/* Mutable per-rule state: rotation cursors and statistics. */
enum { SS_CURSOR_ADDR, SS_CURSOR_PORT };
struct ss_rule_state {
	_Atomic uint64_t local[2];  /* this process's cursors */
	_Atomic uint64_t *cursor;   /* [SS_CURSOR_*]: local, or in memory shared by the host (rotate_scope = host) */
	uint64_t seed;              /* for rotate = random */
	_Atomic uint64_t matched, applied, failed;
};

struct ss_rule {
	const char *name;
	unsigned line;
	/* where some keys were written, for warnings (0: not written) */
	unsigned line_reuseaddr, line_reuseport, line_source, line_source_port, line_rotate;

	/* matchers */
	unsigned ops;      /* SS_OPBIT mask, never 0 */
	unsigned protos;   /* SS_PROTO_* mask, 0 = any */
	unsigned families; /* SS_FAM_* mask, 0 = any */
	bool has_addr, has_port;
	struct ss_ipset addr;
	struct ss_portset port;
	const char **programs;
	unsigned nprograms;
	bool program_ok;   /* programs matched the bound program name */
	const char *const *hosts; /* `host` patterns in normal form (hostname.h) */
	unsigned nhosts;

	/* actions */
	bool has_actions;
	enum ss_flag_action reuseaddr, reuseport;
	const struct ss_sockopt *sockopts;
	unsigned nsockopts;
	const struct ss_addr *source; /* port 0 */
	unsigned nsource;
	bool has_source_port;
	struct ss_portset source_port;
	enum ss_rotate rotate;
	bool rotate_host;             /* rotate_scope = host */
	bool has_rewrite, rewrite_ip, rewrite_port;
	struct ss_addr rewrite;
	int deny; /* errno, 0 = none */
	/* on = resolve: deny with this EAI_* code (0 = none), or answer with
	 * these addresses (rewrite; port 0) */
	int deny_eai;
	const struct ss_addr *answers;
	unsigned nanswers;

	struct ss_rule_state *state;
};

struct ss_global {
	enum ss_log_target log;
	const char *log_path;    /* SS_LOG_FILE: the file; SS_LOG_SYSLOG: the socket */
	enum ss_log_level log_level;
	enum ss_log_format log_format;
	bool dry_run;
	bool on_error_passthrough;
	unsigned summary_interval; /* seconds between periodic summaries; 0: off (periodic.h) */
	bool reload_off;         /* reload = off: a changed file is not loaded while running */
};

struct ss_index;

struct ss_policy {
	const char *path;
	uint64_t file_dev, file_ino; /* the file it was loaded from (ss_policy_load) */
	struct ss_global global;
	struct ss_rule *rules;
	unsigned nrules;
	unsigned op_mask;   /* ops that some rule names */
	unsigned host_ops;  /* ops that some rule with `host` names */
	unsigned nerrors;   /* errors reported while loading; rules are unusable if > 0 */
	const struct ss_index *index; /* which rules can match what (index.h); NULL: try them all */
	/* the rules naming each op, in rule order: what a walk without the
	 * index tries (oplist.h) */
	const uint32_t *op_rules[SS_OP_COUNT];
	uint32_t op_nrules[SS_OP_COUNT];
	struct arena *arena;
};

enum ss_severity { SS_SEV_ERROR, SS_SEV_WARNING };

/* Called once per problem found; line is 0 when the problem is the file itself. */
typedef void (*ss_report_fn)(void *ctx, enum ss_severity sev, const char *file, unsigned line, const char *msg);

/*
 * Parse policy text. Returns NULL only when memory runs out. Otherwise the
 * policy comes back even with errors (nerrors > 0) so the caller can still
 * read [global] (on_error, log) and decide what to do; its rules must not be
 * used then. file is used in messages only.
 */
struct ss_policy *ss_policy_parse(const char *file, const char *text, size_t len, ss_report_fn report, void *ctx);

/*
 * Open and parse a policy file: O_NOFOLLOW|O_CLOEXEC, refused when it is not
 * a regular file, is writable by group or others, or is owned by a user
 * other than root or the effective user. Returns NULL with one error
 * reported when the file cannot be used, or when memory runs out.
 */
struct ss_policy *ss_policy_load(const char *path, ss_report_fn report, void *ctx);

void ss_policy_free(struct ss_policy *p);

/*
 * Set one [global] key (also used for the SOCKSHIM_* environment overrides).
 * Returns NULL on success, or what was expected ("text or json").
 */
const char *ss_global_apply(struct ss_global *g, struct arena *a, const char *key, const char *value);

/*
 * Settle which rules' `program` globs match this process: argv0 is the base
 * name it was started as, exe the base name of the executable it runs.
 * A rule matches when any glob matches either. Either may be NULL.
 */
void ss_policy_bind_program(struct ss_policy *p, const char *argv0, const char *exe);

/* The base name of a path (what follows its last '/'), as `program` globs
 * are matched against. */
const char *ss_base_name(const char *path);

/* Shell-style glob: * ? [set] [!set], no special meaning for '/' or '.'. */
bool ss_glob_match(const char *pattern, const char *s);

/* Names for logs and messages. */
const char *ss_op_name(enum ss_op op);

#endif

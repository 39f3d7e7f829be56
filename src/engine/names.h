/*
 * names: the symbolic names a policy may use, and their values.
 */
#ifndef SOCKSHIM_NAMES_H
#define SOCKSHIM_NAMES_H

#include <stdbool.h>

enum ss_optkind {
	SS_OPT_INT,    /* int value */
	SS_OPT_STRING, /* interface name (SO_BINDTODEVICE) */
	SS_OPT_LINGER, /* struct linger: N seconds, or "off" */
};

/* Which sockets an option makes sense on; others skip it (logged). */
enum ss_optscope {
	SS_SCOPE_ANY,
	SS_SCOPE_IPV4, /* IPPROTO_IP options: AF_INET sockets */
	SS_SCOPE_IPV6, /* IPPROTO_IPV6 options: AF_INET6 sockets */
	SS_SCOPE_TCP,  /* IPPROTO_TCP options: TCP sockets */
};

struct ss_optname {
	const char *name;
	int level, optname;
	enum ss_optkind kind;
	enum ss_optscope scope;
};

/* NULL when name is not in the table. */
const struct ss_optname *ss_optname_find(const char *name);

struct fmt;
/* "TCP_NODELAY" for (IPPROTO_TCP, TCP_NODELAY); "LEVEL:NAME" in numbers for
 * an option not in the table. */
void ss_optname_format(struct fmt *f, int level, int optname);

/* The errno for "EACCES" etc., or 0. */
int ss_errno_from_name(const char *name);
/* "EACCES" for EACCES; a fixed "E?" for values without a name. */
const char *ss_errno_name(int err);

#endif

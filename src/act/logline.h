/*
 * What log.c lends the files that format lines of their own kind
 * (logresolve.c): a line begun and ended as every line is (time, pid,
 * level; the single write, the sink's checks), and the pieces of a line.
 */
#ifndef SOCKSHIM_LOGLINE_H
#define SOCKSHIM_LOGLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fmt.h"
#include "log.h"

#define SS_LOGLINE_MAX 3072 /* < PIPE_BUF: concurrent writers never interleave */

/* The line's head into buf; returns the second it was stamped with. */
int64_t ss_logline_begin(struct fmt *f, char *buf, size_t cap, enum ss_log_level level);
/* The line's end, and its one write to the sink. */
void ss_logline_end(struct fmt *f, int64_t second);
bool ss_logline_json(void);
/* ,"KEY":"VAL" with VAL escaped, or ,"KEY":null; prefix is ,"KEY": as it is */
void ss_logline_member(struct fmt *f, const char *prefix, size_t n, const char *val);
#define JSON_MEMBER(f, key, val) ss_logline_member((f), ",\"" key "\":", sizeof(",\"" key "\":") - 1, (val))
/* A decision's action strings, as JSON array members or " actions=A,B". */
void ss_logline_actions_json(struct fmt *f, const struct ss_actions *a);
void ss_logline_actions_text(struct fmt *f, const struct ss_actions *a);
/* A name a program looked up, in the text form (see log.c). */
void ss_logline_text_name(struct fmt *f, const char *s);

#endif

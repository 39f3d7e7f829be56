/*
 * report_names: the "by name" part of `sockshim report`. Decision lines
 * carry `host` (text host=, JSON "host") when the address came from a name
 * lookup, and a lookup's own line names what was looked up; this groups
 * them per name: its lookups and their answer, then each destination the
 * program reached by that name and what was decided for it. Nothing when
 * no line carries a name.
 */
#ifndef SOCKSHIM_REPORT_NAMES_H
#define SOCKSHIM_REPORT_NAMES_H

#include <stdbool.h>
#include <stdio.h>

#include "report_parse.h"

/* A decision line l whose host is not empty; result is what report says of
 * it ("allowed", "denied", "rewritten to 127.0.0.1:15432", ...). False when
 * memory ran out. */
bool rn_decision(const struct rp_line *l, const char *result);

/* The "by name" section, text (nothing without names) or a JSON array. */
void rn_text(FILE *o);
void rn_json(FILE *o);

void rn_free(void);

#endif

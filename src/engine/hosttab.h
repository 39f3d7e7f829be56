/*
 * hosttab: which name this process looked up to get an address, so `host`
 * rules can match a connect or send and log lines can name the destination.
 *
 * A fixed table in plain process memory (inherited by fork), of
 * SS_HOSTTAB_BUCKETS buckets of SS_HOSTTAB_WAYS entries, keyed by address
 * (IPv4 as its v4-mapped IPv6 form, so both spellings find one entry).
 * Recording an address that is already in its bucket overwrites that entry:
 * the most recent lookup wins. Otherwise the bucket's oldest entry goes.
 *
 * No lock anywhere: each entry is a seqlock whose every field is an atomic,
 * so a reader copies it and retries while a writer is in it (an entry being
 * rewritten is never reported as empty; the wait is bounded only against a
 * writer that never finishes, see WAIT_NS in hosttab.c), and two writers
 * never wait on each other (a writer that finds
 * an entry being written takes another of the bucket, or gives up: a lost
 * record, never a wait). Safe from any thread and from a signal handler;
 * allocates nothing. An entry a fork caught half-written stays unusable in
 * the child (one of the table's entries), nothing worse.
 */
#ifndef SOCKSHIM_HOSTTAB_H
#define SOCKSHIM_HOSTTAB_H

#include <stdbool.h>

#include "addr.h"
#include "hostname.h"
#include "policy.h"

#ifndef SS_HOSTTAB_BUCKETS
#define SS_HOSTTAB_BUCKETS 512 /* a power of two */
#endif
#define SS_HOSTTAB_WAYS 4

/* Record that a lookup of name (normal form, hostname.h) returned a. */
void ss_hosttab_put(const struct ss_addr *a, const char *name);

/* The name the most recent lookup that returned a was for, in out; false
 * when no lookup this table remembers returned it. The port is ignored. */
bool ss_hosttab_get(const struct ss_addr *a, char out[static SS_HOST_MAX]);

/* Whether anything was ever recorded: a front end skips the lookup when
 * not (one relaxed load). */
bool ss_hosttab_used(void);

/* For a decision on op: the name a lookup returned a for, in buf, when
 * some rule on op has `host` and the table has a; else NULL. */
static inline const char *ss_host_for(const struct ss_policy *p, enum ss_op op, const struct ss_addr *a,
				      char buf[static SS_HOST_MAX])
{
	return (p->host_ops & SS_OPBIT(op)) && ss_hosttab_get(a, buf) ? buf : NULL;
}

/* Forget everything (tests). */
void ss_hosttab_reset(void);

#endif

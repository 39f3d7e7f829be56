/*
 * report_names: see report_names.h.
 */
#include "report_names.h"

#include <stdlib.h>
#include <string.h>

#include "report_tab.h"

#define SHOW_NAMES 50 /* names, in the text form (JSON: all) */
#define SHOW_DESTS 20 /* destinations per name, in the text form */

/* counters of a name (names) and of one destination by it (dests) */
enum { N_LOOKUPS, N_DECISIONS, N_DENIED, N_REWRITTEN };
enum { D_COUNT };

static struct rt_tab names, dests;

bool rn_decision(const struct rp_line *l, const char *result)
{
	struct rt_ent *n = rt_get(&names, l->host.p, l->host.n);
	if (!n)
		return false;
	if (rp_eq(l->name, "resolve")) {
		/* what the lookups were answered with: the first line's actions */
		n->n[N_LOOKUPS]++;
		rt_when(n, l->ts.p, l->ts.n);
		char what[300], *w = what, *end = what + sizeof(what);
		for (unsigned i = 0; i < l->nact && w < end; i++)
			w += snprintf(w, (size_t)(end - w), "%s%.*s", i ? "," : "", (int)l->act[i].n, l->act[i].p);
		if (w < end)
			snprintf(w, (size_t)(end - w), "%s%s%.*s", l->nact ? "" : l->rule.n ? "allow" : "no rule", l->rule.n ? " rule=" : "",
				 (int)l->rule.n, l->rule.p);
		rt_note(n, what, strlen(what));
		return true;
	}
	n->n[N_DECISIONS]++;
	n->n[N_DENIED] += strncmp(result, "denied", 6) == 0 || strncmp(result, "would be denied", 15) == 0;
	n->n[N_REWRITTEN] += strstr(result, "rewritten") != NULL;
	/* name, op, address, result: NUL-joined */
	char key[1200];
	size_t len = 0;
	const struct rp_str part[4] = { l->host, l->name, l->addr.n ? l->addr : (struct rp_str){ "-", 1 },
					{ result, strlen(result) } };
	for (int i = 0; i < 4; i++) {
		size_t k = part[i].n < 280 ? part[i].n : 280;
		memcpy(key + len, part[i].p, k);
		len += k;
		if (i < 3)
			key[len++] = '\0';
	}
	struct rt_ent *d = rt_get(&dests, key, len);
	if (!d)
		return false;
	d->ref = n;
	d->n[D_COUNT]++;
	if (l->rule.n)
		rt_note(d, l->rule.p, l->rule.n);
	return true;
}

/* the parts of a destination's key: name, op, address, result */
static void parts(const struct rt_ent *e, const char *part[4])
{
	const char *p = e->key;
	for (int i = 0; i < 4; i++) {
		part[i] = p;
		if (i < 3)
			p += strlen(p) + 1;
	}
}

/* Each name's destinations (most frequent first) chained to it. */
static struct rt_ent **sorted(size_t *nn, struct rt_ent ***ds, size_t *nd)
{
	struct rt_ent **n = rt_sorted(&names, N_DECISIONS, nn);
	*ds = rt_sorted(&dests, D_COUNT, nd);
	for (size_t i = 0; i < *nn; i++)
		n[i]->head = n[i]->tail = NULL;
	for (size_t j = 0; j < *nd; j++) {
		struct rt_ent *g = (*ds)[j]->ref;
		(*ds)[j]->chain = NULL;
		if (g->tail)
			g->tail->chain = (*ds)[j];
		else
			g->head = (*ds)[j];
		g->tail = (*ds)[j];
	}
	return n;
}

void rn_text(FILE *o)
{
	size_t nn, nd;
	struct rt_ent **ds, **n = sorted(&nn, &ds, &nd);
	if (nn)
		fputs("\nby name\n", o);
	for (size_t i = 0; i < nn && i < SHOW_NAMES; i++) {
		const uint64_t *c = n[i]->n;
		fprintf(o, "  %s: %llu lookup%s", n[i]->key, (unsigned long long)c[N_LOOKUPS], c[N_LOOKUPS] == 1 ? "" : "s");
		if (n[i]->note)
			fprintf(o, " (%s)", n[i]->note);
		fprintf(o, ", %llu decision%s, %llu denied, %llu rewritten\n", (unsigned long long)c[N_DECISIONS],
			c[N_DECISIONS] == 1 ? "" : "s", (unsigned long long)c[N_DENIED], (unsigned long long)c[N_REWRITTEN]);
		size_t shown = 0;
		for (struct rt_ent *d = n[i]->head; d; d = d->chain, shown++) {
			if (shown == SHOW_DESTS) {
				fputs("    ... more (--json lists them all)\n", o);
				break;
			}
			const char *part[4];
			parts(d, part);
			fprintf(o, "    %-8s %-28s \xc3\x97%-6llu %s%s%s\n", part[1], part[2], (unsigned long long)d->n[D_COUNT], part[3],
				d->note ? " rule=" : "", d->note ? d->note : "");
		}
	}
	if (nn > SHOW_NAMES)
		fprintf(o, "  ... %zu more names (--json lists them all)\n", nn - SHOW_NAMES);
	free(n);
	free(ds);
}

void rn_json(FILE *o)
{
	size_t nn, nd;
	struct rt_ent **ds, **n = sorted(&nn, &ds, &nd);
	fputc('[', o);
	for (size_t i = 0; i < nn; i++) {
		const uint64_t *c = n[i]->n;
		fputs(i ? ",{\"host\":" : "{\"host\":", o);
		rt_json_str(o, n[i]->key, n[i]->klen);
		fprintf(o, ",\"lookups\":%llu,\"answer\":", (unsigned long long)c[N_LOOKUPS]);
		rt_json_cstr(o, n[i]->note);
		fprintf(o, ",\"decisions\":%llu,\"denied\":%llu,\"rewritten\":%llu,\"destinations\":[", (unsigned long long)c[N_DECISIONS],
			(unsigned long long)c[N_DENIED], (unsigned long long)c[N_REWRITTEN]);
		bool first = true;
		for (struct rt_ent *d = n[i]->head; d; d = d->chain) {
			const char *part[4];
			parts(d, part);
			rt_json_dest(o, part, d->note, d->n[D_COUNT], first);
			first = false;
		}
		fputs("]}", o);
	}
	fputc(']', o);
	free(n);
	free(ds);
}

void rn_free(void)
{
	rt_free(&names);
	rt_free(&dests);
}

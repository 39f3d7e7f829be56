/*
 * libFuzzer target: arbitrary bytes as a decision log, each line through
 * the reader of `sockshim report` (report_parse.h). Every line must come
 * back as a decision, an event or damaged (with a reason), and every piece
 * the reader hands out must lie inside the line or its scratch space.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_parse.h"

static struct rp_line L;

static void inside(struct rp_str s, const char *line, size_t n)
{
	if (!s.n)
		return;
	const char *sc = L.scratch;
	int in_line = s.p >= line && s.p + s.n <= line + n;
	int in_scratch = s.p >= sc && s.p + s.n <= sc + L.used;
	if (!in_line && !in_scratch) {
		fprintf(stderr, "invariant broken: a piece outside the line and the scratch space\n");
		abort();
	}
}

static void one(const char *line, size_t n)
{
	enum rp_kind k = rp_parse(line, n, &L);
	if (k != L.kind || (k == RP_BAD) != (L.bad != RP_BAD_NONE) || L.bad >= RP_BAD_COUNT ||
	    L.nact > RP_MAX_ACTIONS || L.npair > RP_MAX_PAIRS || L.used > sizeof(L.scratch)) {
		fprintf(stderr, "invariant broken: kind %d bad %d nact %u npair %u\n", k, L.bad, L.nact, L.npair);
		abort();
	}
	if (k == RP_BAD)
		return;
	inside(L.ts, line, n);
	inside(L.level, line, n);
	inside(L.name, line, n);
	inside(L.rule, line, n);
	inside(L.addr, line, n);
	inside(L.err, line, n);
	for (unsigned i = 0; i < L.nact; i++)
		inside(L.act[i], line, n);
	for (unsigned i = 0; i < L.npair; i++) {
		inside(L.key[i], line, n);
		inside(L.val[i], line, n);
	}
	if (k == RP_DECISION && !L.has_rc) {
		fprintf(stderr, "invariant broken: a decision without rc\n");
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	/* each line in a buffer of its own size, so ASan sees any read past it */
	const char *p = (const char *)d, *end = p + n;
	while (p <= end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		char *copy = malloc(len ? len : 1);
		if (!copy)
			return 0;
		memcpy(copy, p, len);
		one(copy, len);
		free(copy);
		if (!nl)
			break;
		p = nl + 1;
	}
	return 0;
}

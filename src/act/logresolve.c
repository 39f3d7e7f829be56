/*
 * The lines of a name lookup's decision (on = resolve), text and JSON: their
 * own file, on the line machinery of log.c (logline.h).
 */
#include "log.h"

#include <errno.h>
#include <string.h>

#include "fmt.h"
#include "hostname.h"
#include "logline.h"

#define LIT(f, s) fmt_mem((f), (s), sizeof(s) - 1)

static void fmt_family(struct fmt *f, unsigned fam)
{
	fmt_str(f, fam == SS_FAM_V4 ? "ipv4" : fam == SS_FAM_V6 ? "ipv6" : "any");
}

static void resolve_json(struct fmt *f, const struct ss_resolve_line *r)
{
	const struct ss_actions *a = r->actions;
	LIT(f, ",\"event\":\"decision\",\"op\":\"resolve\",\"fd\":null,\"proto\":null,\"family\":\"");
	fmt_family(f, r->family);
	LIT(f, "\",\"addr\":null");
	JSON_MEMBER(f, "host", r->host);
	JSON_MEMBER(f, "call", r->call);
	JSON_MEMBER(f, "rule", r->rule);
	LIT(f, ",\"actions\":[");
	ss_logline_actions_json(f, a);
	LIT(f, "],\"dry_run\":");
	if (r->dry_run)
		LIT(f, "true");
	else
		LIT(f, "false");
	LIT(f, ",\"rc\":");
	fmt_i64(f, r->rc);
	LIT(f, ",\"errno\":null");
	JSON_MEMBER(f, "error", r->rc ? ss_eai_name(r->rc) : NULL);
	LIT(f, ",\"answer\":[");
	for (unsigned i = 0; i < r->nanswer; i++) {
		if (i)
			fmt_char(f, ',');
		fmt_char(f, '"');
		fmt_ip(f, &r->answer[i]);
		fmt_char(f, '"');
	}
	fmt_char(f, ']');
}

static void resolve_text(struct fmt *f, const struct ss_resolve_line *r)
{
	const struct ss_actions *a = r->actions;
	LIT(f, " resolve host=");
	ss_logline_text_name(f, r->host);
	LIT(f, " family=");
	fmt_family(f, r->family);
	LIT(f, " call=");
	fmt_str(f, r->call);
	LIT(f, " rule=");
	fmt_str(f, r->rule ? r->rule : "-");
	ss_logline_actions_text(f, a);
	if (r->dry_run)
		LIT(f, " dry-run");
	LIT(f, " rc=");
	fmt_i64(f, r->rc);
	if (r->rc) {
		LIT(f, " error=");
		fmt_str(f, ss_eai_name(r->rc) ? ss_eai_name(r->rc) : "?");
	}
	if (r->nanswer) {
		LIT(f, " answer=");
		for (unsigned i = 0; i < r->nanswer; i++) {
			if (i)
				fmt_char(f, ',');
			fmt_ip(f, &r->answer[i]);
		}
	}
}

void ss_log_resolve(enum ss_log_level level, const struct ss_resolve_line *r)
{
	if (!ss_log_enabled(level))
		return;
	int saved = errno;
	char buf[SS_LOGLINE_MAX];
	struct fmt f;
	int64_t second = ss_logline_begin(&f, buf, sizeof(buf), level);
	if (ss_logline_json())
		resolve_json(&f, r);
	else
		resolve_text(&f, r);
	ss_logline_end(&f, second);
	errno = saved;
}

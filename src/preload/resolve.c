/*
 * resolve: see resolve.h.
 */
#include "resolve.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>

#include "actions.h"
#include "answer.h"
#include "decide.h"
#include "hostname.h"
#include "hosttab.h"
#include "log.h"
#include "peek.h"
#include "reload.h"
#include "shim.h"

/* ---- libc's own ---- */

typedef struct hostent *(*ghbn2_fn)(const char *, int);
typedef int (*ghbn2r_fn)(const char *, int, struct hostent *, char *, size_t, struct hostent **, int *);

static void *_Atomic p_gai, *_Atomic p_ghbn2, *_Atomic p_ghbn2r;

/* libc's symbol, or NULL (never ours); published as real.c does. */
static void *sym(void *_Atomic *slot, const char *name, void *self)
{
	void *f = atomic_load_explicit(slot, memory_order_acquire);
	if (f)
		return f;
	f = dlsym(RTLD_NEXT, name);
	if (!f || f == self)
		return NULL;
	atomic_store_explicit(slot, f, memory_order_release);
	return f;
}

static int real_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res)
{
	ss_gai_fn f = (ss_gai_fn)sym(&p_gai, "getaddrinfo", (void *)shim_getaddrinfo);
	if (!f) {
		errno = ENOSYS;
		return EAI_SYSTEM;
	}
	return f(node, service, hints, res);
}

static struct hostent *real_gethostbyname2(const char *name, int af)
{
	ghbn2_fn f = (ghbn2_fn)sym(&p_ghbn2, "gethostbyname2", (void *)shim_gethostbyname2);
	if (!f) {
		h_errno = NO_RECOVERY;
		return NULL;
	}
	return f(name, af);
}

static int real_gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf, size_t buflen,
				 struct hostent **result, int *h_errnop)
{
	ghbn2r_fn f = (ghbn2r_fn)sym(&p_ghbn2r, "gethostbyname2_r", (void *)shim_gethostbyname2_r);
	if (!f) {
		*result = NULL;
		*h_errnop = NO_RECOVERY;
		return ENOSYS;
	}
	return f(name, af, ret, buf, buflen, result, h_errnop);
}

/* ---- one lookup ---- */

#define LOGGED_MAX 16 /* answers written on a log line */

struct lookup {
	const char *call, *name;
	char norm[SS_HOST_MAX];
	unsigned family;
	const struct ss_rule *rule;
	bool dry, debug;
	struct ss_actions acts;
	struct ss_addr seen[LOGGED_MAX];
	unsigned nseen;
};

/* false: not the shim's to look at (not loaded, nothing to do, a numeric
 * address, or a name no rule could see). */
static bool begin(struct lookup *l, const char *call, const char *name, unsigned family, enum ss_lookup how)
{
	if (!name || !shim_ready())
		return false;
	const struct ss_live *lv = ss_live();
	if (!lv->policy || lv->idle || !ss_lookup_name(l->norm, name, how))
		return false;
	l->call = call;
	l->name = name;
	l->family = family;
	l->dry = lv->dry;
	l->debug = lv->debug;
	l->nseen = 0;
	l->rule = NULL;
	if (lv->policy->op_mask & SS_OPBIT(SS_OP_RESOLVE)) {
		struct ss_callsite s = { SS_OP_RESOLVE, 0, family, NULL, NULL, NULL, NULL, NULL };
		l->rule = ss_decide_call_host(lv->policy, &s, l->norm, NULL);
	}
	if (l->rule)
		ss_act_tally_resolve(l->rule);
	ss_actions_init(&l->acts);
	return true;
}

/* An address the program got back: into the host table, and onto the log line. */
static void got(struct lookup *l, const struct ss_addr *a)
{
	ss_act_remember(a, l->norm);
	if (l->nseen < LOGGED_MAX)
		l->seen[l->nseen++] = *a;
}

static void got_sockaddr(struct lookup *l, const struct sockaddr *sa, socklen_t len)
{
	struct ss_addr a;
	if (ss_addr_from_sockaddr(&a, sa, len)) {
		a.port = 0;
		got(l, &a);
	}
}

static void got_hostent(struct lookup *l, const struct hostent *h)
{
	if (!h || (h->h_addrtype != AF_INET && h->h_addrtype != AF_INET6) || !h->h_addr_list)
		return;
	for (char **p = h->h_addr_list; *p; p++) {
		struct ss_addr a = { .family = h->h_addrtype == AF_INET ? 4 : 6 };
		memcpy(a.ip, *p, h->h_addrtype == AF_INET ? 4 : 16);
		got(l, &a);
	}
}

static void finish(struct lookup *l, int rc)
{
	if (!l->rule && !l->debug)
		return;
	struct ss_resolve_line line = { l->call, l->name, l->family, l->rule ? l->rule->name : NULL, &l->acts,
					l->dry && l->rule && (l->rule->deny_eai || l->rule->nanswers), rc, l->seen, l->nseen };
	ss_log_resolve(l->rule ? SS_LEVEL_INFO : SS_LEVEL_DEBUG, &line);
}

/* The rule's action for the log; true when it is carried out (not dry-run). */
static bool acting(struct lookup *l)
{
	const struct ss_rule *r = l->rule;
	if (!r || (!r->deny_eai && !r->nanswers))
		return false;
	if (r->deny_eai) {
		ss_actions_add(&l->acts, "deny", ss_eai_name(r->deny_eai));
	} else {
		for (unsigned i = 0; i < r->nanswers; i++)
			ss_actions_add_addr(&l->acts, "rewrite", &r->answers[i], false);
	}
	return !l->dry;
}

static unsigned fam_of(int af)
{
	return af == AF_INET ? SS_FAM_V4 : af == AF_INET6 ? SS_FAM_V6 : SS_FAM_V4 | SS_FAM_V6;
}

/* The EAI_* a gethostbyname failure stands for, for the log. */
static int eai_of_h_errno(int h)
{
	return h == HOST_NOT_FOUND ? EAI_NONAME : h == TRY_AGAIN ? EAI_AGAIN : h == NO_DATA ? EAI_NODATA : EAI_FAIL;
}

/* ---- the hooks ---- */

/* A non-ASCII name asked with AI_IDN: glibc converts it (libidn2) to the
 * xn-- form it looks up, a conversion (IDNA2008, with Unicode
 * normalisation) the shim does not repeat, so rules for the xn-- name
 * cannot be matched. Such a lookup is decided on the name as asked; when no
 * rule answers or refuses it, it fails with EAI_NONAME (what glibc says for
 * that name without AI_IDN) instead of reaching libc: no rule can be passed
 * by this way of spelling a name. */
static bool idn_name(const char *node, const struct addrinfo *hints)
{
	if (!node || !hints || !(hints->ai_flags & AI_IDN))
		return false;
	for (const unsigned char *p = (const unsigned char *)node; *p; p++)
		if (*p >= 0x80)
			return true;
	return false;
}

/* What glibc's getaddrinfo says about the hints and the service before it
 * looks at the name: asked of libc itself with a numeric node (no lookup),
 * so a refused lookup still gives EAI_BADFLAGS, EAI_FAMILY, EAI_SOCKTYPE or
 * EAI_SERVICE for a bad call, as glibc does for any name. 0 when fine. */
static int hints_error(const char *service, const struct addrinfo *hints)
{
	struct addrinfo h = { 0 }, *probe = NULL;
	if (hints) {
		h.ai_flags = hints->ai_flags;
		h.ai_family = hints->ai_family;
		h.ai_socktype = hints->ai_socktype;
		h.ai_protocol = hints->ai_protocol;
	}
	h.ai_flags = (h.ai_flags | AI_NUMERICHOST) & ~AI_ADDRCONFIG;
	int fam = h.ai_family;
	int saved = errno;
	int rc = real_getaddrinfo(fam == AF_INET6 ? "::1" : "127.0.0.1", service, &h, &probe);
	errno = saved;
	if (probe)
		freeaddrinfo(probe);
	/* with a numeric node of the family asked for, every error is the
	 * call's: EAI_NONAME too (AI_NUMERICSERV with a service name) */
	return rc;
}

int shim_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res)
{
	struct lookup l;
	int af = hints ? hints->ai_family : AF_UNSPEC;
	int flags = hints ? hints->ai_flags : 0;
	enum ss_lookup how = af == AF_INET && !(flags & AI_CANONNAME) ? SS_LOOKUP_GAI_INET : SS_LOOKUP_GAI;
	bool idn = idn_name(node, hints);
	if ((flags & AI_NUMERICHOST) || !begin(&l, "getaddrinfo", node, fam_of(af), how))
		return real_getaddrinfo(node, service, hints, res);
	int rc;
	if (idn && !l.dry && !(l.rule && (l.rule->deny_eai || l.rule->nanswers))) {
		rc = hints_error(service, hints);
		if (!rc)
			rc = EAI_NONAME;
		finish(&l, rc);
		return rc;
	}
	if (acting(&l)) {
		if (l.rule->deny_eai) {
			rc = hints_error(service, hints);
			if (!rc)
				rc = l.rule->deny_eai;
			finish(&l, rc);
			return rc;
		}
		rc = ss_answer_addrinfo(real_getaddrinfo, l.rule->answers, l.rule->nanswers, node, service, hints, res);
	} else {
		rc = real_getaddrinfo(node, service, hints, res);
	}
	int saved = errno;
	if (rc == 0) {
		/* one address per socket type: record and log each once */
		for (const struct addrinfo *p = *res; p; p = p->ai_next) {
			bool dup = false;
			struct ss_addr a;
			if (!p->ai_addr || !ss_addr_from_sockaddr(&a, p->ai_addr, p->ai_addrlen))
				continue;
			for (unsigned i = 0; i < l.nseen && !dup; i++)
				dup = l.seen[i].family == a.family && memcmp(l.seen[i].ip, a.ip, 16) == 0;
			if (!dup)
				got_sockaddr(&l, p->ai_addr, p->ai_addrlen);
		}
	}
	finish(&l, rc);
	errno = saved;
	return rc;
}

int shim_gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf, size_t buflen, struct hostent **result,
			  int *h_errnop)
{
	struct lookup l;
	if ((af != AF_INET && af != AF_INET6) ||
	    !begin(&l, af == AF_INET ? "gethostbyname_r" : "gethostbyname2_r", name, fam_of(af),
		   af == AF_INET ? SS_LOOKUP_GHBN_INET : SS_LOOKUP_GHBN_INET6))
		return real_gethostbyname2_r(name, af, ret, buf, buflen, result, h_errnop);
	int rc;
	if (acting(&l)) {
		*result = NULL;
		if (l.rule->deny_eai) {
			*h_errnop = ss_eai_h_errno(l.rule->deny_eai);
			finish(&l, l.rule->deny_eai);
			if (*h_errnop == TRY_AGAIN)
				return errno = EAGAIN;
			return 0;
		}
		rc = ss_answer_hostent(l.rule->answers, l.rule->nanswers, name, af, ret, buf, buflen);
		if (rc == ERANGE) { /* the program retries with a larger buffer: no line for this one */
			*h_errnop = NETDB_INTERNAL;
			return errno = ERANGE;
		}
		if (rc == ENOENT) {
			*h_errnop = HOST_NOT_FOUND;
			finish(&l, EAI_NONAME);
			return 0;
		}
		*result = ret;
	} else {
		rc = real_gethostbyname2_r(name, af, ret, buf, buflen, result, h_errnop);
		if (rc == ERANGE)
			return rc;
	}
	int saved = errno;
	got_hostent(&l, *result);
	finish(&l, *result ? 0 : eai_of_h_errno(*h_errnop));
	errno = saved;
	return rc;
}

/* gethostbyname's answer lives in static storage, one for the process as
 * libc's: a hostent one thread got stays readable by another after the
 * first has ended (a program that serialises its calls may hand it on).
 * The lock is held while the answer is written, as libc holds its own. */
static struct {
	struct hostent h;
	char buf[sizeof(char *) * 20 + 16 * 16 + SS_HOST_MAX + 16];
} stat_answer;
static atomic_flag stat_lock = ATOMIC_FLAG_INIT;

struct hostent *shim_gethostbyname2(const char *name, int af)
{
	struct lookup l;
	if ((af != AF_INET && af != AF_INET6) ||
	    !begin(&l, af == AF_INET ? "gethostbyname" : "gethostbyname2", name, fam_of(af),
		   af == AF_INET ? SS_LOOKUP_GHBN_INET : SS_LOOKUP_GHBN_INET6))
		return real_gethostbyname2(name, af);
	struct hostent *h;
	if (acting(&l)) {
		if (l.rule->deny_eai) {
			h_errno = ss_eai_h_errno(l.rule->deny_eai);
			finish(&l, l.rule->deny_eai);
			return NULL;
		}
		while (atomic_flag_test_and_set_explicit(&stat_lock, memory_order_acquire))
			;
		int rc = ss_answer_hostent(l.rule->answers, l.rule->nanswers, name, af, &stat_answer.h, stat_answer.buf,
					   sizeof(stat_answer.buf));
		atomic_flag_clear_explicit(&stat_lock, memory_order_release);
		if (rc) { /* ENOENT: no answer of that family (the name is at most SS_HOST_MAX: it fits) */
			h_errno = HOST_NOT_FOUND;
			finish(&l, EAI_NONAME);
			return NULL;
		}
		h = &stat_answer.h;
	} else {
		h = real_gethostbyname2(name, af);
	}
	int saved = errno, herr = h_errno;
	got_hostent(&l, h);
	finish(&l, h ? 0 : eai_of_h_errno(herr));
	h_errno = herr;
	errno = saved;
	return h;
}

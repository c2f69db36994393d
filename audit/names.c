/*
 * names.c - the set of names a target may treat as its own, built once per
 * target from everything known about it (issue 10, finding 3): the IP
 * literal, the banner and EHLO names, their parent mail domains
 * (mail.site.example -> site.example, one label up and never a public
 * suffix), the --mx domain and MX host, the PTR name and its parent,
 * localhost, [127.0.0.1], and the operator's --local-name values.
 * Sender-side and routing tricks are repeated over this set (trick.h
 * RG_TRICK_PER_NAME), so a rule keyed on the mail domain ("relay when the
 * sender is @site.example") is tried, not only rules on the host name.
 *
 * Pure: no I/O but libpsl's public suffix list (Debian's publicsuffix data),
 * so it is unit-tested on tables (tests/unit/test_names.c).
 */
#include "audit.h"
#include "lib/base/util.h"

#include <ctype.h>
#include <libpsl.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

static bool is_hostname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= AUDIT_NAME_MAX || s[0] == '.' || s[0] == '-' || s[n - 1] == '.')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-' && *s != '_')
			return false;
	return true;
}

/* A name fit to stand in an address: a host name or an address literal. */
static bool usable(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n >= AUDIT_NAME_MAX)
		return false;
	if (s[0] == '[')
		return s[n - 1] == ']' && strspn(s + 1, "0123456789abcdefABCDEFIPv6:.") == n - 2;
	return is_hostname(s);
}

static void add(char (*out)[AUDIT_NAME_MAX], size_t *n, size_t max, const char *s)
{
	char low[AUDIT_NAME_MAX];

	if (*n >= max || !usable(s))
		return;
	strlcpy_rg(low, s, sizeof(low));
	if (low[0] != '[')		/* "[IPv6:...]" keeps its tag as written */
		rg_lowercase(low);
	for (size_t i = 0; i < *n; i++)
		if (strcasecmp(out[i], low) == 0)
			return;
	strlcpy_rg(out[(*n)++], low, AUDIT_NAME_MAX);
}

static pthread_once_t psl_once = PTHREAD_ONCE_INIT;
static psl_ctx_t *psl_ctx;	/* kept for the process: targets run in threads */

static void psl_load(void)
{
	psl_ctx = psl_latest(NULL);	/* newest of built-in and Debian's publicsuffix */
}

bool audit_parent_domain(const char *name, char *out, size_t len)
{
	const char *dot = name ? strchr(name, '.') : NULL;
	const psl_ctx_t *psl;

	if (dot == NULL || !is_hostname(name) || strchr(dot + 1, '.') == NULL)
		return false;		/* single label or already name.tld */
	pthread_once(&psl_once, psl_load);
	psl = psl_ctx;
	if (psl != NULL && psl_is_public_suffix(psl, dot + 1))
		return false;		/* site.co.uk -> co.uk: a public suffix */
	if (strlen(dot + 1) >= len)
		return false;
	strlcpy_rg(out, dot + 1, len);
	return true;
}

size_t audit_name_set(const struct audit_name_facts *f, char (*out)[AUDIT_NAME_MAX],
    size_t max)
{
	const char *own[] = {f->ehlo_name, f->banner_name, f->mx_host, f->ptr};
	char parent[AUDIT_NAME_MAX];
	size_t n = 0;

	add(out, &n, max, f->ip_literal);
	add(out, &n, max, f->ehlo_name);
	add(out, &n, max, f->banner_name);
	for (size_t i = 0; i < f->noperator; i++)
		add(out, &n, max, f->operator_names[i]);
	add(out, &n, max, f->mx_domain);
	for (size_t i = 0; i < RG_NELEM(own); i++)
		if (audit_parent_domain(own[i], parent, sizeof(parent)))
			add(out, &n, max, parent);
	add(out, &n, max, f->mx_host);
	add(out, &n, max, f->ptr);
	add(out, &n, max, "localhost");
	add(out, &n, max, "[127.0.0.1]");
	return n;
}

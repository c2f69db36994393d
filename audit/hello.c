/*
 * hello.c - EHLO (HELO when EHLO is refused) on a greeted session, and what
 * the first session's answers tell about the server: its name, its EHLO
 * keywords (connect.h).
 */
#include "connect.h"
#include "lib/base/util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

bool looks_like_hostname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253 || strchr(s, '.') == NULL)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-' && *s != '_')
			return false;
	return true;
}

static void parse_ehlo(struct audit_target *t, const struct rg_reply *r, bool first)
{
	char buf[RG_REPLY_LINE_MAX];

	/* Keywords are recorded from the first session's EHLO in clear text;
	 * STARTTLS, once offered, stays offered (the EHLO after TLS omits it). */
	if (first)
		t->ehlo_keywords[0] = '\0';
	for (int i = 1; i < r->nlines; i++) {
		const char *l = rg_reply_line(r, i, buf, sizeof(buf));
		char kw[64];

		if (l == NULL)
			break;
		if (sscanf(l, "%63s", kw) != 1)
			continue;
		for (char *c = kw; *c; c++)
			*c = (char)toupper((unsigned char)*c);
		if (strcmp(kw, "STARTTLS") == 0)
			t->starttls_offered = true;
		if (first && strlen(t->ehlo_keywords) + strlen(kw) + 2 < sizeof(t->ehlo_keywords)) {
			if (t->ehlo_keywords[0])
				strcat(t->ehlo_keywords, " ");
			strcat(t->ehlo_keywords, kw);
		}
	}
	if (first) {
		rg_reply_first_word(r, buf, sizeof(buf));
		if (looks_like_hostname(buf))
			strlcpy_rg(t->ehlo_name, buf, sizeof(t->ehlo_name));
		rg_lowercase(t->ehlo_name);
	}
}

/* Whether an EHLO reply lists keyword (RFC 5321 4.1.1.1: one per line). */
static bool ehlo_has(const struct rg_reply *r, const char *keyword)
{
	char buf[RG_REPLY_LINE_MAX], kw[64];

	for (int i = 1; i < r->nlines; i++) {
		const char *l = rg_reply_line(r, i, buf, sizeof(buf));

		if (l == NULL)
			break;
		if (sscanf(l, "%63s", kw) == 1 && strcasecmp(kw, keyword) == 0)
			return true;
	}
	return false;
}

/* EHLO (HELO when EHLO is refused with 5xx, as Metasploit does). 0 ok.
 * Only the first session's answer describes the server in the report. */
int say_hello(struct audit_target *t, struct session *s, const char *name,
    bool first, struct rg_reply *r)
{
	s->nonmail++;
	if (rg_smtp_command(s->conn, r, "EHLO %s", name) != 0)
		return -1;
	if (r->code / 100 == 2) {
		if (first) {
			const char *nl = strchr(r->text, '\n');

			snprintf(t->ehlo_greeting, sizeof(t->ehlo_greeting), "%.*s",
			    nl ? (int)(nl - r->text) : (int)strlen(r->text), r->text);
		}
		parse_ehlo(t, r, first);
		s->pipelining = ehlo_has(r, "PIPELINING");
		strlcpy_rg(s->helo, name, sizeof(s->helo));
		return 0;
	}
	if (r->code / 100 == 5) {
		if (first)
			t->ehlo_refused = true;
		s->nonmail++;
		if (rg_smtp_command(s->conn, r, "HELO %s", name) != 0)
			return -1;
		if (r->code / 100 == 2) {
			strlcpy_rg(s->helo, name, sizeof(s->helo));
			return 0;
		}
	}
	return -1;
}


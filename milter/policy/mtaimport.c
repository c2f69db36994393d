/*
 * mtaimport.c - what both importers share (mtaimport_postfix.c,
 * mtaimport_sendmail.c): the checked, deduplicated lists, the notes, the
 * negations, and the relayguard.conf lines written from them; see
 * mtaimport.h.
 */
#include "mtaimport.h"
#include "configadvice.h"
#include "lib/base/log.h"
#include "lib/mail/netmatch.h"
#include "lib/base/textclean.h"
#include "lib/base/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* wider networks are never imported: as -t warns (configadvice.h) */
#define WIDEST_PREFIX(family) \
	((family) == AF_INET ? RG_ADVICE_WIDEST_V4 : RG_ADVICE_WIDEST_V6)

/* --- collecting ------------------------------------------------------------ */

void rg_import_note(struct rg_import *im, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		msg_fatal("out of memory");
	va_end(ap);
	if (im->nnotes == im->capnotes) {
		im->capnotes = im->capnotes ? im->capnotes * 2 : 8;
		im->notes = xrealloc(im->notes, im->capnotes * sizeof(char *));
	}
	im->notes[im->nnotes++] = s;
}

void rg_import_raw(struct rg_import *im, const char *line)
{
	if (im->nraw == im->capraw) {
		im->capraw = im->capraw ? im->capraw * 2 : 8;
		im->raw = xrealloc(im->raw, im->capraw * sizeof(char *));
	}
	im->raw[im->nraw++] = xstrdup(line);
}

static bool list_has(const struct rg_import_list *l, const char *v)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i].value, v) == 0)
			return true;
	return false;
}

void rg_import_list_add(struct rg_import_list *l, const char *v,
    const char *source)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n].value = xstrdup(v);
	l->v[l->n].source = xstrdup(source);
	l->n++;
}

/* "[::1]/128" -> "::1/128": Postfix brackets IPv6 in mynetworks. */
void rg_import_unbracket(const char *in, char *out, size_t len)
{
	const char *close;

	if (in[0] == '[' && (close = strchr(in, ']')) != NULL)
		snprintf(out, len, "%.*s%s", (int)(close - in - 1), in + 1,
		    close + 1);
	else
		strlcpy_rg(out, in, len);
}

void rg_import_negated(struct rg_import *im, int kind, const char *value,
    const char *source)
{
	char tagged[1024];

	rg_import_note(im, "%s: negated item '!%s' not imported (a relayguard "
	    "list has no exceptions): whatever covers it is left out too",
	    source, value);
	snprintf(tagged, sizeof(tagged), "%c%s", kind == 'T' ? 'T' : 'D', value);
	if (value[0] != '\0' && !list_has(&im->negated, tagged))
		rg_import_list_add(&im->negated, tagged, source);
}

/* Do networks a and b share an address? */
static bool cidr_overlap(const struct rg_cidr *a, const struct rg_cidr *b)
{
	unsigned bits = a->prefix < b->prefix ? a->prefix : b->prefix;
	unsigned i;

	if (a->family != b->family)
		return false;
	for (i = 0; i + 8 <= bits; i += 8)
		if (a->addr[i / 8] != b->addr[i / 8])
			return false;
	if (i < bits) {
		unsigned char m = (unsigned char)(0xff << (8 - (bits - i)));

		return (a->addr[i / 8] & m) == (b->addr[i / 8] & m);
	}
	return true;
}

/* Does domain list item v ("example.com", ".example.com") cover d? */
static bool domain_covers(const char *v, const char *d)
{
	size_t lv = strlen(v), ld = strlen(d);

	if (d[0] == '.')
		d++, ld--;
	if (strcasecmp(v, d) == 0)
		return true;
	if (v[0] != '.')
		return false;
	return strcasecmp(v + 1, d) == 0 ||
	    (ld > lv && strcasecmp(d + ld - lv, v) == 0);
}

static void list_drop(struct rg_import *im, struct rg_import_list *l,
    size_t i, const char *key, const char *negated, const char *source)
{
	rg_import_note(im, "%s: %s %s NOT imported: it covers the negated "
	    "'!%s' (%s); list the rest by hand", l->v[i].source, key,
	    l->v[i].value, negated, source);
	free(l->v[i].value);
	free(l->v[i].source);
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(l->v[0]));
	l->n--;
}

void rg_import_drop_param(struct rg_import *im, struct rg_import_list *l,
    const char *param, const char *why)
{
	size_t plen = strlen(param);

	for (size_t i = 0; i < l->n; i++) {
		const char *src = l->v[i].source;

		if (strncmp(src, param, plen) != 0 ||
		    (src[plen] != '\0' && src[plen] != ' '))
			continue;
		rg_import_note(im, "%s: %s NOT imported: %s", src, l->v[i].value,
		    why);
		free(l->v[i].value);
		free(l->v[i].source);
		memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(l->v[0]));
		l->n--;
		i--;
	}
}

/* Never wider than the MTA: drop every entry that covers a negated item. */
void rg_import_finish(struct rg_import *im)
{
	char err[RG_NETMATCH_ERRLEN], text[128];
	struct rg_cidr neg, c;

	for (size_t k = 0; k < im->negated.n; k++) {
		const char *v = im->negated.v[k].value + 1;
		const char *src = im->negated.v[k].source;

		if (im->negated.v[k].value[0] == 'T') {
			rg_import_unbracket(v, text, sizeof(text));
			if (rg_cidr_parse(text, &neg, err, sizeof(err)) != 0)
				continue;
			for (size_t i = 0; i < im->trusted.n; i++)
				if (rg_cidr_parse(im->trusted.v[i].value, &c, err,
				    sizeof(err)) == 0 && cidr_overlap(&c, &neg))
					list_drop(im, &im->trusted, i--,
					    "TrustedNetworks", v, src);
			continue;
		}
		for (size_t i = 0; i < im->local.n; i++)
			if (domain_covers(im->local.v[i].value, v))
				list_drop(im, &im->local, i--, "LocalDomains", v, src);
		for (size_t i = 0; i < im->relay.n; i++)
			if (domain_covers(im->relay.v[i].value, v))
				list_drop(im, &im->relay, i--, "RelayDomains", v, src);
	}
}

static void add_trusted(struct rg_import *im, const char *value,
    const char *source)
{
	char text[128], addr[INET6_ADDRSTRLEN], err[RG_NETMATCH_ERRLEN];
	struct rg_cidr c;

	rg_import_unbracket(value, text, sizeof(text));
	if (rg_cidr_parse(text, &c, err, sizeof(err)) != 0) {
		rg_import_note(im, "%s: '%s' is not an IPv4/IPv6 network (%s); "
		    "relayguard trusts clients by address only", source, value,
		    err);
		return;
	}
	inet_ntop(c.family, c.addr, addr, sizeof(addr));
	snprintf(text, sizeof(text), "%s/%u", addr, c.prefix);
	if (c.prefix < WIDEST_PREFIX(c.family)) {
		rg_import_note(im, "%s: NOT imported: %s would let %s relay "
		    "through this server (an open relay); list the networks of "
		    "your own clients instead", source, text,
		    c.prefix == 0 ? "every address on the Internet" :
		    c.family == AF_INET ? "a network wider than a /8" :
		    "a network wider than an IPv6 /32");
		return;
	}
	if (!list_has(&im->trusted, text))
		rg_import_list_add(&im->trusted, text, source);
}

static void add_domain(struct rg_import *im, struct rg_import_list *l,
    const char *value, const char *source)
{
	struct rg_domain_list check = {0};
	char err[RG_NETMATCH_ERRLEN], *v;

	if (value[0] == '\0')
		return;
	if (strpbrk(value, ", \t\r\n") != NULL ||
	    rg_domain_list_parse(&check, value, source, 0, err,
	    sizeof(err)) != 0 || strncmp(value, "file:", 5) == 0) {
		rg_import_note(im, "%s: '%s' is not a domain name or address "
		    "literal; not imported", source, value);
		rg_domain_list_free(&check);
		return;
	}
	rg_domain_list_free(&check);
	if (rg_domain_is_public_suffix(value)) {
		rg_import_note(im, "%s: '%s' is a public suffix, not a domain of "
		    "one site; not imported", source, value);
		return;
	}
	v = xstrdup(value);
	if (v[0] != '[')
		rg_lowercase(v);
	if (l == &im->relay && list_has(&im->local, v)) {
		rg_import_note(im, "%s: %s is a local domain already "
		    "(LocalDomains)", source, v);
	} else if (!list_has(l, v)) {
		rg_import_list_add(l, v, source);
	}
	free(v);
}

void rg_import_add(struct rg_import *im, int kind, const char *value,
    const char *source)
{
	switch (kind) {
	case 'L':
		add_domain(im, &im->local, value, source);
		break;
	case 'R':
		add_domain(im, &im->relay, value, source);
		break;
	case 'T':
		add_trusted(im, value, source);
		break;
	}
}

/* An address as a LocalDomains literal: "[192.0.2.1]", "[IPv6:...]". */
int rg_import_run(const char *spec, struct rg_import *im, char *err,
    size_t errlen)
{
	const char *colon = strchr(spec, ':');
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
	const char *dir = colon && colon[1] ? colon + 1 : NULL;

	int rc;

	if (n == 7 && strncmp(spec, "postfix", 7) == 0)
		rc = rg_import_postfix(dir, im, err, errlen);
	else if (n == 8 && strncmp(spec, "sendmail", 8) == 0)
		rc = rg_import_sendmail(dir, im, err, errlen);
	else
		rc = -2;
	if (rc == 0)
		rg_import_finish(im);
	if (rc != -2)
		return rc;
	return rg_set_err(err, errlen, "--import %s: expected postfix[:CONFIG_DIR] "
	    "or sendmail[:ETC_MAIL_DIR]", spec);
}

/* --- output ------------------------------------------------------------------ */

/* The rest of a comment line: text from the MTA's files stays on it (a
 * newline in a note would start a line relayguard.conf reads). */
static void comment_line(FILE *out, const char *text)
{
	rg_clean_fputs(RG_SINK_LOG, text, out);
	fputc('\n', out);
}

static void write_list(FILE *out, const char *key,
    const struct rg_import_list *l)
{
	fprintf(out, "\n# %s:\n", key);
	for (size_t i = 0; i < l->n; i++) {
		fprintf(out, "#   %-30s from ", l->v[i].value);
		comment_line(out, l->v[i].source);
	}
	if (l->n == 0) {
		fprintf(out, "#   (nothing to import: the line stays as it is)\n"
		    "# %s\n", key);
		return;
	}
	fprintf(out, "%s", key);
	for (size_t i = 0; i < l->n; i++)
		fprintf(out, "%s%s", i ? ", " : " ", l->v[i].value);
	fputc('\n', out);
}

void rg_import_write(FILE *out, const struct rg_import *im,
    const char *command)
{
	char when[RG_TIME_ISO_LEN];

	fprintf(out,
	    "# relayguard relay settings imported from %s (%s)\n"
	    "# by \"%s\" at %s.\n"
	    "#\n"
	    "# Read them before use: relayguard enforces exactly these lists.\n"
	    "# Paste them into relayguard.conf, or append this output to it\n"
	    "# (list keys accumulate) and check it with relayguard-milter -t.\n",
	    im->mta ? im->mta : "?", im->where ? im->where : "?", command,
	    rg_time_iso8601(NULL, when, sizeof(when)));
	if (im->nraw > 0) {
		fprintf(out, "#\n# %s settings read:\n", im->mta);
		for (size_t i = 0; i < im->nraw; i++) {
			fputs("#   ", out);
			comment_line(out, im->raw[i]);
		}
	}
	if (im->nnotes > 0) {
		fprintf(out, "#\n# Not imported, or to check by hand:\n");
		for (size_t i = 0; i < im->nnotes; i++) {
			fputs("#   - ", out);
			comment_line(out, im->notes[i]);
		}
	}
	write_list(out, "LocalDomains", &im->local);
	write_list(out, "RelayDomains", &im->relay);
	write_list(out, "TrustedNetworks", &im->trusted);
}

void rg_import_list_clear(struct rg_import_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].value);
		free(l->v[i].source);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void rg_import_free(struct rg_import *im)
{
	rg_import_list_clear(&im->local);
	rg_import_list_clear(&im->relay);
	rg_import_list_clear(&im->trusted);
	rg_import_list_clear(&im->negated);
	rg_import_list_clear(&im->sm_relay);
	rg_import_list_clear(&im->sm_other);
	for (size_t i = 0; i < im->nnotes; i++)
		free(im->notes[i]);
	for (size_t i = 0; i < im->nraw; i++)
		free(im->raw[i]);
	free(im->notes);
	free(im->raw);
	free(im->mta);
	free(im->where);
	memset(im, 0, sizeof(*im));
}

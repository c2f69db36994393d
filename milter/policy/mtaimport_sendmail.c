/*
 * mtaimport_sendmail.c - sendmail's relay settings (class w, class R, the
 * text source of the access map) as relayguard.conf lists; see
 * mtaimport.h.
 *
 * The access text is read the way makemap(8) reads it: a line starting
 * with '#' is a comment, anything else is "key<blanks>value" where the
 * value is ALL the rest of the line - "RELAY # office" is the value, not
 * RELAY with a comment. sendmail's rules then compare the tokens of the
 * value, case-insensitively, with RELAY alone: "RELAY # office", "RELAY
 * REJECT", "\"RELAY\"" do not relay (a real sendmail says so in
 * tests/integration/280_milter_import_trust.sh). makemap refuses a line with leading blanks or without a
 * value; such lines are kept as "other" entries, which only ever remove.
 *
 * sendmail looks a client up most specific first (Connect:10.1.2.3, 10.1.2.3,
 * Connect:10.1.2, ... 10; IPv6:2001:db8:1::5, ...:1:, ...:1, ...), and the
 * first entry found decides. So "Connect:10 RELAY" relays for 10.0.0.0/8
 * only where no longer prefix says otherwise: an entry is imported only
 * when no other entry lies inside it. What sendmail trusts without the
 * access map (the local host, numeric class R words) is imported only when
 * no access entry on its lookup path says otherwise either.
 */
#include "mtaimport.h"
#include "lib/base/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define SM_BLANKS	" \t\r\n\f\v"

/* --- the client address spellings sendmail compares ----------------------- */

/* One decimal octet as inet_ntop prints it: 0..255, no leading zero. */
static bool sm_octet(const char *s, size_t n, unsigned *v)
{
	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return false;
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return *v <= 255;
}

/* "10", "10.1", "10.1.2", "10.1.2.3" -> "10.0.0.0/8" ... "/32". */
static bool sm_prefix4(const char *p, char *out, size_t len)
{
	unsigned oct[4] = {0};
	int n = 0;

	for (;;) {
		size_t k = strcspn(p, ".");

		if (n == 4 || !sm_octet(p, k, &oct[n]))
			return false;
		n++;
		if (p[k] == '\0')
			break;
		p += k + 1;
	}
	snprintf(out, len, "%u.%u.%u.%u/%d", oct[0], oct[1], oct[2], oct[3],
	    n * 8);
	return true;
}

/* A whole address as inet_ntop prints it -> "/128"; else leading groups
 * as it prints them, none of them zero (a zero group may print as "::",
 * and then the key never matches) -> "/16n". */
static bool sm_prefix6(const char *p, char *out, size_t len)
{
	unsigned char bin[16];
	char canon[INET6_ADDRSTRLEN], tmp[INET6_ADDRSTRLEN + 4];
	int groups = 0;

	if (inet_pton(AF_INET6, p, bin) == 1) {
		inet_ntop(AF_INET6, bin, canon, sizeof(canon));
		if (strcmp(canon, p) != 0)
			return false;
		snprintf(out, len, "%s/128", p);
		return true;
	}
	for (const char *q = p;; q++) {
		size_t k = strcspn(q, ":");

		if (k == 0 || k > 4 || q[0] == '0' || ++groups > 7)
			return false;
		for (size_t i = 0; i < k; i++)
			if (!isxdigit((unsigned char)q[i]) ||
			    isupper((unsigned char)q[i]))
				return false;
		q += k;
		if (*q == '\0')
			break;
	}
	snprintf(tmp, sizeof(tmp), "%s::", p);
	if (inet_pton(AF_INET6, tmp, bin) != 1)
		return false;
	snprintf(out, len, "%s/%d", tmp, groups * 16);
	return true;
}

/* A numeric access key or class R word (lowercase "ipv6:" for IPv6) as a
 * network; false when sendmail would never see a client address in it. */
static bool sm_prefix(const char *item, char *out, size_t len)
{
	if (strncasecmp(item, "ipv6:", 5) == 0)
		return sm_prefix6(item + 5, out, len);
	return sm_prefix4(item, out, len);
}

/* --- entries that hide others --------------------------------------------------- */

/* Is key k (tag removed) on the lookup path of p or inside it? Addresses
 * are cut at '.' (IPv4) or ':' (IPv6); domains at '.' from the left. */
static bool sm_related(const char *k, const char *p, bool domain, bool up)
{
	size_t lk = strlen(k), lp = strlen(p);
	char sep = strncmp(p, "ipv6:", 5) == 0 ? ':' : '.';

	if (strcmp(k, p) == 0)
		return true;
	if (domain)
		return lk > lp && k[lk - lp - 1] == '.' &&
		    strcmp(k + lk - lp, p) == 0;
	if (lk > lp && strncmp(k, p, lp) == 0 && k[lp] == sep)
		return true;		/* a longer prefix: looked up first */
	return up && lp > lk && strncmp(k, p, lk) == 0 && p[lk] == sep;
}

/* The first other (not RELAY) entry of tag ("connect", "to") or without a
 * tag that hides what p grants; up: also a shorter prefix (for what
 * sendmail grants without the access map). */
static const struct rg_import_item *sm_hidden(const struct rg_import *im,
    const char *tag, const char *p, bool domain, bool up)
{
	size_t lt = strlen(tag);

	for (size_t i = 0; i < im->sm_other.n; i++) {
		const char *k = im->sm_other.v[i].value;

		if (strncmp(k, tag, lt) == 0 && k[lt] == ':')
			k += lt + 1;
		else if (strchr(k, ':') != NULL && strncmp(k, "ipv6:", 5) != 0)
			continue;	/* another tag: From:, Spam: ... */
		if (sm_related(k, p, domain, up))
			return &im->sm_other.v[i];
	}
	return NULL;
}

/* Trust network net (key p) unless an other entry hides part of it. */
static void sm_trust(struct rg_import *im, const char *p, const char *net,
    const char *src, bool up)
{
	const struct rg_import_item *h = sm_hidden(im, "connect", p, false, up);

	if (h != NULL)
		rg_import_note(im, "%s: %s NOT imported: the access entry %s "
		    "(%s) comes first for some of its clients and does not say "
		    "RELAY", src, net, h->value, h->source);
	else
		rg_import_add(im, 'T', net, src);
}

/* Class R and To: domains match subdomains too in sendmail. */
static void sm_relay_domain(struct rg_import *im, const char *d,
    const char *src)
{
	const struct rg_import_item *h = sm_hidden(im, "to", d, true, false);
	char *sub;

	if (h != NULL) {
		rg_import_note(im, "%s: relaying to %s NOT imported: the access "
		    "entry %s (%s) comes first for it or a subdomain and does "
		    "not say RELAY", src, d, h->value, h->source);
		return;
	}
	rg_import_add(im, 'R', d, src);
	if (d[0] != '.' && d[0] != '[') {
		sub = xasprintf(".%s", d);
		rg_import_add(im, 'R', sub, src);
		free(sub);
	}
}

/* --- class files ------------------------------------------------------------------- */

static void sm_class_word(struct rg_import *im, int cls, char *w,
    const char *src)
{
	char pre[128];

	if (cls == 'w') {
		rg_import_add(im, 'L', w, src);
		return;
	}
	rg_lowercase(w);
	if (sm_prefix(w, pre, sizeof(pre))) {
		sm_trust(im, w, pre, src, true);
	} else if (isdigit((unsigned char)w[0]) || strchr(w, ':') != NULL) {
		rg_import_note(im, "%s: '%s' is not an address prefix as "
		    "sendmail compares it with client addresses; not imported",
		    src, w);
	} else {
		sm_relay_domain(im, w, src);
		rg_import_note(im, "%s: sendmail also lets clients whose host "
		    "name is in %s relay; relayguard trusts addresses only "
		    "(list their networks in TrustedNetworks)", src, w);
	}
}

/* A class file: one or more words per line, '#' comments. */
static bool sm_class_file(struct rg_import *im, const char *dir,
    const char *name, int cls)
{
	char *path = xasprintf("%s/%s", dir, name), line[4096], *w, *save;
	FILE *f = fopen(path, "r");
	int lineno = 0;

	if (f == NULL) {
		if (errno != ENOENT)
			rg_import_note(im, "cannot read %s: %s", path,
			    strerror(errno));
		free(path);
		return false;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *hash = strchr(line, '#'), *src;

		lineno++;
		if (hash != NULL)
			*hash = '\0';
		src = xasprintf("%s:%d", name, lineno);
		for (w = strtok_r(line, SM_BLANKS, &save); w != NULL;
		    w = strtok_r(NULL, SM_BLANKS, &save))
			sm_class_word(im, cls, w, src);
		free(src);
	}
	fclose(f);
	free(path);
	return true;
}

/* --- the access map ----------------------------------------------------------------- */

/* The value's tokens are RELAY alone (sendmail compares case-blind);
 * only the blanks a real sendmail was seen to skip (space, tab, CR) may
 * follow it (tests/integration/280_milter_import_trust.sh). */
static bool sm_is_relay(const char *v)
{
	v += strspn(v, SM_BLANKS);
	return strncasecmp(v, "relay", 5) == 0 &&
	    v[5 + strspn(v + 5, " \t\r\n")] == '\0';
}

/* One line as makemap reads it, into sm_relay or sm_other. */
static void sm_access_line(struct rg_import *im, char *line,
    const char *src)
{
	char *key, *val;
	size_t klen;

	line[strcspn(line, "\n")] = '\0';
	if (line[0] == '#')
		return;
	key = line + strspn(line, SM_BLANKS);
	if ((klen = strcspn(key, SM_BLANKS)) == 0)
		return;
	val = key + klen;
	if (*val != '\0')
		*val++ = '\0';
	rg_lowercase(key);
	if (key == line && sm_is_relay(val))
		rg_import_list_add(&im->sm_relay, key, src);
	else
		rg_import_list_add(&im->sm_other, key, src);
}

/* A RELAY entry: Connect:/bare address -> trust, To:/bare domain -> relay. */
static void sm_relay_entry(struct rg_import *im, const char *key,
    const char *src)
{
	const char *colon = strchr(key, ':'), *what = key;
	char pre[128];
	bool tagged = colon != NULL && strncmp(key, "ipv6:", 5) != 0;
	size_t tlen = tagged ? (size_t)(colon - key) : 0;

	if (tagged)
		what = colon + 1;
	if (!tagged || (tlen == 7 && strncmp(key, "connect", 7) == 0)) {
		if (sm_prefix(what, pre, sizeof(pre)))
			sm_trust(im, what, pre, src, false);
		else if (tagged || isdigit((unsigned char)what[0]) ||
		    strchr(what, ':') != NULL)
			rg_import_note(im, "%s: %s RELAY names no client address "
			    "sendmail would see (a host name, or an address not "
			    "spelled as sendmail prints it); not imported", src,
			    key);
		else {
			/* a bare domain: relaying to it, and from it */
			sm_relay_domain(im, what, src);
			rg_import_note(im, "%s: %s RELAY also lets clients named "
			    "in %s relay; relayguard trusts addresses only", src,
			    what, what);
		}
	} else if (tlen == 2 && strncmp(key, "to", 2) == 0) {
		if (strchr(what, '@') != NULL || what[0] == '\0' ||
		    sm_prefix(what, pre, sizeof(pre)))
			rg_import_note(im, "%s: %s RELAY is not a domain; "
			    "per-address relaying is not imported", src, key);
		else
			sm_relay_domain(im, what, src);
	} else {
		rg_import_note(im, "%s: %s RELAY is not imported (only Connect: "
		    "and To: entries are relay settings relayguard knows)", src,
		    key);
	}
}

void rg_import_sendmail_access(struct rg_import *im, FILE *in,
    const char *name)
{
	char *line = NULL, *src;
	size_t cap = 0;
	int lineno = 0;

	while (getline(&line, &cap, in) >= 0) {
		src = xasprintf("%s:%d", name, ++lineno);
		sm_access_line(im, line, src);
		free(src);
	}
	free(line);
	for (size_t i = 0; i < im->sm_relay.n; i++)
		sm_relay_entry(im, im->sm_relay.v[i].value,
		    im->sm_relay.v[i].source);
}

/* --- the whole /etc/mail ----------------------------------------------------------------- */

/* The access text first: what it says decides what else is imported. */
static bool sm_access_file(struct rg_import *im, const char *dir)
{
	char *path = xasprintf("%s/access", dir);
	FILE *f = fopen(path, "r");
	bool found = f != NULL;

	if (f != NULL) {
		rg_import_sendmail_access(im, f, "access");
		fclose(f);
	} else {
		char *db = xasprintf("%s/access.db", dir);

		if (access(db, F_OK) == 0)
			rg_import_note(im, "%s exists but its text source %s "
			    "does not: dump it with \"makemap -u hash %s\" into "
			    "%s and run the import again", db, path, path, path);
		free(db);
	}
	free(path);
	return found;
}

/* class w from Cw lines of sendmail.cf. */
static bool sm_cf_file(struct rg_import *im, const char *dir)
{
	char *path = xasprintf("%s/sendmail.cf", dir), line[4096];
	FILE *f = fopen(path, "r");
	int lineno = 0;

	free(path);
	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *save = NULL, *src;

		lineno++;
		if (strncmp(line, "Cw", 2) != 0)
			continue;
		src = xasprintf("sendmail.cf:%d (Cw)", lineno);
		for (char *w = strtok_r(line + 2, SM_BLANKS, &save);
		    w != NULL; w = strtok_r(NULL, SM_BLANKS, &save))
			rg_import_add(im, 'L', w, src);
		free(src);
	}
	fclose(f);
	return true;
}

int rg_import_sendmail(const char *dir, struct rg_import *im, char *err,
    size_t errlen)
{
	char host[256];
	bool any = false;

	if (dir == NULL)
		dir = "/etc/mail";
	im->mta = xstrdup("sendmail");
	im->where = xstrdup(dir);
	if (access(dir, R_OK | X_OK) != 0)
		return rg_set_err(err, errlen, "cannot read %s: %s", dir,
		    strerror(errno));
	any |= sm_access_file(im, dir);
	/* class w: local-host-names (8.10+) or sendmail.cw, Cw in sendmail.cf */
	if (sm_class_file(im, dir, "local-host-names", 'w') ||
	    sm_class_file(im, dir, "sendmail.cw", 'w'))
		any = true;
	any |= sm_cf_file(im, dir);
	if (gethostname(host, sizeof(host)) == 0 && host[0] != '\0') {
		host[sizeof(host) - 1] = '\0';
		rg_import_add(im, 'L', host, "sendmail puts its own host name "
		    "in class w");
	}
	any |= sm_class_file(im, dir, "relay-domains", 'R');
	sm_trust(im, "127.0.0.1", "127.0.0.1", "sendmail relays for the "
	    "local host (localhost is in class w)", true);
	sm_trust(im, "ipv6:::1", "::1", "sendmail relays for the local host",
	    true);
	if (!any)
		return rg_set_err(err, errlen, "%s has none of local-host-names, "
		    "sendmail.cw, sendmail.cf, relay-domains, access", dir);
	return 0;
}

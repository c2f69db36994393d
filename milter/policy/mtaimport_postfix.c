/*
 * mtaimport_postfix.c - Postfix's relay settings (postconf -x, postmap -s,
 * cidr: and text tables) as relayguard.conf lists; see mtaimport.h.
 *
 * mynetworks is judged as Postfix matches it (match_list, first match):
 * an address or network written exactly as Postfix parses it is trusted;
 * a negated network drops every entry that overlaps it; a hash-like table
 * is looked up with the client address as key, so only keys that are one
 * address in Postfix's own spelling count; a cidr: table is read line by
 * line. Anything else in mynetworks (a host name, a negated name, a
 * network with host bits set, which Postfix answers with "451 server
 * configuration error", a table that cannot be listed or read) means
 * relayguard cannot know whom Postfix trusts: then none of mynetworks is
 * imported, each entry is written as a note with the reason.
 */
#include "mtaimport.h"
#include "lib/base/log.h"
#include "lib/base/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_DEPTH	4		/* /file items inside /file items */

static void add_literal(struct rg_import *im, const char *addr,
    const char *source)
{
	unsigned char bin[16];
	char lit[INET6_ADDRSTRLEN + 8];

	if (inet_pton(AF_INET, addr, bin) == 1)
		snprintf(lit, sizeof(lit), "[%s]", addr);
	else if (inet_pton(AF_INET6, addr, bin) == 1)
		snprintf(lit, sizeof(lit), "[IPv6:%s]", addr);
	else {
		rg_import_note(im, "%s: '%s' is a host name, not an address; "
		    "mail to user@[address] of it is not imported", source, addr);
		return;
	}
	rg_import_add(im, 'L', lit, source);
}

static void add_interface_literals(struct rg_import *im, const char *source)
{
	struct ifaddrs *ifa, *p;
	char addr[INET6_ADDRSTRLEN];

	if (getifaddrs(&ifa) != 0) {
		rg_import_note(im, "%s: cannot list this host's addresses: %s",
		    source, strerror(errno));
		return;
	}
	for (p = ifa; p != NULL; p = p->ifa_next) {
		if (p->ifa_addr == NULL)
			continue;
		if (p->ifa_addr->sa_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)
			    p->ifa_addr)->sin_addr, addr, sizeof(addr));
		else if (p->ifa_addr->sa_family == AF_INET6 &&
		    !IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)(void *)
		    p->ifa_addr)->sin6_addr))
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)
			    p->ifa_addr)->sin6_addr, addr, sizeof(addr));
		else
			continue;
		add_literal(im, addr, source);
	}
	freeifaddrs(ifa);
}

/* --- Postfix ----------------------------------------------------------------- */

static const char *const pf_params[] = {
	"mydestination", "relay_domains", "mynetworks",
	"virtual_mailbox_domains", "virtual_alias_domains", "inet_interfaces",
	"proxy_interfaces", "myhostname", "mydomain",
	"parent_domain_matches_subdomains",
};

struct pf {
	struct rg_import *im;
	const char *dir;		/* NULL: postconf's default */
	char *val[RG_NELEM(pf_params)];	/* expanded (postconf -x) */
	bool relay_parent;		/* relay_domains matches subdomains */
	unsigned flags;			/* RG_IMPORT_NO_FILES */
	bool list_unknown;		/* a domain list negates a table */
};

/* A negated domain list item relayguard can honour: a name or literal. */
static bool pf_plain_domain(const char *s)
{
	return s[0] != '\0' && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_[]:") == strlen(s) &&
	    (strchr(s, ':') == NULL || s[0] == '[');
}

static const char *pf_get(const struct pf *p, const char *name)
{
	for (size_t i = 0; i < RG_NELEM(pf_params); i++)
		if (strcmp(pf_params[i], name) == 0)
			return p->val[i] ? p->val[i] : "";
	return "";
}

/* postconf [-c dir] [-x] params...: "name = value" lines. */
static int pf_postconf(struct pf *p, bool expand, char **vals, char *err,
    size_t errlen)
{
	char *argv[RG_NELEM(pf_params) + 6];
	struct rg_import_buf out = {0}, eb = {0};
	size_t a = 0;
	int rc;
	char *line, *save = NULL;

	argv[a++] = "postconf";
	if (p->dir != NULL) {
		argv[a++] = "-c";
		argv[a++] = (char *)p->dir;
	}
	if (expand)
		argv[a++] = "-x";
	for (size_t i = 0; i < RG_NELEM(pf_params); i++)
		argv[a++] = (char *)pf_params[i];
	argv[a] = NULL;
	rc = rg_import_run_capture(argv, &out, &eb);
	if (rc != 0) {
		rg_set_err(err, errlen, "postconf%s%s failed: %s",
		    p->dir ? " -c " : "", p->dir ? p->dir : "",
		    eb.s && eb.s[0] ? rg_import_first_line(&eb) : "no output");
		free(out.s);
		free(eb.s);
		return -1;
	}
	for (line = strtok_r(out.s, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *eq = strstr(line, " = ");
		size_t klen;

		if (eq == NULL) {
			/* "name =" with an empty value */
			klen = strlen(line);
			if (klen < 2 || strcmp(line + klen - 2, " =") != 0)
				continue;
			klen -= 2;
		} else {
			klen = (size_t)(eq - line);
		}
		for (size_t i = 0; i < RG_NELEM(pf_params); i++)
			if (strlen(pf_params[i]) == klen &&
			    strncmp(pf_params[i], line, klen) == 0) {
				free(vals[i]);
				vals[i] = xstrdup(eq ? eq + 3 : "");
			}
	}
	free(out.s);
	free(eb.s);
	return 0;
}

static void pf_value(struct pf *p, const char *value, int kind,
    const char *param, int depth);

static bool is_known_table(const char *item, size_t tlen)
{
	static const char *const types[] = {
		"btree", "cdb", "cidr", "dbm", "environ", "fail", "hash",
		"inline", "internal", "ldap", "lmdb", "memcache", "mongodb",
		"mysql", "netinfo", "nis", "nisplus", "pcre", "pgsql",
		"pipemap", "proxy", "randmap", "regexp", "sdbm", "socketmap",
		"sqlite", "static", "tcp", "texthash", "unionmap", "unix",
	};

	for (size_t i = 0; i < RG_NELEM(types); i++)
		if (strlen(types[i]) == tlen && strncmp(types[i], item, tlen) == 0)
			return true;
	return false;
}

static bool pf_is_table(const char *item)
{
	const char *colon = strchr(item, ':');

	return colon != NULL && item[0] != '[' &&
	    is_known_table(item, (size_t)(colon - item));
}

/* A file or table that is not read: for mynetworks, nothing of it is
 * imported then. */
static void pf_cannot(struct pf *p, int kind, const char *src,
    const char *what, const char *why)
{
	if (kind == 'T')
		rg_import_pf_unknown(p->im, src, what, why);
	else
		rg_import_note(p->im, "%s: %s %s; not imported", src, what, why);
}

/* One key of a table or list file, as a list item. */
static void pf_key(struct pf *p, const char *key, int kind, const char *src)
{
	if (kind == 'I')
		add_literal(p->im, key, src);
	else if (kind == 'T')
		rg_import_pf_key(p->im, key, src);
	else if (key[0] == '.' || kind == 'L' || !p->relay_parent)
		rg_import_add(p->im, kind, key, src);
	else {
		char *sub = xasprintf(".%s", key);

		rg_import_add(p->im, kind, key, src);
		/* relay_domains in parent_domain_matches_subdomains */
		if (key[0] != '[')
			rg_import_add(p->im, kind, sub, src);
		free(sub);
	}
}

/* A cidr: table: in mynetworks, line by line (mtaimport_mynetworks.c). */
static void pf_cidr_file(struct pf *p, const char *path, int kind,
    const char *src)
{
	FILE *f;

	if (kind != 'T') {
		rg_import_note(p->im, "%s: a cidr: table in a domain list; not "
		    "imported", src);
	} else if ((f = fopen(path, "r")) == NULL) {
		rg_import_pf_unknown(p->im, src, path, "cannot be read");
	} else {
		rg_import_postfix_cidr(p->im, f, src);
		fclose(f);
	}
}

/* First field of each logical line of a texthash: file (the postmap
 * source format); continuation lines start with a blank. */
static void pf_read_keys(struct pf *p, const char *path, int kind,
    const char *src)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *key, *save;
	size_t cap = 0;
	int lineno = 0;

	if (f == NULL) {
		pf_cannot(p, kind, src, path, "cannot be read");
		return;
	}
	/* whole lines, however long: a cut would make a value's words keys */
	while (getline(&line, &cap, f) > 0) {
		char *where;

		lineno++;
		if (line[0] == '#' || isspace((unsigned char)line[0]))
			continue;
		if ((key = strtok_r(line, " \t\r\n", &save)) == NULL)
			continue;
		where = xasprintf("%s (%s:%d)", src, path, lineno);
		pf_key(p, key, kind, where);
		free(where);
	}
	free(line);
	fclose(f);
}

/* hash:, btree:, lmdb:, cdb:, dbm:, sdbm:: postmap -s lists the keys. */
static void pf_postmap_keys(struct pf *p, const char *table, int kind,
    const char *src)
{
	char *argv[6];
	struct rg_import_buf out = {0}, eb = {0};
	size_t a = 0;
	char *line, *save = NULL, *where;
	int rc;

	argv[a++] = "postmap";
	if (p->dir != NULL) {
		argv[a++] = "-c";
		argv[a++] = (char *)p->dir;
	}
	argv[a++] = "-s";
	argv[a++] = (char *)table;
	argv[a] = NULL;
	rc = rg_import_run_capture(argv, &out, &eb);
	if (rc != 0) {
		rg_import_note(p->im, "%s: cannot list %s (postmap -s: %s); add "
		    "its entries by hand", src, table,
		    eb.s && eb.s[0] ? rg_import_first_line(&eb) : "failed");
		if (kind == 'T')
			rg_import_pf_unknown(p->im, src, table, "cannot be listed");
	} else {
		where = xasprintf("%s (%s, postmap -s)", src, table);
		for (line = strtok_r(out.s, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save)) {
			char *sp = line + strcspn(line, " \t");

			*sp = '\0';
			if (line[0] != '\0')
				pf_key(p, line, kind, where);
		}
		free(where);
	}
	free(out.s);
	free(eb.s);
}

static void pf_inline(struct pf *p, const char *name, int kind,
    const char *src)
{
	char *keys = rg_import_pf_inline_keys(name), *save = NULL;

	if (keys == NULL) {
		pf_cannot(p, kind, src, name, "is not inline:{name=value...} as "
		    "relayguard reads it (Postfix fails every lookup in a "
		    "malformed one and defers the mail)");
		return;
	}
	for (char *k = strtok_r(keys, "\n", &save); k != NULL;
	    k = strtok_r(NULL, "\n", &save))
		pf_key(p, k, kind, src);
	free(keys);
}

static void pf_table(struct pf *p, const char *item, int kind,
    const char *param)
{
	const char *colon = strchr(item, ':'), *name = colon + 1;
	size_t tlen = (size_t)(colon - item);
	char *src = xasprintf("%s %s", param, item);

	if ((p->flags & RG_IMPORT_NO_FILES) && (tlen != 6 ||
	    strncmp(item, "inline", 6) != 0)) {
		pf_cannot(p, kind, src, item, "is not read (RG_IMPORT_NO_FILES)");
	} else if (tlen == 5 && strncmp(item, "proxy", 5) == 0 && pf_is_table(name)) {
		pf_table(p, name, kind, param);		/* same file */
	} else if (tlen == 8 && strncmp(item, "texthash", 8) == 0) {
		pf_read_keys(p, name, kind, src);
	} else if (tlen == 4 && strncmp(item, "cidr", 4) == 0) {
		pf_cidr_file(p, name, kind, src);
	} else if (tlen == 6 && strncmp(item, "inline", 6) == 0) {
		pf_inline(p, name, kind, src);
	} else if ((tlen == 4 && strncmp(item, "hash", 4) == 0) ||
	    (tlen == 5 && strncmp(item, "btree", 5) == 0) ||
	    (tlen == 4 && strncmp(item, "lmdb", 4) == 0) ||
	    (tlen == 3 && strncmp(item, "cdb", 3) == 0) ||
	    (tlen == 3 && strncmp(item, "dbm", 3) == 0) ||
	    (tlen == 4 && strncmp(item, "sdbm", 4) == 0)) {
		pf_postmap_keys(p, item, kind, src);
	} else {
		rg_import_note(p->im, "%s: a %.*s: table cannot be listed (no "
		    "key enumeration); add its entries to relayguard.conf by "
		    "hand", src, (int)tlen, item);
		if (kind == 'T')
			rg_import_pf_unknown(p->im, src, item, "cannot be listed");
	}
	free(src);
}

/* Words from a '#' on are list items to Postfix (only a line starting
 * with '#' is a comment in a file, and main.cf values have none): not
 * imported, but a negation among them still narrows. */
static void pf_after_hash(struct pf *p, char *rest, int kind,
    const char *src)
{
	char *save = NULL;

	if (kind == 'T') {
		rg_import_pf_unknown(p->im, src, rest, "are list items to "
		    "Postfix ('#' starts a comment only at the start of a line)");
		return;
	}
	rg_import_note(p->im, "%s: '%s' are list items to Postfix ('#' starts "
	    "a comment only at the start of a line); not imported", src, rest);
	for (char *w = strtok_r(rest, ", \t\r\n", &save); w != NULL;
	    w = strtok_r(NULL, ", \t\r\n", &save))
		if (w[0] == '!')
			rg_import_negated(p->im, kind, w + 1, src);
}

/* A "/file/name" item: more items inside, Postfix list syntax (readlline:
 * a line whose first non-blank is '#' is a comment). */
static void pf_file(struct pf *p, const char *path, int kind,
    const char *param, int depth)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	char *src = xasprintf("%s %s", param, path);

	if (f == NULL) {
		pf_cannot(p, kind, param, path, "cannot be read");
		free(src);
		return;
	}
	while (getline(&line, &cap, f) > 0) {
		if (line[strspn(line, " \t\r\n")] != '#')
			pf_value(p, line, kind, src, depth + 1);
	}
	free(line);
	fclose(f);
	free(src);
}

/* A mynetworks item: what Postfix matches by address, or not judged. */
static void pf_trust_item(struct pf *p, const char *item, const char *param,
    int depth)
{
	char net[160];

	if (item[0] == '!') {
		if (rg_import_pf_network(item + 1, net, sizeof(net)))
			rg_import_negated(p->im, 'T', item + 1, param);
		else
			rg_import_pf_unknown(p->im, param, item, "is a negated "
			    "item that is not one address or network");
	} else if (item[0] == '/') {
		if (depth >= MAX_DEPTH || (p->flags & RG_IMPORT_NO_FILES))
			rg_import_pf_unknown(p->im, param, item, "is a file not read");
		else
			pf_file(p, item, 'T', param, depth);
	} else if (pf_is_table(item)) {
		pf_table(p, item, 'T', param);
	} else if (rg_import_pf_network(item, net, sizeof(net))) {
		rg_import_add(p->im, 'T', net, param);
	} else {
		rg_import_pf_unknown(p->im, param, item, "is not an address or "
		    "network as Postfix parses one (a host name, host bits set, "
		    "IPv6 without [brackets])");
	}
}

static void pf_item(struct pf *p, const char *item, int kind,
    const char *param, int depth)
{
	if (kind == 'T') {
		pf_trust_item(p, item, param, depth);
	} else if (item[0] == '!' && pf_plain_domain(item + 1)) {
		rg_import_negated(p->im, kind, item + 1, param);
	} else if (item[0] == '!') {
		/* a negated table, file or "!!": what it excludes is unknown */
		rg_import_note(p->im, "%s: '%s' excludes names relayguard cannot "
		    "list; nothing of %s is imported", param, item, param);
		p->list_unknown = true;
	} else if (item[0] == '/') {
		if (depth >= MAX_DEPTH || (p->flags & RG_IMPORT_NO_FILES))
			rg_import_note(p->im, "%s: %s nested too deep; not read",
			    param, item);
		else
			pf_file(p, item, kind, param, depth);
	} else if (pf_is_table(item)) {
		pf_table(p, item, kind, param);
	} else if (kind == 'I') {
		if (strcasecmp(item, "all") == 0)
			add_interface_literals(p->im, "inet_interfaces = all");
		else if (strcasecmp(item, "loopback-only") == 0) {
			add_literal(p->im, "127.0.0.1", param);
			add_literal(p->im, "::1", param);
		} else {
			char addr[INET6_ADDRSTRLEN + 2];

			rg_import_unbracket(item, addr, sizeof(addr));
			add_literal(p->im, addr, param);
		}
	} else {
		pf_key(p, item, kind, param);
	}
}

static void pf_value(struct pf *p, const char *value, int kind,
    const char *param, int depth)
{
	char *copy = xstrdup(value), *save = NULL, *item, *hash;

	if ((hash = strchr(copy, '#')) != NULL)
		*hash = '\0';
	/* Postfix lists: commas and white space; {...} groups inline: */
	for (item = strtok_r(copy, ", \t\r\n", &save); item != NULL;
	    item = strtok_r(NULL, ", \t\r\n", &save)) {
		if (strncmp(item, "inline:{", 8) == 0 && strchr(item, '}') == NULL) {
			pf_cannot(p, kind, param, item, "is an inline:{...} table "
			    "with blanks (not read)");
			continue;
		}
		pf_item(p, item, kind, param, depth);
	}
	if (hash != NULL) {
		strlcpy_rg(copy, value + (hash - copy), strlen(value) + 1);
		pf_after_hash(p, copy, kind, param);
	}
	free(copy);
}

static const struct {
	const char *param;
	int kind;
} pf_map[] = {
	{"mydestination", 'L'}, {"virtual_mailbox_domains", 'L'},
	{"virtual_alias_domains", 'L'}, {"inet_interfaces", 'I'},
	{"proxy_interfaces", 'I'}, {"relay_domains", 'R'},
	{"mynetworks", 'T'},
};

/* One parameter's expanded value into p->im. */
static void pf_param(struct pf *p, const char *param, const char *value)
{
	for (size_t i = 0; i < RG_NELEM(pf_map); i++) {
		if (strcmp(pf_map[i].param, param) != 0)
			continue;
		p->list_unknown = false;
		pf_value(p, value, pf_map[i].kind, param, 0);
		if (pf_map[i].kind == 'T')
			rg_import_pf_verdict(p->im);
		else if (p->list_unknown)
			rg_import_drop_param(p->im, pf_map[i].kind == 'R' ?
			    &p->im->relay : &p->im->local, param, "the list "
			    "excludes names relayguard cannot list (see above)");
	}
}

void rg_import_postfix_param(struct rg_import *im, const char *param,
    const char *value, unsigned flags)
{
	struct pf p = {.im = im, .flags = flags};

	pf_param(&p, param, value);
}

/* The header lines: each parameter as written and as expanded. */
static void pf_raw_lines(struct pf *p, char **rawv)
{
	for (size_t i = 0; i < RG_NELEM(pf_params); i++) {
		char *line;

		if (strcmp(pf_params[i], "parent_domain_matches_subdomains") == 0)
			continue;
		if (rawv[i] != NULL && p->val[i] != NULL &&
		    strcmp(rawv[i], p->val[i]) != 0)
			line = xasprintf("%s = %s  (= %s)", pf_params[i], rawv[i],
			    p->val[i]);
		else
			line = xasprintf("%s = %s", pf_params[i],
			    p->val[i] ? p->val[i] : "");
		rg_import_raw(p->im, line);
		free(line);
	}
}

int rg_import_postfix(const char *dir, struct rg_import *im, char *err,
    size_t errlen)
{
	struct pf p = {.im = im, .dir = dir};
	char *rawv[RG_NELEM(pf_params)] = {0};
	char *pd, *save = NULL;
	int rc = -1;

	im->mta = xstrdup("Postfix");
	im->where = xstrdup(dir ? dir : "(postconf's default)");
	if (pf_postconf(&p, false, rawv, err, errlen) != 0 ||
	    pf_postconf(&p, true, p.val, err, errlen) != 0)
		goto out;
	pf_raw_lines(&p, rawv);
	pd = xstrdup(pf_get(&p, "parent_domain_matches_subdomains"));
	for (char *w = strtok_r(pd, ", \t", &save); w != NULL;
	    w = strtok_r(NULL, ", \t", &save))
		if (strcmp(w, "relay_domains") == 0)
			p.relay_parent = true;
	free(pd);
	for (size_t i = 0; i < RG_NELEM(pf_map); i++)
		pf_param(&p, pf_map[i].param, pf_get(&p, pf_map[i].param));
	rc = 0;
out:
	for (size_t i = 0; i < RG_NELEM(pf_params); i++) {
		free(rawv[i]);
		free(p.val[i]);
	}
	return rc;
}

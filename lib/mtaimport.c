/*
 * mtaimport.c - relay settings from Postfix or sendmail as relayguard.conf
 * lines; see mtaimport.h.
 */
#include "relayguard/mtaimport.h"
#include "relayguard/configadvice.h"
#include "relayguard/log.h"
#include "relayguard/netmatch.h"
#include "relayguard/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_DEPTH	4		/* /file items inside /file items */
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

static void raw_add(struct rg_import *im, const char *line)
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

static void list_add(struct rg_import_list *l, const char *v,
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
static void unbracket(const char *in, char *out, size_t len)
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
		list_add(&im->negated, tagged, source);
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

/* Never wider than the MTA: drop every entry that covers a negated item. */
static void apply_negations(struct rg_import *im)
{
	char err[RG_NETMATCH_ERRLEN], text[128];
	struct rg_cidr neg, c;

	for (size_t k = 0; k < im->negated.n; k++) {
		const char *v = im->negated.v[k].value + 1;
		const char *src = im->negated.v[k].source;

		if (im->negated.v[k].value[0] == 'T') {
			unbracket(v, text, sizeof(text));
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

	unbracket(value, text, sizeof(text));
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
		list_add(&im->trusted, text, source);
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
		list_add(l, v, source);
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
	add_domain(im, &im->local, lit, source);
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

/* --- running postconf / postmap ------------------------------------------ */

struct buf {
	char *s;
	size_t n, cap;
};

static void buf_put(struct buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

/* Run argv (no shell), collect stdout and stderr (at most 4 MB each).
 * Returns the exit status, or -1 with out->s holding why. */
static int run_capture(char *const argv[], struct buf *out, struct buf *errb)
{
	int po[2], pe[2], st;
	pid_t pid;
	char chunk[4096];
	struct pollfd pf[2];

	buf_put(out, "", 0);
	buf_put(errb, "", 0);
	if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0) {
		buf_put(errb, "pipe failed", 11);
		return -1;
	}
	if ((pid = fork()) < 0) {
		buf_put(errb, "fork failed", 11);
		return -1;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		if (nul >= 0)
			dup2(nul, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execvp(argv[0], argv);
		dprintf(2, "cannot run %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	pf[0] = (struct pollfd){.fd = po[0], .events = POLLIN};
	pf[1] = (struct pollfd){.fd = pe[0], .events = POLLIN};
	while (pf[0].fd >= 0 || pf[1].fd >= 0) {
		if (poll(pf, 2, 30000) <= 0)
			break;
		for (int i = 0; i < 2; i++) {
			ssize_t r;

			if (pf[i].fd < 0 || pf[i].revents == 0)
				continue;
			r = read(pf[i].fd, chunk, sizeof(chunk));
			if (r <= 0) {
				close(pf[i].fd);
				pf[i].fd = -1;
			} else if ((i ? errb : out)->n < (4u << 20)) {
				buf_put(i ? errb : out, chunk, (size_t)r);
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (pf[i].fd >= 0)
			close(pf[i].fd);
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* First line of b, for messages. */
static const char *first_line(struct buf *b)
{
	char *nl;

	if (b->s == NULL)
		return "";
	if ((nl = strchr(b->s, '\n')) != NULL)
		*nl = '\0';
	return b->s;
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
};

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
	struct buf out = {0}, eb = {0};
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
	rc = run_capture(argv, &out, &eb);
	if (rc != 0) {
		rg_set_err(err, errlen, "postconf%s%s failed: %s",
		    p->dir ? " -c " : "", p->dir ? p->dir : "",
		    eb.s && eb.s[0] ? first_line(&eb) : "no output");
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

/* One key of a table or list file, as a list item. */
static void pf_key(struct pf *p, const char *key, int kind, const char *src)
{
	if (kind == 'I')
		add_literal(p->im, key, src);
	else if (kind == 'T')
		add_trusted(p->im, key, src);
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

/* First field of each non-comment line of a text file (texthash, cidr,
 * postmap source format); continuation lines are skipped. */
static void pf_read_keys(struct pf *p, const char *path, int kind,
    const char *src, bool cidr)
{
	FILE *f = fopen(path, "r");
	char line[4096], *key, *save;
	int lineno = 0;

	if (f == NULL) {
		rg_import_note(p->im, "%s: cannot read %s: %s", src, path,
		    strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *where;

		lineno++;
		if (line[0] == '#' || isspace((unsigned char)line[0]))
			continue;
		if ((key = strtok_r(line, " \t\r\n", &save)) == NULL)
			continue;
		where = xasprintf("%s (%s:%d)", src, path, lineno);
		if (cidr && (strcasecmp(key, "if") == 0 ||
		    strcasecmp(key, "endif") == 0))
			rg_import_note(p->im, "%s: if/endif blocks are read as "
			    "plain entries; check the result", where);
		else if (cidr && key[0] == '!')
			rg_import_negated(p->im, 'T', key + 1, where);
		else if (!cidr || kind == 'T')
			pf_key(p, key, kind, where);
		else
			rg_import_note(p->im, "%s: a cidr: table in a domain "
			    "list; '%s' not imported", where, key);
		free(where);
	}
	fclose(f);
}

/* hash:, btree:, lmdb:, cdb:, dbm:, sdbm:: postmap -s lists the keys. */
static void pf_postmap_keys(struct pf *p, const char *table, int kind,
    const char *src)
{
	char *argv[6];
	struct buf out = {0}, eb = {0};
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
	rc = run_capture(argv, &out, &eb);
	if (rc != 0) {
		rg_import_note(p->im, "%s: cannot list %s (postmap -s: %s); add "
		    "its entries by hand", src, table,
		    eb.s && eb.s[0] ? first_line(&eb) : "failed");
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

static void pf_table(struct pf *p, const char *item, int kind,
    const char *param)
{
	const char *colon = strchr(item, ':'), *name = colon + 1;
	size_t tlen = (size_t)(colon - item);
	char *src = xasprintf("%s %s", param, item);

	if (tlen == 5 && strncmp(item, "proxy", 5) == 0 && pf_is_table(name)) {
		pf_table(p, name, kind, param);		/* same file */
	} else if (tlen == 8 && strncmp(item, "texthash", 8) == 0) {
		pf_read_keys(p, name, kind, src, false);
	} else if (tlen == 4 && strncmp(item, "cidr", 4) == 0) {
		pf_read_keys(p, name, kind, src, true);
	} else if (tlen == 6 && strncmp(item, "inline", 6) == 0) {
		char *copy = xstrdup(name), *q;

		/* inline:{ key=value, key2=value2 } */
		for (q = copy; *q; q++)
			if (*q == '{' || *q == '}')
				*q = ' ';
		for (char *save = NULL, *kv = strtok_r(copy, ",", &save);
		    kv != NULL; kv = strtok_r(NULL, ",", &save)) {
			char *k = kv + strspn(kv, " \t"), *e = k + strcspn(k, "= \t");

			*e = '\0';
			if (*k)
				pf_key(p, k, kind, src);
		}
		free(copy);
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
	}
	free(src);
}

/* A "/file/name" item: more items inside, Postfix list syntax. */
static void pf_file(struct pf *p, const char *path, int kind,
    const char *param, int depth)
{
	FILE *f = fopen(path, "r");
	char line[4096], *hash;
	char *src = xasprintf("%s %s", param, path);

	if (f == NULL) {
		rg_import_note(p->im, "%s: cannot read %s: %s", param, path,
		    strerror(errno));
		free(src);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		pf_value(p, line, kind, src, depth + 1);
	}
	fclose(f);
	free(src);
}

static void pf_item(struct pf *p, const char *item, int kind,
    const char *param, int depth)
{
	if (item[0] == '!') {
		rg_import_negated(p->im, kind, item + 1, param);
	} else if (item[0] == '/') {
		if (depth >= MAX_DEPTH)
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

			unbracket(item, addr, sizeof(addr));
			add_literal(p->im, addr, param);
		}
	} else {
		pf_key(p, item, kind, param);
	}
}

static void pf_value(struct pf *p, const char *value, int kind,
    const char *param, int depth)
{
	char *copy = xstrdup(value), *save = NULL, *item;

	/* Postfix lists: commas and white space; {...} groups inline: */
	for (item = strtok_r(copy, ", \t\r\n", &save); item != NULL;
	    item = strtok_r(NULL, ", \t\r\n", &save)) {
		if (strncmp(item, "inline:{", 8) == 0 && strchr(item, '}') == NULL) {
			rg_import_note(p->im, "%s: an inline:{...} table with "
			    "blanks is not imported", param);
			break;
		}
		pf_item(p, item, kind, param, depth);
	}
	free(copy);
}

int rg_import_postfix(const char *dir, struct rg_import *im, char *err,
    size_t errlen)
{
	struct pf p = {.im = im, .dir = dir};
	char *rawv[RG_NELEM(pf_params)] = {0};
	static const struct {
		const char *param;
		int kind;
	} map[] = {
		{"mydestination", 'L'}, {"virtual_mailbox_domains", 'L'},
		{"virtual_alias_domains", 'L'}, {"inet_interfaces", 'I'},
		{"proxy_interfaces", 'I'}, {"relay_domains", 'R'},
		{"mynetworks", 'T'},
	};
	int rc = -1;

	im->mta = xstrdup("Postfix");
	im->where = xstrdup(dir ? dir : "(postconf's default)");
	if (pf_postconf(&p, false, rawv, err, errlen) != 0 ||
	    pf_postconf(&p, true, p.val, err, errlen) != 0)
		goto out;
	for (size_t i = 0; i < RG_NELEM(pf_params); i++) {
		char *line;

		if (strcmp(pf_params[i], "parent_domain_matches_subdomains") == 0)
			continue;
		if (rawv[i] != NULL && p.val[i] != NULL &&
		    strcmp(rawv[i], p.val[i]) != 0)
			line = xasprintf("%s = %s  (= %s)", pf_params[i], rawv[i],
			    p.val[i]);
		else
			line = xasprintf("%s = %s", pf_params[i],
			    p.val[i] ? p.val[i] : "");
		raw_add(im, line);
		free(line);
	}
	{
		char *pd = xstrdup(pf_get(&p, "parent_domain_matches_subdomains"));
		char *save = NULL;

		for (char *w = strtok_r(pd, ", \t", &save); w != NULL;
		    w = strtok_r(NULL, ", \t", &save))
			if (strcmp(w, "relay_domains") == 0)
				p.relay_parent = true;
		free(pd);
	}
	for (size_t i = 0; i < RG_NELEM(map); i++)
		pf_value(&p, pf_get(&p, map[i].param), map[i].kind,
		    map[i].param, 0);
	rc = 0;
out:
	for (size_t i = 0; i < RG_NELEM(pf_params); i++) {
		free(rawv[i]);
		free(p.val[i]);
	}
	return rc;
}

/* --- sendmail ------------------------------------------------------------------ */

/* "192.168", "10.1.2.3" -> "192.168.0.0/16"; "IPv6:2001:db8" ->
 * "2001:db8::/32". false when item is not a numeric prefix. */
static bool sm_prefix(const char *item, char *out, size_t len)
{
	unsigned oct[4] = {0};
	int n = 0;
	const char *p = item;

	if (strncasecmp(item, "IPv6:", 5) == 0) {
		int groups = 1;
		unsigned char bin[16];
		char tmp[INET6_ADDRSTRLEN + 4];

		p = item + 5;
		if (strstr(p, "::") != NULL) {
			if (inet_pton(AF_INET6, p, bin) != 1)
				return false;
			snprintf(out, len, "%s/128", p);
			return true;
		}
		for (const char *q = p; *q; q++)
			if (*q == ':')
				groups++;
		if (groups > 8)
			return false;
		snprintf(tmp, sizeof(tmp), "%s%s", p, groups < 8 ? "::" : "");
		if (inet_pton(AF_INET6, tmp, bin) != 1)
			return false;
		snprintf(out, len, "%s/%d", tmp, groups * 16);
		return true;
	}
	while (n < 4) {
		char *end;
		unsigned long v;

		if (!isdigit((unsigned char)*p))
			return false;
		v = strtoul(p, &end, 10);
		if (v > 255 || end - p > 3)
			return false;
		oct[n++] = (unsigned)v;
		p = end;
		if (*p == '\0')
			break;
		if (*p++ != '.')
			return false;
	}
	if (*p != '\0')
		return false;
	snprintf(out, len, "%u.%u.%u.%u/%d", oct[0], oct[1], oct[2], oct[3],
	    n * 8);
	return true;
}

/* Class R and To: domains match subdomains too in sendmail. */
static void sm_relay_domain(struct rg_import *im, const char *d,
    const char *src)
{
	char *sub;

	rg_import_add(im, 'R', d, src);
	if (d[0] != '.' && d[0] != '[') {
		sub = xasprintf(".%s", d);
		rg_import_add(im, 'R', sub, src);
		free(sub);
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
		char *hash = strchr(line, '#'), *src, pre[128];

		lineno++;
		if (hash != NULL)
			*hash = '\0';
		src = xasprintf("%s:%d", name, lineno);
		for (w = strtok_r(line, " \t\r\n", &save); w != NULL;
		    w = strtok_r(NULL, " \t\r\n", &save)) {
			if (cls == 'w')
				rg_import_add(im, 'L', w, src);
			else if (sm_prefix(w, pre, sizeof(pre)))
				rg_import_add(im, 'T', pre, src);
			else {
				sm_relay_domain(im, w, src);
				rg_import_note(im, "%s: sendmail also lets clients "
				    "whose host name is in %s relay; relayguard "
				    "trusts addresses only (list their networks in "
				    "TrustedNetworks)", src, w);
			}
		}
		free(src);
	}
	fclose(f);
	free(path);
	return true;
}

void rg_import_sendmail_access(struct rg_import *im, FILE *in,
    const char *name)
{
	char line[4096], pre[128];
	int lineno = 0;

	while (fgets(line, sizeof(line), in) != NULL) {
		char *key, *val, *save = NULL, *src, *colon, *tag = NULL;

		lineno++;
		if (line[0] == '#')
			continue;
		if ((key = strtok_r(line, " \t\r\n", &save)) == NULL ||
		    (val = strtok_r(NULL, " \t\r\n", &save)) == NULL)
			continue;
		if (strcasecmp(val, "RELAY") != 0)
			continue;
		src = xasprintf("%s:%d", name, lineno);
		if ((colon = strchr(key, ':')) != NULL &&
		    strncasecmp(key, "IPv6:", 5) != 0) {
			*colon = '\0';
			tag = key;
			key = colon + 1;
		}
		if (tag == NULL || strcasecmp(tag, "Connect") == 0) {
			if (sm_prefix(key, pre, sizeof(pre)))
				rg_import_add(im, 'T', pre, src);
			else if (tag != NULL)
				rg_import_note(im, "%s: Connect:%s RELAY names a "
				    "client host name; relayguard trusts addresses "
				    "only (add its network to TrustedNetworks)",
				    src, key);
			else {
				/* a bare domain: relaying to it, and from it */
				sm_relay_domain(im, key, src);
				rg_import_note(im, "%s: %s RELAY also lets clients "
				    "named in %s relay; relayguard trusts "
				    "addresses only", src, key, key);
			}
		} else if (strcasecmp(tag, "To") == 0) {
			if (strchr(key, '@') != NULL || key[0] == '\0' ||
			    sm_prefix(key, pre, sizeof(pre)))
				rg_import_note(im, "%s: To:%s RELAY is not a domain; "
				    "per-address relaying is not imported", src, key);
			else
				sm_relay_domain(im, key, src);
		} else {
			rg_import_note(im, "%s: %s:%s RELAY is not imported (only "
			    "Connect: and To: entries are relay settings "
			    "relayguard knows)", src, tag, key);
		}
		free(src);
	}
}

int rg_import_sendmail(const char *dir, struct rg_import *im, char *err,
    size_t errlen)
{
	char host[256], *path, line[4096];
	bool any = false;
	FILE *f;

	if (dir == NULL)
		dir = "/etc/mail";
	im->mta = xstrdup("sendmail");
	im->where = xstrdup(dir);
	if (access(dir, R_OK | X_OK) != 0)
		return rg_set_err(err, errlen, "cannot read %s: %s", dir,
		    strerror(errno));
	/* class w: local-host-names (8.10+) or sendmail.cw, Cw in sendmail.cf */
	if (sm_class_file(im, dir, "local-host-names", 'w'))
		any = true;
	else if (sm_class_file(im, dir, "sendmail.cw", 'w'))
		any = true;
	path = xasprintf("%s/sendmail.cf", dir);
	if ((f = fopen(path, "r")) != NULL) {
		int lineno = 0;

		any = true;
		while (fgets(line, sizeof(line), f) != NULL) {
			char *save = NULL, *src;

			lineno++;
			if (strncmp(line, "Cw", 2) != 0)
				continue;
			src = xasprintf("sendmail.cf:%d (Cw)", lineno);
			for (char *w = strtok_r(line + 2, " \t\r\n", &save);
			    w != NULL; w = strtok_r(NULL, " \t\r\n", &save))
				rg_import_add(im, 'L', w, src);
			free(src);
		}
		fclose(f);
	}
	free(path);
	if (gethostname(host, sizeof(host)) == 0 && host[0] != '\0') {
		host[sizeof(host) - 1] = '\0';
		rg_import_add(im, 'L', host, "sendmail puts its own host name "
		    "in class w");
	}
	if (sm_class_file(im, dir, "relay-domains", 'R'))
		any = true;
	path = xasprintf("%s/access", dir);
	if ((f = fopen(path, "r")) != NULL) {
		any = true;
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
	add_trusted(im, "127.0.0.1", "sendmail relays for the local host "
	    "(localhost is in class w)");
	add_trusted(im, "::1", "sendmail relays for the local host");
	if (!any)
		return rg_set_err(err, errlen, "%s has none of local-host-names, "
		    "sendmail.cw, sendmail.cf, relay-domains, access", dir);
	return 0;
}

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
		apply_negations(im);
	if (rc != -2)
		return rc;
	return rg_set_err(err, errlen, "--import %s: expected postfix[:CONFIG_DIR] "
	    "or sendmail[:ETC_MAIL_DIR]", spec);
}

/* --- output ------------------------------------------------------------------ */

static void write_list(FILE *out, const char *key,
    const struct rg_import_list *l)
{
	fprintf(out, "\n# %s:\n", key);
	for (size_t i = 0; i < l->n; i++)
		fprintf(out, "#   %-30s from %s\n", l->v[i].value,
		    l->v[i].source);
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
		for (size_t i = 0; i < im->nraw; i++)
			fprintf(out, "#   %s\n", im->raw[i]);
	}
	if (im->nnotes > 0) {
		fprintf(out, "#\n# Not imported, or to check by hand:\n");
		for (size_t i = 0; i < im->nnotes; i++)
			fprintf(out, "#   - %s\n", im->notes[i]);
	}
	write_list(out, "LocalDomains", &im->local);
	write_list(out, "RelayDomains", &im->relay);
	write_list(out, "TrustedNetworks", &im->trusted);
}

static void list_free(struct rg_import_list *l)
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
	list_free(&im->local);
	list_free(&im->relay);
	list_free(&im->trusted);
	list_free(&im->negated);
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

/*
 * netmatch.c - CIDR and domain lists, parsed once; see netmatch.h.
 *
 * Matching follows Postfix's cidr_match.c: the network is stored with its
 * host bits cleared, and an address matches when the first "prefix" bits
 * are equal - compared as bytes, then one masked byte.
 */
#include "lib/base/filetrust.h"
#include "lib/mail/netmatch.h"
#include "lib/mail/address.h"
#include "lib/base/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ITEM_MAX	300	/* longer list items are errors */

static const unsigned char v4mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};


/* Fold ::ffff:a.b.c.d to IPv4 (prefix adjusted when given). */
static void fold_v4mapped(int *family, unsigned char *addr, unsigned *prefix)
{
	if (*family != AF_INET6 || memcmp(addr, v4mapped_prefix, 12) != 0)
		return;
	if (prefix != NULL) {
		if (*prefix < 96)
			return;		/* wider than the mapped range: keep v6 */
		*prefix -= 96;
	}
	memmove(addr, addr + 12, 4);
	memset(addr + 4, 0, 12);
	*family = AF_INET;
}

static bool prefix_equal(const unsigned char *a, const unsigned char *b,
    unsigned prefix)
{
	unsigned bytes = prefix / 8, bits = prefix % 8;
	unsigned char mask;

	if (bytes > 0 && memcmp(a, b, bytes) != 0)
		return false;
	if (bits == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - bits));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

int rg_cidr_parse(const char *text, struct rg_cidr *out, char *err,
    size_t errlen)
{
	char buf[ITEM_MAX], *slash, *host, *end;
	unsigned char masked[16];
	unsigned maxbits;
	unsigned long prefix;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (strlcpy_rg(buf, text, sizeof(buf)) >= sizeof(buf))
		return rg_set_err(err, errlen, "network too long");
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash++ = '\0';
	host = buf;
	n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host[n - 1] = '\0';
		host++;
	}
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		maxbits = 32;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		maxbits = 128;
	} else {
		return rg_set_err(err, errlen, "'%s' is not an IPv4 or IPv6 "
		    "address", text);
	}
	if (slash == NULL) {
		prefix = maxbits;
	} else {
		errno = 0;
		prefix = strtoul(slash, &end, 10);
		if (*slash < '0' || *slash > '9' || *end != '\0' ||
		    errno != 0 || prefix > maxbits)
			return rg_set_err(err, errlen, "'%s': prefix length must "
			    "be 0..%u", text, maxbits);
	}
	out->prefix = (unsigned)prefix;
	memset(masked, 0, sizeof(masked));
	memcpy(masked, out->addr, out->prefix / 8);
	if (out->prefix % 8)
		masked[out->prefix / 8] = (unsigned char)(out->addr[out->prefix / 8] &
		    (0xff << (8 - out->prefix % 8)));
	if (memcmp(masked, out->addr, sizeof(masked)) != 0)
		return rg_set_err(err, errlen, "'%s': host bits set beyond the "
		    "/%u prefix", text, out->prefix);
	fold_v4mapped(&out->family, out->addr, &out->prefix);
	return 0;
}

void rg_cidr_list_add(struct rg_cidr_list *list, const struct rg_cidr *c)
{
	if (list->n == list->cap) {
		list->cap = list->cap ? list->cap * 2 : 8;
		list->v = xrealloc(list->v, list->cap * sizeof(*list->v));
	}
	list->v[list->n++] = *c;
}

bool rg_cidr_list_match(const struct rg_cidr_list *list, int family,
    const unsigned char *addr)
{
	unsigned char a[16];

	if (list == NULL || addr == NULL)
		return false;
	if (family == AF_INET) {
		memcpy(a, addr, 4);
	} else if (family == AF_INET6) {
		memcpy(a, addr, 16);
		fold_v4mapped(&family, a, NULL);
	} else {
		return false;
	}
	for (size_t i = 0; i < list->n; i++)
		if (list->v[i].family == family &&
		    prefix_equal(list->v[i].addr, a, list->v[i].prefix))
			return true;
	return false;
}

bool rg_cidr_list_match_sockaddr(const struct rg_cidr_list *list,
    const struct sockaddr *sa)
{
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		return rg_cidr_list_match(list, AF_INET,
		    (const unsigned char *)&in->sin_addr);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

		return rg_cidr_list_match(list, AF_INET6, in6->sin6_addr.s6_addr);
	}
	return false;
}

bool rg_cidr_list_match_text(const struct rg_cidr_list *list, const char *ip)
{
	unsigned char a[16];

	if (ip == NULL)
		return false;
	if (inet_pton(AF_INET, ip, a) == 1)
		return rg_cidr_list_match(list, AF_INET, a);
	if (inet_pton(AF_INET6, ip, a) == 1)
		return rg_cidr_list_match(list, AF_INET6, a);
	return false;
}

void rg_cidr_list_free(struct rg_cidr_list *list)
{
	free(list->v);
	memset(list, 0, sizeof(*list));
}

/* --- list syntax ------------------------------------------------------- */

static bool is_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Could item be one of a list (a name, an address, a network, a DNSBL
 * zone)? A bad item of an included file is echoed only then: file:/etc/shadow
 * must not print a password hash. */
static bool plain_item(const char *item)
{
	return item[strspn(item, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.:/[]=_-")] == '\0';
}

/* Items of text, no "file:" expansion (used inside included files). */
static int walk_items(const char *text, bool allow_files, const char *file,
    int line, rg_list_item_fn fn, void *ctx, char *err, size_t errlen);

static int walk_file(const char *path, rg_list_item_fn fn, void *ctx,
    char *err, size_t errlen)
{
	FILE *fp;
	char buf[4096], *hash;
	int lineno = 0, rc = 0;

	if ((fp = fopen(path, "r")) == NULL)
		return -2;
	if (rg_file_trusted(fileno(fp), path, err, errlen) != 0) {
		fclose(fp);
		return -1;
	}
	while (rc == 0 && fgets(buf, sizeof(buf), fp) != NULL) {
		lineno++;
		if (strchr(buf, '\n') == NULL && !feof(fp)) {
			rc = rg_set_err(err, errlen, "%s:%d: line too long", path,
			    lineno);
			break;
		}
		if ((hash = strchr(buf, '#')) != NULL)
			*hash = '\0';
		rc = walk_items(buf, false, path, lineno, fn, ctx, err, errlen);
	}
	if (rc == 0 && ferror(fp))
		rc = rg_set_err(err, errlen, "%s: read error: %s", path,
		    strerror(errno));
	fclose(fp);
	return rc;
}

static int walk_items(const char *text, bool allow_files, const char *file,
    int line, rg_list_item_fn fn, void *ctx, char *err, size_t errlen)
{
	char item[ITEM_MAX], msg[RG_NETMATCH_ERRLEN];
	const char *p = text, *s;
	size_t n;
	int rc;

	for (;;) {
		while (*p != '\0' && is_sep(*p))
			p++;
		if (*p == '\0')
			return 0;
		for (s = p; *p != '\0' && !is_sep(*p); p++)
			;
		n = (size_t)(p - s);
		if (n >= sizeof(item))
			return rg_set_err(err, errlen, "%s:%d: list item too long "
			    "(%zu bytes)", file, line, n);
		memcpy(item, s, n);
		item[n] = '\0';
		if (strncmp(item, "file:", 5) == 0) {
			if (!allow_files)
				return rg_set_err(err, errlen, "%s:%d: '%s': "
				    "included files do not nest", file, line,
				    item);
			if (item[5] != '/')
				return rg_set_err(err, errlen, "%s:%d: '%s': "
				    "file: needs an absolute path", file, line,
				    item);
			rc = walk_file(item + 5, fn, ctx, err, errlen);
			if (rc == -2)
				return rg_set_err(err, errlen, "%s:%d: cannot open "
				    "%s: %s", file, line, item + 5,
				    strerror(errno));
			if (rc != 0)
				return -1;
			continue;
		}
		if (fn(item, ctx, msg, sizeof(msg)) == 0)
			continue;
		if (!allow_files && !plain_item(item))
			return rg_set_err(err, errlen, "%s:%d: not a list item (is "
			    "this a list file?)", file, line);
		return rg_set_err(err, errlen, "%s:%d: %s", file, line, msg);
	}
}

int rg_list_walk(const char *value, const char *file, int line,
    rg_list_item_fn fn, void *ctx, char *err, size_t errlen)
{
	return walk_items(value ? value : "", true, file ? file : "(config)",
	    line, fn, ctx, err, errlen);
}

static int cidr_item(const char *item, void *ctx, char *err, size_t errlen)
{
	struct rg_cidr c;

	if (rg_cidr_parse(item, &c, err, errlen) != 0)
		return -1;
	rg_cidr_list_add(ctx, &c);
	return 0;
}

int rg_cidr_list_parse(struct rg_cidr_list *list, const char *value,
    const char *file, int line, char *err, size_t errlen)
{
	return rg_list_walk(value, file, line, cidr_item, list, err, errlen);
}

/* --- domain lists -------------------------------------------------------- */

/* "[192.0.2.1]" or "[IPv6:2001:db8::1]" -> host entry. */
static int literal_item(const char *item, struct rg_domain_list *list,
    char *err, size_t errlen)
{
	struct rg_address a;
	struct rg_addr_error aerr;
	struct rg_cidr c;
	char probe[ITEM_MAX + 16];

	snprintf(probe, sizeof(probe), "<postmaster@%s>", item);
	if (rg_address_parse(probe, &a, &aerr) != 0 ||
	    (a.domain_kind != RG_DOMAIN_IPV4 && a.domain_kind != RG_DOMAIN_IPV6))
		return rg_set_err(err, errlen, "'%s' is not an address literal "
		    "([192.0.2.1] or [IPv6:2001:db8::1])", item);
	if (rg_cidr_parse(a.literal_addr, &c, err, errlen) != 0)
		return -1;
	rg_cidr_list_add(&list->literals, &c);
	return 0;
}

static int domain_item(const char *item, void *ctx, char *err, size_t errlen)
{
	struct rg_domain_list *list = ctx;
	const char *p = item;
	char *name;
	size_t n;

	if (item[0] == '[')
		return literal_item(item, list, err, errlen);
	if (*p == '.')
		p++;
	n = strlen(p);
	if (n > 0 && p[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return rg_set_err(err, errlen, "'%s' is not a domain name", item);
	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    (c == '.' && i > 0 && p[i - 1] != '.')))
			return rg_set_err(err, errlen, "'%s' is not a domain "
			    "name (bad character or empty label)", item);
	}
	if (p[n - 1] == '.' && n > 0)
		return rg_set_err(err, errlen, "'%s' is not a domain name", item);
	name = xasprintf("%s%.*s", p != item ? "." : "", (int)n, p);
	rg_lowercase(name);
	if (list->n == list->cap) {
		list->cap = list->cap ? list->cap * 2 : 8;
		list->names = xrealloc(list->names, list->cap * sizeof(char *));
	}
	list->names[list->n++] = name;
	return 0;
}

int rg_domain_list_parse(struct rg_domain_list *list, const char *value,
    const char *file, int line, char *err, size_t errlen)
{
	return rg_list_walk(value, file, line, domain_item, list, err, errlen);
}

bool rg_domain_list_match(const struct rg_domain_list *list,
    const char *domain, const char *literal_ip)
{
	if (list == NULL || domain == NULL)
		return false;
	if (domain[0] == '[')
		return rg_cidr_list_match_text(&list->literals, literal_ip);
	for (size_t i = 0; i < list->n; i++)
		if (rg_domain_matches(domain, list->names[i]))
			return true;
	return false;
}

void rg_domain_list_free(struct rg_domain_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		free(list->names[i]);
	free(list->names);
	rg_cidr_list_free(&list->literals);
	memset(list, 0, sizeof(*list));
}

/*
 * mtaimport_mynetworks.c - the items of Postfix's mynetworks as Postfix
 * matches them against a client address (match_hostaddr, cidr_table), for
 * the Postfix importer (mtaimport_postfix.c).
 *
 * Only the spellings whose meaning is certain are understood:
 *	a.b.c.d  [v6]		one address, spelled as Postfix prints a client
 *				address (it compares the text)
 *	a.b.c.d/n  [v6]/n	a network without host bits (Postfix answers a
 *				network with host bits, "10/8" or an unbracketed
 *				IPv6 network with a configuration error)
 * A hash-like table is looked up with the client address as the key, so
 * only a key that is one address in that spelling counts; a cidr: table is
 * read line by line (its values do not matter: mynetworks ignores them).
 * Whatever else is met sets im->pf_unknown: then none of mynetworks is
 * imported (mtaimport_postfix.c).
 */
#include "mtaimport.h"
#include "lib/base/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PF_BLANKS	" \t\r\n\f\v"

/* text is one address as inet_ntop prints it (case-blind). */
static bool pf_canonical(int af, const char *text, unsigned char *bin)
{
	char canon[INET6_ADDRSTRLEN];

	return inet_pton(af, text, bin) == 1 &&
	    inet_ntop(af, bin, canon, sizeof(canon)) != NULL &&
	    strcasecmp(canon, text) == 0;
}

bool rg_import_pf_address(const char *key)
{
	unsigned char bin[16];

	return pf_canonical(strchr(key, ':') ? AF_INET6 : AF_INET, key, bin);
}

/* "n" of "/n": digits only, no leading zero, at most max. */
static bool pf_prefix_len(const char *s, unsigned max, unsigned *n)
{
	size_t len = strlen(s);

	if (len == 0 || len > 3 || (len > 1 && s[0] == '0'))
		return false;
	*n = 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		*n = *n * 10 + (unsigned)(s[i] - '0');
	}
	return *n <= max;
}

/* No bit set past the prefix. */
static bool pf_no_host_bits(const unsigned char *bin, unsigned bytes,
    unsigned prefix)
{
	for (unsigned bit = prefix; bit < bytes * 8; bit++)
		if (bin[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

/* item as Postfix parses an address pattern; bracketed: IPv6 must be in
 * [] (a list item) or must not (a cidr: table key). out "addr/len". */
static bool pf_network_as(const char *item, bool bracketed, char *out,
    size_t len)
{
	char buf[128], *slash, *host = buf;
	unsigned char bin[16];
	unsigned prefix, max;
	int af = AF_INET;
	size_t n;

	if (strlcpy_rg(buf, item, sizeof(buf)) >= sizeof(buf))
		return false;
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	n = strlen(host);
	if (strchr(host, ':') != NULL) {
		af = AF_INET6;
		if (bracketed) {
			if (n < 2 || host[0] != '[' || host[n - 1] != ']')
				return false;
			host[n - 1] = '\0';
			host++;
		}
	}
	max = af == AF_INET ? 32 : 128;
	if (slash == NULL) {
		if (!pf_canonical(af, host, bin))
			return false;
		prefix = max;
	} else if (inet_pton(af, host, bin) != 1 ||
	    !pf_prefix_len(slash, max, &prefix) ||
	    !pf_no_host_bits(bin, max / 8, prefix)) {
		return false;
	}
	inet_ntop(af, bin, buf, sizeof(buf));
	snprintf(out, len, "%s/%u", buf, prefix);
	return true;
}

bool rg_import_pf_network(const char *item, char *out, size_t len)
{
	return pf_network_as(item, true, out, len);
}

/* Something in mynetworks relayguard cannot judge: say so; then none of
 * mynetworks is imported. */
void rg_import_pf_unknown(struct rg_import *im, const char *src,
    const char *item, const char *why)
{
	rg_import_note(im, "%s: '%s' %s; relayguard cannot know whom Postfix "
	    "trusts, so none of mynetworks is imported", src, item, why);
	im->pf_unknown = true;
}

/* One logical line of a cidr: table: "pattern value". */
static void pf_cidr_line(struct rg_import *im, char *line, const char *src)
{
	char *save = NULL, *pat = strtok_r(line, PF_BLANKS, &save);
	char net[160];

	if (pat == NULL)
		return;
	if (strcasecmp(pat, "if") == 0 || strcasecmp(pat, "endif") == 0)
		rg_import_pf_unknown(im, src, pat, "starts an if/endif block "
		    "(not read)");
	else if (strtok_r(NULL, PF_BLANKS, &save) == NULL)
		rg_import_pf_unknown(im, src, pat, "has no value on its line");
	else if (!pf_network_as(pat, false, net, sizeof(net)))
		rg_import_pf_unknown(im, src, pat, "is not an address or "
		    "network as a cidr: table spells one");
	else
		rg_import_add(im, 'T', net, src);
}

void rg_import_postfix_cidr(struct rg_import *im, FILE *in, const char *src)
{
	char *line = NULL, *where;
	size_t cap = 0;
	int lineno = 0;

	while (getline(&line, &cap, in) >= 0) {
		char *p = line + strspn(line, PF_BLANKS);

		lineno++;
		/* comments, blank lines; a line starting with a blank
		 * continues the value of the line before */
		if (*p == '#' || *p == '\0' || p != line)
			continue;
		where = xasprintf("%s (line %d)", src, lineno);
		pf_cidr_line(im, line, where);
		free(where);
	}
	free(line);
}

/* A key of a hash-like table in mynetworks. */
void rg_import_pf_key(struct rg_import *im, const char *key, const char *src)
{
	if (rg_import_pf_address(key))
		rg_import_add(im, 'T', key, src);
	else
		rg_import_note(im, "%s: key '%s' is not one address as Postfix "
		    "spells a client address: Postfix looks the whole address "
		    "up in this table, so it matches no client; not imported",
		    src, key);
}

/* The entries of inline:{name=value, ...} as Postfix's dict_inline
 * splits them; NULL when Postfix would refuse the table (no braces, a
 * brace left over, an entry without '=', no entry: it then fails every
 * lookup in it, and smtpd defers every client with a configuration
 * error), and for a nested {name=value} entry, which is not read. */
char *rg_import_pf_inline_keys(const char *name)
{
	size_t len = strlen(name);
	char *copy, *out, *end, *save = NULL, *kv;

	/* one pair of braces around it all (Postfix's balpar), none inside:
	 * a {name=value} nested entry Postfix would take is refused too */
	if (len < 2 || name[0] != '{' || name[len - 1] != '}')
		return NULL;
	copy = xstrndup(name + 1, len - 2);
	if (strpbrk(copy, "{}") != NULL) {
		free(copy);
		return NULL;
	}
	end = out = xcalloc(1, len);
	for (kv = strtok_r(copy, ", \t\r\n", &save); kv != NULL;
	    kv = strtok_r(NULL, ", \t\r\n", &save)) {
		char *eq = strchr(kv, '=');

		if (eq == NULL || eq == kv)
			break;
		memcpy(end, kv, (size_t)(eq - kv));
		end += eq - kv;
		*end++ = '\n';
	}
	free(copy);
	if (kv != NULL || end == out) {
		free(out);
		return NULL;
	}
	return out;
}

/* After mynetworks: with anything not understood, nothing of it stays. */
void rg_import_pf_verdict(struct rg_import *im)
{
	if (!im->pf_unknown)
		return;
	for (size_t i = 0; i < im->trusted.n; i++)
		rg_import_note(im, "%s: %s NOT imported: mynetworks has items "
		    "relayguard cannot judge (see above)", im->trusted.v[i].source,
		    im->trusted.v[i].value);
	rg_import_list_clear(&im->trusted);
}

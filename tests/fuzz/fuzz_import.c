/*
 * fuzz_import.c - libFuzzer target for relayguard-milter --import
 * (mtaimport_sendmail.c, mtaimport_postfix.c, mtaimport_mynetworks.c)
 * with a subset oracle: the import never trusts a client the MTA does not
 * relay for.
 *
 * The input is read three ways: as the text of sendmail's access map, as
 * the value of Postfix's mynetworks (files and tables are not read), and
 * as a cidr: table named by mynetworks. For each, a reference model
 * written here, separately and as plainly as the MTA's behaviour can be
 * put, says whether the MTA relays for a client address:
 *   sendmail  makemap: '#' first on a line is a comment, a line starting
 *             with a blank or without a value is refused, the key is
 *             lowercased, the first of a duplicate key is kept, the value
 *             is the rest of the line; a client a.b.c.d is looked up as
 *             connect:a.b.c.d, a.b.c.d, connect:a.b.c, a.b.c, ... and an
 *             IPv6 client as ipv6:<inet_ntop text>, cut at each ':'; the
 *             first entry found relays when its value is the word RELAY
 *             (any case) with only blanks around it;
 *   mynetworks  items in order, the first that matches decides; an item
 *             the model does not know (a name, a table, a file, "!!",
 *             host bits, IPv6 without brackets) ends the walk: the client
 *             is not known to be relayed;
 *   cidr:     every line "pattern value"; one line the model does not know
 *             and nothing is known to be relayed; else any match relays.
 * Every imported TrustedNetworks entry is probed at its first and last
 * address and at every address the input names inside it; an entry the
 * model does not relay for aborts.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "milter/policy/mtaimport.h"
#include "fuzz.h"

#define MAX_INPUT	4096
#define MAX_PROBES	64

struct addr {
	int af;			/* AF_INET, AF_INET6 */
	unsigned char b[16];
};

/* --- sendmail's model ----------------------------------------------------------- */

static bool value_is_relay(const char *v)
{
	char word[8];
	size_t n = 0;

	while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
		v++;
	while (*v != '\0' && *v != ' ' && *v != '\t' && *v != '\r' &&
	    *v != '\n' && n < sizeof(word) - 1)
		word[n++] = *v++;
	word[n] = '\0';
	while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
		v++;
	return *v == '\0' && strcasecmp(word, "relay") == 0;
}

/* The value makemap stores for key, or NULL. */
static const char *map_lookup(const char *text, const char *key)
{
	static char val[MAX_INPUT + 1];
	const char *line = text;

	while (*line != '\0') {
		const char *end = strchr(line, '\n'), *k = line, *v;
		size_t len = end ? (size_t)(end - line) : strlen(line);
		size_t klen = 0;

		if (len > 0 && line[0] != '#' && !isspace((unsigned char)line[0])) {
			while (klen < len && !isspace((unsigned char)k[klen]))
				klen++;
			v = k + klen;
			while (v < line + len && isspace((unsigned char)*v))
				v++;
			if (v < line + len && klen == strlen(key) &&
			    strncasecmp(k, key, klen) == 0) {
				memcpy(val, v, (size_t)(line + len - v));
				val[line + len - v] = '\0';
				return val;
			}
		}
		line += len + (end != NULL);
	}
	return NULL;
}

static bool sendmail_relays(const char *text, const struct addr *a)
{
	char cur[80], key[96];
	const char *v;
	char *cut;
	size_t floor;

	if (a->af == AF_INET) {
		inet_ntop(AF_INET, a->b, cur, sizeof(cur));
		floor = 0;
	} else {
		strcpy(cur, "ipv6:");
		inet_ntop(AF_INET6, a->b, cur + 5, sizeof(cur) - 5);
		floor = 5;
	}
	for (;;) {
		snprintf(key, sizeof(key), "connect:%s", cur);
		if ((v = map_lookup(text, key)) != NULL ||
		    (v = map_lookup(text, cur)) != NULL)
			return value_is_relay(v);
		cut = strrchr(cur + floor, a->af == AF_INET ? '.' : ':');
		if (cut == NULL)
			return false;
		*cut = '\0';
	}
}

/* --- Postfix's models ----------------------------------------------------------- */

/* "addr" or "addr/len" (brackets around IPv6 when bracketed) into a
 * network; false for anything else, host bits included. */
static bool pf_parse(const char *t, bool bracketed, struct addr *net,
    unsigned *len, bool *exact_text)
{
	char host[128];
	const char *slash = strchr(t, '/');
	size_t hl = slash ? (size_t)(slash - t) : strlen(t);
	unsigned max;

	if (hl == 0 || hl >= sizeof(host))
		return false;
	memcpy(host, t, hl);
	host[hl] = '\0';
	net->af = strchr(host, ':') ? AF_INET6 : AF_INET;
	if (net->af == AF_INET6 && bracketed) {
		if (hl < 3 || host[0] != '[' || host[hl - 1] != ']')
			return false;
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	if (inet_pton(net->af, host, net->b) != 1)
		return false;
	max = net->af == AF_INET ? 32 : 128;
	*exact_text = slash == NULL;
	if (slash == NULL) {
		char canon[INET6_ADDRSTRLEN];

		inet_ntop(net->af, net->b, canon, sizeof(canon));
		*len = max;
		return strcasecmp(canon, host) == 0;
	}
	if (!isdigit((unsigned char)slash[1]) || (slash[1] == '0' && slash[2]) ||
	    strspn(slash + 1, "0123456789") != strlen(slash + 1) ||
	    strlen(slash + 1) > 3 || (*len = (unsigned)atoi(slash + 1)) > max)
		return false;
	for (unsigned bit = *len; bit < max; bit++)
		if (net->b[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

static bool in_net(const struct addr *a, const struct addr *net, unsigned len)
{
	if (a->af != net->af)
		return false;
	for (unsigned bit = 0; bit < len; bit++)
		if ((a->b[bit / 8] ^ net->b[bit / 8]) & (0x80 >> (bit % 8)))
			return false;
	return true;
}

static bool mynetworks_relays(const char *value, const struct addr *a)
{
	char *copy = strdup(value), *save = NULL, *t;
	bool verdict = false;

	if (copy == NULL || strpbrk(copy, "{}") != NULL)
		goto out;
	for (t = strtok_r(copy, ", \t\r\n", &save); t != NULL;
	    t = strtok_r(NULL, ", \t\r\n", &save)) {
		bool neg = t[0] == '!', exact;
		struct addr net;
		unsigned len;

		if (t[neg] == '!' || !pf_parse(t + neg, true, &net, &len, &exact))
			goto out;
		if (in_net(a, &net, len)) {
			verdict = !neg;
			goto out;
		}
	}
out:
	free(copy);
	return verdict;
}

static bool cidr_relays(const char *text, const struct addr *a)
{
	char *copy = strdup(text), *save = NULL, *line;
	bool hit = false, known = copy != NULL;

	for (line = copy ? strtok_r(copy, "\n", &save) : NULL; line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *s2 = NULL, *pat, *val;
		struct addr net;
		unsigned len;
		bool exact;

		if (isspace((unsigned char)line[0]))
			continue;	/* a continuation, or blank */
		if ((pat = strtok_r(line, " \t\r\f\v", &s2)) == NULL ||
		    pat[0] == '#')
			continue;
		val = strtok_r(NULL, " \t\r\f\v", &s2);
		if (val == NULL || !pf_parse(pat, false, &net, &len, &exact))
			known = false;
		else if (in_net(a, &net, len))
			hit = true;
	}
	free(copy);
	return known && hit;
}

/* --- probing the import ---------------------------------------------------------- */

/* sendmail's short keys: "10.1" is 10.1.0.0/16, "2001:db8" 2001:db8::/32. */
static bool short_prefix(const char *host, struct addr *a, unsigned *len)
{
	char full[96];
	size_t seps = 0;

	for (const char *p = host; *p; p++)
		seps += *p == (a->af == AF_INET ? '.' : ':');
	if (strlen(host) > 60 || (a->af == AF_INET && seps > 2) ||
	    (a->af == AF_INET6 && (seps > 6 || strstr(host, "::"))))
		return false;
	if (a->af == AF_INET)
		snprintf(full, sizeof(full), "%s%s", host,
		    seps == 0 ? ".0.0.0" : seps == 1 ? ".0.0" : ".0");
	else
		snprintf(full, sizeof(full), "%s::", host);
	*len = (unsigned)(seps + 1) * (a->af == AF_INET ? 8 : 16);
	return inet_pton(a->af, full, a->b) == 1;
}

/* Addresses the input names, loosely read: numbers and dots, hex and
 * colons, with an optional /len; first and last address of each. */
static size_t named_addresses(const char *text, struct addr *out, size_t max)
{
	char *copy = strdup(text), *save = NULL, *t;
	size_t n = 0;

	for (t = copy ? strtok_r(copy, " \t\r\n,![]", &save) : NULL;
	    t != NULL && n + 2 <= max; t = strtok_r(NULL, " \t\r\n,![]", &save)) {
		char *host = strrchr(t, ':') && strncasecmp(t, "connect:", 8) == 0 ?
		    t + 8 : t, *slash;
		unsigned len = 128;
		struct addr a;

		if (strncasecmp(host, "ipv6:", 5) == 0)
			host += 5;
		if ((slash = strchr(host, '/')) != NULL) {
			*slash = '\0';
			len = (unsigned)atoi(slash + 1);
		}
		a.af = strchr(host, ':') ? AF_INET6 : AF_INET;
		if (inet_pton(a.af, host, a.b) != 1 &&
		    !short_prefix(host, &a, &len))
			continue;
		if (a.af == AF_INET && len > 32)
			len = 32;
		out[n++] = a;
		for (unsigned bit = len; bit < (a.af == AF_INET ? 32u : 128u); bit++)
			a.b[bit / 8] |= (unsigned char)(0x80 >> (bit % 8));
		out[n++] = a;
	}
	free(copy);
	return n;
}

static void check_import(const struct rg_import *im, const char *text,
    bool (*relays)(const char *, const struct addr *))
{
	struct addr named[MAX_PROBES];
	size_t nnamed = named_addresses(text, named, MAX_PROBES);

	for (size_t i = 0; i < im->trusted.n; i++) {
		struct addr net, probe[MAX_PROBES + 2];
		unsigned len, max;
		size_t np = 0;
		bool exact;

		/* the emitter writes "addr/len" */
		if (!pf_parse(im->trusted.v[i].value, false, &net, &len, &exact))
			abort();
		max = net.af == AF_INET ? 32 : 128;
		probe[np++] = net;
		probe[np] = net;
		for (unsigned bit = len; bit < max; bit++)
			probe[np].b[bit / 8] |= (unsigned char)(0x80 >> (bit % 8));
		np++;
		for (size_t k = 0; k < nnamed; k++)
			if (in_net(&named[k], &net, len))
				probe[np++] = named[k];
		for (size_t k = 0; k < np; k++)
			if (!relays(text, &probe[k])) {
				char shown[INET6_ADDRSTRLEN];

				inet_ntop(probe[k].af, probe[k].b, shown, sizeof(shown));
				fprintf(stderr, "import trusts %s (from %s) at %s; the "
				    "model does not relay for it\n",
				    im->trusted.v[i].value, im->trusted.v[i].source,
				    shown);
				abort();
			}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	FILE *f;
	struct rg_import im = {0};

	if (size > MAX_INPUT || (text = fuzz_strndup(data, size)) == NULL)
		return 0;
	text[strlen(text)] = '\0';	/* a NUL ends the text for all three */
	if ((f = fmemopen(text, strlen(text) + 1, "r")) != NULL) {
		rg_import_sendmail_access(&im, f, "access");
		fclose(f);
		rg_import_finish(&im);
		check_import(&im, text, sendmail_relays);
		rg_import_free(&im);
	}
	rg_import_postfix_param(&im, "mynetworks", text, RG_IMPORT_NO_FILES);
	rg_import_finish(&im);
	check_import(&im, text, mynetworks_relays);
	rg_import_free(&im);
	if ((f = fmemopen(text, strlen(text) + 1, "r")) != NULL) {
		rg_import_postfix_cidr(&im, f, "mynetworks cidr:fuzz");
		fclose(f);
		rg_import_pf_verdict(&im);
		rg_import_finish(&im);
		check_import(&im, text, cidr_relays);
		rg_import_free(&im);
	}
	free(text);
	return 0;
}

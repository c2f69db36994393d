/*
 * fuzz_address.c - libFuzzer target for the address parser and the reply
 * reader: both read bytes chosen by whoever is at the other end of an SMTP
 * session. Build with "make fuzz"; run build-fuzz/fuzz_address.
 *
 * The whole input, as one C string, goes to rg_address_parse(); a parsed
 * address must hold its invariants (NUL-terminated fields, routing bits
 * that match the dequoted local part, a literal only for literal kinds) and
 * an error must point inside the input. Then the input, split at '\n', is
 * fed line by line to rg_reply_feed(), restarting after DONE or BAD, and
 * every line of every reply is read back with rg_reply_line().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relayguard/address.h"
#include "relayguard/reply.h"

static void check_address(const char *in, size_t len)
{
	struct rg_address a;
	struct rg_addr_error err;
	char buf[128];

	if (rg_address_parse(in, &a, &err) != 0) {
		if (err.offset > len || memchr(err.message, '\0',
		    sizeof(err.message)) == NULL || err.message[0] == '\0')
			abort();
		return;
	}
	if (memchr(a.local, '\0', sizeof(a.local)) == NULL ||
	    memchr(a.domain, '\0', sizeof(a.domain)) == NULL ||
	    memchr(a.route, '\0', sizeof(a.route)) == NULL ||
	    memchr(a.literal_addr, '\0', sizeof(a.literal_addr)) == NULL)
		abort();
	/* quoting never hides a routing operator */
	if ((strchr(a.local, '%') != NULL) != ((a.routing & RG_ROUTE_PERCENT) != 0) ||
	    (strchr(a.local, '!') != NULL) != ((a.routing & RG_ROUTE_BANG) != 0) ||
	    (strchr(a.local, '@') != NULL) != ((a.routing & RG_ROUTE_EXTRA_AT) != 0))
		abort();
	if ((a.route[0] != '\0') != ((a.routing & RG_ROUTE_SOURCE) != 0))
		abort();
	if ((a.domain_kind == RG_DOMAIN_EMPTY) !=
	    ((a.routing & RG_ROUTE_EMPTY_DOMAIN) != 0))
		abort();
	if (a.null_path != (a.local[0] == '\0'))
		abort();
	if (!a.null_path && strlen(a.local) > 64)
		abort();
	switch (a.domain_kind) {
	case RG_DOMAIN_NONE:
	case RG_DOMAIN_EMPTY:
		if (a.domain[0] != '\0' || a.literal_addr[0] != '\0')
			abort();
		break;
	case RG_DOMAIN_NAME:
		if (a.domain[0] == '\0' || a.domain[0] == '[' ||
		    a.literal_addr[0] != '\0' || strlen(a.domain) > 255 ||
		    strstr(a.domain, "..") != NULL)
			abort();
		for (const char *p = a.domain; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				abort();
		break;
	case RG_DOMAIN_IPV4:
	case RG_DOMAIN_IPV6:
		if (a.domain[0] != '[' || a.literal_addr[0] == '\0')
			abort();
		break;
	}
	rg_address_routing_str(a.routing, buf, sizeof(buf));
	rg_address_routing_str(a.routing, buf, 7);
	(void)rg_domain_matches(a.domain, "example.org");
	(void)rg_domain_matches(a.domain, a.domain);
	if (a.domain_kind == RG_DOMAIN_NAME && !rg_domain_matches(a.domain, a.domain))
		abort();
}

static void check_reply(const struct rg_reply *r)
{
	char buf[RG_REPLY_TEXT_MAX];

	if (memchr(r->text, '\0', sizeof(r->text)) == NULL ||
	    memchr(r->enhanced, '\0', sizeof(r->enhanced)) == NULL ||
	    r->nlines > RG_REPLY_LINES_MAX)
		abort();
	for (int i = -1; i <= r->nlines; i++)
		(void)rg_reply_line(r, i, buf, (size_t)(i + 2) * 7 % sizeof(buf));
	(void)rg_reply_first_word(r, buf, sizeof(buf));
	(void)rg_reply_first_word(r, buf, 4);
}

static void feed_lines(const char *in, size_t len)
{
	static struct rg_reply r;	/* 4 KB: keep it off the stack */
	char *copy = malloc(len + 1);
	char *line, *nl;

	if (copy == NULL)
		return;
	memcpy(copy, in, len);
	copy[len] = '\0';
	rg_reply_init(&r);
	for (line = copy; line != NULL; line = nl) {
		enum rg_reply_status st;

		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		st = rg_reply_feed(&r, line);
		check_reply(&r);
		if (st == RG_REPLY_BAD && r.error[0] == '\0')
			abort();
		if (st != RG_REPLY_MORE) {
			if (rg_reply_feed(&r, "250 x") != RG_REPLY_BAD)
				abort();
			rg_reply_init(&r);
		}
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1);
	size_t len;

	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	len = strlen(in);		/* up to the first NUL */
	check_address(in, len);
	free(in);
	feed_lines((const char *)data, size);	/* NULs end lines early */
	return 0;
}

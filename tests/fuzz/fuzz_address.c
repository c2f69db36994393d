/*
 * fuzz_address.c - libFuzzer target for the address parser, which reads
 * bytes chosen by whoever is at the other end of an SMTP session. Build
 * with "make fuzz"; run build-fuzz/fuzz_address (the reply reader has its
 * own target, fuzz_reply).
 *
 * The input up to its first NUL, then each piece between NULs and
 * newlines (so bytes after a NUL are read too), goes to
 * rg_address_parse(); a parsed address must hold its invariants
 * (NUL-terminated fields, routing bits that match the dequoted local part,
 * a literal only for literal kinds) and an error must point inside the
 * input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mail/address.h"
#include "fuzz.h"

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

static void one_address(const char *in, size_t len, void *ctx)
{
	(void)ctx;
	check_address(in, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the whole input, then each NUL- or newline-separated piece */
	char *in = fuzz_strndup(data, size);

	if (in == NULL)
		return 0;
	check_address(in, strlen(in));
	free(in);
	fuzz_pieces(data, size, '\n', one_address, NULL);
	return 0;
}

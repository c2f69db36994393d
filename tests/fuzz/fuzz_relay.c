/*
 * fuzz_relay.c - libFuzzer target for the relay decision (relay.h) with an
 * oracle: an untrusted, unauthenticated client never gets PERMIT, and gets
 * DUNNO (not a relay) exactly when the recipient is a clean address of a
 * local or relay domain.
 *
 * "Clean" is defined here from the address parser's result, independently
 * of relay.c: the recipient parses (address.h), is not the null path,
 * carries no routing operator (RG_ROUTE_*: '%', '!', extra '@', source
 * route, empty domain), and its domain is one of the configured names
 * (site.example, relay.example), a subdomain of .sub.example, or the
 * listed literals [192.0.2.1] / [IPv6:2001:db8::25]; an unqualified
 * <postmaster> is clean too (RFC 5321 4.1.1.3).
 *
 * Input: byte 0 picks the client (trusted or not, IPv4, IPv6, IPv4-mapped)
 * and whether it presents an AUTH identity; byte 1 picks the config
 * (AllowAuthenticated no/yes); the rest, split at NUL and '\n', are
 * recipients. Trusted clients (and authenticated ones when allowed) must
 * get PERMIT.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/mail/address.h"
#include "milter/policy/config.h"
#include "milter/policy/relay.h"
#include "fuzz.h"

static const char conf_text[] =
    "LocalDomains site.example, .sub.example, [192.0.2.1]\n"
    "RelayDomains relay.example, [IPv6:2001:db8::25]\n"
    "TrustedNetworks 127.0.0.0/8, 2001:db8:1::/48\n";

static const struct {
	const char *addr;
	bool trusted;
} clients[] = {
	{ "127.0.0.1", true },
	{ "192.0.2.77", false },
	{ "2001:db8:1::5", true },
	{ "::ffff:127.0.0.9", true },
	{ "::ffff:192.0.2.9", false },
	{ "2001:db8:2::1", false },
	{ "10.0.0.1", false },
	{ "::", false },
};

struct run {
	const struct rg_config *conf;
	const struct sockaddr *client;
	bool trusted, auth, allow_auth;
};

static bool clean_destination(const char *rcpt)
{
	struct rg_address a;
	struct rg_addr_error err;
	size_t n;

	if (rg_address_parse(rcpt, &a, &err) != 0 || a.null_path ||
	    a.routing != 0)
		return false;
	switch (a.domain_kind) {
	case RG_DOMAIN_NONE:
		return strcasecmp(a.local, "postmaster") == 0;
	case RG_DOMAIN_NAME:
		n = strlen(a.domain);
		return strcmp(a.domain, "site.example") == 0 ||
		    strcmp(a.domain, "relay.example") == 0 ||
		    (n > 12 && strcmp(a.domain + n - 12, ".sub.example") == 0);
	case RG_DOMAIN_IPV4:
		return strcmp(a.literal_addr, "192.0.2.1") == 0;
	case RG_DOMAIN_IPV6:
		return strcmp(a.literal_addr, "2001:db8::25") == 0;
	default:
		return false;
	}
}

static void one_rcpt(const char *rcpt, size_t len, void *ctx)
{
	struct run *r = ctx;
	struct relay_decision d;
	enum relay_verdict v;

	(void)len;
	v = relay_decide(r->conf, r->client, NULL, r->auth ? "fuzzer" : NULL, rcpt, &d);
	if (v != d.verdict || memchr(d.reason, '\0', sizeof(d.reason)) == NULL)
		abort();
	if (r->trusted || (r->auth && r->allow_auth)) {
		if (v != RELAY_PERMIT)
			abort();
		return;
	}
	if (v == RELAY_PERMIT)
		abort();	/* an open relay */
	if ((v == RELAY_DUNNO) != clean_destination(rcpt))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rg_config *conf[2];
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct run r;
	char err[512];
	size_t ci;

	if (conf[0] == NULL) {
		char text[sizeof(conf_text) + 32];

		for (int i = 0; i < 2; i++) {
			strcpy(text, conf_text);
			strcat(text, i ? "AllowAuthenticated yes\n" :
			    "AllowAuthenticated no\n");
			if ((conf[i] = rg_config_parse_string(text, "fuzz.conf", err,
			    sizeof(err))) == NULL)
				abort();
		}
	}
	if (size < 2)
		return 0;
	ci = (data[0] & 0x7f) % (sizeof(clients) / sizeof(clients[0]));
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, clients[ci].addr, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		r.client = (const struct sockaddr *)&sin;
	} else {
		sin6.sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, clients[ci].addr, &sin6.sin6_addr) != 1)
			abort();
		r.client = (const struct sockaddr *)&sin6;
	}
	r.trusted = clients[ci].trusted;
	r.auth = (data[0] & 0x80) != 0;
	r.allow_auth = (data[1] & 1) != 0;
	r.conf = conf[r.allow_auth];
	fuzz_pieces(data + 2, size - 2, '\n', one_rcpt, &r);
	return 0;
}

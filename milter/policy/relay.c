/*
 * relay.c - relay_decide(): who may relay, which recipient is ours; see
 * relay.h. Postfix's permit_mynetworks, permit_sasl_authenticated and
 * reject_unauth_destination (with allow_untrusted_routing = no) are the
 * model; the checks are made on the address as the client wrote it, so
 * the MTA's later rewriting (percent hack, swap_bangpath,
 * resolve_dequoted_address) cannot turn a refused form into a relay.
 *
 * Fail closed: a client without an IP address (NULL) is an untrusted
 * client unless TrustAddresslessClients says otherwise; it may still
 * authenticate, and its mail to local and relay domains passes.
 */
#include "relay.h"
#include "lib/mail/address.h"
#include "lib/mail/netmatch.h"
#include "lib/base/hostport.h"
#include "lib/base/util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *relay_verdict_str(enum relay_verdict v)
{
	switch (v) {
	case RELAY_PERMIT:
		return "permit";
	case RELAY_DUNNO:
		return "dunno";
	case RELAY_REJECT:
		return "reject";
	}
	return "?";
}

const char *relay_basis_str(enum relay_basis b)
{
	static const char *const names[] = {
		"local-submission", "trusted-network", "authenticated",
		"local-domain", "relay-domain", "foreign-domain", "routing",
		"unparseable", "bad-form",
	};

	return (size_t)b < RG_NELEM(names) ? names[b] : "?";
}

/* The first routing operator, worded for the log. */
static void describe_routing(const struct rg_address *a, char *buf, size_t len)
{
	const char *quoted = a->quoted_local ? " (hidden in a quoted local part)" : "";

	if (a->routing & RG_ROUTE_SOURCE)
		snprintf(buf, len, "source route %s: in recipient", a->route);
	else if (a->routing & RG_ROUTE_PERCENT)
		snprintf(buf, len, "routing operator '%%' in local part%s", quoted);
	else if (a->routing & RG_ROUTE_BANG)
		snprintf(buf, len, "routing operator '!' in local part%s", quoted);
	else if (a->routing & RG_ROUTE_EXTRA_AT)
		snprintf(buf, len, "routing operator '@' in local part%s", quoted);
	else
		snprintf(buf, len, "empty domain after '@'");
}

static enum relay_verdict set(struct relay_decision *d, enum relay_verdict v,
    enum relay_basis b)
{
	d->verdict = v;
	d->basis = b;
	return v;
}

/*
 * Whether literal_ip (the canonical text of a recipient's address literal)
 * is the server's own address: server_addr as the MTA's {daemon_addr}
 * gives it ("192.0.2.1", "2001:db8::1", sendmail's "IPv6:2001:db8::1").
 * A wildcard (0.0.0.0, ::: sendmail's daemon bound to every address) or
 * anything unparseable is no address, so nothing matches.
 */
static bool own_literal(const char *server_addr, const char *literal_ip)
{
	struct rg_hostport hp;
	struct rg_cidr self;
	struct rg_cidr_list one = { .v = &self, .n = 1, .cap = 1 };
	static const unsigned char any[16];
	char err[RG_NETMATCH_ERRLEN];

	if (server_addr == NULL || literal_ip == NULL || literal_ip[0] == '\0')
		return false;
	if (strncasecmp(server_addr, "IPv6:", 5) == 0)
		server_addr += 5;
	if (rg_hostport_parse(server_addr, 0, RG_HP_NUMERIC | RG_HP_BARE_V6 |
	    RG_HP_NO_PORT, &hp, err, sizeof(err)) != 0 ||
	    rg_cidr_parse(hp.host, &self, err, sizeof(err)) != 0 ||
	    memcmp(self.addr, any, sizeof(any)) == 0)
		return false;
	return rg_cidr_list_match_text(&one, literal_ip);
}

/*
 * The destination test alone: DUNNO when the recipient is a clean address
 * in a local or relay domain, else REJECT with the reason.
 */
static enum relay_verdict check_destination(const struct rg_config *conf,
    const char *server_addr, const char *rcpt, struct relay_decision *d)
{
	struct rg_address a;
	struct rg_addr_error err;
	char what[200];

	if (rcpt == NULL || rg_address_parse(rcpt, &a, &err) != 0) {
		snprintf(d->reason, sizeof(d->reason),
		    "unparseable address: %s at offset %zu",
		    rcpt ? err.message : "no recipient", rcpt ? err.offset : 0);
		return set(d, RELAY_REJECT, RELAY_BASIS_UNPARSEABLE);
	}
	if (a.null_path) {
		snprintf(d->reason, sizeof(d->reason), "null recipient <>");
		return set(d, RELAY_REJECT, RELAY_BASIS_BAD_FORM);
	}
	if (a.routing != 0) {
		describe_routing(&a, what, sizeof(what));
		snprintf(d->reason, sizeof(d->reason), "%s", what);
		return set(d, RELAY_REJECT, RELAY_BASIS_ROUTING);
	}
	if (a.domain_kind == RG_DOMAIN_NONE) {
		/* RFC 5321 4.1.1.3: only <Postmaster> may come unqualified */
		if (strcasecmp(a.local, "postmaster") == 0) {
			snprintf(d->reason, sizeof(d->reason),
			    "unqualified postmaster (RFC 5321 4.1.1.3)");
			return set(d, RELAY_DUNNO, RELAY_BASIS_LOCAL_DOMAIN);
		}
		snprintf(d->reason, sizeof(d->reason),
		    "unqualified recipient %s", a.local);
		return set(d, RELAY_REJECT, RELAY_BASIS_BAD_FORM);
	}
	if (rg_domain_list_match(&conf->local_domains, a.domain, a.literal_addr)) {
		snprintf(d->reason, sizeof(d->reason),
		    "recipient domain %s is local", a.domain);
		return set(d, RELAY_DUNNO, RELAY_BASIS_LOCAL_DOMAIN);
	}
	/* RFC 5321 4.5.1 and 2.3.4: the server's own address literal is a
	 * name of this host, as Postfix's resolve_local takes it */
	if ((a.domain_kind == RG_DOMAIN_IPV4 || a.domain_kind == RG_DOMAIN_IPV6) &&
	    own_literal(server_addr, a.literal_addr)) {
		snprintf(d->reason, sizeof(d->reason), "recipient domain %s is "
		    "this server's own address literal", a.domain);
		return set(d, RELAY_DUNNO, RELAY_BASIS_LOCAL_DOMAIN);
	}
	if (rg_domain_list_match(&conf->relay_domains, a.domain, a.literal_addr)) {
		snprintf(d->reason, sizeof(d->reason),
		    "recipient domain %s is a relay domain", a.domain);
		return set(d, RELAY_DUNNO, RELAY_BASIS_RELAY_DOMAIN);
	}
	snprintf(d->reason, sizeof(d->reason),
	    "recipient domain %s not local", a.domain);
	return set(d, RELAY_REJECT, RELAY_BASIS_FOREIGN_DOMAIN);
}

enum relay_verdict relay_decide(const struct rg_config *conf,
    const struct sockaddr *client, const char *server_addr,
    const char *auth_authen, const char *rcpt, struct relay_decision *d)
{
	char dest[sizeof(d->reason)];
	enum relay_verdict v;

	memset(d, 0, sizeof(*d));
	v = check_destination(conf, server_addr, rcpt, d);
	d->relaying = v == RELAY_REJECT;
	strlcpy_rg(dest, d->reason, sizeof(dest));

	if (client == NULL && conf->trust_addressless) {
		snprintf(d->reason, sizeof(d->reason), "client without an IP "
		    "address, trusted by TrustAddresslessClients%s%s",
		    d->relaying ? ", " : "", d->relaying ? dest : "");
		return set(d, RELAY_PERMIT, RELAY_BASIS_LOCAL_SUBMISSION);
	}
	if (client != NULL &&
	    rg_cidr_list_match_sockaddr(&conf->trusted_networks, client)) {
		snprintf(d->reason, sizeof(d->reason), "trusted client%s%s",
		    d->relaying ? ", " : "", d->relaying ? dest : "");
		return set(d, RELAY_PERMIT, RELAY_BASIS_TRUSTED_NETWORK);
	}
	if (conf->allow_authenticated && auth_authen != NULL &&
	    *auth_authen != '\0') {
		snprintf(d->reason, sizeof(d->reason),
		    "authenticated as %.64s%s%s", auth_authen,
		    d->relaying ? ", " : "", d->relaying ? dest : "");
		return set(d, RELAY_PERMIT, RELAY_BASIS_AUTHENTICATED);
	}
	if (v == RELAY_REJECT && d->basis == RELAY_BASIS_FOREIGN_DOMAIN) {
		snprintf(d->reason, sizeof(d->reason), "%s, %s", client ?
		    "untrusted client" : "client without an IP address", dest);
	}
	return v;
}

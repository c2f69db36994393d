/*
 * relay.h - the relay-authorisation policy, decided at RCPT.
 *
 * relay_decide() is a pure function of the config, the client address, the
 * server address, the SMTP AUTH identity and the RCPT TO argument. It is what
 * reject_unauth_destination does in Postfix (smtpd_check.c), made
 * independent of the MTA's own configuration:
 *
 *   1. a client in TrustedNetworks may relay: RELAY_PERMIT; so may a
 *      NULL client address (milter family unix or unknown, or no connect
 *      event: "sendmail -bs", a peer that went away) but only with
 *      TrustAddresslessClients yes - by default it is an untrusted client
 *      (Postfix's pickup and sendmail's MSP arrive as 127.0.0.1 and need
 *      no such trust);
 *   2. with AllowAuthenticated, a non-empty {auth_authen} may relay:
 *      RELAY_PERMIT;
 *   3. otherwise the recipient (parsed by rg_address_parse) must be in
 *      LocalDomains or RelayDomains, or be at the address literal of the
 *      server address the client connected to (server_addr, the MTA's
 *      {daemon_addr}: RFC 5321 4.5.1 wants postmaster@[own literal]
 *      accepted, and Postfix takes any recipient there as local), and
 *      carry no routing operator ('%',
 *      '!', '@' in the local part even when quoted, a source route, an
 *      empty domain): then the mail is not relayed at all, RELAY_DUNNO
 *      ("not my business": later checks may still refuse it);
 *   4. anything else is RELAY_REJECT: an unparseable address, the null
 *      path, an unqualified recipient other than <postmaster> (RFC 5321
 *      4.1.1.3), an address literal not listed, a foreign domain.
 *
 * For a permitted client the recipient is still examined, and
 * d->relaying says whether this recipient leaves the site (so that an
 * authenticated relay can be logged). The reason is one phrase for the
 * log: "untrusted client, recipient domain victim.example not local",
 * "routing operator '%' in local part", "unparseable address: ...".
 *
 * No libmilter here: the unit tests link it directly and walk the relay
 * trick catalogue (trick.h) as their oracle.
 */
#ifndef RELAYGUARD_RELAY_H
#define RELAYGUARD_RELAY_H

#include "config.h"

#include <stdbool.h>
#include <sys/socket.h>

enum relay_verdict {
	RELAY_PERMIT,		/* authorised to relay */
	RELAY_DUNNO,		/* not a relay: recipient is ours */
	RELAY_REJECT,		/* unauthorised relaying */
};

enum relay_basis {
	RELAY_BASIS_LOCAL_SUBMISSION,	/* no client address, trusted by config */
	RELAY_BASIS_TRUSTED_NETWORK,
	RELAY_BASIS_AUTHENTICATED,
	RELAY_BASIS_LOCAL_DOMAIN,
	RELAY_BASIS_RELAY_DOMAIN,
	RELAY_BASIS_FOREIGN_DOMAIN,	/* reject: not local, not relay */
	RELAY_BASIS_ROUTING,		/* reject: routing operator */
	RELAY_BASIS_UNPARSEABLE,	/* reject: parser refused it */
	RELAY_BASIS_BAD_FORM,		/* reject: null path, unqualified */
};

struct relay_decision {
	enum relay_verdict verdict;
	enum relay_basis basis;
	bool relaying;		/* the recipient would leave the site */
	char reason[320];
};

/* client: the MTA's client socket address, NULL when it has none;
 * server_addr: the address the client connected to as text ({daemon_addr}:
 * "192.0.2.1", "2001:db8::1", "IPv6:2001:db8::1"), NULL when unknown;
 * auth_authen: NULL or "" when not authenticated; rcpt: the RCPT TO
 * argument as the MTA passed it (with or without < >). */
enum relay_verdict relay_decide(const struct rg_config *conf,
    const struct sockaddr *client, const char *server_addr,
    const char *auth_authen, const char *rcpt, struct relay_decision *d);

const char *relay_verdict_str(enum relay_verdict v);	/* "permit" ... */
const char *relay_basis_str(enum relay_basis b);	/* "trusted-network" ... */

#endif

/*
 * hostport.h - the one parser for "host[:port]" as users write it.
 *
 * Accepted forms: "host", "host:port", "192.0.2.1", "192.0.2.1:25",
 * "[2001:db8::1]", "[2001:db8::1]:25" and, with RG_HP_BARE_V6, a bare
 * IPv6 address ("::1", no port: the colons belong to the address). A host
 * name may hold letters, digits, '.', '-' and '_'; a bracketed address
 * must be IPv6. Ports are 1..65535 in decimal. Errors name the input and
 * what is wrong ("[::1: missing ']'", "mx:0: bad port '0'").
 *
 * rg_hostport_format() writes the canonical form back ("[::1]:25" for
 * IPv6, "host:port" otherwise), the key under which a target is known to
 * --resume, --shard and the reports.
 *
 *	struct rg_hostport hp;
 *	char err[300];
 *	if (rg_hostport_parse("[::1]:2525", 25, 0, &hp, err, sizeof(err)) != 0)
 *		msg_fatal("%s", err);
 *	... hp.host "::1", hp.port 2525, hp.family AF_INET6 ...
 */
#ifndef RELAYGUARD_HOSTPORT_H
#define RELAYGUARD_HOSTPORT_H

#include <stdbool.h>
#include <stddef.h>

#define RG_HP_NUMERIC	0x1	/* the host must be an IPv4 or IPv6 address */
#define RG_HP_BARE_V6	0x2	/* "2001:db8::1" without brackets is an address */
#define RG_HP_NO_PORT	0x4	/* a port is an error */

struct rg_hostport {
	char host[256];		/* without brackets */
	int port;		/* default_port when none was given */
	bool port_given;
	int family;		/* AF_INET, AF_INET6, or 0 for a name */
};

int rg_hostport_parse(const char *spec, int default_port, unsigned flags,
    struct rg_hostport *out, char *err, size_t errlen);

/* Whether s is an IPv4 or IPv6 address literal (no brackets, no port). */
bool rg_is_ip(const char *s);

/* "[v6]:port" or "host:port" into buf (truncated to len); returns buf. */
char *rg_hostport_format(const char *host, int port, char *buf, size_t len);

#endif

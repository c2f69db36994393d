/*
 * configadvice.h - warnings about a relayguard.conf that parses but would
 * not do what its admin wants: "relayguard-milter -t" prints them and the
 * daemon logs them at start and at each reload.
 *
 *   - TrustedNetworks containing 0.0.0.0/0 or ::/0 (every client may relay:
 *     the open relay this tool exists against), or wider than an IPv4 /8
 *     or an IPv6 /32 (16.7 million IPv4 addresses, or a whole ISP
 *     allocation; a site's own networks are far narrower);
 *   - Mode enforce with neither LocalDomains nor RelayDomains: every
 *     recipient of an untrusted client is refused, i.e. all inbound mail;
 *   - a Socket anybody but the MTA may reach: inet: without @host or on a
 *     host that is not a loopback address, or a unix socket whose
 *     SocketMode lets others write (whoever talks to the milter can write
 *     relay events into the evidence, and so into abuse reports);
 *   - a public suffix (publicsuffix.org, via libpsl) in LocalDomains or
 *     RelayDomains: ".com" makes every .com recipient local;
 *   - started as root (as_root) with UserID unset (the daemon would handle
 *     network input as root), or with a UserID that is root itself or no
 *     longer resolves, or that cannot read the config or a file: list it
 *     names (mode bits: a reload reads them after the privilege drop).
 *
 * rg_config_advise() calls fn(where, text, ctx) once per warning and
 * returns how many there were: where is "FILE:LINE" of the line the warning
 * is about (the list item's line, the key's line, the line naming an
 * unreadable file: list), or "FILE" for a warning about the file as a
 * whole or about a built-in default; text has no "warning:" prefix.
 */
#ifndef RELAYGUARD_CONFIGADVICE_H
#define RELAYGUARD_CONFIGADVICE_H

#include "config.h"

#include <stdbool.h>

#define RG_ADVICE_WIDEST_V4	8	/* prefixes shorter than this warn */
#define RG_ADVICE_WIDEST_V6	32

typedef void (*rg_advice_fn)(const char *where, const char *text,
    void *ctx);

int rg_config_advise(const struct rg_config *c, bool as_root, rg_advice_fn fn,
    void *ctx);

/* Is name (a leading '.' ignored) a public suffix such as com or co.uk?
 * Names the list does not know (localhost, example) are not. */
bool rg_domain_is_public_suffix(const char *name);

#endif

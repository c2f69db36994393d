/*
 * address.h - the one RFC 5321 path parser of relayguard.
 *
 * rg_address_parse() reads the argument of MAIL FROM / RCPT TO (with or
 * without the angle brackets, ESMTP parameters already removed) and
 * describes it the way a relay decision needs it:
 *
 *   - the mailbox after any RFC 5321 source route ("<@a,@b:user@dom>");
 *   - the local part, dequoted ("\"T@D\"" -> T@D), and whether it was quoted;
 *   - the domain, lowercased, with one trailing dot removed, or an address
 *     literal: [192.0.2.1] (IPv4) or [IPv6:2001:db8::1] (IPv6, RFC 5321
 *     section 4.1.3), validated with inet_pton(3);
 *   - every routing operator that would make a lax MTA send the mail
 *     elsewhere: '%' (percent hack), '!' (UUCP bang path), an extra '@'
 *     in the (dequoted) local part, a source route, an empty domain after
 *     the last '@'.
 *
 * The parser is deliberately lenient in what it *recognises* and strict in
 * what it *calls clean*: "<T@D@[IP]>" is parsed the way a last-'@' MTA
 * reads it (local part "T@D", domain "[IP]") with RG_ROUTE_EXTRA_AT set, so
 * that the caller can refuse it with a precise reason.  Input no MTA could
 * make sense of (unbalanced quotes or brackets, control characters, a bad
 * address literal, over-long parts, an empty local part) is an error with a
 * message and the byte offset where it went wrong.
 *
 * What sets nonstandard (parsed, caller decides): no angle brackets (A9);
 * an unqualified mailbox other than <Postmaster>; an unquoted extra '@'; a
 * local part that is not one clean Dot-string or one Quoted-string
 * ("a..b", ".a", "a\@b", "a"."b"); '[' ']' ':' in an unquoted local part
 * ("T@[IP]@D"); an empty domain after '@'; '_' or a leading/trailing '-'
 * in a domain label; an all-numeric last label ("T@192.0.2.1").
 * SMTPUTF8: well-formed UTF-8 (no overlongs, no surrogates) is accepted in
 * the local part and in domain names and sets nonstandard; any other byte
 * >= 0x80, any control byte (also inside quotes: CR/LF/TAB) and a space
 * outside quotes are errors. A backslash outside quotes escapes the next
 * byte as sendmail's and Postfix's tokenizers do ("T\@D@[IP]" -> local
 * "T@D", RG_ROUTE_EXTRA_AT). Routing bits are computed on the *dequoted*
 * local part, so quoting never hides a '%', '!' or '@'.
 * Source-route hops are validated like domains but only kept as text.
 * Literals: compare literal_addr (canonical inet_ntop text), not domain;
 * note that [IPv6:::ffff:127.0.0.1] is an IPv4-mapped loopback.
 *
 * Usage:
 *	struct rg_address a;
 *	struct rg_addr_error err;
 *	if (rg_address_parse("<T%D@[127.0.0.1]>", &a, &err) != 0)
 *		printf("%s at offset %zu\n", err.message, err.offset);
 *	else if (a.routing != 0)
 *		... refuse: rg_address_routing_str(a.routing, buf, sizeof(buf)) ...
 */
#ifndef RELAYGUARD_ADDRESS_H
#define RELAYGUARD_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 5321 4.5.3.1: local part 64 octets, domain 255, path 256. We accept
 * somewhat more so that over-long input is *described*, then flagged. */
#define RG_ADDR_MAX_INPUT	1024	/* longer input: error */
#define RG_LOCAL_MAX		256	/* buffer sizes incl. NUL */
#define RG_DOMAIN_MAX		256
#define RG_ROUTE_MAX		512

enum rg_domain_kind {
	RG_DOMAIN_NONE = 0,	/* no '@': unqualified ("<T>", "<D!T>") */
	RG_DOMAIN_NAME,		/* a host name: "example.org" */
	RG_DOMAIN_IPV4,		/* "[192.0.2.1]" */
	RG_DOMAIN_IPV6,		/* "[IPv6:2001:db8::1]" */
	RG_DOMAIN_EMPTY,	/* '@' with nothing after it: "<T@D@>" */
};

/* Routing operators, a bit set in struct rg_address.routing. */
#define RG_ROUTE_PERCENT	(1u << 0)	/* '%' in the local part */
#define RG_ROUTE_BANG		(1u << 1)	/* '!' in the local part */
#define RG_ROUTE_EXTRA_AT	(1u << 2)	/* '@' in the local part (quoted or not) */
#define RG_ROUTE_SOURCE		(1u << 3)	/* "@host:" source route */
#define RG_ROUTE_EMPTY_DOMAIN	(1u << 4)	/* trailing '@' */

struct rg_address {
	bool null_path;			/* "<>" */
	bool bracketed;			/* input had < > */
	bool quoted_local;		/* local part was a quoted-string */
	bool nonstandard;		/* parsed, but not valid RFC 5321 syntax */
	unsigned routing;		/* RG_ROUTE_* bits */
	enum rg_domain_kind domain_kind;
	char local[RG_LOCAL_MAX];	/* dequoted local part, case preserved */
	char domain[RG_DOMAIN_MAX];	/* lowercased, no trailing dot; literals keep
					 * their brackets: "[192.0.2.1]",
					 * "[ipv6:2001:db8::1]" */
	char route[RG_ROUTE_MAX];	/* source route as given: "@a,@b" or "" */
	char literal_addr[64];		/* canonical IP text of an address literal */
};

struct rg_addr_error {
	size_t offset;			/* byte offset in the input */
	char message[128];		/* e.g. "unterminated quoted string" */
};

/* 0 on success, -1 on error (err filled in; a may be partly filled). */
int rg_address_parse(const char *input, struct rg_address *a,
    struct rg_addr_error *err);

/* "percent,bang,extra-at,source-route,empty-domain" for the set bits; "" for 0. */
const char *rg_address_routing_str(unsigned routing, char *buf, size_t len);

/* True when the domain is a DNS name equal to or below "suffix" (".example.org"
 * matches subdomains only, "example.org" matches exactly), case-insensitive,
 * one trailing dot ignored on either side. Address literals ("[...]"), empty
 * strings, NULL and the pattern "." never match. */
bool rg_domain_matches(const char *domain, const char *pattern);

#endif

/*
 * netmatch.h - parse-once network and domain lists for relay decisions.
 *
 * A struct rg_cidr_list holds IPv4 and IPv6 networks ("192.0.2.0/24",
 * "2001:db8::/32", a bare address is a host). Each entry is converted once
 * with inet_pton(3) and later compared as bytes under its prefix mask, as
 * Postfix's cidr_match does: no text formatting at match time, no
 * allocation. IPv4-mapped IPv6 ("::ffff:192.0.2.1") is folded to IPv4 on
 * both sides, so a client that reaches a dual-stack socket as
 * ::ffff:192.0.2.1 matches the entry 192.0.2.0/24. An entry with host bits
 * set beyond its prefix ("192.0.2.1/24") is an error, as in Postfix.
 *
 * A struct rg_domain_list holds mail domains: "example.org" matches that
 * name exactly, ".example.org" its subdomains only (rg_domain_matches in
 * address.h). Address literals ("[192.0.2.1]", "[IPv6:2001:db8::1]") may be
 * listed too; they match a recipient's literal by address.
 *
 * List values are items separated by commas and/or white space. An item
 * "file:/path" reads more items from that file (same separators, one or
 * more per line, '#' starts a comment; files do not nest). Every error is
 * reported as "FILE:LINE: what is wrong", naming the included file and its
 * line when the bad item came from one.
 *
 * Usage:
 *	struct rg_cidr_list nets = {0};
 *	char err[RG_NETMATCH_ERRLEN];
 *	if (rg_cidr_list_parse(&nets, "127.0.0.0/8, ::1", "x.conf", 3,
 *	    err, sizeof(err)) != 0)
 *		msg_error("%s", err);
 *	if (rg_cidr_list_match_sockaddr(&nets, sa)) ...
 *	rg_cidr_list_free(&nets);
 */
#ifndef RELAYGUARD_NETMATCH_H
#define RELAYGUARD_NETMATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define RG_NETMATCH_ERRLEN	512

struct rg_cidr {
	int family;			/* AF_INET or AF_INET6 */
	unsigned prefix;		/* 0..32 or 0..128 */
	unsigned char addr[16];		/* network, host bits zero */
};

struct rg_cidr_list {
	struct rg_cidr *v;
	size_t n, cap;
};

struct rg_domain_list {
	char **names;			/* lowercased, no trailing dot */
	size_t n, cap;
	struct rg_cidr_list literals;	/* listed address literals (hosts) */
};

/* One item "192.0.2.0/24", "2001:db8::1", "[2001:db8::1]/64". 0 or -1 with
 * a message (no position) in err. */
int rg_cidr_parse(const char *text, struct rg_cidr *out, char *err,
    size_t errlen);

/* Append the items of value (see above). file/line say where value was
 * written, for messages. 0, or -1 with "file:line: ..." in err. */
int rg_cidr_list_parse(struct rg_cidr_list *list, const char *value,
    const char *file, int line, char *err, size_t errlen);
void rg_cidr_list_add(struct rg_cidr_list *list, const struct rg_cidr *c);
bool rg_cidr_list_match(const struct rg_cidr_list *list, int family,
    const unsigned char *addr);
/* AF_INET / AF_INET6 sockaddr; anything else (or NULL) never matches. */
bool rg_cidr_list_match_sockaddr(const struct rg_cidr_list *list,
    const struct sockaddr *sa);
/* Textual address ("192.0.2.1", "2001:db8::1"); false when unparseable. */
bool rg_cidr_list_match_text(const struct rg_cidr_list *list, const char *ip);
void rg_cidr_list_free(struct rg_cidr_list *list);

int rg_domain_list_parse(struct rg_domain_list *list, const char *value,
    const char *file, int line, char *err, size_t errlen);
/* domain as rg_address_parse leaves it: a name, or "[...]" with literal_ip
 * the canonical address text (may be NULL for names). */
bool rg_domain_list_match(const struct rg_domain_list *list,
    const char *domain, const char *literal_ip);
void rg_domain_list_free(struct rg_domain_list *list);

/* Split value into items and call fn(item, file, line, ctx) for each,
 * expanding "file:/path" items. fn returns 0 or -1 with a message (no
 * position) in err; this function adds the position. Used by both list
 * types and by config.c for other list-valued keys. */
typedef int (*rg_list_item_fn)(const char *item, void *ctx, char *err,
    size_t errlen);
int rg_list_walk(const char *value, const char *file, int line,
    rg_list_item_fn fn, void *ctx, char *err, size_t errlen);

#endif

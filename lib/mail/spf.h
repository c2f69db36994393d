/*
 * spf.h - SPF checks (RFC 7208) with libspf2 over relayguard's own resolver.
 *
 * libspf2 never touches the network itself: its DNS layer here is a
 * SPF_dns_server_t whose lookup function calls rg_dns_query() (dns.h), so SPF
 * shares the nameserver, timeouts, deadline, hold-down and cache with every
 * other lookup. libspf2's own resolv/cache layers are never created.
 *
 *	struct rg_spf *spf = rg_spf_new(dns, "mx.example.net");  (once, shared)
 *	struct rg_spf_result r;
 *	rg_spf_check(spf, "192.0.2.1", "mail.example.org", "a@example.org", &r);
 *	... r.result, r.explanation, r.received_spf ...
 *
 * One SPF_server_t per struct rg_spf, shared by all threads; one
 * SPF_request_t per check. Every check runs under a DNS deadline (the
 * thread's rg_dns deadline or rg_spf's own budget, whichever comes first),
 * so a dead DNS server gives temperror in bounded time.
 *
 * Hostile input: Debian's libspf2 1.2.10-7.2 has no fix for CVE-2023-42118
 * (macro parsing). Before a TXT record reaches libspf2 the DNS layer checks
 * it: printable US-ASCII only, at most 2048 bytes, and every macro must match
 * RFC 7208 7.1 strictly (a known letter, at most 3 digits <= 128, optional
 * "r", known delimiters). An SPF record that fails is replaced by one that
 * libspf2 rejects as a permerror, an explanation TXT that fails is dropped;
 * both are logged. Identities (HELO, MAIL FROM) are checked the same way
 * before they are given to libspf2.
 */
#ifndef RELAYGUARD_SPF_H
#define RELAYGUARD_SPF_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/net/dns.h"

enum rg_spf_res {
	RG_SPF_NONE = 0,
	RG_SPF_NEUTRAL,
	RG_SPF_PASS,
	RG_SPF_FAIL,
	RG_SPF_SOFTFAIL,
	RG_SPF_TEMPERROR,
	RG_SPF_PERMERROR,
};

struct rg_spf_result {
	enum rg_spf_res result;
	char domain[RG_DNS_NAME_MAX];	/* the domain whose record was checked */
	char identity[16];		/* "mailfrom" or "helo" */
	char explanation[512];		/* why, for logs and reports */
	char received_spf[1024];	/* Received-SPF field value, RFC 7208 9.1 */
	bool unsafe_record;		/* a record was refused as hostile */
};

struct rg_spf;

/* receiver: this host's name for the Received-SPF "receiver" key and %{r};
 * NULL gives "localhost". The rg_dns must outlive the rg_spf. */
struct rg_spf *rg_spf_new(struct rg_dns *dns, const char *receiver);
void rg_spf_free(struct rg_spf *spf);

/* Seconds one check may spend on DNS at most (default 5). */
void rg_spf_set_budget(struct rg_spf *spf, double seconds);

/* Check ip against mail_from's domain; an empty or "<>" mail_from checks
 * postmaster@helo (RFC 7208 2.4). Angle brackets around mail_from are
 * removed. Returns r->result; bad input (not an IP, unusable names) gives
 * RG_SPF_NONE or RG_SPF_PERMERROR with the reason in explanation. */
enum rg_spf_res rg_spf_check(struct rg_spf *spf, const char *ip, const char *helo,
    const char *mail_from, struct rg_spf_result *r);

const char *rg_spf_result_name(enum rg_spf_res r);	/* "pass", "fail", ... */

/* The TXT / identity safety check described above (pure; for tests). */
bool rg_spf_text_safe(const char *txt);

#endif

/*
 * dns.h - the one resolver of relayguard (ldns), with a small TTL cache.
 *
 * A struct rg_dns holds the configuration (nameservers with ports, timeout,
 * retries) and a bounded answer cache behind a mutex. It is shared by every
 * thread: each lookup clones an ldns template resolver, because ldns_send()
 * mutates the resolver it is given (REFERENCE.md section 5).
 *
 *	struct rg_dns_opts o = RG_DNS_OPTS_DEFAULT;
 *	o.nameservers = "127.0.0.1:5353";	(NULL: /etc/resolv.conf)
 *	struct rg_dns *dns = rg_dns_new(&o, err, sizeof(err));
 *	struct rg_dns_mx_list mx;
 *	if (rg_dns_mx(dns, "example.org", &mx) == RG_DNS_OK) ...
 *
 * Time: every query tries each nameserver (in the order given) for
 * `timeout` seconds, `retries` + 1 rounds. A thread may set a deadline
 * (rg_dns_deadline_set) that caps all lookups it makes until cleared: the
 * milter sets one per RCPT so that MX, PTR, DNSBL and SPF lookups together
 * stay far below sendmail's 10 s milter reply timeout. When every nameserver
 * timed out, the resolver is "down" for `holddown` seconds: lookups then fail
 * at once with RG_DNS_TIMEOUT (cached answers are still served) and one
 * warning is logged - a dead DNS server degrades features, never stalls mail.
 *
 * Names are absolute; a trailing dot is optional. Answers never hold the
 * trailing dot and are lowercased. Every rg_dns_* lookup returns a status;
 * RG_DNS_TIMEOUT and RG_DNS_SERVFAIL are temporary ("temperror"),
 * RG_DNS_NXDOMAIN and RG_DNS_NODATA are definite negative answers.
 */
#ifndef RELAYGUARD_DNS_H
#define RELAYGUARD_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rg_dns_status {
	RG_DNS_OK = 0,
	RG_DNS_NODATA,		/* the name exists, no record of that type */
	RG_DNS_NXDOMAIN,	/* the name does not exist */
	RG_DNS_SERVFAIL,	/* SERVFAIL, REFUSED, FORMERR, a bad reply */
	RG_DNS_TIMEOUT,		/* no reply in time, deadline passed, or held down */
	RG_DNS_BADNAME,		/* the query name is not a valid domain name */
};

/* DNS record types used here (RFC 1035, 3596). */
enum { RG_DNS_T_A = 1, RG_DNS_T_CNAME = 5, RG_DNS_T_PTR = 12, RG_DNS_T_MX = 15,
	RG_DNS_T_TXT = 16, RG_DNS_T_AAAA = 28 };

struct rg_dns_opts {
	const char *nameservers;	/* "HOST[:PORT], ..." (IPv6: [addr]:port);
					 * NULL or "": /etc/resolv.conf */
	double timeout;			/* seconds per try per nameserver (1.5) */
	int retries;			/* extra rounds over the nameservers (1) */
	size_t cache_entries;		/* 0 disables the cache (256) */
	unsigned max_ttl;		/* cap on cached TTLs, seconds (3600) */
	unsigned negative_ttl;		/* NXDOMAIN/NODATA without SOA (60) */
	double holddown;		/* seconds "down" after all timed out (5) */
};
#define RG_DNS_OPTS_DEFAULT { NULL, 1.5, 1, 256, 3600, 60, 5.0 }

struct rg_dns;

/* NULL (with err set) when a nameserver is malformed or resolv.conf unusable. */
struct rg_dns *rg_dns_new(const struct rg_dns_opts *o, char *err, size_t errlen);
void rg_dns_free(struct rg_dns *dns);

/* The nameservers in use, "127.0.0.1:5353, [::1]:53", for logs. */
const char *rg_dns_describe(const struct rg_dns *dns);

/* Per-thread deadline on rg_now() (log.h) for every lookup of this thread;
 * 0 clears it. rg_dns_deadline_in(s) = set(rg_now() + s). */
void rg_dns_deadline_set(double deadline);
void rg_dns_deadline_in(double seconds);
double rg_dns_deadline_get(void);

/* Statistics (for logs and tests). */
struct rg_dns_stats {
	unsigned long queries, cache_hits, timeouts, held_down;
};
void rg_dns_stats(struct rg_dns *dns, struct rg_dns_stats *out);

/* Who else counts lookups (the milter's Prometheus counters, which this
 * floor knows nothing of): lookup() after each network lookup (its time,
 * and whether it timed out), cache_hit() on each answer from the cache,
 * from any thread. Set once at start, before any lookup; NULL (the
 * default) or NULL members count nothing. */
struct rg_dns_observer {
	void (*lookup)(double seconds, bool timeout);
	void (*cache_hit)(void);
};
void rg_dns_observe(const struct rg_dns_observer *obs);

const char *rg_dns_status_name(enum rg_dns_status s);
bool rg_dns_status_temporary(enum rg_dns_status s);

/* --- raw answers ------------------------------------------------------ */

struct rg_dns_rr {
	uint16_t type;
	uint32_t ttl;
	uint16_t pref;			/* MX preference */
	int family;			/* A/AAAA: AF_INET or AF_INET6 */
	unsigned char addr[16];		/* A/AAAA in network order */
	char *text;	/* A/AAAA: address text; MX/PTR/CNAME: name (lowercase, no
			 * trailing dot; "" for the root, i.e. null MX); TXT: the
			 * character-strings concatenated (RFC 7208 3.3), NUL
			 * bytes replaced by '?' */
};

struct rg_dns_answer {
	enum rg_dns_status status;
	uint32_t ttl;			/* TTL of the set (negative TTL too) */
	bool from_cache;
	size_t n;
	struct rg_dns_rr *rr;
};

/* One query; follows CNAMEs inside the answer section (at most 8). The
 * answer is the caller's: rg_dns_answer_free(). */
enum rg_dns_status rg_dns_query(struct rg_dns *dns, const char *name, uint16_t type,
    struct rg_dns_answer *out);
void rg_dns_answer_free(struct rg_dns_answer *a);

/* --- mail lookups ----------------------------------------------------- */

#define RG_DNS_NAME_MAX 256
#define RG_DNS_MX_MAX	32
#define RG_DNS_ADDR_MAX	32

struct rg_dns_mx {
	uint16_t pref;
	char host[RG_DNS_NAME_MAX];
};

struct rg_dns_mx_list {
	bool null_mx;		/* RFC 7505: "MX 0 ." - the domain takes no mail */
	bool implicit;		/* no MX: the domain itself (RFC 5321 5.1) */
	size_t n;
	struct rg_dns_mx mx[RG_DNS_MX_MAX];
};

/* MX set sorted by preference (ties by name, so the order is stable).
 * NODATA becomes RG_DNS_OK with implicit = true and the domain as the one
 * host when the domain has an A or AAAA record. */
enum rg_dns_status rg_dns_mx(struct rg_dns *dns, const char *domain,
    struct rg_dns_mx_list *out);
void rg_dns_mx_sort(struct rg_dns_mx *mx, size_t n);	/* pure */

struct rg_dns_addr_list {
	size_t n;
	char addr[RG_DNS_ADDR_MAX][64];	/* text form, A records first */
};

/* A and AAAA of name: OK when at least one was found; a temporary failure
 * of one type with an answer of the other still counts as OK. */
enum rg_dns_status rg_dns_addrs(struct rg_dns *dns, const char *name,
    struct rg_dns_addr_list *out);

struct rg_dns_name_list {
	size_t n;
	char name[8][RG_DNS_NAME_MAX];
};

/* PTR names of an address (IPv4 or IPv6 text). */
enum rg_dns_status rg_dns_ptr(struct rg_dns *dns, const char *ip,
    struct rg_dns_name_list *out);

enum rg_fcrdns { RG_FCRDNS_NONE, RG_FCRDNS_PASS, RG_FCRDNS_FAIL, RG_FCRDNS_TEMPERROR };
const char *rg_fcrdns_name(enum rg_fcrdns f);

/* Forward-confirmed reverse DNS: a PTR name whose A/AAAA holds ip again.
 * ptr_name gets the confirmed name (PASS) or the first PTR name (FAIL). */
enum rg_fcrdns rg_dns_fcrdns(struct rg_dns *dns, const char *ip, char *ptr_name,
    size_t len);

/* TXT strings of name, each concatenated (at most 8 records). */
enum rg_dns_status rg_dns_txt(struct rg_dns *dns, const char *name, char ***txt,
    size_t *n);
void rg_dns_txt_free(char **txt, size_t n);

/* --- DNSBL (RFC 5782) -------------------------------------------------- */

/* "4.3.2.1.zone" for 1.2.3.4, 32 nibbles + zone for IPv6; zone NULL gives
 * in-addr.arpa / ip6.arpa. -1 on a bad address or when len is too small. */
int rg_dns_reverse_name(const char *ip, const char *zone, char *buf, size_t len);

struct rg_dnsbl_result {
	enum rg_dns_status status;	/* of the A query */
	bool listed;			/* an A answer inside 127.0.0.0/8 */
	char codes[128];		/* "127.0.0.2 127.0.0.4" */
	char reason[256];		/* TXT as published (cut): untrusted, see textclean.h */
};

/* Query zone for ip. Answers outside 127.0.0.0/8 and 127.255.255.0/24 (the
 * "query refused" codes of several lists) do not count as a listing. */
enum rg_dns_status rg_dnsbl_query(struct rg_dns *dns, const char *ip, const char *zone,
    struct rg_dnsbl_result *out);

/* --- helpers (pure) ---------------------------------------------------- */

/* Parse "HOST[:PORT]" / "[v6]:PORT" / "v6" into address text and port
 * (default 53). 0 ok, -1 with err. */
int rg_dns_parse_nameserver(const char *spec, char *addr, size_t addrlen, int *port,
    char *err, size_t errlen);
/* Syntax check of a domain name (labels 1-63, total <= 253, printable
 * ASCII without spaces, no empty label). A trailing dot is allowed. */
bool rg_dns_name_valid(const char *name);

#endif

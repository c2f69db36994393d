/*
 * resolve.c - names to addresses for relayguard-audit's targets: whether a
 * target's name resolves (an unresolved one is a result of its own, never
 * contacted), and an --mx domain's MX hosts as targets, each through
 * audit_target_init() (targets.c) like every other target.
 */
#include "audit.h"
#include "lib/net/dns.h"
#include "lib/net/fiber.h"
#include "lib/base/hostport.h"
#include "lib/base/log.h"
#include "lib/base/util.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

bool audit_target_resolves(const struct audit_target *t, char *why, size_t len)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	int rc;

	if (t->unresolved)
		return false;
	if (rg_is_ip(t->host))
		return true;
	rc = rg_fiber_getaddrinfo(t->host, NULL, &hints, &res);
	if (res != NULL)
		freeaddrinfo(res);
	if (rc == 0)
		return true;
	snprintf(why, len, "cannot resolve %s: %s", t->host, gai_strerror(rc));
	return false;
}

void audit_target_unresolved(struct audit_target *t, const char *why)
{
	gettimeofday(&t->start, NULL);
	t->finish = t->start;
	t->unresolved = true;
	t->verdict = VERDICT_UNREACHABLE;
	snprintf(t->error, sizeof(t->error), "%s", why);
	snprintf(t->verdict_reason, sizeof(t->verdict_reason), "not audited: %s", why);
}

/* --mx DOMAIN: its MX hosts' addresses as targets (here, beside
 * audit_target_init(), which each of them goes through). */
static bool have_address(struct audit_target *tg, size_t n, const char *addr)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(tg[i].host, addr) == 0)
			return true;
	return false;
}

int audit_mx_targets(const char *domain, const struct audit_opts *o,
    struct audit_target **targets, size_t *n, char *err, size_t errlen)
{
	struct rg_dns_mx_list mx;
	enum rg_dns_status s;
	size_t before = *n;

	if (!rg_dns_name_valid(domain)) {
		snprintf(err, errlen, "--mx %s: not a domain name", domain);
		return -1;
	}
	s = rg_dns_mx(o->dns, domain, &mx);
	if (s != RG_DNS_OK) {
		snprintf(err, errlen, "--mx %s: MX lookup failed: %s", domain,
		    rg_dns_status_name(s));
		return -1;
	}
	if (mx.null_mx) {
		snprintf(err, errlen, "--mx %s: null MX (RFC 7505): the domain accepts no "
		    "mail, nothing to audit", domain);
		return 1;
	}
	for (size_t i = 0; i < mx.n; i++) {
		struct rg_dns_addr_list addrs;

		s = rg_dns_addrs(o->dns, mx.mx[i].host, &addrs);
		if (s != RG_DNS_OK) {
			msg_warn("--mx %s: MX %u %s has no address: %s", domain, mx.mx[i].pref,
			    mx.mx[i].host, rg_dns_status_name(s));
			continue;
		}
		for (size_t k = 0; k < addrs.n; k++) {
			char spec[80], perr[400];
			struct audit_target *t;

			if (have_address(*targets, *n, addrs.addr[k]))
				continue;
			snprintf(spec, sizeof(spec), strchr(addrs.addr[k], ':') ? "[%s]" : "%s",
			    addrs.addr[k]);
			*targets = xrealloc(*targets, (*n + 1) * sizeof(**targets));
			t = &(*targets)[*n];
			if (audit_target_init(spec, o->port, false, t, perr, sizeof(perr)) != 0) {
				msg_warn("--mx %s: %s", domain, perr);
				continue;
			}
			strlcpy_rg(t->mail_domain, domain, sizeof(t->mail_domain));
			rg_lowercase(t->mail_domain);
			strlcpy_rg(t->mx_host, mx.mx[i].host, sizeof(t->mx_host));
			t->mx_pref = mx.implicit ? -1 : mx.mx[i].pref;
			(*n)++;
		}
	}
	if (*n == before) {
		snprintf(err, errlen, "--mx %s: no MX host has a usable address", domain);
		return -1;
	}
	return 0;
}

/*
 * dnsfacts.c - what DNS says about a target: its MX role (--mx), PTR and
 * forward-confirmed reverse DNS, DNSBL listings (--dnsbl) and whether its
 * address is authorised by the SPF record of the domain it serves.
 *
 * An open relay inside a domain's SPF lets anyone send mail "from" that
 * domain that passes SPF: the verdict reason says so and the severity is
 * raised to critical (audit_severity()).
 */
#include "audit.h"
#include "relayguard/hostport.h"
#include "relayguard/log.h"
#include "relayguard/util.h"

#include <stdio.h>
#include <string.h>

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

static void check_dnsbl(struct audit_target *t, const struct audit_opts *o, const char *ip)
{
	t->dnsbl = o->ndnsbl ? xcalloc(o->ndnsbl, sizeof(*t->dnsbl)) : NULL;
	for (size_t i = 0; i < o->ndnsbl; i++) {
		struct rg_dnsbl_result r;
		struct dnsbl_fact *f = &t->dnsbl[t->ndnsbl++];

		strlcpy_rg(f->zone, o->dnsbl[i], sizeof(f->zone));
		f->status = rg_dnsbl_query(o->dns, ip, o->dnsbl[i], &r);
		f->listed = r.listed;
		strlcpy_rg(f->codes, r.codes, sizeof(f->codes));
		strlcpy_rg(f->reason, r.reason, sizeof(f->reason));
	}
}

static void check_spf(struct audit_target *t, const struct audit_opts *o, const char *ip)
{
	const char *domain = t->mail_domain[0] ? t->mail_domain : o->spf_domain;
	char from[RG_DNS_NAME_MAX + 16];

	if (domain == NULL || domain[0] == '\0')
		return;
	/* Would mail "from" the domain, sent through this host, pass SPF? */
	snprintf(from, sizeof(from), "postmaster@%s", domain);
	rg_spf_check(o->spf, ip, domain, from, &t->spf);
	t->spf_checked = true;
	if (t->verdict == VERDICT_OPEN_RELAY && t->spf.result == RG_SPF_PASS) {
		size_t used = strlen(t->verdict_reason);

		t->spf_authorised_relay = true;
		snprintf(t->verdict_reason + used, sizeof(t->verdict_reason) - used,
		    "; the relay's address %s is authorised by the SPF record of %s, so "
		    "anyone can send mail from @%s through it that passes SPF", ip,
		    t->spf.domain, t->spf.domain);
	}
}

void audit_dns_ptr(struct audit_target *t, const struct audit_opts *o)
{
	const char *ip = t->address[0] ? t->address : rg_is_ip(t->host) ? t->host : NULL;

	if (o->dns == NULL || ip == NULL)
		return;
	t->fcrdns = rg_dns_fcrdns(o->dns, ip, t->ptr, sizeof(t->ptr));
	t->ptr_checked = true;
}

void audit_dns_facts(struct audit_target *t, const struct audit_opts *o)
{
	const char *ip = t->address[0] ? t->address : rg_is_ip(t->host) ? t->host : NULL;

	if (o->dns == NULL || ip == NULL)
		return;
	t->dns_checked = true;
	if (!t->ptr_checked)
		audit_dns_ptr(t, o);
	check_dnsbl(t, o, ip);
	check_spf(t, o, ip);
}

/*
 * dnsfacts.c - what DNS says about a target: PTR and
 * forward-confirmed reverse DNS, DNSBL listings (--dnsbl) and whether its
 * address is authorised by the SPF record of the domain it serves.
 *
 * An open relay inside a domain's SPF lets anyone send mail "from" that
 * domain that passes SPF: the verdict reason says so and the severity is
 * raised to critical (audit_severity()).
 */
#include "audit.h"
#include "lib/base/hostport.h"
#include "lib/base/log.h"
#include "lib/base/util.h"

#include <stdio.h>
#include <string.h>

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

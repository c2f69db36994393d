/*
 * destination.c - the second destination (issue 17 item 5). A server that
 * relays towards the -d domain may do so because that domain is one it
 * relays for by configuration (Postfix relay_domains: it is a backup MX
 * for it), not because it relays for anybody. session.c runs every probe
 * accepted towards -d once more towards --second-domain, a domain no
 * server relays for by design; here those answers become the finding
 * "relays only for DOMAIN" and its advice, which is about that one
 * setting, never the plain open-relay fix (applying that changes nothing).
 */
#include "audit.h"
#include "lib/base/util.h"

#include <stdio.h>
#include <string.h>

/*
 * A refusal of the relay recipient itself: 5.1.x is about the address
 * (5.1.2 no such domain, 5.1.10 null MX), not about relaying, so it does
 * not tell the two destinations apart; without an enhanced code, a 5xx
 * is what every MTA answers to a relay it refuses.
 */
static bool refused_as_relay(const struct audit_second *s)
{
	return s->tried && s->outcome == OUT_REJECTED && strncmp(s->enhanced, "5.1.", 4) != 0;
}

bool grade_second_destination(struct audit_target *t)
{
	size_t evidence = 0;

	t->n_second_tried = t->n_second_accepted = t->n_second_refused = 0;
	for (size_t i = 0; i < t->nprobes; i++) {
		const struct audit_probe *p = &t->probes[i];

		if (!probe_is_evidence(t, p))
			continue;
		evidence++;
		t->n_second_tried += p->second.tried;
		t->n_second_accepted += p->second.tried && p->second.outcome == OUT_ACCEPTED;
		t->n_second_refused += refused_as_relay(&p->second);
	}
	/* every form that relays towards -d, tried and refused as a relay
	 * towards the second domain: one of them relaying there is enough
	 * to make it an open relay, one untested leaves it one */
	return t->second_domain[0] != '\0' && evidence > 0 &&
	    t->n_second_refused == evidence;
}

void second_destination_note(const struct audit_target *t, char *why, size_t whylen)
{
	size_t used = strlen(why);

	if (t->n_second_tried == 0 || used + 1 >= whylen)
		return;
	if (t->n_second_accepted > 0)
		snprintf(why + used, whylen - used, "; towards the second domain %s too "
		    "(%zu of %zu tried accepted): it relays for any domain",
		    t->second_domain, t->n_second_accepted, t->n_second_tried);
	else
		snprintf(why + used, whylen - used, "; towards the second domain %s: "
		    "%zu tried, %zu refused as relaying, the others not answered "
		    "definitively: relaying only for %s is not proven", t->second_domain,
		    t->n_second_tried, t->n_second_refused, t->domain);
}

/* What makes each MTA relay for one outside domain, and what to do. */
static const struct {
	enum mta_kind mta;
	const char *advice;
} advice[] = {
	{MTA_POSTFIX, "the domain is in relay_domains (or transport_maps routes it "
	    "here): keep it only if this host is a backup MX or gateway for that "
	    "domain, with its valid recipients in relay_recipient_maps; otherwise "
	    "remove it: postconf relay_domains; postconf -e 'relay_domains = "
	    "<your own relay domains>'; postfix reload. mynetworks and the relay "
	    "restrictions are not the cause."},
	{MTA_EXIM, "the domain is in relay_to_domains (Debian: dc_relay_domains in "
	    "/etc/exim4/update-exim4.conf.conf): keep it only for a domain this "
	    "host is a backup MX for; otherwise remove it, update-exim4.conf && "
	    "systemctl restart exim4."},
	{MTA_SENDMAIL, "the domain is in /etc/mail/relay-domains or has a "
	    "\"To:domain RELAY\" entry in /etc/mail/access: keep it only for a "
	    "domain this host is a backup MX for; otherwise remove it, make -C "
	    "/etc/mail && systemctl restart sendmail."},
	{MTA_OPENSMTPD, "a rule such as 'match from any for domain <domain> action "
	    "\"relay\"' in /etc/smtpd.conf: keep it only for a domain this host is "
	    "a backup MX for (with a recipient list); otherwise remove it, smtpd -n, "
	    "systemctl restart opensmtpd."},
	{MTA_HARAKA, "the relay plugin's dest_domains (config/relay_dest_domains.ini, "
	    "action \"accept\") or a queue route for the domain: keep it only for a "
	    "domain this host is a backup MX for; otherwise remove its entry and "
	    "restart Haraka."},
	{MTA_COURIER, "the domain is in esmtpacceptmailfor.dir (or hosteddomains) "
	    "and routed on: keep it only for a domain this host is a backup MX for; "
	    "otherwise remove it, makeacceptmailfor, and restart courier."},
	{MTA_UNKNOWN, "the server is configured to relay for that domain (a relay "
	    "domain, backup MX or transport entry): keep it only if this host is a "
	    "backup MX or gateway for the domain; otherwise remove the entry."},
};

const char *domain_relay_advice(const struct audit_target *t)
{
	if (t->verdict != VERDICT_DOMAIN_RELAY)
		return NULL;
	for (size_t i = 0; i < RG_NELEM(advice); i++)
		if (advice[i].mta == t->mta)
			return advice[i].advice;
	return advice[RG_NELEM(advice) - 1].advice;
}

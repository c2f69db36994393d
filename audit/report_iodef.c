/* report_iodef.c - IODEF 2.0 writer (libxml2 xmlTextWriter, building blocks
 * in lib/mail/iodef_write.c); see report_iodef.h. */
#include "report_iodef.h"
#include "lib/base/i18n.h"
#include "lib/mail/iodef_write.h"
#include "lib/base/log.h"
#include "lib/base/util.h"

#include <stdlib.h>
#include <string.h>


const char *iodef_tlp_restriction(const char *tlp, const char **restriction)
{
	return rg_iodef_tlp_restriction(tlp, restriction);
}

/* The probe whose lines decide the case: the first relay probe that got
 * DATA taken, else the first accepted relay probe. */
static const struct audit_probe *decisive_probe(const struct audit_target *t)
{
	const struct audit_probe *first = NULL;

	for (size_t i = 0; i < t->nprobes; i++) {
		const struct audit_probe *p = &t->probes[i];

		if (!probe_is_relay(p) || p->outcome != OUT_ACCEPTED)
			continue;
		if (p->data == DATA_TAKEN)
			return p;
		if (first == NULL)
			first = p;
	}
	return first;
}

static bool tv_le(const struct timeval *a, const struct timeval *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_usec <= b->tv_usec);
}

static int write_record(xmlTextWriterPtr w, const struct audit_target *t,
    const struct audit_probe *p)
{
	char ts[RG_TIME_ISO_LEN], line[1200];
	int rc = 0;

	rc |= rg_iodef_start(w, "Record");
	rc |= rg_iodef_start(w, "RecordData");
	rc |= rg_iodef_elem(w, "DateTime", rg_time_iso8601(&p->start, ts, sizeof(ts)));
	snprintf(line, sizeof(line), _("SMTP transcript of probe %s (%s): the server "
	    "accepted a recipient outside its domains from an untrusted client"),
	    p->spec.id, p->spec.trick->exploits);
	rc |= rg_iodef_elem(w, "Description", line);
	rc |= rg_iodef_start(w, "Application");
	rc |= rg_iodef_elem(w, "Description", "relayguard-audit");
	rc |= rg_iodef_end(w);
	/* The banner first, then every line of the decisive probe. */
	for (size_t i = 0; i < t->ntx; i++) {
		const struct tx_line *l = &t->tx[i];
		bool banner = i < 4 && l->dir == '<' && strncmp(l->line, "220", 3) == 0;
		bool inside = tv_le(&p->start, &l->when) && tv_le(&l->when, &p->finish);

		if (!banner && !inside)
			continue;
		snprintf(line, sizeof(line), "%s %c %s",
		    rg_time_iso8601(&l->when, ts, sizeof(ts)), l->dir, l->line);
		rc |= rg_iodef_start(w, "RecordItem");
		rc |= rg_iodef_attr(w, "dtype", "string");
		rc |= rg_iodef_text(w, line);
		rc |= rg_iodef_end(w);
	}
	rc |= rg_iodef_end(w);
	rc |= rg_iodef_end(w);
	return rc;
}

/* What the receiver of the report should do, by verdict. */
static int write_expectation(xmlTextWriterPtr w, const struct audit_target *t)
{
	char buf[1600];
	const char *action;
	int rc = rg_iodef_start(w, "Expectation");

	switch (t->verdict) {
	case VERDICT_OPEN_RELAY: {
		char *fix = mta_remedy_string(t);

		action = "harden-asset";
		snprintf(buf, sizeof(buf), _("Fix the relay: refuse relaying for clients "
		    "outside your own networks; until then, block the abusing clients. "
		    "Recommended fix (%s):\n%s"), mta_name(t->mta), fix);
		free(fix);
		break;
	}
	case VERDICT_ACCEPT_ALL:
		/* the text report's banner word, not "inconclusive": the test
		 * did settle it */
		action = "investigate";
		snprintf(buf, sizeof(buf), _("Investigate: %s - the server accepts any "
		    "recipient, but the message was not relayed: %s"),
		    _("ACCEPT-ALL (not a relay at DATA)"), t->verdict_reason);
		break;
	case VERDICT_INCONCLUSIVE:
		action = "investigate";
		snprintf(buf, sizeof(buf), _("Investigate and re-test: the relay test "
		    "was inconclusive (%s): %s"), verdict_name(t->verdict), t->verdict_reason);
		break;
	case VERDICT_DOMAIN_RELAY:
		action = "investigate";
		snprintf(buf, sizeof(buf), _("Investigate: the server relays only for %s "
		    "(%s): %s"), t->domain, verdict_name(t->verdict), domain_relay_advice(t));
		break;
	case VERDICT_UNREACHABLE:
		action = "nothing";
		snprintf(buf, sizeof(buf), _("None: the server could not be tested (%s)"),
		    t->error[0] ? t->error : t->verdict_reason);
		break;
	case VERDICT_CLOSED:
	default:
		action = "nothing";
		snprintf(buf, sizeof(buf), _("None: the server refuses to relay (%s)"),
		    t->verdict_reason);
		break;
	}
	rc |= rg_iodef_attr(w, "action", action);
	if (t->verdict == VERDICT_OPEN_RELAY)
		rc |= rg_iodef_attr(w, "severity", "high");
	rc |= rg_iodef_elem(w, "Description", buf);
	return rc | rg_iodef_end(w);
}

/* The target MTA, with the DNS facts as AdditionalData. */
static int write_target(xmlTextWriterPtr w, const struct audit_target *t)
{
	char buf[1200];
	int rc = rg_iodef_system_open(w, "target", t->address, t->address[0] ? NULL :
	    t->host, t->port);

	snprintf(buf, sizeof(buf), _("mail server %s (%s); SMTP banner: %s"), t->host,
	    mta_name(t->mta), t->banner[0] ? t->banner : "-");
	rc |= rg_iodef_elem(w, "Description", buf);
	if (t->mx_host[0]) {
		if (t->mx_pref < 0)
			snprintf(buf, sizeof(buf), "%s: no MX, implicit MX (its address)",
			    t->mail_domain);
		else
			snprintf(buf, sizeof(buf), "%s MX %d %s", t->mail_domain,
			    t->mx_pref, t->mx_host);
		rc |= rg_iodef_data(w, "mx", buf);
	}
	if (t->dns_checked) {
		snprintf(buf, sizeof(buf), "%s (FCrDNS %s)", t->ptr[0] ? t->ptr : "-",
		    rg_fcrdns_name(t->fcrdns));
		rc |= rg_iodef_data(w, "ptr", buf);
		for (size_t i = 0; i < t->ndnsbl; i++) {
			const struct dnsbl_fact *f = &t->dnsbl[i];

			snprintf(buf, sizeof(buf), "%s: %s%s%s%s", f->zone,
			    f->listed ? "listed " : "not listed", f->listed ? f->codes : "",
			    f->reason[0] ? " " : "", f->reason);
			rc |= rg_iodef_data(w, "dnsbl", buf);
		}
	}
	if (t->starttls_failed[0]) {	/* --starttls auto fell back to clear */
		snprintf(buf, sizeof(buf), "STARTTLS handshake failed (%s): audited in clear",
		    t->starttls_failed);
		rc |= rg_iodef_data(w, "starttls", buf);
	}
	if (t->spf_checked) {
		snprintf(buf, sizeof(buf), "%s for %s: %s - %s%s", t->spf.domain,
		    t->address[0] ? t->address : t->host, rg_spf_result_name(t->spf.result),
		    t->spf.explanation, t->spf_authorised_relay ?
		    " (an open relay authorised by SPF)" : "");
		rc |= rg_iodef_data(w, "spf", buf);
	}
	return rc | rg_iodef_end(w);
}

static const char *impact_severity(const char *s)
{
	if (strcmp(s, "critical") == 0 || strcmp(s, "high") == 0)
		return "high";
	if (strcmp(s, "medium") == 0)
		return "medium";
	if (strcmp(s, "low") == 0)
		return "low";
	return NULL;
}

static int write_incident(xmlTextWriterPtr w, const struct audit_target *t,
    const struct audit_opts *o, const char *restriction)
{
	char ts[RG_TIME_ISO_LEN], id[400], buf[1600], name[256];
	bool open = t->verdict == VERDICT_OPEN_RELAY;
	const struct audit_probe *p = decisive_probe(t);
	const char *sev = audit_severity(t), *isev = impact_severity(sev);
	int rc = 0;

	rc |= rg_iodef_start(w, "Incident");
	rc |= rg_iodef_attr(w, "purpose", open ? "mitigation" : "reporting");
	rc |= rg_iodef_attr(w, "status", "new");
	rc |= rg_iodef_attr(w, "restriction", restriction);
	snprintf(id, sizeof(id), "open-relay-%s-%d-%ld", t->address[0] ? t->address :
	    t->host, t->port, (long)t->start.tv_sec);
	rc |= rg_iodef_start(w, "IncidentID");
	rc |= rg_iodef_attr(w, "name", rg_iodef_incident_name(o->reporter, name, sizeof(name)));
	rc |= rg_iodef_text(w, id);
	rc |= rg_iodef_end(w);
	rc |= rg_iodef_elem(w, "DetectTime", rg_time_iso8601(&t->start, ts, sizeof(ts)));
	rc |= rg_iodef_elem(w, "GenerationTime", rg_time_iso8601(NULL, ts, sizeof(ts)));
	snprintf(buf, sizeof(buf), "%s: %s %s port %d (%s): %s",
	    open ? _("Open mail relay") : _("Mail relay test"), _("mail server"),
	    t->host, t->port, mta_name(t->mta), t->verdict_reason);
	rc |= rg_iodef_elem(w, "Description", buf);
	rc |= rg_iodef_start(w, "Discovery");
	rc |= rg_iodef_attr(w, "source", "audit");
	snprintf(buf, sizeof(buf), _("relayguard-audit: %zu SMTP probes in %d sessions "
	    "from %s, probe domain %s; no message was completed (no final dot sent); "
	    "%zu relay probes: %zu accepted, %zu refused, %zu untested (%zu of them "
	    "relay-relevant)"), t->nprobes, t->sessions, t->vantage[0] ? t->vantage : "-",
	    o->domain, t->n_relay, t->n_accepted, t->n_refused, t->n_untested,
	    t->n_untested_relevant);
	rc |= rg_iodef_elem(w, "Description", buf);
	rc |= rg_iodef_end(w);
	rc |= rg_iodef_start(w, "Assessment");
	rc |= rg_iodef_attr(w, "occurrence", open ? "potential" : "actual");
	rc |= rg_iodef_start(w, "SystemImpact");
	if (isev)
		rc |= rg_iodef_attr(w, "severity", isev);
	rc |= rg_iodef_attr(w, "type", open ? "takeover-service" : "unknown");
	rc |= rg_iodef_elem(w, "Description", open ? _("The server relays mail for anyone: "
	    "spammers can send through it, and its bounces can flood its own "
	    "postmaster") : verdict_name(t->verdict));
	rc |= rg_iodef_end(w);
	rc |= rg_iodef_data(w, "severity", sev);
	rc |= rg_iodef_end(w);
	rc |= rg_iodef_contact(w, o->reporter, &o->clock, "relayguard-audit");
	rc |= rg_iodef_start(w, "EventData");
	rc |= rg_iodef_elem(w, "DetectTime", rg_time_iso8601(&t->start, ts, sizeof(ts)));
	rc |= rg_iodef_elem(w, "EndTime", rg_time_iso8601(&t->finish, ts, sizeof(ts)));
	rc |= rg_iodef_start(w, "Flow");
	if (t->vantage[0])
		rc |= rg_iodef_system(w, "source", t->vantage, NULL, 0, _("vantage point: "
		    "relayguard-audit connected from this address (test traffic, not "
		    "an attack)"));
	rc |= write_target(w, t);
	rc |= rg_iodef_end(w);	/* Flow */
	rc |= write_expectation(w, t);
	if (p)
		rc |= write_record(w, t, p);
	rc |= rg_iodef_end(w);	/* EventData */
	rc |= rg_iodef_clock(w, &o->clock);
	/* relay probes refused before RCPT (HELO/MAIL) or not answered */
	snprintf(buf, sizeof(buf), "%zu", t->n_untested);
	rc |= rg_iodef_start(w, "AdditionalData");
	rc |= rg_iodef_attr(w, "dtype", "integer");
	rc |= rg_iodef_attr(w, "meaning", "untested relay probes");
	rc |= rg_iodef_text(w, buf);
	rc |= rg_iodef_end(w);
	rc |= rg_iodef_end(w);	/* Incident */
	return rc;
}

/* One document, built as the targets finish (report_iodef.h). */
struct iodef_doc {
	xmlBufferPtr buf;
	xmlTextWriterPtr w;
	const struct audit_opts *o;
	const char *restriction;
	int rc;
};

struct iodef_doc *report_iodef_begin(const struct audit_opts *o)
{
	struct iodef_doc *d = xcalloc(1, sizeof(*d));

	if ((d->w = rg_iodef_begin(&d->buf, rg_i18n_lang())) == NULL) {
		free(d);
		return NULL;
	}
	d->o = o;
	d->restriction = "amber";
	if (o->tlp)
		iodef_tlp_restriction(o->tlp, &d->restriction);
	return d;
}

void report_iodef_add(struct iodef_doc *d, const struct audit_target *t)
{
	d->rc |= write_incident(d->w, t, d->o, d->restriction);
}

int report_iodef_end(struct iodef_doc *d, FILE *out)
{
	int rc = rg_iodef_finish(d->w, d->buf, d->rc, out);

	free(d);
	return rc;
}

int report_iodef(const struct audit_target *const *targets, size_t n,
    const struct audit_opts *o, FILE *out)
{
	struct iodef_doc *d = report_iodef_begin(o);

	if (d == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		report_iodef_add(d, targets[i]);
	return report_iodef_end(d, out);
}

/* notify_iodef.c - one IODEF 2.0 document per abusing source; see notify.h.
 *
 * Incident purpose "mitigation" (contact request) or "reporting", the
 * reporter as Contact role creator, a Flow with the abusing client as the
 * source System (port when known) and our mail server as the target System
 * (port 25 by default), an Expectation for the requested action (info:
 * nothing; question: investigate; contact: contact-source-site), the
 * syslog-form excerpt as RecordItems, the clock state as AdditionalData,
 * restriction = TLP. Validates against schemas/iodef. */
#include "notify.h"
#include "lib/base/hostport.h"
#include "lib/base/i18n.h"
#include "lib/mail/iodef_write.h"
#include "lib/base/log.h"
#include "lib/base/util.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static char *iso_of(double t, char *buf, size_t len)
{
	struct timeval tv = notify_tv(t);

	return rg_time_iso8601(&tv, buf, len);
}

static int expectation(xmlTextWriterPtr w, const struct notify_opts *o)
{
	static const char *const action[] = {"nothing", "investigate", "contact-source-site"};
	const char *text = o->request == REQ_INFO ? _("For your information only; no "
	    "reply is needed.") : o->request == REQ_QUESTION ? _("Please check the "
	    "source host and tell us what you found.") : _("Please contact the site "
	    "responsible for the source and have the relaying stopped.");
	int rc = rg_iodef_start(w, "Expectation");

	rc |= rg_iodef_attr(w, "action", action[o->request]);
	rc |= rg_iodef_elem(w, "Description", text);
	return rc | rg_iodef_end(w);
}

static int victim(xmlTextWriterPtr w, const struct notify_opts *o)
{
	const char *v = o->victim;
	bool ip = v && rg_is_ip(v);
	bool hide = v && !ip && notify_withheld(o, RG_WITHHOLD_INTERNAL_HOSTS) &&
	    rg_reporter_internal_host(o->reporter, v);

	return rg_iodef_system(w, "target", ip ? v : NULL, v == NULL ? _("the reporter's "
	    "mail server") : hide ? _("[internal host withheld]") : ip ? NULL : v,
	    o->victim_port, _("our mail server (the relay they tried to abuse)"));
}

/* The Incident's head: its ID, the times, what happened, how it was found
 * and how bad it is. */
static int incident_head(xmlTextWriterPtr w, const struct notify_opts *o,
    const struct notify_source *s)
{
	char ts[RG_TIME_ISO_LEN], name[256], id[200], text[1200];
	int rc = 0;

	snprintf(id, sizeof(id), "relay-attempts-%s-%ld", s->key, (long)s->first);
	rc |= rg_iodef_start(w, "IncidentID");
	rc |= rg_iodef_attr(w, "name", rg_iodef_incident_name(o->reporter, name, sizeof(name)));
	rc |= rg_iodef_text(w, id);
	rc |= rg_iodef_end(w);
	rc |= rg_iodef_elem(w, "DetectTime", iso_of(s->first, ts, sizeof(ts)));
	rc |= rg_iodef_elem(w, "StartTime", iso_of(s->first, ts, sizeof(ts)));
	rc |= rg_iodef_elem(w, "EndTime", iso_of(s->last, ts, sizeof(ts)));
	rc |= rg_iodef_elem(w, "GenerationTime", rg_time_iso8601(NULL, ts, sizeof(ts)));
	snprintf(text, sizeof(text), _("Unauthorised relay attempts from %s: %ld relay "
	    "attempts (%ld refused, %ld logged while the server still relayed), %ld "
	    "recipients, %ld bounce storm(s) with %ld bounces"), s->key, s->relay_attempts,
	    s->relay_refused, s->relay_logged, s->recipients, s->storms, s->storm_bounces);
	rc |= rg_iodef_elem(w, "Description", text);
	rc |= rg_iodef_start(w, "Discovery");
	rc |= rg_iodef_attr(w, "source", "application-log");
	rc |= rg_iodef_elem(w, "Description", _("recorded by relayguard-milter at our mail "
	    "server (relay policy at RCPT, bounce-storm sensor)"));
	rc |= rg_iodef_end(w);
	rc |= rg_iodef_start(w, "Assessment");
	rc |= rg_iodef_attr(w, "occurrence", "actual");
	rc |= rg_iodef_start(w, "SystemImpact");
	rc |= rg_iodef_attr(w, "severity", s->storms > 0 || s->relay_logged > 0 ? "medium" : "low");
	rc |= rg_iodef_attr(w, "type", s->relay_logged > 0 ? "takeover-service" :
	    "unknown");
	rc |= rg_iodef_elem(w, "Description", s->relay_logged > 0 ? _("mail was relayed "
	    "through our server before it was fixed") : _("relaying was refused"));
	rc |= rg_iodef_end(w);
	rc |= rg_iodef_end(w);
	return rc;
}

/* The log excerpt as one Record, a RecordItem per line. */
static int record(xmlTextWriterPtr w, const struct notify_opts *o,
    const struct notify_source *s)
{
	char ts[RG_TIME_ISO_LEN], **lines;
	size_t n;
	int rc = 0;

	rc |= rg_iodef_start(w, "Record");
	rc |= rg_iodef_start(w, "RecordData");
	rc |= rg_iodef_elem(w, "DateTime", iso_of(s->first, ts, sizeof(ts)));
	rc |= rg_iodef_elem(w, "Description", _("relayguard-milter log excerpt (syslog form)"));
	n = notify_excerpt(o, s, &lines);
	for (size_t i = 0; i < n; i++) {
		rc |= rg_iodef_start(w, "RecordItem");
		rc |= rg_iodef_attr(w, "dtype", "string");
		rc |= rg_iodef_text(w, lines[i]);
		rc |= rg_iodef_end(w);
	}
	notify_excerpt_free(lines, n);
	rc |= rg_iodef_end(w);	/* RecordData */
	rc |= rg_iodef_end(w);	/* Record */
	return rc;
}

/* EventData: when, the Flow from the source to our server, what we
 * expect, and the excerpt. */
static int event_data(xmlTextWriterPtr w, const struct notify_opts *o,
    const struct notify_source *s)
{
	char ts[RG_TIME_ISO_LEN];
	int rc = 0;

	rc |= rg_iodef_start(w, "EventData");
	rc |= rg_iodef_elem(w, "StartTime", iso_of(s->first, ts, sizeof(ts)));
	rc |= rg_iodef_elem(w, "EndTime", iso_of(s->last, ts, sizeof(ts)));
	rc |= rg_iodef_start(w, "Flow");
	rc |= rg_iodef_system_open(w, "source", s->network[0] ? s->network : s->addrs[0],
	    NULL, (int)s->port);
	if (s->network[0])
		for (size_t i = 0; i < s->naddrs; i++)
			rc |= rg_iodef_data(w, "address", s->addrs[i]);
	if (s->client_name[0])
		rc |= rg_iodef_data(w, "reverse-dns", s->client_name);
	rc |= rg_iodef_end(w);
	rc |= victim(w, o);
	rc |= rg_iodef_end(w);	/* Flow */
	rc |= expectation(w, o);
	rc |= record(w, o, s);
	rc |= rg_iodef_end(w);	/* EventData */
	return rc;
}

int notify_iodef(const struct notify_opts *o, const struct notify_source *s, FILE *out)
{
	xmlBufferPtr buf = NULL;
	xmlTextWriterPtr w = rg_iodef_begin(&buf, rg_i18n_lang());
	const char *restriction = "amber";
	int rc = 0;

	if (w == NULL)
		return -1;
	rg_iodef_tlp_restriction(o->tlp, &restriction);
	rc |= rg_iodef_start(w, "Incident");
	rc |= rg_iodef_attr(w, "purpose", o->request == REQ_CONTACT ? "mitigation" : "reporting");
	rc |= rg_iodef_attr(w, "status", "new");
	rc |= rg_iodef_attr(w, "restriction", restriction);
	rc |= incident_head(w, o, s);
	rc |= rg_iodef_contact(w, o->reporter, &o->clock, "relayguard-report notify");
	rc |= event_data(w, o, s);
	rc |= rg_iodef_clock(w, &o->clock);
	if (o->log_clock && *o->log_clock)
		rc |= rg_iodef_data(w, "mail-server-clock", o->log_clock);
	rc |= rg_iodef_end(w);	/* Incident */
	return rg_iodef_finish(w, buf, rc, out);
}

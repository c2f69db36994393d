/* report_iodef.c - IODEF 2.0 writer (libxml2 xmlTextWriter); see report_iodef.h. */
#include "report_iodef.h"
#include "relayguard/log.h"
#include "relayguard/util.h"

#include <libxml/encoding.h>
#include <libxml/xmlwriter.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define NS "urn:ietf:params:xml:ns:iodef-2.0"

const char *iodef_tlp_restriction(const char *tlp, const char **restriction)
{
	static const char *const words[][2] = {
		{"clear", "white"}, {"white", "white"}, {"green", "green"},
		{"amber", "amber"}, {"red", "red"},
	};

	for (size_t i = 0; i < RG_NELEM(words); i++)
		if (strcasecmp(tlp, words[i][0]) == 0) {
			*restriction = words[i][1];
			return NULL;
		}
	return "is not a TLP level (clear, white, green, amber, red)";
}

/* Server bytes may be anything: XML 1.0 allows neither control characters
 * nor broken UTF-8. Keep printable ASCII and newlines, replace the rest
 * with '?'. */
static char *xml_safe(const char *s)
{
	char *c = xstrdup(s);

	for (char *p = c; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\n') || (unsigned char)*p >= 0x7f)
			*p = '?';
	return c;
}

static int elem(xmlTextWriterPtr w, const char *name, const char *text)
{
	char *safe = xml_safe(text);
	int rc = xmlTextWriterWriteElement(w, BAD_CAST name, BAD_CAST safe);

	free(safe);
	return rc < 0 ? -1 : 0;
}

static int start(xmlTextWriterPtr w, const char *name)
{
	return xmlTextWriterStartElement(w, BAD_CAST name) < 0 ? -1 : 0;
}

static int attr(xmlTextWriterPtr w, const char *name, const char *value)
{
	return xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST value) < 0 ? -1 : 0;
}

static int end(xmlTextWriterPtr w)
{
	return xmlTextWriterEndElement(w) < 0 ? -1 : 0;
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

	rc |= start(w, "Record");
	rc |= start(w, "RecordData");
	rc |= elem(w, "DateTime", rg_time_iso8601(&p->start, ts, sizeof(ts)));
	snprintf(line, sizeof(line), "SMTP transcript of probe %s (%s): the server "
	    "accepted a recipient outside its domains from an untrusted client",
	    p->spec.id, p->spec.trick->exploits);
	rc |= elem(w, "Description", line);
	rc |= start(w, "Application");
	rc |= elem(w, "Description", "relayguard-audit");
	rc |= end(w);
	/* The banner first, then every line of the decisive probe. */
	for (size_t i = 0; i < t->ntx; i++) {
		const struct tx_line *l = &t->tx[i];
		bool banner = i < 4 && l->dir == '<' && strncmp(l->line, "220", 3) == 0;
		bool inside = tv_le(&p->start, &l->when) && tv_le(&l->when, &p->finish);

		if (!banner && !inside)
			continue;
		snprintf(line, sizeof(line), "%s %c %s",
		    rg_time_iso8601(&l->when, ts, sizeof(ts)), l->dir, l->line);
		rc |= start(w, "RecordItem");
		rc |= attr(w, "dtype", "string");
		{
			char *safe = xml_safe(line);

			rc |= xmlTextWriterWriteString(w, BAD_CAST safe) < 0 ? -1 : 0;
			free(safe);
		}
		rc |= end(w);
	}
	rc |= end(w);
	rc |= end(w);
	return rc;
}

static int write_incident(xmlTextWriterPtr w, const struct audit_target *t,
    const struct audit_opts *o, const char *restriction, const char *reporter)
{
	char ts[RG_TIME_ISO_LEN], id[400], buf[1600];
	bool open = t->verdict == VERDICT_OPEN_RELAY;
	const struct audit_probe *p = decisive_probe(t);
	int rc = 0;

	rc |= start(w, "Incident");
	rc |= attr(w, "purpose", open ? "mitigation" : "reporting");
	rc |= attr(w, "status", "new");
	rc |= attr(w, "restriction", restriction);
	snprintf(id, sizeof(id), "open-relay-%s-%d-%ld", t->address[0] ? t->address :
	    t->host, t->port, (long)t->start.tv_sec);
	rc |= start(w, "IncidentID");
	rc |= attr(w, "name", reporter);
	{
		char *safe = xml_safe(id);

		rc |= xmlTextWriterWriteString(w, BAD_CAST safe) < 0 ? -1 : 0;
		free(safe);
	}
	rc |= end(w);
	rc |= elem(w, "DetectTime", rg_time_iso8601(&t->start, ts, sizeof(ts)));
	rc |= elem(w, "GenerationTime", rg_time_iso8601(NULL, ts, sizeof(ts)));
	snprintf(buf, sizeof(buf), "%s: mail server %s port %d (%s): %s",
	    open ? "Open mail relay" : "Mail relay test", t->host, t->port,
	    mta_name(t->mta), t->verdict_reason);
	rc |= elem(w, "Description", buf);
	rc |= start(w, "Discovery");
	rc |= attr(w, "source", "audit");
	snprintf(buf, sizeof(buf), "relayguard-audit: %zu SMTP probes in %d sessions, "
	    "probe domain %s; no message was completed (no final dot sent)",
	    t->nprobes, t->sessions, o->domain);
	rc |= elem(w, "Description", buf);
	rc |= end(w);
	rc |= start(w, "Assessment");
	rc |= attr(w, "occurrence", open ? "potential" : "actual");
	rc |= start(w, "SystemImpact");
	rc |= attr(w, "severity", open ? "high" : "low");
	rc |= attr(w, "type", open ? "takeover-service" : "unknown");
	rc |= elem(w, "Description", open ? "The server relays mail for anyone: "
	    "spammers can send through it, and its bounces can flood its own "
	    "postmaster" : verdict_name(t->verdict));
	rc |= end(w);
	rc |= end(w);
	rc |= start(w, "Contact");
	rc |= attr(w, "role", "creator");
	rc |= attr(w, "type", "organization");
	rc |= elem(w, "ContactName", reporter);
	rc |= end(w);
	rc |= start(w, "EventData");
	rc |= elem(w, "DetectTime", rg_time_iso8601(&t->start, ts, sizeof(ts)));
	rc |= elem(w, "EndTime", rg_time_iso8601(&t->finish, ts, sizeof(ts)));
	rc |= start(w, "Flow");
	rc |= start(w, "System");
	rc |= attr(w, "category", "target");
	rc |= start(w, "Node");
	if (t->address[0]) {
		rc |= start(w, "Address");
		rc |= attr(w, "category", strchr(t->address, ':') ? "ipv6-addr" : "ipv4-addr");
		rc |= xmlTextWriterWriteString(w, BAD_CAST t->address) < 0 ? -1 : 0;
		rc |= end(w);
	} else {
		rc |= start(w, "DomainData");
		rc |= elem(w, "Name", t->host);
		rc |= end(w);
	}
	rc |= end(w);	/* Node */
	rc |= start(w, "Service");
	rc |= attr(w, "ip-protocol", "6");
	snprintf(buf, sizeof(buf), "%d", t->port);
	rc |= elem(w, "Port", buf);
	rc |= end(w);
	snprintf(buf, sizeof(buf), "SMTP banner: %s", t->banner[0] ? t->banner : "-");
	rc |= elem(w, "Description", buf);
	rc |= end(w);	/* System */
	rc |= end(w);	/* Flow */
	rc |= start(w, "Expectation");
	rc |= attr(w, "action", open ? "harden-asset" : "nothing");
	if (open) {
		char *fix = mta_remedy_string(t);

		rc |= attr(w, "severity", "high");
		snprintf(buf, sizeof(buf), "Refuse relaying for clients outside your own "
		    "networks. Recommended fix (%s):\n%s", mta_name(t->mta), fix);
		free(fix);
	} else {
		snprintf(buf, sizeof(buf), "No action needed for relaying: %s",
		    verdict_name(t->verdict));
	}
	rc |= elem(w, "Description", buf);
	rc |= end(w);
	if (p)
		rc |= write_record(w, t, p);
	rc |= end(w);	/* EventData */
	rc |= end(w);	/* Incident */
	return rc;
}

int report_iodef(const struct audit_target *const *targets, size_t n,
    const struct audit_opts *o, FILE *out)
{
	xmlBufferPtr buf = xmlBufferCreate();
	xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
	const char *restriction = "amber";
	char host[256], reporter[300];
	int rc = 0;

	if (w == NULL) {
		if (buf)
			xmlBufferFree(buf);
		return -1;
	}
	if (o->tlp)
		iodef_tlp_restriction(o->tlp, &restriction);
	if (gethostname(host, sizeof(host)) != 0)
		strlcpy_rg(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	snprintf(reporter, sizeof(reporter), "relayguard-audit@%s", host);
	xmlTextWriterSetIndent(w, 1);
	xmlTextWriterSetIndentString(w, BAD_CAST "  ");
	rc |= xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) < 0 ? -1 : 0;
	rc |= xmlTextWriterStartElementNS(w, NULL, BAD_CAST "IODEF-Document",
	    BAD_CAST NS) < 0 ? -1 : 0;
	rc |= attr(w, "version", "2.00");
	rc |= attr(w, "xml:lang", "en");
	for (size_t i = 0; i < n; i++)
		rc |= write_incident(w, targets[i], o, restriction, reporter);
	rc |= end(w);
	rc |= xmlTextWriterEndDocument(w) < 0 ? -1 : 0;
	xmlFreeTextWriter(w);
	if (rc == 0)
		fwrite(xmlBufferContent(buf), 1, (size_t)xmlBufferLength(buf), out);
	xmlBufferFree(buf);
	return rc == 0 ? 0 : -1;
}

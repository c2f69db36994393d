/* iodef_write.c - IODEF 2.0 building blocks; see iodef_write.h. */
#include "lib/mail/iodef_write.h"
#include "lib/base/i18n.h"
#include "lib/base/textclean.h"
#include "lib/base/util.h"

#include <libxml/xmlstring.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Each line through the XML rule of textclean.h (valid UTF-8 kept, also
 * Japanese; C0, DEL, C1, bidi controls, U+FFFE/U+FFFF and broken bytes as
 * \xHH / \uHHHH); the line breaks of our own multi-line texts are kept. */
char *rg_xml_text(const char *s)
{
	size_t n = strlen(s), o = 0, cap = n * 10 + 1;
	char *out = xmalloc(cap);

	for (const char *line = s;; line++) {
		size_t len = strcspn(line, "\n");

		o += rg_clean(RG_SINK_XML, out + o, cap - o, line, len);
		line += len;
		if (*line == '\0')
			break;
		out[o++] = '\n';
	}
	out[o] = '\0';
	return out;
}

int rg_iodef_start(xmlTextWriterPtr w, const char *name)
{
	return xmlTextWriterStartElement(w, BAD_CAST name) < 0 ? -1 : 0;
}

int rg_iodef_end(xmlTextWriterPtr w)
{
	return xmlTextWriterEndElement(w) < 0 ? -1 : 0;
}

int rg_iodef_attr(xmlTextWriterPtr w, const char *name, const char *value)
{
	char *safe = rg_xml_text(value);
	int rc = xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST safe) < 0 ? -1 : 0;

	free(safe);
	return rc;
}

int rg_iodef_text(xmlTextWriterPtr w, const char *text)
{
	char *safe = rg_xml_text(text);
	int rc = xmlTextWriterWriteString(w, BAD_CAST safe) < 0 ? -1 : 0;

	free(safe);
	return rc;
}

int rg_iodef_elem(xmlTextWriterPtr w, const char *name, const char *text)
{
	int rc = rg_iodef_start(w, name);

	rc |= rg_iodef_text(w, text);
	return rc | rg_iodef_end(w);
}

int rg_iodef_data(xmlTextWriterPtr w, const char *meaning, const char *text)
{
	int rc = rg_iodef_start(w, "AdditionalData");

	rc |= rg_iodef_attr(w, "dtype", "string");
	rc |= rg_iodef_attr(w, "meaning", meaning);
	rc |= rg_iodef_text(w, text);
	return rc | rg_iodef_end(w);
}

const char *rg_iodef_tlp_restriction(const char *tlp, const char **restriction)
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

static int email(xmlTextWriterPtr w, const char *addr)
{
	int rc = rg_iodef_start(w, "Email");

	rc |= rg_iodef_elem(w, "EmailTo", addr);
	return rc | rg_iodef_end(w);
}

int rg_iodef_contact(xmlTextWriterPtr w, const struct rg_reporter *r,
    const struct rg_clock *clk, const char *program)
{
	char host[256], buf[600];
	int rc = rg_iodef_start(w, "Contact");

	rc |= rg_iodef_attr(w, "role", "creator");
	rc |= rg_iodef_attr(w, "type", r->organisation || !r->contact_name ?
	    "organization" : "person");
	if (r->identified && r->disclosure != RG_DISCLOSE_YES)
		rc |= rg_iodef_attr(w, "restriction", r->disclosure == RG_DISCLOSE_NO ?
		    "private" : "need-to-know");
	rc |= rg_iodef_elem(w, "ContactName", rg_reporter_name(r));
	if (!r->identified) {
		if (gethostname(host, sizeof(host)) != 0)
			strlcpy_rg(host, "localhost", sizeof(host));
		host[sizeof(host) - 1] = '\0';
		if ((r->withhold & RG_WITHHOLD_INTERNAL_HOSTS) && rg_reporter_internal_host(r, host))
			strlcpy_rg(host, RG_IODEF_WITHHELD_DOMAIN, sizeof(host));
		snprintf(buf, sizeof(buf), _("written by %s on %s without a reporter "
		    "profile (--reporter FILE)"), program, host);
		rc |= rg_iodef_elem(w, "Description", buf);
	} else {
		snprintf(buf, sizeof(buf), "role: %s; disclosure of the reporter's "
		    "identity: %s", rg_reporter_role_name(r->role),
		    rg_reporter_disclosure_name(r->disclosure));
		rc |= rg_iodef_elem(w, "Description", buf);
	}
	if (r->email)
		rc |= email(w, r->email);
	if (r->phone) {
		rc |= rg_iodef_start(w, "Telephone");
		rc |= rg_iodef_elem(w, "TelephoneNumber", r->phone);
		rc |= rg_iodef_end(w);
	}
	if (clk)
		rc |= rg_iodef_elem(w, "Timezone", strcmp(clk->utc_offset, "+00:00") == 0 ?
		    "Z" : clk->utc_offset);
	if (r->organisation && r->contact_name) {
		rc |= rg_iodef_start(w, "Contact");
		rc |= rg_iodef_attr(w, "role", "tech");
		rc |= rg_iodef_attr(w, "type", "person");
		rc |= rg_iodef_elem(w, "ContactName", r->contact_name);
		if (r->email)
			rc |= email(w, r->email);
		rc |= rg_iodef_end(w);
	}
	return rc | rg_iodef_end(w);
}

int rg_iodef_system(xmlTextWriterPtr w, const char *category, const char *address,
    const char *name, int port, const char *description)
{
	int rc = rg_iodef_system_open(w, category, address, name, port);

	if (description)
		rc |= rg_iodef_elem(w, "Description", description);
	return rc | rg_iodef_end(w);
}

int rg_iodef_system_open(xmlTextWriterPtr w, const char *category, const char *address,
    const char *name, int port)
{
	char buf[16];
	int rc = rg_iodef_start(w, "System");

	rc |= rg_iodef_attr(w, "category", category);
	rc |= rg_iodef_start(w, "Node");
	if (name && *name) {
		rc |= rg_iodef_start(w, "DomainData");
		rc |= rg_iodef_elem(w, "Name", name);
		rc |= rg_iodef_end(w);
	}
	if (address && *address) {
		rc |= rg_iodef_start(w, "Address");
		bool v6 = strchr(address, ':') != NULL, net = strchr(address, '/') != NULL;

		rc |= rg_iodef_attr(w, "category", v6 ? (net ? "ipv6-net" : "ipv6-addr") :
		    (net ? "ipv4-net" : "ipv4-addr"));
		rc |= rg_iodef_text(w, address);
		rc |= rg_iodef_end(w);
	}
	rc |= rg_iodef_end(w);	/* Node */
	if (port > 0) {
		rc |= rg_iodef_start(w, "Service");
		rc |= rg_iodef_attr(w, "ip-protocol", "6");
		snprintf(buf, sizeof(buf), "%d", port);
		rc |= rg_iodef_elem(w, "Port", buf);
		rc |= rg_iodef_end(w);
	}
	return rc;
}

int rg_iodef_clock(xmlTextWriterPtr w, const struct rg_clock *clk)
{
	char buf[400];
	int rc = rg_iodef_data(w, "time-zone", rg_clock_zone_line(clk, buf, sizeof(buf)));

	return rc | rg_iodef_data(w, "clock-synchronisation",
	    rg_clock_describe(clk, buf, sizeof(buf)));
}

char *rg_iodef_incident_name(const struct rg_reporter *r, char *buf, size_t len)
{
	const char *at = r->email ? strchr(r->email, '@') : NULL;

	if (at != NULL) {
		strlcpy_rg(buf, at + 1, len);
		return buf;
	}
	if (gethostname(buf, len) != 0)
		strlcpy_rg(buf, "localhost", len);
	buf[len - 1] = '\0';
	/* the host name is ours, not the reporter's choice: withheld */
	if ((r->withhold & RG_WITHHOLD_INTERNAL_HOSTS) && rg_reporter_internal_host(r, buf))
		strlcpy_rg(buf, RG_IODEF_WITHHELD_DOMAIN, len);
	return buf;
}

xmlTextWriterPtr rg_iodef_begin(xmlBufferPtr *bufp, const char *lang)
{
	xmlBufferPtr buf = xmlBufferCreate();
	xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
	int rc = 0;

	if (w == NULL) {
		if (buf)
			xmlBufferFree(buf);
		return NULL;
	}
	xmlTextWriterSetIndent(w, 1);
	xmlTextWriterSetIndentString(w, BAD_CAST "  ");
	rc |= xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) < 0 ? -1 : 0;
	rc |= xmlTextWriterStartElementNS(w, NULL, BAD_CAST "IODEF-Document",
	    BAD_CAST RG_IODEF_NS) < 0 ? -1 : 0;
	rc |= rg_iodef_attr(w, "version", "2.00");
	rc |= rg_iodef_attr(w, "xml:lang", lang);
	if (rc != 0) {
		xmlFreeTextWriter(w);
		xmlBufferFree(buf);
		return NULL;
	}
	*bufp = buf;
	return w;
}

int rg_iodef_finish(xmlTextWriterPtr w, xmlBufferPtr buf, int rc, FILE *out)
{
	rc |= rg_iodef_end(w);
	rc |= xmlTextWriterEndDocument(w) < 0 ? -1 : 0;
	xmlFreeTextWriter(w);
	if (rc == 0)
		fwrite(xmlBufferContent(buf), 1, (size_t)xmlBufferLength(buf), out);
	xmlBufferFree(buf);
	return rc == 0 ? 0 : -1;
}

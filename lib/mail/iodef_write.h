/*
 * iodef_write.h - pieces of an IODEF 2.0 document (RFC 7970) shared by
 * relayguard-audit -f iodef and relayguard-report notify, written with
 * libxml2's xmlTextWriter (escaping of < > & " is libxml2's).
 *
 * Text from the network keeps its UTF-8 (a Japanese banner stays
 * Japanese): rg_xml_text() applies the XML rule of textclean.h to each
 * line (controls, DEL, C1, bidi controls, U+FFFE/U+FFFF and bytes that are
 * not UTF-8 as visible \xHH / \uHHHH, never '?') and keeps the newlines.
 *
 * All functions return 0, or -1 when libxml2 failed; callers OR them up.
 *
 * rg_iodef_contact() writes the reporter (reporter.h) as
 *	<Contact role="creator" type="organization"> ContactName, Email/EmailTo,
 *	Telephone/TelephoneNumber, Timezone, and the contact person as a
 *	nested Contact role="tech" type="person"
 * with restriction "private" (Disclosure = no) or "need-to-know" (ask).
 * Without a profile: ContactName "reporter not identified" and a
 * Description naming the program and host.
 * rg_iodef_system() writes a System with one Node (an address or a DNS
 * name), an optional Service (TCP port) and a Description.
 * rg_iodef_incident_name() is the IncidentID name: the domain of the
 * reporter's e-mail, else the host name (RG_IODEF_WITHHELD_DOMAIN when
 * the profile withholds internal hosts and the host name is internal).
 */
#ifndef RELAYGUARD_IODEF_WRITE_H
#define RELAYGUARD_IODEF_WRITE_H

#include <libxml/xmlwriter.h>
#include <stddef.h>
#include <stdio.h>

/* stands for an internal host name the reporter withholds */
#define RG_IODEF_WITHHELD_DOMAIN	"withheld.invalid"

#include "lib/base/clockstate.h"
#include "lib/mail/reporter.h"

#define RG_IODEF_NS "urn:ietf:params:xml:ns:iodef-2.0"

char *rg_xml_text(const char *s);	/* a new string (free()) */
int rg_iodef_start(xmlTextWriterPtr w, const char *name);
int rg_iodef_end(xmlTextWriterPtr w);
int rg_iodef_attr(xmlTextWriterPtr w, const char *name, const char *value);
int rg_iodef_text(xmlTextWriterPtr w, const char *text);
int rg_iodef_elem(xmlTextWriterPtr w, const char *name, const char *text);
/* <AdditionalData dtype="string" meaning="...">text</AdditionalData> */
int rg_iodef_data(xmlTextWriterPtr w, const char *meaning, const char *text);

/* TLP word -> IODEF restriction ("clear" is written "white"); NULL, or
 * the reason it is not a TLP level. */
const char *rg_iodef_tlp_restriction(const char *tlp, const char **restriction);

int rg_iodef_contact(xmlTextWriterPtr w, const struct rg_reporter *r,
    const struct rg_clock *clk, const char *program);
int rg_iodef_system(xmlTextWriterPtr w, const char *category, const char *address,
    const char *name, int port, const char *description);
/* The same, left open for Description and AdditionalData elements. */
int rg_iodef_system_open(xmlTextWriterPtr w, const char *category,
    const char *address, const char *name, int port);
/* The zone and clock state as two AdditionalData elements. */
int rg_iodef_clock(xmlTextWriterPtr w, const struct rg_clock *clk);
char *rg_iodef_incident_name(const struct rg_reporter *r, char *buf, size_t len);

/* Start an IODEF-Document (version 2.00, xml:lang) on a memory buffer. */
xmlTextWriterPtr rg_iodef_begin(xmlBufferPtr *buf, const char *lang);
/* End it and write it to out; frees writer and buffer. 0 or -1. */
int rg_iodef_finish(xmlTextWriterPtr w, xmlBufferPtr buf, int rc, FILE *out);

#endif

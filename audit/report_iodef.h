/*
 * report_iodef.h - IODEF 2.0 (RFC 7970) documents for CSIRTs.
 *
 * report_iodef() writes one IODEF-Document with one Incident per target:
 * an open relay is an Incident with purpose="mitigation", a Flow whose
 * target System holds the MTA address and its SMTP Service port, an
 * Expectation action="harden-asset" carrying the recommended fix, and the
 * decisive transcript lines as Record/RecordData/RecordItem with their
 * times; other verdicts are purpose="reporting". restriction carries the
 * TLP level (--tlp). Validates against schemas/iodef/.
 */
#ifndef RELAYGUARD_REPORT_IODEF_H
#define RELAYGUARD_REPORT_IODEF_H

#include <stdio.h>

#include "audit.h"

/* NULL when tlp is a valid TLP word (clear, white, green, amber, red), else
 * a message; *restriction gets the IODEF restriction value. */
const char *iodef_tlp_restriction(const char *tlp, const char **restriction);

/* 0 on success, -1 when the XML could not be written. */
int report_iodef(const struct audit_target *const *targets, size_t n,
    const struct audit_opts *o, FILE *out);

/* The same document built as targets finish, so each target's records can
 * be freed once its Incident is written: begin (NULL when libxml2 fails),
 * add per target, end writes the document to out (0, or -1 when the XML
 * could not be built). */
struct iodef_doc;
struct iodef_doc *report_iodef_begin(const struct audit_opts *o);
void report_iodef_add(struct iodef_doc *d, const struct audit_target *t);
int report_iodef_end(struct iodef_doc *d, FILE *out);

#endif

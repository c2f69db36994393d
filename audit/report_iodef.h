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

#endif

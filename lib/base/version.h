/*
 * version.h - the one version of relayguard, shown by every program
 * (relayguard-audit, relayguard-milter, relayguard-report -V) and written
 * into every audit result. RG_AUDIT_SCHEMA is the version of the audit's
 * JSON object layout: raise it when a field changes meaning or goes away.
 */
#ifndef RELAYGUARD_VERSION_H
#define RELAYGUARD_VERSION_H

#define RG_VERSION		"0.2.0"
#define RG_AUDIT_SCHEMA		"1"

#endif

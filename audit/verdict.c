/*
 * verdict.c - the names, ranks, exit codes and severities of outcomes and
 * verdicts (grade.c decides them). One table each, read by every report.
 */
#include "audit.h"
#include "lib/base/util.h"

#include <stdio.h>

const char *outcome_name(enum outcome o)
{
	static const char *const n[] = {"not_run", "accepted", "rejected", "tempfail",
	    "auth_required", "tls_required", "error", "untested"};

	return (size_t)o < RG_NELEM(n) ? n[o] : "error";
}

const char *data_outcome_name(enum data_outcome d)
{
	static const char *const n[] = {"not_tried", "taken", "refused", "error"};

	return (size_t)d < RG_NELEM(n) ? n[d] : "error";
}

const char *verdict_name(enum verdict v)
{
	static const char *const n[] = {"closed", "accept_all", "inconclusive",
	    "open_relay", "unreachable", "domain_relay"};

	return (size_t)v < RG_NELEM(n) ? n[v] : "inconclusive";
}

/* Which verdict of several is the run's: an open relay outranks all. */
int verdict_rank(enum verdict v)
{
	switch (v) {
	case VERDICT_OPEN_RELAY: return 4;
	case VERDICT_UNREACHABLE: return 3;
	case VERDICT_INCONCLUSIVE: case VERDICT_ACCEPT_ALL: return 2;
	case VERDICT_DOMAIN_RELAY: return 2;
	case VERDICT_CLOSED: return 1;
	}
	return 0;
}

int verdict_exit_code(enum verdict v)
{
	switch (v) {
	case VERDICT_CLOSED: return 0;
	case VERDICT_ACCEPT_ALL: return 1;
	case VERDICT_INCONCLUSIVE: return 1;
	case VERDICT_OPEN_RELAY: return 2;
	case VERDICT_UNREACHABLE: return 3;
	case VERDICT_DOMAIN_RELAY: return 1;	/* a look, not an incident */
	}
	return 1;
}

const char *audit_severity(const struct audit_target *t)
{
	switch (t->verdict) {
	case VERDICT_OPEN_RELAY: return t->spf_authorised_relay ? "critical" : "high";
	case VERDICT_INCONCLUSIVE: return "medium";
	case VERDICT_ACCEPT_ALL: return "low";
	case VERDICT_DOMAIN_RELAY: return "low";
	case VERDICT_CLOSED: return "none";
	case VERDICT_UNREACHABLE: return "unknown";
	}
	return "unknown";
}

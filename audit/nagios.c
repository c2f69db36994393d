/*
 * nagios.c - --nagios: one status line for Nagios, Icinga and every
 * monitoring system that runs plugins (the Monitoring Plugins guidelines).
 *
 *	RELAY CRITICAL - open relay, 46/46 probes accepted | accepted=46;;;0;46
 *	    refused=0;;;0;46 untested=0;;;0;46 time=1.20s;;;0
 *
 * The status word follows the exit code the auditor already uses: OK (0)
 * closed, WARNING (1) accept-all or inconclusive, CRITICAL (2) open relay,
 * UNKNOWN (3) unreachable or an error; usage errors are UNKNOWN too under
 * --nagios (audit_options_parse). With several targets the line describes
 * the worst one and says how many of how many share its verdict.
 */
#include "audit.h"

#include <stdio.h>
#include <string.h>

static const char *status_word(enum verdict v)
{
	switch (v) {
	case VERDICT_CLOSED: return "OK";
	case VERDICT_ACCEPT_ALL:
	case VERDICT_INCONCLUSIVE:
	case VERDICT_DOMAIN_RELAY: return "WARNING";
	case VERDICT_OPEN_RELAY: return "CRITICAL";
	case VERDICT_UNREACHABLE: return "UNKNOWN";
	}
	return "UNKNOWN";
}

static const char *verdict_words(enum verdict v)
{
	switch (v) {
	case VERDICT_CLOSED: return "no relaying";
	case VERDICT_ACCEPT_ALL: return "accepts every recipient (relay refused at DATA or unknown)";
	case VERDICT_INCONCLUSIVE: return "inconclusive";
	case VERDICT_OPEN_RELAY: return "open relay";
	case VERDICT_UNREACHABLE: return "unreachable";
	case VERDICT_DOMAIN_RELAY: return "relays only for the --domain domain";
	}
	return "unknown";
}

/* Keep the worst target seen (the ranking of the exit status). */
void audit_nagios_add(struct audit_nagios *n, const struct audit_target *t)
{
	n->targets++;
	if (n->targets > 1 && verdict_rank(t->verdict) <
	    verdict_rank(n->worst.verdict))
		return;
	if (n->targets > 1 && t->verdict == n->worst.verdict) {
		n->same++;
		return;
	}
	n->same = 1;
	n->worst.verdict = t->verdict;
	n->worst.relay = t->n_relay;
	n->worst.accepted = t->n_accepted;
	n->worst.refused = t->n_refused;
	n->worst.untested = t->n_untested;
	n->worst.elapsed = t->elapsed;
	snprintf(n->worst.target, sizeof(n->worst.target), "%s", t->spec);
}

int audit_nagios_print(const struct audit_nagios *n, FILE *out)
{
	const struct audit_nagios_worst *w = &n->worst;
	char who[400] = "";

	if (n->targets == 0)
		return fprintf(out, "RELAY UNKNOWN - no target audited\n") < 0 ? -1 : 0;
	if (n->targets > 1)
		snprintf(who, sizeof(who), "%zu of %zu targets, e.g. %s: ", n->same,
		    n->targets, w->target);
	if (w->relay == 0)	/* no probe ran: nothing to count */
		return fprintf(out, "RELAY %s - %s%s | time=%.2fs;;;0\n",
		    status_word(w->verdict), who, verdict_words(w->verdict),
		    w->elapsed) < 0 ? -1 : 0;
	return fprintf(out, "RELAY %s - %s%s, %zu/%zu probes accepted | "
	    "accepted=%zu;;;0;%zu refused=%zu;;;0;%zu untested=%zu;;;0;%zu "
	    "time=%.2fs;;;0\n", status_word(w->verdict), who,
	    verdict_words(w->verdict), w->accepted, w->relay, w->accepted, w->relay,
	    w->refused, w->relay, w->untested, w->relay, w->elapsed) < 0 ? -1 : 0;
}

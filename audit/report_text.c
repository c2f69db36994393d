/* report_text.c - the readable report: one line per probe, verdict, fix. */
#include "audit.h"
#include "relayguard/log.h"

#include <stdio.h>
#include <string.h>

static const char *verdict_banner(enum verdict v)
{
	switch (v) {
	case VERDICT_OPEN_RELAY: return "OPEN RELAY";
	case VERDICT_ACCEPT_ALL: return "ACCEPT-ALL (not a relay at DATA)";
	case VERDICT_CLOSED: return "CLOSED (refuses to relay)";
	case VERDICT_INCONCLUSIVE: return "INCONCLUSIVE";
	case VERDICT_UNREACHABLE: return "UNREACHABLE";
	}
	return "?";
}

static void print_transcript(const struct audit_target *t, FILE *out)
{
	char ts[RG_TIME_ISO_LEN];

	fprintf(out, "\nTranscript (%zu lines%s):\n", t->ntx,
	    t->tx_truncated ? ", truncated" : "");
	for (size_t i = 0; i < t->ntx; i++)
		fprintf(out, "  %s %c %s\n", rg_time_iso8601(&t->tx[i].when, ts, sizeof(ts)),
		    t->tx[i].dir, t->tx[i].line);
}

static void print_dns(const struct audit_target *t, FILE *out)
{
	if (t->mx_host[0]) {
		if (t->mx_pref < 0)
			fprintf(out, "  MX:       %s has no MX; its own address (implicit MX)\n",
			    t->mail_domain);
		else
			fprintf(out, "  MX:       %s MX %d %s\n", t->mail_domain, t->mx_pref,
			    t->mx_host);
	}
	if (!t->dns_checked)
		return;
	fprintf(out, "  PTR:      %s (FCrDNS %s)\n", t->ptr[0] ? t->ptr : "-",
	    rg_fcrdns_name(t->fcrdns));
	for (size_t i = 0; i < t->ndnsbl; i++) {
		const struct dnsbl_fact *f = &t->dnsbl[i];

		if (f->listed)
			fprintf(out, "  DNSBL:    %s: LISTED %s%s%s%s\n", f->zone, f->codes,
			    f->reason[0] ? " \"" : "", f->reason, f->reason[0] ? "\"" : "");
		else
			fprintf(out, "  DNSBL:    %s: not listed%s%s%s\n", f->zone,
			    rg_dns_status_temporary(f->status) ? " (lookup failed: " : "",
			    rg_dns_status_temporary(f->status) ?
			    rg_dns_status_name(f->status) : "",
			    rg_dns_status_temporary(f->status) ? ")" : "");
	}
	if (t->spf_checked)
		fprintf(out, "  SPF:      %s for %s: %s - %s\n", t->spf.domain, t->address[0] ?
		    t->address : t->host, rg_spf_result_name(t->spf.result), t->spf.explanation);
}

void report_text(const struct audit_target *t, const struct audit_opts *o, FILE *out)
{
	char start[RG_TIME_ISO_LEN], finish[RG_TIME_ISO_LEN];

	rg_time_iso8601(&t->start, start, sizeof(start));
	rg_time_iso8601(&t->finish, finish, sizeof(finish));
	fprintf(out, "relayguard-audit report for %s port %d\n", t->host, t->port);
	fprintf(out, "  address:  %s\n", t->address[0] ? t->address : "-");
	fprintf(out, "  started:  %s\n  finished: %s (%.2f s, %d sessions, %zu probes)\n",
	    start, finish, t->elapsed, t->sessions, t->nprobes);
	if (t->banner[0])
		fprintf(out, "  banner:   %s\n", t->banner);
	if (t->ehlo_name[0] || t->ehlo_keywords[0])
		fprintf(out, "  EHLO:     %s [%s]%s\n", t->ehlo_name[0] ? t->ehlo_name : "-",
		    t->ehlo_keywords, t->ehlo_refused ? " (EHLO refused, used HELO)" : "");
	fprintf(out, "  TLS:      %s%s%s\n", t->tls_used ? "used: " :
	    t->starttls_offered ? "offered, not used" : "not offered",
	    t->tls_used ? t->tls_info : "", "");
	fprintf(out, "  MTA:      %s\n", mta_name(t->mta));
	print_dns(t, out);
	fprintf(out, "  probes use domain %s, HELO %s\n\n", o->domain, o->helo);

	for (size_t i = 0; i < t->nprobes; i++) {
		const struct audit_probe *p = &t->probes[i];
		char reply[600];

		if (p->code)
			snprintf(reply, sizeof(reply), "%d%s%s %s", p->code,
			    p->enhanced[0] ? " " : "", p->enhanced, p->text);
		else
			snprintf(reply, sizeof(reply), "(%s)", p->text[0] ? p->text : "no reply");
		fprintf(out, "  %-16s %s%s%sMAIL FROM:%s -> RCPT TO:%s\n", p->spec.id,
		    p->spec.helo[0] ? "HELO " : "", p->spec.helo,
		    p->spec.helo[0] ? ", " : "", p->spec.mail_from, p->spec.rcpt_to);
		fprintf(out, "  %-16s   %-13s at %-7s %s\n", "", outcome_name(p->outcome),
		    p->stage ? p->stage : "-", reply);
		if (p->data != DATA_NOT_TRIED)
			fprintf(out, "  %-16s   DATA %s: %d %s\n", "", data_outcome_name(p->data),
			    p->data_code, p->data_text);
	}
	fprintf(out, "\nVerdict: %s\n  %s\n", verdict_banner(t->verdict), t->verdict_reason);
	fprintf(out, "Severity: %s\n", audit_severity(t));
	if (t->verdict == VERDICT_OPEN_RELAY || t->verdict == VERDICT_INCONCLUSIVE) {
		bool any = false;

		for (size_t i = 0; i < t->nprobes && !any; i++)
			any = t->probes[i].outcome == OUT_ACCEPTED && probe_is_relay(&t->probes[i]);
		if (any) {
			fprintf(out, "\nRecommended fix (%s):\n", mta_name(t->mta));
			mta_remedy(t, out, "  ");
		}
	}
	if (o->transcript)
		print_transcript(t, out);
	fputc('\n', out);
}

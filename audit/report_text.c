/*
 * report_text.c - the readable report: the verdict first, then the server,
 * one line per probe, the fix and the -T transcript.
 *
 * It goes to the operator's terminal: every string that came from the
 * server or from DNS is printed through the TERM rule of textclean.h, so a
 * banner's ESC, C1 CSI (0x9b or U+009B), bidi override or broken UTF-8
 * shows as \xHH / \uHHHH and never acts on the terminal.
 */
#include "audit.h"
#include "lib/base/i18n.h"
#include "lib/base/log.h"
#include "lib/base/textclean.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Up to TERM_SLOTS cleaned strings alive at once, for one fprintf. */
#define TERM_SLOTS	8
#define TERM_LEN	1600

struct term_buf {
	char s[TERM_SLOTS][TERM_LEN];
	int next;
};

static const char *term(struct term_buf *b, const char *s)
{
	char *out = b->s[b->next];

	b->next = (b->next + 1) % TERM_SLOTS;
	return rg_clean_str(RG_SINK_TERM, out, TERM_LEN, s);
}

static const char *verdict_banner(enum verdict v)
{
	switch (v) {
	case VERDICT_OPEN_RELAY: return _("OPEN RELAY");
	case VERDICT_ACCEPT_ALL: return _("ACCEPT-ALL (not a relay at DATA)");
	case VERDICT_CLOSED: return _("CLOSED (refuses to relay)");
	case VERDICT_INCONCLUSIVE: return _("INCONCLUSIVE");
	case VERDICT_UNREACHABLE: return _("UNREACHABLE");
	case VERDICT_DOMAIN_RELAY: return _("RELAYS ONLY FOR ONE DOMAIN (not an open relay)");
	}
	return "?";
}

/* What the verdict means for the reader, in a sentence. */
static const char *verdict_meaning(enum verdict v)
{
	switch (v) {
	case VERDICT_OPEN_RELAY: return _("The server relays mail for anyone: "
	    "spammers can send through it. Refuse relaying for clients outside "
	    "your own networks.");
	case VERDICT_ACCEPT_ALL: return _("The server accepts every recipient at "
	    "RCPT but refused the message at DATA: not a relay, but it may "
	    "generate bounces.");
	case VERDICT_CLOSED: return _("The server refuses to relay for outside "
	    "clients.");
	case VERDICT_INCONCLUSIVE: return _("The test could not settle the "
	    "question: investigate and re-test.");
	case VERDICT_UNREACHABLE: return _("The server could not be tested: "
	    "nothing was learned about relaying.");
	case VERDICT_DOMAIN_RELAY: return _("The server relays towards the audit's "
	    "domain only, not towards another one: it is configured to relay for "
	    "that domain (a backup MX or relay domain). Keep that only if it is "
	    "meant to be.");
	}
	return "";
}

static void print_reporter(const struct audit_target *t, const struct audit_opts *o,
    FILE *out)
{
	const struct rg_reporter *r = o->reporter;
	char line[300];

	if (r == NULL)
		return;
	fprintf(out, _("  reporter: %s"), rg_reporter_name(r));
	if (r->contact_name && r->organisation)
		fprintf(out, ", %s", r->contact_name);
	if (r->email)
		fprintf(out, " <%s>", r->email);
	if (r->phone)
		fprintf(out, " %s", r->phone);
	fputc('\n', out);
	fprintf(out, _("  times:    %s\n"), rg_clock_zone_line(&o->clock, line,
	    sizeof(line)));
	fprintf(out, _("  clock:    %s\n"), rg_clock_describe(&o->clock, line,
	    sizeof(line)));
	if (t->vantage[0])
		fprintf(out, _("  tested from: %s\n"), t->vantage);
	if (t->desync)
		fprintf(out, _("  reply stream: out of step (unsolicited lines)%s%s\n"),
		    t->desync_note[0] ? "; " : "", t->desync_note);
}

static void print_group_head(const struct tx_tag *g, FILE *out)
{
	if (g == NULL)
		fprintf(out, _("  events of the target (no one session):\n"));
	else if (g->session == 0)
		fprintf(out, _("  a connection that never became a session (local port %d):\n"),
		    g->local_port);
	else
		fprintf(out, _("  session %d (local port %d):\n"), g->session, g->local_port);
}

/* -T: one dialogue per session, one after another; each line carries its
 * session and our local port, so a line quoted alone still says where. */
static void print_transcript(const struct audit_target *t, FILE *out)
{
	char ts[RG_TIME_ISO_LEN];
	struct term_buf b = { .next = 0 };
	const struct tx_tag **groups;
	size_t ngroups = audit_tx_groups(t, &groups);

	if (t->tx_truncated)
		fprintf(out, _("\nTranscript (%zu lines; %zu lines, %zu bytes cut from the "
		    "middle):\n"), t->ntx, t->tx_cut_lines, t->tx_cut_bytes);
	else
		fprintf(out, _("\nTranscript (%zu lines%s):\n"), t->ntx, "");
	for (size_t k = 0; k < ngroups; k++) {
		const struct tx_tag *g = groups[k];

		print_group_head(g, out);
		for (size_t i = 0; i < t->ntx; i++) {
			if (t->tx[i].tag != g)
				continue;
			fprintf(out, "  [%d:%d] %s %c %s\n", g ? g->session : 0,
			    g ? g->local_port : 0, rg_time_iso8601(&t->tx[i].when, ts,
			    sizeof(ts)), t->tx[i].dir, term(&b, t->tx[i].line));
		}
	}
	free(groups);
}

static void print_dns(const struct audit_target *t, FILE *out)
{
	struct term_buf b = { .next = 0 };

	if (t->mx_host[0]) {
		if (t->mx_pref < 0)
			fprintf(out, "  MX:       %s has no MX; its own address (implicit MX)\n",
			    term(&b, t->mail_domain));
		else
			fprintf(out, "  MX:       %s MX %d %s\n", term(&b, t->mail_domain),
			    t->mx_pref, term(&b, t->mx_host));
	}
	if (!t->dns_checked)
		return;
	fprintf(out, "  PTR:      %s (FCrDNS %s)\n", t->ptr[0] ? term(&b, t->ptr) : "-",
	    rg_fcrdns_name(t->fcrdns));
	for (size_t i = 0; i < t->ndnsbl; i++) {
		const struct dnsbl_fact *f = &t->dnsbl[i];

		if (f->listed)
			fprintf(out, "  DNSBL:    %s: LISTED %s%s%s%s\n", term(&b, f->zone),
			    term(&b, f->codes), f->reason[0] ? " \"" : "",
			    term(&b, f->reason), f->reason[0] ? "\"" : "");
		else
			fprintf(out, "  DNSBL:    %s: not listed%s%s%s\n", term(&b, f->zone),
			    rg_dns_status_temporary(f->status) ? " (lookup failed: " : "",
			    rg_dns_status_temporary(f->status) ?
			    rg_dns_status_name(f->status) : "",
			    rg_dns_status_temporary(f->status) ? ")" : "");
	}
	if (t->spf_checked)
		fprintf(out, "  SPF:      %s for %s: %s - %s\n", term(&b, t->spf.domain),
		    term(&b, t->address[0] ? t->address : t->host),
		    rg_spf_result_name(t->spf.result), term(&b, t->spf.explanation));
}

/* The verdict and its counts: what a reader needs first. */
static void print_verdict(const struct audit_target *t, FILE *out)
{
	struct term_buf b = { .next = 0 };
	bool english = strcmp(rg_i18n_lang(), "en") == 0;
	char why[sizeof(t->verdict_reason) + 64];

	/* the reason is built in English (JSON and IODEF carry it as is):
	 * another language marks it as the auditor's English record */
	snprintf(why, sizeof(why), "%s%s%s", english ? "" :
	    _("The auditor's record (English):"), english ? "" : " ", t->verdict_reason);
	fprintf(out, _("Verdict: %s\n  %s\n"), verdict_banner(t->verdict), term(&b, why));
	if (t->unresolved)
		fprintf(out, "  %s\n", _("The name has no address: nothing was contacted."));
	else
		fprintf(out, "  %s\n", verdict_meaning(t->verdict));
	fprintf(out, _("Severity: %s\n"), audit_severity(t));
	fprintf(out, _("Relay probes: %zu (%zu accepted, %zu refused, %zu untested, "
	    "%zu of them relay-relevant)\n"), t->n_relay, t->n_accepted, t->n_refused,
	    t->n_untested, t->n_untested_relevant);
	if (domain_relay_advice(t) != NULL)
		fprintf(out, _("Relays only for %s (refused towards %s):\n  %s\n"),
		    term(&b, t->domain), term(&b, t->second_domain), domain_relay_advice(t));
	if (t->canary.tried)
		audit_canary_text(t, out);
	if (t->base.compared)
		audit_baseline_text(t, out);
}

/* What the server is: address, times, banner, EHLO, TLS, MTA, DNS, names. */
static void print_server(const struct audit_target *t, const struct audit_opts *o,
    FILE *out)
{
	char start[RG_TIME_ISO_LEN], finish[RG_TIME_ISO_LEN];
	struct term_buf b = { .next = 0 };

	rg_time_iso8601(&t->start, start, sizeof(start));
	rg_time_iso8601(&t->finish, finish, sizeof(finish));
	print_reporter(t, o, out);
	fprintf(out, _("  address:  %s\n"), t->address[0] ? term(&b, t->address) : "-");
	fprintf(out, _("  started:  %s\n  finished: %s (%.2f s, %d sessions, %zu probes)\n"),
	    start, finish, t->elapsed, t->sessions, t->nprobes);
	if (t->banner[0])
		fprintf(out, _("  banner:   %s\n"), term(&b, t->banner));
	if (t->ehlo_name[0] || t->ehlo_keywords[0])
		fprintf(out, "  EHLO:     %s [%s]%s\n", t->ehlo_name[0] ?
		    term(&b, t->ehlo_name) : "-", term(&b, t->ehlo_keywords),
		    t->ehlo_refused ? " (EHLO refused, used HELO)" : "");
	if (t->starttls_failed[0] && !t->tls_used)
		fprintf(out, "  TLS:      offered, STARTTLS handshake failed (%s): "
		    "audited in clear\n", term(&b, t->starttls_failed));
	else
		fprintf(out, "  TLS:      %s%s%s\n", t->tls_used ? "used: " :
		    t->starttls_offered ? "offered, not used" : "not offered",
		    t->tls_used ? term(&b, t->tls_info) : "", "");
	fprintf(out, "  MTA:      %s\n", mta_name(t->mta));
	print_dns(t, out);
	if (t->nnames) {
		fprintf(out, "  names:    ");
		for (size_t i = 0; i < t->nnames; i++)
			fprintf(out, "%s%s", i ? " " : "", term(&b, t->names[i]));
		fprintf(out, " (tried as the server's own)\n");
	}
	fprintf(out, "  probes use domain %s (second destination %s), HELO %s\n\n",
	    term(&b, o->domain), term(&b, t->second_domain), term(&b, o->helo));
}

/* One probe: what was sent, the outcome, and its other attempts. */
static void print_probe(const struct audit_probe *p, FILE *out)
{
	struct term_buf b = { .next = 0 };
	char reply[2 * TERM_LEN + 16];

	if (p->code)
		snprintf(reply, sizeof(reply), "%d%s%s %s", p->code,
		    p->enhanced[0] ? " " : "", term(&b, p->enhanced),
		    term(&b, p->text));
	else
		snprintf(reply, sizeof(reply), "(%s)", p->text[0] ?
		    term(&b, p->text) : "no reply");
	fprintf(out, "  %-16s %s%s%sMAIL FROM:%s -> %s%s%sRCPT TO:%s\n", p->spec.id,
	    p->spec.helo[0] ? "HELO " : "", term(&b, p->spec.helo),
	    p->spec.helo[0] ? ", " : "", term(&b, p->spec.mail_from),
	    p->spec.first_rcpt[0] ? "RCPT TO:" : "", term(&b, p->spec.first_rcpt),
	    p->spec.first_rcpt[0] ? " -> " : "", term(&b, p->spec.rcpt_to));
	fprintf(out, "  %-16s   %-13s at %-7s %s\n", "", outcome_name(p->outcome),
	    p->stage ? p->stage : "-", reply);
	if (p->first_rcpt_code)
		fprintf(out, "  %-16s   local recipient first: %d %s\n", "",
		    p->first_rcpt_code, term(&b, p->first_rcpt_text));
	if (p->retried)
		fprintf(out, "  %-16s   first try with MAIL FROM:%s: %s at %s %d %s; "
		    "retried with the baseline sender %s\n", "",
		    term(&b, p->first.mail_from), outcome_name(p->first.outcome),
		    p->first.stage ? p->first.stage : "-", p->first.code,
		    term(&b, p->first.text), term(&b, p->retry_from));
	if (p->data != DATA_NOT_TRIED)
		fprintf(out, "  %-16s   DATA %s: %d %s\n", "", data_outcome_name(p->data),
		    p->data_code, term(&b, p->data_text));
	if (p->second.tried)
		fprintf(out, "  %-16s   second destination RCPT TO:%s: %s %d %s\n", "",
		    term(&b, p->spec.rcpt_to_second), outcome_name(p->second.outcome),
		    p->second.code, term(&b, p->second.text));
}

/* The verdict first (what an admin reads), then the server, the probes
 * that led to it, the fix and the transcript. */
void report_text(const struct audit_target *t, const struct audit_opts *o, FILE *out)
{
	struct term_buf b = { .next = 0 };

	fprintf(out, _("relayguard-audit report for %s port %d\n"), term(&b, t->host),
	    t->port);
	print_verdict(t, out);
	fputc('\n', out);
	print_server(t, o, out);
	for (size_t i = 0; i < t->nprobes; i++)
		print_probe(&t->probes[i], out);
	if (audit_fix_applies(t)) {
		fprintf(out, _("\nRecommended fix (%s):\n"), mta_name(t->mta));
		mta_remedy(t, out, "  ");
	}
	if (o->transcript)
		print_transcript(t, out);
	fputc('\n', out);
}

/* report_json.c - one JSON object per target, built with jansson (the
 * -f json document and the -f jsonl lines are made of these: output.c). */
#include "audit.h"
#include "polite.h"
#include "lib/base/log.h"
#include "lib/base/textclean.h"
#include "lib/base/version.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Strings from the server or DNS may be anything: the JSON rule of
 * textclean.h keeps valid UTF-8 and escapes the rest. Never NULL. */
static json_t *jstr(const char *s)
{
	char *clean = rg_clean_dup(RG_SINK_JSON, s);
	json_t *j = json_string(clean);

	free(clean);
	return j ? j : json_string("");
}

static json_t *iso(const struct timeval *tv)
{
	char buf[RG_TIME_ISO_LEN];

	return json_string(rg_time_iso8601(tv, buf, sizeof(buf)));
}

/* The relay recipient tried towards --second-domain (session.c). */
static json_t *second_json(const struct audit_probe *p)
{
	json_t *s = json_object();

	json_object_set_new(s, "rcpt_to", json_string(p->spec.rcpt_to_second));
	json_object_set_new(s, "stage", p->second.stage ? json_string(p->second.stage) :
	    json_null());
	json_object_set_new(s, "code", p->second.code ? json_integer(p->second.code) :
	    json_null());
	json_object_set_new(s, "enhanced", p->second.enhanced[0] ?
	    json_string(p->second.enhanced) : json_null());
	json_object_set_new(s, "text", jstr(p->second.text));
	json_object_set_new(s, "outcome", json_string(outcome_name(p->second.outcome)));
	return s;
}

/* The finding "relays only for DOMAIN", with its own advice. */
static void domain_relay_json(json_t *j, const struct audit_target *t)
{
	json_t *d;

	if (domain_relay_advice(t) == NULL)
		return;
	d = json_object();
	json_object_set_new(d, "domain", jstr(t->domain));
	json_object_set_new(d, "refused_towards", jstr(t->second_domain));
	json_object_set_new(d, "advice", json_string(domain_relay_advice(t)));
	json_object_set_new(j, "relays_only_for", d);
}

static json_t *probe_json(const struct audit_target *t, const struct audit_probe *p)
{
	json_t *j = json_object();

	json_object_set_new(j, "id", json_string(p->spec.id));
	json_object_set_new(j, "trick", json_string(p->spec.trick->id));
	json_object_set_new(j, "control", json_boolean(!probe_is_relay(p)));
	json_object_set_new(j, "class",
	    json_string(rg_trick_class_name(p->spec.trick->klass)));
	if (p->spec.helo[0])
		json_object_set_new(j, "helo", json_string(p->spec.helo));
	json_object_set_new(j, "mail_from", json_string(p->spec.mail_from));
	if (p->spec.first_rcpt[0]) {	/* after-local: the RCPT sent first */
		json_object_set_new(j, "first_rcpt_to", json_string(p->spec.first_rcpt));
		json_object_set_new(j, "first_rcpt_code", p->first_rcpt_code ?
		    json_integer(p->first_rcpt_code) : json_null());
		json_object_set_new(j, "first_rcpt_text", jstr(p->first_rcpt_text));
	}
	json_object_set_new(j, "rcpt_to", json_string(p->spec.rcpt_to));
	json_object_set_new(j, "stage", p->stage ? json_string(p->stage) : json_null());
	json_object_set_new(j, "code", p->code ? json_integer(p->code) : json_null());
	json_object_set_new(j, "enhanced", p->enhanced[0] ? json_string(p->enhanced) :
	    json_null());
	json_object_set_new(j, "text", jstr(p->text));
	json_object_set_new(j, "outcome", json_string(outcome_name(p->outcome)));
	if (p->outcome == OUT_ACCEPTED && probe_is_relay(p))	/* what it proves */
		json_object_set_new(j, "hole", json_string(rg_trick_class_name(
		    remedy_hole_of(t, p))));
	if (p->untested_why)
		json_object_set_new(j, "untested_why", json_string(p->untested_why));
	if (p->retried) {
		/* both attempts: the trick's own sender, then the baseline sender */
		json_t *a = json_array(), *first = json_object(), *second = json_object();

		json_object_set_new(first, "mail_from", json_string(p->first.mail_from));
		json_object_set_new(first, "stage", p->first.stage ?
		    json_string(p->first.stage) : json_null());
		json_object_set_new(first, "code", p->first.code ?
		    json_integer(p->first.code) : json_null());
		json_object_set_new(first, "text", jstr(p->first.text));
		json_object_set_new(first, "outcome", json_string(outcome_name(p->first.outcome)));
		json_object_set_new(first, "session", json_integer(p->first.session));
		json_object_set_new(second, "mail_from", json_string(p->retry_from));
		json_object_set_new(second, "stage", p->stage ? json_string(p->stage) :
		    json_null());
		json_object_set_new(second, "code", p->code ? json_integer(p->code) :
		    json_null());
		json_object_set_new(second, "text", jstr(p->text));
		json_object_set_new(second, "outcome", json_string(outcome_name(p->outcome)));
		json_object_set_new(second, "session", json_integer(p->session));
		json_array_append_new(a, first);
		json_array_append_new(a, second);
		json_object_set_new(j, "attempts", a);
	}
	json_object_set_new(j, "data", json_string(data_outcome_name(p->data)));
	if (p->data != DATA_NOT_TRIED) {
		json_object_set_new(j, "data_code", json_integer(p->data_code));
		json_object_set_new(j, "data_text", jstr(p->data_text));
	}
	if (p->second.tried)
		json_object_set_new(j, "second_destination", second_json(p));
	json_object_set_new(j, "session", json_integer(p->session));
	json_object_set_new(j, "exploits", json_string(p->spec.trick->exploits));
	if (p->start.tv_sec) {
		json_object_set_new(j, "start", iso(&p->start));
		json_object_set_new(j, "finish", iso(&p->finish));
	}
	return j;
}

/* The fix as data, for tools and tests that apply it literally: per step
 * the file, EREs of the statements to delete, the lines to add, the check
 * (remedy.c remedy_json_object). */
static void remedy_json(json_t *j, const struct audit_target *t)
{
	struct remedy r;

	remedy_build(t, &r);
	if (r.nsteps > 0)
		json_object_set_new(j, "remedy", remedy_json_object(&r));
}

static void dns_json(json_t *j, const struct audit_target *t)
{
	if (t->mx_host[0]) {
		json_t *mx = json_object();

		json_object_set_new(mx, "domain", jstr(t->mail_domain));
		json_object_set_new(mx, "host", jstr(t->mx_host));
		json_object_set_new(mx, "preference", t->mx_pref < 0 ? json_null() :
		    json_integer(t->mx_pref));
		json_object_set_new(mx, "implicit", json_boolean(t->mx_pref < 0));
		json_object_set_new(j, "mx", mx);
	}
	if (!t->dns_checked)
		return;
	json_object_set_new(j, "ptr", t->ptr[0] ? jstr(t->ptr) : json_null());
	json_object_set_new(j, "fcrdns", json_string(rg_fcrdns_name(t->fcrdns)));

	json_t *bl = json_array();

	for (size_t i = 0; i < t->ndnsbl; i++) {
		const struct dnsbl_fact *f = &t->dnsbl[i];
		json_t *e = json_object();

		json_object_set_new(e, "zone", jstr(f->zone));
		json_object_set_new(e, "listed", json_boolean(f->listed));
		json_object_set_new(e, "status", json_string(rg_dns_status_name(f->status)));
		if (f->listed) {
			json_object_set_new(e, "codes", jstr(f->codes));
			json_object_set_new(e, "reason", jstr(f->reason));
		}
		json_array_append_new(bl, e);
	}
	json_object_set_new(j, "dnsbl", bl);
	if (t->spf_checked) {
		json_t *spf = json_object();

		json_object_set_new(spf, "domain", jstr(t->spf.domain));
		json_object_set_new(spf, "result", json_string(rg_spf_result_name(t->spf.result)));
		json_object_set_new(spf, "explanation", jstr(t->spf.explanation));
		json_object_set_new(spf, "received_spf", jstr(t->spf.received_spf));
		json_object_set_new(spf, "authorised_open_relay",
		    json_boolean(t->spf_authorised_relay));
		json_object_set_new(j, "spf", spf);
	} else {
		json_object_set_new(j, "spf", json_null());
	}
}

/* The per-target transcript cap cut the middle out (transcript.c tx_record):
 * how much, and where the kept parts are. */
static void transcript_cut_json(json_t *j, const struct audit_target *t)
{
	json_t *c;

	if (!t->tx_truncated)
		return;
	c = json_object();
	json_object_set_new(c, "lines", json_integer((json_int_t)t->tx_cut_lines));
	json_object_set_new(c, "bytes", json_integer((json_int_t)t->tx_cut_bytes));
	json_object_set_new(c, "at", json_integer((json_int_t)t->tx_head));
	json_object_set_new(c, "head_bytes", json_integer(AUDIT_TX_HEAD_BYTES));
	json_object_set_new(c, "tail_bytes", json_integer(AUDIT_TX_TAIL_BYTES));
	json_object_set_new(j, "transcript_cut", c);
}

static json_t *tx_line_json(const struct tx_line *x)
{
	json_t *l = json_object();
	char dir[2] = {x->dir, '\0'};

	json_object_set_new(l, "time", iso(&x->when));
	json_object_set_new(l, "dir", json_string(dir));
	json_object_set_new(l, "line", jstr(x->line));
	json_object_set_new(l, "session", json_integer(x->tag ? x->tag->session : 0));
	json_object_set_new(l, "local_port", json_integer(x->tag ? x->tag->local_port : 0));
	return l;
}

/* -T: "transcript", every line in time order (what the connections did
 * side by side), and "transcript_sessions", one object per connection with
 * its own lines (session 0: never opened, or the target's own events). */
static void transcript_json(json_t *j, const struct audit_target *t)
{
	json_t *tx = json_array(), *sessions = json_array();
	const struct tx_tag **groups;
	size_t ngroups = audit_tx_groups(t, &groups);

	for (size_t i = 0; i < t->ntx; i++)
		json_array_append_new(tx, tx_line_json(&t->tx[i]));
	for (size_t k = 0; k < ngroups; k++) {
		json_t *s = json_object(), *lines = json_array();

		json_object_set_new(s, "session", json_integer(groups[k] ?
		    groups[k]->session : 0));
		json_object_set_new(s, "local_port", json_integer(groups[k] ?
		    groups[k]->local_port : 0));
		json_object_set_new(s, "target_events", json_boolean(groups[k] == NULL));
		for (size_t i = 0; i < t->ntx; i++)
			if (t->tx[i].tag == groups[k])
				json_array_append_new(lines, tx_line_json(&t->tx[i]));
		json_object_set_new(s, "lines", lines);
		json_array_append_new(sessions, s);
	}
	free(groups);
	json_object_set_new(j, "transcript", tx);
	json_object_set_new(j, "transcript_sessions", sessions);
	transcript_cut_json(j, t);
}

/* Who wrote it, what was tested, and what the server said about itself. */
static void server_json(json_t *j, const struct audit_target *t)
{
	json_t *pl = json_object();

	json_object_set_new(j, "tool", json_string("relayguard-audit"));
	json_object_set_new(j, "tool_version", json_string(RG_VERSION));
	json_object_set_new(j, "schema_version", json_string(RG_AUDIT_SCHEMA));
	json_object_set_new(j, "target", jstr(t->spec));
	json_object_set_new(j, "host", jstr(t->host));
	json_object_set_new(j, "address", t->address[0] ? json_string(t->address) :
	    json_null());
	json_object_set_new(j, "port", json_integer(t->port));
	json_object_set_new(j, "banner", jstr(t->banner));
	json_object_set_new(j, "ehlo_name", jstr(t->ehlo_name));
	json_object_set_new(j, "ehlo_keywords", jstr(t->ehlo_keywords));
	json_object_set_new(j, "starttls_offered", json_boolean(t->starttls_offered));
	json_object_set_new(pl, "offered", json_boolean(strstr(t->ehlo_keywords,
	    "PIPELINING") != NULL));
	json_object_set_new(pl, "groups", json_integer(t->pipelined_groups));
	json_object_set_new(pl, "desync", json_boolean(t->desync));
	json_object_set_new(pl, "lockstep_fallback", json_boolean(t->lockstep));
	if (t->desync_note[0])
		json_object_set_new(pl, "note", json_string(t->desync_note));
	json_object_set_new(j, "pipelining", pl);
	json_object_set_new(j, "tls", t->tls_used ? jstr(t->tls_info) : json_null());
	if (t->starttls_failed[0])	/* --starttls auto fell back to clear */
		json_object_set_new(j, "starttls_failed", jstr(t->starttls_failed));
	json_object_set_new(j, "mta", json_string(mta_name(t->mta)));
}

/* The verdict, its counts and the names the battery used. */
static void verdict_json(json_t *j, const struct audit_target *t,
    const struct audit_opts *o)
{
	json_t *names = json_array();

	json_object_set_new(j, "domain", json_string(o->domain));
	json_object_set_new(j, "second_domain", jstr(t->second_domain));
	json_object_set_new(j, "helo", json_string(o->helo));
	json_object_set_new(j, "verdict", json_string(verdict_name(t->verdict)));
	json_object_set_new(j, "verdict_reason", jstr(t->verdict_reason));
	json_object_set_new(j, "unresolved", json_boolean(t->unresolved));
	json_object_set_new(j, "severity", json_string(audit_severity(t)));
	json_object_set_new(j, "relay_probes", json_integer((json_int_t)t->n_relay));
	json_object_set_new(j, "accepted", json_integer((json_int_t)t->n_accepted));
	json_object_set_new(j, "refused", json_integer((json_int_t)t->n_refused));
	json_object_set_new(j, "untested", json_integer((json_int_t)t->n_untested));
	json_object_set_new(j, "untested_relevant",
	    json_integer((json_int_t)t->n_untested_relevant));
	json_object_set_new(j, "ehlo_refused", json_boolean(t->ehlo_refused));
	for (size_t i = 0; i < t->nnames; i++)
		json_array_append_new(names, json_string(t->names[i]));
	json_object_set_new(j, "local_names", names);
	json_object_set_new(j, "baseline_sender", t->baseline_from[0] ?
	    json_string(t->baseline_from) : json_null());
}

/* How the run went: sessions, politeness, times, who and from where. */
static void run_json(json_t *j, const struct audit_target *t, const struct audit_opts *o)
{
	json_object_set_new(j, "exit_code", json_integer(verdict_exit_code(t->verdict)));
	json_object_set_new(j, "sessions", json_integer(t->sessions));
	json_object_set_new(j, "politeness", polite_json(t, o));
	json_object_set_new(j, "start", iso(&t->start));
	json_object_set_new(j, "finish", iso(&t->finish));
	json_object_set_new(j, "elapsed_seconds", json_real(t->elapsed));
	json_object_set_new(j, "vantage", t->vantage[0] ? json_string(t->vantage) :
	    json_null());
	if (o->reporter != NULL)
		json_object_set_new(j, "reporter", rg_reporter_json(o->reporter));
	json_object_set_new(j, "clock", rg_clock_json(&o->clock));
	if (t->canary.tried)
		json_object_set_new(j, "confirmation", audit_canary_json(t));
	if (t->base.compared)
		json_object_set_new(j, "baseline", audit_baseline_json(t));
	if (t->error[0])
		json_object_set_new(j, "error", jstr(t->error));
}

/* The probes and, for an observed hole, the fix as text and as data. */
static void tests_json(json_t *j, const struct audit_target *t)
{
	json_t *tests = json_array();

	for (size_t i = 0; i < t->nprobes; i++)
		json_array_append_new(tests, probe_json(t, &t->probes[i]));
	json_object_set_new(j, "tests", tests);
	if (t->verdict == VERDICT_OPEN_RELAY) {
		char *fix = mta_remedy_string(t);

		json_object_set_new(j, "recommended_fix", json_string(fix));
		free(fix);
	}
	if (audit_fix_applies(t))
		remedy_json(j, t);
	domain_relay_json(j, t);
}

json_t *report_json_object(const struct audit_target *t, const struct audit_opts *o)
{
	json_t *j = json_object();

	server_json(j, t);
	verdict_json(j, t, o);
	dns_json(j, t);
	run_json(j, t, o);
	tests_json(j, t);
	if (o->transcript)
		transcript_json(j, t);
	return j;
}

/*
 * grade.c - from SMTP replies to probe outcomes, and from outcomes to a
 * verdict. Grading uses the numeric reply code and the enhanced status code
 * (RFC 3463) only, never the reply text: text differs across MTAs and
 * languages, and a "530" inside a text means nothing.
 *
 * The verdict controls for the two ways an RCPT-only tester is fooled
 * (REFERENCE.md section 2): an accept-all server (catch-alls, mail sinks,
 * honeypots accept every RCPT and refuse later) and greylisting or other
 * tempfails read as a final answer.
 */
#include "audit.h"
#include "lib/base/util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

enum outcome grade_reply(int code, const char *enhanced, bool tls_offered_in_clear)
{
	if (code >= 200 && code < 400)
		return OUT_ACCEPTED;
	if (code >= 400 && code < 500)
		return OUT_TEMPFAIL;
	if (code < 500 || code > 599)
		return OUT_ERROR;
	/* RFC 3207 and RFC 4954 both answer "530 5.7.0": which one depends on
	 * whether the server offered STARTTLS and we are still in clear. */
	if (code == 530) {
		bool generic = enhanced[0] == '\0' || strcmp(enhanced, "5.7.0") == 0;

		return generic && tls_offered_in_clear ? OUT_TLS_REQUIRED :
		    OUT_AUTH_REQUIRED;
	}
	if (code == 538 || strcmp(enhanced, "5.7.10") == 0 ||
	    strcmp(enhanced, "5.7.11") == 0)
		return OUT_TLS_REQUIRED;	/* RFC 4954 538, RFC 5248 X.7.10/11 */
	if (strcmp(enhanced, "5.7.57") == 0)
		return OUT_AUTH_REQUIRED;	/* Exchange: client not authenticated */
	return OUT_REJECTED;
}

bool probe_is_relay(const struct audit_probe *p)
{
	return !RG_TRICK_IS_CONTROL(p->spec.trick);
}

/*
 * A refusal before RCPT, permanent or temporary, says nothing about relaying:
 * the trick was not tried. A 4xx at MAIL is often not greylisting but a check
 * of that sender form (Haraka's mail_from.is_resolvable answers "450 Temp.
 * resolver error" to an address literal), so the probe stays untested and is
 * retried with a sender the server accepted (probe_wants_retry).
 */
enum outcome grade_pre_rcpt(int code, const char *enhanced, bool tls_offered_in_clear)
{
	enum outcome o = grade_reply(code, enhanced, tls_offered_in_clear);

	return o == OUT_REJECTED || o == OUT_TEMPFAIL ? OUT_UNTESTED : o;
}

bool probe_wants_retry(const struct audit_probe *p, const char *baseline_from)
{
	if (p->outcome != OUT_UNTESTED || p->retried || p->stage == NULL ||
	    strcmp(p->stage, "mail") != 0 || !probe_is_relay(p))
		return false;
	if (p->spec.trick->klass == RG_CLASS_SENDER)
		return false;		/* the sender is the trick */
	return baseline_from != NULL && baseline_from[0] != '\0' &&
	    strcmp(baseline_from, p->spec.mail_from) != 0;
}

bool probe_untested_relevant(const struct audit_probe *p)
{
	if (!probe_is_relay(p) || p->outcome == OUT_ACCEPTED || p->outcome == OUT_REJECTED)
		return false;
	if (p->outcome == OUT_UNTESTED && p->spec.trick->klass == RG_CLASS_SENDER &&
	    p->stage && strcmp(p->stage, "mail") == 0)
		return false;
	return true;
}

static const struct audit_probe *find_control(const struct audit_target *t,
    unsigned flag)
{
	for (size_t i = 0; i < t->nprobes; i++)
		if (t->probes[i].spec.trick->flags & flag)
			return &t->probes[i];
	return NULL;
}

static void append(char *buf, size_t len, const char *s)
{
	size_t used = strlen(buf);

	if (used < len - 1)
		snprintf(buf + used, len - used, "%s", s);
}

/*
 * The local name a routing trick is under: the domain after its last '@'
 * ("<T%D@NAME>", "<T@D@NAME>") or its source route ("<@NAME:T@D>"). Copies
 * it into buf; false when the recipient names none.
 */
static bool trick_name(const char *rcpt, char *buf, size_t len)
{
	const char *s = rcpt + (rcpt[0] == '<'), *end, *at;

	if (s[0] == '@') {
		s++;
		end = strchr(s, ':');
	} else if ((at = strrchr(s, '@')) != NULL) {
		s = at + 1;
		end = strchr(s, '>');
	} else {
		return false;
	}
	if (end == NULL)
		end = s + strlen(s);
	if (end == s || (size_t)(end - s) >= len)
		return false;
	memcpy(buf, s, (size_t)(end - s));
	buf[end - s] = '\0';
	return true;
}

/* Did the control "random local part at NAME" get accepted? */
static bool name_takes_any(const struct audit_target *t, const char *name)
{
	char cn[sizeof(t->probes[0].spec.rcpt_to)];

	for (size_t i = 0; i < t->nprobes; i++) {
		const struct audit_probe *c = &t->probes[i];

		if ((c->spec.trick->flags & RG_TRICK_CONTROL_NAME) &&
		    c->outcome == OUT_ACCEPTED && trick_name(c->spec.rcpt_to, cn, sizeof(cn)) &&
		    strcasecmp(cn, name) == 0)
			return true;
	}
	return false;
}

/*
 * An accepted routing trick under a name that accepts any local part is no
 * evidence: the server may deliver "T%D" or "T@D" as a local part there.
 */
static bool is_indistinct(const struct audit_target *t, const struct audit_probe *p)
{
	char name[sizeof(p->spec.rcpt_to)];

	return probe_is_relay(p) && p->outcome == OUT_ACCEPTED &&
	    p->spec.trick->klass == RG_CLASS_ROUTING &&
	    trick_name(p->spec.rcpt_to, name, sizeof(name)) && name_takes_any(t, name);
}

/* "B1, B5@localhost (+3 more)" for the probes matching want. */
static void list_ids(const struct audit_target *t,
    bool (*want)(const struct audit_target *, const struct audit_probe *),
    char *buf, size_t len)
{
	size_t shown = 0, more = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < t->nprobes; i++) {
		if (!probe_is_relay(&t->probes[i]) || !want(t, &t->probes[i]))
			continue;
		if (shown < 6) {
			if (shown)
				append(buf, len, ", ");
			append(buf, len, t->probes[i].spec.id);
			shown++;
		} else {
			more++;
		}
	}
	if (more) {
		char tail[32];

		snprintf(tail, sizeof(tail), " (+%zu more)", more);
		append(buf, len, tail);
	}
}

static bool is_accepted(const struct audit_target *t, const struct audit_probe *p)
{
	return p->outcome == OUT_ACCEPTED && !is_indistinct(t, p);
}

bool probe_is_evidence(const struct audit_target *t, const struct audit_probe *p)
{
	return probe_is_relay(p) && is_accepted(t, p);
}
static bool is_untested(const struct audit_probe *p)
{
	return p->outcome != OUT_ACCEPTED && p->outcome != OUT_REJECTED;
}

static size_t count_outcome(const struct audit_target *t, enum outcome o)
{
	size_t n = 0;

	for (size_t i = 0; i < t->nprobes; i++)
		if (probe_is_relay(&t->probes[i]) && t->probes[i].outcome == o)
			n++;
	return n;
}

static bool is_relevant_untested(const struct audit_target *t, const struct audit_probe *p)
{
	(void)t;
	return probe_untested_relevant(p);
}

/* A 4xx to MAIL: the reply of the probe's first (own sender) attempt. */
static bool deferred_at_mail(const char *stage, int code)
{
	return stage != NULL && strcmp(stage, "mail") == 0 && code / 100 == 4;
}

static bool was_deferred_at_mail(const struct audit_probe *p)
{
	return probe_is_relay(p) && (p->retried ?
	    deferred_at_mail(p->first.stage, p->first.code) :
	    deferred_at_mail(p->stage, p->code));
}

/*
 * Some probes' own senders got a 4xx at MAIL. With a baseline sender the
 * server accepted, that is a check of the sender form, not greylisting: say
 * so, with the first such reply. Returns whether any did.
 */
static bool deferred_sender_note(const struct audit_target *t, char *why, size_t whylen)
{
	const struct audit_probe *first = NULL;
	size_t n = 0;
	char buf[900];

	for (size_t i = 0; i < t->nprobes; i++) {
		if (!was_deferred_at_mail(&t->probes[i]))
			continue;
		if (first == NULL)
			first = &t->probes[i];
		n++;
	}
	if (first == NULL)
		return false;
	if (t->baseline_from[0] == '\0')
		return true;
	snprintf(buf, sizeof(buf), "; %zu probes had their own sender deferred at MAIL "
	    "(%s %s: %d %s) while the baseline sender %s was accepted: the server "
	    "does not take that sender form (a sender check such as a DNS test), "
	    "this is not greylisting; the tricks were retried with the baseline "
	    "sender", n, first->spec.id, first->retried ? first->first.mail_from :
	    first->spec.mail_from, first->retried ? first->first.code : first->code,
	    first->retried ? first->first.text : first->text, t->baseline_from);
	append(why, whylen, buf);
	return true;
}

static bool is_sender_refused(const struct audit_target *t, const struct audit_probe *p)
{
	(void)t;
	return probe_is_relay(p) && p->outcome == OUT_UNTESTED &&
	    !probe_untested_relevant(p);
}

/* "; 3 untested: 2 MAIL refused, 1 HELO refused" style tail. */
static void untested_detail(const struct audit_target *t, char *why, size_t whylen)
{
	size_t mail = 0, helo = 0, greeting = 0, retried = 0;
	char buf[200];

	for (size_t i = 0; i < t->nprobes; i++) {
		const struct audit_probe *p = &t->probes[i];

		if (!probe_is_relay(p))
			continue;
		retried += p->retried;
		if (p->outcome != OUT_UNTESTED || p->stage == NULL)
			continue;
		mail += strcmp(p->stage, "mail") == 0;
		helo += strcmp(p->stage, "helo") == 0;
		greeting += strcmp(p->stage, "connect") == 0;
	}
	snprintf(buf, sizeof(buf), "%zu refused at MAIL, %zu at HELO, ", mail, helo);
	append(why, whylen, buf);
	if (greeting) {
		snprintf(buf, sizeof(buf), "%zu at the greeting, ",
		    greeting);
		append(why, whylen, buf);
	}
	buf[0] = '\0';
	append(why, whylen, buf);
	snprintf(buf, sizeof(buf), "%zu tempfail, %zu auth_required, %zu tls_required, "
	    "%zu error, %zu not run", count_outcome(t, OUT_TEMPFAIL),
	    count_outcome(t, OUT_AUTH_REQUIRED), count_outcome(t, OUT_TLS_REQUIRED),
	    count_outcome(t, OUT_ERROR), count_outcome(t, OUT_NOT_RUN));
	append(why, whylen, buf);
	if (retried) {
		snprintf(buf, sizeof(buf), "; %zu probes refused at MAIL were retried with "
		    "the baseline sender", retried);
		append(why, whylen, buf);
	}
}

/*
 * Did the server refuse every session before MAIL (a 554 greeting, EHLO and
 * HELO refused)? Then nothing was tested: the probes carry the refusal at
 * stage "connect" or "helo", and none reached MAIL.
 */
static const struct audit_probe *refused_every_session(const struct audit_target *t)
{
	const struct audit_probe *first = NULL;

	for (size_t i = 0; i < t->nprobes; i++) {
		const struct audit_probe *p = &t->probes[i];

		if (p->outcome == OUT_NOT_RUN)
			continue;
		if (p->stage == NULL || p->code == 0 || (strcmp(p->stage, "connect") != 0 &&
		    strcmp(p->stage, "helo") != 0))
			return NULL;
		if (first == NULL)
			first = p;
	}
	return first;
}

static bool is_indistinct_pred(const struct audit_target *t, const struct audit_probe *p)
{
	return is_indistinct(t, p);
}

/* "; 12 routing tricks accepted under site.example (B1@site.example, ...):
 * this name accepts any local part ..." */
static void indistinct_note(const struct audit_target *t, size_t n, char *why,
    size_t whylen)
{
	char ids[256], buf[600];

	if (n == 0)
		return;
	list_ids(t, is_indistinct_pred, ids, sizeof(ids));
	snprintf(buf, sizeof(buf), "; %zu routing tricks were accepted (%s), but under "
	    "names where a random local part was accepted too (C3): this name accepts "
	    "any local part; the trick cannot be told from local delivery, and the "
	    "verdict does not rest on it", n, ids);
	append(why, whylen, buf);
}

/* What the relay probes did, counted once for the verdict. */
struct tally {
	size_t relay, accepted, refused, untested, relevant;
	size_t data_taken, data_refused, indistinct;
};

static void tally_probes(const struct audit_target *t, struct tally *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < t->nprobes; i++) {
		const struct audit_probe *p = &t->probes[i];

		if (!probe_is_relay(p))
			continue;
		c->relay++;
		if (is_indistinct(t, p)) {
			c->indistinct++;	/* neither acceptance nor its DATA counts */
			continue;
		}
		c->accepted += p->outcome == OUT_ACCEPTED;
		c->refused += p->outcome == OUT_REJECTED;
		c->untested += is_untested(p);
		c->relevant += probe_untested_relevant(p);
		c->data_taken += p->data == DATA_TAKEN;
		c->data_refused += p->data == DATA_REFUSED;
	}
}

/* No session, or every session refused before MAIL: true with the verdict. */
static bool grade_unreachable(struct audit_target *t, const struct tally *c)
{
	const struct audit_probe *refusal;
	char *why = t->verdict_reason;
	size_t whylen = sizeof(t->verdict_reason);

	if (t->sessions == 0 || (c->relay > 0 && count_outcome(t, OUT_NOT_RUN) == c->relay &&
	    t->banner[0] == '\0')) {
		t->verdict = VERDICT_UNREACHABLE;
		snprintf(why, whylen, "no SMTP session could be opened: %s",
		    t->error[0] ? t->error : "no reply");
		return true;
	}
	if ((refusal = refused_every_session(t)) == NULL)
		return false;
	/* Reachable, but refused to talk: nothing was tested from this
	 * address. Not "closed" (no relay was ever refused) and not
	 * "inconclusive" (no probe ran): unreachable for this audit. */
	t->verdict = VERDICT_UNREACHABLE;
	snprintf(why, whylen, "the server refused every SMTP session before MAIL "
	    "(%s: %d%s%s %s): no relay probe could be tried from this address; "
	    "run the audit from another address", strcmp(refusal->stage, "helo") == 0 ?
	    "EHLO/HELO" : "greeting", refusal->code, refusal->enhanced[0] ? " " : "",
	    refusal->enhanced, refusal->text);
	return true;
}

/* Open relay evidence: relaying towards -d, and towards the second domain
 * too - unless every accepted form was refused there (relays only for -d). */
static void grade_open(struct audit_target *t, const char *evidence)
{
	char *why = t->verdict_reason;
	size_t whylen = sizeof(t->verdict_reason);
	char ids[256];

	if (!grade_second_destination(t)) {
		t->verdict = VERDICT_OPEN_RELAY;
		snprintf(why, whylen, "%s", evidence);
		second_destination_note(t, why, whylen);
		return;
	}
	list_ids(t, is_accepted, ids, sizeof(ids));
	t->verdict = VERDICT_DOMAIN_RELAY;
	snprintf(why, whylen, "relays only for %s: %zu relay probes accepted towards "
	    "%s (%s), but every one of them was refused towards the second domain "
	    "%s, which no server relays for by design: the server relays for %s "
	    "by configuration (relay_domains, a backup MX or a transport for it), "
	    "not for any domain; not an open relay (%s)", t->domain, t->n_accepted,
	    t->domain, ids, t->second_domain, t->domain, evidence);
}

/* Relay probes were accepted at RCPT: what the controls and DATA say. */
static void grade_accepted(struct audit_target *t, const struct tally *c)
{
	const struct audit_probe *bogus = find_control(t, RG_TRICK_CONTROL_BOGUS);
	bool bogus_refused = bogus && bogus->outcome == OUT_REJECTED;
	char *why = t->verdict_reason, ids[256], ev[900];
	size_t whylen = sizeof(t->verdict_reason);

	list_ids(t, is_accepted, ids, sizeof(ids));
	if (c->data_taken > 0) {
		snprintf(ev, sizeof(ev), "%zu of %zu relay probes accepted (%s) and the "
		    "server took DATA (354) for %zu of them: it would have relayed "
		    "the message (the session was dropped before the final dot, "
		    "so nothing was sent)", c->accepted, c->relay, ids, c->data_taken);
		grade_open(t, ev);
	} else if (c->data_refused > 0 && bogus_refused) {
		/* refuses the impossible recipient, takes outside ones at
		 * RCPT, then refuses DATA for every one tried: relay control
		 * at DATA time (some MTAs and content filters decide there) */
		t->verdict = VERDICT_INCONCLUSIVE;
		snprintf(why, whylen, "%zu of %zu relay probes accepted at RCPT (%s), "
		    "but the server refused DATA for all %zu tried: relay is "
		    "enforced at DATA, not an open relay", c->accepted, c->relay, ids,
		    c->data_refused);
	} else if (bogus_refused) {
		snprintf(ev, sizeof(ev), "%zu of %zu relay probes accepted (%s), while the "
		    "impossible control recipient was refused: the server routes mail "
		    "to outside domains for this client", c->accepted, c->relay, ids);
		grade_open(t, ev);
	} else if (c->data_refused > 0) {
		t->verdict = VERDICT_ACCEPT_ALL;
		snprintf(why, whylen, "the server accepts every recipient at RCPT, the "
		    "impossible control too, but refused DATA for the relay probes: "
		    "indistinguishable from an open relay at RCPT time, and not one "
		    "at DATA (a catch-all, a mail sink or a honeypot)");
	} else {
		t->verdict = VERDICT_INCONCLUSIVE;
		snprintf(why, whylen, "%zu relay probes accepted (%s), but the server "
		    "also accepts the impossible control recipient and DATA was not "
		    "tested: it may be an accept-all server", c->accepted, ids);
	}
	if (c->untested) {
		char buf[96];

		snprintf(buf, sizeof(buf), "; %zu probes untested (", c->untested);
		append(why, whylen, buf);
		untested_detail(t, why, whylen);
		append(why, whylen, ")");
	}
	deferred_sender_note(t, why, whylen);
	indistinct_note(t, c->indistinct, why, whylen);
}

/* Every relevant relay probe reached RCPT and was refused. */
static void grade_closed(struct audit_target *t, const struct tally *c)
{
	const struct audit_probe *base = find_control(t, RG_TRICK_CONTROL_LOCAL);
	char *why = t->verdict_reason, ids[256];
	size_t whylen = sizeof(t->verdict_reason);

	t->verdict = VERDICT_CLOSED;
	snprintf(why, whylen, "all %zu relay probes that reached RCPT were refused",
	    c->refused);
	if (c->untested) {
		char buf[300];

		list_ids(t, is_sender_refused, ids, sizeof(ids));
		snprintf(buf, sizeof(buf), "; %zu sender-side probes untested because "
		    "the server refused their own sender at MAIL (%s): a sender it "
		    "refuses cannot relay", c->untested, ids);
		append(why, whylen, buf);
	}
	deferred_sender_note(t, why, whylen);
	indistinct_note(t, c->indistinct, why, whylen);
	if (base && base->outcome == OUT_REJECTED)
		append(why, whylen, "; note: even postmaster was refused, so the "
		    "refusals may be a policy against this client rather than relay "
		    "control");
}

/* Nothing accepted, but relay-relevant probes were left untested. */
static void grade_inconclusive(struct audit_target *t, const struct tally *c)
{
	char *why = t->verdict_reason, ids[256];
	size_t whylen = sizeof(t->verdict_reason);

	t->verdict = VERDICT_INCONCLUSIVE;
	list_ids(t, is_relevant_untested, ids, sizeof(ids));
	snprintf(why, whylen, "no relay probe was accepted, but %zu of %zu were untested "
	    "(%zu of them relay-relevant: %s): ", c->untested, c->relay, c->relevant, ids);
	untested_detail(t, why, whylen);
	indistinct_note(t, c->indistinct, why, whylen);
	/* 4xx at RCPT, or at MAIL for every sender: that may be greylisting */
	if (deferred_sender_note(t, why, whylen) && t->baseline_from[0] == '\0')
		append(why, whylen, "; every sender was deferred (4xx) at MAIL, which "
		    "may be greylisting: run again after the greylisting delay");
	if (count_outcome(t, OUT_TEMPFAIL) > 0)
		append(why, whylen, "; 4xx answers may be greylisting: run again after "
		    "the greylisting delay");
	if (count_outcome(t, OUT_TLS_REQUIRED) > 0)
		append(why, whylen, "; the server demands TLS: try --starttls always or --tls");
	if (count_outcome(t, OUT_UNTESTED) > 0)
		append(why, whylen, "; refused before RCPT, those tricks were never tried: "
		    "the server may still relay them (--local-name, or a sender it accepts)");
}

void grade_verdict(struct audit_target *t)
{
	struct tally c;

	tally_probes(t, &c);
	t->n_relay = c.relay;
	t->n_accepted = c.accepted;
	t->n_refused = c.refused;
	t->n_untested = c.untested;
	t->n_untested_relevant = c.relevant;
	if (grade_unreachable(t, &c))
		return;
	if (c.accepted > 0)
		grade_accepted(t, &c);
	else if (c.relevant == 0)
		grade_closed(t, &c);
	else
		grade_inconclusive(t, &c);
}

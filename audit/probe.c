/*
 * probe.c - one probe of the battery on a live session (probe.h).
 *
 * One probe = MAIL FROM, RCPT TO, then RSET (or, for an accepted relay
 * probe within the --data-probes budget, DATA and on 354 an abrupt close:
 * RFC 5321 4.1.1.4 - no final dot, so the server must not deliver).
 * Sessions are renewed before the server's error limits bite (Postfix
 * sleeps after smtpd_soft_error_limit = 10 errors and hangs up after 20),
 * after a DATA probe, and whenever the server drops us or answers 421; the
 * probe that was cut off is retried once on the new session. A reply
 * stream out of step, or a pipelined group the server drops, is never
 * graded: the probe runs again in lock-step on a fresh session.
 */
#include "probe.h"
#include "polite.h"
#include "transcript.h"
#include "lib/base/log.h"
#include "lib/base/util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

void brief_of(struct brief *b, const struct rg_reply *r)
{
	const char *nl = strchr(r->text, '\n');

	b->code = r->code;
	strlcpy_rg(b->enhanced, r->enhanced, sizeof(b->enhanced));
	snprintf(b->text, sizeof(b->text), "%.*s", nl ? (int)(nl - r->text) :
	    (int)strlen(r->text), r->text);
}

bool reply_timed(struct audit_target *t, struct session *s, const struct rg_reply *r,
    double secs, const char *path)
{
	bool late = polite_reply_delay(t, secs, r->code, path, s->erred);

	s->erred |= r->code >= 400;
	/* on a tarpit any error costs the session, late or not: Courier
	 * answers a syntax error at once and sleeps before its next reply */
	s->tarpitted |= late || (r->code >= 400 && polite_tarpit(t));
	return late;
}

void set_result_brief(struct audit_probe *p, const char *stage, const struct brief *b,
    bool tls_in_clear)
{
	p->stage = stage;
	p->code = b->code;
	strlcpy_rg(p->enhanced, b->enhanced, sizeof(p->enhanced));
	strlcpy_rg(p->text, b->text, sizeof(p->text));
	p->outcome = grade_reply(b->code, b->enhanced, tls_in_clear);
}

/*
 * The server refused the session before MAIL (a 554 greeting, EHLO and HELO
 * refused): nothing was asked about relaying, so the probe is untested -
 * never "rejected", which would read as relay control.
 */
static void set_refused(struct audit_probe *p, const char *stage,
    const struct rg_reply *r, bool tls_in_clear)
{
	struct brief b;

	brief_of(&b, r);
	set_result_brief(p, stage, &b, tls_in_clear);
	p->outcome = grade_pre_rcpt(r->code, r->enhanced, tls_in_clear);
	if (p->outcome == OUT_UNTESTED)
		p->untested_why = strcmp(stage, "helo") == 0 ? "HELO refused" :
		    "session refused";
}

void set_error(struct audit_probe *p, const char *stage, const char *why)
{
	p->stage = stage;
	p->code = 0;
	p->enhanced[0] = '\0';
	strlcpy_rg(p->text, why, sizeof(p->text));
	p->outcome = OUT_ERROR;
}

int probe_cost(const struct audit_target *t, const struct audit_probe *p)
{
	return 1 + (p->spec.first_rcpt[0] != '\0') + polite_sender_refused(t, p);
}

void grade_probe(struct audit_target *t, struct session *s, struct audit_probe *p,
    const struct brief *mail, const struct brief *first, const struct brief *rcpt,
    bool tls_in_clear)
{
	if (mail->code / 100 != 2) {
		set_result_brief(p, "mail", mail, tls_in_clear);
		p->outcome = grade_pre_rcpt(mail->code, mail->enhanced, tls_in_clear);
		if (p->outcome == OUT_UNTESTED)
			p->untested_why = "MAIL refused";
		t->mail_refusals += p->outcome == OUT_UNTESTED && mail->code / 100 == 5;
		/* the RCPTs fail too */
		s->errors += 1 + (rcpt != NULL && rcpt->code >= 400) +
		    (first != NULL && first->code >= 400);
		return;
	}
	if (first != NULL) {
		p->first_rcpt_code = first->code;
		strlcpy_rg(p->first_rcpt_text, first->text, sizeof(p->first_rcpt_text));
		s->errors += first->code >= 400;
	}
	if (t->baseline_from[0] == '\0')
		strlcpy_rg(t->baseline_from, probe_sender(p), sizeof(t->baseline_from));
	set_result_brief(p, "rcpt", rcpt, tls_in_clear);
	if (p->outcome != OUT_ACCEPTED)
		s->errors++;
}

const char *probe_sender(const struct audit_probe *p)
{
	return p->retried ? p->retry_from : p->spec.mail_from;
}

/* The HELO name a probe needs: its own (identity tricks) or the default. */
static const char *probe_helo(const struct audit_probe *p, const struct audit_opts *o)
{
	return p->spec.helo[0] ? p->spec.helo : o->helo;
}

bool take_data_budget(int *budget)
{
	bool ok;

	if (budget == NULL)	/* not the DATA pass */
		return false;
	ok = *budget > 0;
	if (ok)
		(*budget)--;
	return ok;
}

/*
 * The reply to DATA after probe p (pipelined behind its RCPT, or alone):
 * on 354 the connection is dropped before any text (RFC 5321 4.1.1.4: no
 * final dot, nothing is delivered). Only an accepted relay probe within
 * the budget is a DATA check; after a refused RCPT the DATA is refused too
 * (an error), or dropped like any 354. True when the session is gone.
 */
bool data_answer(struct audit_target *t, struct session *s, struct audit_probe *p,
    const struct rg_reply *r, bool check)
{
	if (check) {
		p->data_code = r->code;
		snprintf(p->data_text, sizeof(p->data_text), "%s", r->text);
	}
	if (r->code == 354) {
		struct timeval now;

		gettimeofday(&now, NULL);
		if (check)
			p->data = DATA_TAKEN;
		tx_record(t, &now, RG_TX_EVENT,
		    "354 received: dropping the connection before end of data "
		    "(RFC 5321 4.1.1.4: nothing is delivered)");
		close_session(t, s, false);
		return true;
	}
	if (check)
		p->data = DATA_REFUSED;
	s->errors++;
	return false;
}

/* DATA after an accepted relay probe, alone; true when the session is gone. */
bool data_probe(struct audit_target *t, struct session *s, struct audit_probe *p)
{
	struct rg_reply r;

	if (rg_smtp_command(s->conn, &r, "DATA") != 0) {
		p->data = DATA_ERROR;
		strlcpy_rg(p->data_text, rg_smtp_error(s->conn), sizeof(p->data_text));
		close_session(t, s, false);
		return true;
	}
	return data_answer(t, s, p, &r, true);
}

/*
 * One probe in lock-step on a live session whose HELO is the probe's: every
 * reply read before the next command, and nothing may arrive unasked.
 */
static enum probe_step run_probe(struct audit_target *t, struct session *s,
    struct audit_probe *p, int *data_budget, int limit)
{
	struct rg_reply r;
	struct brief mail, first, rcpt;
	bool in_clear = t->starttls_offered && !rg_smtp_tls_active(s->conn);
	bool two = p->spec.first_rcpt[0] != '\0';

	p->session = s->number;
	gettimeofday(&p->start, NULL);
	if (rg_smtp_unsolicited(s->conn))
		return STEP_DESYNC;
	if (s->need_rset) {	/* a pipelined group's last transaction */
		s->nonmail++;
		if (rg_smtp_command(s->conn, &r, "RSET") != 0 || r.code == 421)
			return STEP_RETRY;
		if (r.code / 100 != 2 || rg_smtp_unsolicited(s->conn))
			return STEP_DESYNC;
		s->need_rset = false;
	}
	double since = rg_now();

	if (rg_smtp_command(s->conn, &r, "MAIL FROM:%s", probe_sender(p)) != 0 ||
	    r.code == 421)
		return STEP_RETRY;
	reply_timed(t, s, &r, rg_now() - since, probe_sender(p));
	if (rg_smtp_unsolicited(s->conn))
		return STEP_DESYNC;
	brief_of(&mail, &r);
	if (r.code / 100 != 2) {
		grade_probe(t, s, p, &mail, NULL, NULL, in_clear);
		goto reset;
	}
	/* an after-local trick: the local RCPT first, in the same transaction */
	since = rg_now();
	if (two && (rg_smtp_command(s->conn, &r, "RCPT TO:%s", p->spec.first_rcpt) != 0 ||
	    r.code == 421))
		return STEP_RETRY;
	if (two && rg_smtp_unsolicited(s->conn))
		return STEP_DESYNC;
	if (two) {
		reply_timed(t, s, &r, rg_now() - since, p->spec.first_rcpt);
		brief_of(&first, &r);
		since = rg_now();
	}
	if (rg_smtp_command(s->conn, &r, "RCPT TO:%s", p->spec.rcpt_to) != 0 ||
	    r.code == 421)
		return STEP_RETRY;
	reply_timed(t, s, &r, rg_now() - since, p->spec.rcpt_to);
	if (rg_smtp_unsolicited(s->conn))
		return STEP_DESYNC;
	brief_of(&rcpt, &r);
	grade_probe(t, s, p, &mail, two ? &first : NULL, &rcpt, in_clear);
	if (p->outcome != OUT_ACCEPTED)
		goto reset;
	if (probe_is_relay(p) && take_data_budget(data_budget) && data_probe(t, s, p))
		goto done;
reset:
	if (s->errors >= limit) {
		/* its last error: any reply after it would be slowed (budget.c) */
		close_session(t, s, false);
		goto done;
	}
	if (s->tarpitted) {	/* no further probe: QUIT, its 221 read aside */
		close_session(t, s, true);
		goto done;
	}
	s->nonmail++;
	if (rg_smtp_command(s->conn, &r, "RSET") != 0 || r.code / 100 != 2)
		close_session(t, s, false);
done:
	gettimeofday(&p->finish, NULL);
	return STEP_DONE;
}

/* The session could not be had for p: graded from the refusal, or an error. */
static void open_failed(struct audit_target *t, struct runner *run, struct audit_probe *p,
    const char *stage, bool in_clear)
{
	if (run->fail_reply.code)
		set_refused(p, run->s.refused_at ? run->s.refused_at : stage,
		    &run->fail_reply, in_clear);
	else
		set_error(p, "connect", t->error);
}

bool session_rehello_room(const struct audit_target *t, const struct audit_opts *o,
    const struct session *s, const char *helo)
{
	int hellos = 1 + (t->tls_used && !o->implicit_tls) + s->rehellos;
	int back = strcmp(helo, o->helo) != 0;	/* the default name again later */

	/* room for this EHLO and the one back, and for a refusal of it */
	return !(s->dead || s->tarpitted || !session_may_rehello(t) ||
	    s->nonmail + 3 > session_nonmail_limit(t) ||
	    hellos + 1 + back > session_hello_limit(t) ||
	    s->errors + 2 > session_error_limit(t, o));
}

bool session_rehello(struct audit_target *t, const struct audit_opts *o,
    struct session *s, const char *helo)
{
	struct rg_reply r;

	if (!session_rehello_room(t, o, s, helo))
		return false;
	s->nonmail++;
	s->rehellos++;
	if (rg_smtp_command(s->conn, &r, "EHLO %s", helo) != 0 || r.code == 421 ||
	    rg_smtp_unsolicited(s->conn)) {
		close_session(t, s, false);
		return false;
	}
	if (r.code / 100 != 2) {
		/* OpenSMTPD: 503 "Already identified"; fresh sessions from now */
		s->errors++;
		session_no_rehello(t);
		return false;
	}
	/* RFC 5321 4.1.4: EHLO ends an open transaction, but Courier keeps
	 * it (the next MAIL draws "502 ESMTP command error"): an RSET owed
	 * stays owed */
	strlcpy_rg(s->helo, helo, sizeof(s->helo));
	session_rehello_taken(t);
	return true;
}

/* A session for p (a fresh one when its HELO or the server's limits ask
 * for it). False: p is graded from the failure. */
static bool session_for(struct audit_target *t, const struct audit_opts *o,
    struct runner *run, struct audit_probe *p)
{
	struct session *s = &run->s;
	const char *helo = probe_helo(p, o);
	bool identity = p->spec.helo[0] != '\0';
	char saved[sizeof(t->error)];

	if (!s->dead && (s->tarpitted || s->errors + probe_cost(t, p) > session_error_limit(t, o) ||
	    s->nonmail + 2 > session_nonmail_limit(t)))
		close_session(t, s, true);
	if (!s->dead && strcmp(s->helo, helo) != 0 && !session_rehello(t, o, s, helo))
		close_session(t, s, true);
	if (!s->dead) {
		rg_smtp_set_read_timeout(s->conn, polite_reply_timeout(t));
		return true;
	}
	strlcpy_rg(saved, t->error, sizeof(saved));
	if (open_session(t, o, s, helo, &run->fail_reply) == 0) {
		run->failed_opens = 0;
		return true;
	}
	if (identity && run->fail_reply.code) {
		/* the identity itself was refused: untested */
		open_failed(t, run, p, "helo", t->starttls_offered);
		strlcpy_rg(t->error, saved, sizeof(t->error));
		return false;
	}
	run->failed_opens++;
	open_failed(t, run, p, "connect", false);
	return false;
}

/* The default name back, as the fence of a pipelined identity probe (RFC
 * 2920: EHLO may end a group), where t is known to take it: one round trip
 * less than an EHLO of its own. NULL: a NOOP fences the probe. */
static const char *fence_back(const struct audit_target *t, const struct audit_opts *o,
    const struct session *s, bool data)
{
	if (data || strcmp(s->helo, o->helo) == 0 || !session_rehello_known(t) ||
	    !session_rehello_room(t, o, s, o->helo))
		return NULL;
	return o->helo;
}

/*
 * Run one probe: on a session whose HELO is the probe's. An identity probe
 * (its own HELO) says it with a new EHLO in the lane's session where the
 * server takes one (session_rehello), else on a fresh session; the next
 * probe says the default name again the same way. A probe that may make
 * the session's last error (budget.c) goes in lock-step: nothing follows
 * its reply, not even the fence of a pipelined group.
 */
void run_one(struct audit_target *t, const struct audit_opts *o, struct runner *run,
    struct audit_probe *p)
{
	struct session *s = &run->s;
	int attempts = 0;

	if (polite_refused_before(t, p))
		return;
	/* A server that keeps refusing sessions is not asked 40 times. */
	if (run->failed_opens >= 3) {
		open_failed(t, run, p, "connect", false);
		return;
	}
	for (;;) {
		if (rg_now() > run->deadline) {
			set_error(p, "connect", "time budget for this target exhausted");
			break;
		}
		if (!session_for(t, o, run, p))
			break;
		int limit = session_error_limit(t, o);
		bool data = run->data_budget != NULL && *run->data_budget > 0 && probe_is_relay(p);
		bool piped = s->pipelining && !t->lockstep && !o->no_pipelining &&
		    s->errors + probe_cost(t, p) + data < limit && !polite_tarpit(t);
		enum probe_step st = piped ? run_probe_pipelined(t, s, p, run->data_budget,
		    fence_back(t, o, s, data)) : run_probe(t, s, p, run->data_budget, limit);
		int number = s->number;

		if (st == STEP_DONE) {
			if (!s->dead && s->errors >= limit)
				close_session(t, s, false);	/* a refused DATA was the last */
			break;
		}
		if (st == STEP_DESYNC) {
			/* nothing of this session is trusted: a fresh one, in
			 * lock-step, while the target is still trusted at all */
			close_session(t, s, false);
			if (polite_out_of_step(t, piped ? "in a pipelined group" :
			    "after a reply", p->spec.id, number, piped))
				continue;
			set_error(p, "rcpt", "reply stream out of step (unsolicited reply "
			    "lines): no answer can be trusted");
			break;
		}
		if (piped && rg_smtp_status(s->conn) != RG_SMTP_OK) {
			/* dropped on a pipelined group (no 421): a relay must not
			 * hide behind it; lock-step on a fresh session */
			polite_pipelining_dropped(t, p->spec.id, number, rg_smtp_error(s->conn));
			close_session(t, s, false);
			continue;
		}
		/* Dropped or 421: one more try on a fresh session. */
		const char *why = rg_smtp_status(s->conn) == RG_SMTP_OK ?
		    "server answered 421 and closed the session" : rg_smtp_error(s->conn);

		set_error(p, "rcpt", why);
		if (rg_smtp_status(s->conn) == RG_SMTP_OK) {
			p->outcome = OUT_TEMPFAIL, p->code = 421;
			if (s->errors > 1)	/* "too many errors": fewer per session */
				session_lower_error_limit(t, s->errors);
		}
		close_session(t, s, false);
		if (++attempts > 1)
			break;
	}
	if (p->finish.tv_sec == 0)
		gettimeofday(&p->finish, NULL);
}

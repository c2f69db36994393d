/*
 * session.c - run the relay battery against one target.
 *
 * One probe = MAIL FROM, RCPT TO, then RSET (or, for an accepted relay
 * probe within the --data-probes budget, DATA and on 354 an abrupt close:
 * RFC 5321 4.1.1.4 - no final dot, so the server must not deliver).
 * Sessions are renewed before the server's error limits bite (Postfix
 * sleeps after smtpd_soft_error_limit = 10 errors and hangs up after 20),
 * after a DATA probe, and whenever the server drops us or answers 421; the
 * probe that was cut off is retried once on the new session.
 */
#include "audit.h"
#include "connect.h"
#include "relayguard/log.h"
#include "relayguard/util.h"

#include <arpa/inet.h>
#include "relayguard/fiber.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define RG_BATCH_MAX	16	/* probes in one pipelined group */

void audit_target_free(struct audit_target *t)
{
	for (size_t i = 0; i < t->ntx; i++)
		free(t->tx[i].line);
	free(t->tx);
	free(t->probes);
	free(t->dnsbl);
	t->dnsbl = NULL;
	t->ndnsbl = 0;
	t->tx = NULL;
	t->probes = NULL;
	t->ntx = t->nprobes = 0;
}


static void set_result(struct audit_probe *p, const char *stage, const struct rg_reply *r,
    bool tls_in_clear)
{
	const char *nl;

	p->stage = stage;
	p->code = r->code;
	strlcpy_rg(p->enhanced, r->enhanced, sizeof(p->enhanced));
	nl = strchr(r->text, '\n');
	snprintf(p->text, sizeof(p->text), "%.*s", nl ? (int)(nl - r->text) :
	    (int)strlen(r->text), r->text);
	p->outcome = grade_reply(r->code, r->enhanced, tls_in_clear);
}

/*
 * The server refused the session before MAIL (a 554 greeting, EHLO and HELO
 * refused): nothing was asked about relaying, so the probe is untested -
 * never "rejected", which would read as relay control.
 */
static void set_refused(struct audit_probe *p, const char *stage,
    const struct rg_reply *r, bool tls_in_clear)
{
	set_result(p, stage, r, tls_in_clear);
	p->outcome = grade_pre_rcpt(r->code, r->enhanced, tls_in_clear);
	if (p->outcome == OUT_UNTESTED)
		p->untested_why = strcmp(stage, "helo") == 0 ? "HELO refused" :
		    "session refused";
}

static void set_error(struct audit_probe *p, const char *stage, const char *why)
{
	p->stage = stage;
	p->code = 0;
	p->enhanced[0] = '\0';
	strlcpy_rg(p->text, why, sizeof(p->text));
	p->outcome = OUT_ERROR;
}

/* STEP_DESYNC: the reply stream is out of step with the commands (an
 * unsolicited extra line, or a fence that did not answer as it must). */
enum probe_step { STEP_DONE, STEP_RETRY, STEP_DESYNC };

/* The sender this attempt uses: the trick's own, or the baseline on a retry. */
static const char *probe_sender(const struct audit_probe *p)
{
	return p->retried ? p->retry_from : p->spec.mail_from;
}

/* The HELO name a probe needs: its own (identity tricks) or the default. */
static const char *probe_helo(const struct audit_probe *p, const struct audit_opts *o)
{
	return p->spec.helo[0] ? p->spec.helo : o->helo;
}

/* One of the target's --data-probes, shared by its sessions. */
static bool take_data_budget(int *budget)
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
 * DATA after an accepted relay probe: on 354 drop the connection before any
 * text (RFC 5321 4.1.1.4: no final dot, nothing is delivered). True when
 * the session is gone.
 */
static bool data_probe(struct audit_target *t, struct session *s, struct audit_probe *p)
{
	struct rg_reply r;

	if (rg_smtp_command(s->conn, &r, "DATA") != 0) {
		p->data = DATA_ERROR;
		strlcpy_rg(p->data_text, rg_smtp_error(s->conn), sizeof(p->data_text));
		close_session(t, s, false);
		return true;
	}
	p->data_code = r.code;
	snprintf(p->data_text, sizeof(p->data_text), "%s", r.text);
	if (r.code == 354) {
		struct timeval now;

		gettimeofday(&now, NULL);
		p->data = DATA_TAKEN;
		tx_record(t, &now, RG_TX_EVENT,
		    "354 received: dropping the connection before end of data "
		    "(RFC 5321 4.1.1.4: nothing is delivered)");
		close_session(t, s, false);
		return true;
	}
	p->data = DATA_REFUSED;
	s->errors++;
	return false;
}

/*
 * The same probe pipelined (RFC 2920), one round trip: the RSET the last
 * probe left open, MAIL, RCPT and a NOOP as a fence, in one write. The
 * replies are read back in order; the NOOP must answer 2xx and nothing may
 * follow it, else the stream is out of step (an unsolicited line shifts
 * every reply onto the wrong command; a refusal would land on the NOOP).
 * DATA, when it is tried, goes alone after the group.
 */
static enum probe_step run_probe_pipelined(struct audit_target *t, struct session *s,
    struct audit_probe *p, int *data_budget)
{
	struct rg_reply r, mail, rcpt;
	bool in_clear = t->starttls_offered && !rg_smtp_tls_active(s->conn);
	const char *from = probe_sender(p), *cmds[4];
	char mcmd[1100], rcmd[1100];
	size_t n = 0;
	bool rset = s->need_rset;

	p->session = s->number;
	gettimeofday(&p->start, NULL);
	if (rg_smtp_unsolicited(s->conn))
		return STEP_DESYNC;
	snprintf(mcmd, sizeof(mcmd), "MAIL FROM:%s", from);
	snprintf(rcmd, sizeof(rcmd), "RCPT TO:%s", p->spec.rcpt_to);
	if (rset)
		cmds[n++] = "RSET";
	cmds[n++] = mcmd;
	cmds[n++] = rcmd;
	cmds[n++] = "NOOP";
	s->nonmail += 1 + rset;
	if (rg_smtp_send_group(s->conn, cmds, n) != 0)
		return STEP_RETRY;
	t->pipelined_groups++;
	if (rset) {
		if (rg_smtp_read_reply(s->conn, &r) != 0 || r.code == 421)
			return STEP_RETRY;
		if (r.code / 100 != 2)
			return STEP_DESYNC;
	}
	s->need_rset = true;
	if (rg_smtp_read_reply(s->conn, &mail) != 0 || mail.code == 421 ||
	    rg_smtp_read_reply(s->conn, &rcpt) != 0 || rcpt.code == 421 ||
	    rg_smtp_read_reply(s->conn, &r) != 0 || r.code == 421)
		return STEP_RETRY;
	if (r.code / 100 != 2 || rg_smtp_unsolicited(s->conn))
		return STEP_DESYNC;
	if (mail.code / 100 != 2) {
		set_result(p, "mail", &mail, in_clear);
		p->outcome = grade_pre_rcpt(mail.code, mail.enhanced, in_clear);
		if (p->outcome == OUT_UNTESTED)
			p->untested_why = "MAIL refused";
		s->errors += 1 + (rcpt.code >= 400);	/* the RCPT then fails too */
		goto done;
	}
	if (t->baseline_from[0] == '\0')
		strlcpy_rg(t->baseline_from, from, sizeof(t->baseline_from));
	set_result(p, "rcpt", &rcpt, in_clear);
	if (p->outcome != OUT_ACCEPTED) {
		s->errors++;
		goto done;
	}
	if (probe_is_relay(p) && take_data_budget(data_budget))
		data_probe(t, s, p);
done:
	gettimeofday(&p->finish, NULL);
	return STEP_DONE;
}

/*
 * One probe on a live session whose HELO is the probe's. STEP_RETRY: the
 * session died under it (drop or 421) and the probe should run again on a
 * fresh one. A refusal of MAIL leaves the trick untested (grade_pre_rcpt).
 */
static enum probe_step run_probe(struct audit_target *t, struct session *s,
    struct audit_probe *p, int *data_budget)
{
	struct rg_reply r;
	bool in_clear = t->starttls_offered && !rg_smtp_tls_active(s->conn);
	const char *from = probe_sender(p);

	p->session = s->number;
	gettimeofday(&p->start, NULL);
	if (rg_smtp_unsolicited(s->conn))
		return STEP_DESYNC;
	if (rg_smtp_command(s->conn, &r, "MAIL FROM:%s", from) != 0 ||
	    r.code == 421)
		return STEP_RETRY;
	if (rg_smtp_unsolicited(s->conn))
		return STEP_DESYNC;
	if (r.code / 100 != 2) {
		set_result(p, "mail", &r, in_clear);
		p->outcome = grade_pre_rcpt(r.code, r.enhanced, in_clear);
		if (p->outcome == OUT_UNTESTED)
			p->untested_why = "MAIL refused";
		s->errors++;
		goto reset;
	}
	if (t->baseline_from[0] == '\0')
		strlcpy_rg(t->baseline_from, from, sizeof(t->baseline_from));
	if (rg_smtp_command(s->conn, &r, "RCPT TO:%s", p->spec.rcpt_to) != 0 ||
	    r.code == 421)
		return STEP_RETRY;
	if (rg_smtp_unsolicited(s->conn))
		return STEP_DESYNC;
	set_result(p, "rcpt", &r, in_clear);
	if (p->outcome != OUT_ACCEPTED) {
		s->errors++;
		goto reset;
	}
	if (probe_is_relay(p) && take_data_budget(data_budget) && data_probe(t, s, p))
		goto done;
reset:
	s->nonmail++;
	if (rg_smtp_command(s->conn, &r, "RSET") != 0 || r.code / 100 != 2)
		close_session(t, s, false);
done:
	gettimeofday(&p->finish, NULL);
	return STEP_DONE;
}

static void build_battery(struct audit_target *t, const struct audit_opts *o)
{
	char token[13], rnd[16];
	const char *names[AUDIT_NAMES_MAX];
	struct rg_probe_spec *specs;
	struct rg_trick_params tp = {0};
	struct audit_name_facts nf = {
		.ip_literal = t->ip_literal, .banner_name = t->banner_name,
		.ehlo_name = t->ehlo_name, .mx_domain = t->mail_domain,
		.mx_host = t->mx_host, .ptr = t->ptr,
		.operator_names = o->local_names, .noperator = o->nlocal_names,
	};

	/* {R}: the accept-all control's local part and domain (under .invalid) */
	rg_random_token(token, 12);
	snprintf(rnd, sizeof(rnd), "rg%s", token);
	tp.domain = o->domain;
	tp.sender_domain = o->sender_domain;
	tp.ip_literal = t->ip_literal;
	tp.server_name = t->server_name;
	tp.random = rnd;
	t->nnames = audit_name_set(&nf, t->names, AUDIT_NAMES_MAX);
	for (size_t i = 0; i < t->nnames; i++)
		names[i] = t->names[i];
	size_t n = rg_battery_build(&tp, names, t->nnames, &specs);

	t->probes = xcalloc(n, sizeof(*t->probes));
	t->nprobes = 0;
	for (size_t i = 0; i < n; i++) {
		/* an identity that is the session default (--helo) is what every
		 * default session says already: no session of its own */
		if (specs[i].helo[0] && strcasecmp(specs[i].helo, o->helo) == 0)
			continue;
		t->probes[t->nprobes++].spec = specs[i];
	}
	free(specs);
}

/* The state one target's probes share: the live session and budgets. */
struct runner {
	struct session s;
	struct rg_reply fail_reply;
	int *data_budget;		/* the target's, shared; NULL: no DATA now */
	int failed_opens;
	double deadline;
};

/* Save a probe's attempt before it is run again. */
static void keep_first_attempt(struct audit_probe *p)
{
	struct audit_attempt *a = &p->first;

	strlcpy_rg(a->mail_from, p->spec.mail_from, sizeof(a->mail_from));
	a->outcome = p->outcome;
	a->stage = p->stage;
	a->code = p->code;
	strlcpy_rg(a->enhanced, p->enhanced, sizeof(a->enhanced));
	strlcpy_rg(a->text, p->text, sizeof(a->text));
	a->session = p->session;
	p->retried = true;
	p->outcome = OUT_NOT_RUN;
	p->stage = NULL;
	p->code = 0;
	p->enhanced[0] = p->text[0] = '\0';
	p->untested_why = NULL;
	memset(&p->finish, 0, sizeof(p->finish));
}

/*
 * Run one probe: on a session whose HELO is the probe's. An identity probe
 * (its own HELO) always gets a fresh session of its own - one identity per
 * session, never a second EHLO in a greeted session (OpenSMTPD answers that
 * with 503 "Already identified") - and the session is closed after it.
 */
static void run_one(struct audit_target *t, const struct audit_opts *o,
    struct runner *run, struct audit_probe *p)
{
	struct session *s = &run->s;
	const char *helo = probe_helo(p, o);
	bool identity = p->spec.helo[0] != '\0';
	int attempts = 0;

	/* A server that keeps refusing sessions is not asked 40 times. */
	if (run->failed_opens >= 3) {
		if (run->fail_reply.code) {
			set_refused(p, s->refused_at ? s->refused_at : "connect",
			    &run->fail_reply, false);
		} else {
			set_error(p, "connect", t->error);
		}
		return;
	}
	for (;;) {
		if (rg_now() > run->deadline) {
			set_error(p, "connect", "time budget for this target exhausted");
			break;
		}
		if (!s->dead && (s->errors >= o->errors_per_session || identity ||
		    s->nonmail + 2 > SESSION_NONMAIL_MAX ||
		    strcmp(s->helo, helo) != 0))
			close_session(t, s, true);
		if (s->dead) {
			char saved[sizeof(t->error)];

			strlcpy_rg(saved, t->error, sizeof(saved));
			if (open_session(t, o, s, helo, &run->fail_reply) != 0) {
				if (identity && run->fail_reply.code) {
					/* the identity itself was refused: untested */
					bool in_clear = t->starttls_offered;

					set_refused(p, s->refused_at ? s->refused_at :
					    "helo", &run->fail_reply, in_clear);
					strlcpy_rg(t->error, saved, sizeof(t->error));
					break;
				}
				run->failed_opens++;
				if (run->fail_reply.code) {
					set_refused(p, s->refused_at ? s->refused_at :
					    "connect", &run->fail_reply, false);
				} else {
					set_error(p, "connect", t->error);
				}
				break;
			}
		}
		run->failed_opens = 0;
		bool piped = s->pipelining && !t->lockstep && !o->no_pipelining;

		enum probe_step st = piped ? run_probe_pipelined(t, s, p, run->data_budget) :
		    run_probe(t, s, p, run->data_budget);

		if (st == STEP_DONE)
			break;
		if (st == STEP_DESYNC) {
			struct timeval now;

			gettimeofday(&now, NULL);
			close_session(t, s, false);
			t->desync = true;
			if (piped && !t->lockstep) {
				/* Once more in lock-step, for the rest of this target. */
				t->lockstep = true;
				snprintf(t->desync_note, sizeof(t->desync_note),
				    "pipelined replies out of step at probe %s (session %d): "
				    "fell back to lock-step", p->spec.id, p->session);
				tx_record(t, &now, RG_TX_EVENT, t->desync_note);
			}
			if (piped)
				continue;
			tx_record(t, &now, RG_TX_EVENT, "reply stream out of step: "
			    "the server sent lines nobody asked for");
			set_error(p, "rcpt", "reply stream out of step (unsolicited reply "
			    "lines): no answer can be trusted");
			break;
		}
		/* Dropped or 421: one more try on a fresh session. */
		const char *why = rg_smtp_status(s->conn) == RG_SMTP_OK ?
		    "server answered 421 and closed the session" : rg_smtp_error(s->conn);

		set_error(p, "rcpt", why);
		if (rg_smtp_status(s->conn) == RG_SMTP_OK)
			p->outcome = OUT_TEMPFAIL, p->code = 421;
		close_session(t, s, false);
		if (++attempts > 1)
			break;
	}
	if (identity && !s->dead)
		close_session(t, s, true);
	if (p->finish.tv_sec == 0)
		gettimeofday(&p->finish, NULL);
}

/* What a batch keeps of a reply until it is graded (a whole struct rg_reply
 * is 4 KB: 2 x 16 of them would sit on every session fiber's stack). */
struct brief {
	int code;
	char enhanced[16];
	char text[512];
};

static void brief_of(struct brief *b, const struct rg_reply *r)
{
	const char *nl = strchr(r->text, '\n');

	b->code = r->code;
	strlcpy_rg(b->enhanced, r->enhanced, sizeof(b->enhanced));
	snprintf(b->text, sizeof(b->text), "%.*s", nl ? (int)(nl - r->text) :
	    (int)strlen(r->text), r->text);
}

static void set_result_brief(struct audit_probe *p, const char *stage,
    const struct brief *b, bool tls_in_clear)
{
	p->stage = stage;
	p->code = b->code;
	strlcpy_rg(p->enhanced, b->enhanced, sizeof(p->enhanced));
	strlcpy_rg(p->text, b->text, sizeof(p->text));
	p->outcome = grade_reply(b->code, b->enhanced, tls_in_clear);
}

/* Run the accepted relay probes among pp[0..n) again alone, with the DATA
 * check, while the target's DATA budget lasts. */
static void data_checks(struct audit_target *t, const struct audit_opts *o,
    struct runner *run, struct audit_probe **pp, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool more;

		if (pp[i]->outcome != OUT_ACCEPTED || !probe_is_relay(pp[i]))
			continue;
		more = run->data_budget && *run->data_budget > 0;
		if (more)
			run_one(t, o, run, pp[i]);	/* again, with DATA */
	}
}

/*
 * Several probes in one pipelined group (RFC 2920), one round trip for all:
 * [RSET] then MAIL, RCPT and RSET per probe, a NOOP fence instead of the
 * last RSET. Every RSET and the NOOP must answer 2xx and nothing may follow
 * the NOOP, else the stream is out of step: the target falls back to
 * lock-step and the probes run again one by one. A probe cut off by a drop
 * or a 421 runs again alone (run_one retries it on a fresh session). An
 * accepted relay probe that is to get the DATA check runs again alone too
 * (DATA goes last in a group of its own). Returns false when the batch
 * could not be tried at all (the caller then runs the probes one by one).
 */
static bool run_batch(struct audit_target *t, const struct audit_opts *o, struct runner *run,
    struct audit_probe **pp, size_t n)
{
	struct session *s = &run->s;
	char (*cmd)[1100];
	const char *cmds[3 * RG_BATCH_MAX + 1];
	struct brief *mail, *rcpt;
	struct rg_reply r;
	size_t nc = 0, got = 0;
	bool rset = false, desync = false, in_clear;

	/* A session with room for n more errors and n + 1 non-mail commands
	 * below the server's limits; else a new one, which has. */
	if (!s->dead && (s->errors + (int)n > o->errors_per_session ||
	    s->nonmail + (int)n + 1 > SESSION_NONMAIL_MAX || strcmp(s->helo, o->helo) != 0))
		close_session(t, s, true);
	if (s->dead && (run->failed_opens > 0 || rg_now() > run->deadline ||
	    open_session(t, o, s, o->helo, &run->fail_reply) != 0))
		return false;
	if (s->nonmail + (int)n + 1 > SESSION_NONMAIL_MAX)
		return false;	/* STARTTLS took room: the caller runs them one by one */
	if (!s->pipelining || t->lockstep || rg_smtp_unsolicited(s->conn))
		return false;
	in_clear = t->starttls_offered && !rg_smtp_tls_active(s->conn);
	rset = s->need_rset;
	/* on the heap: a fiber per session, and its stack pages are the RSS */
	cmd = xcalloc(2 * n, sizeof(*cmd));
	mail = xcalloc(n, sizeof(*mail));
	rcpt = xcalloc(n, sizeof(*rcpt));
	if (rset)
		cmds[nc++] = "RSET";
	s->nonmail += (int)n + rset;	/* n - 1 RSETs and the NOOP fence */
	for (size_t i = 0; i < n; i++) {
		snprintf(cmd[2 * i], sizeof(cmd[0]), "MAIL FROM:%s", probe_sender(pp[i]));
		snprintf(cmd[2 * i + 1], sizeof(cmd[0]), "RCPT TO:%s", pp[i]->spec.rcpt_to);
		cmds[nc++] = cmd[2 * i];
		cmds[nc++] = cmd[2 * i + 1];
		cmds[nc++] = i + 1 < n ? "RSET" : "NOOP";
		pp[i]->session = s->number;
		gettimeofday(&pp[i]->start, NULL);
	}
	if (rg_smtp_send_group(s->conn, cmds, nc) != 0) {
		close_session(t, s, false);
		free(cmd);
		free(mail);
		free(rcpt);
		return false;
	}
	t->pipelined_groups++;
	if (rset && (rg_smtp_read_reply(s->conn, &r) != 0 || r.code == 421 ||
	    (r.code / 100 != 2 && (desync = true))))
		goto cut;
	for (got = 0; got < n; got++) {
		if (rg_smtp_read_reply(s->conn, &r) != 0 || r.code == 421)
			goto cut;
		brief_of(&mail[got], &r);
		if (rg_smtp_read_reply(s->conn, &r) != 0 || r.code == 421)
			goto cut;
		brief_of(&rcpt[got], &r);
		if (rg_smtp_read_reply(s->conn, &r) != 0 || r.code == 421)
			goto cut;
		if (r.code / 100 != 2) {
			desync = true;
			goto cut;
		}
	}
	if (rg_smtp_unsolicited(s->conn)) {
		desync = true;
		goto cut;
	}
	s->need_rset = false;
	for (size_t i = 0; i < n; i++) {
		struct audit_probe *p = pp[i];

		if (mail[i].code / 100 != 2) {
			set_result_brief(p, "mail", &mail[i], in_clear);
			p->outcome = grade_pre_rcpt(mail[i].code, mail[i].enhanced, in_clear);
			if (p->outcome == OUT_UNTESTED)
				p->untested_why = "MAIL refused";
			s->errors += 1 + (rcpt[i].code >= 400);
		} else {
			if (t->baseline_from[0] == '\0')
				strlcpy_rg(t->baseline_from, probe_sender(p),
				    sizeof(t->baseline_from));
			set_result_brief(p, "rcpt", &rcpt[i], in_clear);
			if (p->outcome != OUT_ACCEPTED)
				s->errors++;
		}
		gettimeofday(&p->finish, NULL);
	}
	s->need_rset = true;	/* the last transaction is still open */
	data_checks(t, o, run, pp, n);
	goto out;
cut:
	close_session(t, s, false);
	if (desync) {
		struct timeval now;

		gettimeofday(&now, NULL);
		t->desync = true;
		if (!t->lockstep) {
			t->lockstep = true;
			snprintf(t->desync_note, sizeof(t->desync_note),
			    "pipelined replies out of step in a group of %zu probes from %s "
			    "(session %d): fell back to lock-step", n, pp[0]->spec.id,
			    pp[0]->session);
			tx_record(t, &now, RG_TX_EVENT, t->desync_note);
		}
		got = 0;	/* nothing of this group can be trusted */
	}
	for (size_t i = 0; i < got; i++) {	/* answered before the cut */
		struct audit_probe *p = pp[i];

		if (mail[i].code / 100 != 2) {
			set_result_brief(p, "mail", &mail[i], in_clear);
			p->outcome = grade_pre_rcpt(mail[i].code, mail[i].enhanced, in_clear);
			if (p->outcome == OUT_UNTESTED)
				p->untested_why = "MAIL refused";
		} else {
			set_result_brief(p, "rcpt", &rcpt[i], in_clear);
		}
		gettimeofday(&p->finish, NULL);
	}
	for (size_t i = got; i < n; i++)
		run_one(t, o, run, pp[i]);
	data_checks(t, o, run, pp, got);
out:
	free(cmd);
	free(mail);
	free(rcpt);
	return true;
}

/*
 * The probes of one pass, taken in order by up to --per-host sessions at
 * once: the caller's runner (holding the first session) and per_host - 1
 * fibers with runners of their own. Results go to each probe's own slot,
 * so the report is the same whatever session ran what.
 */
struct probe_queue {
	struct audit_target *t;
	const struct audit_opts *o;
	size_t *order, n, next;
	int *data_budget;
	double deadline;
};

/* Probes that may share a pipelined group: the default HELO, no identity. */
static bool batchable(const struct audit_probe *p)
{
	return p->spec.helo[0] == '\0';
}

static void drain(struct probe_queue *q, struct runner *run)
{
	struct audit_target *t = q->t;
	const struct audit_opts *o = q->o;
	size_t max = (size_t)o->errors_per_session;
	/* a fresh session has said EHLO (and STARTTLS, EHLO again): a group
	 * of n adds n non-mail commands (RSETs, the NOOP fence) */
	int hello = t->tls_used && !o->implicit_tls ? 3 : 1;

	if (max > RG_BATCH_MAX)
		max = RG_BATCH_MAX;
	if (max > (size_t)(SESSION_NONMAIL_MAX - hello - 1))
		max = (size_t)(SESSION_NONMAIL_MAX - hello - 1);
	for (;;) {
		struct audit_probe *pp[RG_BATCH_MAX];
		size_t n = 0;
		bool batch;

		batch = !o->no_pipelining && !t->lockstep && q->data_budget == NULL &&
		    strstr(t->ehlo_keywords, "PIPELINING") != NULL;
		while (q->next < q->n && n < (batch ? max : 1)) {
			struct audit_probe *p = &t->probes[q->order[q->next]];

			if (n > 0 && !batchable(p))
				break;
			pp[n++] = p;
			q->next++;
			if (!batchable(p))
				break;
		}
		if (n == 0)
			return;
		if (n > 1 && run_batch(t, o, run, pp, n))
			continue;
		for (size_t i = 0; i < n; i++)
			run_one(t, o, run, pp[i]);
	}
}

static void lane_main(void *arg)
{
	struct probe_queue *q = arg;
	struct runner run = {.s = {.dead = true}, .data_budget = q->data_budget,
	    .deadline = q->deadline};

	drain(q, &run);
	/* not kept for the next pass: a session carries its errors and
	 * non-mail commands, which servers count; a fresh one starts clean */
	close_session(q->t, &run.s, true);
}

/* The caller's runner and per_host - 1 more fibers take the queue's probes. */
static void run_queue(struct probe_queue *q, struct runner *run)
{
	size_t lanes = q->o->per_host > 1 ? (size_t)q->o->per_host : 1;
	struct rg_fiber_group g = {0};

	if (lanes > q->n)
		lanes = q->n > 0 ? q->n : 1;
	for (size_t i = 1; i < lanes; i++)
		rg_fiber_spawn(&g, lane_main, q);
	drain(q, run);
	pool_idle(q->t, &run->s);	/* a lane short of a place may take it */
	rg_fiber_group_wait(&g, 0);
	pool_idle(q->t, NULL);
}

void audit_run_target(struct audit_target *t, const struct audit_opts *o)
{
	struct session s = {.dead = true};
	struct rg_reply fail_reply;
	double deadline;

	gettimeofday(&t->start, NULL);
	double t0 = rg_now();

	deadline = t0 + o->budget;
	t->deadline = deadline;
	/* the transcript is evidence in IODEF, and shown with --transcript */
	t->keep_tx = o->transcript || o->format == FORMAT_IODEF;
	/* --per-host: the other lanes' connections open while this one greets */
	pool_start(t, o, o->per_host - 1);
	if (open_session(t, o, &s, o->helo, &fail_reply) != 0 && fail_reply.code == 0) {
		t->verdict = VERDICT_UNREACHABLE;
		snprintf(t->verdict_reason, sizeof(t->verdict_reason),
		    "no SMTP session could be opened: %s", t->error);
		pool_finish(t);
		goto out;
	}
	strlcpy_rg(t->server_name, t->ehlo_name[0] ? t->ehlo_name :
	    t->banner_name[0] ? t->banner_name : t->ip_literal, sizeof(t->server_name));
	{
		char ehlo[sizeof(t->ehlo_greeting) + sizeof(t->ehlo_keywords) + 2];

		snprintf(ehlo, sizeof(ehlo), "%s\n%s", t->ehlo_greeting, t->ehlo_keywords);
		t->mta = mta_fingerprint(t->banner, ehlo);
	}
	audit_dns_ptr(t, o);	/* its PTR name joins the name set */
	build_battery(t, o);

	int data_budget = o->data_probes;
	struct runner run = {.s = {.dead = true}, .data_budget = NULL,
	    .deadline = deadline};
	struct probe_queue q = {.t = t, .o = o};
	size_t *order = xcalloc(t->nprobes + 1, sizeof(*order));

	run.s = s;
	run.fail_reply = fail_reply;
	q.order = order;
	q.data_budget = NULL;
	q.deadline = deadline;
	for (size_t i = 0; i < t->nprobes; i++)
		order[q.n++] = i;
	run_queue(&q, &run);
	/* Tricks refused at MAIL because of their incidental sender: once more
	 * with a sender the server accepted (both attempts are kept). */
	q.n = q.next = 0;
	for (size_t i = 0; i < t->nprobes; i++) {
		struct audit_probe *p = &t->probes[i];

		if (!probe_wants_retry(p, t->baseline_from))
			continue;
		keep_first_attempt(p);
		strlcpy_rg(p->retry_from, t->baseline_from, sizeof(p->retry_from));
		order[q.n++] = i;
	}
	run_queue(&q, &run);
	/* The DATA checks, last: the first --data-probes accepted relay probes in
	 * battery order run once more, each followed by DATA (and, on 354, the
	 * dropped connection), so the same probes get them whatever the
	 * sessions did in parallel. */
	q.n = q.next = 0;
	for (size_t i = 0; i < t->nprobes && (int)q.n < o->data_probes; i++)
		if (t->probes[i].outcome == OUT_ACCEPTED && probe_is_relay(&t->probes[i]))
			order[q.n++] = i;
	q.data_budget = run.data_budget = &data_budget;
	run_queue(&q, &run);
	free(order);
	s = run.s;
	close_session(t, &s, true);
	pool_finish(t);
	grade_verdict(t);
out:
	gettimeofday(&t->finish, NULL);
	t->elapsed = rg_now() - t0;
}

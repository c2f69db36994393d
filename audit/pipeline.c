/*
 * pipeline.c - probes in pipelined groups (RFC 2920, probe.h): one write
 * and one round trip for several probes, only when EHLO offered
 * PIPELINING. Every reply is read back in order and the group is fenced:
 * a stream out of step, or a group the server drops, is never graded -
 * the target falls back to lock-step on fresh sessions (polite.c says so).
 */
#include "probe.h"
#include "polite.h"
#include "lib/base/log.h"
#include "lib/base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

/*
 * Read one reply of a group, timed from the reply before it (or the
 * group's write): a late one is a tarpit's (reply_timed). path: the MAIL
 * or RCPT argument it answers, else NULL.
 */
static int read_timed(struct audit_target *t, struct session *s, struct rg_reply *r,
    double *since, const char *path)
{
	int rc = rg_smtp_read_reply(s->conn, r);
	double now = rg_now();

	/* a tarpit's reply: the rest of the group comes later still */
	if (rc == 0 && reply_timed(t, s, r, now - *since, path))
		rg_smtp_set_read_timeout(s->conn, polite_reply_timeout(t));
	*since = now;
	return rc;
}

/*
 * The fence of a pipelined probe, last in its group: NOOP; EHLO back to
 * the default name after an identity probe (back); DATA in the DATA pass
 * (data). NOOP and EHLO must answer 2xx and nothing may follow, else the
 * stream is out of step (an unsolicited line shifts every reply onto the
 * wrong command; a refusal would land on the fence); DATA never answers
 * 2xx. True: out of step, nothing of the probe is graded.
 */
static bool fence_out_of_step(struct session *s, const struct rg_reply *r, bool data)
{
	if (data)
		return r->code / 100 == 2;
	return r->code / 100 != 2 || rg_smtp_unsolicited(s->conn);
}

/* What the fence's reply r did, once the probe was graded: the name back
 * is in force; DATA grades the DATA check of an accepted relay probe. */
static void fence_taken(struct audit_target *t, struct session *s, struct audit_probe *p,
    const struct rg_reply *r, const char *back, bool data, int *data_budget)
{
	if (data) {
		data_answer(t, s, p, r, p->outcome == OUT_ACCEPTED &&
		    take_data_budget(data_budget));
	} else if (back != NULL) {
		strlcpy_rg(s->helo, back, sizeof(s->helo));
		s->rehellos++;
	}
}

/*
 * One probe pipelined, one round trip: the RSET the last probe left open,
 * MAIL, RCPT and the fence (fence_out_of_step) in one write. The probe
 * is graded only once the fence says the stream was in step.
 */
enum probe_step run_probe_pipelined(struct audit_target *t, struct session *s,
    struct audit_probe *p, int *data_budget, const char *back)
{
	struct rg_reply r;
	struct brief mail, first, rcpt;
	bool in_clear = t->starttls_offered && !rg_smtp_tls_active(s->conn);
	bool two = p->spec.first_rcpt[0] != '\0';
	bool data = data_budget != NULL && *data_budget > 0 && probe_is_relay(p);
	const char *cmds[5];
	char mcmd[1100], fcmd[1100], rcmd[1100], fence[300];
	size_t n = 0;
	bool rset = s->need_rset;

	p->session = s->number;
	gettimeofday(&p->start, NULL);
	if (rg_smtp_unsolicited(s->conn))
		return STEP_DESYNC;
	snprintf(mcmd, sizeof(mcmd), "MAIL FROM:%s", probe_sender(p));
	snprintf(fcmd, sizeof(fcmd), "RCPT TO:%s", p->spec.first_rcpt);
	snprintf(rcmd, sizeof(rcmd), "RCPT TO:%s", p->spec.rcpt_to);
	snprintf(fence, sizeof(fence), "%s%s", data ? "DATA" : back ? "EHLO " : "NOOP",
	    !data && back ? back : "");
	if (rset)
		cmds[n++] = "RSET";
	cmds[n++] = mcmd;
	if (two)
		cmds[n++] = fcmd;
	cmds[n++] = rcmd;
	cmds[n++] = fence;
	s->nonmail += !data + rset;
	rg_smtp_set_read_timeout(s->conn, polite_reply_timeout(t));
	double since = rg_now();

	if (rg_smtp_send_group(s->conn, cmds, n) != 0)
		return STEP_RETRY;
	t->pipelined_groups++;
	if (rset) {
		if (read_timed(t, s, &r, &since, NULL) != 0 || r.code == 421)
			return STEP_RETRY;
		if (r.code / 100 != 2)
			return STEP_DESYNC;
	}
	s->need_rset = true;
	if (read_timed(t, s, &r, &since, probe_sender(p)) != 0 || r.code == 421)
		return STEP_RETRY;
	brief_of(&mail, &r);
	if (two && (read_timed(t, s, &r, &since, p->spec.first_rcpt) != 0 || r.code == 421))
		return STEP_RETRY;
	if (two)
		brief_of(&first, &r);
	if (read_timed(t, s, &r, &since, p->spec.rcpt_to) != 0 || r.code == 421)
		return STEP_RETRY;
	brief_of(&rcpt, &r);
	if (read_timed(t, s, &r, &since, NULL) != 0 || r.code == 421)
		return STEP_RETRY;
	if (fence_out_of_step(s, &r, data))
		return STEP_DESYNC;
	grade_probe(t, s, p, &mail, two ? &first : NULL, &rcpt, in_clear);
	fence_taken(t, s, p, &r, back, data, data_budget);
	gettimeofday(&p->finish, NULL);
	return STEP_DONE;
}

/* Run the accepted relay probes among pp[0..n) again alone, with the DATA
 * check, while the target's DATA budget lasts. */
static void data_checks(struct audit_target *t, const struct audit_opts *o,
    struct runner *run, struct audit_probe **pp, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (pp[i]->outcome != OUT_ACCEPTED || !probe_is_relay(pp[i]))
			continue;
		if (run->data_budget && *run->data_budget > 0)
			run_one(t, o, run, pp[i]);	/* again, with DATA */
	}
}

/* Whether t has refused relay probes and accepted none so far: its next
 * refusals may share a transaction (probe_joins). */
static bool refusing(const struct audit_target *t)
{
	bool refused = false;

	for (size_t i = 0; i < t->nprobes; i++) {
		const struct audit_probe *p = &t->probes[i];

		if (!probe_is_relay(p) || p->outcome == OUT_NOT_RUN)
			continue;
		if (p->outcome == OUT_ACCEPTED)
			return false;
		refused |= p->outcome == OUT_REJECTED;
	}
	return refused;
}

bool target_relaying(const struct audit_target *t)
{
	for (size_t i = 0; i < t->nprobes; i++)
		if (t->probes[i].outcome == OUT_ACCEPTED && probe_is_relay(&t->probes[i]))
			return true;
	return false;
}

/* Whether t relayed a plain probe (any sender, a plain outside recipient,
 * in a transaction of its own): it relays whatever came before in a
 * transaction, so a recipient there grants nothing it would not have had
 * alone (probe_joins). */
static bool relays_plain(const struct audit_target *t)
{
	for (size_t i = 0; i < t->nprobes; i++)
		if (t->probes[i].outcome == OUT_ACCEPTED &&
		    t->probes[i].spec.trick->klass == RG_CLASS_PLAIN)
			return true;
	return false;
}

bool probe_joins(const struct audit_target *t, const struct audit_probe *prev,
    const struct audit_probe *p)
{
	/* a control's recipient may well be accepted (C1 must be), and an
	 * after-local probe's first RCPT is the point of it: each keeps a
	 * transaction of its own; so does a copy towards the second domain
	 * where a recipient may have been accepted before it (its answer
	 * alone tells an open relay from one relaying for -d only) */
	if (prev == NULL || prev->spec.first_rcpt[0] != '\0' ||
	    p->spec.first_rcpt[0] != '\0' ||
	    prev->spec.trick->klass == RG_CLASS_CONTROL ||
	    p->spec.trick->klass == RG_CLASS_CONTROL ||
	    strcmp(probe_sender(prev), probe_sender(p)) != 0)
		return false;
	if (refusing(t))
		return true;
	return !prev->copy && !p->copy && relays_plain(t);
}

/* A session with room for cost more errors and n + 1 non-mail commands
 * below the server's limits, pipelining and in step; false: none. Its
 * errors stay below the limit (budget.c): the fence answers after them. */
static bool group_session(struct audit_target *t, const struct audit_opts *o,
    struct runner *run, size_t n, int cost)
{
	struct session *s = &run->s;
	int nonmail_max = session_nonmail_limit(t);

	/* a tarpitted session would make the next group wait longer still
	 * (Courier's TARPIT: each error reply later than the last) */
	if (!s->dead && (s->tarpitted || s->errors + cost >= session_error_limit(t, o) ||
	    s->nonmail + (int)n + 1 > nonmail_max))
		close_session(t, s, true);
	if (!s->dead && strcmp(s->helo, o->helo) != 0 && !session_rehello(t, o, s, o->helo))
		close_session(t, s, true);
	if (s->dead && (run->failed_opens > 0 || rg_now() > run->deadline ||
	    open_session(t, o, s, o->helo, &run->fail_reply) != 0))
		return false;
	if (s->nonmail + (int)n + 1 > nonmail_max)
		return false;	/* STARTTLS took room: the caller runs them one by one */
	rg_smtp_set_read_timeout(s->conn, polite_reply_timeout(t));
	return s->pipelining && !t->lockstep && !rg_smtp_unsolicited(s->conn);
}

/* A group's commands and replies, on the heap: a fiber per session, and
 * its stack pages are the RSS. */
struct group_buf {
	char (*cmd)[1100];
	struct brief *mail, *first, *rcpt;
	const char *fence_helo;	/* the group ends with EHLO this, not NOOP */
	int fence_code;		/* the reply to that EHLO */
	bool relaying;		/* joins were a relaying target's (probe_joins) */
	int errors;		/* error replies read */
	bool too_many;		/* the last reply read is an error saying "too many" */
	char said[120];		/* its last line */
};

/* read_timed, noting in g what an error-limit close needs (group_cut). */
static int read_noted(struct audit_target *t, struct session *s, struct group_buf *g,
    struct rg_reply *r, double *since, const char *path)
{
	int rc = read_timed(t, s, r, since, path);

	if (rc != 0)
		return rc;
	g->errors += r->code >= 400;
	g->too_many = r->code >= 400 && strcasestr(r->text, "too many") != NULL;
	if (g->too_many) {
		const char *nl = strrchr(r->text, '\n');

		snprintf(g->said, sizeof(g->said), "%d %s", r->code, nl ? nl + 1 : r->text);
	}
	return 0;
}

/* Read the group's replies into g's mail[]/rcpt[]: how many probes were
 * answered before a cut; *desync when the fences say out of step. The
 * reply to an EHLO fence goes to g->fence_code (it may be a refusal:
 * group_fence_ehlo). */
static size_t read_group(struct audit_target *t, struct session *s, bool rset,
    struct audit_probe **pp, const bool *join, struct group_buf *g, size_t n,
    bool *desync)
{
	struct brief *mail = g->mail, *first = g->first, *rcpt = g->rcpt;
	struct rg_reply r;
	size_t got;
	double since = rg_now();

	if (rset && (read_noted(t, s, g, &r, &since, NULL) != 0 || r.code == 421))
		return 0;
	if (rset && r.code / 100 != 2) {
		*desync = true;
		return 0;
	}
	for (got = 0; got < n; got++) {
		if (join[got]) {	/* the transaction's MAIL answered for it */
			mail[got] = mail[got - 1];
		} else if (read_noted(t, s, g, &r, &since, probe_sender(pp[got])) != 0 ||
		    r.code == 421) {
			return got;
		} else {
			brief_of(&mail[got], &r);
		}
		if (pp[got]->spec.first_rcpt[0] != '\0') {
			if (read_noted(t, s, g, &r, &since, pp[got]->spec.first_rcpt) != 0 ||
			    r.code == 421)
				return got;
			brief_of(&first[got], &r);
		}
		if (read_noted(t, s, g, &r, &since, pp[got]->spec.rcpt_to) != 0 ||
		    r.code == 421)
			return got;
		brief_of(&rcpt[got], &r);
		if (got + 1 < n && join[got + 1])
			continue;	/* the transaction goes on: no RSET here */
		if (read_noted(t, s, g, &r, &since, NULL) != 0 || r.code == 421)
			return got;
		if (got + 1 == n && g->fence_helo != NULL) {
			g->fence_code = r.code;
			break;	/* an EHLO's refusal is checked by fence_verified */
		}
		if (r.code / 100 != 2) {
			*desync = true;
			return got;
		}
	}
	*desync = rg_smtp_unsolicited(s->conn);
	return n;
}

/*
 * An EHLO that fenced a group was refused (a HELO check on that name, or a
 * server that takes no second EHLO): or was the refusal another command's,
 * the stream out of step? A NOOP alone settles it: in step it answers a
 * one-line 2xx and nothing follows; out of step, the EHLO's own reply (a
 * multi-line 250, or a refusal) lands on it.
 */
static bool fence_verified(struct session *s)
{
	struct rg_reply r;

	s->nonmail++;
	if (rg_smtp_command(s->conn, &r, "NOOP") != 0)
		return false;
	return r.code / 100 == 2 && strchr(r.text, '\n') == NULL &&
	    !rg_smtp_unsolicited(s->conn);
}

/* The group was cut after got probes: out of step (nothing is trusted),
 * dropped (lock-step from now on), dropped right after an error reply
 * that said "too many" (Exim's "501 Too many syntax or protocol errors",
 * smtp_max_synprot_errors: fewer errors a session from now on, not
 * lock-step) or a 421. */
static size_t group_cut(struct audit_target *t, const struct audit_opts *o,
    struct session *s, struct audit_probe **pp, size_t n, size_t got, bool desync,
    const struct group_buf *g)
{
	char where[120], why[120];
	int number = s->number, errors = s->errors + g->errors;
	bool dropped = !desync && rg_smtp_status(s->conn) != RG_SMTP_OK;

	strlcpy_rg(why, dropped ? rg_smtp_error(s->conn) : "", sizeof(why));
	close_session(t, s, false);
	if (desync) {
		snprintf(where, sizeof(where), "in a pipelined group of %zu probes", n);
		polite_out_of_step(t, where, pp[0]->spec.id, number, true);
		return 0;	/* nothing of this group can be trusted */
	}
	if (dropped && g->too_many) {
		session_lower_error_limit(t, errors);
		polite_error_limit_met(t, errors, number, g->said, session_error_limit(t, o));
	} else if (dropped) {
		polite_pipelining_dropped(t, pp[got < n ? got : 0]->spec.id, number, why);
	}
	return got;
}

static void group_buf_alloc(struct group_buf *g, size_t n)
{
	memset(g, 0, sizeof(*g));
	/* written before use (group_commands): not zeroed, 3.3 KB a probe */
	g->cmd = xmalloc((3 * n + 1) * sizeof(*g->cmd));	/* + the fence's EHLO */
	g->mail = xcalloc(n, sizeof(*g->mail));
	g->first = xcalloc(n, sizeof(*g->first));
	g->rcpt = xcalloc(n, sizeof(*g->rcpt));
}

static void group_buf_free(struct group_buf *g)
{
	free(g->cmd);
	free(g->mail);
	free(g->first);
	free(g->rcpt);
}

/* Grade the first got probes, answered in step; those cut off, and those
 * after an accepted recipient in their transaction (unless the joins were
 * a target's that relays plain probes: probe_joins), run again alone. */
static void grade_group(struct audit_target *t, const struct audit_opts *o,
    struct runner *run, struct audit_probe **pp, size_t n, size_t got,
    const bool *join, const struct group_buf *g, bool in_clear)
{
	struct session *s = &run->s;
	struct audit_probe *again[RG_BATCH_MAX];
	size_t nagain = 0;
	bool granted = false;	/* a RCPT of this transaction was accepted */

	for (size_t i = 0; i < got; i++) {
		granted &= join[i] && !g->relaying;
		if (granted) {
			/* after an accepted recipient in its transaction: the
			 * answer may be that recipient's doing; alone again
			 * (its refusal was an error all the same) */
			s->errors += g->rcpt[i].code >= 400;
			again[nagain++] = pp[i];
			continue;
		}
		grade_probe(t, s, pp[i], &g->mail[i], pp[i]->spec.first_rcpt[0] ?
		    &g->first[i] : NULL, &g->rcpt[i], in_clear);
		if (join[i] && g->mail[i].code / 100 != 2)
			s->errors--;	/* one MAIL refusal, counted by the first */
		granted = g->rcpt[i].code / 100 == 2;
		gettimeofday(&pp[i]->finish, NULL);
	}
	for (size_t i = got; i < n; i++)
		again[nagain++] = pp[i];
	for (size_t i = 0; i < nagain; i++)
		run_one(t, o, run, again[i]);
}

/* The group's commands into cmds (they point into g): how many. */
static size_t group_commands(struct session *s, struct audit_probe **pp, size_t n,
    const bool *join, bool rset, struct group_buf *g, const char **cmds)
{
	size_t nc = 0;

	if (rset)
		cmds[nc++] = "RSET";
	for (size_t i = 0; i < n; i++) {
		snprintf(g->cmd[3 * i], sizeof(g->cmd[0]), "MAIL FROM:%s", probe_sender(pp[i]));
		snprintf(g->cmd[3 * i + 1], sizeof(g->cmd[0]), "RCPT TO:%s", pp[i]->spec.first_rcpt);
		snprintf(g->cmd[3 * i + 2], sizeof(g->cmd[0]), "RCPT TO:%s", pp[i]->spec.rcpt_to);
		if (!join[i])
			cmds[nc++] = g->cmd[3 * i];
		if (pp[i]->spec.first_rcpt[0] != '\0')
			cmds[nc++] = g->cmd[3 * i + 1];
		cmds[nc++] = g->cmd[3 * i + 2];
		if (i + 1 == n)
			cmds[nc++] = g->fence_helo ? g->cmd[3 * n] : "NOOP";
		else if (!join[i + 1])
			cmds[nc++] = "RSET";
		pp[i]->session = s->number;
		gettimeofday(&pp[i]->start, NULL);
	}
	return nc;
}

/* The EHLO that fenced an answered group: its name is in force; or it was
 * refused, and the stream is verified in step (the name is then taken on
 * a fresh session, as after any refused second EHLO). False: out of step. */
static bool group_fence_ehlo(struct audit_target *t, struct session *s,
    const struct group_buf *g)
{
	if (g->fence_code / 100 == 2) {
		strlcpy_rg(s->helo, g->fence_helo, sizeof(s->helo));
		s->rehellos++;
		session_rehello_taken(t);
		return true;
	}
	if (!fence_verified(s))
		return false;
	s->errors++;
	session_no_rehello(t);
	return true;
}

/*
 * Several probes in one pipelined group, one round trip for all: [RSET]
 * then MAIL, RCPT and RSET per probe, a fence instead of the last RSET: a
 * NOOP, or the EHLO of the identity probe that follows on this session.
 * Every RSET and the fence must answer 2xx (a refused EHLO fence is
 * verified in step by a NOOP alone) and nothing may follow the fence, else
 * the stream is out of step: the probes run again one by one on fresh
 * sessions in lock-step. A probe cut off by a drop or a 421 runs again
 * alone (run_one: a fresh session; lock-step after a drop). An accepted
 * relay probe that is to get the DATA check runs again alone too (DATA
 * goes last in a group of its own).
 */
bool run_batch(struct audit_target *t, const struct audit_opts *o, struct runner *run,
    struct audit_probe **pp, size_t n, const char *fence_helo)
{
	struct session *s = &run->s;
	struct group_buf g;
	const char *cmds[4 * RG_BATCH_MAX + 1];
	size_t nc, got, ntx = 0;
	bool rset, desync = false, in_clear, join[RG_BATCH_MAX];
	int cost = 0;
	/* as the joins were decided: group_session may yield to other lanes */
	bool relaying = !refusing(t);

	for (size_t i = 0; i < n; i++) {
		cost += probe_cost(t, pp[i]);
		join[i] = probe_joins(t, i > 0 ? pp[i - 1] : NULL, pp[i]);
		ntx += !join[i];
	}
	if (!group_session(t, o, run, ntx, cost))
		return false;
	in_clear = t->starttls_offered && !rg_smtp_tls_active(s->conn);
	rset = s->need_rset;
	group_buf_alloc(&g, n);
	g.fence_helo = fence_helo;
	g.relaying = relaying;
	if (fence_helo != NULL)
		snprintf(g.cmd[3 * n], sizeof(g.cmd[0]), "EHLO %s", fence_helo);
	nc = group_commands(s, pp, n, join, rset, &g, cmds);
	s->nonmail += (int)ntx + rset;	/* ntx - 1 RSETs and the fence */
	if (rg_smtp_send_group(s->conn, cmds, nc) != 0) {
		close_session(t, s, false);
		group_buf_free(&g);
		return false;
	}
	t->pipelined_groups++;
	got = read_group(t, s, rset, pp, join, &g, n, &desync);
	if (got == n && !desync && fence_helo != NULL)
		desync = !group_fence_ehlo(t, s, &g);
	if (got < n || desync)
		got = group_cut(t, o, s, pp, n, got, desync, &g);
	else
		s->need_rset = true;	/* the last transaction is still open */
	grade_group(t, o, run, pp, n, got, join, &g, in_clear);
	data_checks(t, o, run, pp, got);
	group_buf_free(&g);
	return true;
}

/*
 * probe.h - one probe of the battery on a live session: grading its
 * replies, the DATA check, lock-step (probe.c) and pipelined groups
 * (pipeline.c). Private to session.c, probe.c and pipeline.c.
 */
#ifndef RELAYGUARD_AUDIT_PROBE_H
#define RELAYGUARD_AUDIT_PROBE_H

#include "audit.h"
#include "connect.h"

#define RG_BATCH_MAX	16	/* probes in one pipelined group */

/* STEP_RETRY: the session died under the probe (a drop or 421).
 * STEP_DESYNC: the reply stream is out of step with the commands (an
 * unsolicited extra line, or a fence that did not answer as it must). */
enum probe_step { STEP_DONE, STEP_RETRY, STEP_DESYNC };

/* The state one lane's probes share: its live session and budgets. */
struct runner {
	struct session s;
	struct rg_reply fail_reply;
	int *data_budget;		/* the target's, shared; NULL: no DATA now */
	int failed_opens;
	double deadline;
};

/* What is kept of a reply until it is graded (a whole struct rg_reply is
 * 4 KB: 2 x 16 of them would sit on every session fiber's stack). */
struct brief {
	int code;
	char enhanced[16];
	char text[512];
};

void brief_of(struct brief *b, const struct rg_reply *r);
/* r answered a command secs after it was sent (or after the reply before
 * it): a late one, or an error on a known tarpit, marks s tarpitted
 * (polite_reply_delay; path: the MAIL or RCPT argument r answers, else
 * NULL). True: r came late. */
bool reply_timed(struct audit_target *t, struct session *s, const struct rg_reply *r,
    double secs, const char *path);
void set_result_brief(struct audit_probe *p, const char *stage, const struct brief *b,
    bool tls_in_clear);
void set_error(struct audit_probe *p, const char *stage, const char *why);
/* Grade a probe from its MAIL and RCPT replies: a refused MAIL leaves the
 * trick untested (grade_pre_rcpt), never "rejected"; the errors the
 * server counts go to s. first: the reply to spec.first_rcpt, or NULL;
 * kept for the report, the grade is the relay RCPT's. The one place both
 * engines grade a probe. */
void grade_probe(struct audit_target *t, struct session *s, struct audit_probe *p,
    const struct brief *mail, const struct brief *first, const struct brief *rcpt,
    bool tls_in_clear);
/* Errors a probe may cost the session: its RCPTs (an after-local probe
 * sends two), and its MAIL where t refused that sender before (the RCPT
 * after a refused MAIL fails too: two errors). */
int probe_cost(const struct audit_target *t, const struct audit_probe *p);
/* The sender this attempt uses: the trick's own, or the baseline on a retry. */
const char *probe_sender(const struct audit_probe *p);
/* One of the target's --data-probes (budget NULL: not the DATA pass). */
bool take_data_budget(int *budget);
/* DATA after an accepted relay probe; true when the session is gone. */
bool data_probe(struct audit_target *t, struct session *s, struct audit_probe *p);
/* The reply r to DATA after p; check: p is a DATA check (an accepted relay
 * probe within the budget). True when the session is gone (354). */
bool data_answer(struct audit_target *t, struct session *s, struct audit_probe *p,
    const struct rg_reply *r, bool check);
/* Whether s may take helo by a new EHLO now (no command is sent). */
bool session_rehello_room(const struct audit_target *t, const struct audit_opts *o,
    const struct session *s, const char *helo);
/* A new EHLO with helo in the live session s (RFC 5321 4.1.4: it resets
 * the session like RSET), where t takes one and s has room for it and the
 * EHLO back. True: s says helo now; false: the caller closes s and opens a
 * fresh session (s may be closed already). */
bool session_rehello(struct audit_target *t, const struct audit_opts *o,
    struct session *s, const char *helo);
/* Run one probe to its end on a session with its HELO (a fresh one when
 * needed): retried once after a drop, in lock-step after a desync or a
 * pipelined group the server dropped. */
void run_one(struct audit_target *t, const struct audit_opts *o, struct runner *run,
    struct audit_probe *p);

/* pipeline.c (RFC 2920) */
enum probe_step run_probe_pipelined(struct audit_target *t, struct session *s,
    struct audit_probe *p, int *data_budget, const char *back);
/* Whether p shares the transaction of prev, the probe before it in a group
 * (prev NULL: none): the same sender, one RCPT each, neither a control nor
 * an after-local probe, on a target that has refused relay probes and
 * accepted none, or that has relayed a plain probe. On a refusing target a
 * RCPT accepted in a shared transaction ends its use: the probes after it
 * in that transaction run again alone (an accepted recipient may grant
 * relaying to the rest: Haraka's relay plugin with a dest_domains
 * "continue" entry does, for a local one; the L1 family tests that on
 * purpose, with its own transactions). A target that relays a plain
 * outside recipient alone relays whatever came before, so there each RCPT
 * is graded where it stands, copies towards the second domain aside (they
 * keep a transaction of their own: their answer alone tells an open relay
 * from one relaying for -d only). One transaction instead of one per probe
 * is one queue file (Postfix opens one at a transaction's first accepted
 * RCPT) and one RSET (a non-mail command) instead of many. Tests compare
 * every outcome against lock-step on real Postfix, Exim, OpenSMTPD and
 * sendmail (tests/integration/172). */
bool probe_joins(const struct audit_target *t, const struct audit_probe *prev,
    const struct audit_probe *p);
/* Whether t accepted a relay probe so far. */
bool target_relaying(const struct audit_target *t);
/* pp[0..n) in one group, fenced by NOOP or, with fence_helo, by "EHLO
 * fence_helo" (RFC 2920: EHLO may end a group; the next probe's identity,
 * one round trip less); false when it could not be tried at all (the
 * caller runs them one by one). */
bool run_batch(struct audit_target *t, const struct audit_opts *o, struct runner *run,
    struct audit_probe **pp, size_t n, const char *fence_helo);

#endif

/*
 * polite.h - the auditor's politeness and reply-stream trust, per target
 * (polite.c). Private to connect.c, probe.c and session.c.
 *
 * Politeness is a guarantee, not a default:
 *
 *   - A server that turns a connection away (a 4xx greeting: "421 busy",
 *     Postfix's connection rate and count limits) or, having served us,
 *     refuses the connect, while none of our other sessions is up, is busy:
 *     the target waits POLITE_BACKOFF_BASE x 2^(n-1) seconds, jittered by
 *     0.5x..1.5x, before try n + 1, at most POLITE_RETRY_MAX times in a row.
 *     Then, or after POLITE_BUSY_MAX turned-away connections in all, the
 *     target opens no more connections: it is inconclusive, "server busy
 *     (421), retried N times". Turned away while others of ours are up, it
 *     instead waits for one of them to end (connect.c lowers --per-host).
 *   - Never more than --per-host connections open or opening (connect.c).
 *   - A connection closed before any greeting (couriertcpd -maxperip: no
 *     421) counts as turned away, as a 4xx greeting does.
 *   - A server whose error replies come POLITE_TARPIT_MIN s late and more
 *     tarpits: replies are awaited for twice the slowest seen, a session
 *     that was tarpitted gets no further probe, probes go in lock-step, a
 *     sender once refused at MAIL is not sent again, and the verdict says
 *     "tarpitting: N s per error".
 *   - At most POLITE_CEILING new connections a second over the whole run
 *     when --rate does not set the rate.
 *
 * The reply stream is trusted only in step, from the greeting on: a session
 * out of step (a line nobody asked for, a greeting that is no 220, an EHLO
 * answer that is no 250) puts the target in lock-step on fresh sessions;
 * after POLITE_OUT_OF_STEP_MAX such sessions in lock-step no more are
 * opened and no reply is trusted.
 */
#ifndef RELAYGUARD_AUDIT_POLITE_H
#define RELAYGUARD_AUDIT_POLITE_H

#include "audit.h"

#define POLITE_RETRY_MAX	3	/* retries after a backoff, in a row */
#define POLITE_BUSY_MAX		8	/* turned-away connections per target */
#define POLITE_BACKOFF_BASE	1.0	/* seconds before the first retry */
#define POLITE_CEILING		1000	/* new connections a second without --rate */
#define POLITE_OUT_OF_STEP_MAX	3	/* sessions out of step, then no more */
#define POLITE_TARPIT_MIN	1.5	/* seconds: an error reply this late is a tarpit */

/* Start of a target: its counters, and the run's ceiling on new connections
 * a second (--rate, else POLITE_CEILING). */
void polite_start(struct audit_target *t, const struct audit_opts *o);
/* Before a connection: false when the target opens no more (busy past the
 * caps, or untrusted; t->error says why); else waits out a backoff that
 * another session of the target started, and counts the attempt. */
bool polite_may_connect(struct audit_target *t);
/* A greeting 220 came: the server is not busy now. */
void polite_greeted(struct audit_target *t);
/* A connection was turned away: what "421", "connection refused", ...;
 * detail the server's text. others: sessions of ours were up then (the
 * caller waits for a place instead of backing off). True: try again (after
 * the backoff it waited); false: the target is given up (t->error says why). */
bool polite_turned_away(struct audit_target *t, const char *what, const char *detail,
    bool others);
/* A connection was taken but not greeted within --timeout while none of
 * ours was open: the server is busy (every smtpd process taken), not
 * unreachable - backed off and tried again as after a 421. True: try again. */
bool polite_no_greeting(struct audit_target *t);
/* No session was had: unreachable (refused, no route, connect timeout), or
 * inconclusive when connections were taken but never greeted ("connected,
 * no greeting within N s (busy?)"). Sets the verdict and its reason. */
void polite_no_session_verdict(struct audit_target *t);
/* A session's replies were out of step (where: "after the greeting",
 * "in a pipelined group", ...; probe NULL before any probe; piped: in a
 * pipelined group, which does not count towards POLITE_OUT_OF_STEP_MAX).
 * Falls back to lock-step and says so; true while fresh sessions may still
 * be tried. */
bool polite_out_of_step(struct audit_target *t, const char *where, const char *probe,
    int session, bool piped);
/* A session ended by the server right after an error reply that said "too
 * many" (Exim's smtp_max_synprot_errors), after errors error replies: the
 * event for the transcript; the caller lowered the limit (budget.c). */
void polite_error_limit_met(struct audit_target *t, int errors, int session,
    const char *said, int limit);
/* A pipelined group ended in a connection reset or drop (no 421): the target
 * falls back to lock-step on fresh sessions and says so. */
void polite_pipelining_dropped(struct audit_target *t, const char *probe, int session,
    const char *why);
/* A reply came secs after its command was sent (or after the reply before
 * it in a pipelined group): an error reply (code >= 400), or any reply
 * after one in its session (after_error), at POLITE_TARPIT_MIN and more is
 * a tarpit's. path: the MAIL or RCPT argument the reply answers, else
 * NULL; only an error to a path in RFC 5321 form (<...>) or to another
 * command says the server answers errors at once (error_timed). True:
 * this reply was tarpitted (the session is not given another group: the
 * next wait would be longer still). */
bool polite_reply_delay(struct audit_target *t, double secs, int code, const char *path,
    bool after_error);
/* A tarpit: every probe goes alone, in lock-step, on a session of its own
 * (a pipelined RCPT after a refused MAIL would cost a second, longer error). */
bool polite_tarpit(const struct audit_target *t);
/* Whether t refused, at MAIL with a 5xx, the sender p sends first. */
bool polite_sender_refused(const struct audit_target *t, const struct audit_probe *p);
/* On a tarpit, a first attempt whose sender (and HELO) an earlier probe of
 * the target had refused at MAIL with a 5xx takes that refusal as its own,
 * says so in the transcript and returns true: it is not sent again (the
 * retry pass runs it with the accepted sender). */
bool polite_refused_before(struct audit_target *t, struct audit_probe *p);
/* The wait for one reply: --timeout, or on a tarpit long enough for the
 * slowest error reply seen twice over. */
double polite_reply_timeout(const struct audit_target *t);
/* After grade_verdict(): a target given up as busy, or whose replies were
 * never trusted, is inconclusive with the reason (an observed relay stays). */
void polite_verdict(struct audit_target *t);
/* The JSON "politeness" object: the counters and the limits kept. */
json_t *polite_json(const struct audit_target *t, const struct audit_opts *o);

#endif

/*
 * connect.h - the sessions of one target (connect.c): open, greet, close.
 * Private to session.c and connect.c.
 *
 * With --per-host N > 1 a target keeps a pool: N - 1 connections are
 * opened (TCP, greeting) once the first session has connected, so a lane that
 * needs a session - a parallel lane, an identity probe with its own HELO,
 * a DATA check after a dropped session - skips the connect and the banner;
 * a polite close sends QUIT and waits for the 221 in a fiber of its own, so
 * no probe waits on it. Never more than N connections at once for a
 * target: in use, opened ahead and closing ones all count; a server that
 * takes fewer lowers N (connect.c, lower_limit). Connections are opened
 * ahead only once the first session was greeted with 220: a busy server
 * (421) sees one connection at a time, spaced by the backoff (polite.h).
 */
#ifndef RELAYGUARD_AUDIT_CONNECT_H
#define RELAYGUARD_AUDIT_CONNECT_H

#include "audit.h"

/* Commands other than MAIL, RCPT, DATA and QUIT that a session may send:
 * Exim's smtp_accept_max_nonmail (10) and sendmail's MaxNOOPCommands (20)
 * end a session that sends more. */
#define SESSION_NONMAIL_MAX	10

struct session {
	struct rg_smtp *conn;
	int number;
	int errors;		/* non-2xx replies in this session */
	int nonmail;		/* EHLO, HELO, STARTTLS, RSET, NOOP sent (Exim drops a
				 * session after smtp_accept_max_nonmail = 10) */
	char helo[256];		/* name currently in force ("" before EHLO) */
	bool dead;
	bool first;		/* describes the server: the target's first session,
				 * or the next after one turned away (t->described) */
	bool up;		/* greeted with 220, not closing (counted in the pool) */
	bool greet_timeout;	/* connect_session: not connected or greeted in time */
	bool pipelining;	/* this session's EHLO offered PIPELINING */
	bool need_rset;		/* a pipelined probe left a transaction open */
	const char *refused_at;	/* open_session refused: "connect" or "helo" */
	bool others_up;		/* turned away while other sessions of ours were up */
	bool connect_failed;	/* the TCP connect itself failed */
	bool closed_at_greeting;	/* closed before any greeting (no 421) */
	bool yielded;		/* left ungreeted for one of ours opened ahead */
	bool tarpitted;		/* a tarpit's reply came: no further probes */
	bool erred;		/* an error reply was read: a late reply after it is
				 * a tarpit's too (Courier sleeps after a fast one) */
	int rehellos;		/* EHLOs sent to change identity (budget.c) */
	const char *out_of_step;	/* the stream was out of step: where */
};

/* Start the target's pool (t->pool) and open up to warm connections ahead.
 * Call after t->deadline is set, before the first open_session(). */
void pool_start(struct audit_target *t, const struct audit_opts *o, int warm);
/* End of the battery: close what the pool holds (politely, in the
 * background), let closing sessions finish without the transcript. */
void pool_finish(struct audit_target *t);

/* A session up to the point where MAIL may be sent: a connection opened
 * ahead, else a new one, within --per-host. 0, or -1 with
 * *fail_reply set when the server answered (greeting/EHLO refused) and
 * t->error describing it. */
int open_session(struct audit_target *t, const struct audit_opts *o,
    struct session *s, const char *helo, struct rg_reply *fail_reply);
/* polite: QUIT (its 221 awaited in the background); else just close. */
void close_session(struct audit_target *t, struct session *s, bool polite);
/* While s (a lane's session) waits idle for other lanes or the next pass
 * (idle), a lane that needs a place under --per-host may close it; false:
 * the lane uses it again. */
void pool_idle(struct audit_target *t, struct session *s, bool idle);
/* hello.c: EHLO (HELO when EHLO is refused with 5xx, as Metasploit does):
 * 0 ok, r the last reply. Only the first session's answer describes the
 * server in the report. */
int say_hello(struct audit_target *t, struct session *s, const char *name,
    bool first, struct rg_reply *r);
/* budget.c: errors a session of t may make (the last one ends it: no
 * command follows it); lowered for t once a session ended with 421 after
 * `errors` of them. */
int session_error_limit(const struct audit_target *t, const struct audit_opts *o);
void session_lower_error_limit(struct audit_target *t, int errors);
/* Non-mail commands a session of t may send (RSET, NOOP, EHLO, STARTTLS). */
int session_nonmail_limit(const struct audit_target *t);
/* A new EHLO inside a greeted session (RFC 5321 4.1.4) to change identity:
 * true until the server refused one. */
bool session_may_rehello(const struct audit_target *t);
/* EHLO and HELO commands a session of t may send in all. */
int session_hello_limit(const struct audit_target *t);
void session_no_rehello(struct audit_target *t);
/* Whether t takes a second EHLO in a session (answered one with 2xx, or
 * Postfix, Exim; and refused none): the EHLO back to the default name,
 * taken once already, may fence a pipelined probe. */
bool session_rehello_known(const struct audit_target *t);
void session_rehello_taken(struct audit_target *t);
/* A name with a dot and only host-name characters (a banner's first word). */
bool looks_like_hostname(const char *s);

#endif

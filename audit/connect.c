/*
 * connect.c - the sessions of one target: connect, greeting (in step),
 * EHLO (hello.c) and STARTTLS, and the pool that opens connections ahead,
 * keeps to --per-host, closes sessions in the background, and decides
 * whether a connection not had is tried again - after the backoff polite.c
 * keeps, or once a place is free (connect.h).
 */
#include "connect.h"
#include "pool.h"
#include "polite.h"
#include "slots.h"
#include "transcript.h"
#include "lib/net/fiber.h"
#include "lib/base/log.h"
#include "lib/base/util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>

static void open_ahead(struct audit_target *t, int n);


/* Record a connection-level failure in t->error. */
static void note_error(struct audit_target *t, const char *what, const char *detail)
{
	snprintf(t->error, sizeof(t->error), "%s: %s", what, detail);
}

/*
 * TCP (and implicit TLS) and the greeting: 0 with a 220, else -1 with
 * *fail_reply (a refusing greeting) and t->error. quiet: a connection
 * opened ahead, whose failure is nobody's error (the lane that needs a
 * session then opens its own and reports what it finds).
 */
/* The first session describes the server: its address, our vantage
 * address, the literal the battery uses for it, TLS from the first byte. */
static void describe_peer(struct audit_target *t, const struct audit_opts *o,
    struct rg_smtp *conn)
{
	strlcpy_rg(t->address, rg_smtp_peer_addr(conn), sizeof(t->address));
	rg_smtp_local_addr(conn, t->vantage, sizeof(t->vantage));
	if (rg_smtp_peer_family(conn) == AF_INET6)
		snprintf(t->ip_literal, sizeof(t->ip_literal), "[IPv6:%s]", t->address);
	else
		snprintf(t->ip_literal, sizeof(t->ip_literal), "[%s]", t->address);
	t->tls_used = o->implicit_tls;
	if (o->implicit_tls)
		strlcpy_rg(t->tls_info, rg_smtp_tls_info(conn), sizeof(t->tls_info));
}

/* The first greeting's line and the host name it announces. */
static void describe_banner(struct audit_target *t, const struct rg_reply *r)
{
	char word[256], *nl;

	snprintf(t->banner, sizeof(t->banner), "%d %s", r->code, r->text);
	if ((nl = strchr(t->banner, '\n')) != NULL)
		*nl = '\0';
	rg_reply_first_word(r, word, sizeof(word));
	if (looks_like_hostname(word)) {
		strlcpy_rg(t->banner_name, word, sizeof(t->banner_name));
		rg_lowercase(t->banner_name);
	}
}

/* The client options of one of t's connections; its transcript tag (-T),
 * else NULL. */
static struct tx_tag *smtp_opts_for(struct audit_target *t,
    const struct audit_opts *o, struct rg_smtp_opts *so)
{
	struct tx_tag *tag = NULL;

	*so = (struct rg_smtp_opts)RG_SMTP_OPTS_DEFAULT;
	so->connect_timeout = o->connect_timeout;
	so->read_timeout = polite_reply_timeout(t);
	so->source_addr = o->source;
	so->implicit_tls = o->implicit_tls;
	if (t->keep_tx) {	/* -T: lines tagged by connection */
		tag = tx_tag_new(t);
		so->transcript = tx_record_tagged;
		so->transcript_arg = tag;
	}
	so->deadline = t->deadline;	/* --budget bounds every wait */
	return tag;
}

/* The greeting of s, connected just now, into r: 0, or -1 with s closed
 * and why it failed recorded (open_session decides what it means). */
static int read_greeting(struct audit_target *t, struct session *s,
    double timeout, struct rg_reply *r, bool quiet)
{
	double connected = rg_now();
	int rc;

	if (pool_await_greeting(t, s, timeout, quiet)) {
		s->yielded = true;
		close_session(t, s, false);
		return -1;
	}
	rc = rg_smtp_read_reply(s->conn, r);
	rg_smtp_set_read_timeout(s->conn, timeout);
	if (rc == 0) {
		if (s->first)	/* how long this server takes to greet */
			t->pool->greet_seconds = rg_now() - connected;
		return 0;
	}
	/* no greeting in time: maybe a server that greets one client at a
	 * time while another of ours holds it; closed before any greeting:
	 * couriertcpd -maxperip turns a connection away so, without a 421 */
	s->greet_timeout = rg_smtp_status(s->conn) == RG_SMTP_TIMEOUT &&
	    rg_now() < t->deadline;
	s->closed_at_greeting = rg_smtp_status(s->conn) == RG_SMTP_CLOSED;
	/* taken, not greeted: the verdict says so (polite.c) */
	t->polite.no_greeting += !quiet && rg_smtp_status(s->conn) == RG_SMTP_TIMEOUT;
	s->others_up = t->pool->conns > 1;	/* ours, open or closing */
	t->polite.closed_at_greeting += s->closed_at_greeting;
	if (!quiet)
		note_error(t, "greeting", rg_smtp_error(s->conn));
	close_session(t, s, false);
	return -1;
}

static int connect_session(struct audit_target *t, const struct audit_opts *o,
    struct session *s, struct rg_reply *fail_reply, bool quiet)
{
	struct rg_smtp_opts so;
	struct rg_reply r;
	struct tx_tag *tag;

	memset(s, 0, sizeof(*s));
	rg_reply_init(fail_reply);
	/* before anything can yield; a first session turned away (421, not
	 * greeted in time) leaves the description to the next greeted one:
	 * its banner, EHLO and the MTA they name (Postfix's "too many
	 * connections" is no banner, and no fingerprint) */
	s->first = !quiet && !t->described;
	/* the --per-host place is held while waiting for a --max-sessions
	 * one: other lanes of this target count it before it connects */
	t->pool->conns++;
	if (pool_take_slot(t, s, quiet) != 0) {
		t->pool->conns--;
		return -1;
	}
	tag = smtp_opts_for(t, o, &so);
	t->polite.attempts++;
	s->conn = rg_smtp_open(t->host, t->port, &so);
	if (rg_smtp_status(s->conn) != RG_SMTP_OK) {
		/* not taken in time: maybe a server busy with another of ours */
		s->greet_timeout = rg_smtp_status(s->conn) == RG_SMTP_TIMEOUT &&
		    rg_now() < t->deadline;
		s->others_up = t->pool->up > 0;
		s->connect_failed = true;
		if (!quiet)
			note_error(t, "connect", rg_smtp_error(s->conn));
		close_session(t, s, false);
		return -1;
	}
	s->number = ++t->sessions;
	if (tag != NULL) {
		tag->session = s->number;
		tag->local_port = rg_smtp_local_port(s->conn);
	}
	if (s->first)
		describe_peer(t, o, s->conn);
	if (read_greeting(t, s, so.read_timeout, &r, quiet) != 0)
		return -1;
	if (s->first)
		describe_banner(t, &r);
	/* in step from the greeting on: a greeting is a 220 (or a refusal),
	 * and nothing may follow it before EHLO */
	if ((r.code / 100 == 2 && r.code != 220) || (r.code == 220 &&
	    rg_smtp_unsolicited(s->conn))) {
		s->out_of_step = "after the greeting";
		if (!quiet)
			note_error(t, "greeting", "reply stream out of step (a line nobody "
			    "asked for)");
		close_session(t, s, false);
		return -1;
	}
	if (r.code != 220) {
		*fail_reply = r;
		s->refused_at = "connect";
		s->others_up = t->pool->up > 0;	/* before its own close counts */
		if (!quiet)
			note_error(t, "greeting", r.text);
		close_session(t, s, true);
		return -1;
	}
	s->up = true;
	t->pool->up++;
	if (!quiet)
		polite_greeted(t);
	if (s->first)	/* greeted first: the lanes' connections follow it */
		open_ahead(t, t->pool->ahead);
	return 0;
}

/* After r the stream must be quiet, and a 2xx r must be want (EHLO and
 * HELO answer 250, RFC 5321 4.3.2): else the session is out of step. */
static bool out_of_step(struct audit_target *t, struct session *s,
    const struct rg_reply *r, int want, const char *where)
{
	if ((r->code / 100 != 2 || r->code == want) && !rg_smtp_unsolicited(s->conn))
		return false;
	s->out_of_step = where;
	note_error(t, "hello", "reply stream out of step (a line nobody asked for)");
	close_session(t, s, false);
	return true;
}

/* EHLO (STARTTLS and EHLO again when wanted) on a greeted connection. */
static int greet_session(struct audit_target *t, const struct audit_opts *o,
    struct session *s, const char *helo, struct rg_reply *fail_reply)
{
	struct rg_reply r;

	if (say_hello(t, s, helo, s->first, &r) != 0)
		goto refused;
	if (out_of_step(t, s, &r, 250, "after EHLO's reply"))
		return -1;
	t->described = true;
	bool tls_broken = t->starttls_failed[0] != '\0';
	bool want_tls = !o->implicit_tls && (o->starttls == STARTTLS_ALWAYS ||
	    (o->starttls == STARTTLS_AUTO && t->starttls_offered && !tls_broken));

	if (want_tls) {
		if (!t->starttls_offered && o->starttls == STARTTLS_ALWAYS) {
			note_error(t, "starttls", "--starttls always, but STARTTLS was not offered");
			close_session(t, s, true);
			return -1;
		}
		s->nonmail++;
		if (rg_smtp_command(s->conn, &r, "STARTTLS") != 0)
			goto refused;
		if (r.code != 220) {
			if (o->starttls == STARTTLS_ALWAYS) {
				*fail_reply = r;
				note_error(t, "starttls", r.text);
				close_session(t, s, true);
				return -1;
			}
			/* auto: go on in clear; a tls_required outcome will say so. */
		} else {
			if (rg_smtp_start_tls(s->conn) != 0) {
				note_error(t, "starttls", rg_smtp_error(s->conn));
				if (o->starttls != STARTTLS_AUTO) {
					close_session(t, s, false);
					return -1;
				}
				/* auto: a broken STARTTLS does not hide the relay
				 * question; audit in clear, and say so */
				strlcpy_rg(t->starttls_failed, rg_smtp_error(s->conn),
				    sizeof(t->starttls_failed));
				t->error[0] = '\0';
				close_session(t, s, false);
				return open_session(t, o, s, helo, fail_reply);
			}
			t->tls_used = true;
			strlcpy_rg(t->tls_info, rg_smtp_tls_info(s->conn), sizeof(t->tls_info));
			if (say_hello(t, s, helo, false, &r) != 0)
				goto refused;
			if (out_of_step(t, s, &r, 250, "after EHLO's reply in TLS"))
				return -1;
		}
	}
	return 0;
refused:
	if (rg_smtp_status(s->conn) == RG_SMTP_OK)
		*fail_reply = r;
	s->refused_at = "helo";
	note_error(t, "hello", rg_smtp_status(s->conn) == RG_SMTP_OK ? r.text :
	    rg_smtp_error(s->conn));
	close_session(t, s, rg_smtp_status(s->conn) == RG_SMTP_OK);
	return -1;
}

/* --- the pool -------------------------------------------------------------- */

/*
 * The server turned a connection away with 4xx while others of ours were
 * open (Postfix: "421 4.7.0 Error: too many connections from ..."): it
 * allows no more than those at once, so neither do we from now on.
 */
static void lower_limit(struct audit_target *t, const struct rg_reply *r,
    bool closed_at_greeting)
{
	struct session_pool *p = t->pool;
	int now = p->up > 0 ? p->up : 1;
	struct timeval tv;
	char ev[300];

	if (p->conns == 0 || now >= p->limit)	/* nothing else of ours: no evidence */
		return;
	p->limit = now;
	gettimeofday(&tv, NULL);
	if (r->code != 0)
		snprintf(ev, sizeof(ev), "the server turned a connection away (%d %.120s) "
		    "with %d of ours open: at most %d at once from now on", r->code, r->text,
		    now, now);
	else if (closed_at_greeting)
		snprintf(ev, sizeof(ev), "the server closed a connection before its greeting "
		    "(no 421) with %d of ours open: too many connections, at most %d at once "
		    "from now on", now, now);
	else
		snprintf(ev, sizeof(ev), "a connection was not taken or greeted in time while "
		    "%d of ours were open: at most %d at once from now on", now, now);
	tx_record(t, &tv, RG_TX_EVENT, ev);
}

static void opener_main(void *arg)
{
	struct audit_target *t = arg;
	struct session_pool *p = t->pool;
	struct session s;
	struct rg_reply fail;

	p->pending--;
	p->opening++;
	if (p->stop_ahead || t->polite.gave_up || t->polite.untrusted ||
	    t->polite.busy_until > rg_now()) {
		/* the end came first, or the target backs off or gave up:
		 * nothing is opened ahead of the rules of polite.c */
	} else if (connect_session(t, p->o, &s, &fail, true) != 0) {
		p->stop_ahead = true;	/* a refusing or busy server: no more */
		if (fail.code / 100 == 4 || s.greet_timeout || s.closed_at_greeting)
			lower_limit(t, &fail, s.closed_at_greeting);
	} else if (p->stop_ahead || p->nwarm >= (size_t)p->limit) {
		close_session(t, &s, true);
	} else {
		p->warm[p->nwarm++] = s;
	}
	p->opening--;
	rg_fiber_cond_broadcast(&p->freed);	/* parked, or its place is free */
}

/* Open connections ahead while the target has room for them. */
static void open_ahead(struct audit_target *t, int n)
{
	struct session_pool *p = t->pool;

	for (int i = 0; i < n && !p->stop_ahead && p->conns + p->pending < p->limit; i++) {
		p->pending++;
		rg_fiber_spawn(&p->openers, opener_main, t);
	}
}

void pool_start(struct audit_target *t, const struct audit_opts *o, int warm)
{
	struct session_pool *p = xcalloc(1, sizeof(*p));

	polite_start(t, o);
	session_slots_set(o->max_sessions);
	p->o = o;
	p->limit = o->per_host > 1 ? o->per_host : 1;
	if (p->limit > POOL_MAX)
		p->limit = POOL_MAX;
	p->warm = xcalloc((size_t)p->limit, sizeof(*p->warm));
	t->pool = p;
	/* opened once the first session has connected (connect_session): it
	 * is served first and stays the one that describes the server */
	p->ahead = warm < p->limit ? warm : p->limit - 1;
}

static void closer_main(void *arg)
{
	struct closer *c = arg;

	if (c->hold_until > 0)
		rg_fiber_cond_wait(&c->end_hold, c->hold_until);
	rg_smtp_close(c->conn, true);	/* reads the 221, then closes */
	session_slot_give();
	if (c->pool != NULL) {
		struct closer **pp = &c->pool->closers;

		while (*pp != c)
			pp = &(*pp)->next;
		*pp = c->next;
		c->pool->conns--;
		rg_fiber_cond_broadcast(&c->pool->freed);
	}
	free(c);
}

/* conn closes in a fiber of its own: after its 221 (hold_until 0), or
 * after hold_until; its place under --per-host is taken until then. */
static void add_closer(struct session_pool *p, struct rg_smtp *conn, double hold_until)
{
	struct closer *c = xcalloc(1, sizeof(*c));

	c->conn = conn;
	c->pool = p;
	c->hold_until = hold_until;
	c->next = p->closers;
	p->closers = c;
	rg_fiber_spawn(NULL, closer_main, c);
}

void close_session(struct audit_target *t, struct session *s, bool polite)
{
	struct session_pool *p = t->pool;
	struct rg_smtp *conn = s->conn;
	bool alive = !s->dead, greeted = s->up;

	/* detached before anything can yield: nobody closes it twice */
	s->conn = NULL;
	s->dead = true;
	if (s->up) {
		s->up = false;
		p->up--;
	}
	if (conn == NULL)
		return;
	if (polite && alive && rg_smtp_status(conn) == RG_SMTP_OK &&
	    rg_smtp_send_quit(conn) == 0) {
		/* a tarpit sleeps before the 221 of a session with an error:
		 * the place is held until it comes */
		if (s->tarpitted)
			rg_smtp_set_quit_wait(conn, polite_reply_timeout(t));
		add_closer(p, conn, 0);
	} else if (greeted && rg_smtp_status(conn) == RG_SMTP_TIMEOUT &&
	    rg_now() < t->deadline) {
		/* the server owes a reply it is still sleeping over: its
		 * session, and our place, stay taken for another wait (not
		 * for a greeting that never came: nothing is owed there) */
		double until = rg_now() + polite_reply_timeout(t);

		add_closer(p, conn, until < t->deadline ? until : t->deadline);
	} else {
		rg_smtp_close(conn, false);
		session_slot_give();
		p->conns--;
		rg_fiber_cond_broadcast(&p->freed);
	}
}

/* A connection opened ahead, greeted now with EHLO: 0 ready, -1 refused
 * (*fail_reply) or given up, 1 look again. */
static int take_warm(struct audit_target *t, const struct audit_opts *o,
    struct session *s, const char *helo, struct rg_reply *fail_reply, int *dead_warm)
{
	struct session_pool *p = t->pool;
	const char *where = NULL;
	int number;

	/* no other is opened ahead in its place: a lane opens a session when
	 * it needs one, and the server sees only the sessions the battery
	 * needs (session.c) */
	*s = p->warm[--p->nwarm];
	number = s->number;
	s->first = !t->described;	/* opened ahead, and the first one's EHLO failed */
	if (rg_smtp_unsolicited(s->conn)) {	/* a line since its greeting */
		close_session(t, s, false);
		where = "after the greeting";
	} else if (greet_session(t, o, s, helo, fail_reply) == 0) {
		return 0;
	} else if (s->out_of_step != NULL) {
		where = s->out_of_step;
	} else if (fail_reply->code != 0 || ++*dead_warm >= 2) {
		return -1;	/* refused this HELO, or it keeps failing */
	}
	if (where != NULL && !polite_out_of_step(t, where, NULL, number, false))
		return -1;
	t->error[0] = '\0';	/* it died while it waited, or was out of step */
	return 1;
}

/*
 * The connection s was not had. Turned away (4xx greeting; a refused
 * connect from a server that served us before), or not taken or greeted in
 * time while others of ours are open (closing ones too: a server that takes
 * one client at a time is still busy with them): with others of ours up,
 * too many at once for this server - lower --per-host and wait for a place;
 * with none, the server is busy - back off (polite.c). Out of step: a fresh
 * session, in lock-step. True: try again.
 */
static bool retry_after(struct audit_target *t, struct session *s,
    const struct rg_reply *fail)
{
	struct session_pool *p = t->pool;
	char what[32];
	bool others;

	if (s->out_of_step != NULL)
		return polite_out_of_step(t, s->out_of_step, NULL, s->number, false);
	if (rg_now() >= t->deadline)
		return false;
	/* taken, but not greeted in time with none of ours open: a server busy
	 * with others (a shared backend's smtpd processes all taken), not an
	 * unreachable one - back off and try again (polite.c) */
	if (s->greet_timeout && !s->connect_failed && p->conns == 0)
		return polite_no_greeting(t);
	/* a server that has greeted no connection of ours, and holds none of
	 * ours greeted now, is not busy but unreachable (closing every
	 * connection, or a greeting not had while ours hold it): no retry */
	if ((s->greet_timeout || s->closed_at_greeting) && t->banner[0] == '\0' &&
	    p->up == 0)
		return false;
	if (s->greet_timeout) {
		strlcpy_rg(what, "not greeted in time", sizeof(what));
		others = p->conns > 0;
		if (!others)
			return false;
	} else if (fail->code / 100 == 4) {
		snprintf(what, sizeof(what), "%d", fail->code);
		others = s->others_up;
	} else if (s->closed_at_greeting) {
		strlcpy_rg(what, "closed at the greeting", sizeof(what));
		others = s->others_up;
	} else if (s->connect_failed && t->sessions > 0) {
		strlcpy_rg(what, "connection refused", sizeof(what));
		others = s->others_up;
	} else {
		return false;
	}
	if (!polite_turned_away(t, what, fail->text, others))
		return false;
	if (others)
		lower_limit(t, fail, s->closed_at_greeting);
	return true;
}

int open_session(struct audit_target *t, const struct audit_opts *o,
    struct session *s, const char *helo, struct rg_reply *fail_reply)
{
	struct session_pool *p = t->pool;
	int dead_warm = 0, rc;

	for (;;) {
		rg_reply_init(fail_reply);
		if (!polite_may_connect(t))	/* given up, or backing off first */
			return -1;
		if (p->nwarm > 0 && dead_warm < 2) {
			if ((rc = take_warm(t, o, s, helo, fail_reply, &dead_warm)) <= 0)
				return rc;
			continue;
		}
		/* one opened ahead and on its way is this lane's once greeted
		 * (a server spawning a process per session greets it late: a
		 * cold Postfix, tens of ms): a connection of our own beside it
		 * would leave it unused, one session more for the server */
		if (p->conns + p->pending >= p->limit || p->opening + p->pending > 0) {
			if (pool_wait_place(t, s) != 0)
				return -1;
			continue;
		}
		if (connect_session(t, o, s, fail_reply, false) == 0) {
			if (greet_session(t, o, s, helo, fail_reply) == 0)
				return 0;
			if (s->out_of_step == NULL)
				return -1;
		} else if (s->yielded) {
			continue;
		}
		if (!retry_after(t, s, fail_reply))
			return -1;
		t->error[0] = '\0';
	}
}

void pool_finish(struct audit_target *t)
{
	struct session_pool *p = t->pool;
	struct timeval now;
	char ev[160];
	int closing = 0;

	if (p == NULL)
		return;
	p->stop_ahead = true;
	/* the unused ones first: a server that greets one client at a time
	 * greets an opener still waiting only once they are gone (and the
	 * opener then closes its own) */
	while (p->nwarm > 0)
		close_session(t, &p->warm[--p->nwarm], true);
	rg_fiber_group_wait(&p->openers, 0);
	/* The 221s still to come are read after this target's report. */
	for (struct closer *c = p->closers; c != NULL; c = c->next) {
		rg_smtp_set_transcript(c->conn, NULL, NULL);
		c->pool = NULL;
		rg_fiber_cond_broadcast(&c->end_hold);	/* the target is done */
		closing++;
	}
	if (closing > 0) {
		gettimeofday(&now, NULL);
		snprintf(ev, sizeof(ev), "%d session%s closing: QUIT sent, the 221 is read "
		    "after this report", closing, closing == 1 ? "" : "s");
		tx_record(t, &now, RG_TX_EVENT, ev);
	}
	free(p->warm);
	free(p);
	t->pool = NULL;
}

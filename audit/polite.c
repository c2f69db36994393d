/*
 * polite.c - politeness and reply-stream trust of one target (polite.h):
 * backoff after a server turned us away, the caps that end the retries,
 * the run's ceiling on new connections, the lock-step fallback, and how the
 * verdict and the JSON say so.
 *
 * A target's sessions are fibers on one thread (fiber.h): the counters in
 * t->polite are shared without locks, changed only between waits.
 */
#include "polite.h"
#include "transcript.h"
#include "lib/net/fiber.h"
#include "lib/base/log.h"
#include "lib/base/util.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>

static void polite_verdict_busy(struct audit_target *t);

static void event(struct audit_target *t, const char *text)
{
	struct timeval now;

	gettimeofday(&now, NULL);
	tx_record(t, &now, RG_TX_EVENT, text);
}

/* 0.5 .. 1.5: servers that turned many clients away at once do not get
 * them all back at the same moment. */
static double jitter(void)
{
	unsigned int r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (unsigned int)rg_now();
	return 0.5 + (double)(r % 10000) / 10000.0;
}

void polite_start(struct audit_target *t, const struct audit_opts *o)
{
	memset(&t->polite, 0, sizeof(t->polite));
	t->polite.ceiling = o->rate > 0 ? o->rate : POLITE_CEILING;
	t->polite.read_timeout = o->read_timeout;
	/* main() sets --rate; without it the ceiling holds (audit/smtp.c keeps
	 * the one schedule for every connection of the run) */
	if (o->rate <= 0)
		rg_smtp_set_connect_rate(POLITE_CEILING);
}

static void given_up_error(struct audit_target *t)
{
	const struct audit_politeness *pl = &t->polite;

	if (pl->untrusted)
		snprintf(t->error, sizeof(t->error), "reply stream out of step in %d "
		    "sessions from the greeting on: no reply of this server is trusted",
		    pl->out_of_step);
	else
		snprintf(t->error, sizeof(t->error), "server busy (%s), retried %d time%s",
		    pl->busy_what, pl->retries, pl->retries == 1 ? "" : "s");
}

static bool give_up(struct audit_target *t)
{
	char ev[400];

	t->polite.gave_up = true;
	given_up_error(t);
	snprintf(ev, sizeof(ev), "%s: no more connections to this target", t->error);
	event(t, ev);
	return false;
}

bool polite_may_connect(struct audit_target *t)
{
	struct audit_politeness *pl = &t->polite;

	if (pl->gave_up || pl->untrusted) {
		given_up_error(t);
		return false;
	}
	/* another session of the target is backing off: so is this one */
	if (pl->busy_until > rg_now())
		rg_fiber_sleep_until(pl->busy_until);
	return !pl->gave_up && !pl->untrusted;
}

void polite_greeted(struct audit_target *t)
{
	t->polite.consecutive = 0;
}

bool polite_turned_away(struct audit_target *t, const char *what, const char *detail,
    bool others)
{
	struct audit_politeness *pl = &t->polite;
	char ev[400];

	pl->busy++;
	strlcpy_rg(pl->busy_what, what, sizeof(pl->busy_what));
	if (pl->busy > POLITE_BUSY_MAX || pl->gave_up)
		return pl->gave_up ? false : give_up(t);
	if (others)	/* too many at once: the caller waits for one of ours */
		return true;
	if (++pl->consecutive > POLITE_RETRY_MAX)
		return give_up(t);

	double delay = POLITE_BACKOFF_BASE * (double)(1 << (pl->consecutive - 1)) * jitter();
	double until = rg_now() + delay;

	if (until >= t->deadline)	/* no retry fits in --budget */
		return give_up(t);
	pl->retries++;
	pl->backoff_seconds += delay;
	if (until > pl->busy_until)
		pl->busy_until = until;
	snprintf(ev, sizeof(ev), "server busy (%s%s%.120s): retry %d of %d in %.1f s",
	    what, detail[0] ? " " : "", detail, pl->consecutive, POLITE_RETRY_MAX, delay);
	event(t, ev);
	rg_fiber_sleep_until(until);
	return true;
}

bool polite_no_greeting(struct audit_target *t)
{
	return polite_turned_away(t, "connected, no greeting", "", false);
}

/* "connected, no greeting within 30 s (busy?): ..." when that is why no
 * session was had; false otherwise. */
static bool no_greeting_reason(struct audit_target *t)
{
	const struct audit_politeness *pl = &t->polite;

	if (pl->no_greeting == 0 || t->banner[0] != '\0')
		return false;
	snprintf(t->verdict_reason, sizeof(t->verdict_reason), "connected, no "
	    "greeting within %.0f s (busy?): %d connection%s taken and never "
	    "greeted (backoff %.0f s doubling, %.1f s waited); audit it again later",
	    pl->read_timeout, pl->no_greeting, pl->no_greeting == 1 ? "" : "s",
	    POLITE_BACKOFF_BASE, pl->backoff_seconds);
	return true;
}

void polite_no_session_verdict(struct audit_target *t)
{
	if (no_greeting_reason(t)) {
		t->verdict = VERDICT_INCONCLUSIVE;
		return;
	}
	t->verdict = VERDICT_UNREACHABLE;
	snprintf(t->verdict_reason, sizeof(t->verdict_reason),
	    "no SMTP session could be opened: %s", t->error);
}

bool polite_out_of_step(struct audit_target *t, const char *where, const char *probe,
    int session, bool piped)
{
	struct audit_politeness *pl = &t->polite;
	char ev[300], at[80];

	t->desync = true;
	snprintf(at, sizeof(at), "%s%s%ssession %d", probe ? "probe " : "", probe ? probe : "",
	    probe ? ", " : "", session);
	snprintf(ev, sizeof(ev), "reply stream out of step %s (%s): no reply of that "
	    "session is trusted", where, at);
	event(t, ev);
	if (!t->lockstep) {
		t->lockstep = true;
		snprintf(t->desync_note, sizeof(t->desync_note), "replies out of step %s "
		    "(%s): fell back to lock-step on fresh sessions", where, at);
		event(t, t->desync_note);
	}
	/* Groups already in flight on other lanes when the first one failed
	 * its fence are the same finding; lock-step sessions out of step from
	 * their greeting on are the ones that count. */
	if (piped)
		return !pl->untrusted;
	if (++pl->out_of_step >= POLITE_OUT_OF_STEP_MAX && !pl->untrusted) {
		pl->untrusted = true;
		given_up_error(t);
		event(t, t->error);
	}
	return !pl->untrusted;
}

void polite_pipelining_dropped(struct audit_target *t, const char *probe, int session,
    const char *why)
{
	if (t->lockstep)
		return;
	t->lockstep = true;
	snprintf(t->desync_note, sizeof(t->desync_note), "connection dropped on a "
	    "pipelined group from probe %s (session %d: %.60s): fell back to lock-step "
	    "on fresh sessions", probe, session, why);
	event(t, t->desync_note);
}

void polite_error_limit_met(struct audit_target *t, int errors, int session,
    const char *said, int limit)
{
	char ev[300];

	snprintf(ev, sizeof(ev), "the server ended session %d after %d error replies, "
	    "the last saying \"%.120s\": at most %d a session from now on", session,
	    errors, said, limit);
	event(t, ev);
}

bool polite_reply_delay(struct audit_target *t, double secs, int code, const char *path,
    bool after_error)
{
	struct audit_politeness *pl = &t->polite;
	bool error = code >= 400;
	char ev[200];

	/* a refusal of a path in RFC 5321 form tells how the server times
	 * its refusals; a syntax error to a bare path does not (Courier
	 * answers "554 Syntax error" to one at once, and tarpits refusals) */
	if (error && (path == NULL || path[0] == '<'))
		pl->error_timed = true;
	/* Courier sleeps after an error it answered at once: the next reply
	 * of the session is the late one */
	if ((!error && !after_error) || secs < POLITE_TARPIT_MIN)
		return false;
	pl->tarpit_replies++;
	if (pl->tarpit_least == 0 || secs < pl->tarpit_least)
		pl->tarpit_least = secs;
	if (secs <= pl->tarpit_seconds)
		return true;
	/* said once a step: 8 s, 16 s ..., not for each 8.01 s after 8 s */
	bool step = secs >= 1.5 * pl->tarpit_seconds;

	pl->tarpit_seconds = secs;
	if (!step)
		return true;
	snprintf(ev, sizeof(ev), "%s came %.1f s late: the server tarpits; "
	    "replies are awaited up to %.0f s, and a tarpitted session gets no further "
	    "probes", error ? "an error reply" : "the reply after an error", secs,
	    2 * secs + 2);
	event(t, ev);
	return true;
}

double polite_reply_timeout(const struct audit_target *t)
{
	double tarpit = 2 * t->polite.tarpit_seconds + 2;

	return t->polite.tarpit_seconds > 0 && tarpit > t->polite.read_timeout ? tarpit :
	    t->polite.read_timeout;
}

bool polite_tarpit(const struct audit_target *t)
{
	return t->polite.tarpit_seconds > 0;
}

/* q refused the sender p would send first, under p's HELO, at MAIL with a 5xx. */
static bool same_refused_sender(const struct audit_probe *q, const struct audit_probe *p)
{
	return q != p && !q->retried && q->outcome == OUT_UNTESTED && q->stage != NULL &&
	    strcmp(q->stage, "mail") == 0 && q->code / 100 == 5 &&
	    strcmp(q->spec.mail_from, p->spec.mail_from) == 0 &&
	    strcmp(q->spec.helo, p->spec.helo) == 0;
}

bool polite_sender_refused(const struct audit_target *t, const struct audit_probe *p)
{
	/* asked of every probe a group may take: most targets refuse no
	 * sender, and then no probe is looked at */
	if (p->retried || t->mail_refusals == 0)
		return false;	/* the retry sends the sender the server took */
	for (size_t i = 0; i < t->nprobes; i++)
		if (same_refused_sender(&t->probes[i], p))
			return true;
	return false;
}

/*
 * Courier's tarpit (courieresmtpd.C tarpit(): sleep 8 s before a session's
 * first 5xx, doubling to 128 s) makes each refusal cost a session 8 s, and a
 * sender refused at MAIL is refused again: its MAIL check looks at the
 * sender alone. About 30 routing tricks share the sender
 * relaytest@[IP]; asking it 30 times would cost 4 minutes of one lane.
 */
bool polite_refused_before(struct audit_target *t, struct audit_probe *p)
{
	char ev[300];

	if (!polite_tarpit(t) || p->retried)
		return false;
	for (size_t i = 0; i < t->nprobes; i++) {
		const struct audit_probe *q = &t->probes[i];

		if (!same_refused_sender(q, p))
			continue;
		p->outcome = q->outcome;
		p->stage = q->stage;
		p->code = q->code;
		p->untested_why = q->untested_why;
		p->session = q->session;
		strlcpy_rg(p->enhanced, q->enhanced, sizeof(p->enhanced));
		strlcpy_rg(p->text, q->text, sizeof(p->text));
		gettimeofday(&p->start, NULL);
		p->finish = p->start;
		snprintf(ev, sizeof(ev), "probe %s: its sender %.200s was refused at MAIL "
		    "(probe %s, session %d); on a tarpit it is not sent again", p->spec.id,
		    p->spec.mail_from, q->spec.id, q->session);
		event(t, ev);
		return true;
	}
	return false;
}

/* "; tarpitting: 8 s per error ..." after the verdict's reason. */
static void tarpit_note(struct audit_target *t)
{
	const struct audit_politeness *pl = &t->polite;
	size_t n = strlen(t->verdict_reason);

	if (pl->tarpit_seconds <= 0)
		return;
	snprintf(t->verdict_reason + n, sizeof(t->verdict_reason) - n, "; tarpitting: "
	    "%.0f s per error (%d replies came late after an error, the slowest after "
	    "%.0f s; each tarpitted session got no further probes)", pl->tarpit_least,
	    pl->tarpit_replies, pl->tarpit_seconds);
}

/* A relay probe that --budget left unrun (the tarpit's cost). */
static bool budget_unrun(const struct audit_probe *p)
{
	return p->outcome == OUT_NOT_RUN || (p->outcome == OUT_ERROR &&
	    strstr(p->text, "time budget") != NULL);
}

/*
 * A tarpit makes every refused probe cost seconds (Courier: 8 s, doubling
 * within a session), so --budget ends the battery early. The plain relays
 * run first, but a server that refuses them may still relay for a trick
 * that was never sent: the verdict stays inconclusive, and says what ran,
 * what did not, and that a longer --budget gives the answer. "closed"
 * only ever rests on every relay probe.
 */
static void tarpit_verdict(struct audit_target *t)
{
	size_t unrun = 0;

	if (t->polite.tarpit_seconds <= 0 || t->verdict != VERDICT_INCONCLUSIVE ||
	    t->polite.gave_up || t->polite.untrusted || t->n_accepted > 0 ||
	    t->n_refused == 0)
		return;
	for (size_t i = 0; i < t->nprobes; i++) {
		const struct audit_probe *p = &t->probes[i];

		if (!probe_untested_relevant(p))
			continue;
		if (!budget_unrun(p))
			return;	/* untested for another reason: stays inconclusive */
		unrun++;
	}
	snprintf(t->verdict_reason, sizeof(t->verdict_reason), "all %zu relay probes "
	    "that reached RCPT were refused, but %zu more were not run within "
	    "--budget: a longer --budget gives the verdict", t->n_refused, unrun);
}

void polite_verdict(struct audit_target *t)
{
	polite_verdict_busy(t);
	tarpit_verdict(t);
	tarpit_note(t);
}

static void polite_verdict_busy(struct audit_target *t)
{
	const struct audit_politeness *pl = &t->polite;
	char was[sizeof(t->verdict_reason)];

	if (t->verdict == VERDICT_OPEN_RELAY || (!pl->gave_up && !pl->untrusted))
		return;
	strlcpy_rg(was, t->verdict_reason, sizeof(was));
	given_up_error(t);
	if (pl->untrusted)
		snprintf(t->verdict_reason, sizeof(t->verdict_reason), "%s (an unsolicited "
		    "line shifts every reply onto the wrong command): nothing can be "
		    "graded from it", t->error);
	else if (!no_greeting_reason(t))	/* else: taken, never greeted */
		snprintf(t->verdict_reason, sizeof(t->verdict_reason), "%s (backoff %.0f s "
		    "doubling, %.1f s waited): no more connections in this run; audit "
		    "it again later", t->error, POLITE_BACKOFF_BASE, pl->backoff_seconds);
	if (t->n_refused > 0 || t->n_accepted > 0) {
		size_t n = strlen(t->verdict_reason);

		snprintf(t->verdict_reason + n, sizeof(t->verdict_reason) - n,
		    "; before that: %s", was);
	}
	t->verdict = VERDICT_INCONCLUSIVE;
}

json_t *polite_json(const struct audit_target *t, const struct audit_opts *o)
{
	const struct audit_politeness *pl = &t->polite;
	json_t *j = json_object();

	json_object_set_new(j, "connection_attempts", json_integer(pl->attempts));
	json_object_set_new(j, "turned_away", json_integer(pl->busy));
	json_object_set_new(j, "retries", json_integer(pl->retries));
	json_object_set_new(j, "backoff_seconds", json_real(pl->backoff_seconds));
	json_object_set_new(j, "gave_up", json_boolean(pl->gave_up));
	json_object_set_new(j, "out_of_step_sessions", json_integer(pl->out_of_step));
	json_object_set_new(j, "replies_trusted", json_boolean(!pl->untrusted));
	json_object_set_new(j, "closed_at_greeting", json_integer(pl->closed_at_greeting));
	json_object_set_new(j, "tarpit_seconds", json_real(pl->tarpit_least));
	json_object_set_new(j, "tarpit_slowest_seconds", json_real(pl->tarpit_seconds));
	json_object_set_new(j, "tarpitted_replies", json_integer(pl->tarpit_replies));
	/* the limits kept */
	json_object_set_new(j, "max_retries", json_integer(POLITE_RETRY_MAX));
	json_object_set_new(j, "max_turned_away", json_integer(POLITE_BUSY_MAX));
	json_object_set_new(j, "backoff_base_seconds", json_real(POLITE_BACKOFF_BASE));
	json_object_set_new(j, "backoff_jitter", json_string("0.5x-1.5x"));
	json_object_set_new(j, "per_host", json_integer(o->per_host > 1 ? o->per_host : 1));
	json_object_set_new(j, "new_connections_per_second", json_real(pl->ceiling));
	return j;
}

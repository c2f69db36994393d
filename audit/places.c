/*
 * places.c - a target's places under --max-sessions (slots.h): how its
 * pool (pool.h) takes one before a connect, and gives back sessions it
 * keeps idle when a lane of its own needs the place or waits for a
 * greeting one of ours holds up.
 */
#include "connect.h"
#include "pool.h"
#include "slots.h"
#include "lib/base/log.h"
#include "lib/net/fiber.h"

#include <stdio.h>

/* Close a session of t kept idle between passes (not s): true if one was. */
bool pool_close_idle(struct audit_target *t, const struct session *s)
{
	struct session_pool *p = t->pool;

	for (size_t i = 0; i < p->nidle; i++) {
		if (p->idle[i] != s && !p->idle[i]->dead) {
			close_session(t, p->idle[i], true);
			return true;
		}
	}
	return false;
}

/*
 * A place under --max-sessions before a connect. Opened ahead: only one free
 * now (under contention nothing is opened on speculation). The target's
 * first: in turn, however long, and --budget starts once it has its place
 * (a target waiting behind the cap has cost its server nothing yet).
 * Another: in turn within --budget. 0, or -1 with t->error.
 */
int pool_take_slot(struct audit_target *t, struct session *s, bool quiet)
{
	double asked = rg_now();
	bool had;

	if (quiet)
		return session_slot_try() ? 0 : -1;
	if (s->first && t->pool->conns == 1) {	/* this one's place alone */
		session_slot_take(0, true);
		t->deadline += rg_now() - asked;
		return 0;
	}
	if (session_slot_try())
		return 0;
	/* ours kept idle hold places we need: closed now, and any that goes
	 * idle while we wait (pool_idle) */
	pool_close_idle(t, s);
	t->pool->slot_waiting++;
	had = session_slot_take(t->deadline, false);
	t->pool->slot_waiting--;
	if (had)
		return 0;
	snprintf(t->error, sizeof(t->error), "connect: time budget for this target "
	    "exhausted waiting for a place under --max-sessions");
	return -1;
}

/*
 * A server that greets one client at a time (inetd-style, or a per-IP
 * limit of one without a 421) greets none of ours while another session of
 * ours holds it: a lane's kept idle between passes, or one opened ahead and
 * greeted since. Every GREET_NUDGE seconds without a greeting, an idle one
 * is closed; when one opened ahead is ready, this connection yields to it
 * (true: the caller closes it and takes that one). The whole wait stays
 * within timeout; the read that follows gets what is left of it.
 */
#define GREET_NUDGE	1.0	/* seconds */

bool pool_await_greeting(struct audit_target *t, struct session *s,
    double timeout)
{
	double end = rg_now() + timeout, left;
	int rc = 0;

	if (t->deadline > 0 && t->deadline < end)	/* --budget bounds it */
		end = t->deadline;
	while ((left = end - rg_now()) > GREET_NUDGE &&
	    (rc = rg_smtp_await_input(s->conn, GREET_NUDGE)) == 0) {
		if (t->pool->nwarm > 0)
			return true;
		pool_close_idle(t, s);
	}
	if (rc == 0 && left < timeout)
		rg_smtp_set_read_timeout(s->conn, left > 0.01 ? left : 0.01);
	return false;
}

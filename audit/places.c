/*
 * places.c - a target's places under --per-host and --max-sessions
 * (slots.h): how its pool (pool.h) takes one before a connect, and gives
 * back sessions it keeps idle when a lane of its own needs the place or
 * waits for a greeting one of ours holds up.
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

void pool_idle(struct audit_target *t, struct session *s, bool idle)
{
	struct session_pool *p = t->pool;
	size_t i = 0;

	if (idle && p->slot_waiting > 0 && !s->dead) {
		close_session(t, s, true);	/* a lane of ours waits for a place */
		return;
	}
	while (i < p->nidle && p->idle[i] != s)
		i++;
	if (!idle && i < p->nidle)
		p->idle[i] = p->idle[--p->nidle];
	else if (idle && i == p->nidle && p->nidle < POOL_MAX)
		p->idle[p->nidle++] = s;
	if (idle)
		rg_fiber_cond_broadcast(&p->freed);
}

/* Never more than --per-host connections: one being opened ahead, in use by
 * another lane or still closing (QUIT sent, 221 not yet read) holds its
 * place until it is free. 0: look again; -1: the budget ran out. */
int pool_wait_place(struct audit_target *t, struct session *s)
{
	struct session_pool *p = t->pool;

	/* or an idle one, unless one opened ahead is on its way: it is this
	 * lane's once greeted (a server starting a process per session
	 * greets late) */
	if (p->opening == 0 && pool_close_idle(t, s))
		return 0;
	/* woken when a place frees; a second at most, in case */
	double until = rg_now() + 1;

	if (rg_fiber_cond_wait(&p->freed, until < t->deadline ? until : t->deadline) ||
	    rg_now() < t->deadline)
		return 0;
	snprintf(t->error, sizeof(t->error), "connect: time budget for this "
	    "target exhausted waiting for a place under --per-host");
	return -1;
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
 * greeted since. Past the nudge (a second, or twice the first greeting's
 * delay on a server slow to greet) without a greeting, an idle one is
 * closed, and a lane yields to one opened ahead and ready (true: the caller
 * closes this connection and takes that one). An opener (quiet) never
 * yields, and gives up once the target needs none (true). The whole wait
 * stays within timeout and --budget: the read that follows gets what is
 * left of it.
 */
bool pool_await_greeting(struct audit_target *t, struct session *s,
    double timeout, bool quiet)
{
	struct session_pool *p = t->pool;
	double end = rg_now() + timeout, left;
	double nudge = 2 * p->greet_seconds > 1.0 ? 2 * p->greet_seconds : 1.0;

	if (t->deadline > 0 && t->deadline < end)	/* --budget bounds it */
		end = t->deadline;
	while (end - rg_now() > nudge && rg_smtp_await_input(s->conn, nudge) == 0) {
		if (quiet && p->stop_ahead)
			return true;
		if (!quiet && p->nwarm > 0)
			return true;
		pool_close_idle(t, s);
	}
	if ((left = end - rg_now()) < timeout)
		rg_smtp_set_read_timeout(s->conn, left > 0.01 ? left : 0.01);
	return false;
}

/*
 * places.c - a target's places under --max-sessions (slots.h): how its
 * pool (pool.h) takes one before a connect, and gives back sessions it
 * keeps idle when a lane of its own needs the place.
 */
#include "connect.h"
#include "pool.h"
#include "slots.h"
#include "lib/base/log.h"

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

/*
 * pool.h - a target's session pool (connect.c) and what its sessions
 * learned about the server's budgets (budget.c), and its places under
 * --max-sessions (places.c). Private to connect.c, budget.c and places.c.
 */
#ifndef RELAYGUARD_AUDIT_POOL_H
#define RELAYGUARD_AUDIT_POOL_H

#include "lib/net/fiber.h"

#include <stdbool.h>
#include <stddef.h>

struct audit_opts;
struct audit_target;
struct rg_smtp;
struct session;

#define POOL_MAX	64

/* A session closing politely: QUIT was sent, the 221 is read by a fiber. */
struct closer {
	struct rg_smtp *conn;
	struct session_pool *pool;	/* NULL once the target is done */
	struct closer *next;
	/* a reply timed out: the server still holds the session (a tarpit
	 * sleeping over its reply) until about then; its place stays taken */
	double hold_until;
	struct rg_fiber_cond end_hold;	/* the target is done: hold no more */
};

struct session_pool {
	const struct audit_opts *o;
	int limit;			/* --per-host */
	int conns;			/* open: in use, opened ahead, opening or closing */
	int up;				/* of those, greeted with 220 and not closing */
	struct session *warm;		/* greeting read, no EHLO yet [limit] */
	size_t nwarm;
	struct rg_fiber_group openers;
	int pending;			/* openers not yet connecting */
	int opening;			/* openers connecting or awaiting a greeting */
	double greet_seconds;		/* the first session's wait for its greeting */
	int ahead;			/* opened ahead after the first connects */
	struct rg_fiber_cond freed;	/* a place may have come free */
	struct session *idle[POOL_MAX];	/* lanes' sessions waiting idle */
	size_t nidle;
	bool stop_ahead;		/* a connection ahead failed, or the end */
	struct closer *closers;
	/* learned from the server's answers (budget.c) */
	int error_limit;		/* errors a session may make; 0: not lowered */
	bool no_rehello;		/* a second EHLO in a session was refused */
	bool rehello_taken;		/* a second EHLO in a session was answered 2xx */
	int slot_waiting;		/* lanes waiting for a place under --max-sessions */
};

/* Never more than --per-host connections: one being opened ahead, in use
 * by another lane or still closing holds its place until it is free (an
 * idle one is closed for it). 0: look again; -1: the budget ran out. */
int pool_wait_place(struct audit_target *t, struct session *s);
/* Close a session of t kept idle between passes (not s): true if one was. */
bool pool_close_idle(struct audit_target *t, const struct session *s);
/* Wait for s's greeting (at most timeout): true when s gives way to a
 * session of ours opened ahead and greeted meanwhile, or (quiet: opened
 * ahead itself) is no longer wanted (places.c). */
bool pool_await_greeting(struct audit_target *t, struct session *s,
    double timeout, bool quiet);
/* A place under --max-sessions before a connect (places.c): 0, or -1 with
 * t->error. quiet: a connection opened ahead. */
int pool_take_slot(struct audit_target *t, struct session *s, bool quiet);

#endif

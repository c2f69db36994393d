/*
 * slots.c - the run's cap on SMTP sessions at once (slots.h): a counting
 * semaphore of fibers. A slot given back goes straight to the first waiter
 * (no herd of waiters woken to race for it), so a target that waits longest
 * connects first. Fibers share one thread: no locks.
 */
#include "slots.h"
#include "lib/net/fiber.h"
#include "lib/base/log.h"

#include <stddef.h>

struct slot_waiter {
	struct rg_fiber_cond ready;
	bool granted;
	struct slot_waiter *next;
};

/* Waiters in two lines: sessions of targets in progress, served first
 * (a target under way finishes and gives its places back), and first
 * sessions of targets not yet started. */
struct slot_line {
	struct slot_waiter *first, *last;
};

static int cap;			/* 0: no cap */
static int used;
static struct slot_line lines[2];	/* [0] in progress, [1] newcomers */

void session_slots_set(int n)
{
	cap = n > 0 ? n : 0;
}

bool session_slot_try(void)
{
	if (cap > 0 && (used >= cap || lines[0].first != NULL || lines[1].first != NULL))
		return false;
	used++;
	return true;
}

static void unlink_waiter(struct slot_line *l, struct slot_waiter *w)
{
	struct slot_waiter **pp = &l->first, *prev = NULL;

	while (*pp != NULL && *pp != w) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (*pp == NULL)
		return;
	*pp = w->next;
	if (l->last == w)
		l->last = prev;
}

bool session_slot_take(double deadline, bool newcomer)
{
	struct slot_waiter w = {.granted = false};
	struct slot_line *l = &lines[newcomer ? 1 : 0];

	if (session_slot_try())
		return true;
	if (l->last != NULL)
		l->last->next = &w;
	else
		l->first = &w;
	l->last = &w;
	/* a broadcast means granted; outside a fiber the wait turns the loop
	 * once, so the loop is on our own condition */
	while (!w.granted && (deadline <= 0 || rg_now() < deadline))
		rg_fiber_cond_wait(&w.ready, deadline);
	if (!w.granted)
		unlink_waiter(l, &w);
	return w.granted;
}

void session_slot_give(void)
{
	struct slot_line *l = &lines[lines[0].first != NULL ? 0 : 1];
	struct slot_waiter *w = l->first;

	if (w == NULL || (cap > 0 && used > cap)) {
		if (used > 0)	/* a smaller cap since: fewer now */
			used--;
		return;
	}
	/* handed over: used stays as it is */
	l->first = w->next;
	if (l->first == NULL)
		l->last = NULL;
	w->granted = true;
	rg_fiber_cond_broadcast(&w->ready);
}

/*
 * groups.c - what a lane takes next from its pass's queue (queue.h): a
 * pipelined group within the session's budgets (budget.c), one probe while
 * the server is measured or tarpits, an identity where the session can say
 * its name, and when a spent lane leaves the rest to the others.
 */
#include "queue.h"

#include <string.h>

/* Kept in a session for an identity probe after a group (identity_follows):
 * its EHLO refused (an error), the probe, and the EHLO and NOOP around. */
#define ID_ERRORS	3
#define ID_NONMAIL	4

#define MEASURE_ALONE	3
#define MEASURE_GROUP	2

/* Probes per group at most: 1 on a tarpit (each error of a session comes
 * later than the last: one per session is the cheapest), 1 while the
 * server is measured, max once an error reply was timed or on Postfix,
 * else MEASURE_GROUP (no error seen yet: an open relay, or a tarpit not
 * met yet - stays so for the whole target), but 1 on Courier (Debian's
 * tarpits: two probes refused at MAIL are four errors, 8 + 16 + 32 + 64 s
 * in one session). */
static size_t group_max(const struct probe_queue *q, size_t max)
{
	if (q->t->polite.tarpit_seconds > 0)
		return 1;
	if (!q->measured)
		return 1;
	if (q->t->mta == MTA_COURIER && !q->t->polite.error_timed)
		return 1;
	/* Postfix answers its first errors at once (its error sleep starts
	 * at the session's error limit, budget.c) */
	if (q->t->polite.error_timed || q->t->mta == MTA_POSTFIX)
		return max;
	return max < MEASURE_GROUP ? max : MEASURE_GROUP;
}

void queue_measured(struct probe_queue *q, size_t n)
{
	q->alone += (int)n;
	q->measured |= q->t->polite.error_timed || q->alone >= MEASURE_ALONE;
}

/* Probes that may share a pipelined group: the default HELO, no identity. */
static bool batchable(const struct audit_probe *p)
{
	return p->spec.helo[0] == '\0';
}

/*
 * What the next group on run's session may hold: its errors stay below the
 * session's error limit (the fence and the RSETs answer after them) and its
 * RSETs and fence within the non-mail limit (budget.c). A fresh session has
 * said EHLO (and STARTTLS, EHLO again). *errors 0: no room for a group, the
 * next probe goes alone (the session's last error, or a fresh session).
 */
static size_t group_room(const struct probe_queue *q, const struct runner *run,
    int *errors)
{
	const struct session *s = &run->s;
	int limit = session_error_limit(q->t, q->o);
	bool other = !s->dead && strcmp(s->helo, q->o->helo) != 0;
	bool fresh = s->dead || s->tarpitted || (other && !session_may_rehello(q->t));
	int hello = q->t->tls_used && !q->o->implicit_tls ? 3 : 1;
	/* an identity probe's name is taken back by a new EHLO */
	int used = fresh ? hello : s->nonmail + other;
	int nonmail = session_nonmail_limit(q->t) - used - 1;

	*errors = limit - 1 - (fresh ? 0 : s->errors);
	if (*errors <= 0 && !fresh)
		*errors = 0;
	return nonmail > 0 ? (size_t)nonmail : 1;
}

/* Whether p goes next on a session that takes left more errors below its
 * limit: in the group being built (n > 0), or first (an identity needs
 * room for its EHLO too; with no room left, a probe of one error goes
 * alone as the session's last). */
static bool fits(const struct audit_target *t, const struct audit_probe *p, size_t n,
    int left)
{
	if (n > 0)
		return batchable(p) && probe_cost(t, p) <= left;
	if (!batchable(p))
		return left >= 1;
	return probe_cost(t, p) <= (left > 0 ? left : 1);
}

/* Move the probe at order[k] to the head of the queue (the report is by
 * slot, not by the order probes ran in). */
static struct audit_probe *to_front(struct probe_queue *q, size_t k)
{
	struct audit_probe *p = q->order[k];

	memmove(&q->order[q->next + 1], &q->order[q->next],
	    (k - q->next) * sizeof(*q->order));
	q->order[q->next] = p;
	return p;
}

/* Whether identity probe p may go next on run's session: a fresh session
 * is due anyway, or this one takes p's name by a new EHLO. Else p waits:
 * closing a live session for it may leave none (a server that takes one
 * connection from us at a time turns the next away). */
static bool identity_here(const struct probe_queue *q, const struct runner *run,
    const struct audit_probe *p)
{
	return run->s.dead || session_rehello_room(q->t, q->o, &run->s, p->spec.helo);
}

/*
 * The queue's next probe, or one after it that fits the session better.
 * Identity probes go first while a session has room for their EHLOs, so
 * the last probes of a pass are ones that fill the last errors of any
 * session; where the session cannot take them, last. NULL: the queue is
 * empty; a probe that does not fit when n > 0.
 */
static struct audit_probe *next_fitting(struct probe_queue *q, const struct runner *run,
    size_t n, int left)
{
	/* a live session takes an identity first only where its EHLO cannot
	 * fence a group (next_identity), and not while measuring: the EHLO
	 * and the one back would be two round trips more before groups */
	bool identities = run->s.dead || (q->measured && !session_rehello_known(q->t));

	for (size_t k = q->next; identities && n == 0 && left >= 1 && k < q->n; k++) {
		const struct audit_probe *p = q->order[k];

		if (!batchable(p) && identity_here(q, run, p))
			return to_front(q, k);
	}
	/* the plain probes before: once one is accepted, the probes of one
	 * sender share a transaction (probe_joins), and the other lanes'
	 * groups are built while its answer is on the way */
	for (size_t k = q->next; left >= 1 && k < q->n && k < q->next + RG_BATCH_MAX; k++)
		if (q->order[k]->spec.trick->klass == RG_CLASS_PLAIN && !q->order[k]->copy &&
		    batchable(q->order[k]) && fits(q->t, q->order[k], n, left))
			return to_front(q, k);
	/* the costlier probes first (an after-local one makes two errors):
	 * the last of a pass then cost one, and fill the last error of any
	 * session instead of wanting a session of their own */
	for (size_t k = q->next; left >= 2 && k < q->n; k++)
		if (batchable(q->order[k]) && probe_cost(q->t, q->order[k]) >= 2 &&
		    fits(q->t, q->order[k], n, left))
			return to_front(q, k);
	for (size_t k = q->next; k < q->n && k < q->next + RG_BATCH_MAX; k++)
		if (batchable(q->order[k]) &&
		    fits(q->t, q->order[k], n, left))
			return to_front(q, k);
	return n == 0 && q->next < q->n ? q->order[q->next] : NULL;
}

/* The next group from the queue for run's session: pp[0..n), its
 * transactions (RSETs and the fence) within the non-mail room, less the
 * errors and non-mail commands kept for a probe after it. */
size_t take_group(struct probe_queue *q, const struct runner *run,
    struct audit_probe **pp, bool batch, bool id_follows)
{
	int room;
	size_t tx_max = group_room(q, run, &room), n = 0, ntx = 0;

	if (id_follows) {	/* room kept for the identity probe after it */
		room -= ID_ERRORS;
		tx_max = tx_max > ID_NONMAIL + 1 ? tx_max - ID_NONMAIL : 1;
	}
	size_t max = batch ? group_max(q, RG_BATCH_MAX) : 1;
	int cost = 0;
	struct audit_probe *p;

	while (n < max && (p = next_fitting(q, run, n, room - cost)) != NULL) {
		bool joins = n > 0 && probe_joins(q->t, pp[n - 1], p);

		if (n > 0 && !joins && ntx + 1 > tx_max)
			break;
		ntx += !joins;
		cost += probe_cost(q->t, p);
		pp[n++] = p;
		q->next++;
		if (!batchable(p) || cost >= room)
			break;
	}
	return n;
}

/* An identity probe follows a group only on a server known to take a
 * second EHLO that relays, and while the session has room for the group
 * and ID_ERRORS, ID_NONMAIL more. */
bool identity_follows(const struct probe_queue *q, const struct runner *run)
{
	const struct session *s = &run->s;
	int hellos = 1 + (q->t->tls_used && !q->o->implicit_tls) + s->rehellos;

	/* a server that refuses renews sessions often, and a fresh session
	 * says an identity at no cost: the room is kept where one relays */
	if (s->dead || !q->measured || !session_rehello_known(q->t) || !target_relaying(q->t) ||
	    strcmp(s->helo, q->o->helo) != 0 ||
	    s->errors + 1 + ID_ERRORS > session_error_limit(q->t, q->o) ||
	    s->nonmail + 2 + ID_NONMAIL > session_nonmail_limit(q->t) ||
	    hellos + 2 > session_hello_limit(q->t))
		return false;
	for (size_t k = q->next; k < q->n; k++)
		if (!batchable(q->order[k]))
			return true;
	return false;
}

/* The identity probe to follow a group of n (identity_follows), off the
 * queue; NULL: none. */
struct audit_probe *next_identity(struct probe_queue *q, size_t n)
{
	for (size_t k = q->next; n >= 2 && k < q->n; k++)
		if (!batchable(q->order[k])) {
			struct audit_probe *p = to_front(q, k);

			q->next++;
			return p;
		}
	return NULL;
}

/*
 * Whether lane l, its session spent, leaves the rest of the pass to the
 * other lanes: their sessions have room for its errors. The sessions a
 * target sees are those the errors need, not one more per lane at the end.
 */
bool leave_to_others(const struct probe_queue *q, struct lane *l)
{
	int limit = session_error_limit(q->t, q->o), left = 0, room = 0;

	l->opening = false;
	/* on a tarpit a session takes one error (group_max): every lane */
	if (!l->run->s.dead || q->t->polite.tarpit_seconds > 0)
		return false;
	for (size_t k = q->next; k < q->n; k++)
		left += probe_cost(q->t, q->order[k]);
	for (size_t i = 0; i < q->nlanes; i++) {
		const struct lane *o = &q->lanes[i];
		const struct session *s = &o->run->s;

		if (o == l || !o->active)
			continue;
		if (o->opening)		/* a session of its own is on the way */
			room += limit;
		else if (!s->dead && !s->tarpitted)
			room += limit - s->errors;
	}
	l->opening = left > room;
	return !l->opening;
}


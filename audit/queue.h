/*
 * queue.h - the probes of one pass and the --per-host lanes that take them
 * (session.c), and what a lane takes next (groups.c). Private to both.
 */
#ifndef RELAYGUARD_AUDIT_QUEUE_H
#define RELAYGUARD_AUDIT_QUEUE_H

#include "audit.h"
#include "probe.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * The probes of one pass, taken in order by up to --per-host sessions at
 * once: the caller's runner (holding the first session) and per_host - 1
 * fibers with runners of their own. Results go to each probe's own slot,
 * so the report is the same whatever session ran what.
 */
struct probe_queue {
	struct audit_target *t;
	const struct audit_opts *o;
	struct audit_probe **order;	/* the pass's probes, from next on to
					 * take: of t->probes, or copies */
	size_t n, next;
	/* [t->nprobes]: copy i is t->probes[i] towards --second-domain, made
	 * (allocated; NULL until then) once the probe is evidence; plain ones
	 * join the battery as soon as their probe is accepted (session.c). A
	 * probe is ~6 KB and few get a copy: none on a closed server */
	struct audit_probe **copies;
	bool battery;		/* the pass is the battery */
	int *data_budget;
	double deadline;
	/* The first probes go one per group, on every lane at once, until an
	 * error reply was timed: a server that tarpits (polite.h) is measured
	 * before any lane has a long group in flight, and a lane's EHLO and
	 * first probe overlap the others'. A server that has answered
	 * MEASURE_ALONE of them without an error (an open relay) is not
	 * measured longer: groups of MEASURE_GROUP then, two errors whose
	 * tarpit (8 s, then 16) stays within a reply timeout. */
	bool measured;
	int alone;		/* probes answered while measuring */
	struct lane *lanes;	/* [nlanes]; [0] runs the caller's runner */
	size_t nlanes;
};

/* A lane of --per-host: its runner and session live across the passes. */
struct lane {
	struct probe_queue *q;
	struct runner *run;	/* &own, or the caller's for lanes[0] */
	struct runner own;
	bool active;		/* taking probes of the pass that runs */
	bool opening;		/* its session is spent and it takes a new one */
};

/* Count n probes answered while measuring; measured once an error reply
 * was timed, or MEASURE_ALONE answered without one. */
void queue_measured(struct probe_queue *q, size_t n);
/* The next group from q for run's session into pp (batch: pipelined, else
 * one probe); id_follows: room kept for an identity probe after it. */
size_t take_group(struct probe_queue *q, const struct runner *run,
    struct audit_probe **pp, bool batch, bool id_follows);
/* Whether an identity probe may follow the next group, its EHLO the
 * group's fence (run_batch); next_identity takes it off the queue after
 * a group of n (NULL: none). */
bool identity_follows(const struct probe_queue *q, const struct runner *run);
struct audit_probe *next_identity(struct probe_queue *q, size_t n);
/* Whether lane l, its session spent, leaves the rest of the pass to the
 * lanes whose sessions have room for its errors. */
bool leave_to_others(const struct probe_queue *q, struct lane *l);

#endif

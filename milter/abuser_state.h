/*
 * abuser_state.h - one source of the penalty box (abuser.h) and what
 * happens to it: the pure state machine, with the clock as a parameter.
 *
 * abuser.c keeps the sources in its table under its lock, asks the shared
 * state and logs the events; the decisions are made here:
 *
 *	abuser_source_key()	the source a client counts for (or none:
 *				trusted, exempt, authenticated, no address,
 *				box off), its address masked to AbuserPrefix4/6
 *	abuser_source_attempt()	one refused relay attempt at now: true when
 *				it boxes the source (the count reached
 *				AbuserThreshold in AbuserWindow, or the shared
 *				state says another MX boxed it)
 *	abuser_source_box()	box for AbuserBlockTime, or for what the
 *				shared box has left
 *	abuser_source_learn()	box on another MX's word (shared state)
 *	abuser_source_refuses()	is a transaction at now refused (enforced
 *				box, not run out)? counts it
 *	abuser_source_expire()	has the box run out at now? then the source
 *				starts again from a clean slate
 *
 * Times are seconds on a monotonic clock (rg_now() in the milter, any
 * number in the tests). Not thread-safe: the caller holds its lock.
 */
#ifndef RELAYGUARD_MILTER_ABUSER_STATE_H
#define RELAYGUARD_MILTER_ABUSER_STATE_H

#include "milter/bounce/bounce_window.h"
#include "milter/policy/config.h"
#include "milter/shared.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#define ABUSER_SOURCE_MAX	(INET6_ADDRSTRLEN + 8)	/* "2001:db8::/64" */

struct source {
	struct bw_ring ring;		/* refused attempts in AbuserWindow */
	double first, last;		/* the run of attempts that boxed it */
	double boxed_at, until;		/* until 0: not boxed */
	unsigned long attempts;		/* in the window when boxed */
	unsigned long refused;		/* transactions refused while boxed */
	bool enforced;			/* false: abuser_would_box only */
	char client[INET6_ADDRSTRLEN];	/* the address that boxed it */
	char boxed_by[64];		/* shared box: the host that set it */
	unsigned long pending;		/* attempts the shared state missed */
	char counted_by[64];		/* the MTA (macro j) that counted them */
	bool learned;			/* boxed on the shared state's word,
					 * with no attempt seen here */
};

/* The source of a client (client_addr: the IPv4 form of a v4-mapped
 * address; auth: "" when not authenticated) as "192.0.2.0/24" in buf;
 * false for a client the box never touches. */
bool abuser_source_key(const struct rg_config *conf, bool have_addr,
    const char *client_addr, const char *auth, char *buf, size_t len);

/* One refused attempt by client at now. sa: the shared state's answer, or
 * NULL (none, or lost: then lost says to keep the attempt in pending for
 * the merge, counted by host). True when it boxes s now (a would-be box
 * of log-only becomes a box once Mode is enforce). */
bool abuser_source_attempt(struct source *s, const struct rg_config *conf,
    const char *client, const struct shared_answer *sa, bool lost,
    const char *host, double now);

/* Box s at now: count attempts; for what the shared box sa has left, or
 * AbuserBlockTime (sa NULL or no box). */
void abuser_source_box(struct source *s, const struct rg_config *conf,
    const char *client, unsigned long count, const struct shared_answer *sa,
    double now);

/* Box s at now on the word of the shared state (sa: another MX's box,
 * sa->count the shared window's count, 0 when unknown: then the attempts
 * seen here count); this transaction is the first it refuses. */
void abuser_source_learn(struct source *s, const struct rg_config *conf,
    const char *client, const struct shared_answer *sa, double now);

/* True (and counted) when s refuses a transaction at now. */
bool abuser_source_refuses(struct source *s, double now);

/* True when s's box has run out at now: *was gets it, s is cleared. */
bool abuser_source_expire(struct source *s, double now, struct source *was);

/* The weight that orders evictions: a box outweighs any count. */
unsigned long abuser_source_weight(struct source *s, double window,
    double now);

#endif

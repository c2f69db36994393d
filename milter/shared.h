/*
 * shared.h - the penalty box's state shared by every milter of a site, on
 * a Redis server (SharedState redis://[user:pass@]host:port/db, or
 * unix:/path/redis.sock[?db=N&user=U&password=P]), through hiredis.
 *
 * Per source two keys with the source as Redis Cluster hash tag, so both
 * live on one slot and one Lua script may touch both:
 *	relayguard:{203.0.113.0/24}:w	hash bucket -> attempts, the window
 *	relayguard:{203.0.113.0/24}:box	the host that boxed it; PX = the box
 * Both expire (the window after AbuserWindow plus a bucket, the box with
 * the box): nothing grows without bound. One EVALSHA per decision, atomic,
 * on Redis's clock (TIME), so every milter agrees on the window.
 *
 * Every call has a strict deadline (SharedStateTimeout): waiting for the
 * connection's lock and the round trip both count. A call that fails or
 * runs out returns -1 and the caller decides alone (its local table); the
 * connection is then dropped, shared_state_lost is logged once, and the
 * signal thread reconnects with backoff (1 s doubling to 30 s), logs
 * shared_state_restored and returns true from shared_tick() so that the
 * caller merges the counts it kept meanwhile. Mail threads never connect.
 * The relay decision never depends on any of this. Thread-safe.
 */
#ifndef RELAYGUARD_MILTER_SHARED_H
#define RELAYGUARD_MILTER_SHARED_H

#include "milter/policy/config.h"

#include <stdbool.h>
#include <stdio.h>

struct shared_answer {
	unsigned long count;		/* attempts in the window, all milters */
	long box_ms;			/* what the box has left; 0: none */
	char boxed_by[256];		/* the host that boxed it */
	bool boxed_here;		/* this call made the box */
};

/*
 * Connect to c->shared_state and authenticate. 0: connected (or no
 * SharedState); 1: unreachable now (err says why; the milter runs on local
 * state and keeps trying); -1: a bad URL or refused credentials (err).
 * keep false (-t): close again.
 */
int shared_start(const struct rg_config *c, bool keep, char *err,
    size_t errlen);
/* -t: what shared_start() finds, on out (OK) or errout; -1 when fatal. */
int shared_check(const struct rg_config *c, FILE *out, FILE *errout);
bool shared_enabled(void);

/* n attempts by source; the box is set when enforce and the count reaches
 * threshold. 0 and a, or -1: decide locally. */
int shared_attempt(const char *source, unsigned long n, long threshold,
    long window, long block_time, bool enforce, const char *host,
    struct shared_answer *a);
/* Is source boxed? 0 and a (box_ms 0: no), or -1: decide locally. */
int shared_box(const char *source, struct shared_answer *a);

/* Bounce-storm windows shared by every MX (shared.c's bounce_lua): */
struct shared_bounce {
	unsigned long count[3];		/* all bounces, to rcpt, about client */
	int started;			/* 1..3: that count started a storm */
	long threshold;			/* the threshold it reached */
};

/* One bounce of origin ("generated", "inbound") to rcpt about client,
 * counted over every MX; at most one MX per BounceWindow starts the
 * shared storm. 0 and b, or -1 (not shared now: the local sensor
 * still counts). */
int shared_bounce(const char *origin, const char *rcpt, const char *client,
    const struct rg_config *c, const char *host, struct shared_bounce *b);
/* Once a second (signal thread): reconnect when due; true when the shared
 * state has just come back (merge the local counts now). */
bool shared_tick(double now);

void shared_metrics(FILE *out);

#endif

/*
 * abuser.h - the penalty box of relayguard-milter: a source that keeps
 * trying to relay is refused whole for a while.
 *
 * A source is a client address, or its network (AbuserPrefix4/6: /24,
 * /64). Every relay attempt the milter refuses at RCPT (or logs, in
 * log-only mode, or sees refused by the MTA already) counts for the
 * client's source in a sliding window of AbuserWindow seconds; the attempt
 * that reaches AbuserThreshold boxes the source for AbuserBlockTime
 * seconds. While boxed, every transaction it starts gets AbuserReply at
 * MAIL FROM, or already at CONNECT (AbuserStage): no smtpd time spent on
 * RCPT after RCPT. One event per box, abuser_boxed (abuser_would_box in
 * log-only mode, which refuses nothing), and abuser_released at its end.
 *
 * Never counted nor boxed: clients in TrustedNetworks, authenticated
 * clients (at MAIL; at CONNECT nobody is authenticated yet), clients
 * without an IP address. AbuserThreshold 0 (the default) turns it off.
 *
 * The sources live in a bounded table (ClientTableSize slots, countertab.h)
 * under one mutex: a boxed source is never evicted for an unboxed one, and
 * among unboxed ones the one with the fewest attempts in its window goes
 * first (Space-Saving), so an attacker cycling addresses cannot push a
 * heavy abuser out. All functions are thread-safe.
 */
#ifndef RELAYGUARD_MILTER_ABUSER_H
#define RELAYGUARD_MILTER_ABUSER_H

#include "milter.h"

#include <stdio.h>

/* Once at start, before the milter threads: capacity sources. */
void abuser_start(size_t capacity);

/* At RCPT: one refused (or logged) relay attempt by c's client. */
void abuser_relay_attempt(const struct conn *c, const char *rcpt);

/* True when c's config wants a reply at stage (negotiation). */
bool abuser_replies_at(const struct rg_config *conf, int stage);

/* At CONNECT or MAIL (stage, enum rg_abuser_stage): SMFIS_CONTINUE, or the
 * reply set and SMFIS_REJECT (5xx) / SMFIS_TEMPFAIL (421) for a boxed
 * client. */
sfsistat abuser_check(SMFICTX *ctx, const struct conn *c, int stage);

/* Once a second: log abuser_released for boxes that have run out. */
void abuser_tick(double now);

/* -t: the effective values, or that the box is off. */
void abuser_describe(const struct rg_config *c, FILE *out);

/* The penalty box's Prometheus counters (metrics.h extra hook). */
void abuser_metrics(FILE *out);

#endif

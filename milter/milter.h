/*
 * milter.h - private interface between relayguard-milter's daemon plumbing
 * (main.c) and its libmilter callbacks (callbacks.c).
 *
 * The callbacks take the installed config (config.h) once per MTA
 * connection and hold that reference until xxfi_close, so a reload never
 * changes the policy in the middle of an SMTP session. Relay attempts are
 * counted in milter_clients, summarised by main.c's signal thread.
 * Bounces are counted by two bounce sensors (bounce.h): those the MTA
 * generated itself and those received over SMTP; the signal thread calls
 * milter_bounce_tick() once a second for storm summaries and ends.
 */
#ifndef RELAYGUARD_MILTER_H
#define RELAYGUARD_MILTER_H

#include <libmilter/mfapi.h>

#include "relayguard/eventlog.h"

#define RG_MILTER_NAME		"relayguard-milter"
#define RG_MILTER_VERSION	"0.1.0"

extern struct smfiDesc milter_desc;
extern struct rg_client_counter *milter_clients;
extern struct bounce_sensor *milter_bounce_generated, *milter_bounce_inbound;

/* Log the per-client summary and start a new window. */
void milter_summary(double now);
/* Bounce-storm summaries and end events that are due. */
void milter_bounce_tick(double now);

#endif

/*
 * metrics.h - counters the admin reads without grepping logs, in the
 * Prometheus text exposition format (version 0.0.4).
 *
 * Every counter is a plain unsigned long updated with a relaxed atomic
 * add: no lock in the hot path, no allocation, safe from any thread. The
 * label sets are fixed and small (verdict x basis, SPF result, ...), so
 * each series is one array slot. rg_metrics_format() renders all of them
 * (series never touched are left out, except the plain totals, which are
 * always present) into a malloc'ed string; readers see each counter
 * atomically, not the set as one snapshot.
 *
 * Names (all prefixed relayguard_):
 *   decisions_total{verdict,basis}          relay decisions at RCPT
 *   relay_attempts_total{action}            refused (enforce) / logged (log-only)
 *   relay_attempts_refused_by_mta_total     the MTA refused them first
 *   bounce_storms_total{origin}             storms raised (generated/inbound)
 *   spf_results_total{result}
 *   dnsbl_hits_total{action}                listings acted on (log/reject)
 *   dns_lookups_total, dns_timeouts_total, dns_cache_hits_total
 *   dns_lookup_duration_seconds             histogram of network lookups
 *   milter_sessions_total, milter_sessions_active
 *   config_reloads_total{result}            ok / refused
 *   event_log_write_errors_total            events the EventLog lost
 *   start_time_seconds, uptime_seconds
 */
#ifndef RELAYGUARD_METRICS_H
#define RELAYGUARD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

/* MetricsListen "127.0.0.1:9894" or "[::1]:9894": loopback only (the
 * counters say a lot about the site). 0, or -1 with err. */
int rg_metrics_parse_listen(const char *v, struct sockaddr_storage *ss,
    socklen_t *len, char *err, size_t errlen);

/* Call once at start (start time for uptime). */
void rg_metrics_init(void);

void rg_metrics_decision(int verdict, int basis);	/* relay.h enums */
void rg_metrics_relay_attempt(bool refused);		/* false: log-only */
void rg_metrics_relay_refused_by_mta(void);
void rg_metrics_bounce_storm(bool generated);
void rg_metrics_spf(int result);			/* enum rg_spf_res */
void rg_metrics_dnsbl_hit(bool reject);
void rg_metrics_dns(double seconds, bool timeout);	/* one network lookup */
void rg_metrics_dns_cache_hit(void);
void rg_metrics_session(int delta);			/* +1 open, -1 close */
void rg_metrics_reload(bool ok);
void rg_metrics_eventlog_write_error(void);

/* A program's own counters (e.g. the milter's penalty box), written by
 * fn at the end of the exposition; NULL: none. Set once, before threads. */
void rg_metrics_set_extra(void (*fn)(FILE *out));

/* The whole exposition text (free() it). */
char *rg_metrics_format(void);

/* For tests: all counters back to zero. */
void rg_metrics_reset(void);

#endif

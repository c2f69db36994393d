/*
 * metrics.c - lock-free counters and their Prometheus text; see metrics.h.
 */
#include "milter/metrics.h"
#include "lib/base/log.h"
#include "milter/policy/relay.h"
#include "lib/mail/spf.h"
#include "lib/base/util.h"
#include "lib/mail/eventlog.h"
#include "lib/net/dns.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_VERDICT	4
#define N_BASIS		16
#define N_SPF		8
#define ADD(x, n)	__atomic_fetch_add(&(x), (n), __ATOMIC_RELAXED)
#define GET(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)

/* Upper bounds (seconds) of the DNS latency histogram; +Inf implied. */
static const double dns_buckets[] = {
	0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
};
#define N_BUCKETS	(sizeof(dns_buckets) / sizeof(dns_buckets[0]))

static struct {
	unsigned long decisions[N_VERDICT][N_BASIS];
	unsigned long attempts_refused, attempts_logged, mta_refused;
	unsigned long storms_generated, storms_inbound;
	unsigned long spf[N_SPF];
	unsigned long dnsbl_log, dnsbl_reject;
	unsigned long dns_lookups, dns_timeouts, dns_cache_hits;
	unsigned long dns_bucket[N_BUCKETS];	/* not cumulative */
	unsigned long dns_usec_sum;		/* microseconds */
	unsigned long sessions, sessions_active_plus, sessions_active_minus;
	unsigned long reloads_ok, reloads_refused;
	unsigned long eventlog_write_errors;
	long start_wall;
	double start_mono;
} m;

static void (*extra_counters)(FILE *);

void rg_metrics_set_extra(void (*fn)(FILE *out))
{
	extra_counters = fn;
}

/* The lower floors count into these through their hooks. */
static const struct rg_dns_observer dns_observer = {
	.lookup = rg_metrics_dns,
	.cache_hit = rg_metrics_dns_cache_hit,
};

void rg_metrics_init(void)
{
	m.start_wall = (long)time(NULL);
	m.start_mono = rg_now();
	rg_dns_observe(&dns_observer);
	rg_eventlog_on_write_error(rg_metrics_eventlog_write_error);
}

void rg_metrics_reset(void)
{
	memset(&m, 0, sizeof(m));
	rg_metrics_init();
}

void rg_metrics_decision(int verdict, int basis)
{
	if (verdict >= 0 && verdict < N_VERDICT && basis >= 0 && basis < N_BASIS)
		ADD(m.decisions[verdict][basis], 1);
}

void rg_metrics_relay_attempt(bool refused)
{
	if (refused)
		ADD(m.attempts_refused, 1);
	else
		ADD(m.attempts_logged, 1);
}

void rg_metrics_relay_refused_by_mta(void) { ADD(m.mta_refused, 1); }

void rg_metrics_bounce_storm(bool generated)
{
	if (generated)
		ADD(m.storms_generated, 1);
	else
		ADD(m.storms_inbound, 1);
}

void rg_metrics_spf(int result)
{
	if (result >= 0 && result < N_SPF)
		ADD(m.spf[result], 1);
}

void rg_metrics_dnsbl_hit(bool reject)
{
	if (reject)
		ADD(m.dnsbl_reject, 1);
	else
		ADD(m.dnsbl_log, 1);
}

void rg_metrics_dns(double seconds, bool timeout)
{
	size_t b = 0;

	if (seconds < 0)
		seconds = 0;
	ADD(m.dns_lookups, 1);
	if (timeout)
		ADD(m.dns_timeouts, 1);
	while (b < N_BUCKETS && seconds > dns_buckets[b])
		b++;
	if (b < N_BUCKETS)
		ADD(m.dns_bucket[b], 1);
	ADD(m.dns_usec_sum, (unsigned long)(seconds * 1e6 + 0.5));
}

void rg_metrics_dns_cache_hit(void) { ADD(m.dns_cache_hits, 1); }

void rg_metrics_session(int delta)
{
	if (delta > 0) {
		ADD(m.sessions, 1);
		ADD(m.sessions_active_plus, 1);
	} else {
		ADD(m.sessions_active_minus, 1);
	}
}

void rg_metrics_reload(bool ok)
{
	if (ok)
		ADD(m.reloads_ok, 1);
	else
		ADD(m.reloads_refused, 1);
}

void rg_metrics_eventlog_write_error(void)
{
	ADD(m.eventlog_write_errors, 1);
}

int rg_metrics_parse_listen(const char *v, struct sockaddr_storage *ss,
    socklen_t *len, char *err, size_t errlen)
{
	char host[64];
	const char *colon;
	char *end;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (v[0] == '[') {
		const char *close = strchr(v, ']');

		if (close == NULL || close[1] != ':' || (size_t)(close - v) >= sizeof(host))
			return rg_set_err(err, errlen, "'%s': expected 127.0.0.1:PORT "
			    "or [::1]:PORT", v);
		memcpy(host, v + 1, (size_t)(close - v - 1));
		host[close - v - 1] = '\0';
		colon = close + 1;
	} else {
		if ((colon = strrchr(v, ':')) == NULL ||
		    (size_t)(colon - v) >= sizeof(host))
			return rg_set_err(err, errlen, "'%s': expected 127.0.0.1:PORT "
			    "or [::1]:PORT", v);
		memcpy(host, v, (size_t)(colon - v));
		host[colon - v] = '\0';
	}
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port < 1 || port > 65535)
		return rg_set_err(err, errlen, "'%s': the port must be 1..65535", v);
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		if ((ntohl(in->sin_addr.s_addr) >> 24) != 127)
			return rg_set_err(err, errlen, "'%s': not a loopback address "
			    "(the metrics listener is for this host only)", v);
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*len = sizeof(*in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		if (!IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return rg_set_err(err, errlen, "'%s': not a loopback address "
			    "(the metrics listener is for this host only)", v);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		return 0;
	}
	return rg_set_err(err, errlen, "'%s': expected 127.0.0.1:PORT or "
	    "[::1]:PORT (an address, not a name)", v);
}

/* --- exposition ------------------------------------------------------------ */

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP relayguard_%s %s\n# TYPE relayguard_%s %s\n", name,
	    help, name, type);
}

/* Relay decisions, attempts and bounce storms. */
static void format_relay(FILE *f)
{
	head(f, "decisions_total", "counter",
	    "Relay decisions at RCPT by verdict and basis.");
	for (int v = 0; v < N_VERDICT; v++)
		for (int b = 0; b < N_BASIS; b++)
			if (GET(m.decisions[v][b]) > 0)
				fprintf(f, "relayguard_decisions_total{verdict=\"%s\","
				    "basis=\"%s\"} %lu\n",
				    relay_verdict_str((enum relay_verdict)v),
				    relay_basis_str((enum relay_basis)b),
				    GET(m.decisions[v][b]));
	head(f, "relay_attempts_total", "counter",
	    "Unauthorised relay attempts: refused (enforce) or logged (log-only).");
	fprintf(f, "relayguard_relay_attempts_total{action=\"refused\"} %lu\n"
	    "relayguard_relay_attempts_total{action=\"logged\"} %lu\n",
	    GET(m.attempts_refused), GET(m.attempts_logged));
	head(f, "relay_attempts_refused_by_mta_total", "counter",
	    "Relay attempts the MTA had refused already (seen via SMFIP_RCPT_REJ).");
	fprintf(f, "relayguard_relay_attempts_refused_by_mta_total %lu\n",
	    GET(m.mta_refused));
	head(f, "bounce_storms_total", "counter", "Bounce storms raised, by origin.");
	fprintf(f, "relayguard_bounce_storms_total{origin=\"generated\"} %lu\n"
	    "relayguard_bounce_storms_total{origin=\"inbound\"} %lu\n",
	    GET(m.storms_generated), GET(m.storms_inbound));
}

/* What the filters found: SPF results, DNSBL hits. */
static void format_filters(FILE *f)
{
	head(f, "spf_results_total", "counter", "SPF checks by result.");
	for (int r = 0; r < N_SPF; r++)
		if (GET(m.spf[r]) > 0)
			fprintf(f, "relayguard_spf_results_total{result=\"%s\"} %lu\n",
			    rg_spf_result_name((enum rg_spf_res)r), GET(m.spf[r]));
	head(f, "dnsbl_hits_total", "counter",
	    "Clients found on a DNS blocklist, by the action configured.");
	fprintf(f, "relayguard_dnsbl_hits_total{action=\"log\"} %lu\n"
	    "relayguard_dnsbl_hits_total{action=\"reject\"} %lu\n",
	    GET(m.dnsbl_log), GET(m.dnsbl_reject));
}

/* The resolver: lookups, timeouts, cache hits, lookup times. */
static void format_dns(FILE *f)
{
	unsigned long cum = 0;

	head(f, "dns_lookups_total", "counter",
	    "DNS lookups sent to the nameservers (cache hits not included).");
	fprintf(f, "relayguard_dns_lookups_total %lu\n", GET(m.dns_lookups));
	head(f, "dns_timeouts_total", "counter",
	    "DNS lookups that got no answer in time.");
	fprintf(f, "relayguard_dns_timeouts_total %lu\n", GET(m.dns_timeouts));
	head(f, "dns_cache_hits_total", "counter", "DNS answers from the cache.");
	fprintf(f, "relayguard_dns_cache_hits_total %lu\n", GET(m.dns_cache_hits));
	head(f, "dns_lookup_duration_seconds", "histogram",
	    "Time of DNS lookups sent to the nameservers.");
	for (size_t b = 0; b < N_BUCKETS; b++) {
		cum += GET(m.dns_bucket[b]);
		fprintf(f, "relayguard_dns_lookup_duration_seconds_bucket{le=\"%g\"} "
		    "%lu\n", dns_buckets[b], cum);
	}
	fprintf(f, "relayguard_dns_lookup_duration_seconds_bucket{le=\"+Inf\"} %lu\n"
	    "relayguard_dns_lookup_duration_seconds_sum %.6f\n"
	    "relayguard_dns_lookup_duration_seconds_count %lu\n",
	    GET(m.dns_lookups), (double)GET(m.dns_usec_sum) / 1e6,
	    GET(m.dns_lookups));
}

/* The process: milter sessions, reloads, event log errors, start and uptime. */
static void format_process(FILE *f)
{
	unsigned long plus, minus;

	head(f, "milter_sessions_total", "counter", "MTA connections (milter sessions).");
	fprintf(f, "relayguard_milter_sessions_total %lu\n", GET(m.sessions));
	plus = GET(m.sessions_active_plus);
	minus = GET(m.sessions_active_minus);
	head(f, "milter_sessions_active", "gauge", "Milter sessions open now.");
	fprintf(f, "relayguard_milter_sessions_active %lu\n",
	    plus > minus ? plus - minus : 0);
	head(f, "config_reloads_total", "counter",
	    "Configuration reloads (SIGUSR1): swapped in, or refused.");
	fprintf(f, "relayguard_config_reloads_total{result=\"ok\"} %lu\n"
	    "relayguard_config_reloads_total{result=\"refused\"} %lu\n",
	    GET(m.reloads_ok), GET(m.reloads_refused));
	head(f, "event_log_write_errors_total", "counter",
	    "Events that could not be written to the EventLog (disk full, ...).");
	fprintf(f, "relayguard_event_log_write_errors_total %lu\n",
	    GET(m.eventlog_write_errors));
	if (extra_counters != NULL)
		extra_counters(f);
	head(f, "start_time_seconds", "gauge", "Start time, seconds since the epoch.");
	fprintf(f, "relayguard_start_time_seconds %ld\n", m.start_wall);
	head(f, "uptime_seconds", "gauge", "Seconds since the start.");
	fprintf(f, "relayguard_uptime_seconds %.0f\n",
	    m.start_mono > 0 ? rg_now() - m.start_mono : 0.0);
}

char *rg_metrics_format(void)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (f == NULL)
		return xstrdup("");
	format_relay(f);
	format_filters(f);
	format_dns(f);
	format_process(f);
	fclose(f);
	return out;
}

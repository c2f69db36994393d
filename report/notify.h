/*
 * notify.h - relayguard-report notify: from the milter's event log (JSON
 * lines, eventlog.h) to one notification per abusing source.
 *
 *   notify_events.c  read the log, group events by client address (or by
 *                    its /24 and /64 with --network), count relay attempts,
 *                    bounce storms and related events, first/last time
 *   notify_filter.c  the disclosure filter: what the reporter withholds
 *                    (Withhold = recipients, internal-hosts, senders, helo)
 *                    is removed from every output
 *   notify_iodef.c   IODEF 2.0 document per source (RFC 7970)
 *   notify_xarf.c    X-ARF v4 JSON (messaging/spam) and IntelMQ-style JSON
 *   notify_mail.c    the plain-text e-mail body in the JPCERT/CC report
 *                    shape, with a bounded syslog-form log excerpt
 *   notify.c         options and the loop over sources
 */
#ifndef RELAYGUARD_REPORT_NOTIFY_H
#define RELAYGUARD_REPORT_NOTIFY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

#include "relayguard/clockstate.h"
#include "relayguard/reporter.h"

enum notify_request { REQ_INFO = 0, REQ_QUESTION, REQ_CONTACT };

struct notify_event {
	json_t *ev;			/* one event-log line (a reference) */
	double when;			/* epoch seconds, from its "time" */
	long pid;			/* the milter's pid (last milter_start), 0 unknown */
};

struct notify_source {
	char key[64];			/* address, or network with --network */
	char network[64];		/* "192.0.2.0/24", or "" */
	struct notify_event *ev;	/* this source's events, in log order */
	size_t nev, capev;
	long relay_attempts;		/* relay_* events, not summaries */
	long relay_refused;		/* of which refused (by us or the MTA) */
	long relay_logged;		/* of which only logged (log-only) */
	long storms;			/* bounce-storm events naming it */
	long storm_bounces;		/* bounces about its mail in those storms */
	long other;			/* other events about it (SPF, DNSBL, ...) */
	double first, last;		/* epoch seconds */
	char first_iso[48], last_iso[48];	/* as the log wrote them */
	char addrs[8][64];		/* distinct addresses in the group */
	size_t naddrs;
	long port;			/* a client port seen, 0 none */
	char client_name[256];		/* a reverse DNS name seen, "" none */
	char sender[512];		/* the most frequent sender */
	long recipients;		/* distinct recipients */
	char domains[512];		/* recipient domains, comma separated */
	/* what the disclosure filter may replace, bare addresses as object
	 * keys (sets), built once by notify_read() */
	json_t *recipients_set, *senders_set, *helos_set;
};

struct notify_opts {
	const struct rg_reporter *reporter;
	struct rg_clock clock;		/* the reporting host's, now */
	const char *log_clock;		/* the milter's clock state at start, or NULL */
	const char *log_zone;		/* the milter's zone at start, or NULL */
	enum notify_request request;
	const char *tlp;		/* clear, green, amber, red */
	const char *victim;		/* our server's address or name, or NULL */
	int victim_port;
	int excerpt;			/* log lines at most */
	const char *host;		/* host name in syslog lines */
	const char *events_path;
};

struct notify_log {
	struct notify_source *src;
	size_t n;
	char milter_clock[300];		/* reason of the first milter_start */
	char milter_zone[160];
	long lines, bad_lines;
};

/* notify_events.c */
int notify_read(const char *path, int prefix4, int prefix6, struct notify_log *log,
    char *err, size_t errlen);
void notify_log_free(struct notify_log *log);
double notify_parse_time(const char *iso);	/* -1 when not ISO 8601 */
struct timeval notify_tv(double t);	/* to the millisecond the log has */
const char *notify_jstr(json_t *o, const char *key);	/* "" when absent */

/* notify_filter.c: text with withheld parts replaced ("[withheld]"); a
 * new string. */
char *notify_redact(const struct notify_opts *o, const struct notify_source *s,
    const char *text);
bool notify_withheld(const struct notify_opts *o, unsigned what);

/* writers: 0 or -1 */
int notify_iodef(const struct notify_opts *o, const struct notify_source *s, FILE *out);
int notify_xarf(const struct notify_opts *o, const struct notify_source *s, FILE *out);
int notify_intelmq(const struct notify_opts *o, const struct notify_source *s, FILE *out);
int notify_mail(const struct notify_opts *o, const struct notify_source *s, FILE *out);
/* the syslog-form excerpt lines, shared by the mail body and the IODEF */
size_t notify_excerpt(const struct notify_opts *o, const struct notify_source *s,
    char ***lines);
void notify_excerpt_free(char **lines, size_t n);
const char *notify_request_name(enum notify_request r);

int notify_main(int argc, char **argv);

#endif

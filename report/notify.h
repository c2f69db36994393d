/*
 * notify.h - relayguard-report notify: from the milter's event log (JSON
 * lines, eventlog.h) to one notification per abusing source.
 *
 *   notify_events.c  stream the log, clean every key and value, group
 *                    events by client address (or by its /24 and /64 with
 *                    --network) in a hash table
 *   notify_source.c  per source: count relay attempts, bounce storms and
 *                    related events, first/last time, the excerpt kept
 *   notify_filter.c  the disclosure filter: what the reporter withholds
 *                    (Withhold = recipients, internal-hosts, senders, helo)
 *                    is replaced in the fields that hold it, before any
 *                    output is formatted
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

#include "lib/base/clockstate.h"
#include "lib/mail/reporter.h"

enum notify_request { REQ_INFO = 0, REQ_QUESTION, REQ_CONTACT };

struct notify_event {
	json_t *ev;			/* one event, cleaned and bounded (a reference) */
	double when;			/* epoch seconds, from its "time" */
	long pid;			/* the milter's pid (last milter_start), 0 unknown */
	size_t seq;			/* its place among the source's events, from 0 */
};

/* What is kept per source is bounded, whatever the log's size: the
 * excerpt's candidates (the first excerpt/2 events, the last in a ring,
 * the first NOTIFY_STORMS_KEPT bounce-storm events between), at most
 * NOTIFY_DISTINCT_MAX distinct recipients counted and senders ranked. */
#define NOTIFY_STORMS_KEPT	3
#define NOTIFY_DISTINCT_MAX	10000

struct notify_source {
	char key[64];			/* address, or network with --network */
	char network[64];		/* "192.0.2.0/24", or "" */
	size_t nev;			/* this source's events in total */
	struct notify_event *head, *tail;	/* first events; last ones (a ring) */
	struct notify_event storm[NOTIFY_STORMS_KEPT];	/* storm events between */
	size_t nhead, ntail, nstorm, head_max, tail_max, head_cap, tail_cap;
	long relay_attempts;		/* relay_* events, not summaries */
	long relay_refused;		/* of which refused (by us or the MTA) */
	long relay_logged;		/* of which only logged (log-only) */
	long storms;			/* bounce-storm events naming it */
	long storm_bounces;		/* bounces about its mail in those storms */
	long other;			/* other events about it (SPF, DNSBL, ...) */
	long boxed;			/* of which abuser_boxed (the penalty box) */
	char boxed_source[64];		/* the box's "source" (a CIDR), "" none */
	double first, last;		/* epoch seconds */
	char first_iso[48], last_iso[48];	/* as the log wrote them */
	char addrs[8][64];		/* distinct addresses in the group */
	size_t naddrs;
	long port;			/* a client port seen, 0 none */
	char client_name[256];		/* a reverse DNS name seen, "" none */
	char sender[512];		/* the most frequent sender */
	long recipients;		/* distinct recipients (NOTIFY_DISTINCT_MAX at most) */
	char domains[512];		/* recipient domains, comma separated */
	json_t *rcpt_set, *sender_counts;	/* while reading; NULL after */
	bool own_audit;			/* one of the reporter's OwnAuditors */
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
	size_t n, cap;
	json_t *index;			/* key -> place in src (a hash table) */
	char milter_clock[300];		/* reason of the first milter_start */
	char milter_zone[160];
	long lines, bad_lines;
};

/* notify_events.c */
/* Streams the log once; excerpt bounds the events kept per source. */
int notify_read(const char *path, int prefix4, int prefix6, int excerpt,
    struct notify_log *log, char *err, size_t errlen);
/* The same; an address in own (OwnAuditors; NULL: none) is a source of its
 * own, marked own_audit, never grouped into a network. */
int notify_read_own(const char *path, int prefix4, int prefix6, int excerpt,
    const struct rg_cidr_list *own, struct notify_log *log, char *err,
    size_t errlen);
/* A cleaned, bounded copy of one parsed event-log line: every key and
 * string value through rg_clean (RG_SINK_JSON); NULL if not an object. */
json_t *notify_clean_event(json_t *raw);

/* notify_source.c: one source's counts and kept events */
void notify_source_init(struct notify_source *s, const char *key, const char *net,
    int excerpt);
void notify_source_add(struct notify_source *s, json_t *e, double when, long pid,
    bool storm);
void notify_source_count(struct notify_source *s, json_t *e, bool storm);
void notify_source_finish(struct notify_source *s);
void notify_source_free(struct notify_source *s);
/* the kept events in log order; out has room for excerpt + NOTIFY_STORMS_KEPT */
size_t notify_kept(const struct notify_source *s, const struct notify_event **out);
void notify_log_free(struct notify_log *log);
double notify_parse_time(const char *iso);	/* -1 when not ISO 8601 */
struct timeval notify_tv(double t);	/* to the millisecond the log has */
const char *notify_jstr(json_t *o, const char *key);	/* "" when absent */

/* notify_filter.c: the disclosure filter works on the fields of an event,
 * before anything is formatted. notify_filter_event() returns a copy of e
 * whose recipient, sender, HELO and host fields (and their lists) hold
 * markers where the profile withholds them, and whose free-text fields
 * (reason, ...) have this event's withheld values replaced; time, event,
 * action, client address and port, mode, queue id and counts are never
 * touched, nor is the client's address where free text names it.
 * notify_filter_text() applies the internal-host rule to text that is no
 * event's (the events path, the domains; a new string);
 * notify_filter_changes_sender() tells whether the filter would change a
 * sender shown on its own. */
json_t *notify_filter_event(const struct notify_opts *o, const struct notify_source *s,
    json_t *e);
char *notify_filter_text(const struct notify_opts *o, const char *text);
/* The milter's own host name (the host field, the syslog host column), or
 * the marker that withholds it (Withhold = internal-hosts). */
const char *notify_filter_host(const struct notify_opts *o, const char *host);
bool notify_filter_changes_sender(const struct notify_opts *o, const char *sender);
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
/* An option's number in [min, max], else a usage error (exit 64). */
int notify_parse_num(const char *opt, const char *v, int min, int max);
/* blocklist.c: relayguard-report blocklist */
int blocklist_main(int argc, char **argv);

#endif

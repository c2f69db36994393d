/*
 * bounce.h - the bounce-storm sensor: which messages are bounces, how many
 * there were lately, and when that becomes a storm worth one event.
 *
 * Classification (REFERENCE.md 6; rspamd's ratelimit uses the same role
 * list): bounce_sender_kind() looks at the envelope sender only - the
 * null path ("<>" from smtpd, "" from Postfix's own non_smtpd mail) or a
 * mailer role local part (postmaster, mailer-daemon, double-bounce, ...).
 * bounce_is_bounce() adds the content evidence a DSN parser found
 * (dsn.h): a null sender is always a bounce; a role sender only when the
 * content confirms it (or when no content was seen), since postmasters
 * also write ordinary mail.
 *
 * Counting: a struct bounce_sensor counts bounces of one origin
 * ("generated": made by this MTA, seen through Postfix's non_smtpd_milters;
 * "inbound": received over SMTP, i.e. backscatter) in sliding windows
 * (bounce_window.h): per envelope recipient, per client, in total, and for
 * the report per reporting MTA, failed-recipient domain, status,
 * diagnostic, original client and original sender. For generated bounces
 * the client is the one that injected the failed message (from the
 * returned Received: line), for inbound ones the SMTP client delivering
 * the bounce. All tables have a fixed size; one mutex serialises a sensor.
 *
 * Storm state machine, per sensor:
 *	quiet --(a count reaches its threshold)--> storm: BOUNCE_STORM_START
 *	storm --(every SummaryInterval)--> BOUNCE_STORM_SUMMARY
 *	storm --(no count at its threshold any more, i.e. the rate over the
 *	         last window fell back)--> quiet: BOUNCE_STORM_END
 * bounce_sensor_add() reports the start at once (from the message that
 * crossed the threshold); bounce_sensor_tick(), called about once a
 * second, reports summaries and the end. Each returns a filled struct
 * bounce_storm_report; bounce_storm_log() writes it as one key=value
 * syslog line and one EventLog JSON object.
 *
 * Open-relay abuse: bounce_relay_abuse() says whether a bounce is about
 * mail this server itself relayed for an outside client - the returned
 * message was received by this server from a client outside
 * TrustedNetworks and the failed recipient is not one of LocalDomains or
 * RelayDomains. The storm report counts these and says so plainly.
 */
#ifndef RELAYGUARD_BOUNCE_H
#define RELAYGUARD_BOUNCE_H

#include "bounce_window.h"
#include "milter/policy/config.h"
#include "dsn.h"

#include <stdbool.h>
#include <stddef.h>

enum bounce_sender {
	BOUNCE_SENDER_NORMAL,
	BOUNCE_SENDER_NULL,		/* <> or "" */
	BOUNCE_SENDER_ROLE,		/* postmaster@, mailer-daemon@, ... */
};

/* mail_from as the MTA passed it ("<a@b>", "<>", "", "double-bounce@h"). */
enum bounce_sender bounce_sender_kind(const char *mail_from);
/* Is the local part one of the mailer roles? (case-insensitive) */
bool bounce_role_local_part(const char *local, size_t len);
/* evidence: DSN_EV_* bits from the content, content_seen: whether the
 * header stage was seen at all. */
bool bounce_is_bounce(enum bounce_sender kind, unsigned evidence,
    bool content_seen);

/* myhostname: the MTA's own name (macro j), may be NULL; generated: the
 * bounce was made by this MTA. */
bool bounce_relay_abuse(const struct rg_config *conf, const struct dsn_report *d,
    bool generated, const char *myhostname);

enum bounce_dim {
	BOUNCE_DIM_RCPT,	/* envelope recipient of the bounce */
	BOUNCE_DIM_CLIENT,	/* see above */
	BOUNCE_DIM_ORIG_CLIENT,	/* client in the returned Received: line */
	BOUNCE_DIM_ORIG_SENDER,	/* sender of the failed message */
	BOUNCE_DIM_MTA,		/* Reporting-MTA */
	BOUNCE_DIM_DOMAIN,	/* domain of each failed recipient */
	BOUNCE_DIM_STATUS,	/* Status: 5.4.4 */
	BOUNCE_DIM_DIAG,	/* Diagnostic-Code, addresses masked */
	BOUNCE_DIMS
};

struct bounce_limits {
	long window;		/* seconds (fixed at creation) */
	long total;		/* 0: off */
	long per_rcpt;
	long per_client;
	long summary_interval;	/* seconds */
};

/* One bounce as the milter saw it. */
struct bounce_obs {
	const char *recipient;		/* envelope recipient (first) */
	const char *client;		/* BOUNCE_DIM_CLIENT key, NULL: none */
	const struct dsn_report *dsn;	/* NULL when the body was not seen */
	bool relay_abuse;		/* bounce_relay_abuse() */
};

enum bounce_storm_event {
	BOUNCE_STORM_NONE,
	BOUNCE_STORM_START,
	BOUNCE_STORM_SUMMARY,
	BOUNCE_STORM_END,
};

#define BOUNCE_TOP	5

struct bounce_storm_report {
	enum bounce_storm_event event;
	char origin[16];		/* generated | inbound */
	long window;
	double duration;		/* seconds since the storm began */
	unsigned long total;		/* bounces in the window */
	unsigned long relay_abuse;	/* of which about relayed mail */
	unsigned long double_bounces;
	unsigned long storm_bounces;	/* counted since the storm began */
	char trigger[300];		/* which threshold, with its count */
	struct bw_top top[BOUNCE_DIMS][BOUNCE_TOP];
	size_t ntop[BOUNCE_DIMS];
};

struct bounce_sensor;

struct bounce_sensor *bounce_sensor_new(const char *origin, size_t table_size,
    const struct bounce_limits *limits);
void bounce_sensor_free(struct bounce_sensor *s);
/* New thresholds and summary interval (reload); the window stays. */
void bounce_sensor_set_limits(struct bounce_sensor *s,
    const struct bounce_limits *limits);
/* Count one bounce; BOUNCE_STORM_START (rep filled) when it began a storm. */
enum bounce_storm_event bounce_sensor_add(struct bounce_sensor *s,
    const struct bounce_obs *obs, double now, struct bounce_storm_report *rep);
/* Summary or end when due (rep filled), else BOUNCE_STORM_NONE. */
enum bounce_storm_event bounce_sensor_tick(struct bounce_sensor *s, double now,
    struct bounce_storm_report *rep);
bool bounce_sensor_in_storm(struct bounce_sensor *s);
/* Window count of one key of one dimension, or of the total (key NULL). */
unsigned long bounce_sensor_count(struct bounce_sensor *s, enum bounce_dim dim,
    const char *key, double now);
/* Memory held by the tables (fixed at creation). */
size_t bounce_sensor_bytes(const struct bounce_sensor *s);

const char *bounce_dim_name(enum bounce_dim dim);	/* "recipients" ... */
const char *bounce_storm_event_name(enum bounce_storm_event e);
/* The plain-language sentence of a report ("reason" in the event). */
char *bounce_storm_sentence(const struct bounce_storm_report *rep, char *buf,
    size_t len);
/* syslog line + EventLog object; relay_attempts: the milter's count of
 * refused relay attempts by the top original client (-1: unknown). */
void bounce_storm_log(const struct bounce_storm_report *rep,
    long relay_attempts);

/* "smtp; 550 5.1.1 <x@y>: no such user" -> "smtp; 550 5.1.1 <*>: no such
 * user": addresses masked, so one cause is one key. */
char *bounce_diag_normalise(const char *diag, char *buf, size_t len);

#endif

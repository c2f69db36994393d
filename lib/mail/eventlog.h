/*
 * eventlog.h - relay evidence: key=value log lines and a JSON-lines event
 * log (the milter writes them, the reporter reads them back). The
 * per-client relay-attempt counts are the milter's (milter/clients.h).
 *
 * struct rg_event describes one decision worth knowing (a relay refused,
 * a relay attempt the MTA refused already, an authenticated relay, a
 * summary). rg_event_format_kv() renders it as one log line of key=value
 * pairs (values are cleaned with the KV rule of textclean.h: printable
 * ASCII, \xHH and \uHHHH escapes, so a hostile HELO cannot forge log
 * lines; values with blanks, '=' or escapes are double-quoted). rg_eventlog_write() appends it to the EventLog file as one
 * JSON object per line (built with jansson, never by hand), with an
 * ISO 8601 "time" carrying the UTC offset; its strings go through the JSON
 * rule of textclean.h. The file is opened with
 * O_APPEND and written with one write(2) per line under a mutex, so lines
 * from concurrent connections never interleave; rg_eventlog_open() again
 * (on reload, or after log rotation) swaps the file atomically, and a path
 * that fails to open leaves the file open before in use. The path must
 * hold a regular file or nothing (regfile.h: no symlink is followed, a
 * FIFO cannot hang the open).
 *
 * A line that cannot be written whole (disk full, EFBIG) is cut off again,
 * counted (the rg_eventlog_on_write_error() hook: the milter's metrics) and, the first of a spell of
 * failures, logged with the reason; the first good write after the spell
 * logs how many events were lost. Callers have nothing more to do: the
 * return value is for tests, and mail never waits for the log.
 *
 * All functions are thread-safe.
 *
 * Events with more to say (the bounce-storm sensor, bounce.h) attach extra
 * fields: a string, a number, or a ranked list of (value, count) items.
 * In the key=value line a list reads "root@site.example(50),abuse(3)";
 * in JSON it is an array of {"value": ..., "count": ...} objects. Extra
 * fields come after the standard ones and before "reason".
 */
#ifndef RELAYGUARD_EVENTLOG_H
#define RELAYGUARD_EVENTLOG_H

#include <stdbool.h>
#include <stddef.h>

struct rg_event_item {
	const char *value;
	unsigned long count;
};

struct rg_event_field {
	const char *key;
	const char *str;		/* string field, or */
	const struct rg_event_item *items;	/* list field (nitems), or */
	size_t nitems;
	long num;			/* a number (str and items NULL) */
};

struct rg_event {
	const char *event;	/* relay_refused, relay_refused_by_mta, ... */
	const char *host;	/* the reporting MTA (macro j); NULL: the
				 * default set by rg_event_set_default_host */
	const char *action;	/* reject, log-only, permit, none */
	const char *client_addr;
	const char *client_name;
	const char *helo;
	const char *sender;
	const char *recipient;
	const char *auth_authen;
	const char *reason;
	const char *queue_id;
	const char *mode;
	long count;		/* summaries: attempts; else 0 (omitted) */
	long window;		/* summaries: seconds */
	const struct rg_event_field *fields;	/* extra fields, or NULL */
	size_t nfields;
};

/*
 * Event names are lowercase words joined by '_' (relay_refused,
 * bounce_storm, bounce_storm_summary, null_sender_anomaly); before 0.2 the
 * bounce events used '-' (bounce-storm, ...). rg_event_name_canonical()
 * maps an old name to the current one (readers of old logs).
 *
 * Every event carries "host": the MTA that reported it (ev->host, the
 * milter's {j} macro), or the default host, set once at start before any
 * thread runs (AuthservID, else the host name). Empty: omitted.
 */
void rg_event_set_default_host(const char *host);
const char *rg_event_default_host(void);
/* "bounce-storm" -> "bounce_storm" into buf; returns buf. */
char *rg_event_name_canonical(const char *name, char *buf, size_t len);

/* "event=relay_refused host=mx.example client_addr=... reason=\"...\"" (NULL fields omitted). */
char *rg_event_format_kv(const struct rg_event *ev, char *buf, size_t len);

/* Open (or reopen) path for appending; NULL closes. 0, or -1 with err. */
int rg_eventlog_open(const char *path, char *err, size_t errlen);
/* Append ev as one JSON line; no-op when no file is open. 0, or -1 with
 * the failure logged and counted here. */
int rg_eventlog_write(const struct rg_event *ev);
void rg_eventlog_close(void);

/* Called for each event the EventLog loses (from any thread): the milter
 * counts them in its metrics, which this floor knows nothing of. Set once
 * at start; NULL (the default) counts nothing. */
void rg_eventlog_on_write_error(void (*fn)(void));

#endif

/*
 * dsn.h - an incremental parser for bounces: delivery status
 * notifications (RFC 3464, multipart/report RFC 6522) and the returned
 * message they carry.
 *
 * Fed the way a milter sees a message: dsn_header() once per top-level
 * header (name, unfolded or folded value), dsn_body() chunk by chunk with
 * arbitrary boundaries, dsn_finish() at the end. It collects
 *   - content evidence from the top-level headers (DSN_EV_*): Content-Type
 *     multipart/report; report-type=delivery-status, Auto-Submitted other
 *     than "no", a typical bounce Subject, From: MAILER-DAEMON;
 *   - from the message/delivery-status part: Reporting-MTA, the Postfix
 *     extension X-Postfix-Sender, and per recipient Final-Recipient,
 *     Original-Recipient, Action, Status, Remote-MTA, Diagnostic-Code;
 *   - from the returned message (message/rfc822, text/rfc822-headers, or
 *     anything after the report in a non-MIME bounce): the client that
 *     injected the original, from the first Received: line with a from
 *     clause in Postfix/sendmail form "from HELO (NAME [IP])" (nested
 *     returned messages of a double bounce are searched too), and the
 *     original sender (the first Return-Path or X-Postfix-Sender that is
 *     neither null nor a mailer role). A nested delivery-status part marks
 *     a double bounce.
 * Only the top-level MIME boundary is tracked; nested structure is read
 * as lines. Every buffer is fixed: lines longer than DSN_LINE_MAX are cut,
 * at most DSN_MAX_RCPTS recipients are kept (all are counted), and
 * dsn_body() stops reading after max_body bytes. Hostile input yields
 * empty fields, never an error.
 *
 *	struct dsn_parser *p = dsn_parser_new(65536);
 *	dsn_header(p, "Content-Type", "multipart/report; ...");
 *	if (dsn_body(p, chunk, len)) ... enough: skip the rest of the body
 *	const struct dsn_report *r = dsn_finish(p);
 *	dsn_parser_free(p);
 */
#ifndef RELAYGUARD_DSN_H
#define RELAYGUARD_DSN_H

#include <stdbool.h>
#include <stddef.h>

#define DSN_LINE_MAX	1000
#define DSN_MAX_RCPTS	8

/* Content evidence bits. */
#define DSN_EV_REPORT		0x01	/* multipart/report; delivery-status */
#define DSN_EV_AUTO_SUBMITTED	0x02
#define DSN_EV_SUBJECT		0x04
#define DSN_EV_FROM_DAEMON	0x08
#define DSN_EV_STATUS_PART	0x10	/* a message/delivery-status part */

struct dsn_recipient {
	char final_rcpt[256];		/* address only: "a@victim.example" */
	char orig_rcpt[256];
	char action[32];		/* failed, delayed, delivered, ... */
	char status[32];		/* 5.4.4 */
	char remote_mta[256];
	char diagnostic[256];		/* "smtp; 550 5.4.4 Host ..." */
};

struct dsn_report {
	unsigned evidence;		/* DSN_EV_* */
	char subject[200];
	char reporting_mta[256];	/* "mail.site.example" (type removed) */
	char orig_sender[256];
	char orig_client_addr[64];	/* "127.0.0.2", "2001:db8::1" */
	char orig_client_name[256];
	char orig_client_helo[256];
	char orig_received_by[256];	/* the "by" host of that Received: */
	bool double_bounce;
	size_t nrcpt;			/* kept in rcpt[] */
	size_t nrcpt_seen;		/* in the report */
	struct dsn_recipient rcpt[DSN_MAX_RCPTS];
	size_t body_bytes;		/* read by the parser */
	bool truncated;			/* stopped at max_body */
};

struct dsn_parser;

struct dsn_parser *dsn_parser_new(size_t max_body);
void dsn_parser_free(struct dsn_parser *p);
void dsn_header(struct dsn_parser *p, const char *name, const char *value);
/* true: nothing more is needed from the body (complete, or max_body). */
bool dsn_body(struct dsn_parser *p, const char *data, size_t len);
const struct dsn_report *dsn_finish(struct dsn_parser *p);

/* Building blocks, exported for the tests. */
bool dsn_subject_is_bounce(const char *subject);
/* "from helo (name [ip])\n\tby host ..." -> fields; false without an IP. */
bool dsn_parse_received(const char *value, char *ip, size_t iplen,
    char *helo, size_t helolen, char *name, size_t namelen, char *by,
    size_t bylen);
/* "rfc822; <a@b>" -> "a@b"; "dns; mx.example" -> "mx.example". */
char *dsn_field_value(const char *value, char *buf, size_t len);

#endif

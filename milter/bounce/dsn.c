/*
 * dsn.c - incremental DSN (RFC 3464) and returned-message parser; see
 * dsn.h. A line machine over the body: top-level MIME boundary lines
 * switch parts, part headers pick the part type, and each part type has
 * its own line handler. Folded fields are assembled in one bounded
 * buffer; nothing is allocated after dsn_parser_new().
 */
#include "milter/bounce/dsn.h"
#include "lib/base/hostport.h"
#include "lib/base/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum dsn_zone { Z_PREAMBLE, Z_PART_HEADERS, Z_PART_BODY, Z_EPILOGUE };
enum dsn_part { P_OTHER, P_STATUS, P_RETURNED };

struct dsn_parser {
	struct dsn_report r;
	size_t max_body;
	char boundary[80];		/* RFC 2046: at most 70 characters */
	size_t blen;
	enum dsn_zone zone;
	enum dsn_part part, next_part;
	/* the current line */
	char line[DSN_LINE_MAX + 1];
	size_t linelen;
	/* the current (possibly folded) field */
	char field[DSN_LINE_MAX + 1];
	size_t fieldlen;
	/* delivery-status part: blocks with fields seen so far */
	size_t ds_blocks;
	bool ds_block_fields;
	bool status_seen;		/* a status part was read to its end */
	bool done;
};

struct dsn_parser *dsn_parser_new(size_t max_body)
{
	struct dsn_parser *p = xcalloc(1, sizeof(*p));

	p->max_body = max_body;
	return p;
}

void dsn_parser_free(struct dsn_parser *p)
{
	free(p);
}

/* --- small helpers -------------------------------------------------------- */

/* Copy n bytes of a header value with folding white space (CR, LF, TAB)
 * unfolded to blanks, trailing blanks cut. Other bytes are kept as sent:
 * the report fields are evidence, and every writer cleans them for its sink
 * (textclean.h). */
static void copy_clean(char *dst, size_t len, const char *src, size_t n)
{
	size_t o = 0;

	if (len == 0)
		return;
	for (size_t i = 0; i < n && src[i] && o + 1 < len; i++) {
		char c = src[i];

		dst[o++] = (c == '\r' || c == '\n' || c == '\t') ? ' ' : c;
	}
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	return s;
}

static bool has_prefix_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

char *dsn_field_value(const char *value, char *buf, size_t len)
{
	const char *v = skip_ws(value ? value : ""), *semi = strchr(v, ';');
	const char *end;

	if (semi != NULL)
		v = skip_ws(semi + 1);
	if (*v == '<')
		v++;
	end = v + strcspn(v, ">");
	copy_clean(buf, len, v, (size_t)(end - v));
	/* unfolded whitespace inside an address is junk: cut at the first blank */
	buf[strcspn(buf, " \t")] = '\0';
	return buf;
}

static const char *const bounce_subjects[] = {
	"undelivered mail returned to sender",	/* Postfix */
	"postmaster copy: undelivered mail",	/* Postfix, 2bounce notice */
	"returned mail:",			/* sendmail */
	"mail delivery failed",			/* Exim */
	"delivery status notification",		/* Exchange, Gmail */
	"undeliverable:",			/* Exchange */
	"undelivered mail",
	"failure notice",			/* qmail */
	"delivery failure",
	"non-delivery",
	"mail system error",
	"warning: could not send message",	/* sendmail delay */
	"delayed mail",				/* Postfix delay */
};

bool dsn_subject_is_bounce(const char *subject)
{
	char s[256];

	strlcpy_rg(s, subject ? subject : "", sizeof(s));
	rg_lowercase(s);
	for (size_t i = 0; i < RG_NELEM(bounce_subjects); i++)
		if (strstr(s, bounce_subjects[i]) != NULL)
			return true;
	return false;
}

static void token(const char *s, char *buf, size_t len)
{
	s = skip_ws(s);
	copy_clean(buf, len, s, strcspn(s, " \t\r\n();"));
}

bool dsn_parse_received(const char *value, char *ip, size_t iplen,
    char *helo, size_t helolen, char *name, size_t namelen, char *by,
    size_t bylen)
{
	char v[DSN_LINE_MAX + 1], cand[80];
	const char *p, *stop, *lb, *rb, *paren;
	size_t o = 0;

	/* Unfold: every run of white space becomes one blank. */
	for (p = value ? value : ""; *p && o + 1 < sizeof(v); p++) {
		if (isspace((unsigned char)*p)) {
			if (o > 0 && v[o - 1] != ' ')
				v[o++] = ' ';
		} else {
			v[o++] = *p;
		}
	}
	v[o] = '\0';
	ip[0] = helo[0] = name[0] = by[0] = '\0';
	p = skip_ws(v);
	if (!has_prefix_ci(p, "from "))
		return false;
	p += 5;
	token(p, helo, helolen);
	stop = strcasestr(p, " by ");
	if (stop != NULL)
		token(stop + 4, by, bylen);
	else
		stop = p + strlen(p);
	/* The first [address literal] of the from clause that is an IP. */
	for (lb = strchr(p, '['); lb != NULL && lb < stop; lb = strchr(lb + 1, '[')) {
		if ((rb = strchr(lb, ']')) == NULL || rb > stop)
			break;
		copy_clean(cand, sizeof(cand), lb + 1, (size_t)(rb - lb - 1));
		if (has_prefix_ci(cand, "IPv6:"))
			memmove(cand, cand + 5, strlen(cand + 5) + 1);
		if (!rg_is_ip(cand))
			continue;
		strlcpy_rg(ip, cand, iplen);
		/* "(name [ip])": the name is the word before the bracket */
		paren = lb;
		while (paren > p && paren[-1] == ' ')
			paren--;
		while (paren > p && paren[-1] != '(' && paren[-1] != ' ')
			paren--;
		if (paren < lb && *paren != '[')
			copy_clean(name, namelen, paren, strcspn(paren, " ["));
		return true;
	}
	/* qmail: "from unknown (HELO x) (198.51.100.7) by ..." */
	for (lb = strchr(p, '('); lb != NULL && lb < stop; lb = strchr(lb + 1, '(')) {
		if ((rb = strchr(lb, ')')) == NULL || rb > stop)
			break;
		copy_clean(cand, sizeof(cand), lb + 1, (size_t)(rb - lb - 1));
		if (rg_is_ip(cand)) {
			strlcpy_rg(ip, cand, iplen);
			return true;
		}
	}
	return false;
}

/* --- top-level headers ---------------------------------------------------- */

static void take_boundary(struct dsn_parser *p, const char *ct)
{
	const char *b = strcasestr(ct, "boundary="), *end;

	if (b == NULL)
		return;
	b += 9;
	if (*b == '"') {
		b++;
		end = strchr(b, '"');
	} else {
		end = b + strcspn(b, " \t;\r\n");
	}
	if (end == NULL || end == b || (size_t)(end - b) >= sizeof(p->boundary))
		return;
	memcpy(p->boundary, b, (size_t)(end - b));
	p->boundary[end - b] = '\0';
	p->blen = (size_t)(end - b);
}

static bool is_report_type(const char *ct)
{
	return strcasestr(ct, "multipart/report") != NULL &&
	    strcasestr(ct, "delivery-status") != NULL;
}

static bool from_is_daemon(const char *from)
{
	char v[256];
	const char *lt = strchr(from, '<');

	strlcpy_rg(v, lt ? lt + 1 : from, sizeof(v));
	rg_lowercase(v);
	return has_prefix_ci(skip_ws(v), "mailer-daemon@") ||
	    has_prefix_ci(skip_ws(v), "mailer-daemon>") ||
	    has_prefix_ci(skip_ws(v), "postmaster@");
}

void dsn_header(struct dsn_parser *p, const char *name, const char *value)
{
	const char *v = skip_ws(value ? value : "");

	if (name == NULL)
		return;
	if (strcasecmp(name, "Content-Type") == 0) {
		if (is_report_type(v))
			p->r.evidence |= DSN_EV_REPORT;
		if (has_prefix_ci(v, "multipart/"))
			take_boundary(p, v);
	} else if (strcasecmp(name, "Auto-Submitted") == 0) {
		if (*v != '\0' && !has_prefix_ci(v, "no"))
			p->r.evidence |= DSN_EV_AUTO_SUBMITTED;
	} else if (strcasecmp(name, "Subject") == 0) {
		copy_clean(p->r.subject, sizeof(p->r.subject), v, strlen(v));
		if (dsn_subject_is_bounce(v))
			p->r.evidence |= DSN_EV_SUBJECT;
	} else if (strcasecmp(name, "From") == 0) {
		if (from_is_daemon(v))
			p->r.evidence |= DSN_EV_FROM_DAEMON;
	}
}

/* --- body: fields --------------------------------------------------------- */

/* name: value of the assembled field; false when it is no field. */
static bool split_field(char *f, char **name, char **value)
{
	char *colon = strchr(f, ':');

	if (colon == NULL || colon == f)
		return false;
	for (char *q = f; q < colon; q++)
		if (*q == ' ' || *q == '\t')
			return false;
	*colon = '\0';
	*name = f;
	*value = (char *)skip_ws(colon + 1);
	return true;
}

static bool sender_is_real(const char *addr)
{
	char v[256];
	const char *at;
	size_t n;

	if (addr[0] == '\0')
		return false;
	strlcpy_rg(v, addr, sizeof(v));
	rg_lowercase(v);
	at = strchr(v, '@');
	n = at ? (size_t)(at - v) : strlen(v);
	return !((n == 14 && strncmp(v, "mailer-daemon", 13) == 0) ||
	    (n == 13 && strncmp(v, "mailer-daemon", 13) == 0) ||
	    (n == 10 && strncmp(v, "postmaster", 10) == 0) ||
	    (n == 13 && strncmp(v, "double-bounce", 13) == 0));
}

static void take_sender(struct dsn_parser *p, const char *value)
{
	char addr[256];

	if (p->r.orig_sender[0] != '\0')
		return;
	dsn_field_value(value, addr, sizeof(addr));
	if (sender_is_real(addr))
		strlcpy_rg(p->r.orig_sender, addr, sizeof(p->r.orig_sender));
}

static void status_field(struct dsn_parser *p, const char *name,
    const char *value)
{
	struct dsn_recipient *r;
	size_t i;

	if (p->ds_blocks == 0) {		/* per-message fields */
		if (strcasecmp(name, "Reporting-MTA") == 0)
			dsn_field_value(value, p->r.reporting_mta,
			    sizeof(p->r.reporting_mta));
		else if (strcasecmp(name, "X-Postfix-Sender") == 0)
			take_sender(p, value);
		return;
	}
	i = p->ds_blocks - 1;
	if (i + 1 > p->r.nrcpt_seen)
		p->r.nrcpt_seen = i + 1;
	if (i >= DSN_MAX_RCPTS)
		return;
	if (i + 1 > p->r.nrcpt)
		p->r.nrcpt = i + 1;
	r = &p->r.rcpt[i];
	if (strcasecmp(name, "Final-Recipient") == 0)
		dsn_field_value(value, r->final_rcpt, sizeof(r->final_rcpt));
	else if (strcasecmp(name, "Original-Recipient") == 0)
		dsn_field_value(value, r->orig_rcpt, sizeof(r->orig_rcpt));
	else if (strcasecmp(name, "Action") == 0)
		token(value, r->action, sizeof(r->action));
	else if (strcasecmp(name, "Status") == 0)
		token(value, r->status, sizeof(r->status));
	else if (strcasecmp(name, "Remote-MTA") == 0)
		dsn_field_value(value, r->remote_mta, sizeof(r->remote_mta));
	else if (strcasecmp(name, "Diagnostic-Code") == 0)
		copy_clean(r->diagnostic, sizeof(r->diagnostic), value,
		    strlen(value));
}

static void returned_field(struct dsn_parser *p, const char *name,
    const char *value)
{
	struct dsn_report *r = &p->r;

	if (strcasecmp(name, "Received") == 0) {
		if (r->orig_client_addr[0] == '\0')
			dsn_parse_received(value, r->orig_client_addr,
			    sizeof(r->orig_client_addr), r->orig_client_helo,
			    sizeof(r->orig_client_helo), r->orig_client_name,
			    sizeof(r->orig_client_name), r->orig_received_by,
			    sizeof(r->orig_received_by));
	} else if (strcasecmp(name, "Return-Path") == 0 ||
	    strcasecmp(name, "X-Postfix-Sender") == 0) {
		take_sender(p, value);
	} else if (strcasecmp(name, "Content-Type") == 0) {
		/* the returned message is itself a bounce */
		if (is_report_type(value) ||
		    strcasestr(value, "message/delivery-status") != NULL)
			r->double_bounce = true;
	}
}

static enum dsn_part part_type(const char *ct)
{
	ct = skip_ws(ct);
	if (has_prefix_ci(ct, "message/delivery-status") ||
	    has_prefix_ci(ct, "message/global-delivery-status"))
		return P_STATUS;
	if (has_prefix_ci(ct, "message/rfc822") ||
	    has_prefix_ci(ct, "text/rfc822-headers") ||
	    has_prefix_ci(ct, "message/global"))
		return P_RETURNED;
	return P_OTHER;
}

/* The assembled field is complete: hand it to the zone's handler. */
static void field_flush(struct dsn_parser *p)
{
	char *name, *value;

	if (p->fieldlen == 0)
		return;
	p->field[p->fieldlen] = '\0';
	p->fieldlen = 0;
	if (!split_field(p->field, &name, &value))
		return;
	if (p->zone == Z_PART_HEADERS) {
		if (strcasecmp(name, "Content-Type") == 0)
			p->next_part = part_type(value);
	} else if (p->part == P_STATUS) {
		p->ds_block_fields = true;
		status_field(p, name, value);
	} else {
		returned_field(p, name, value);
	}
}

static void field_line(struct dsn_parser *p, const char *line, size_t n)
{
	bool cont = n > 0 && (line[0] == ' ' || line[0] == '\t');

	if (!cont)
		field_flush(p);
	else if (p->fieldlen == 0)
		return;			/* continuation of nothing */
	size_t i = 0;

	if (cont) {		/* unfold: the white space becomes one blank */
		while (i < n && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (p->fieldlen + 1 < sizeof(p->field))
			p->field[p->fieldlen++] = ' ';
	}
	for (; i < n && p->fieldlen + 1 < sizeof(p->field); i++)
		p->field[p->fieldlen++] = line[i];
}

/* --- body: lines ---------------------------------------------------------- */

static bool complete(const struct dsn_parser *p)
{
	return p->status_seen && p->r.orig_client_addr[0] != '\0' &&
	    p->r.orig_sender[0] != '\0';
}

static void part_end(struct dsn_parser *p)
{
	field_flush(p);
	if (p->zone == Z_PART_BODY && p->part == P_STATUS)
		p->status_seen = true;
}

static bool boundary_line(struct dsn_parser *p, const char *line, size_t n)
{
	if (p->blen == 0 || n < p->blen + 2 || line[0] != '-' || line[1] != '-' ||
	    memcmp(line + 2, p->boundary, p->blen) != 0)
		return false;
	part_end(p);
	if (n >= p->blen + 4 && line[p->blen + 2] == '-' && line[p->blen + 3] == '-') {
		p->zone = Z_EPILOGUE;
	} else {
		p->zone = Z_PART_HEADERS;
		p->next_part = P_OTHER;
	}
	return true;
}

static void body_line(struct dsn_parser *p, const char *line, size_t n)
{
	if (boundary_line(p, line, n))
		return;
	switch (p->zone) {
	case Z_PREAMBLE:
		if (p->blen == 0) {
			/* not MIME: read it all as a returned message */
			p->part = P_RETURNED;
			if (n == 0)
				field_flush(p);
			else
				field_line(p, line, n);
		}
		return;
	case Z_PART_HEADERS:
		if (n == 0) {
			field_flush(p);
			p->zone = Z_PART_BODY;
			p->part = p->next_part;
			p->ds_blocks = 0;
			p->ds_block_fields = false;
			if (p->part == P_STATUS)
				p->r.evidence |= DSN_EV_STATUS_PART;
		} else {
			field_line(p, line, n);
		}
		return;
	case Z_PART_BODY:
		if (p->part == P_OTHER)
			return;
		if (n == 0) {
			field_flush(p);
			if (p->part == P_STATUS && p->ds_block_fields) {
				p->ds_blocks++;
				p->ds_block_fields = false;
			}
			return;
		}
		field_line(p, line, n);
		return;
	case Z_EPILOGUE:
		return;
	}
}

bool dsn_body(struct dsn_parser *p, const char *data, size_t len)
{
	for (size_t i = 0; i < len && !p->done; i++) {
		char c = data[i];

		if (p->r.body_bytes >= p->max_body) {
			p->r.truncated = true;
			p->done = true;
			break;
		}
		p->r.body_bytes++;
		if (c == '\n') {
			if (p->linelen > 0 && p->line[p->linelen - 1] == '\r')
				p->linelen--;
			p->line[p->linelen] = '\0';
			body_line(p, p->line, p->linelen);
			p->linelen = 0;
			if (complete(p))
				p->done = true;
		} else if (p->linelen < DSN_LINE_MAX) {
			p->line[p->linelen++] = c;	/* longer lines are cut */
		}
	}
	return p->done;
}

const struct dsn_report *dsn_finish(struct dsn_parser *p)
{
	if (p->linelen > 0 && !p->done) {
		p->line[p->linelen] = '\0';
		body_line(p, p->line, p->linelen);
		p->linelen = 0;
	}
	part_end(p);
	return &p->r;
}

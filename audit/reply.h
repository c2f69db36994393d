/*
 * reply.h - SMTP reply framing (RFC 5321 4.2) and enhanced status codes
 * (RFC 3463, RFC 2034).
 *
 * A reply is one or more lines "ddd-text" ... "ddd text" (or bare "ddd").
 * rg_reply_feed() takes one received line at a time (CRLF removed) and
 * returns RG_REPLY_MORE until the last line arrived, RG_REPLY_DONE then, or
 * RG_REPLY_BAD for a line that is not a reply line (no 3-digit code, a code
 * that changes within one reply, too many lines, line longer than
 * RG_REPLY_LINE_MAX). Text is kept up to RG_REPLY_TEXT_MAX bytes (more is
 * truncated, never overflowed).
 *
 *	struct rg_reply r;
 *	rg_reply_init(&r);
 *	while ((st = rg_reply_feed(&r, line)) == RG_REPLY_MORE) ...
 *	r.code == 250, r.enhanced == "2.1.5", r.text == "Ok"
 */
#ifndef RELAYGUARD_REPLY_H
#define RELAYGUARD_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#define RG_REPLY_LINE_MAX	2048	/* RFC 5321: 512; we tolerate more */
#define RG_REPLY_TEXT_MAX	4096	/* all lines joined with '\n' */
#define RG_REPLY_LINES_MAX	100

enum rg_reply_status { RG_REPLY_MORE, RG_REPLY_DONE, RG_REPLY_BAD };

struct rg_reply {
	int code;			/* 0 until the first line */
	char enhanced[16];		/* "5.7.1" from the first line, or "" */
	char text[RG_REPLY_TEXT_MAX];	/* lines' text (after code, separator and
					 * enhanced code of line 1), '\n'-joined */
	int nlines;
	bool truncated;
	char error[96];			/* why RG_REPLY_BAD */
	bool done;			/* last line seen: rg_reply_init() before
					 * feeding the next reply */
};

void rg_reply_init(struct rg_reply *r);
enum rg_reply_status rg_reply_feed(struct rg_reply *r, const char *line);

/* Parse "x.y.z" at the start of s (x in 2,4,5; y,z 1-3 digits), followed by
 * a space or the end of s. Returns the length of "x.y.z" (the space is not
 * counted; 0 when there is none) and copies it to out ("" when there is none
 * or out is too small: then 0 is returned too). In a reply, the enhanced code
 * is only taken when x equals the reply code's first digit. */
size_t rg_enhanced_parse(const char *s, char *out, size_t outlen);

/* The i-th line's text of a multi-line reply (0-based), for EHLO keywords.
 * Returns a pointer into a static-free copy in buf, or NULL past the end (or
 * past what was kept when r->truncated). Line 0 is stored without the
 * enhanced code, later lines as received. Text is stored as received except
 * that a CR or LF byte inside a line becomes a space. */
const char *rg_reply_line(const struct rg_reply *r, int i, char *buf, size_t len);

/* First line's first word, e.g. the server name in "220 mx.example.org ESMTP".
 * Returns buf, "" when there is no word (never NULL). */
const char *rg_reply_first_word(const struct rg_reply *r, char *buf, size_t len);

#endif

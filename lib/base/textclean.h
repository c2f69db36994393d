/*
 * textclean.h - the one place where untrusted text is made fit for a sink.
 *
 * SYNOPSIS
 *	#include "lib/base/textclean.h"
 *
 *	size_t rg_clean(enum rg_sink sink, char *dst, size_t dstsz,
 *	    const char *src, size_t srclen);
 *	const char *rg_clean_str(enum rg_sink sink, char *dst, size_t dstsz,
 *	    const char *src);
 *	char *rg_clean_dup(enum rg_sink sink, const char *src);
 *	void rg_clean_fputs(enum rg_sink sink, const char *src, FILE *out);
 *	bool rg_ascii_print(int c);
 *
 * DESCRIPTION
 *	Anything that came from the network (SMTP banners and replies, HELO,
 *	envelope addresses, DNS TXT/PTR/MX data, DSN fields, report JSON read
 *	back from disk) is hostile text: it may hold CR LF that forge a log
 *	line, terminal escapes (ESC, the C1 CSI 0x9b, U+009B), bidi overrides
 *	that make a log or report read backwards, '%' that libmilter treats as
 *	a format, or bytes that are not UTF-8 at all. Every such value goes
 *	through rg_clean() with the rule of the sink it is written to, right
 *	before it is written.
 *
 *	rg_clean() reads srclen bytes of src (NUL bytes included) and writes
 *	the cleaned text into dst, always NUL-terminated when dstsz > 0. It
 *	returns strlen(dst). rg_clean_str() does the same for a C string and
 *	returns dst, for use as a printf argument:
 *		msg_warn("TXT of %s: %s", d, rg_clean_str(RG_SINK_LOG, b, sizeof(b), txt));
 *	rg_clean_dup() returns a new string from xmalloc() (never NULL; free
 *	it), at most RG_CLEAN_DUP_MAX bytes long. src NULL is taken as "".
 *	rg_clean_fputs() streams the cleaned text to out, without a bound of
 *	its own (the output is at most 10 bytes per input byte).
 *
 * SINKS AND THEIR RULES
 *	Every rule decodes src as UTF-8 (RFC 3629, strict: no overlong forms,
 *	no surrogates U+D800-U+DFFF, nothing above U+10FFFF, no truncated
 *	sequences). These are never written raw, in any sink:
 *	  - C0 controls 0x00-0x1f (tab, CR and LF included) and DEL 0x7f;
 *	  - C1 controls, both as raw bytes 0x80-0x9f (which are never valid
 *	    UTF-8 on their own) and encoded as U+0080-U+009F (0xc2 0x80..0x9f);
 *	  - bidi controls U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C,
 *	    and the line/paragraph separators U+2028, U+2029;
 *	  - every byte that is not part of valid UTF-8.
 *
 *	RG_SINK_LOG	one syslog/stderr line. Printable ASCII only. A backslash
 *			is kept as it is, so the rule is idempotent: it is used
 *			both on values and, by log.c, on the whole final line.
 *	RG_SINK_KV	the value of a key=value pair in a log line. Printable
 *			ASCII only; '"' is written \" and every '\' is written
 *			\\, so the value is exact inside double quotes.
 *	RG_SINK_JSON	a string handed to jansson (which does the JSON quoting).
 *			Valid UTF-8 other than the controls above is kept. The
 *			result is always valid UTF-8, so json_string() never
 *			fails on it.
 *	RG_SINK_XML	text handed to libxml2's xmlTextWriter (which escapes
 *			markup). Valid UTF-8 of XML 1.0's Char production is kept
 *			(U+FFFE and U+FFFF are escaped; so are TAB, CR and LF,
 *			like every C0 control: write line breaks of your own
 *			between cleaned pieces). For
 *			XML written by hand use RG_SINK_HTML: its output is also
 *			well-formed XML character data.
 *	RG_SINK_HTML	HTML (or XML) text and attribute values written by hand:
 *			as RG_SINK_XML, and & < > " ' become &amp; &lt; &gt;
 *			&quot; &#39;.
 *	RG_SINK_TERM	a terminal (the auditor's text report, report tables).
 *			Valid UTF-8 other than the controls above is kept, so
 *			Japanese text reads as Japanese.
 *	RG_SINK_SMTP	the text of an SMTP reply given to smfi_setreply():
 *			printable ASCII only (RFC 5321 4.2: textstring), '%' is
 *			written %% (libmilter uses the text as a format).
 *	RG_SINK_HEADER	the inside of a header comment or quoted-string
 *			(Received-SPF, RFC 5322 3.2.2): printable ASCII only, and
 *			( ) " \ are not allowed; here every character that may not
 *			be written becomes '?', because '\' is the quoting
 *			character of the header syntax itself.
 *
 * REPLACEMENT CONVENTION
 *	A character a sink does not allow is written as a visible ASCII escape:
 *	  \xHH		a C0 control or DEL, or a byte that is not part of a
 *			valid UTF-8 sequence (each such byte on its own, e.g. a
 *			truncated 3-byte sequence e3 81 gives \xe3\x81);
 *	  \uHHHH	a validly encoded character the sink does not allow
 *			(C1, bidi, separators, and any non-ASCII character in an
 *			ASCII-only sink: LOG, KV, SMTP), e.g. \u202e, \u3042;
 *	  \UHHHHHHHH	the same above U+FFFF, e.g. \U0001f600.
 *	Hex digits are lowercase. So that an escape in the output always
 *	stands for what it says, a backslash from the source that is followed
 *	by x, u, U, another backslash or a byte outside printable ASCII is
 *	written \\ (in KV every backslash is); any other backslash stays as it
 *	is ("NT AUTHORITY\ANONYMOUS" is unchanged). Read back: \\ is one backslash, \xHH one byte, \uHHHH one
 *	character. Two sinks are not exact: LOG keeps every backslash as it is
 *	(so that cleaning a whole line again changes nothing; the KV and JSON
 *	event log is the exact record) and HEADER writes '?'.
 *
 * TRUNCATION
 *	Output never exceeds dstsz - 1 bytes. When the cleaned text does not
 *	fit, it is cut at a character boundary (never inside an escape, an
 *	entity or a UTF-8 sequence) and ends with "..." (when dstsz >= 4).
 *	The work is O(bytes written): a hostile megabyte costs what fits.
 */
#ifndef RELAYGUARD_TEXTCLEAN_H
#define RELAYGUARD_TEXTCLEAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum rg_sink {
	RG_SINK_LOG,
	RG_SINK_KV,
	RG_SINK_JSON,
	RG_SINK_XML,
	RG_SINK_HTML,
	RG_SINK_TERM,
	RG_SINK_SMTP,
	RG_SINK_HEADER,
};

#define RG_CLEAN_DUP_MAX	16384	/* rg_clean_dup() output bound */
#define RG_CLEAN_TRUNC		"..."	/* ends a truncated result */

size_t rg_clean(enum rg_sink sink, char *dst, size_t dstsz, const char *src,
    size_t srclen);
const char *rg_clean_str(enum rg_sink sink, char *dst, size_t dstsz,
    const char *src);
char *rg_clean_dup(enum rg_sink sink, const char *src);
void rg_clean_fputs(enum rg_sink sink, const char *src, FILE *out);

/* The one test of "printable": c is printable ASCII, 0x20 (space) to 0x7e.
 * A byte above 0x7e (UTF-8 included), a C0 control or DEL is not. */
bool rg_ascii_print(int c);

#endif

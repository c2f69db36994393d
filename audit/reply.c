/*
 * reply.c - SMTP reply framing and enhanced status codes; see reply.h.
 *
 * A reply is checked line by line as it arrives: the 3-digit code (first
 * digit 2-5) must be the same on every line, '-' continues and ' ' (or a
 * bare code) ends the reply. Text is appended to one bounded buffer,
 * '\n'-joined; once it is full the reply is marked truncated and later
 * lines are counted but not kept, so every kept line but the last is whole.
 */
#include "reply.h"
#include "lib/base/util.h"

#include <stdio.h>
#include <string.h>

/* What a reply starts from. The text buffer (4 KB) is a string that
 * reply_append keeps NUL-terminated: zeroing it whole, once per reply
 * read, was the auditor's largest memset. */
void rg_reply_init(struct rg_reply *r)
{
	r->code = 0;
	r->enhanced[0] = '\0';
	r->text[0] = '\0';
	r->nlines = 0;
	r->truncated = false;
	r->error[0] = '\0';
	r->done = false;
}

static enum rg_reply_status reply_bad(struct rg_reply *r, const char *why)
{
	strlcpy_rg(r->error, why, sizeof(r->error));
	return RG_REPLY_BAD;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* 1-3 digits at *p; advances *p. */
static bool short_number(const char **p)
{
	size_t n = 0;

	while (is_digit(**p) && n < 4) {
		(*p)++;
		n++;
	}
	return n >= 1 && n <= 3;
}

size_t rg_enhanced_parse(const char *s, char *out, size_t outlen)
{
	const char *p = s;
	size_t n;

	if (out != NULL && outlen > 0)
		out[0] = '\0';
	if (s == NULL || (*p != '2' && *p != '4' && *p != '5'))
		return 0;
	p++;
	if (*p++ != '.' || !short_number(&p) || *p++ != '.' ||
	    !short_number(&p) || (*p != ' ' && *p != '\0'))
		return 0;
	n = (size_t)(p - s);
	if (out == NULL || n >= outlen)
		return 0;
	memcpy(out, s, n);
	out[n] = '\0';
	return n;
}

/* Append one line's text, '\n'-separated, CR and LF turned into spaces. */
static void reply_append(struct rg_reply *r, const char *text)
{
	size_t used = strlen(r->text);
	size_t room = sizeof(r->text) - 1 - used;

	if (r->truncated)
		return;
	if (r->nlines > 0) {
		if (room < 2) {		/* no lone '\n' for a line not kept */
			r->truncated = true;
			return;
		}
		r->text[used++] = '\n';
		room--;
	}
	for (; *text != '\0'; text++) {
		if (room == 0) {
			r->truncated = true;
			break;
		}
		r->text[used++] = (*text == '\r' || *text == '\n') ? ' ' : *text;
		room--;
	}
	r->text[used] = '\0';
}

enum rg_reply_status rg_reply_feed(struct rg_reply *r, const char *line)
{
	char enhanced[sizeof(r->enhanced)];
	const char *text;
	size_t len, n;
	int code;
	bool last;

	if (r->done)
		return reply_bad(r, "reply already complete");
	if (r->error[0] != '\0')
		return RG_REPLY_BAD;
	if (line == NULL)
		return reply_bad(r, "no reply line");
	len = strnlen(line, RG_REPLY_LINE_MAX + 1);
	if (len > RG_REPLY_LINE_MAX)
		return reply_bad(r, "reply line longer than 2048 bytes");
	if (r->nlines >= RG_REPLY_LINES_MAX)
		return reply_bad(r, "reply longer than 100 lines");
	if (len < 3 || !is_digit(line[0]) || !is_digit(line[1]) ||
	    !is_digit(line[2]))
		return reply_bad(r, "reply line without a 3-digit code");
	if (line[0] < '2' || line[0] > '5')
		return reply_bad(r, "reply code not in 2xx-5xx");
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return reply_bad(r, "reply code not followed by ' ' or '-'");
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (r->nlines > 0 && code != r->code)
		return reply_bad(r, "reply code changed within a multi-line reply");

	last = len == 3 || line[3] == ' ';
	text = len == 3 ? line + 3 : line + 4;
	if (r->nlines == 0) {
		r->code = code;
		n = rg_enhanced_parse(text, enhanced, sizeof(enhanced));
		if (n > 0 && enhanced[0] == line[0]) {
			memcpy(r->enhanced, enhanced, sizeof(r->enhanced));
			for (text += n; *text == ' '; text++)
				;
		}
	}
	reply_append(r, text);
	r->nlines++;
	if (last) {
		r->done = true;
		return RG_REPLY_DONE;
	}
	return RG_REPLY_MORE;
}

const char *rg_reply_line(const struct rg_reply *r, int i, char *buf, size_t len)
{
	const char *p = r->text, *end;
	size_t n;

	if (buf == NULL || len == 0 || i < 0 || i >= r->nlines)
		return NULL;
	for (; i > 0; i--) {
		if ((p = strchr(p, '\n')) == NULL)
			return NULL;	/* not kept: reply was truncated */
		p++;
	}
	end = strchr(p, '\n');
	n = end != NULL ? (size_t)(end - p) : strlen(p);
	if (n >= len)
		n = len - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

const char *rg_reply_first_word(const struct rg_reply *r, char *buf, size_t len)
{
	const char *p = r->text;
	size_t n = 0;

	if (buf == NULL || len == 0)
		return "";
	while (*p == ' ' || *p == '\t')
		p++;
	while (p[n] != '\0' && p[n] != ' ' && p[n] != '\t' && p[n] != '\n' &&
	    n + 1 < len)
		n++;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

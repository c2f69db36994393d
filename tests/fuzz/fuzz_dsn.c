/*
 * fuzz_dsn.c - libFuzzer target for the bounce (DSN) parser (dsn.h): any
 * host on the Internet can send the milter a message that looks like a
 * bounce.
 *
 * Input: header lines "Name: value" (continuation lines starting with a
 * blank are folded into the previous value) up to the first empty line,
 * then the body, fed to dsn_body() in chunks whose sizes come from the
 * first byte of the input (1 to 256 bytes, so boundaries fall everywhere).
 * Invariants on the report: every string field NUL-terminated inside its
 * array, at most DSN_MAX_RCPTS recipients kept and no more than seen, the
 * body count within max_body. The building blocks (dsn_parse_received,
 * dsn_field_value, dsn_subject_is_bounce) get each header value too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milter/bounce/dsn.h"
#include "fuzz.h"

#define MAX_BODY 16384

#define TERMINATED(a) (memchr((a), '\0', sizeof(a)) != NULL)

static void check_report(const struct dsn_report *r)
{
	if (!TERMINATED(r->subject) || !TERMINATED(r->reporting_mta) ||
	    !TERMINATED(r->orig_sender) || !TERMINATED(r->orig_client_addr) ||
	    !TERMINATED(r->orig_client_name) || !TERMINATED(r->orig_client_helo) ||
	    !TERMINATED(r->orig_received_by))
		abort();
	if (r->nrcpt > DSN_MAX_RCPTS || r->nrcpt > r->nrcpt_seen ||
	    r->body_bytes > MAX_BODY)
		abort();
	for (size_t i = 0; i < r->nrcpt; i++) {
		const struct dsn_recipient *x = &r->rcpt[i];

		if (!TERMINATED(x->final_rcpt) || !TERMINATED(x->orig_rcpt) ||
		    !TERMINATED(x->action) || !TERMINATED(x->status) ||
		    !TERMINATED(x->remote_mta) || !TERMINATED(x->diagnostic))
			abort();
	}
}

static void blocks(const char *value)
{
	char ip[64], helo[256], name[256], by[256], buf[256], tiny[4];

	if (dsn_parse_received(value, ip, sizeof(ip), helo, sizeof(helo), name,
	    sizeof(name), by, sizeof(by)) && (ip[0] == '\0' ||
	    !TERMINATED(helo) || !TERMINATED(name) || !TERMINATED(by)))
		abort();
	if (dsn_field_value(value, buf, sizeof(buf)) != NULL && !TERMINATED(buf))
		abort();
	if (dsn_field_value(value, tiny, sizeof(tiny)) != NULL && !TERMINATED(tiny))
		abort();
	(void)dsn_subject_is_bounce(value);
}

static void header(struct dsn_parser *p, char *line)
{
	char *colon = strchr(line, ':');

	if (colon == NULL)
		return;
	*colon++ = '\0';
	while (*colon == ' ' || *colon == '\t')
		colon++;
	dsn_header(p, line, colon);
	blocks(colon);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dsn_parser *p;
	char *in, *line, *next, *body, *pending = NULL;
	size_t chunk, off, body_len;

	if (size < 1)
		return 0;
	chunk = (size_t)data[0] + 1;
	if ((in = fuzz_strndup(data + 1, size - 1)) == NULL)
		return 0;
	p = dsn_parser_new(MAX_BODY);
	/* headers: up to "\n\n" (NULs inside a header end its value) */
	body = memmem(in, size - 1, "\n\n", 2);
	body_len = body ? size - 1 - (size_t)(body + 2 - in) : 0;
	if (body != NULL) {
		*body = '\0';
		body += 2;
	}
	for (line = in; line != NULL && *line; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((*line == ' ' || *line == '\t') && pending != NULL) {
			line[-1] = '\n';	/* folded: part of the previous value */
			continue;
		}
		if (pending != NULL)
			header(p, pending);
		pending = line;
	}
	if (pending != NULL)
		header(p, pending);
	for (off = 0; body != NULL && off < body_len; off += chunk) {
		size_t n = body_len - off < chunk ? body_len - off : chunk;

		if (dsn_body(p, body + off, n))
			break;
	}
	check_report(dsn_finish(p));
	dsn_parser_free(p);
	free(in);
	return 0;
}

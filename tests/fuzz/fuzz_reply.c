/*
 * fuzz_reply.c - libFuzzer target for the SMTP reply reader (reply.h),
 * which reads whatever a remote server sends.
 *
 * The input, split at '\n' (a NUL also ends a line, and the bytes after it
 * form the next line), is fed line by line to rg_reply_feed(), restarting
 * after DONE or BAD. Invariants: every field stays NUL-terminated, the
 * line count stays bounded, BAD always says why, a finished reply refuses
 * more lines, a DONE reply has a code 100-999, no CR survives into the
 * text, and every line reads back with rg_reply_line() into buffers of
 * any size.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/reply.h"
#include "fuzz.h"

static struct rg_reply reply;	/* 4 KB: keep it off the stack */

static void check_reply(const struct rg_reply *r)
{
	char buf[RG_REPLY_TEXT_MAX];
	char small[8];

	if (memchr(r->text, '\0', sizeof(r->text)) == NULL ||
	    memchr(r->enhanced, '\0', sizeof(r->enhanced)) == NULL ||
	    memchr(r->error, '\0', sizeof(r->error)) == NULL ||
	    r->nlines < 0 || r->nlines > RG_REPLY_LINES_MAX ||
	    strchr(r->text, '\r') != NULL)
		abort();
	for (int i = -1; i <= r->nlines; i++) {
		size_t len = (size_t)(i + 2) * 7 % sizeof(buf);
		const char *l = rg_reply_line(r, i, buf, len);

		if (l != NULL && len > 0 && strlen(l) >= len)
			abort();
	}
	if (rg_reply_first_word(r, small, sizeof(small)) != NULL &&
	    strlen(small) >= sizeof(small))
		abort();
	(void)rg_reply_first_word(r, buf, sizeof(buf));
}

static void one_line(const char *line, size_t len, void *ctx)
{
	enum rg_reply_status st;
	char enh[16];

	(void)len;
	(void)ctx;
	st = rg_reply_feed(&reply, line);
	check_reply(&reply);
	if (st == RG_REPLY_BAD && reply.error[0] == '\0')
		abort();
	if (st == RG_REPLY_DONE && (reply.code < 100 || reply.code > 999))
		abort();
	if (rg_enhanced_parse(line, enh, sizeof(enh)) > strlen(line) ||
	    memchr(enh, '\0', sizeof(enh)) == NULL)
		abort();
	if (st != RG_REPLY_MORE) {
		if (rg_reply_feed(&reply, "250 x") != RG_REPLY_BAD)
			abort();
		rg_reply_init(&reply);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rg_reply_init(&reply);
	fuzz_pieces(data, size, '\n', one_line, NULL);
	return 0;
}

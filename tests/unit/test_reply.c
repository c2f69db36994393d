/*
 * test_reply.c - SMTP reply framing and enhanced status codes, with the
 * hostile replies an auditor meets: garbage, short and long codes, a code
 * that changes mid-reply, megabyte lines, endless continuations, binary.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "audit/reply.h"

#define MORE	RG_REPLY_MORE
#define DONE	RG_REPLY_DONE
#define BAD	RG_REPLY_BAD

struct feed_case {
	const char *name;
	const char *lines[8];		/* NULL-terminated */
	enum rg_reply_status want;	/* status of the last line fed */
	int code;
	const char *enhanced;
	const char *text;
	int nlines;
	const char *error;		/* substring; NULL: error must be "" */
};

static const struct feed_case feed_cases[] = {
	{ "one line", { "250 Ok" }, DONE, 250, "", "Ok", 1, NULL },
	{ "enhanced code", { "250 2.1.5 Ok" }, DONE, 250, "2.1.5", "Ok", 1, NULL },
	{ "bare code", { "250" }, DONE, 250, "", "", 1, NULL },
	{ "code and space", { "221 " }, DONE, 221, "", "", 1, NULL },
	{ "greeting", { "220 mx.example.org ESMTP Postfix" }, DONE, 220, "",
	  "mx.example.org ESMTP Postfix", 1, NULL },
	{ "EHLO reply", { "250-mx.example.org Hello", "250-PIPELINING",
	  "250-SIZE 10240000", "250 8BITMIME" }, DONE, 250, "",
	  "mx.example.org Hello\nPIPELINING\nSIZE 10240000\n8BITMIME", 4, NULL },
	{ "multi-line 5xx", { "550-5.7.1 Relaying denied", "550 5.7.1 go away" },
	  DONE, 550, "5.7.1", "Relaying denied\n5.7.1 go away", 2, NULL },
	{ "class differs from code", { "250 5.1.1 odd" }, DONE, 250, "",
	  "5.1.1 odd", 1, NULL },
	{ "three-digit parts", { "451 4.123.999 later" }, DONE, 451, "4.123.999",
	  "later", 1, NULL },
	{ "four-digit detail", { "550 5.7.1000 x" }, DONE, 550, "",
	  "5.7.1000 x", 1, NULL },
	{ "code glued to text", { "550 5.7.1x" }, DONE, 550, "", "5.7.1x", 1, NULL },
	{ "code at end", { "550 5.7.1" }, DONE, 550, "5.7.1", "", 1, NULL },
	{ "spaces after code", { "550 5.7.1   denied" }, DONE, 550, "5.7.1",
	  "denied", 1, NULL },
	{ "class 3 is not enhanced", { "354 3.0.0 go ahead" }, DONE, 354, "",
	  "3.0.0 go ahead", 1, NULL },
	{ "only first line counts", { "250-hello", "250 2.0.0 x" }, DONE, 250, "",
	  "hello\n2.0.0 x", 2, NULL },
	{ "empty continuation", { "250-", "250 x" }, DONE, 250, "", "\nx", 2, NULL },
	{ "unfinished", { "250-a", "250-b" }, MORE, 250, "", "a\nb", 2, NULL },
	{ "binary bytes kept", { "220 \x01\x02\xff\xfe\x7f\x1b[31m" }, DONE, 220, "",
	  "\x01\x02\xff\xfe\x7f\x1b[31m", 1, NULL },
	{ "CR inside a line", { "220 a\rb" }, DONE, 220, "", "a b", 1, NULL },
	{ "LF inside a line", { "250-a\nb", "250 c" }, DONE, 250, "", "a b\nc", 2, NULL },
	{ "4xx", { "421 4.7.0 too many errors" }, DONE, 421, "4.7.0",
	  "too many errors", 1, NULL },

	{ "garbage", { "hello" }, BAD, 0, "", "", 0, "3-digit" },
	{ "empty line", { "" }, BAD, 0, "", "", 0, "3-digit" },
	{ "two digits", { "25" }, BAD, 0, "", "", 0, "3-digit" },
	{ "four digits", { "2500 x" }, BAD, 0, "", "", 0, "followed by" },
	{ "no separator", { "250x" }, BAD, 0, "", "", 0, "followed by" },
	{ "tab separator", { "250\tx" }, BAD, 0, "", "", 0, "followed by" },
	{ "letter in code", { "2a0 x" }, BAD, 0, "", "", 0, "3-digit" },
	{ "leading space", { " 250 x" }, BAD, 0, "", "", 0, "3-digit" },
	{ "code 1xx", { "199 x" }, BAD, 0, "", "", 0, "2xx-5xx" },
	{ "code 6xx", { "600 x" }, BAD, 0, "", "", 0, "2xx-5xx" },
	{ "code 0xx", { "050 x" }, BAD, 0, "", "", 0, "2xx-5xx" },
	{ "code change", { "250-a", "251 b" }, BAD, 250, "", "a", 1, "changed" },
	{ "class change", { "250-a", "550 b" }, BAD, 250, "", "a", 1, "changed" },
	{ "bad stays bad", { "xx", "250 ok" }, BAD, 0, "", "", 0, "3-digit" },
	{ "feed after done", { "250 ok", "250 again" }, BAD, 250, "", "ok", 1,
	  "already complete" },
	{ "garbage after done", { "250 ok", "junk" }, BAD, 250, "", "ok", 1,
	  "already complete" },
};

static void check_feed(const char *name, struct rg_reply *r,
    enum rg_reply_status got, const struct feed_case *c)
{
	if (got != c->want)
		fail_msg("%s: status %d, want %d (%s)", name, got, c->want, r->error);
	if (r->code != c->code)
		fail_msg("%s: code %d, want %d", name, r->code, c->code);
	if (strcmp(r->enhanced, c->enhanced) != 0)
		fail_msg("%s: enhanced \"%s\", want \"%s\"", name, r->enhanced,
		    c->enhanced);
	if (strcmp(r->text, c->text) != 0)
		fail_msg("%s: text \"%s\", want \"%s\"", name, r->text, c->text);
	if (r->nlines != c->nlines)
		fail_msg("%s: %d lines, want %d", name, r->nlines, c->nlines);
	if (c->error == NULL ? r->error[0] != '\0' :
	    strstr(r->error, c->error) == NULL)
		fail_msg("%s: error \"%s\", want \"%s\"", name, r->error,
		    c->error ? c->error : "");
	if (r->truncated)
		fail_msg("%s: truncated", name);
}

static void test_feed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(feed_cases) / sizeof(feed_cases[0]); i++) {
		const struct feed_case *c = &feed_cases[i];
		struct rg_reply r;
		enum rg_reply_status st = MORE;

		rg_reply_init(&r);
		for (size_t k = 0; c->lines[k] != NULL; k++) {
			st = rg_reply_feed(&r, c->lines[k]);
			if (c->lines[k + 1] != NULL && st != MORE &&
			    c->want != BAD)
				fail_msg("%s: line %zu: status %d", c->name, k, st);
		}
		check_feed(c->name, &r, st, c);
	}
	print_message("# %zu framed replies\n",
	    sizeof(feed_cases) / sizeof(feed_cases[0]));
}

/* Generated hostile input: many lines or long lines. */
struct gen_case {
	const char *name;
	int lines;			/* lines to feed */
	size_t linelen;			/* bytes per line, code included */
	bool last_is_final;		/* the last line ends with "250 " */
	enum rg_reply_status want;	/* status of the last line fed */
	int bad_at;			/* 0-based line that turns BAD, -1 none */
	bool truncated;
	const char *error;
};

static const struct gen_case gen_cases[] = {
	{ "1 MB line", 1, 1 << 20, true, BAD, 0, false, "longer than 2048" },
	{ "line one over the limit", 1, RG_REPLY_LINE_MAX + 1, true, BAD, 0,
	  false, "longer than 2048" },
	{ "line at the limit", 1, RG_REPLY_LINE_MAX, true, DONE, -1, false, NULL },
	{ "200 continuation lines", 200, 20, false, BAD, RG_REPLY_LINES_MAX,
	  false, "100 lines" },
	{ "100 lines", RG_REPLY_LINES_MAX, 20, true, DONE, -1, false, NULL },
	{ "101 lines", RG_REPLY_LINES_MAX + 1, 20, true, BAD, RG_REPLY_LINES_MAX,
	  false, "100 lines" },
	{ "text overflow", 5, 2000, true, DONE, -1, true, NULL },
	/* 4 x 1023 text bytes + 3 newlines = RG_REPLY_TEXT_MAX - 1 */
	{ "text exactly full", 4, 1027, true, DONE, -1, false, NULL },
	{ "text one over", 4, 1028, true, DONE, -1, true, NULL },
};

static void test_generated(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(gen_cases) / sizeof(gen_cases[0]); i++) {
		const struct gen_case *c = &gen_cases[i];
		char *line = test_malloc(c->linelen + 1);
		struct rg_reply r;
		enum rg_reply_status st = MORE;
		int n;

		rg_reply_init(&r);
		for (n = 0; n < c->lines; n++) {
			bool last = n == c->lines - 1 && c->last_is_final;

			memset(line, 'a' + n % 26, c->linelen);
			memcpy(line, last ? "250 " : "250-", 4);
			line[c->linelen] = '\0';
			st = rg_reply_feed(&r, line);
			if (n == c->bad_at && st != BAD)
				fail_msg("%s: line %d not BAD", c->name, n);
			if (n != c->bad_at && (c->bad_at < 0 || n < c->bad_at) &&
			    st != (last ? DONE : MORE))
				fail_msg("%s: line %d: status %d (%s)", c->name, n,
				    st, r.error);
		}
		test_free(line);
		if (st != c->want)
			fail_msg("%s: status %d, want %d", c->name, st, c->want);
		if (r.truncated != c->truncated)
			fail_msg("%s: truncated %d", c->name, r.truncated);
		if (strlen(r.text) >= sizeof(r.text))
			fail_msg("%s: text overflow", c->name);
		if (c->error != NULL && strstr(r.error, c->error) == NULL)
			fail_msg("%s: error \"%s\"", c->name, r.error);
		if (c->truncated && strlen(r.text) != sizeof(r.text) - 1)
			fail_msg("%s: truncated at %zu", c->name, strlen(r.text));
	}
}

static void test_enhanced_parse(void **state)
{
	static const struct {
		const char *in;
		size_t outlen;
		size_t want;
		const char *out;
	} cases[] = {
		{ "2.1.5 Ok", 16, 5, "2.1.5" },
		{ "5.7.1", 16, 5, "5.7.1" },
		{ "4.999.999 x", 16, 9, "4.999.999" },
		{ "4.999.999", 10, 9, "4.999.999" },
		{ "4.999.999", 9, 0, "" },	/* does not fit */
		{ "3.1.1 x", 16, 0, "" },
		{ "1.1.1 x", 16, 0, "" },
		{ "2.1 x", 16, 0, "" },
		{ "2..1 x", 16, 0, "" },
		{ "2.1. x", 16, 0, "" },
		{ "2.1.5x", 16, 0, "" },
		{ "2.1.5\tx", 16, 0, "" },
		{ "25.1.1 x", 16, 0, "" },
		{ "4.1000.1 x", 16, 0, "" },
		{ "4.1.1000", 16, 0, "" },
		{ "", 16, 0, "" },
		{ " 2.1.5", 16, 0, "" },
	};
	char out[16];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n;

		memset(out, 'x', sizeof(out));
		n = rg_enhanced_parse(cases[i].in, out, cases[i].outlen);
		if (n != cases[i].want || strcmp(out, cases[i].out) != 0)
			fail_msg("rg_enhanced_parse(\"%s\", %zu) = %zu \"%s\"",
			    cases[i].in, cases[i].outlen, n, out);
	}
	assert_int_equal(rg_enhanced_parse(NULL, out, sizeof(out)), 0);
	assert_int_equal(rg_enhanced_parse("2.0.0", NULL, 0), 0);
}

static void test_lines(void **state)
{
	static const char *ehlo[] = {
		"250-mx.example.org Hello client [192.0.2.9]", "250-PIPELINING",
		"250-SIZE 10240000", "250-ENHANCEDSTATUSCODES", "250 STARTTLS",
	};
	static const struct {
		int i;
		size_t len;
		const char *want;	/* NULL: no such line */
	} cases[] = {
		{ 0, 64, "mx.example.org Hello client [192.0.2.9]" },
		{ 1, 64, "PIPELINING" },
		{ 2, 64, "SIZE 10240000" },
		{ 4, 64, "STARTTLS" },
		{ 4, 5, "STAR" },	/* buf truncation */
		{ 1, 1, "" },
		{ 5, 64, NULL },
		{ -1, 64, NULL },
		{ 0, 0, NULL },
	};
	struct rg_reply r;
	char buf[64];

	(void)state;
	rg_reply_init(&r);
	for (size_t k = 0; k < sizeof(ehlo) / sizeof(ehlo[0]); k++)
		rg_reply_feed(&r, ehlo[k]);
	assert_int_equal(r.nlines, 5);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const char *got = rg_reply_line(&r, cases[k].i, buf, cases[k].len);

		if (cases[k].want == NULL ? got != NULL :
		    got == NULL || strcmp(got, cases[k].want) != 0)
			fail_msg("rg_reply_line(%d, %zu) = \"%s\"", cases[k].i,
			    cases[k].len, got ? got : "(null)");
	}
	assert_string_equal(rg_reply_first_word(&r, buf, sizeof(buf)),
	    "mx.example.org");
	assert_string_equal(rg_reply_first_word(&r, buf, 3), "mx");
	assert_string_equal(rg_reply_first_word(&r, buf, 0), "");

	/* enhanced code stripped from line 0 only */
	rg_reply_init(&r);
	rg_reply_feed(&r, "220 2.0.0 mx.example.org ready");
	assert_string_equal(rg_reply_first_word(&r, buf, sizeof(buf)),
	    "mx.example.org");
	assert_string_equal(rg_reply_line(&r, 0, buf, sizeof(buf)),
	    "mx.example.org ready");
	rg_reply_init(&r);
	assert_null(rg_reply_line(&r, 0, buf, sizeof(buf)));
	assert_string_equal(rg_reply_first_word(&r, buf, sizeof(buf)), "");
	rg_reply_feed(&r, "220");
	assert_string_equal(rg_reply_first_word(&r, buf, sizeof(buf)), "");
	assert_string_equal(rg_reply_line(&r, 0, buf, sizeof(buf)), "");

	/* lines past the kept text of a truncated reply are not returned */
	{
		char *line = test_malloc(RG_REPLY_LINE_MAX + 1);

		rg_reply_init(&r);
		for (int n = 0; n < 4; n++) {
			memset(line, 'a' + n, RG_REPLY_LINE_MAX);
			memcpy(line, n == 3 ? "250 " : "250-", 4);
			line[RG_REPLY_LINE_MAX] = '\0';
			rg_reply_feed(&r, line);
		}
		test_free(line);
		assert_true(r.truncated);
		assert_int_equal(r.nlines, 4);
		assert_non_null(rg_reply_line(&r, 1, buf, sizeof(buf)));
		/* 2044 + 1 + 2044 + 1: 5 bytes of line 2 kept, line 3 not */
		assert_string_equal(rg_reply_line(&r, 2, buf, sizeof(buf)), "ccccc");
		assert_null(rg_reply_line(&r, 3, buf, sizeof(buf)));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_feed),
		cmocka_unit_test(test_generated),
		cmocka_unit_test(test_enhanced_parse),
		cmocka_unit_test(test_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

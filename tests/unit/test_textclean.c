/*
 * test_textclean.c - the one cleaning module, sink by sink: C0, DEL, raw C1
 * bytes, C1 encoded as UTF-8, bidi controls, invalid UTF-8 (overlongs,
 * surrogates, truncated sequences, out of range), Japanese text, '%' for
 * smfi_setreply, markup, and truncation at character boundaries.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "lib/base/textclean.h"

#define LOG	RG_SINK_LOG
#define KV	RG_SINK_KV
#define JSON	RG_SINK_JSON
#define XML	RG_SINK_XML
#define HTML	RG_SINK_HTML
#define TERM	RG_SINK_TERM
#define SMTP	RG_SINK_SMTP
#define HDR	RG_SINK_HEADER

/* "\u3042\u3044" (hiragana a, i) and U+1F600 in UTF-8 */
#define JA	"\xe3\x81\x82\xe3\x81\x84"
#define EMOJI	"\xf0\x9f\x98\x80"
#define RLO	"\xe2\x80\xae"		/* U+202E */
#define CSI8	"\xc2\x9b"		/* U+009B */

struct clean_case {
	const char *name;
	enum rg_sink sink;
	const char *in;
	size_t inlen;		/* 0: strlen(in) */
	const char *want;
};

/* For inputs with a NUL inside. */
#define BIN(s)	s, sizeof(s) - 1

static const struct clean_case cases[] = {
	/* plain text passes every sink unchanged */
	{ "plain log", LOG, "mail from a.example", 0, "mail from a.example" },
	{ "plain kv", KV, "mail from a.example", 0, "mail from a.example" },
	{ "plain json", JSON, "mail from a.example", 0, "mail from a.example" },
	{ "plain xml", XML, "mail from a.example", 0, "mail from a.example" },
	{ "plain html", HTML, "mail from a.example", 0, "mail from a.example" },
	{ "plain term", TERM, "mail from a.example", 0, "mail from a.example" },
	{ "plain smtp", SMTP, "mail from a.example", 0, "mail from a.example" },
	{ "plain header", HDR, "mail from a.example", 0, "mail from a.example" },
	{ "empty", LOG, "", 0, "" },

	/* C0 controls: the forged log line */
	{ "CR LF log", LOG, "x\r\nrelayguard-milter: event=relay_refused", 0,
	  "x\\x0d\\x0arelayguard-milter: event=relay_refused" },
	{ "CR LF kv", KV, "x\r\ny", 0, "x\\x0d\\x0ay" },
	{ "CR LF json", JSON, "x\r\ny", 0, "x\\x0d\\x0ay" },
	{ "CR LF xml", XML, "x\r\ny", 0, "x\\x0d\\x0ay" },
	{ "CR LF html", HTML, "x\r\ny", 0, "x\\x0d\\x0ay" },
	{ "CR LF term", TERM, "x\r\ny", 0, "x\\x0d\\x0ay" },
	{ "CR LF smtp", SMTP, "x\r\ny", 0, "x\\x0d\\x0ay" },
	{ "CR LF header", HDR, "x\r\ny", 0, "x??y" },
	{ "VT BS log", LOG, "v=spf1 \v\bforged", 0, "v=spf1 \\x0b\\x08forged" },
	{ "tab term", TERM, "a\tb", 0, "a\\x09b" },
	{ "ESC term", TERM, "\x1b[31mred", 0, "\\x1b[31mred" },
	{ "NUL inside", LOG, BIN("a\0b"), "a\\x00b" },
	{ "DEL log", LOG, "a\x7f" "b", 0, "a\\x7fb" },
	{ "DEL json", JSON, "a\x7f" "b", 0, "a\\x7fb" },
	{ "DEL smtp", SMTP, "a\x7f" "b", 0, "a\\x7fb" },

	/* raw C1 bytes are not UTF-8: \xHH everywhere */
	{ "raw CSI log", LOG, "a\x9b" "31mb", 0, "a\\x9b31mb" },
	{ "raw CSI term", TERM, "a\x9b" "31mb", 0, "a\\x9b31mb" },
	{ "raw CSI json", JSON, "a\x9b" "31mb", 0, "a\\x9b31mb" },
	{ "raw CSI xml", XML, "a\x9b" "31mb", 0, "a\\x9b31mb" },
	{ "raw NEL smtp", SMTP, "a\x85" "b", 0, "a\\x85b" },
	{ "raw C1 header", HDR, "a\x9b" "b", 0, "a?b" },

	/* C1 encoded as UTF-8: \u0080..\u009f everywhere */
	{ "U+009B log", LOG, "a" CSI8 "31m", 0, "a\\u009b31m" },
	{ "U+009B term", TERM, "a" CSI8 "31m", 0, "a\\u009b31m" },
	{ "U+009B json", JSON, "a" CSI8 "31m", 0, "a\\u009b31m" },
	{ "U+0085 xml", XML, "a\xc2\x85" "b", 0, "a\\u0085b" },
	{ "U+0080 html", HTML, "\xc2\x80", 0, "\\u0080" },
	{ "U+009F smtp", SMTP, "\xc2\x9f", 0, "\\u009f" },
	{ "U+00A0 kept term", TERM, "\xc2\xa0", 0, "\xc2\xa0" },

	/* bidi controls */
	{ "RLO log", LOG, "user" RLO "gpj.exe", 0, "user\\u202egpj.exe" },
	{ "RLO term", TERM, "user" RLO "gpj.exe", 0, "user\\u202egpj.exe" },
	{ "RLO json", JSON, "user" RLO "gpj.exe", 0, "user\\u202egpj.exe" },
	{ "RLO xml", XML, "user" RLO "gpj.exe", 0, "user\\u202egpj.exe" },
	{ "RLO html", HTML, "user" RLO "gpj.exe", 0, "user\\u202egpj.exe" },
	{ "LRE term", TERM, "\xe2\x80\xaa", 0, "\\u202a" },
	{ "LRI term", TERM, "\xe2\x81\xa6", 0, "\\u2066" },
	{ "PDI json", JSON, "\xe2\x81\xa9", 0, "\\u2069" },
	{ "RLM term", TERM, "\xe2\x80\x8f", 0, "\\u200f" },
	{ "ALM term", TERM, "\xd8\x9c", 0, "\\u061c" },
	{ "line separator json", JSON, "\xe2\x80\xa8", 0, "\\u2028" },
	{ "U+202F kept term", TERM, "\xe2\x80\xaf", 0, "\xe2\x80\xaf" },
	{ "U+2065 kept term", TERM, "\xe2\x81\xa5", 0, "\xe2\x81\xa5" },

	/* valid UTF-8: kept where the sink allows it, escaped where ASCII only */
	{ "Japanese term", TERM, "to " JA, 0, "to " JA },
	{ "Japanese json", JSON, "to " JA, 0, "to " JA },
	{ "Japanese xml", XML, "to " JA, 0, "to " JA },
	{ "Japanese html", HTML, "to " JA, 0, "to " JA },
	{ "Japanese log", LOG, "to " JA, 0, "to \\u3042\\u3044" },
	{ "Japanese kv", KV, "to " JA, 0, "to \\u3042\\u3044" },
	{ "Japanese smtp", SMTP, "to " JA, 0, "to \\u3042\\u3044" },
	{ "Japanese header", HDR, "to " JA, 0, "to ??" },
	{ "emoji term", TERM, EMOJI, 0, EMOJI },
	{ "emoji log", LOG, EMOJI, 0, "\\U0001f600" },
	{ "latin-1 as utf-8 log", LOG, "caf\xc3\xa9", 0, "caf\\u00e9" },
	{ "U+FFFE xml", XML, "\xef\xbf\xbe", 0, "\\ufffe" },
	{ "U+FFFF html", HTML, "\xef\xbf\xbf", 0, "\\uffff" },
	{ "U+FFFE json kept", JSON, "\xef\xbf\xbe", 0, "\xef\xbf\xbe" },
	{ "U+10FFFF term", TERM, "\xf4\x8f\xbf\xbf", 0, "\xf4\x8f\xbf\xbf" },

	/* invalid UTF-8: every byte of a broken sequence on its own */
	{ "latin-1 byte json", JSON, "caf\xe9", 0, "caf\\xe9" },
	{ "latin-1 byte term", TERM, "caf\xe9!", 0, "caf\\xe9!" },
	{ "overlong slash c0af", TERM, "\xc0\xaf", 0, "\\xc0\\xaf" },
	{ "overlong NUL c080", JSON, "\xc0\x80", 0, "\\xc0\\x80" },
	{ "overlong c1bf", XML, "\xc1\xbf", 0, "\\xc1\\xbf" },
	{ "overlong e0 80 af", TERM, "\xe0\x80\xaf", 0, "\\xe0\\x80\\xaf" },
	{ "overlong f0 80 80 af", TERM, "\xf0\x80\x80\xaf", 0,
	  "\\xf0\\x80\\x80\\xaf" },
	{ "overlong LF e0 80 8a", LOG, "\xe0\x80\x8a", 0, "\\xe0\\x80\\x8a" },
	{ "surrogate d800", JSON, "\xed\xa0\x80", 0, "\\xed\\xa0\\x80" },
	{ "surrogate dfff", TERM, "\xed\xbf\xbf", 0, "\\xed\\xbf\\xbf" },
	{ "U+D7FF kept", TERM, "\xed\x9f\xbf", 0, "\xed\x9f\xbf" },
	{ "above 10ffff", TERM, "\xf4\x90\x80\x80", 0, "\\xf4\\x90\\x80\\x80" },
	{ "f5 lead", JSON, "\xf5\x80\x80\x80", 0, "\\xf5\\x80\\x80\\x80" },
	{ "ff byte", HTML, "\xff", 0, "\\xff" },
	{ "lone continuation", TERM, "a\x80" "b", 0, "a\\x80b" },
	{ "truncated 3-byte then ascii", TERM, "\xe3\x81" "A", 0, "\\xe3\\x81A" },
	{ "truncated at end", JSON, "ok\xe3\x81", 0, "ok\\xe3\\x81" },
	{ "truncated 4-byte", TERM, "\xf0\x9f\x98", 0, "\\xf0\\x9f\\x98" },
	{ "truncated then valid", TERM, "\xe3" JA, 0, "\\xe3" JA },
	{ "invalid smtp", SMTP, "\xff\xfe", 0, "\\xff\\xfe" },
	{ "NUL in sequence", TERM, BIN("\xe3\0\x82"), "\\xe3\\x00\\x82" },

	/* sink-specific ASCII */
	{ "percent smtp", SMTP, "100% <a%b@c>", 0, "100%% <a%%b@c>" },
	{ "percent log", LOG, "100%s", 0, "100%s" },
	{ "backslash log kept", LOG, "a\\x0ab", 0, "a\\x0ab" },
	{ "backslash kv", KV, "a\\b", 0, "a\\\\b" },
	{ "forged escape kv", KV, "a\\x0ab", 0, "a\\\\x0ab" },
	{ "backslash term kept", TERM, "NT AUTHORITY\\ANONYMOUS", 0,
	  "NT AUTHORITY\\ANONYMOUS" },
	{ "backslash smtp kept", SMTP, "a\\b", 0, "a\\b" },
	{ "backslash json kept", JSON, "a\\b", 0, "a\\b" },
	{ "trailing backslash", TERM, "a\\", 0, "a\\" },
	{ "forged escape term", TERM, "\\x1b[31m", 0, "\\\\x1b[31m" },
	{ "forged escape json", JSON, "a\\u202e", 0, "a\\\\u202e" },
	{ "forged escape xml", XML, "\\U0001f600", 0, "\\\\U0001f600" },
	{ "forged escape html", HTML, "\\x3c", 0, "\\\\x3c" },
	{ "forged escape smtp", SMTP, "\\x0d", 0, "\\\\x0d" },
	{ "two backslashes", TERM, "a\\\\b", 0, "a\\\\\\b" },
	{ "quote kv", KV, "say \"hi\" x=1", 0, "say \\\"hi\\\" x=1" },
	{ "quote term", TERM, "\"q\"", 0, "\"q\"" },
	{ "markup html", HTML, "<a href=\"x\">&'</a>", 0,
	  "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;" },
	{ "markup xml left to writer", XML, "<a>&\"'", 0, "<a>&\"'" },
	{ "markup term", TERM, "<b>", 0, "<b>" },
	{ "header comment", HDR, "a (b) \"c\" \\d", 0, "a ?b? ?c? ?d" },
};

static void test_cases(void **state)
{
	char out[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct clean_case *c = &cases[i];
		size_t n = c->inlen ? c->inlen : strlen(c->in);
		size_t got = rg_clean(c->sink, out, sizeof(out), c->in, n);

		if (strcmp(out, c->want) != 0 || got != strlen(c->want))
			fail_msg("%s: got \"%s\" (%zu), want \"%s\"", c->name, out, got,
			    c->want);
	}
}

/* Every sink's output over every case: no C0, no DEL, no raw C1 byte, no
 * U+0080-U+009F, no bidi control, valid UTF-8 (jansson accepts it), ASCII
 * only in LOG/KV/SMTP/HEADER, no unescaped '%' in SMTP, no markup in HTML. */
static void check_output(enum rg_sink sink, const char *name, const char *o)
{
	const unsigned char *u = (const unsigned char *)o;
	json_t *j;

	for (size_t i = 0; u[i]; i++) {
		if (u[i] < 0x20 || u[i] == 0x7f)
			fail_msg("%s/%d: control 0x%02x", name, sink, u[i]);
		if (u[i] >= 0x80 && (sink == LOG || sink == KV || sink == SMTP ||
		    sink == HDR))
			fail_msg("%s/%d: non-ASCII in ASCII sink", name, sink);
		if (u[i] == 0xc2 && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f)
			fail_msg("%s/%d: C1 as UTF-8", name, sink);
		if (u[i] == 0xe2 && ((u[i + 1] == 0x80 && u[i + 2] >= 0xaa &&
		    u[i + 2] <= 0xae) || (u[i + 1] == 0x81 && u[i + 2] >= 0xa6 &&
		    u[i + 2] <= 0xa9)))
			fail_msg("%s/%d: bidi control", name, sink);
		if (sink == HTML && strchr("<>\"'", u[i]))
			fail_msg("%s/%d: markup", name, sink);
		if (sink == SMTP && u[i] == '%') {
			if (u[i + 1] != '%')
				fail_msg("%s/%d: single %%", name, sink);
			i++;
		}
	}
	if ((j = json_string(o)) == NULL)
		fail_msg("%s/%d: not valid UTF-8", name, sink);
	json_decref(j);
}

static void test_every_sink_safe(void **state)
{
	char out[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct clean_case *c = &cases[i];
		size_t n = c->inlen ? c->inlen : strlen(c->in);

		for (int s = RG_SINK_LOG; s <= RG_SINK_HEADER; s++) {
			rg_clean((enum rg_sink)s, out, sizeof(out), c->in, n);
			check_output((enum rg_sink)s, c->name, out);
		}
	}
	/* and every byte value, alone and as a lead byte */
	for (int b = 0; b < 256; b++) {
		char in[4] = { (char)b, (char)0x9b, 'x', (char)0xbf };

		for (int s = RG_SINK_LOG; s <= RG_SINK_HEADER; s++) {
			rg_clean((enum rg_sink)s, out, sizeof(out), in, sizeof(in));
			check_output((enum rg_sink)s, "byte", out);
		}
	}
}

/* LOG is applied to values and again to whole lines: it must be idempotent. */
static void test_log_idempotent(void **state)
{
	char once[512], twice[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct clean_case *c = &cases[i];

		rg_clean(LOG, once, sizeof(once), c->in, c->inlen ? c->inlen : strlen(c->in));
		rg_clean(LOG, twice, sizeof(twice), once, strlen(once));
		assert_string_equal(once, twice);
	}
}

struct trunc_case {
	const char *name;
	enum rg_sink sink;
	const char *in;
	size_t dstsz;
	const char *want;
};

static const struct trunc_case truncs[] = {
	{ "fits exactly", LOG, "abcdefgh", 9, "abcdefgh" },
	{ "one over", LOG, "abcdefghi", 9, "abcde..." },
	{ "escape not cut", LOG, "abcd\nx", 9, "abcd..." },
	{ "escape fits", LOG, "abcd\n", 9, "abcd\\x0a" },
	{ "utf-8 not cut", TERM, "ab" JA JA, 9, "ab\xe3\x81\x82..." },
	{ "utf-8 fits", TERM, "ab" JA, 9, "ab" JA },
	{ "entity not cut", HTML, "abcd&&", 11, "abcd..." },
	{ "percent pair not cut", SMTP, "abcde%%%", 10, "abcde..." },
	{ "tiny buffer", LOG, "abcdef", 4, "..." },
	{ "too small for marker", LOG, "abcdef", 3, "" },
	{ "size one", LOG, "abc", 1, "" },
};

static void test_truncation(void **state)
{
	char out[64];

	(void)state;
	for (size_t i = 0; i < sizeof(truncs) / sizeof(truncs[0]); i++) {
		const struct trunc_case *c = &truncs[i];

		memset(out, 'Z', sizeof(out));
		rg_clean(c->sink, out, c->dstsz, c->in, strlen(c->in));
		if (strcmp(out, c->want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", c->name, out, c->want);
		if (out[c->dstsz] != 'Z')
			fail_msg("%s: wrote past dstsz", c->name);
	}
	memset(out, 'Z', sizeof(out));
	assert_int_equal(rg_clean(LOG, out, 0, "abc", 3), 0);
	assert_int_equal(out[0], 'Z');	/* dstsz 0: nothing written */
}

/* A megabyte of hostile bytes: bounded output, no overflow, dup bounded. */
static void test_hostile_megabyte(void **state)
{
	size_t n = 1 << 20;
	char *in = malloc(n + 1), out[256], *d;

	(void)state;
	assert_non_null(in);
	for (size_t i = 0; i < n; i++)
		in[i] = (char)(i % 3 == 0 ? 0x9b : i % 3 == 1 ? '\n' : 0xe2);
	in[n] = '\0';
	assert_true(rg_clean(TERM, out, sizeof(out), in, n) < sizeof(out));
	assert_string_equal(out + strlen(out) - 3, "...");
	d = rg_clean_dup(JSON, in);
	assert_true(strlen(d) <= RG_CLEAN_DUP_MAX);
	assert_string_equal(d + strlen(d) - 3, "...");
	free(d);
	free(in);
}

/* Read an exact sink's output back: \\, \xHH, \uHHHH, \UHHHHHHHH, and the
 * sink's own quoting (%% in SMTP, \" in KV). Returns the length. */
static size_t decode(enum rg_sink sink, const char *in, unsigned char *out)
{
	size_t o = 0;
	unsigned long v;
	char hex[9];
	int w;

	while (*in) {
		if (sink == SMTP && in[0] == '%' && in[1] == '%') {
			out[o++] = '%';
			in += 2;
		} else if (in[0] == '\\' && (in[1] == '\\' || (sink == KV && in[1] == '"'))) {
			out[o++] = (unsigned char)in[1];
			in += 2;
		} else if (in[0] == '\\' && (in[1] == 'x' || in[1] == 'u' || in[1] == 'U')) {
			w = in[1] == 'x' ? 2 : in[1] == 'u' ? 4 : 8;
			memcpy(hex, in + 2, (size_t)w);
			hex[w] = '\0';
			v = strtoul(hex, NULL, 16);
			if (w == 2)
				out[o++] = (unsigned char)v;
			else if (v < 0x800) {
				out[o++] = (unsigned char)(0xc0 | (v >> 6));
				out[o++] = (unsigned char)(0x80 | (v & 0x3f));
			} else if (v < 0x10000) {
				out[o++] = (unsigned char)(0xe0 | (v >> 12));
				out[o++] = (unsigned char)(0x80 | ((v >> 6) & 0x3f));
				out[o++] = (unsigned char)(0x80 | (v & 0x3f));
			} else {
				out[o++] = (unsigned char)(0xf0 | (v >> 18));
				out[o++] = (unsigned char)(0x80 | ((v >> 12) & 0x3f));
				out[o++] = (unsigned char)(0x80 | ((v >> 6) & 0x3f));
				out[o++] = (unsigned char)(0x80 | (v & 0x3f));
			}
			in += 2 + w;
		} else {
			out[o++] = (unsigned char)*in++;
		}
	}
	return o;
}

/* Unambiguous: random hostile strings read back to exactly the input. */
static void test_round_trip(void **state)
{
	static const unsigned char alphabet[] = { '\\', 'x', 'u', 'U', '0', 'a', '%',
	    '"', ' ', 0x00, 0x0a, 0x0d, 0x1b, 0x7f, 0x9b, 0x85, 0xc2, 0xe2, 0x80,
	    0xae, 0xa6, 0xe3, 0x81, 0x82, 0xed, 0xa0, 0xf0, 0x9f, 0x98, 0xff, 0xc0 };
	static const enum rg_sink exact[] = { KV, JSON, XML, TERM, SMTP };
	unsigned char in[40], back[sizeof(in) * 4];
	char out[sizeof(in) * 12];
	unsigned int seed = 1997;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(rand_r(&seed) % (int)sizeof(in));

		for (size_t i = 0; i < n; i++)
			in[i] = alphabet[rand_r(&seed) % (int)sizeof(alphabet)];
		for (size_t k = 0; k < sizeof(exact) / sizeof(exact[0]); k++) {
			rg_clean(exact[k], out, sizeof(out), (const char *)in, n);
			if (decode(exact[k], out, back) != n || memcmp(back, in, n) != 0)
				fail_msg("sink %d: \"%s\" does not read back", exact[k], out);
		}
	}
}

/* Truncated output is a prefix of the full output cut at most one token
 * (10 bytes) short of the room left for "...", then "...". */
static void test_truncation_random(void **state)
{
	static const unsigned char alphabet[] = { 'a', ' ', '%', '&', '"', '\\',
	    'x', 0x0a, 0x9b, 0xc2, 0xe2, 0x80, 0xae, 0xe3, 0x81, 0x82, 0xff };
	unsigned char in[60];
	char full[1024], out[128];
	unsigned int seed = 42;

	(void)state;
	for (int round = 0; round < 3000; round++) {
		size_t n = (size_t)(rand_r(&seed) % (int)sizeof(in));

		for (size_t i = 0; i < n; i++)
			in[i] = alphabet[rand_r(&seed) % (int)sizeof(alphabet)];
		for (int sk = RG_SINK_LOG; sk <= RG_SINK_HEADER; sk++) {
			size_t fl = rg_clean((enum rg_sink)sk, full, sizeof(full),
			    (const char *)in, n);

			for (size_t dstsz = 4; dstsz < sizeof(out); dstsz++) {
				size_t ol = rg_clean((enum rg_sink)sk, out, dstsz,
				    (const char *)in, n);

				if (fl < dstsz) {
					if (ol != fl || memcmp(out, full, fl) != 0)
						fail_msg("sink %d size %zu: cut though it fits", sk, dstsz);
					continue;
				}
				if (ol < 3 || ol >= dstsz || memcmp(out + ol - 3, "...", 3) != 0 ||
				    memcmp(out, full, ol - 3) != 0 ||
				    ol - 3 + 10 < dstsz - 1 - 3)
					fail_msg("sink %d size %zu: bad cut \"%s\" of \"%s\"",
					    sk, dstsz, out, full);
			}
		}
	}
}

static void test_helpers(void **state)
{
	char buf[32], *d;
	FILE *f;
	char *mem = NULL;
	size_t memlen = 0;

	(void)state;
	assert_string_equal(rg_clean_str(LOG, buf, sizeof(buf), "a\nb"), "a\\x0ab");
	assert_string_equal(rg_clean_str(LOG, buf, sizeof(buf), NULL), "");
	d = rg_clean_dup(SMTP, "50% off\r\n");
	assert_string_equal(d, "50%% off\\x0d\\x0a");
	free(d);
	d = rg_clean_dup(HTML, NULL);
	assert_string_equal(d, "");
	free(d);
	d = rg_clean_dup(HTML, "&&&&&&&&&&");	/* 6x expansion fits */
	assert_string_equal(d, "&amp;&amp;&amp;&amp;&amp;&amp;&amp;&amp;&amp;&amp;");
	free(d);
	f = open_memstream(&mem, &memlen);
	assert_non_null(f);
	rg_clean_fputs(TERM, "220 " CSI8 "\x9b" RLO JA "\r\n", f);
	fclose(f);
	assert_string_equal(mem, "220 \\u009b\\x9b\\u202e" JA "\\x0d\\x0a");
	free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_every_sink_safe),
		cmocka_unit_test(test_log_idempotent),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_hostile_megabyte),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncation_random),
		cmocka_unit_test(test_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

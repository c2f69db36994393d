/*
 * fuzz_textclean.c - libFuzzer target for the one text-cleaning module
 * (lib/base/textclean.c): whatever the bytes, every sink's output holds its rule.
 * Build with "make fuzz"; run build-fuzz/fuzz_textclean.
 *
 * The first input byte picks the output buffer size (1..256), the rest is
 * the untrusted text. For every sink the output must: fit the buffer and be
 * NUL-terminated; hold no C0 control, no DEL, no C1 (raw 0x80-0x9f outside
 * a UTF-8 sequence, or U+0080-U+009F), no bidi control; be valid UTF-8
 * (strict: no overlongs, no surrogates); be ASCII in LOG, KV, SMTP and
 * HEADER; hold no unpaired '%' in SMTP and no markup in HTML. Untruncated,
 * the exact sinks (KV, JSON, XML, TERM, SMTP) must read back to the input,
 * and LOG must be idempotent.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/textclean.h"
#include "fuzz.h"


static void check(enum rg_sink sink, const char *o, size_t n)
{
	const unsigned char *u = (const unsigned char *)o;
	bool ascii = sink == RG_SINK_LOG || sink == RG_SINK_KV ||
	    sink == RG_SINK_SMTP || sink == RG_SINK_HEADER;
	uint32_t cp;
	size_t len;

	if (strlen(o) != n)
		abort();
	for (size_t i = 0; i < n; i += len) {
		if ((len = fuzz_utf8_len(u + i, n - i, &cp)) == 0)
			abort();
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
		    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
			abort();
		if (ascii && cp >= 0x80)
			abort();
		if (sink == RG_SINK_HTML && (cp == '<' || cp == '>' || cp == '"' ||
		    cp == '\''))
			abort();
		if (sink == RG_SINK_SMTP && cp == '%' && u[++i] != '%')
			abort();
	}
}

/* Read an exact sink's output back: \\, \xHH, \uHHHH, \UHHHHHHHH, %% (SMTP)
 * and \" (KV). */
static size_t decode(enum rg_sink sink, const char *in, unsigned char *out)
{
	size_t o = 0;
	unsigned long v;
	char hex[9];
	int w;

	while (*in) {
		if (sink == RG_SINK_SMTP && in[0] == '%' && in[1] == '%') {
			out[o++] = '%';
			in += 2;
		} else if (in[0] == '\\' && (in[1] == '\\' ||
		    (sink == RG_SINK_KV && in[1] == '"'))) {
			out[o++] = (unsigned char)in[1];
			in += 2;
		} else if (in[0] == '\\' && (in[1] == 'x' || in[1] == 'u' || in[1] == 'U')) {
			w = in[1] == 'x' ? 2 : in[1] == 'u' ? 4 : 8;
			memcpy(hex, in + 2, (size_t)w);
			hex[w] = '\0';
			v = strtoul(hex, NULL, 16);
			if (w == 2) {
				out[o++] = (unsigned char)v;
			} else if (v < 0x800) {
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[257], big[64 * 1024], again[64 * 1024];
	size_t dstsz, n, m;
	const char *in = (const char *)data + 1;

	if (size < 1 || size > 4096)
		return 0;
	dstsz = (size_t)data[0] + 1;
	size--;
	for (int s = RG_SINK_LOG; s <= RG_SINK_HEADER; s++) {
		memset(out, 'Z', sizeof(out));
		n = rg_clean((enum rg_sink)s, out, dstsz, in, size);
		if (n >= dstsz || out[n] != '\0' || out[dstsz] != 'Z')
			abort();
		check((enum rg_sink)s, out, n);
		n = rg_clean((enum rg_sink)s, big, sizeof(big), in, size);
		check((enum rg_sink)s, big, n);
		if (s != RG_SINK_LOG && s != RG_SINK_HTML && s != RG_SINK_HEADER) {
			m = decode((enum rg_sink)s, big, (unsigned char *)again);
			if (m != size || memcmp(again, in, size) != 0)
				abort();
		}
		if (s == RG_SINK_LOG) {
			m = rg_clean(RG_SINK_LOG, again, sizeof(again), big, n);
			if (m != n || memcmp(again, big, n) != 0)
				abort();
		}
	}
	return 0;
}

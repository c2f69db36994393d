/*
 * textclean.c - one rule per sink for untrusted text; see textclean.h.
 *
 * The input is cut into tokens: one ASCII byte, one valid UTF-8 sequence,
 * or one byte that is neither. Each token becomes at most TOKEN_MAX bytes
 * of output, decided by the sink's rule in token_out(); runs of printable
 * ASCII that the sink keeps are copied at once. The output is cut only at
 * token boundaries, so an escape, an entity or a UTF-8 sequence is never
 * split.
 */
#include "lib/base/textclean.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define TOKEN_MAX	11	/* "\U0010ffff" + NUL */

/* Length of the valid UTF-8 sequence at s[0..n) (RFC 3629 table 3.7 of
 * Unicode), its code point in *cp; 0 when s does not start one. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		*cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		*cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;		/* overlong */
		else if (c == 0xed)
			hi = 0x9f;		/* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		*cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;		/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;		/* above U+10FFFF */
	} else {
		return 0;			/* continuation, c0, c1, f5-ff */
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	*cp = (*cp << 6) | (s[1] & 0x3f);
	for (size_t i = 2; i < len; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	return len;
}

/* Characters no sink gets raw: C1, bidi controls and marks, separators. */
static bool cp_forbidden(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	    cp == 0x200e || cp == 0x200f || cp == 0x061c ||
	    cp == 0x2028 || cp == 0x2029;
}

static bool sink_keeps_utf8(enum rg_sink sink)
{
	return sink == RG_SINK_JSON || sink == RG_SINK_XML ||
	    sink == RG_SINK_HTML || sink == RG_SINK_TERM;
}

static size_t put_str(char *out, const char *s)
{
	size_t n = strlen(s);

	memcpy(out, s, n);
	return n;
}

static const char hexdigit[] = "0123456789abcdef";

/* "\\" + tag + digits lowercase hex digits of v. */
static size_t put_hex(char *out, char tag, uint32_t v, int digits)
{
	out[0] = '\\';
	out[1] = tag;
	for (int d = 0; d < digits; d++)
		out[2 + d] = hexdigit[(v >> (4 * (digits - 1 - d))) & 0xf];
	return (size_t)digits + 2;
}

static size_t put_cp_escape(char *out, uint32_t cp)
{
	return cp > 0xffff ? put_hex(out, 'U', cp, 8) : put_hex(out, 'u', cp, 4);
}

/* Printable ASCII a sink may not write as it is (ascii_out() decides, for
 * '\\' by what follows): one bit per byte ([0]: 0x00-0x3f, [1]: 0x40-0x7f).
 * Every other printable byte is "plain" and copied in runs by rg_clean(). */
#define SP(c)	((uint64_t)1 << ((c) & 63))
static const uint64_t special[][2] = {
	[RG_SINK_LOG] = { 0, 0 },
	[RG_SINK_KV] = { SP('"'), SP('\\') },
	[RG_SINK_JSON] = { 0, SP('\\') },
	[RG_SINK_XML] = { 0, SP('\\') },
	[RG_SINK_HTML] = { SP('"') | SP('&') | SP('\'') | SP('<') | SP('>'), SP('\\') },
	[RG_SINK_TERM] = { 0, SP('\\') },
	[RG_SINK_SMTP] = { SP('%'), SP('\\') },
	[RG_SINK_HEADER] = { SP('"') | SP('(') | SP(')'), SP('\\') },
};

bool rg_ascii_print(int c)
{
	return c >= 0x20 && c < 0x7f;
}

static inline bool plain(enum rg_sink sink, unsigned char c)
{
	return rg_ascii_print(c) && (special[sink][c >> 6] & SP(c)) == 0;
}

/* A backslash followed by next (-1: nothing) could be read as the start
 * of an escape: next is x, u, U, a backslash, or a byte that may itself be
 * written as an escape. */
static bool escape_like(int next)
{
	return next == 'x' || next == 'u' || next == 'U' || next == '\\' ||
	    (next >= 0 && !rg_ascii_print(next));
}

/* Printable ASCII byte c (0x20-0x7e) followed by next (-1 at the end) in
 * sink; writes out, returns length. */
static size_t ascii_out(enum rg_sink sink, unsigned char c, int next, char *out)
{
	switch (c) {
	case '\\':
		if (sink == RG_SINK_LOG)
			break;
		if (sink == RG_SINK_HEADER)
			return put_str(out, "?");
		if (sink == RG_SINK_KV || escape_like(next))
			return put_str(out, "\\\\");
		break;
	case '"':
		if (sink == RG_SINK_KV)
			return put_str(out, "\\\"");
		if (sink == RG_SINK_HTML)
			return put_str(out, "&quot;");
		if (sink == RG_SINK_HEADER)
			return put_str(out, "?");
		break;
	case '%':
		if (sink == RG_SINK_SMTP)
			return put_str(out, "%%");
		break;
	case '(':
	case ')':
		if (sink == RG_SINK_HEADER)
			return put_str(out, "?");
		break;
	case '&':
		if (sink == RG_SINK_HTML)
			return put_str(out, "&amp;");
		break;
	case '<':
		if (sink == RG_SINK_HTML)
			return put_str(out, "&lt;");
		break;
	case '>':
		if (sink == RG_SINK_HTML)
			return put_str(out, "&gt;");
		break;
	case '\'':
		if (sink == RG_SINK_HTML)
			return put_str(out, "&#39;");
		break;
	}
	out[0] = (char)c;
	return 1;
}

/* Clean the token at s[0..n); *used gets the bytes it took. */
static size_t token_out(enum rg_sink sink, const unsigned char *s, size_t n,
    size_t *used, char *out)
{
	uint32_t cp;
	size_t len = utf8_decode(s, n, &cp);

	if (len == 0 || cp < 0x20 || cp == 0x7f) {
		*used = 1;			/* control or not UTF-8 */
		if (sink == RG_SINK_HEADER)
			return put_str(out, "?");
		return put_hex(out, 'x', s[0], 2);
	}
	*used = len;
	if (cp < 0x80)
		return ascii_out(sink, (unsigned char)cp, n > 1 ? s[1] : -1, out);
	if (sink == RG_SINK_HEADER)
		return put_str(out, "?");
	if (cp_forbidden(cp) || !sink_keeps_utf8(sink) ||
	    ((sink == RG_SINK_XML || sink == RG_SINK_HTML) &&
	    (cp == 0xfffe || cp == 0xffff)))
		return put_cp_escape(out, cp);
	memcpy(out, s, len);
	return len;
}

size_t rg_clean(enum rg_sink sink, char *dst, size_t dstsz, const char *src,
    size_t srclen)
{
	const unsigned char *s = (const unsigned char *)(src ? src : "");
	size_t tl = strlen(RG_CLEAN_TRUNC), lim, mark, o = 0, safe = 0, used, k, r;
	bool can_mark;
	char tok[TOKEN_MAX];

	if (dstsz == 0 || (unsigned)sink > RG_SINK_HEADER) {
		if (dstsz > 0)
			dst[0] = '\0';
		return 0;
	}
	if (src == NULL)
		srclen = 0;
	lim = dstsz - 1;		/* text bytes at most */
	can_mark = lim >= tl;
	mark = can_mark ? lim - tl : 0;	/* text that leaves room for "..." */
	/* safe: the last token boundary <= mark (where "..." would go). */
	for (size_t i = 0; i < srclen; i += used) {
		if (plain(sink, s[i])) {	/* a run of bytes kept as they are */
			for (r = 1; i + r < srclen && plain(sink, s[i + r]); r++)
				;
			if (o + r > lim) {	/* cut inside the run */
				if (can_mark && mark >= o) {
					memcpy(dst + o, s + i, mark - o);
					o = mark;
				} else {
					o = safe;
				}
				goto truncated;
			}
			memcpy(dst + o, s + i, r);
			if (can_mark && o <= mark)
				safe = o + r <= mark ? o + r : mark;
			o += r;
			used = r;
			continue;
		}
		k = token_out(sink, s + i, srclen - i, &used, tok);
		if (o + k > lim) {
			o = safe;
			goto truncated;
		}
		memcpy(dst + o, tok, k);
		o += k;
		if (can_mark && o <= mark)
			safe = o;
	}
	dst[o] = '\0';
	return o;

truncated:
	if (can_mark) {
		memcpy(dst + o, RG_CLEAN_TRUNC, tl);
		o += tl;
	}
	dst[o] = '\0';
	return o;
}

const char *rg_clean_str(enum rg_sink sink, char *dst, size_t dstsz,
    const char *src)
{
	rg_clean(sink, dst, dstsz, src, src ? strlen(src) : 0);
	return dst;
}

void rg_clean_fputs(enum rg_sink sink, const char *src, FILE *out)
{
	const unsigned char *s = (const unsigned char *)(src ? src : "");
	size_t n = strlen((const char *)s), used, k;
	char tok[TOKEN_MAX];

	for (size_t i = 0; i < n; i += used) {
		k = token_out(sink, s + i, n - i, &used, tok);
		fwrite(tok, 1, k, out);
	}
}

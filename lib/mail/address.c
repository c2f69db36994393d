/*
 * address.c - the RFC 5321 path parser; see address.h.
 *
 * The parser works in three passes over the trimmed input:
 *
 *   1. lex_path() classifies every byte: plain syntax, the content of a
 *      quoted string, a backslash-escaped byte, or the quoting syntax itself
 *      (the '"' and '\' that dequoting drops). It rejects control bytes,
 *      malformed UTF-8 and unbalanced quotes, so the later
 *      passes only ever look for *plain* specials ('<', '>', '@', ':', ',').
 *   2. The angle brackets, the source route and the last plain '@' split
 *      the path into route, local part and domain.
 *   3. parse_local() dequotes the local part and sets the routing bits;
 *      parse_domain() validates and lowercases a name or address literal.
 *
 * Nothing is allocated: the input is at most RG_ADDR_MAX_INPUT bytes and
 * every output is a fixed buffer in struct rg_address.
 */
#include "lib/mail/address.h"
#include "lib/base/textclean.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Byte classes produced by lex_path(). */
enum {
	CL_PLAIN,		/* outside quotes: syntax is significant */
	CL_QUOTED,		/* inside a quoted string */
	CL_ESCAPED,		/* "\x" outside a quoted string: the x */
	CL_DQUOTE,		/* a '"' delimiting a quoted string */
	CL_BACKSLASH,		/* the '\' of a quoted-pair */
};

#define LOCAL_PART_LIMIT	64	/* RFC 5321 4.5.3.1.1 */
#define DOMAIN_LIMIT		255	/* RFC 5321 4.5.3.1.2 */
#define LABEL_LIMIT		63	/* RFC 1035 2.3.4 */
#define LITERAL_TEXT_MAX	64	/* inside the brackets */

struct lexed {
	const char *in;			/* the whole input */
	unsigned char cls[RG_ADDR_MAX_INPUT];
};

__attribute__((format(printf, 3, 4)))
static int fail(struct rg_addr_error *err, size_t offset, const char *fmt, ...)
{
	va_list ap;

	err->offset = offset;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* Length of the UTF-8 sequence at p (at most n bytes), 0 when malformed:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_seq_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (p[0] < 0x80)
		return 1;
	if (p[0] < 0xc2)
		return 0;
	if (p[0] < 0xe0)
		len = 2;
	else if (p[0] < 0xf0) {
		len = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] < 0xf5) {
		len = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (len > n)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

static bool is_control(unsigned char c)
{
	return c < 0x80 && !rg_ascii_print(c);
}

/* Pass 1: classify in[s, e) into lx->cls (indexed from 0 = input start). */
static int lex_path(struct lexed *lx, size_t s, size_t e,
    struct rg_addr_error *err)
{
	const unsigned char *in = (const unsigned char *)lx->in;
	bool quoted = false, escaped = false;
	size_t qstart = 0, i, n, k;

	for (i = s; i < e; i += n) {
		unsigned char c = in[i];

		n = 1;
		if (is_control(c))
			return fail(err, i, "control character 0x%02x in address", c);
		if (c >= 0x80) {
			if ((n = utf8_seq_len(in + i, e - i)) == 0)
				return fail(err, i, "invalid UTF-8 byte 0x%02x", c);
			for (k = 0; k < n; k++)
				lx->cls[i + k] = escaped ? CL_ESCAPED :
				    quoted ? CL_QUOTED : CL_PLAIN;
			escaped = false;
			continue;
		}
		if (escaped) {
			lx->cls[i] = quoted ? CL_QUOTED : CL_ESCAPED;
			escaped = false;
		} else if (c == '\\') {
			if (i + 1 >= e)
				return fail(err, i, "backslash at end of address");
			lx->cls[i] = CL_BACKSLASH;
			escaped = true;
		} else if (c == '"') {
			lx->cls[i] = CL_DQUOTE;
			if (!quoted)
				qstart = i;
			quoted = !quoted;
		} else if (quoted) {
			lx->cls[i] = CL_QUOTED;
		} else {
			lx->cls[i] = CL_PLAIN;
		}
	}
	if (quoted)
		return fail(err, qstart, "unterminated quoted string");
	return 0;
}

static bool is_plain(const struct lexed *lx, size_t i, char c)
{
	return lx->in[i] == c && lx->cls[i] == CL_PLAIN;
}

/* First plain c in [s, e) outside address-literal brackets, or e. */
static size_t find_plain(const struct lexed *lx, size_t s, size_t e, char c)
{
	int depth = 0;

	for (; s < e; s++) {
		if (lx->cls[s] != CL_PLAIN)
			continue;
		if (lx->in[s] == '[')
			depth++;
		else if (lx->in[s] == ']' && depth > 0)
			depth--;
		else if (lx->in[s] == c && depth == 0)
			return s;
	}
	return e;
}

static int check_unquoted(const struct lexed *lx, size_t s, size_t e,
    const char *what, struct rg_addr_error *err)
{
	for (; s < e; s++)
		if (lx->cls[s] != CL_PLAIN)
			return fail(err, s, "quoted string or backslash in %s", what);
	return 0;
}

static const char *show_byte(unsigned char c, char *buf, size_t len)
{
	if (c != ' ' && rg_ascii_print(c))
		snprintf(buf, len, "'%c'", c);
	else
		snprintf(buf, len, "0x%02x", c);
	return buf;
}

/* "[192.0.2.1]" or "[IPv6:2001:db8::1]"; p[0] == '['. */
static int parse_literal(const char *in, size_t s, size_t e, char *lit,
    size_t litlen, enum rg_domain_kind *kind, struct rg_addr_error *err)
{
	const char *close = memchr(in + s, ']', e - s);
	char text[LITERAL_TEXT_MAX];
	unsigned char bin[16];
	size_t n;
	const char *colon;

	if (close == NULL)
		return fail(err, s, "address literal without ']'");
	if ((size_t)(close - in) != e - 1)
		return fail(err, (size_t)(close - in) + 1,
		    "text after address literal");
	n = e - s - 2;
	if (n == 0)
		return fail(err, s, "empty address literal");
	if (n >= sizeof(text))
		return fail(err, s, "address literal too long");
	memcpy(text, in + s + 1, n);
	text[n] = '\0';

	if ((colon = strchr(text, ':')) == NULL) {
		if (inet_pton(AF_INET, text, bin) != 1)
			return fail(err, s + 1, "bad IPv4 address literal");
		*kind = RG_DOMAIN_IPV4;
		inet_ntop(AF_INET, bin, lit, (socklen_t)litlen);
		return 0;
	}
	if (inet_pton(AF_INET6, text, bin) == 1)
		return fail(err, s + 1,
		    "IPv6 literal needs the IPv6: tag (RFC 5321 4.1.3)");
	if (colon - text != 4 || strncasecmp(text, "IPv6", 4) != 0)
		return fail(err, s + 1,
		    "unsupported general address literal (only IPv6: is known)");
	if (inet_pton(AF_INET6, colon + 1, bin) != 1)
		return fail(err, s + 6, "bad IPv6 address literal");
	*kind = RG_DOMAIN_IPV6;
	inet_ntop(AF_INET6, bin, lit, (socklen_t)litlen);
	return 0;
}

/* Check one host-name label in[s, e); sets *nonstd for tolerated forms. */
static int check_label(const char *in, size_t s, size_t e, bool *nonstd,
    struct rg_addr_error *err)
{
	char show[8];
	size_t i;

	if (s == e)
		return fail(err, s, "empty label in domain");
	if (e - s > LABEL_LIMIT)
		return fail(err, s, "domain label longer than %d octets",
		    LABEL_LIMIT);
	for (i = s; i < e; i++) {
		unsigned char c = (unsigned char)in[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-')
			continue;
		if (c == '_' || c >= 0x80) {	/* tolerated, not RFC 5321 */
			*nonstd = true;
			continue;
		}
		return fail(err, i, "invalid character %s in domain",
		    show_byte(c, show, sizeof(show)));
	}
	if (in[s] == '-' || in[e - 1] == '-')
		*nonstd = true;
	return 0;
}

/*
 * Validate the domain in[s, e) (no quoting inside), store it lowercased
 * without one trailing dot in out, the kind in *kind and the canonical
 * literal address in lit.
 */
static int parse_domain(const char *in, size_t s, size_t e, char *out,
    size_t outlen, char *lit, size_t litlen, enum rg_domain_kind *kind,
    bool *nonstd, struct rg_addr_error *err)
{
	size_t i, label, n;
	bool numeric = true;

	if (in[s] == '[') {
		if (parse_literal(in, s, e, lit, litlen, kind, err) != 0)
			return -1;
	} else {
		if (e - s > 1 && in[e - 1] == '.')
			e--;
		if (e - s > DOMAIN_LIMIT)
			return fail(err, s, "domain longer than %d octets "
			    "(RFC 5321 4.5.3.1.2)", DOMAIN_LIMIT);
		for (label = i = s; i <= e; i++) {
			if (i < e && in[i] != '.')
				continue;
			if (check_label(in, label, i, nonstd, err) != 0)
				return -1;
			label = i + 1;
		}
		/* "T@192.0.2.1": a lax MTA may read an all-numeric name as an IP */
		for (i = e; i > s && in[i - 1] != '.'; i--)
			if (in[i - 1] < '0' || in[i - 1] > '9')
				numeric = false;
		if (numeric)
			*nonstd = true;
		*kind = RG_DOMAIN_NAME;
	}
	n = e - s;
	if (n >= outlen)
		return fail(err, s, "domain too long");
	memcpy(out, in + s, n);
	out[n] = '\0';
	for (i = 0; i < n; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] - 'A' + 'a');
	return 0;
}

/* "@a,@[192.0.2.1]" in [s, e): every hop is '@' and a valid domain. */
static int parse_route(const struct lexed *lx, size_t s, size_t e,
    struct rg_address *a, struct rg_addr_error *err)
{
	char dom[RG_DOMAIN_MAX], lit[64];
	enum rg_domain_kind kind;
	bool nonstd = false;
	size_t hop, end;

	if (check_unquoted(lx, s, e, "source route", err) != 0)
		return -1;
	if (e - s >= sizeof(a->route))
		return fail(err, s, "source route too long");
	for (hop = s; hop <= e; hop = end + 1) {
		end = find_plain(lx, hop, e, ',');
		if (hop == end || (lx->in[hop] == '@' && hop + 1 == end))
			return fail(err, hop, "empty hop in source route");
		if (lx->in[hop] != '@')
			return fail(err, hop, "source route hop must start with '@'");
		if (parse_domain(lx->in, hop + 1, end, dom, sizeof(dom), lit,
		    sizeof(lit), &kind, &nonstd, err) != 0)
			return -1;
	}
	memcpy(a->route, lx->in + s, e - s);
	a->route[e - s] = '\0';
	a->routing |= RG_ROUTE_SOURCE;
	return 0;
}

static bool is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80)
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/*
 * The local part in[s, e): dequote into a->local, set quoted_local, the
 * routing bits of the dequoted text, and nonstandard for anything that is
 * neither a clean Dot-string nor a single Quoted-string.
 */
static int parse_local(const struct lexed *lx, size_t s, size_t e,
    struct rg_address *a, struct rg_addr_error *err)
{
	size_t i, n = 0, dquotes = 0, plain = 0;
	bool escapes = false, eightbit = false;
	char show[8];

	if (s == e)
		return fail(err, s, "empty local part");
	if (e - s > LOCAL_PART_LIMIT)
		return fail(err, s, "local part longer than %d octets "
		    "(RFC 5321 4.5.3.1.1)", LOCAL_PART_LIMIT);
	for (i = s; i < e; i++) {
		unsigned char c = (unsigned char)lx->in[i];

		switch (lx->cls[i]) {
		case CL_DQUOTE:
			dquotes++;
			continue;
		case CL_BACKSLASH:
			continue;
		case CL_ESCAPED:
			escapes = true;
			break;
		case CL_QUOTED:
			break;
		default:
			plain++;
			if (c == '@') {
				a->nonstandard = true;
			} else if (c == '[' || c == ']' || c == ':') {
				/* "T@[IP]@D": inner route, flagged below */
				a->nonstandard = true;
			} else if (c != '.' && !is_atext(c)) {
				return fail(err, i, "invalid character %s in "
				    "local part", show_byte(c, show, sizeof(show)));
			}
			break;
		}
		if (c >= 0x80)
			eightbit = true;
		a->local[n++] = (char)c;
	}
	a->local[n] = '\0';
	if (n == 0)
		return fail(err, s, "empty local part");

	a->quoted_local = dquotes > 0;
	if (dquotes > 0) {
		/* RFC 5321 knows one Quoted-string, not "a"."b" or a"b" */
		if (dquotes != 2 || plain > 0 || lx->cls[s] != CL_DQUOTE ||
		    lx->cls[e - 1] != CL_DQUOTE)
			a->nonstandard = true;
	} else if (a->local[0] == '.' || a->local[n - 1] == '.' ||
	    strstr(a->local, "..") != NULL) {
		a->nonstandard = true;
	}
	if (escapes || eightbit)
		a->nonstandard = true;
	if (strchr(a->local, '@') != NULL)
		a->routing |= RG_ROUTE_EXTRA_AT;
	if (strchr(a->local, '%') != NULL)
		a->routing |= RG_ROUTE_PERCENT;
	if (strchr(a->local, '!') != NULL)
		a->routing |= RG_ROUTE_BANG;
	return 0;
}

/* Pass 2 and 3 for the mailbox in[s, e) (after any source route). */
static int parse_mailbox(const struct lexed *lx, size_t s, size_t e,
    struct rg_address *a, struct rg_addr_error *err)
{
	size_t at = e, i;

	for (i = e; i > s; i--) {
		if (is_plain(lx, i - 1, '@')) {
			at = i - 1;
			break;
		}
	}
	if (parse_local(lx, s, at, a, err) != 0)
		return -1;
	if (at == e) {
		a->domain_kind = RG_DOMAIN_NONE;
		/* RFC 5321 4.1.1.3: only <Postmaster> may be unqualified */
		if (strcasecmp(a->local, "postmaster") != 0 || a->quoted_local)
			a->nonstandard = true;
		return 0;
	}
	if (at + 1 == e) {
		a->domain_kind = RG_DOMAIN_EMPTY;
		a->routing |= RG_ROUTE_EMPTY_DOMAIN;
		a->nonstandard = true;
		return 0;
	}
	if (check_unquoted(lx, at + 1, e, "domain", err) != 0)
		return -1;
	return parse_domain(lx->in, at + 1, e, a->domain, sizeof(a->domain),
	    a->literal_addr, sizeof(a->literal_addr), &a->domain_kind,
	    &a->nonstandard, err);
}

/* Source route "@hop,@hop:" at the start of the path [s, e). */
static int parse_path(const struct lexed *lx, size_t s, size_t e,
    struct rg_address *a, struct rg_addr_error *err)
{
	size_t colon;

	if (!is_plain(lx, s, '@'))
		return parse_mailbox(lx, s, e, a, err);
	colon = find_plain(lx, s, e, ':');
	if (colon == e) {
		if (find_plain(lx, s, e, ',') != e)
			return fail(err, s, "source route without ':'");
		return parse_mailbox(lx, s, e, a, err);	/* "<@D>" */
	}
	if (parse_route(lx, s, colon, a, err) != 0)
		return -1;
	if (colon + 1 == e)
		return fail(err, colon + 1, "empty mailbox after source route");
	return parse_mailbox(lx, colon + 1, e, a, err);
}

int rg_address_parse(const char *input, struct rg_address *a,
    struct rg_addr_error *err)
{
	struct rg_addr_error scratch;	/* no static: the milter is threaded */
	struct lexed lx;
	size_t s, e, close, i;

	if (err == NULL)
		err = &scratch;
	memset(err, 0, sizeof(*err));
	if (a == NULL || input == NULL)
		return fail(err, 0, "no address");
	memset(a, 0, sizeof(*a));

	e = strnlen(input, RG_ADDR_MAX_INPUT + 1);
	if (e > RG_ADDR_MAX_INPUT)
		return fail(err, RG_ADDR_MAX_INPUT, "address longer than %d bytes",
		    RG_ADDR_MAX_INPUT);
	for (s = 0; s < e && (input[s] == ' ' || input[s] == '\t'); s++)
		;
	while (e > s && (input[e - 1] == ' ' || input[e - 1] == '\t'))
		e--;
	if (s == e)
		return fail(err, s, "empty address");

	lx.in = input;
	if (lex_path(&lx, s, e, err) != 0)
		return -1;

	if (is_plain(&lx, s, '<')) {
		a->bracketed = true;
		for (close = s + 1; close < e && !is_plain(&lx, close, '>'); close++)
			if (is_plain(&lx, close, '<'))
				return fail(err, close,
				    "unexpected '<' inside the address");
		if (close == e)
			return fail(err, s, "'<' without '>'");
		if (close + 1 != e)
			return fail(err, close + 1, "text after '>'");
		s++;
		e = close;
	} else {
		a->nonstandard = true;	/* RFC 5321 4.1.2: Path needs < > */
	}
	for (i = s; i < e; i++) {
		if (is_plain(&lx, i, '<'))
			return fail(err, i, "unexpected '<' inside the address");
		if (is_plain(&lx, i, '>'))
			return fail(err, i, "'>' without '<'");
		if (is_plain(&lx, i, ' '))
			return fail(err, i, "space outside a quoted string");
	}
	if (s == e) {
		a->null_path = true;
		return 0;
	}
	return parse_path(&lx, s, e, a, err);
}

const char *rg_address_routing_str(unsigned routing, char *buf, size_t len)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ RG_ROUTE_PERCENT, "percent" },
		{ RG_ROUTE_BANG, "bang" },
		{ RG_ROUTE_EXTRA_AT, "extra-at" },
		{ RG_ROUTE_SOURCE, "source-route" },
		{ RG_ROUTE_EMPTY_DOMAIN, "empty-domain" },
	};
	size_t used = 0, i;
	int n;

	if (buf == NULL || len == 0)
		return "";
	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((routing & names[i].bit) == 0)
			continue;
		n = snprintf(buf + used, len - used, "%s%s",
		    used > 0 ? "," : "", names[i].name);
		if (n < 0 || (size_t)n >= len - used) {
			buf[used] = '\0';	/* whole names only */
			break;
		}
		used += (size_t)n;
	}
	return buf;
}

bool rg_domain_matches(const char *domain, const char *pattern)
{
	size_t dlen, plen;
	bool subdomains;

	if (domain == NULL || pattern == NULL || domain[0] == '[' ||
	    pattern[0] == '[')
		return false;
	subdomains = pattern[0] == '.';
	if (subdomains)
		pattern++;
	dlen = strlen(domain);
	plen = strlen(pattern);
	if (dlen > 0 && domain[dlen - 1] == '.')
		dlen--;
	if (plen > 0 && pattern[plen - 1] == '.')
		plen--;
	if (dlen == 0 || plen == 0)
		return false;
	if (!subdomains)
		return dlen == plen && strncasecmp(domain, pattern, plen) == 0;
	return dlen > plen + 1 && domain[dlen - plen - 1] == '.' &&
	    strncasecmp(domain + dlen - plen, pattern, plen) == 0;
}

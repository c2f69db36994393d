/*
 * test_address.c - the RFC 5321 path parser against REFERENCE.md section 2
 * (every sender form A1..A9 and recipient trick B1..B14, IPv4 and IPv6
 * literal variants), plain valid addresses, and malformed input.
 *
 * Placeholders: D = victim.example, D2 = other.example, T = u, F = f,
 * IP = [192.0.2.1] / [IPv6:2001:db8::1], SRV = mx.site.example.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/mail/address.h"

#define PCT	RG_ROUTE_PERCENT
#define BANG	RG_ROUTE_BANG
#define XAT	RG_ROUTE_EXTRA_AT
#define SRC	RG_ROUTE_SOURCE
#define EMPTY	RG_ROUTE_EMPTY_DOMAIN

#define NAME	RG_DOMAIN_NAME
#define IPV4	RG_DOMAIN_IPV4
#define IPV6	RG_DOMAIN_IPV6
#define NONE	RG_DOMAIN_NONE
#define EMPTYD	RG_DOMAIN_EMPTY

#define S8	"abcdefgh"
#define S64	S8 S8 S8 S8 S8 S8 S8 S8
#define S63	S8 S8 S8 S8 S8 S8 S8 "abcdefg"
#define S62	S8 S8 S8 S8 S8 S8 S8 "abcdef"
#define DOM255	S63 "." S63 "." S63 "." S63

struct ok_case {
	const char *name;
	const char *input;
	const char *local;
	const char *domain;
	enum rg_domain_kind kind;
	unsigned routing;
	const char *literal;	/* NULL: "" */
	const char *route;	/* NULL: "" */
	bool bare;		/* no angle brackets */
	bool quoted;
	bool nonstd;
	bool null;
};

/* OK(name, input, local, domain, kind, routing, .literal/.route/flags...) */
#define OK(n, in, l, d, k, r, ...) { .name = n, .input = in, .local = l, \
	.domain = d, .kind = k, .routing = r, __VA_ARGS__ }

static const struct ok_case ok_cases[] = {
	/* Sender-side forms */
	OK("A1 other external domain", "<f@other.example>",
	  "f", "other.example", NAME, 0),
	OK("A2 null sender", "<>", "", "", NONE, 0, .null = true),
	OK("A3 unqualified sender", "<f>", "f", "", NONE, 0, .nonstd = true),
	OK("A4 sender at SRV", "<f@mx.site.example>",
	  "f", "mx.site.example", NAME, 0),
	OK("A5 sender at IPv4 literal", "<f@[192.0.2.1]>",
	  "f", "[192.0.2.1]", IPV4, 0, .literal = "192.0.2.1"),
	OK("A5 sender at IPv6 literal", "<f@[IPv6:2001:db8::1]>",
	  "f", "[ipv6:2001:db8::1]", IPV6, 0, .literal = "2001:db8::1"),
	OK("A6 localhost sender", "<f@localhost>", "f", "localhost", NAME, 0),
	OK("A6 root at loopback literal", "<root@[127.0.0.1]>",
	  "root", "[127.0.0.1]", IPV4, 0, .literal = "127.0.0.1"),
	OK("A7 postmaster at SRV", "<postmaster@mx.site.example>",
	  "postmaster", "mx.site.example", NAME, 0),
	OK("A7 mailer-daemon at SRV", "<mailer-daemon@mx.site.example>",
	  "mailer-daemon", "mx.site.example", NAME, 0),
	OK("A8 bang-path sender", "<other.example!f>",
	  "other.example!f", "", NONE, BANG, .nonstd = true),
	OK("A9 recipient without brackets", "u@victim.example",
	  "u", "victim.example", NAME, 0, .bare = true, .nonstd = true),
	OK("A9 with surrounding blanks", " \tu@victim.example  ",
	  "u", "victim.example", NAME, 0, .bare = true, .nonstd = true),
	OK("A9 percent hack without brackets", "u%victim.example@[192.0.2.1]",
	  "u%victim.example", "[192.0.2.1]", IPV4, PCT, .literal = "192.0.2.1",
	  .bare = true, .nonstd = true),

	/* Recipient routing tricks */
	OK("B1 percent hack at IPv4", "<u%victim.example@[192.0.2.1]>",
	  "u%victim.example", "[192.0.2.1]", IPV4, PCT, .literal = "192.0.2.1"),
	OK("B1 percent hack at IPv6", "<u%victim.example@[IPv6:2001:db8::1]>",
	  "u%victim.example", "[ipv6:2001:db8::1]", IPV6, PCT, .literal = "2001:db8::1"),
	OK("B2 percent hack at SRV", "<u%victim.example@mx.site.example>",
	  "u%victim.example", "mx.site.example", NAME, PCT),
	OK("B3 quoted T@D", "<\"u@victim.example\">",
	  "u@victim.example", "", NONE, XAT, .quoted = true, .nonstd = true),
	OK("B4 quoted T%D", "<\"u%victim.example\">",
	  "u%victim.example", "", NONE, PCT, .quoted = true, .nonstd = true),
	OK("B5 last @ at IPv4", "<u@victim.example@[192.0.2.1]>",
	  "u@victim.example", "[192.0.2.1]", IPV4, XAT, .literal = "192.0.2.1",
	  .nonstd = true),
	OK("B5 last @ at IPv6", "<u@victim.example@[IPv6:2001:db8::1]>",
	  "u@victim.example", "[ipv6:2001:db8::1]", IPV6, XAT, .literal = "2001:db8::1",
	  .nonstd = true),
	OK("B6 quoted T@D at IPv4", "<\"u@victim.example\"@[192.0.2.1]>",
	  "u@victim.example", "[192.0.2.1]", IPV4, XAT, .literal = "192.0.2.1",
	  .quoted = true),
	OK("B6 quoted T@D at IPv6", "<\"u@victim.example\"@[IPv6:2001:db8::1]>",
	  "u@victim.example", "[ipv6:2001:db8::1]", IPV6, XAT, .literal = "2001:db8::1",
	  .quoted = true),
	OK("B7 last @ at SRV", "<u@victim.example@mx.site.example>",
	  "u@victim.example", "mx.site.example", NAME, XAT, .nonstd = true),
	OK("B8 source route via IPv4", "<@[192.0.2.1]:u@victim.example>",
	  "u", "victim.example", NAME, SRC, .route = "@[192.0.2.1]"),
	OK("B8 source route via IPv6", "<@[IPv6:2001:db8::1]:u@victim.example>",
	  "u", "victim.example", NAME, SRC, .route = "@[IPv6:2001:db8::1]"),
	OK("B9 source route via SRV", "<@mx.site.example:u@victim.example>",
	  "u", "victim.example", NAME, SRC, .route = "@mx.site.example"),
	OK("B10 bang path", "<victim.example!u>",
	  "victim.example!u", "", NONE, BANG, .nonstd = true),
	OK("B11 bang path at IPv4", "<victim.example!u@[192.0.2.1]>",
	  "victim.example!u", "[192.0.2.1]", IPV4, BANG, .literal = "192.0.2.1"),
	OK("B11 bang path at IPv6", "<victim.example!u@[IPv6:2001:db8::1]>",
	  "victim.example!u", "[ipv6:2001:db8::1]", IPV6, BANG, .literal = "2001:db8::1"),
	OK("B12 bang path at SRV", "<victim.example!u@mx.site.example>",
	  "victim.example!u", "mx.site.example", NAME, BANG),
	OK("B13 empty trailing domain", "<u@victim.example@>",
	  "u@victim.example", "", EMPTYD, XAT | EMPTY, .nonstd = true),
	OK("B14 percent with empty domain", "<u%victim.example@>",
	  "u%victim.example", "", EMPTYD, PCT | EMPTY, .nonstd = true),

	/* DSBL repeats under other local names */
	OK("B1 at localhost", "<u%victim.example@localhost>",
	  "u%victim.example", "localhost", NAME, PCT),
	OK("B5 at loopback literal", "<u@victim.example@[127.0.0.1]>",
	  "u@victim.example", "[127.0.0.1]", IPV4, XAT, .literal = "127.0.0.1",
	  .nonstd = true),
	OK("B6 at SRV", "<\"u@victim.example\"@mx.site.example>",
	  "u@victim.example", "mx.site.example", NAME, XAT, .quoted = true),
	OK("Metasploit local delivery", "<u@[192.0.2.1]>",
	  "u", "[192.0.2.1]", IPV4, 0, .literal = "192.0.2.1"),

	/* Variants a lax tokenizer resolves the same way */
	OK("escaped @ outside quotes", "<u\\@victim.example@[192.0.2.1]>",
	  "u@victim.example", "[192.0.2.1]", IPV4, XAT, .literal = "192.0.2.1",
	  .nonstd = true),
	OK("quoted bang", "<\"victim.example!u\"@mx.site.example>",
	  "victim.example!u", "mx.site.example", NAME, BANG, .quoted = true),
	OK("every operator at once", "<@a.example:u%v!w@x@>",
	  "u%v!w@x", "", EMPTYD, PCT | BANG | XAT | SRC | EMPTY,
	  .route = "@a.example", .nonstd = true),
	OK("inner literal then domain", "<u@[192.0.2.1]@victim.example>",
	  "u@[192.0.2.1]", "victim.example", NAME, XAT, .nonstd = true),
	OK("route of two hops", "<@a.example,@[192.0.2.1]:user@dom.example>",
	  "user", "dom.example", NAME, SRC, .route = "@a.example,@[192.0.2.1]"),

	/* Plain valid addresses */
	OK("case folded domain", "<User@Example.ORG>",
	  "User", "example.org", NAME, 0),
	OK("trailing dot", "<u@example.org.>", "u", "example.org", NAME, 0),
	OK("blanks around brackets", "  <u@example.org>\t",
	  "u", "example.org", NAME, 0),
	OK("dot-atom local part", "<first.last+tag@sub.example.co.uk>",
	  "first.last+tag", "sub.example.co.uk", NAME, 0),
	OK("IPv6 literal canonicalised", "<u@[IPv6:2001:DB8:0:0:0:0:0:1]>",
	  "u", "[ipv6:2001:db8:0:0:0:0:0:1]", IPV6, 0, .literal = "2001:db8::1"),
	OK("IPv6 tag lowercase", "<u@[ipv6:::1]>",
	  "u", "[ipv6:::1]", IPV6, 0, .literal = "::1"),
	OK("IPv4-mapped IPv6 literal", "<u@[IPv6:::ffff:192.0.2.1]>",
	  "u", "[ipv6:::ffff:192.0.2.1]", IPV6, 0, .literal = "::ffff:192.0.2.1"),
	OK("quoted local part with spaces", "<\"john smith\"@example.org>",
	  "john smith", "example.org", NAME, 0, .quoted = true),
	OK("quoted-pairs", "<\"a\\\"b\\\\c\"@example.org>",
	  "a\"b\\c", "example.org", NAME, 0, .quoted = true),
	OK("postmaster unqualified", "<postmaster>",
	  "postmaster", "", NONE, 0),
	OK("Postmaster case", "<PostMaster>", "PostMaster", "", NONE, 0),
	OK("64-octet local part", "<" S64 "@example.org>",
	  S64, "example.org", NAME, 0),
	OK("63-octet label", "<u@" S63 ".example>",
	  "u", S63 ".example", NAME, 0),
	OK("255-octet domain", "<u@" DOM255 ">", "u", DOM255, NAME, 0),
	OK("255-octet domain plus dot", "<u@" DOM255 ".>", "u", DOM255, NAME, 0),
	OK("hyphen in label", "<u@mail-gw.example.org>",
	  "u", "mail-gw.example.org", NAME, 0),
	OK("SMTPUTF8 local and domain", "<j\xc3\xb6ran@B\xc3\xbc" "cher.example>",
	  "j\xc3\xb6ran", "b\xc3\xbc" "cher.example", NAME, 0, .nonstd = true),

	/* Parsed but flagged nonstandard */
	OK("underscore in label", "<u@my_host.example>",
	  "u", "my_host.example", NAME, 0, .nonstd = true),
	OK("leading hyphen label", "<u@-x.example>",
	  "u", "-x.example", NAME, 0, .nonstd = true),
	OK("all-numeric name", "<u@192.0.2.1>",
	  "u", "192.0.2.1", NAME, 0, .nonstd = true),
	OK("double dot in local", "<a..b@example.org>",
	  "a..b", "example.org", NAME, 0, .nonstd = true),
	OK("leading dot in local", "<.a@example.org>",
	  ".a", "example.org", NAME, 0, .nonstd = true),
	OK("two quoted words", "<\"u\".\"v\"@example.org>",
	  "u.v", "example.org", NAME, 0, .quoted = true, .nonstd = true),
	OK("quoted then atom", "<\"u\"v@example.org>",
	  "uv", "example.org", NAME, 0, .quoted = true, .nonstd = true),
	OK("quoted postmaster", "<\"postmaster\">",
	  "postmaster", "", NONE, 0, .quoted = true, .nonstd = true),
};

static void test_parse_ok(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
		const struct ok_case *c = &ok_cases[i];
		struct rg_address a;
		struct rg_addr_error err;
		int rc = rg_address_parse(c->input, &a, &err);

		if (rc != 0)
			fail_msg("%s: %s: error \"%s\" at %zu", c->name,
			    c->input, err.message, err.offset);
#define WANT(cond) do { if (!(cond)) fail_msg("%s: %s: %s", \
    c->name, c->input, #cond); } while (0)
		WANT(strcmp(a.local, c->local) == 0);
		WANT(strcmp(a.domain, c->domain) == 0);
		WANT(a.domain_kind == c->kind);
		WANT(a.routing == c->routing);
		WANT(strcmp(a.literal_addr, c->literal ? c->literal : "") == 0);
		WANT(strcmp(a.route, c->route ? c->route : "") == 0);
		WANT(a.bracketed == !c->bare);
		WANT(a.quoted_local == c->quoted);
		WANT(a.nonstandard == c->nonstd);
		WANT(a.null_path == c->null);
#undef WANT
	}
	print_message("# %zu valid addresses\n",
	    sizeof(ok_cases) / sizeof(ok_cases[0]));
}

struct bad_case {
	const char *name;
	const char *input;
	const char *message;	/* substring of err.message */
	long offset;		/* -1: not checked */
};

static const struct bad_case bad_cases[] = {
	{ "empty", "", "empty address", 0 },
	{ "blanks only", "  \t ", "empty address", 4 },
	{ "open bracket only", "<u@example.org", "'<' without '>'", 0 },
	{ "close bracket only", "u@example.org>", "'>' without '<'", 13 },
	{ "text after bracket", "<u@example.org>x", "text after '>'", 15 },
	{ "parameter left in", "<u@example.org> SIZE=1", "text after '>'", 15 },
	{ "double brackets", "<<u@example.org>>", "unexpected '<'", 1 },
	{ "space inside", "<u @example.org>", "space outside a quoted", 2 },
	{ "unterminated quote", "<\"u@example.org>", "unterminated quoted", 1 },
	{ "escaped closing quote", "<\"u\\\">", "unterminated quoted", 1 },
	{ "backslash at end", "u\\", "backslash at end", 1 },
	{ "CRLF injection", "<u@example.org\r\nRCPT TO:<v@x>>",
	  "control character 0x0d", 14 },
	{ "control in quotes", "<\"u\x01\"@example.org>", "control character", 3 },
	{ "tab inside", "<u\t@example.org>", "control character 0x09", 2 },
	{ "DEL", "<u\x7f@example.org>", "control character 0x7f", 2 },
	{ "latin-1 byte", "<u\xff@example.org>", "invalid UTF-8", 2 },
	{ "overlong dot", "<u@x\xc0\xae" "example>", "invalid UTF-8", 4 },
	{ "truncated UTF-8", "<u@example.org\xc3>", "invalid UTF-8", 14 },
	{ "UTF-16 surrogate", "<\xed\xa0\x80@example.org>", "invalid UTF-8", 1 },
	{ "empty local part", "<@example.org>", "empty local part", 1 },
	{ "empty quoted local part", "<\"\"@example.org>", "empty local part", 1 },
	{ "bare @", "@", "empty local part", 0 },
	{ "comment in local part", "<u(x)@example.org>", "invalid character '('", 2 },
	{ "comma in local part", "<u,v@example.org>", "invalid character ','", 2 },
	{ "65-octet local part", "<" S64 "a@example.org>", "local part longer than 64", 1 },
	{ "bad IPv4 literal", "<u@[192.0.2.256]>", "bad IPv4 address literal", 4 },
	{ "short IPv4 literal", "<u@[192.0.2]>", "bad IPv4 address literal", 4 },
	{ "leading zero IPv4", "<u@[192.0.2.01]>", "bad IPv4 address literal", 4 },
	{ "untagged IPv6", "<u@[2001:db8::1]>",
	  "IPv6 literal needs the IPv6: tag (RFC 5321 4.1.3)", 4 },
	{ "bad IPv6", "<u@[IPv6:2001:db8::g]>", "bad IPv6 address literal", 9 },
	{ "IPv4 in IPv6 tag", "<u@[IPv6:192.0.2.1]>", "bad IPv6 address literal", 9 },
	{ "IPv6 zone id", "<u@[IPv6:fe80::1%eth0]>", "bad IPv6 address literal", 9 },
	{ "general literal", "<u@[x400:c=us]>", "unsupported general address literal", 4 },
	{ "literal without ]", "<u@[192.0.2.1>", "address literal without ']'", 3 },
	{ "text after literal", "<u@[192.0.2.1]x>", "text after address literal", 14 },
	{ "empty literal", "<u@[]>", "empty address literal", 3 },
	{ "empty label", "<u@exa..mple.org>", "empty label", 7 },
	{ "leading dot domain", "<u@.example.org>", "empty label", 3 },
	{ "dot domain", "<u@.>", "empty label", 3 },
	{ "two trailing dots", "<u@example.org..>", "empty label", 15 },
	{ "bad domain char", "<u@exa$mple.org>", "invalid character '$' in domain", 6 },
	{ "comment in domain", "<u@example.org(x)>", "invalid character '('", 14 },
	{ "quoted domain", "<u@\"example\".org>", "quoted string or backslash in domain", 3 },
	{ "64-octet label", "<u@" S64 ".example>", "label longer than 63", 3 },
	{ "256-octet domain", "<u@a." S63 "." S63 "." S63 "." S62 ">",
	  "domain longer than 255", 3 },
	{ "route without colon", "<@a.example,@b.example>", "source route without ':'", 1 },
	{ "route empty hop", "<@a.example,,@b.example:u@d.example>", "empty hop", 12 },
	{ "route bare @ hop", "<@:u@d.example>", "empty hop", 1 },
	{ "route trailing comma", "<@a.example,:u@d.example>", "empty hop", 12 },
	{ "route hop without @", "<@a.example,b.example:u@d.example>",
	  "must start with '@'", 12 },
	{ "route bad hop", "<@a..example:u@d.example>", "empty label", 4 },
	{ "route empty mailbox", "<@a.example:>", "empty mailbox after source route", 12 },
};

static void test_parse_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct rg_address a;
		struct rg_addr_error err;

		if (rg_address_parse(c->input, &a, &err) != -1)
			fail_msg("%s: \"%s\" parsed", c->name, c->input);
		if (strstr(err.message, c->message) == NULL)
			fail_msg("%s: message \"%s\", want \"%s\"", c->name,
			    err.message, c->message);
		if (c->offset >= 0 && err.offset != (size_t)c->offset)
			fail_msg("%s: offset %zu, want %ld (%s)", c->name,
			    err.offset, c->offset, err.message);
	}
	print_message("# %zu malformed addresses\n",
	    sizeof(bad_cases) / sizeof(bad_cases[0]));
}

/* Lengths around RG_ADDR_MAX_INPUT, which a literal table cannot hold well. */
static void test_parse_limits(void **state)
{
	static const struct {
		const char *name;
		size_t len;
		const char *message;	/* NULL: parses */
	} cases[] = {
		{ "blanks up to the limit", RG_ADDR_MAX_INPUT, NULL },
		{ "one byte over the limit", RG_ADDR_MAX_INPUT + 1, "longer than 1024" },
		{ "a megabyte", 1 << 20, "longer than 1024" },
	};
	struct rg_address a;
	struct rg_addr_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *in = test_malloc(cases[i].len + 1);
		const char *addr = "<u@example.org>";
		int rc;

		memset(in, ' ', cases[i].len);
		memcpy(in, addr, strlen(addr));
		in[cases[i].len] = '\0';
		rc = rg_address_parse(in, &a, &err);
		if (cases[i].message == NULL) {
			if (rc != 0)
				fail_msg("%s: %s", cases[i].name, err.message);
		} else if (rc != -1 || strstr(err.message, cases[i].message) == NULL) {
			fail_msg("%s: rc %d \"%s\"", cases[i].name, rc, err.message);
		}
		test_free(in);
	}
	/* a source route that fills the input but not RG_ROUTE_MAX */
	{
		char in[RG_ADDR_MAX_INPUT + 1];
		size_t n = 1;

		in[0] = '<';
		while (n + 16 < 600) {
			memcpy(in + n, "@a.example,", 11);
			n += 11;
		}
		memcpy(in + n, "@b.example:u@d.example>", 24);
		assert_int_equal(rg_address_parse(in, &a, &err), -1);
		assert_non_null(strstr(err.message, "source route too long"));
	}
	assert_int_equal(rg_address_parse(NULL, &a, &err), -1);
	assert_int_equal(rg_address_parse("<u@x>", NULL, &err), -1);
	assert_int_equal(rg_address_parse("<u@x>", &a, NULL), 0);
	assert_int_equal(rg_address_parse("<u@@>", &a, NULL), 0);
}

static void test_routing_str(void **state)
{
	static const struct {
		unsigned routing;
		size_t len;
		const char *want;
	} cases[] = {
		{ 0, 64, "" },
		{ PCT, 64, "percent" },
		{ BANG | XAT, 64, "bang,extra-at" },
		{ PCT | BANG | XAT | SRC | EMPTY, 64,
		  "percent,bang,extra-at,source-route,empty-domain" },
		{ SRC | EMPTY, 64, "source-route,empty-domain" },
		{ PCT | BANG, 10, "percent" },	/* "percent,bang" does not fit */
		{ PCT, 3, "" },
		{ 1u << 20, 64, "" },
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = rg_address_routing_str(cases[i].routing, buf,
		    cases[i].len);

		assert_string_equal(got, cases[i].want);
	}
	assert_string_equal(rg_address_routing_str(PCT, buf, 0), "");
}

static void test_domain_matches(void **state)
{
	static const struct {
		const char *domain, *pattern;
		bool want;
	} cases[] = {
		{ "example.org", "example.org", true },
		{ "Example.ORG", "example.org", true },
		{ "example.org.", "example.org", true },
		{ "example.org", "EXAMPLE.org.", true },
		{ "mx.example.org", "example.org", false },
		{ "mx.example.org", ".example.org", true },
		{ "a.b.example.org", ".example.org", true },
		{ "example.org", ".example.org", false },
		{ "evilexample.org", ".example.org", false },
		{ "evilexample.org", "example.org", false },
		{ "example.org.evil", ".example.org", false },
		{ "example.org..", "example.org", false },
		{ "", "example.org", false },
		{ "example.org", "", false },
		{ "example.org", ".", false },
		{ ".", ".", false },
		{ "[192.0.2.1]", "[192.0.2.1]", false },
		{ "x.example.org", ".EXAMPLE.ORG", true },
		{ ".example.org", ".example.org", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (rg_domain_matches(cases[i].domain, cases[i].pattern) !=
		    cases[i].want)
			fail_msg("rg_domain_matches(\"%s\", \"%s\") != %d",
			    cases[i].domain, cases[i].pattern, cases[i].want);
	assert_false(rg_domain_matches(NULL, "x"));
	assert_false(rg_domain_matches("x", NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_routing_str),
		cmocka_unit_test(test_domain_matches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

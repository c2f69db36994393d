/* test_names.c - the set of names a target may treat as its own (names.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "audit.h"

static void test_parent_domain(void **state)
{
	static const struct { const char *name, *want; } cases[] = {
		{"mail.site.example", "site.example"},
		{"mx1.mail.site.example", "mail.site.example"},	/* one label up only */
		{"site.example", NULL},			/* never up to the TLD */
		{"mail.site.co.uk", "site.co.uk"},
		{"site.co.uk", NULL},			/* co.uk is a public suffix */
		{"mx.example.com", "example.com"},
		{"host.github.io", NULL},		/* github.io is a public suffix */
		{"localhost", NULL},
		{"[127.0.0.1]", NULL},
		{"", NULL},
		{"bad name.example.org", NULL},
	};
	char out[AUDIT_NAME_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = audit_parent_domain(cases[i].name, out, sizeof(out));

		if (got != (cases[i].want != NULL))
			fail_msg("%s: got %s", cases[i].name, got ? out : "(none)");
		if (got)
			assert_string_equal(out, cases[i].want);
	}
}

static void test_name_set(void **state)
{
	static const char *const ops[] = {"corp.example", "bad name!", "MX1.site.example"};
	static const struct {
		const char *what;
		struct audit_name_facts f;
		size_t max;
		const char *want;	/* space-separated, in order */
	} cases[] = {
		{"Postfix on loopback, banner = EHLO name",
		    {.ip_literal = "[127.0.0.1]", .banner_name = "mail.site.example",
		    .ehlo_name = "mail.site.example"}, AUDIT_NAMES_MAX,
		    "[127.0.0.1] mail.site.example site.example localhost"},
		{"everything known, duplicates once, lower case",
		    {.ip_literal = "[192.0.2.1]", .banner_name = "mx1.site.example",
		    .ehlo_name = "MX1.Site.Example", .mx_domain = "site.example",
		    .mx_host = "mx1.site.example", .ptr = "host-1.isp.example",
		    .operator_names = ops, .noperator = 3}, AUDIT_NAMES_MAX,
		    "[192.0.2.1] mx1.site.example corp.example site.example "
		    "isp.example host-1.isp.example localhost [127.0.0.1]"},
		{"IPv6 literal",
		    {.ip_literal = "[IPv6:2001:db8::1]", .banner_name = "mx.site.example"},
		    AUDIT_NAMES_MAX,
		    "[IPv6:2001:db8::1] mx.site.example site.example localhost [127.0.0.1]"},
		{"nothing but the literal",
		    {.ip_literal = "[192.0.2.7]"}, AUDIT_NAMES_MAX,
		    "[192.0.2.7] localhost [127.0.0.1]"},
		{"bounded",
		    {.ip_literal = "[192.0.2.1]", .banner_name = "a.b.example",
		    .ptr = "c.d.example"}, 3,
		    "[192.0.2.1] a.b.example b.example"},
		{"garbage names from the server are dropped",
		    {.ip_literal = "[192.0.2.1]", .banner_name = "-x.example",
		    .ehlo_name = "a\033[2J.example"}, AUDIT_NAMES_MAX,
		    "[192.0.2.1] localhost [127.0.0.1]"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char names[AUDIT_NAMES_MAX][AUDIT_NAME_MAX], got[2048] = "";
		size_t n = audit_name_set(&cases[i].f, names, cases[i].max);

		for (size_t k = 0; k < n; k++) {
			if (k)
				strcat(got, " ");
			strcat(got, names[k]);
		}
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s:\n got  %s\n want %s", cases[i].what, got, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parent_domain),
		cmocka_unit_test(test_name_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

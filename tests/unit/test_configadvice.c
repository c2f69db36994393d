/*
 * test_configadvice.c - rg_config_advise(): which valid configs draw which
 * warnings (relayguard-milter -t and the start log), table-driven.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "milter/policy/config.h"
#include "milter/policy/configadvice.h"

#include <stdio.h>
#include <string.h>

struct seen {
	char text[2048];
	int n;
};

/* "WHERE: TEXT" lines, as relayguard-milter -t prints them */
static void collect(const char *where, const char *text, void *ctx)
{
	struct seen *s = ctx;
	size_t used = strlen(s->text);

	s->n++;
	snprintf(s->text + used, sizeof(s->text) - used, "%s: %s\n", where,
	    text);
}

static void test_advice_table(void **state)
{
	static const struct {
		const char *conf;
		int as_root;
		int want;		/* number of warnings */
		const char *has;	/* substring of the warnings, or NULL */
	} cases[] = {
		/* a good site: no warning */
		{"LocalDomains site.example\nTrustedNetworks 127.0.0.0/8, ::1, 10.0.0.0/8, 2001:db8::/32\n"
		 "UserID nobody\n", 1, 0, NULL},
		{"LocalDomains site.example\n", 0, 0, NULL},
		/* TrustedNetworks too wide: the line of the item */
		{"LocalDomains site.example\nTrustedNetworks 0.0.0.0/0\n", 0, 1,
		 "t.conf:2: TrustedNetworks 0.0.0.0/0 lets every IPv4 client relay: this is an open relay"},
		{"TrustedNetworks 127.0.0.0/8\nLocalDomains site.example\n# x\n"
		 "TrustedNetworks ::1, 10.0.0.0/7\n", 0, 1,
		 "t.conf:4: TrustedNetworks 10.0.0.0/7 is wider"},
		{"LocalDomains site.example\nTrustedNetworks ::/0\n", 0, 1,
		 "TrustedNetworks ::/0 lets every IPv6 client relay"},
		{"LocalDomains site.example\nTrustedNetworks 10.0.0.0/7\n", 0, 1,
		 "TrustedNetworks 10.0.0.0/7 is wider than a /8"},
		{"LocalDomains site.example\nTrustedNetworks 2001:db8::/31\n", 0, 1,
		 "TrustedNetworks 2001:db8::/31 is wider than a /32"},
		{"LocalDomains site.example\nTrustedNetworks 0.0.0.0/1, 128.0.0.0/1\n", 0, 2,
		 "t.conf:2: TrustedNetworks 128.0.0.0/1"},
		/* enforce without domains: the Mode line, or the file for the default */
		{"Mode enforce\n", 0, 1, "t.conf:1: Mode enforce with neither LocalDomains nor RelayDomains"},
		{"LogVerbose no\n", 0, 1, "t.conf: Mode enforce with neither"},
		/* the Socket and SocketMode lines */
		{"LocalDomains a.example\n\nSocket inet:8894\n", 0, 1, "t.conf:3: Socket inet:8894 listens"},
		{"LocalDomains a.example\nSocket unix:/r/m.sock\nSocketMode 0666\n", 0, 1,
		 "t.conf:3: SocketMode 0666 lets every local user"},
		/* a public suffix: the line of the item */
		{"LocalDomains a.example\nLocalDomains b.example, .com\n", 0, 1,
		 "t.conf:2: LocalDomains .com: com is a public suffix"},
		{"Mode log-only\n", 0, 0, NULL},
		{"RelayDomains .backup.example\n", 0, 0, NULL},
		{"LocalDomains [192.0.2.1]\n", 0, 0, NULL},
		/* root without a usable UserID */
		{"LocalDomains site.example\n", 1, 1, "t.conf: started as root without UserID"},
		{"LocalDomains site.example\nUserID root\n", 1, 1, "t.conf:2: UserID root is root"},
		{"LocalDomains site.example\nUserID root\n", 0, 0, NULL},
		/* the same value twice (an --import appended twice): each second
		 * copy, with both lines */
		{"LocalDomains a.example, b.example\nTrustedNetworks 10.1.0.0/16\n"
		 "LocalDomains b.example\nTrustedNetworks 10.1.0.0/16\n", 0, 2,
		 "t.conf:4: TrustedNetworks 10.1.0.0/16 given again (first at line 2)"},
		{"LocalDomains a.example, A.example.\n", 0, 1,
		 "t.conf:1: LocalDomains a.example given again (first at line 1)"},
		{"LocalDomains a.example\nRelayDomains .r.example\nRelayDomains .r.example, r.example\n",
		 0, 1, "t.conf:3: RelayDomains .r.example given again (first at line 2)"},
		{"LocalDomains a.example\nRelayDomains a.example\n", 0, 0, NULL},
		/* all at once */
		{"TrustedNetworks 0.0.0.0/0\n", 1, 3, NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[RG_CONFIG_ERRLEN];
		struct rg_config *c = rg_config_parse_string(cases[i].conf,
		    "t.conf", err, sizeof(err));
		struct seen s = {.n = 0};
		int n;

		if (c == NULL)
			fail_msg("case %zu: %s", i, err);
		n = rg_config_advise(c, cases[i].as_root, collect, &s);
		if (n != cases[i].want || s.n != n)
			fail_msg("case %zu: %d warnings, want %d:\n%s", i, n,
			    cases[i].want, s.text);
		if (cases[i].has != NULL && strstr(s.text, cases[i].has) == NULL)
			fail_msg("case %zu: no '%s' in:\n%s", i, cases[i].has, s.text);
		rg_config_unref(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_advice_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

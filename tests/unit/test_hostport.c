/* test_hostport.c - the one "host[:port]" parser (hostport.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/base/hostport.h"

static void test_parse_table(void **state)
{
	static const struct {
		const char *spec;
		unsigned flags;
		const char *host;	/* NULL: an error is expected */
		int port, family;
		const char *err;	/* substring of the message */
	} cases[] = {
		{"mx.example", 0, "mx.example", 25, 0, NULL},
		{"mx.example:2525", 0, "mx.example", 2525, 0, NULL},
		{"MX_1.example-x", 0, "MX_1.example-x", 25, 0, NULL},
		{"192.0.2.1", 0, "192.0.2.1", 25, AF_INET, NULL},
		{"192.0.2.1:587", 0, "192.0.2.1", 587, AF_INET, NULL},
		{"[::1]:25", 0, "::1", 25, AF_INET6, NULL},
		{"[2001:db8::1]:2525", 0, "2001:db8::1", 2525, AF_INET6, NULL},
		{"[2001:db8::1]", 0, "2001:db8::1", 25, AF_INET6, NULL},
		{"::1", RG_HP_BARE_V6, "::1", 25, AF_INET6, NULL},
		{"2001:db8::53", RG_HP_BARE_V6 | RG_HP_NUMERIC, "2001:db8::53", 25, AF_INET6, NULL},
		{"127.0.0.1:65535", RG_HP_NUMERIC, "127.0.0.1", 65535, AF_INET, NULL},
		/* errors */
		{"", 0, NULL, 0, 0, "empty host"},
		{"::1", 0, NULL, 0, 0, "write IPv6 addresses as [addr]:port"},
		{"2001:db8::1:25", 0, NULL, 0, 0, "[addr]:port"},
		{"[::1", 0, NULL, 0, 0, "missing ']'"},
		{"[::1]x", 0, NULL, 0, 0, "junk after ']'"},
		{"[::1]:", 0, NULL, 0, 0, "bad port"},
		{"[]:25", 0, NULL, 0, 0, "bad IPv6 address"},
		{"[192.0.2.1]:25", 0, NULL, 0, 0, "bad IPv6 address"},
		{"[mx.example]", 0, NULL, 0, 0, "bad IPv6 address"},
		{"gg::zz", RG_HP_BARE_V6, NULL, 0, 0, "bad IPv6 address"},
		{"mx.example:0", 0, NULL, 0, 0, "bad port '0'"},
		{"mx.example:65536", 0, NULL, 0, 0, "bad port"},
		{"mx.example:", 0, NULL, 0, 0, "bad port"},
		{"mx.example:25x", 0, NULL, 0, 0, "bad port"},
		{"mx.example:-25", 0, NULL, 0, 0, "bad port"},
		{"mx.example: 25", 0, NULL, 0, 0, "bad port"},
		{":25", 0, NULL, 0, 0, "bad host"},
		{"mx example", 0, NULL, 0, 0, "bad character"},
		{"mx/24", 0, NULL, 0, 0, "bad character"},
		{"mx\x1b[2J", 0, NULL, 0, 0, "bad character"},
		{"ns.example:53", RG_HP_NUMERIC, NULL, 0, 0, "not an IP address"},
		{"192.0.2.1:25", RG_HP_NO_PORT, NULL, 0, 0, "no port expected"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rg_hostport hp;
		char err[300] = "";
		int rc = rg_hostport_parse(cases[i].spec, 25, cases[i].flags, &hp, err,
		    sizeof(err));

		if (cases[i].host) {
			if (rc != 0 || strcmp(hp.host, cases[i].host) != 0 ||
			    hp.port != cases[i].port || hp.family != cases[i].family)
				fail_msg("case %zu '%s': rc %d host '%s' port %d family %d (%s)",
				    i, cases[i].spec, rc, hp.host, hp.port, hp.family, err);
		} else if (rc != -1 || strstr(err, cases[i].err) == NULL) {
			fail_msg("case %zu '%s': rc %d, want error '%s', got '%s'", i,
			    cases[i].spec, rc, cases[i].err, err);
		}
	}
}

static void test_format(void **state)
{
	char buf[80];

	(void)state;
	assert_string_equal(rg_hostport_format("::1", 25, buf, sizeof(buf)), "[::1]:25");
	assert_string_equal(rg_hostport_format("192.0.2.1", 2525, buf, sizeof(buf)),
	    "192.0.2.1:2525");
	assert_string_equal(rg_hostport_format("mx.example", 25, buf, sizeof(buf)),
	    "mx.example:25");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

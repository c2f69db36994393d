/*
 * test_configshow.c - relayguard-milter -n / -d output (configshow.h): the
 * secret mask, table-driven, and that both outputs read back as the same
 * configuration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "milter/policy/config.h"
#include "milter/policy/configshow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_mask_table(void **state)
{
	static const struct {
		const char *value, *shown;
	} cases[] = {
		{"hunter2", "********"},
		{"", "********"},
		{"redis://rg:pw@127.0.0.1:6379/0", "redis://rg:********@127.0.0.1:6379/0"},
		/* '@' and '/' inside the password: the last '@' ends it */
		{"redis://rg:p@ss/w@127.0.0.1", "redis://rg:********@127.0.0.1"},
		/* a query may carry a secret too */
		{"https://u:pw@h.example/x?token=abc", "https://u:********@h.example/x?********"},
		/* no "user:password@": the secret is somewhere else, all masked */
		{"https://token@h.example/", "********"},
		{"https://h.example/?password=abc", "********"},
		{"not a url: but secret", "********"},
	};
	char buf[200];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = rg_config_mask(cases[i].value, buf, sizeof(buf));

		if (strcmp(got, cases[i].shown) != 0)
			fail_msg("case %zu: '%s' shown as '%s', want '%s'", i,
			    cases[i].value, got, cases[i].shown);
	}
}

/* The schema flag decides: a secret key is masked, any other shown. */
static void test_shown_by_flag(void **state)
{
	struct rg_conf_key secret = {.name = "SharedState", .type = RG_CONF_STRING,
	    .flags = RG_CONF_SECRET};
	struct rg_conf_key plain = {.name = "Socket", .type = RG_CONF_STRING};
	char buf[200];

	(void)state;
	assert_string_equal(rg_config_shown(&secret, "redis://a:b@h", buf,
	    sizeof(buf)), "redis://a:********@h");
	assert_string_equal(rg_config_shown(&plain, "redis://a:b@h", buf,
	    sizeof(buf)), "redis://a:b@h");
	/* the one key of today's schema that holds a secret (a password in
	 * its URL) is SharedState */
	for (size_t i = 0; i < rg_config_schema_count; i++)
		assert_int_equal((rg_config_schema[i].flags & RG_CONF_SECRET) != 0,
		    strcmp(rg_config_schema[i].name, "SharedState") == 0);
}

static char *shown(int (*fn)(const struct rg_config *, FILE *),
    const struct rg_config *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(c ? fn(c, f) : rg_config_show_defaults(f), 0);
	fclose(f);
	return text;
}

static void test_round_trip(void **state)
{
	static const char text[] =
	    "# comment\n"
	    "mode log-only\n"
	    "TrustedNetworks 127.0.0.0/8\n"
	    "LocalDomains a.example\n"
	    "  TrustedNetworks   ::1, 10.0.0.0/8  \n"
	    "Socket unix:/run/relayguard/milter.sock\n";
	char err[RG_CONFIG_ERRLEN];
	struct rg_config *c = rg_config_parse_string(text, "n.conf", err,
	    sizeof(err)), *again;
	char *n, *n2, *d;

	(void)state;
	assert_non_null(c);
	n = shown(rg_config_show_set, c);
	/* schema order, canonical key names, list lines joined */
	assert_string_equal(n,
	    "Socket unix:/run/relayguard/milter.sock\n"
	    "Mode log-only\n"
	    "TrustedNetworks 127.0.0.0/8, ::1, 10.0.0.0/8\n"
	    "LocalDomains a.example\n");
	again = rg_config_parse_string(n, "n2.conf", err, sizeof(err));
	assert_non_null(again);
	n2 = shown(rg_config_show_set, again);
	assert_string_equal(n, n2);
	rg_config_unref(again);
	rg_config_unref(c);

	/* -d reads back as a config that sets every key to its default:
	 * -n of it is -d without the unset comments */
	d = shown(NULL, NULL);
	assert_non_null(strstr(d, "Socket inet:8894@127.0.0.1\n"));
	assert_non_null(strstr(d, "# UserID (unset)\n"));
	assert_non_null(strstr(d, "\nLocalDomains\n"));
	c = rg_config_parse_string(d, "d.conf", err, sizeof(err));
	if (c == NULL)
		fail_msg("-d output does not parse: %s", err);
	assert_int_equal(c->trusted_networks.n, 2);
	rg_config_unref(c);
	free(n);
	free(n2);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mask_table),
		cmocka_unit_test(test_shown_by_flag),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

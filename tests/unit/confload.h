/*
 * confload.h - a milter configuration from a string for the unit tests;
 * a parse error fails the test with the parser's file:line message.
 * Include after <cmocka.h> and milter/policy/config.h.
 */
#ifndef RELAYGUARD_TEST_CONFLOAD_H
#define RELAYGUARD_TEST_CONFLOAD_H

static struct rg_config *load(const char *text)
{
	char err[RG_CONFIG_ERRLEN];
	struct rg_config *c = rg_config_parse_string(text, "test.conf", err,
	    sizeof(err));

	if (c == NULL)
		fail_msg("%s", err);
	return c;
}

#endif

/* test_options.c - relayguard-audit's option table (audit/options.c): the
 * defaults, the parser and the usage text all come from the one table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

static int parse(struct audit_opts *o, const char **action, int n, ...)
{
	static char *argv[32];
	va_list ap;

	argv[0] = (char *)"relayguard-audit";
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		argv[i + 1] = va_arg(ap, char *);
	va_end(ap);
	argv[n + 1] = NULL;
	optind = 0;	/* glibc: full reset between parses */
	return audit_options_parse(n + 1, argv, o, action);
}

static void test_defaults(void **state)
{
	struct audit_opts o;
	const char *action;

	(void)state;
	assert_int_equal(parse(&o, &action, 1, "mx.example"), 1);
	assert_null(action);
	assert_int_equal(o.port, 25);
	assert_string_equal(o.domain, "example.com");
	assert_string_equal(o.helo, "example.com");	/* defaults to --domain */
	assert_int_equal(o.starttls, STARTTLS_AUTO);
	assert_true(o.read_timeout == 30 && o.connect_timeout == 10 && o.budget == 300);
	assert_int_equal(o.errors_per_session, 10);
	assert_int_equal(o.data_probes, 3);
	assert_int_equal(o.format, FORMAT_TEXT);
	assert_int_equal(o.fields, FIELDS_RELAYGUARD);
	assert_int_equal(o.jobs, 4);
	assert_int_equal(o.per_host, 4);
	assert_true(o.rate == 0);
	assert_int_equal(o.shard_n, 0);
	assert_false(o.no_pipelining);
}

static void test_values(void **state)
{
	struct audit_opts o;
	const char *action;
	int first;

	(void)state;
	first = parse(&o, &action, 18, "-p", "2525", "--format", "jsonl", "--fields",
	    "intelmq", "--shard", "2/5", "-iL", "a.txt", "--input-file", "-",
	    "--concurrency", "300", "--per-host", "9", "--tls", "t1");
	assert_int_equal(first, 18);
	assert_int_equal(o.port, 2525);
	assert_true(o.port_given);
	assert_int_equal(o.format, FORMAT_JSONL);
	assert_int_equal(o.fields, FIELDS_INTELMQ);
	assert_int_equal(o.shard_i, 2);
	assert_int_equal(o.shard_n, 5);
	assert_int_equal(o.ninput_files, 2);
	assert_string_equal(o.input_files[0], "a.txt");
	assert_string_equal(o.input_files[1], "-");
	assert_int_equal(o.jobs, 300);
	assert_int_equal(o.per_host, 9);
	free(o.input_files);
	/* --tls without -p: port 465 */
	parse(&o, &action, 2, "--tls", "t1");
	assert_int_equal(o.port, 465);
	parse(&o, &action, 3, "-j", "7", "t1");
	assert_int_equal(o.jobs, 7);
	parse(&o, &action, 1, "--version");
	assert_string_equal(action, "version");
}

/* Every long option of the table appears in the usage text. */
static void test_usage_lists_every_option(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	static const char *const some[] = {"--port", "--per-host", "--shard", "--resume",
	    "--exclude", "--rate", "--fields", "--input-file", "--no-pipelining",
	    "--concurrency", "--local-name", "(default 25)", "(default 1)"};

	(void)state;
	audit_usage(f);
	fclose(f);
	for (size_t i = 0; i < sizeof(some) / sizeof(some[0]); i++)
		if (strstr(text, some[i]) == NULL)
			fail_msg("usage lacks %s", some[i]);
	free(text);
}

static void test_shard_partition(void **state)
{
	char key[64];
	unsigned seen[7] = {0};

	(void)state;
	for (int i = 0; i < 1000; i++) {
		unsigned owners = 0;

		snprintf(key, sizeof(key), "192.0.2.%d:%d", i % 250, 25 + i / 250);
		for (unsigned s = 0; s < 7; s++)
			if (audit_shard_keeps(key, s, 7)) {
				owners++;
				seen[s]++;
			}
		assert_int_equal(owners, 1);	/* exactly one share */
	}
	for (unsigned s = 0; s < 7; s++)
		assert_true(seen[s] > 100);	/* and they are balanced */
	assert_true(audit_shard_keeps("x:25", 0, 0));	/* no sharding: all */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_usage_lists_every_option),
		cmocka_unit_test(test_shard_partition),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

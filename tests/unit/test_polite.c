/* test_polite.c - how relayguard-audit reads a reply's delay (polite.c):
 * what is a tarpit's, and what says the server answers errors at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "audit.h"
#include "polite.h"

static void test_reply_delay(void **state)
{
	static const struct {
		double secs;
		int code;
		const char *path;	/* the MAIL/RCPT argument answered, or NULL */
		bool after_error;	/* an error reply came before in the session */
		bool late;		/* a tarpit's reply */
		bool timed;		/* the server's error timing is known */
	} cases[] = {
		{0.01, 554, "<relaytest@victim.example>", false, false, true},
		{0.01, 550, NULL, false, false, true},	/* RSET, NOOP */
		/* Courier: "554 Syntax error" to a bare path at once, and
		 * refusals 8 s late: the first says nothing of the second */
		{0.01, 554, "relaytest@victim.example", false, false, false},
		{0.01, 501, "", false, false, false},
		{8.0, 513, "<a%b@c>", false, true, true},
		{8.0, 554, "relaytest@victim.example", false, true, false},
		/* Courier's sleep after the fast 554 delays the next reply */
		{8.0, 250, NULL, true, true, false},
		{8.0, 250, "<a@b>", false, false, false},	/* slow, no error before */
		{1.0, 250, NULL, true, false, false},	/* below POLITE_TARPIT_MIN */
		{0.01, 250, "<a@b>", true, false, false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct audit_target *t = calloc(1, sizeof(*t));
		bool late;

		assert_non_null(t);
		late = polite_reply_delay(t, cases[i].secs, cases[i].code, cases[i].path,
		    cases[i].after_error);
		if (late != cases[i].late || t->polite.error_timed != cases[i].timed ||
		    polite_tarpit(t) != cases[i].late)
			fail_msg("case %zu (%d after %.2f s, %s): late %d timed %d tarpit %d", i,
			    cases[i].code, cases[i].secs, cases[i].path ? cases[i].path : "NULL",
			    late, t->polite.error_timed, polite_tarpit(t));
		free(t);
	}
}

/* The wait follows the slowest reply: each of Courier's doubles the last. */
static void test_reply_timeout(void **state)
{
	struct audit_target *t = calloc(1, sizeof(*t));

	(void)state;
	assert_non_null(t);
	t->polite.read_timeout = 10;
	assert_true(polite_reply_timeout(t) == 10);
	assert_true(polite_reply_delay(t, 8.0, 517, "<x@[127.0.0.1]>", false));
	assert_true(polite_reply_timeout(t) == 18);
	assert_true(polite_reply_delay(t, 16.0, 250, NULL, true));
	assert_true(polite_reply_timeout(t) == 34);
	assert_true(t->polite.tarpit_least == 8.0 && t->polite.tarpit_replies == 2);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_delay),
		cmocka_unit_test(test_reply_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

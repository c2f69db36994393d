/*
 * test_remedy.c - the remedy rows (audit/remedy.c) as data: every delete
 * pattern is a valid POSIX ERE, every verified MTA's configuration-file
 * patterns delete whole statements in that file's grammar, and the rows are
 * there for every verified MTA.
 *
 *   test_remedy                 the unit tests (cmocka)
 *   test_remedy --dump KIND     every row of KIND (postfix, sendmail, exim,
 *                               opensmtpd) as the JSON report's "remedy"
 *                               object, for tests/integration/620_remedy_statements.sh,
 *                               which applies each row to Debian's stock files
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "audit.h"

#include <regex.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	enum mta_kind mta;
	size_t min_steps;
} kinds[] = {
	{"postfix", MTA_POSTFIX, 7},
	{"sendmail", MTA_SENDMAIL, 6},
	{"exim", MTA_EXIM, 5},
	{"opensmtpd", MTA_OPENSMTPD, 4},
};

static void test_patterns_compile(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct remedy r;

		remedy_build_all(kinds[k].mta, &r);
		assert_true(r.verified);
		assert_true(r.nsteps >= kinds[k].min_steps);
		for (size_t i = 0; i < r.nsteps; i++)
			for (size_t j = 0; r.steps[i]->remove[j]; j++) {
				regex_t re;

				if (regcomp(&re, r.steps[i]->remove[j], REG_EXTENDED | REG_NOSUB) != 0)
					fail_msg("%s: bad ERE %s", kinds[k].name, r.steps[i]->remove[j]);
				regfree(&re);
			}
	}
}

/* The unit each file's patterns delete: a statement of that file's grammar,
 * never the first line of one alone. */
static void test_units_by_file(void **state)
{
	static const struct {
		enum mta_kind mta;
		const char *file;	/* substring of config_file */
		enum remedy_unit unit;
	} want[] = {
		{MTA_EXIM, "/etc/exim4/", REMEDY_UNIT_EXIM},
		{MTA_OPENSMTPD, "smtpd.conf", REMEDY_UNIT_SMTPD},
		{MTA_SENDMAIL, "sendmail.mc", REMEDY_UNIT_M4},
		{MTA_SENDMAIL, "/etc/mail/access", REMEDY_UNIT_LINE},
	};

	(void)state;
	for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
		struct remedy r;
		size_t seen = 0;

		remedy_build_all(want[w].mta, &r);
		for (size_t i = 0; i < r.nsteps; i++) {
			if (strstr(r.steps[i]->config_file, want[w].file) == NULL ||
			    r.steps[i]->remove[0] == NULL)
				continue;
			seen++;
			assert_int_equal(r.steps[i]->unit, want[w].unit);
		}
		assert_true(seen > 0);
	}
	assert_string_equal(remedy_unit_name(REMEDY_UNIT_EXIM), "exim-statement");
	assert_string_equal(remedy_unit_name(REMEDY_UNIT_LINE), "line");
}

/* The statement text the patterns are matched against has its leading
 * white space cut: a pattern must not need it. */
static void test_patterns_match_shown(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct remedy r;

		remedy_build_all(kinds[k].mta, &r);
		for (size_t i = 0; i < r.nsteps; i++) {
			const struct remedy_step *s = r.steps[i];

			for (size_t j = 0; s->shown[j]; j++) {
				bool any = false;

				for (size_t e = 0; s->remove[e]; e++) {
					regex_t re;

					assert_int_equal(regcomp(&re, s->remove[e], REG_EXTENDED | REG_NOSUB), 0);
					any |= regexec(&re, s->shown[j], 0, NULL, 0) == 0;
					regfree(&re);
				}
				if (!any)
					fail_msg("%s: no pattern deletes the example '%s'",
					    kinds[k].name, s->shown[j]);
			}
		}
	}
}

/* Postfix master.cf: which -o lines the rows of each hole delete. A
 * submission service's own list that ends in reject stays; so does the
 * service line itself. */
static void test_postfix_master_overrides(void **state)
{
	static const struct {
		enum rg_trick_class hole;
		const char *line;	/* leading white space cut, as matched */
		bool deleted;
	} cases[] = {
		{RG_CLASS_PLAIN, "-o mynetworks=127.0.0.0/8", true},
		{RG_CLASS_PLAIN, "-o { mynetworks_style = subnet }", true},
		{RG_CLASS_PLAIN, "-o smtpd_relay_restrictions=permit", true},
		{RG_CLASS_PLAIN, "-o smtpd_relay_restrictions=", true},
		{RG_CLASS_PLAIN, "-o smtpd_relay_restrictions=permit_mynetworks,"
		    "check_client_access,cidr:/etc/postfix/ok,reject_unauth_destination", true},
		{RG_CLASS_PLAIN, "-o smtpd_relay_restrictions=permit_sasl_authenticated,reject", false},
		{RG_CLASS_PLAIN, "-o smtpd_relay_restrictions=permit_mynetworks,"
		    "permit_sasl_authenticated,reject_unauth_destination", false},
		{RG_CLASS_PLAIN, "smtp inet n - y - - smtpd -o mynetworks=0.0.0.0/0", false},
		{RG_CLASS_PLAIN, "-o smtpd_tls_security_level=encrypt", false},
		{RG_CLASS_SENDER, "-o smtpd_relay_restrictions=permit_mynetworks,"
		    "check_sender_access,hash:/etc/postfix/s,reject_unauth_destination", true},
		{RG_CLASS_SENDER, "-o { smtpd_relay_restrictions = check_sender_mx_access "
		    "hash:/x, reject_unauth_destination }", true},
		{RG_CLASS_SENDER, "-o smtpd_relay_restrictions=permit_mynetworks,"
		    "check_helo_access,hash:/etc/postfix/h,reject_unauth_destination", false},
		{RG_CLASS_SENDER, "-o smtpd_sender_restrictions=check_sender_access,hash:/x", false},
		{RG_CLASS_IDENTITY, "-o smtpd_relay_restrictions=check_helo_access,"
		    "hash:/etc/postfix/h,reject_unauth_destination", true},
		{RG_CLASS_IDENTITY, "-o smtpd_relay_restrictions=permit_sasl_authenticated,reject", false},
	};
	struct remedy r;

	(void)state;
	remedy_build_all(MTA_POSTFIX, &r);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		bool hit = false;

		for (size_t i = 0; i < r.nsteps; i++) {
			if (r.steps[i]->hole != cases[c].hole ||
			    strstr(r.steps[i]->config_file, "master.cf") == NULL)
				continue;
			for (size_t e = 0; r.steps[i]->remove[e]; e++) {
				regex_t re;

				assert_int_equal(regcomp(&re, r.steps[i]->remove[e],
				    REG_EXTENDED | REG_NOSUB), 0);
				hit |= regexec(&re, cases[c].line, 0, NULL, 0) == 0;
				regfree(&re);
			}
		}
		if (hit != cases[c].deleted)
			fail_msg("%s: '%s' %s", rg_trick_class_name(cases[c].hole),
			    cases[c].line, hit ? "deleted" : "kept");
	}
}

static int dump(const char *name)
{
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct remedy r;
		json_t *j;
		int rc;

		if (strcmp(kinds[k].name, name) != 0)
			continue;
		remedy_build_all(kinds[k].mta, &r);
		j = json_object();
		json_object_set_new(j, "remedy", remedy_json_object(&r));
		rc = json_dumpf(j, stdout, JSON_INDENT(1));
		json_decref(j);
		if (rc != 0 || putchar('\n') == EOF || fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "test_remedy: cannot write the rows\n");
			return 1;
		}
		return 0;
	}
	fprintf(stderr, "test_remedy: --dump postfix|sendmail|exim|opensmtpd, not '%s'\n", name);
	return 2;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_patterns_compile),
		cmocka_unit_test(test_units_by_file),
		cmocka_unit_test(test_patterns_match_shown),
		cmocka_unit_test(test_postfix_master_overrides),
	};

	if (argc == 3 && strcmp(argv[1], "--dump") == 0)
		return dump(argv[2]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

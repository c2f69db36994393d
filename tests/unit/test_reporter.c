/* test_reporter.c - reporter profile (reporter.h) and clock evidence
 * (clockstate.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/base/clockstate.h"
#include "lib/mail/reporter.h"

static void test_every_key(void **state)
{
	static const char text[] =
	    "# reporter profile\n\n"
	    "Organisation = Example Corp. 情報システム部\n"
	    "  contactname=Hanako Yamada  \n"
	    "Email = security@site.example\n"
	    "Phone = +81-3-0000-0000\n"
	    "TimeZone = Asia/Tokyo\n"
	    "Role = csirt\n"
	    "TLP = green\n"
	    "Disclosure = no\n"
	    "Withhold = recipients, internal-hosts\n"
	    "Withhold = helo\n"
	    "InternalDomains = site.example, .corp.example\n"
	    "Language = ja\n"
	    "OwnAuditors = 192.0.2.10, 2001:db8:1::/64\n"
	    "ownauditors = 198.51.100.0/24\n";
	char err[400] = "";
	struct rg_reporter *r = rg_reporter_parse_string(text, "r.conf", err, sizeof(err));

	(void)state;
	assert_non_null(r);
	assert_true(r->identified);
	assert_string_equal(r->organisation, "Example Corp. 情報システム部");
	assert_string_equal(r->contact_name, "Hanako Yamada");
	assert_string_equal(r->email, "security@site.example");
	assert_string_equal(r->phone, "+81-3-0000-0000");
	assert_string_equal(r->timezone, "Asia/Tokyo");
	assert_int_equal(r->role, RG_ROLE_CSIRT);
	assert_string_equal(r->tlp, "green");
	assert_int_equal(r->disclosure, RG_DISCLOSE_NO);
	assert_int_equal(r->withhold, RG_WITHHOLD_RECIPIENTS | RG_WITHHOLD_INTERNAL_HOSTS |
	    RG_WITHHOLD_HELO);
	assert_string_equal(r->language, "ja");
	assert_true(rg_reporter_internal_host(r, "mail.site.example"));
	assert_true(rg_reporter_internal_host(r, "SITE.example."));
	assert_true(rg_reporter_internal_host(r, "a.b.corp.example"));
	assert_false(rg_reporter_internal_host(r, "notsite.example"));
	assert_false(rg_reporter_internal_host(r, "victim.example"));
	assert_string_equal(rg_reporter_name(r), "Example Corp. 情報システム部");
	/* OwnAuditors: addresses and networks, repeatable */
	assert_true(rg_reporter_own_auditor(r, "192.0.2.10"));
	assert_false(rg_reporter_own_auditor(r, "192.0.2.11"));
	assert_true(rg_reporter_own_auditor(r, "2001:db8:1::25"));
	assert_true(rg_reporter_own_auditor(r, "198.51.100.200"));
	assert_true(rg_reporter_own_auditor(r, "::ffff:198.51.100.7"));
	assert_false(rg_reporter_own_auditor(r, "2001:db8:2::1"));
	assert_false(rg_reporter_own_auditor(r, "not-an-address"));
	rg_reporter_free(r);
}

static void test_unidentified(void **state)
{
	struct rg_reporter *r = rg_reporter_unidentified();
	char err[400];

	(void)state;
	assert_false(r->identified);
	assert_string_equal(r->tlp, "amber");
	assert_int_equal(r->disclosure, RG_DISCLOSE_ASK);
	assert_string_equal(rg_reporter_name(r), "reporter not identified");
	assert_false(rg_reporter_internal_host(r, "x.example"));
	rg_reporter_free(r);
	/* no --reporter, a config directory without reporter.conf */
	r = rg_reporter_find(NULL, "/nonexistent-dir/relayguard.conf", err, sizeof(err));
	assert_non_null(r);
	rg_reporter_free(r);
	assert_null(rg_reporter_find("/nonexistent-dir/reporter.conf", NULL, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent-dir/reporter.conf: cannot open"));
}

static void test_found_beside_config(void **state)
{
	char dir[] = "/tmp/rg-reporter.XXXXXX", path[200], conf[200], err[400];
	struct rg_reporter *r;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/reporter.conf", dir);
	snprintf(conf, sizeof(conf), "%s/relayguard.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("Organisation = Beside the config\n", f);
	fclose(f);
	r = rg_reporter_find(NULL, conf, err, sizeof(err));
	assert_non_null(r);
	assert_true(r->identified);
	assert_string_equal(rg_reporter_name(r), "Beside the config");
	rg_reporter_free(r);
	unlink(path);
	rmdir(dir);
}

static void test_errors(void **state)
{
	static const struct { const char *text, *want; } cases[] = {
		{"Organisation\n", "bad.conf:1: expected \"Key = value\""},
		{"# c\nColour = blue\n", "bad.conf:2: unknown key 'Colour'"},
		{"Email = not-an-address\n", "bad.conf:1: Email: 'not-an-address' is not an e-mail address"},
		{"Email = a@b@c\n", "bad.conf:1: Email: 'a@b@c' is not"},
		{"Phone = call me\n", "bad.conf:1: Phone: 'call me' is not a telephone number"},
		{"TimeZone = Mars/Olympus\n", "bad.conf:1: TimeZone: unknown time zone 'Mars/Olympus'"},
		{"TimeZone = ../../etc/passwd\n", "bad.conf:1: TimeZone: '../../etc/passwd' is not a time zone name"},
		{"Role = boss\n", "bad.conf:1: Role: 'boss' is not site or csirt"},
		{"TLP = purple\n", "bad.conf:1: TLP: 'purple' is not a TLP level"},
		{"Disclosure = maybe\n", "bad.conf:1: Disclosure: 'maybe' is not yes, ask or no"},
		{"Withhold = recipients, secrets\n", "bad.conf:1: Withhold: 'secrets' is not one of"},
		{"InternalDomains = ok.example, bad_domain!\n", "bad.conf:1: InternalDomains: 'bad_domain!' is not a domain name"},
		{"Language = fr\n", "bad.conf:1: Language: 'fr' is not en or ja"},
		{"OwnAuditors = 192.0.2.1, mail.site.example\n", "bad.conf:1: OwnAuditors: 'mail.site.example'"},
		{"OwnAuditors = 192.0.2.0/33\n", "bad.conf:1: OwnAuditors: '192.0.2.0/33'"},
		{"Email = a@b.example\nEmail = c@d.example\n", "bad.conf:2: Email given twice"},
		{"Organisation =   \n", "bad.conf:1: Organisation: empty value"},
		{"Organisation = a\x01z\n", "bad.conf:1: Organisation: control character"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[400] = "";
		struct rg_reporter *r = rg_reporter_parse_string(cases[i].text, "bad.conf",
		    err, sizeof(err));

		if (r != NULL || strstr(err, cases[i].want) == NULL)
			fail_msg("case %zu: want \"%s\", got \"%s\"", i, cases[i].want,
			    r ? "(parsed)" : err);
	}
}

static void test_clock_zone(void **state)
{
	struct rg_clock c;
	char line[200];

	(void)state;
	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	rg_clock_read(&c);
	assert_string_equal(c.utc_offset, "+09:00");
	assert_string_equal(c.zone_abbr, "JST");
	assert_string_equal(c.zone_name, "Asia/Tokyo");
	assert_string_equal(rg_clock_zone_line(&c, line, sizeof(line)),
	    "times are JST (Asia/Tokyo, UTC+09:00)");
	/* ntp_adjtime read-only works unprivileged; whatever the state, the
	 * sentence says it */
	assert_true(c.known);
	rg_clock_describe(&c, line, sizeof(line));
	assert_non_null(strstr(line, c.synced ? "clock synchronised" :
	    "clock NOT known to be synchronised"));
	setenv("TZ", "UTC", 1);
	tzset();
	rg_clock_read(&c);
	assert_string_equal(c.utc_offset, "+00:00");
	assert_string_equal(rg_clock_zone_line(&c, line, sizeof(line)),
	    "times are UTC (UTC+00:00)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_unidentified),
		cmocka_unit_test(test_found_beside_config),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_clock_zone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_spf.c - the pure parts of spf.h: the record safety check that stands
 * before libspf2 (CVE-2023-42118), result names, input checks that need no
 * DNS. SPF evaluations against a real DNS server on loopback are in
 * tests/integration/410_dns_lookups.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lib/mail/spf.h"

static void test_text_safe(void **state)
{
	static const struct {
		const char *txt;
		bool want;
	} cases[] = {
		{"v=spf1 -all", true},
		{"v=spf1 ip4:192.0.2.0/24 include:_spf.example.org ~all", true},
		{"v=spf1 exists:%{i}._spf.%{d} -all", true},
		{"v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d2} -all", true},
		{"v=spf1 include:%{i}._ip.%{h}._ehlo.%{d}._spf.vali.example ~all", true},
		{"%{i} is not one of %{d}'s designated mail servers", true},
		{"100%% sure%_with%-escapes", true},
		{"v=spf1 exists:%{d128}.example -all", true},
		{"v=spf1 exists:%{l99999999999r}.example -all", false},	/* digits */
		{"v=spf1 exists:%{d129}.example -all", false},	/* > 128 */
		{"v=spf1 exists:%{d0}.example -all", false},	/* zero */
		{"v=spf1 exists:%{d1234}.example -all", false},
		{"v=spf1 exists:%{x}.example -all", false},	/* unknown letter */
		{"v=spf1 exists:%{d.example -all", false},	/* unterminated */
		{"v=spf1 exists:%{}.example -all", false},
		{"v=spf1 exists:%{d2r........}.example -all", false},	/* delimiters */
		{"v=spf1 exists:%{d2r@}.example -all", false},	/* bad delimiter */
		{"v=spf1 exists:%x -all", false},		/* bad escape */
		{"v=spf1 -all %", false},			/* trailing % */
		{"v=spf1 \x01 -all", false},			/* control byte */
		{"v=spf1 caf\xc3\xa9 -all", false},		/* not US-ASCII */
		{"", true},
	};
	char big[3000];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (rg_spf_text_safe(cases[i].txt) != cases[i].want)
			fail_msg("case %zu '%s': want %d", i, cases[i].txt, cases[i].want);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(rg_spf_text_safe(big));		/* longer than 2048 */
	big[2048] = '\0';
	assert_true(rg_spf_text_safe(big));
}

static void test_result_names(void **state)
{
	static const char *const want[] = {"none", "neutral", "pass", "fail", "softfail",
	    "temperror", "permerror"};

	(void)state;
	for (int i = RG_SPF_NONE; i <= RG_SPF_PERMERROR; i++)
		assert_string_equal(rg_spf_result_name((enum rg_spf_res)i), want[i]);
}

/* Checks that end before any DNS query: the resolver points at the discard
 * port of loopback and the hold-down is off; nothing may be sent. */
static void test_bad_input(void **state)
{
	struct rg_dns_opts o = RG_DNS_OPTS_DEFAULT;
	char err[200];
	struct rg_dns *dns;
	struct rg_spf *spf;
	struct rg_spf_result r;
	struct rg_dns_stats st;

	(void)state;
	o.nameservers = "127.0.0.1:9";
	o.timeout = 0.2;
	o.retries = 0;
	dns = rg_dns_new(&o, err, sizeof(err));
	assert_non_null(dns);
	spf = rg_spf_new(dns, "mx.receiver.test");
	assert_int_equal(rg_spf_check(spf, NULL, "helo.test", "a@b.test", &r), RG_SPF_NONE);
	assert_int_equal(rg_spf_check(spf, "192.0.2.300", "helo.test", "a@b.test", &r),
	    RG_SPF_NONE);
	assert_int_equal(rg_spf_check(spf, "192.0.2.1", "helo.test", "no-at-sign", &r),
	    RG_SPF_NONE);
	assert_int_equal(rg_spf_check(spf, "192.0.2.1", "helo.test", "a@bad..domain", &r),
	    RG_SPF_NONE);
	assert_int_equal(rg_spf_check(spf, "192.0.2.1", "helo.test",
	    "<a\r\nX-Injected: 1@b.test>", &r), RG_SPF_NONE);
	assert_null(strchr(r.received_spf, '\n'));
	assert_null(strchr(r.explanation, '\r'));
	/* <> with an unusable HELO: nothing to check */
	assert_int_equal(rg_spf_check(spf, "192.0.2.1", "not a name", "<>", &r), RG_SPF_NONE);
	assert_string_equal(r.identity, "helo");
	rg_dns_stats(dns, &st);
	assert_int_equal(st.queries, 0);
	rg_spf_free(spf);
	rg_dns_free(dns);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_safe),
		cmocka_unit_test(test_result_names),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests_name("spf", tests, NULL, NULL);
}

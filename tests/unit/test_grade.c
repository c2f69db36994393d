/* test_grade.c - reply grading and the verdict rules of relayguard-audit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "audit.h"

static void test_grade_reply(void **state)
{
	static const struct {
		int code;
		const char *enh;
		bool tls_in_clear;
		enum outcome want;
	} cases[] = {
		{250, "2.1.5", false, OUT_ACCEPTED},
		{251, "", false, OUT_ACCEPTED},
		{354, "", false, OUT_ACCEPTED},
		{450, "4.7.1", false, OUT_TEMPFAIL},	/* greylisting */
		{421, "4.7.0", false, OUT_TEMPFAIL},
		{454, "4.7.1", false, OUT_TEMPFAIL},	/* defer_unauth_destination */
		{554, "5.7.1", false, OUT_REJECTED},	/* Postfix relay access denied */
		{550, "5.7.1", false, OUT_REJECTED},	/* sendmail relaying denied */
		{550, "", false, OUT_REJECTED},
		{530, "5.7.0", true, OUT_TLS_REQUIRED},	/* RFC 3207 */
		{530, "", true, OUT_TLS_REQUIRED},
		{530, "5.7.0", false, OUT_AUTH_REQUIRED},	/* RFC 4954 */
		{530, "5.7.1", true, OUT_AUTH_REQUIRED},	/* Exchange */
		{550, "5.7.57", true, OUT_AUTH_REQUIRED},
		{538, "5.7.11", false, OUT_TLS_REQUIRED},
		{554, "5.7.10", false, OUT_TLS_REQUIRED},
		{199, "", false, OUT_ERROR},
		{600, "", false, OUT_ERROR},
		{0, "", false, OUT_ERROR},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum outcome got = grade_reply(cases[i].code, cases[i].enh,
		    cases[i].tls_in_clear);

		if (got != cases[i].want)
			fail_msg("%d %s tls=%d: got %s want %s", cases[i].code, cases[i].enh,
			    cases[i].tls_in_clear, outcome_name(got),
			    outcome_name(cases[i].want));
	}
}

/* A target with C1, C2 and three relay probes, outcomes given as letters:
 * a accepted, r rejected, t tempfail, x error, n not run, l tls_required;
 * data: '-' not tried, 'y' taken (354), 'n' refused. */
static void make_target(struct audit_target *t, const char *outcomes, const char *data)
{
	static const char *const ids[] = {"C1", "C2", "A1", "B1", "B5"};

	memset(t, 0, sizeof(*t));
	t->sessions = 1;
	strcpy(t->banner, "220 mx ESMTP");
	t->nprobes = 5;
	t->probes = calloc(5, sizeof(*t->probes));
	for (size_t i = 0; i < 5; i++) {
		struct audit_probe *p = &t->probes[i];

		p->spec.trick = rg_trick_find(ids[i]);
		strcpy(p->spec.id, ids[i]);
		switch (outcomes[i]) {
		case 'a': p->outcome = OUT_ACCEPTED; break;
		case 'r': p->outcome = OUT_REJECTED; break;
		case 't': p->outcome = OUT_TEMPFAIL; break;
		case 'l': p->outcome = OUT_TLS_REQUIRED; break;
		case 'x': p->outcome = OUT_ERROR; break;
		default: p->outcome = OUT_NOT_RUN; break;
		}
		p->data = data[i] == 'y' ? DATA_TAKEN : data[i] == 'n' ? DATA_REFUSED :
		    DATA_NOT_TRIED;
	}
}

static void test_verdicts(void **state)
{
	static const struct {
		const char *name, *outcomes, *data;
		int sessions;
		enum verdict want;
	} cases[] = {
		{"closed Postfix", "arrrr", "-----", 1, VERDICT_CLOSED},
		{"open Postfix accepts the bogus control too, takes DATA",
		    "aaaaa", "--y--", 1, VERDICT_OPEN_RELAY},
		{"relay that verifies recipients", "araaa", "-----", 1, VERDICT_OPEN_RELAY},
		{"accept-all sink: DATA refused", "aaaaa", "--nnn", 1, VERDICT_ACCEPT_ALL},
		{"accepts all, DATA untested", "aaaaa", "-----", 1, VERDICT_INCONCLUSIVE},
		{"greylisting", "atttt", "-----", 1, VERDICT_INCONCLUSIVE},
		{"TLS demanded", "lllll", "-----", 1, VERDICT_INCONCLUSIVE},
		{"partly refused, partly errors", "arrrx", "-----", 1, VERDICT_INCONCLUSIVE},
		{"one trick passes among refusals", "arrar", "---y-", 1, VERDICT_OPEN_RELAY},
		{"no session", "nnnnn", "-----", 0, VERDICT_UNREACHABLE},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct audit_target t;

		make_target(&t, cases[i].outcomes, cases[i].data);
		t.sessions = cases[i].sessions;
		grade_verdict(&t);
		if (t.verdict != cases[i].want)
			fail_msg("%s: got %s want %s (%s)", cases[i].name,
			    verdict_name(t.verdict), verdict_name(cases[i].want),
			    t.verdict_reason);
		assert_true(strlen(t.verdict_reason) > 10);
		free(t.probes);
	}
}

static void test_exit_codes(void **state)
{
	(void)state;
	assert_int_equal(verdict_exit_code(VERDICT_CLOSED), 0);
	assert_int_equal(verdict_exit_code(VERDICT_ACCEPT_ALL), 1);
	assert_int_equal(verdict_exit_code(VERDICT_INCONCLUSIVE), 1);
	assert_int_equal(verdict_exit_code(VERDICT_OPEN_RELAY), 2);
	assert_int_equal(verdict_exit_code(VERDICT_UNREACHABLE), 3);
}

static void test_fingerprint(void **state)
{
	static const struct { const char *banner, *ehlo; enum mta_kind want; } cases[] = {
		{"220 mail.site.example ESMTP Postfix (Debian/GNU)", "", MTA_POSTFIX},
		{"220 mx.example.org ESMTP Sendmail 8.17.1.9/8.17.1.9; Sat, 21 Nov 2026",
		    "", MTA_SENDMAIL},
		{"220 mx ESMTP Exim 4.96 Sat, 21 Nov 2026 09:00:00 +0000", "", MTA_EXIM},
		{"220 mx ESMTP OpenSMTPD", "", MTA_OPENSMTPD},
		{"220 EX01.corp.example Microsoft ESMTP MAIL Service ready", "", MTA_EXCHANGE},
		{"220 mx.example.org ESMTP", "", MTA_UNKNOWN},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(mta_fingerprint(cases[i].banner, cases[i].ehlo),
		    cases[i].want);
}

static void test_remedy_names_the_fix(void **state)
{
	struct audit_target t;
	char *fix;

	(void)state;
	make_target(&t, "aaarr", "--y--");
	t.mta = MTA_POSTFIX;
	fix = mta_remedy_string(&t);
	assert_non_null(strstr(fix, "mynetworks ="));
	assert_non_null(strstr(fix, "reject_unauth_destination"));
	free(fix);
	t.mta = MTA_SENDMAIL;
	fix = mta_remedy_string(&t);
	assert_non_null(strstr(fix, "promiscuous_relay"));
	free(fix);
	free(t.probes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grade_reply),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_remedy_names_the_fix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

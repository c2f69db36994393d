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

/* A target with C1, C2 and four relay probes (A1 plain, B1 and B5 routing,
 * A5 sender-side), outcomes given as letters: a accepted, r rejected,
 * t tempfail, x error, n not run, l tls_required, u untested (MAIL refused),
 * h untested (HELO refused); data: '-' not tried, 'y' taken (354),
 * 'n' refused. */
#define NPROBES 6
static void make_target(struct audit_target *t, const char *outcomes, const char *data)
{
	static const char *const ids[NPROBES] = {"C1", "C2", "A1", "B1", "B5", "A5"};

	memset(t, 0, sizeof(*t));
	t->sessions = 1;
	strcpy(t->banner, "220 mx ESMTP");
	t->nprobes = NPROBES;
	t->probes = calloc(NPROBES, sizeof(*t->probes));
	for (size_t i = 0; i < NPROBES; i++) {
		struct audit_probe *p = &t->probes[i];

		p->spec.trick = rg_trick_find(ids[i]);
		strcpy(p->spec.id, ids[i]);
		strcpy(p->spec.mail_from, i == 3 || i == 4 || i == 5 ?
		    "<relaytest@[192.0.2.1]>" : "<relaytest@victim.example>");
		p->stage = "rcpt";
		switch (outcomes[i]) {
		case 'a': p->outcome = OUT_ACCEPTED; break;
		case 'r': p->outcome = OUT_REJECTED; break;
		case 't': p->outcome = OUT_TEMPFAIL; break;
		case 'l': p->outcome = OUT_TLS_REQUIRED; break;
		case 'x': p->outcome = OUT_ERROR; break;
		case 'u': p->outcome = OUT_UNTESTED; p->stage = "mail"; break;
		case 'h': p->outcome = OUT_UNTESTED; p->stage = "helo"; break;
		default: p->outcome = OUT_NOT_RUN; p->stage = NULL; break;
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
		int untested, relevant;
	} cases[] = {
		{"closed Postfix", "arrrrr", "------", 1, VERDICT_CLOSED, 0, 0},
		{"open Postfix accepts the bogus control too, takes DATA",
		    "aaaaaa", "--y---", 1, VERDICT_OPEN_RELAY, 0, 0},
		{"relay that verifies recipients", "araaaa", "------", 1, VERDICT_OPEN_RELAY, 0, 0},
		{"accept-all sink: DATA refused", "aaaaaa", "--nnnn", 1, VERDICT_ACCEPT_ALL, 0, 0},
		{"accepts all, DATA untested", "aaaaaa", "------", 1, VERDICT_INCONCLUSIVE, 0, 0},
		{"greylisting", "attttt", "------", 1, VERDICT_INCONCLUSIVE, 4, 4},
		{"TLS demanded", "llllll", "------", 1, VERDICT_INCONCLUSIVE, 4, 4},
		{"partly refused, partly errors", "arrrxr", "------", 1, VERDICT_INCONCLUSIVE, 1, 1},
		{"one trick passes among refusals", "arrarr", "---y--", 1, VERDICT_OPEN_RELAY, 0, 0},
		{"no session", "nnnnnn", "------", 0, VERDICT_UNREACHABLE, 4, 4},
		/* issue 10 finding 1: Exim refuses the <F@[IP]> sender of the
		 * routing tricks at MAIL: never "refused", never "closed" */
		{"routing tricks refused at MAIL (Exim 501): untested",
		    "arruur", "------", 1, VERDICT_INCONCLUSIVE, 2, 2},
		{"every relay probe refused at MAIL", "aruuuu", "------", 1,
		    VERDICT_INCONCLUSIVE, 4, 3},
		{"plain relay sender refused at MAIL: untested", "arurrr", "------", 1,
		    VERDICT_INCONCLUSIVE, 1, 1},
		/* a sender-side trick whose own sender is refused cannot relay */
		{"sender-side trick's sender refused at MAIL: closed", "arrrru",
		    "------", 1, VERDICT_CLOSED, 1, 0},
		{"identity refused at HELO: untested", "arrrhr", "------", 1,
		    VERDICT_INCONCLUSIVE, 1, 1},
		{"routing accepted after a retry, others untested", "arrauu", "---y--", 1,
		    VERDICT_OPEN_RELAY, 2, 1},
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
		if ((int)t.n_untested != cases[i].untested ||
		    (int)t.n_untested_relevant != cases[i].relevant)
			fail_msg("%s: untested %zu (relevant %zu), want %d (%d)",
			    cases[i].name, t.n_untested, t.n_untested_relevant,
			    cases[i].untested, cases[i].relevant);
		assert_true(strlen(t.verdict_reason) > 10);
		if (t.verdict == VERDICT_CLOSED)
			assert_null(strstr(t.verdict_reason, "all 4 relay probes were refused"));
		free(t.probes);
	}
}

/* A 5xx to HELO or MAIL leaves the trick untested; 4xx and 530 keep their
 * meaning; RCPT grading (grade_reply) is unchanged. */
static void test_grade_pre_rcpt(void **state)
{
	static const struct { int code; const char *enh; bool tls; enum outcome want; } cases[] = {
		{501, "5.1.3", false, OUT_UNTESTED},	/* Exim: domain literals not allowed */
		{553, "5.5.4", false, OUT_UNTESTED},	/* sendmail: real domain name required */
		{503, "5.5.1", false, OUT_UNTESTED},	/* OpenSMTPD: already identified */
		{550, "", false, OUT_UNTESTED},
		{450, "4.1.8", false, OUT_TEMPFAIL},
		{530, "5.7.0", true, OUT_TLS_REQUIRED},
		{530, "5.7.0", false, OUT_AUTH_REQUIRED},
		{250, "2.1.0", false, OUT_ACCEPTED},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (grade_pre_rcpt(cases[i].code, cases[i].enh, cases[i].tls) != cases[i].want)
			fail_msg("%d %s: got %s", cases[i].code, cases[i].enh,
			    outcome_name(grade_pre_rcpt(cases[i].code, cases[i].enh,
			    cases[i].tls)));
}

/* Which probes are retried with the baseline sender. */
static void test_retry_plan(void **state)
{
	static const struct {
		const char *id, *stage, *from, *baseline;
		enum outcome outcome;
		bool retried, want;
	} cases[] = {
		{"B1", "mail", "<r@[192.0.2.1]>", "<r@victim.example>", OUT_UNTESTED, false, true},
		{"S1", "mail", "<r@other.example>", "<r@victim.example>", OUT_UNTESTED, false, true},
		{"A1", "mail", "<r@other.example>", "<r@victim.example>", OUT_UNTESTED, false, true},
		{"A5", "mail", "<r@[192.0.2.1]>", "<r@victim.example>", OUT_UNTESTED, false, false},
		{"B1", "mail", "<r@[192.0.2.1]>", "", OUT_UNTESTED, false, false},
		{"B1", "mail", "<r@victim.example>", "<r@victim.example>", OUT_UNTESTED, false, false},
		{"B1", "mail", "<r@[192.0.2.1]>", "<r@victim.example>", OUT_UNTESTED, true, false},
		{"B1", "rcpt", "<r@[192.0.2.1]>", "<r@victim.example>", OUT_REJECTED, false, false},
		{"S1", "helo", "<r@other.example>", "<r@victim.example>", OUT_UNTESTED, false, false},
		{"B1", "mail", "<r@[192.0.2.1]>", "<r@victim.example>", OUT_TEMPFAIL, false, false},
		{"C1", "mail", "<r@[192.0.2.1]>", "<r@victim.example>", OUT_UNTESTED, false, false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct audit_probe p;

		memset(&p, 0, sizeof(p));
		p.spec.trick = rg_trick_find(cases[i].id);
		strcpy(p.spec.mail_from, cases[i].from);
		p.stage = cases[i].stage;
		p.outcome = cases[i].outcome;
		p.retried = cases[i].retried;
		if (probe_wants_retry(&p, cases[i].baseline) != cases[i].want)
			fail_msg("case %zu (%s at %s): want %d", i, cases[i].id,
			    cases[i].stage, cases[i].want);
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
	make_target(&t, "aaarrr", "--y---");
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
		cmocka_unit_test(test_grade_pre_rcpt),
		cmocka_unit_test(test_retry_plan),
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_remedy_names_the_fix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

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
 * h untested (HELO refused 550), g untested (554 greeting); data: '-' not tried, 'y' taken (354),
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
		case 'h': p->outcome = OUT_UNTESTED; p->stage = "helo"; p->code = 550; break;
		case 'g': p->outcome = OUT_UNTESTED; p->stage = "connect"; p->code = 554; break;
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
		/* refused before MAIL: never "closed" (review finding 1) */
		{"554 greeting on every session: nothing tested", "gggggg", "------", 1,
		    VERDICT_UNREACHABLE, 4, 4},
		{"EHLO and HELO refused on every session", "hhhhhh", "------", 1,
		    VERDICT_UNREACHABLE, 4, 4},
		{"first session fine, later ones refused at the greeting", "arrrgg",
		    "------", 1, VERDICT_INCONCLUSIVE, 2, 2},
		/* relay enforced at DATA: not an open relay (review finding 3) */
		{"outside RCPTs taken, bogus refused, DATA refused", "araaaa", "--nn--", 1,
		    VERDICT_INCONCLUSIVE, 0, 0},
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

/* A 4xx or 5xx to HELO or MAIL leaves the trick untested; 530 keeps its
 * meaning; RCPT grading (grade_reply) is unchanged. */
/*
 * The control per local name (issue 17 item 3): C1, C2 refused, C3 (a
 * random local part at C3NAME), A1 plain, B1 and B5 routing tricks under
 * [192.0.2.1]; outcomes as in make_target, B1 and B5 took DATA when
 * accepted, A1 too.
 */
static void make_name_target(struct audit_target *t, const char *c3name,
    const char *outcomes)
{
	static const struct { const char *id, *rcpt; } rows[] = {
		{"C1", "<postmaster@mx.example>"}, {"C2", "<rgx@rgx.invalid>"},
		{"C3", NULL}, {"A1", "<relaytest@victim.example>"},
		{"B1", "<relaytest%victim.example@[192.0.2.1]>"},
		{"B5", "<relaytest@victim.example@[192.0.2.1]>"},
	};

	make_target(t, "rrrrrr", "------");
	for (size_t i = 0; i < NPROBES; i++) {
		struct audit_probe *p = &t->probes[i];

		p->spec.trick = rg_trick_find(rows[i].id);
		strcpy(p->spec.id, rows[i].id);
		if (rows[i].rcpt)
			strcpy(p->spec.rcpt_to, rows[i].rcpt);
		else
			snprintf(p->spec.rcpt_to, sizeof(p->spec.rcpt_to), "<rgx@%s>", c3name);
		p->outcome = outcomes[i] == 'a' ? OUT_ACCEPTED : OUT_REJECTED;
		p->data = outcomes[i] == 'a' && i >= 3 ? DATA_TAKEN : DATA_NOT_TRIED;
	}
}

static void test_local_name_control(void **state)
{
	static const struct {
		const char *name, *c3name, *outcomes;
		enum verdict want;
		bool note;
	} cases[] = {
		{"name takes any local part: tricks under it prove nothing",
		    "[192.0.2.1]", "rraraa", VERDICT_CLOSED, true},
		{"random local part refused: the tricks are relaying", "[192.0.2.1]",
		    "rrrraa", VERDICT_OPEN_RELAY, false},
		{"any local part at another name only", "mx.example", "rraraa",
		    VERDICT_OPEN_RELAY, false},
		{"plain relay accepted as well: still open", "[192.0.2.1]", "rraaaa",
		    VERDICT_OPEN_RELAY, true},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct audit_target t;

		make_name_target(&t, cases[i].c3name, cases[i].outcomes);
		grade_verdict(&t);
		if (t.verdict != cases[i].want)
			fail_msg("%s: got %s want %s (%s)", cases[i].name,
			    verdict_name(t.verdict), verdict_name(cases[i].want),
			    t.verdict_reason);
		if ((strstr(t.verdict_reason, "accepts any local part") != NULL) != cases[i].note)
			fail_msg("%s: note %s expected: %s", cases[i].name,
			    cases[i].note ? "" : "not", t.verdict_reason);
		free(t.probes);
	}
}

static void test_grade_pre_rcpt(void **state)
{
	static const struct { int code; const char *enh; bool tls; enum outcome want; } cases[] = {
		{501, "5.1.3", false, OUT_UNTESTED},	/* Exim: domain literals not allowed */
		{553, "5.5.4", false, OUT_UNTESTED},	/* sendmail: real domain name required */
		{503, "5.5.1", false, OUT_UNTESTED},	/* OpenSMTPD: already identified */
		{550, "", false, OUT_UNTESTED},
		{450, "4.1.8", false, OUT_UNTESTED},	/* Haraka: Temp. resolver error */
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

/*
 * The second destination (issue 17 item 5): make_target's relay probes
 * A1, B1, B5, A5 with their answers towards the second domain: '-' not
 * tried, 'a' accepted, 'r' 554 5.7.1, 'd' 550 5.1.2 (the address, not the
 * relay), 't' tempfail. Only the accepted ones count.
 */
static void test_second_destination(void **state)
{
	static const struct {
		const char *name, *outcomes, *data, *second, *second_domain;
		enum verdict want;
	} cases[] = {
		{"refused towards the second domain for every accepted form",
		    "araaaa", "--y---", "rrrr", "example.net", VERDICT_DOMAIN_RELAY},
		{"one form relays there too", "araaaa", "--y---", "rrar", "example.net",
		    VERDICT_OPEN_RELAY},
		{"one form not tried there", "araaaa", "--y---", "rr-r", "example.net",
		    VERDICT_OPEN_RELAY},
		{"one form refused for the address (5.1.2)", "araaaa", "--y---", "rrdr",
		    "example.net", VERDICT_OPEN_RELAY},
		{"one form deferred there", "araaaa", "--y---", "rrtr", "example.net",
		    VERDICT_OPEN_RELAY},
		{"no second domain", "araaaa", "--y---", "rrrr", "", VERDICT_OPEN_RELAY},
		{"only B1 accepted, refused there", "arrarr", "---y--", "-r--", "example.net",
		    VERDICT_DOMAIN_RELAY},
		{"closed: nothing to compare", "arrrrr", "------", "----", "example.net",
		    VERDICT_CLOSED},
		{"relay enforced at DATA stays inconclusive", "araaaa", "--nn--", "rrrr",
		    "example.net", VERDICT_INCONCLUSIVE},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct audit_target t;

		make_target(&t, cases[i].outcomes, cases[i].data);
		strcpy(t.domain, "victim.example");
		strcpy(t.second_domain, cases[i].second_domain);
		for (size_t k = 0; k < 4; k++) {
			struct audit_second *s2 = &t.probes[2 + k].second;
			char c = cases[i].second[k];

			s2->tried = c != '-';
			s2->outcome = c == 'a' ? OUT_ACCEPTED : c == 't' ? OUT_TEMPFAIL :
			    OUT_REJECTED;
			s2->code = c == 'a' ? 250 : c == 't' ? 450 : c == 'd' ? 550 : 554;
			strcpy(s2->enhanced, c == 'd' ? "5.1.2" : c == 'r' ? "5.7.1" : "");
		}
		t.mta = MTA_POSTFIX;
		grade_verdict(&t);
		if (t.verdict != cases[i].want)
			fail_msg("%s: got %s want %s (%s)", cases[i].name,
			    verdict_name(t.verdict), verdict_name(cases[i].want),
			    t.verdict_reason);
		if (t.verdict == VERDICT_DOMAIN_RELAY) {
			assert_non_null(strstr(t.verdict_reason, "relays only for victim.example"));
			assert_non_null(strstr(domain_relay_advice(&t), "relay_domains"));
			assert_false(audit_fix_applies(&t));
		} else {
			assert_null(domain_relay_advice(&t));
		}
		free(t.probes);
	}
}

/* The after-local family (issue 17 item 2): an accepted L1 is an open relay
 * with its own hole class and advice, never the plain one. */
static void test_after_local(void **state)
{
	static const struct {
		enum mta_kind mta;
		bool verified;
		const char *note;
	} cases[] = {
		{MTA_HARAKA, false, "dest_domains"},
		{MTA_POSTFIX, false, "per recipient"},	/* no Postfix row: the principle */
		{MTA_UNKNOWN, false, "per recipient"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct audit_target t;
		struct remedy r;

		make_target(&t, "arrrrr", "------");
		t.probes[5].spec.trick = rg_trick_find("L1");	/* A5's slot */
		strcpy(t.probes[5].spec.id, "L1@site.example");
		t.probes[5].outcome = OUT_ACCEPTED;
		t.mta = cases[i].mta;
		grade_verdict(&t);
		assert_int_equal(t.verdict, VERDICT_OPEN_RELAY);
		remedy_build(&t, &r);
		assert_true(r.holes[RG_CLASS_AFTER_LOCAL]);
		assert_false(r.holes[RG_CLASS_PLAIN]);
		assert_int_equal(r.verified, cases[i].verified);
		assert_int_equal(r.nsteps, 1);
		assert_int_equal(r.steps[0]->hole, RG_CLASS_AFTER_LOCAL);
		if (strstr(r.steps[0]->note, cases[i].note) == NULL)
			fail_msg("%s: note '%s' lacks '%s'", mta_name(cases[i].mta),
			    r.steps[0]->note, cases[i].note);
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
	assert_int_equal(verdict_exit_code(VERDICT_DOMAIN_RELAY), 1);
	assert_string_equal(verdict_name(VERDICT_DOMAIN_RELAY), "domain_relay");
}

static void test_fingerprint(void **state)
{
	/* real banners and EHLO replies (EHLO: greeting line, then keywords) */
	static const struct { const char *banner, *ehlo; enum mta_kind want; } cases[] = {
		{"220 mail.site.example ESMTP Postfix (Debian/GNU)", "", MTA_POSTFIX},
		{"220 mx.example.org ESMTP Sendmail 8.17.1.9/8.17.1.9; Sat, 21 Nov 2026",
		    "", MTA_SENDMAIL},
		{"220 mx.example.org ESMTP", "mx.example.org Hello localhost [127.0.0.1], "
		    "pleased to meet you\nENHANCEDSTATUSCODES PIPELINING 8BITMIME SIZE DSN "
		    "ETRN DELIVERBY HELP", MTA_SENDMAIL},
		{"220 mx ESMTP Exim 4.96 Sat, 21 Nov 2026 09:00:00 +0000", "", MTA_EXIM},
		{"220 mx ESMTP OpenSMTPD", "", MTA_OPENSMTPD},
		{"220 EX01.corp.example Microsoft ESMTP MAIL Service ready at Mon, 1 Jan "
		    "2024 10:00:00 +0000", "", MTA_EXCHANGE},
		{"220 mail.contoso.example", "mail.contoso.example Hello [192.0.2.9]\n"
		    "SIZE PIPELINING DSN ENHANCEDSTATUSCODES STARTTLS X-ANONYMOUSTLS AUTH "
		    "X-EXPS 8BITMIME BINARYMIME CHUNKING XRDST", MTA_EXCHANGE},
		{"220 mail.example.com - Welcome to Qmail Toaster Ver. 1.03-3.1 SMTP "
		    "Server ESMTP", "", MTA_QMAIL},
		{"220 mx.example.net ESMTP netqmail", "", MTA_QMAIL},
		{"220 mx.example.com ESMTP Haraka/3.0.3 ready", "", MTA_HARAKA},
		{"220 mx.example.com ESMTP", "mx.example.com Hello mail.client.example "
		    "[192.0.2.9], Haraka is at your service.\nPIPELINING 8BITMIME SIZE",
		    MTA_HARAKA},
		{"220 mail.example.com ESMTP", "mail.example.com Ok.\nXVERP=Courier "
		    "XEXDATA XSECURITY=NONE,STARTTLS PIPELINING 8BITMIME SIZE DSN",
		    MTA_COURIER},
		{"220 mail.example.com ESMTP MDaemon 23.5.2; Thu, 07 Dec 2023 10:00:00 "
		    "+0100", "", MTA_MDAEMON},
		/* plain qmail says nothing about itself: honest "unknown" */
		{"220 mail.example.com ESMTP", "mail.example.com\nPIPELINING 8BITMIME",
		    MTA_UNKNOWN},
		{"220 mx.example.org ESMTP", "", MTA_UNKNOWN},
		{"", "", MTA_UNKNOWN},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum mta_kind got = mta_fingerprint(cases[i].banner, cases[i].ehlo);

		if (got != cases[i].want)
			fail_msg("%s | %s: got %s want %s", cases[i].banner, cases[i].ehlo,
			    mta_name(got), mta_name(cases[i].want));
	}
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

/* A target from probe rows "ID MAIL_FROM OUTCOME [retried]". */
struct probe_row { const char *id, *from; char outcome; bool retried; };

static void make_probes(struct audit_target *t, enum mta_kind mta,
    const struct probe_row *rows, size_t n)
{
	memset(t, 0, sizeof(*t));
	t->sessions = 1;
	t->mta = mta;
	t->nprobes = n;
	t->probes = calloc(n, sizeof(*t->probes));
	for (size_t i = 0; i < n; i++) {
		struct audit_probe *p = &t->probes[i];

		p->spec.trick = rg_trick_find(rows[i].id);
		assert_non_null(p->spec.trick);
		strcpy(p->spec.id, rows[i].id);
		strcpy(p->spec.mail_from, rows[i].from);
		p->outcome = rows[i].outcome == 'a' ? OUT_ACCEPTED : OUT_REJECTED;
		p->stage = "rcpt";
		p->retried = rows[i].retried;
		if (p->retried)
			strcpy(p->retry_from, "<relaytest@victim.example>");
	}
}

#define LIT "<relaytest@[192.0.2.1]>"
#define EXT "<relaytest@victim.example>"

/* Fix advice per (MTA, hole class): only observed holes, the MTA's real
 * lines, routing probes accepted for their local sender count as sender. */
static void test_remedy_table(void **state)
{
	static const struct probe_row plain[] = {
		{"C1", EXT, 'a', false}, {"C2", EXT, 'r', false}, {"A1", EXT, 'a', false},
		{"B1", LIT, 'a', false}, {"A5", LIT, 'a', false},
	};
	static const struct probe_row local_from[] = {	/* sendmail relay_local_from */
		{"C1", EXT, 'a', false}, {"C2", EXT, 'r', false}, {"A1", EXT, 'r', false},
		{"A5", LIT, 'a', false}, {"B1", LIT, 'a', false}, {"B5", LIT, 'a', false},
	};
	static const struct probe_row routing[] = {	/* % relayed after a retry */
		{"C1", EXT, 'a', false}, {"C2", EXT, 'r', false}, {"A1", EXT, 'r', false},
		{"A5", LIT, 'r', false}, {"B1", LIT, 'a', true},
	};
	static const struct probe_row mail_domain[] = {	/* mail-from "@site.example" */
		{"C1", EXT, 'a', false}, {"C2", EXT, 'r', false}, {"A1", EXT, 'r', false},
		{"A4", "<relaytest@site.example>", 'a', false}, {"B1", LIT, 'r', true},
	};
	static const struct probe_row helo[] = {
		{"C1", EXT, 'a', false}, {"C2", EXT, 'r', false}, {"A1", EXT, 'r', false},
		{"S1", "<relaytest@other.example>", 'a', false},
	};
	static const struct probe_row closed[] = {
		{"C1", EXT, 'a', false}, {"C2", EXT, 'r', false}, {"A1", EXT, 'r', false},
		{"B1", LIT, 'r', true},
	};
	static const struct {
		const char *what;
		enum mta_kind mta;
		const struct probe_row *rows;
		size_t n;
		const char *holes;	/* "plain sender routing identity" subset */
		bool verified;
		const char *has[3], *hasnt[3];	/* in the text */
	} cases[] = {
		{"Postfix open", MTA_POSTFIX, plain, 5, "plain", true,
		    {"mynetworks = 127.0.0.1/32", "reject_unauth_destination", NULL},
		    {"allow_percent_hack", NULL}},
		{"sendmail relay_local_from: sender, not routing", MTA_SENDMAIL, local_from,
		    6, "sender", true, {"relay_local_from", "/etc/mail/sendmail.mc", NULL},
		    {"loose_relay_check", "percent hack", NULL}},
		{"sendmail percent hack after a retry", MTA_SENDMAIL, routing, 5, "routing",
		    true, {"loose_relay_check", "does not relay by itself", NULL},
		    {"relay_local_from", "promiscuous", NULL}},
		{"OpenSMTPD mail-from rule", MTA_OPENSMTPD, mail_domain, 5, "sender", true,
		    {"match from local for any action \"relay\"", "/etc/smtpd.conf", NULL},
		    {"outbound", "localdomains", NULL}},
		{"OpenSMTPD helo rule", MTA_OPENSMTPD, helo, 4, "identity", true,
		    {"match helo", NULL}, {"outbound", NULL}},
		{"Exim sender rule", MTA_EXIM, mail_domain, 5, "sender", true,
		    {"accept[[:space:]]+senders", NULL}, {"dc_relay_nets", NULL}},
		{"Exim open", MTA_EXIM, plain, 5, "plain", true,
		    {"dc_relay_nets=''", "update-exim4.conf", NULL}, {"senders", NULL}},
		{"Exchange open: not verified", MTA_EXCHANGE, plain, 5, "plain", false,
		    {"not verified", "ANONYMOUS LOGON", NULL}, {NULL}},
		{"Haraka sender hole: generic, not verified", MTA_HARAKA, mail_domain, 5,
		    "sender", false, {"not verified", "relay_acl_allow", NULL}, {NULL}},
		{"unknown MTA", MTA_UNKNOWN, helo, 4, "identity", false,
		    {"not verified", "authenticated", NULL}, {NULL}},
		{"closed Postfix: no advice at all", MTA_POSTFIX, closed, 4, "", true,
		    {NULL}, {"mynetworks", "found", NULL}},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct audit_target t;
		struct remedy r;
		char holes[64] = "";
		char *fix;

		make_probes(&t, cases[i].mta, cases[i].rows, cases[i].n);
		remedy_build(&t, &r);
		for (int c = RG_CLASS_PLAIN; c <= RG_CLASS_IDENTITY; c++)
			if (r.holes[c]) {
				if (holes[0])
					strcat(holes, " ");
				strcat(holes, rg_trick_class_name(c));
			}
		if (strcmp(holes, cases[i].holes) != 0)
			fail_msg("%s: holes '%s', want '%s'", cases[i].what, holes,
			    cases[i].holes);
		if (r.nsteps && r.verified != cases[i].verified)
			fail_msg("%s: verified %d", cases[i].what, r.verified);
		for (size_t k = 0; k < r.nsteps; k++)
			if (!r.holes[r.steps[k]->hole] && r.verified)
				fail_msg("%s: a step for the unobserved hole %s", cases[i].what,
				    rg_trick_class_name(r.steps[k]->hole));
		fix = mta_remedy_string(&t);
		for (size_t k = 0; k < 3 && cases[i].has[k]; k++)
			if (strstr(fix, cases[i].has[k]) == NULL)
				fail_msg("%s: fix lacks '%s':\n%s", cases[i].what,
				    cases[i].has[k], fix);
		for (size_t k = 0; k < 3 && cases[i].hasnt[k]; k++)
			if (strstr(fix, cases[i].hasnt[k]) != NULL)
				fail_msg("%s: fix has '%s':\n%s", cases[i].what,
				    cases[i].hasnt[k], fix);
		free(fix);
		free(t.probes);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grade_reply),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_local_name_control),
		cmocka_unit_test(test_grade_pre_rcpt),
		cmocka_unit_test(test_retry_plan),
		cmocka_unit_test(test_second_destination),
		cmocka_unit_test(test_after_local),
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_remedy_names_the_fix),
		cmocka_unit_test(test_remedy_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

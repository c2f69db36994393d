/* test_trick.c - the relay-trick catalogue and battery generation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/mail/address.h"
#include "audit/trick.h"

static const struct rg_trick_params params = {
	.domain = "victim.example", .sender_domain = "other.example",
	.ip_literal = "[192.0.2.1]", .server_name = "mx.site.example",
	.random = "rgq7k2x9",
};

static void test_ids_unique(void **state)
{
	(void)state;
	for (size_t i = 0; i < rg_trick_count; i++) {
		assert_non_null(rg_trick_catalogue[i].exploits);
		for (size_t j = i + 1; j < rg_trick_count; j++)
			assert_string_not_equal(rg_trick_catalogue[i].id,
			    rg_trick_catalogue[j].id);
		assert_ptr_equal(rg_trick_find(rg_trick_catalogue[i].id),
		    &rg_trick_catalogue[i]);
	}
	assert_null(rg_trick_find("Z99"));
}

static void test_reference_rows_present(void **state)
{
	/* REFERENCE.md section 2: A1-A9 and B1-B14 must all be there. */
	static const char *const ids[] = {"A1", "A2", "A3", "A4", "A5", "A6", "A7",
	    "A8", "A9", "B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B10",
	    "B11", "B12", "B13", "B14", "C1", "C2"};

	(void)state;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		assert_non_null(rg_trick_find(ids[i]));
}

static void test_expand(void **state)
{
	static const struct { const char *tmpl, *name, *want; } cases[] = {
		{"<{T}%{D}@{IP}>", NULL, "<relaytest%victim.example@[192.0.2.1]>"},
		{"<{T}%{D}@{IP}>", "localhost", "<relaytest%victim.example@localhost>"},
		{"<@{SRV}:{T}@{D}>", NULL, "<@mx.site.example:relaytest@victim.example>"},
		{"<{D2}!{F}>", NULL, "<other.example!relaytest>"},
		{"<{R}@{R}.invalid>", NULL, "<rgq7k2x9@rgq7k2x9.invalid>"},
		{"{T}@{D}", NULL, "relaytest@victim.example"},
	};
	char out[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(rg_trick_expand(cases[i].tmpl, &params, cases[i].name,
		    out, sizeof(out)), 0);
		assert_string_equal(out, cases[i].want);
	}
	assert_int_equal(rg_trick_expand("<{NOPE}>", &params, NULL, out, sizeof(out)), -1);
	assert_int_equal(rg_trick_expand("<{T", &params, NULL, out, sizeof(out)), -1);
	assert_int_equal(rg_trick_expand("<{T}@{D}>", &params, NULL, out, 10), -1);
}

static void test_battery_size_and_dedup(void **state)
{
	const char *names[] = {"[127.0.0.1]", "mail.site.example", "localhost"};
	struct rg_trick_params lp = params;
	struct rg_probe_spec *v;
	size_t n;

	(void)state;
	/* A loopback Postfix: its literal and [127.0.0.1] are the same name. */
	lp.ip_literal = "[127.0.0.1]";
	lp.server_name = "mail.site.example";
	n = rg_battery_build(&lp, names, 3, &v);
	assert_true(n >= 40);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			assert_false(strcmp(v[i].helo, v[j].helo) == 0 &&
			    strcmp(v[i].mail_from, v[j].mail_from) == 0 &&
			    strcmp(v[i].first_rcpt, v[j].first_rcpt) == 0 &&
			    strcmp(v[i].rcpt_to, v[j].rcpt_to) == 0);
	/* B2 keeps its own id; its "B1@name" twin was dropped. */
	bool have_b2 = false;

	for (size_t i = 0; i < n; i++) {
		assert_string_not_equal(v[i].id, "B1@mail.site.example");
		if (strcmp(v[i].id, "B2") == 0) {
			have_b2 = true;
			assert_string_equal(v[i].rcpt_to,
			    "<relaytest%victim.example@mail.site.example>");
		}
	}
	assert_true(have_b2);
	free(v);
}

static void test_repeat_keeps_sender(void **state)
{
	const char *names[] = {"localhost"};
	struct rg_probe_spec *v;
	size_t n = rg_battery_build(&params, names, 1, &v);
	bool seen = false;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].id, "B1@localhost") != 0)
			continue;
		seen = true;
		assert_string_equal(v[i].mail_from, "<relaytest@[192.0.2.1]>");
		assert_string_equal(v[i].rcpt_to, "<relaytest%victim.example@localhost>");
	}
	assert_true(seen);
	free(v);
}

/*
 * Relay after a local recipient (issue 17 item 2): L1 and its per-name
 * repeats send postmaster at that name first, the relay recipient second;
 * the second destination (item 5) replaces {D} in the relay recipient
 * only, never in the sender, and controls have none.
 */
static void test_after_local_and_second(void **state)
{
	static const struct {
		const char *id, *first, *rcpt, *second;
	} want[] = {
		{"L1", "<postmaster@mail.site.example>", "<relaytest@victim.example>",
		 "<relaytest@example.net>"},
		{"L1@site.example", "<postmaster@site.example>", "<relaytest@victim.example>",
		 "<relaytest@example.net>"},
		{"A1", "", "<relaytest@victim.example>", "<relaytest@example.net>"},
		{"B1", "", "<relaytest%victim.example@[192.0.2.1]>",
		 "<relaytest%example.net@[192.0.2.1]>"},
		{"C1", "", "<postmaster@mail.site.example>", ""},
		{"C2", "", "<rgq7k2x9@rgq7k2x9.invalid>", ""},
	};
	const char *names[] = {"site.example"};
	struct rg_trick_params lp = params;
	struct rg_probe_spec *v;
	size_t n;

	(void)state;
	lp.server_name = "mail.site.example";
	lp.second_domain = "example.net";
	n = rg_battery_build(&lp, names, 1, &v);
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		bool seen = false;

		for (size_t i = 0; i < n; i++) {
			if (strcmp(v[i].id, want[k].id) != 0)
				continue;
			seen = true;
			assert_string_equal(v[i].first_rcpt, want[k].first);
			assert_string_equal(v[i].rcpt_to, want[k].rcpt);
			assert_string_equal(v[i].rcpt_to_second, want[k].second);
			if (strcmp(want[k].id, "A1") == 0)
				assert_string_equal(v[i].mail_from, "<relaytest@other.example>");
		}
		if (!seen)
			fail_msg("%s not in the battery", want[k].id);
	}
	assert_string_equal(rg_trick_class_name(rg_trick_find("L1")->klass), "after_local");
	free(v);
}

/*
 * The milter's oracle, in miniature: with the local names as local domains,
 * no relay probe of the battery may name a clean local recipient - each one
 * is either outside, unparseable, or carries a routing operator. The
 * baseline control must be a clean local recipient.
 */
static bool clean_local(const char *rcpt, const char *const *local, size_t nlocal)
{
	struct rg_address a;
	struct rg_addr_error e;

	if (rg_address_parse(rcpt, &a, &e) != 0 || a.routing != 0 || a.quoted_local)
		return false;
	for (size_t i = 0; i < nlocal; i++)
		if (strcmp(a.domain, local[i]) == 0)
			return true;
	return false;
}

static void test_battery_against_oracle(void **state)
{
	const char *names[] = {"localhost", "[127.0.0.1]", "mx2.site.example"};
	const char *local[] = {"[192.0.2.1]", "mx.site.example", "localhost",
	    "[127.0.0.1]", "mx2.site.example"};
	struct rg_probe_spec *v;
	size_t n = rg_battery_build(&params, names, 3, &v);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		bool ok = clean_local(v[i].rcpt_to, local, 5);

		if (v[i].trick->flags & (RG_TRICK_CONTROL_LOCAL | RG_TRICK_CONTROL_NAME))
			assert_true(ok);
		else if (ok)
			fail_msg("%s: %s is a clean local recipient", v[i].id, v[i].rcpt_to);
	}
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_unique),
		cmocka_unit_test(test_reference_rows_present),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_battery_size_and_dedup),
		cmocka_unit_test(test_repeat_keeps_sender),
		cmocka_unit_test(test_after_local_and_second),
		cmocka_unit_test(test_battery_against_oracle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

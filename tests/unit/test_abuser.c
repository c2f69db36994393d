/*
 * test_abuser.c - the penalty box's state machine (abuser_state.h), on a
 * clock the test sets: which clients count and for which source, the
 * threshold within the window, the box and its expiry, log-only, what the
 * shared state adds, and the clean slate after a release.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "milter/abuser_state.h"
#include "lib/base/util.h"

#include "confload.h"

static void test_source_key(void **state)
{
	static const struct {
		bool have_addr;
		const char *addr, *auth;
		const char *want;	/* NULL: never counted */
	} cases[] = {
		{true, "203.0.113.77", "", "203.0.113.0/24"},
		{true, "203.0.113.0", "", "203.0.113.0/24"},
		{true, "2001:db8:5:6:7::9", "", "2001:db8:5:6::/64"},
		{true, "127.0.0.1", "", NULL},		/* TrustedNetworks */
		{true, "192.0.2.200", "", NULL},	/* AbuserExempt */
		{true, "192.0.2.100", "", "192.0.2.0/24"},
		{true, "203.0.113.77", "alice", NULL},	/* authenticated */
		{false, "unknown", "", NULL},		/* no address */
		{true, "unix", "", NULL},
		{true, "not-an-address", "", NULL},
	};
	struct rg_config *c = load("TrustedNetworks 127.0.0.1/32\n"
	    "AbuserThreshold 3\nAbuserPrefix4 24\nAbuserPrefix6 64\n"
	    "AbuserExempt 192.0.2.128/25\n");
	struct rg_config *off = load("AbuserPrefix4 24\n");
	struct rg_config *host = load("AbuserThreshold 3\n");
	char key[ABUSER_SOURCE_MAX];

	(void)state;
	for (size_t i = 0; i < RG_NELEM(cases); i++) {
		bool got = abuser_source_key(c, cases[i].have_addr, cases[i].addr,
		    cases[i].auth, key, sizeof(key));

		if (got != (cases[i].want != NULL))
			fail_msg("%s: counted %d", cases[i].addr, got);
		if (got)
			assert_string_equal(key, cases[i].want);
	}
	/* AbuserThreshold 0: off for everyone */
	assert_false(abuser_source_key(off, true, "203.0.113.77", "", key,
	    sizeof(key)));
	/* the default prefixes: the address itself */
	assert_true(abuser_source_key(host, true, "2001:db8::1", "", key,
	    sizeof(key)));
	assert_string_equal(key, "2001:db8::1/128");
	assert_true(abuser_source_key(host, true, "203.0.113.77", "", key,
	    sizeof(key)));
	assert_string_equal(key, "203.0.113.77/32");
	rg_config_unref(c);
	rg_config_unref(off);
	rg_config_unref(host);
}

enum op { ATTEMPT, REFUSES, EXPIRE, ENFORCE };

struct step {
	double t;
	enum op op;
	bool want;		/* boxed now / refused / ran out */
	long attempts;		/* after the step: s.attempts (-1: any) */
	double until;		/* after the step: s.until (-1: any) */
};

/* Walk steps on one source; ENFORCE switches to the enforcing config. */
static void run(const char *name, struct rg_config *c, struct rg_config *enf,
    const struct step *steps, size_t n, struct source *last_released)
{
	struct source s, was;

	memset(&s, 0, sizeof(s));
	for (size_t i = 0; i < n; i++) {
		const struct step *st = &steps[i];
		bool got = false;

		switch (st->op) {
		case ATTEMPT:
			got = abuser_source_attempt(&s, c, "203.0.113.7", NULL, false, "mx1", st->t);
			break;
		case REFUSES:
			got = abuser_source_refuses(&s, st->t);
			break;
		case EXPIRE:
			got = abuser_source_expire(&s, st->t, &was);
			if (got && last_released != NULL)
				*last_released = was;
			break;
		case ENFORCE:
			c = enf;
			got = st->want;
			break;
		}
		if (got != st->want)
			fail_msg("%s: step %zu (t=%.0f op %d): got %d", name, i,
			    st->t, (int)st->op, got);
		if (st->attempts >= 0 && (long)s.attempts != st->attempts)
			fail_msg("%s: step %zu: attempts %lu, want %ld", name, i,
			    s.attempts, st->attempts);
		if (st->until >= 0 && s.until != st->until)
			fail_msg("%s: step %zu: until %.1f, want %.1f", name, i,
			    s.until, st->until);
	}
}

static void test_state_machine(void **state)
{
	/* AbuserThreshold 3 within AbuserWindow 60 s, boxed 120 s */
	static const struct step box_and_release[] = {
		{1000, ATTEMPT, false, 0, 0},
		{1010, ATTEMPT, false, 0, 0},
		{1020, REFUSES, false, -1, -1},		/* not boxed yet */
		{1030, ATTEMPT, true, 3, 1150},		/* the third boxes */
		{1031, ATTEMPT, false, 3, 1150},	/* one event per box */
		{1040, REFUSES, true, -1, -1},
		{1149, REFUSES, true, -1, -1},
		{1149, EXPIRE, false, 3, 1150},
		{1150, REFUSES, false, -1, -1},		/* ran out */
		{1150, EXPIRE, true, 0, 0},		/* released, cleared */
		{1151, ATTEMPT, false, 0, 0},		/* a clean slate */
		{1152, ATTEMPT, false, 0, 0},
		{1153, ATTEMPT, true, 3, 1273},
	};
	/* attempts spread wider than the window never add up */
	static const struct step window[] = {
		{0, ATTEMPT, false, 0, 0},
		{30, ATTEMPT, false, 0, 0},
		{95, ATTEMPT, false, 0, 0},
		{130, ATTEMPT, false, 0, 0},
		{160, ATTEMPT, false, 0, 0},
		{170, ATTEMPT, true, 3, 290},		/* 130, 160, 170 */
	};
	/* log-only: a would-be box refuses nothing, is released quietly,
	 * and becomes a box when Mode turns to enforce */
	static const struct step log_only[] = {
		{0, ATTEMPT, false, 0, 0},
		{1, ATTEMPT, false, 0, 0},
		{2, ATTEMPT, true, 3, 122},
		{3, ATTEMPT, false, 3, 122},
		{4, REFUSES, false, -1, -1},
		{5, ENFORCE, true, -1, -1},
		{6, ATTEMPT, true, 5, 126},
		{7, REFUSES, true, -1, -1},
	};
	struct rg_config *c = load("AbuserThreshold 3\nAbuserWindow 60\n"
	    "AbuserBlockTime 120\n");
	struct rg_config *lo = load("Mode log-only\nAbuserThreshold 3\n"
	    "AbuserWindow 60\nAbuserBlockTime 120\n");
	struct source was;

	(void)state;
	memset(&was, 0, sizeof(was));
	run("box and release", c, c, box_and_release,
	    RG_NELEM(box_and_release), &was);
	assert_true(was.enforced);
	assert_int_equal(was.refused, 2);
	assert_int_equal(was.attempts, 3);
	/* the run that boxed it; later attempts move last on */
	assert_true(was.first == 1000 && was.boxed_at == 1030);
	assert_true(was.last == 1031);
	assert_string_equal(was.client, "203.0.113.7");
	run("window", c, c, window, RG_NELEM(window), NULL);
	run("log-only", lo, c, log_only, RG_NELEM(log_only), NULL);
	rg_config_unref(c);
	rg_config_unref(lo);
}

/* What the shared state adds: its count decides, another MX's box is
 * taken for what it has left, a lost server leaves the attempt pending. */
static void test_shared_answer(void **state)
{
	struct rg_config *c = load("AbuserThreshold 3\nAbuserWindow 60\n"
	    "AbuserBlockTime 120\n");
	struct shared_answer sa;
	struct source s;

	(void)state;
	memset(&s, 0, sizeof(s));
	memset(&sa, 0, sizeof(sa));
	sa.count = 3;		/* two more on the other MX */
	assert_true(abuser_source_attempt(&s, c, "203.0.113.7", &sa, true, "mx1", 50));
	assert_int_equal(s.attempts, 3);
	assert_true(s.until == 170);
	assert_int_equal(s.pending, 0);
	assert_string_equal(s.boxed_by, "");

	memset(&s, 0, sizeof(s));
	sa.count = 1;
	sa.box_ms = 30500;	/* boxed by mx2 30.5 s ago... for 30.5 s more */
	strcpy(sa.boxed_by, "mx2.site.example");
	assert_true(abuser_source_attempt(&s, c, "203.0.113.7", &sa, true, "mx1", 50));
	assert_true(s.until == 80.5);
	assert_string_equal(s.boxed_by, "mx2.site.example");
	assert_true(abuser_source_refuses(&s, 80));
	assert_false(abuser_source_refuses(&s, 80.5));

	/* another MX's box learned at CONNECT/MAIL: the shared count, no
	 * run here; with attempts seen here it is no mere hearsay */
	memset(&s, 0, sizeof(s));
	sa.count = 6;
	abuser_source_learn(&s, c, "203.0.113.8", &sa, 60);
	assert_true(s.learned && s.enforced);
	assert_int_equal(s.attempts, 6);
	assert_int_equal(s.refused, 1);
	assert_true(s.until == 90.5);
	assert_string_equal(s.boxed_by, "mx2.site.example");
	memset(&s, 0, sizeof(s));
	assert_false(abuser_source_attempt(&s, c, "203.0.113.8", NULL, false,
	    "mx1", 55));
	abuser_source_learn(&s, c, "203.0.113.8", &sa, 60);
	assert_false(s.learned);
	assert_true(s.first == 55);
	assert_int_equal(s.attempts, 6);
	/* the shared count unknown: what was seen here, or nothing */
	memset(&s, 0, sizeof(s));
	sa.count = 0;
	assert_false(abuser_source_attempt(&s, c, "203.0.113.8", NULL, false,
	    "mx1", 55));
	abuser_source_learn(&s, c, "203.0.113.8", &sa, 60);
	assert_int_equal(s.attempts, 1);
	memset(&s, 0, sizeof(s));
	abuser_source_learn(&s, c, "203.0.113.8", &sa, 60);
	assert_true(s.learned);
	assert_int_equal(s.attempts, 0);

	/* the server lost: counted here, kept for the merge */
	memset(&s, 0, sizeof(s));
	assert_false(abuser_source_attempt(&s, c, "203.0.113.7", NULL, true, "mx1", 1));
	assert_false(abuser_source_attempt(&s, c, "203.0.113.7", NULL, true, "mx1", 2));
	assert_int_equal(s.pending, 2);
	assert_string_equal(s.counted_by, "mx1");
	/* no shared state at all: nothing pending */
	memset(&s, 0, sizeof(s));
	assert_false(abuser_source_attempt(&s, c, "203.0.113.7", NULL, false, "mx1", 1));
	assert_int_equal(s.pending, 0);
	rg_config_unref(c);
}

/* A box outweighs any count in the table's evictions. */
static void test_weight(void **state)
{
	struct rg_config *c = load("AbuserThreshold 2\nAbuserWindow 60\n");
	struct source s;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(abuser_source_weight(&s, 60, 0), 0);
	assert_false(abuser_source_attempt(&s, c, "203.0.113.7", NULL, false, "mx1", 0));
	assert_int_equal(abuser_source_weight(&s, 60, 1), 1);
	assert_true(abuser_source_attempt(&s, c, "203.0.113.7", NULL, false, "mx1", 1));
	assert_true(abuser_source_weight(&s, 60, 2) >= ULONG_MAX / 2);
	/* an unboxed count ages out with its window */
	memset(&s, 0, sizeof(s));
	assert_false(abuser_source_attempt(&s, c, "203.0.113.7", NULL, false, "mx1", 0));
	assert_int_equal(abuser_source_weight(&s, 60, 120), 0);
	rg_config_unref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source_key),
		cmocka_unit_test(test_state_machine),
		cmocka_unit_test(test_shared_answer),
		cmocka_unit_test(test_weight),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

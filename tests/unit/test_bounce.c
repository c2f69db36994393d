/*
 * test_bounce.c - the bounce-storm sensor: sliding windows and Space-Saving
 * eviction (bounce_window.h), classification, open-relay-abuse test and
 * the storm state machine (bounce.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milter/bounce/bounce.h"
#include "lib/mail/eventlog.h"
#include "lib/base/log.h"
#include "lib/base/util.h"

/* --- windows ----------------------------------------------------------- */

static void test_ring_slides(void **state)
{
	struct bw_ring r = {0};
	const double w = 60;	/* 60 buckets of 1 s */

	(void)state;
	for (int i = 0; i < 30; i++)
		bw_ring_add(&r, w, 1000.0 + i, 2);
	assert_int_equal(bw_ring_count(&r, w, 1029.5), 60);
	/* 1000..1009 leave the window 60 s later, the rest stays */
	assert_int_equal(bw_ring_count(&r, w, 1069.5), 40);
	assert_int_equal(bw_ring_count(&r, w, 1089.5), 0);
	/* a long pause clears everything at once */
	bw_ring_add(&r, w, 5000, 1);
	assert_int_equal(bw_ring_count(&r, w, 5000), 1);
	assert_int_equal(bw_ring_count(&r, w, 9000), 0);
}

static void test_table_exact(void **state)
{
	static const struct {
		const char *key;
		int n;
	} adds[] = {
		{"root@site.example", 7}, {"abuse@site.example", 3},
		{"user@site.example", 1}, {"root@site.example", 5},
	};
	struct bw_table *t = bw_table_new(8, 300);
	struct bw_top top[3];

	(void)state;
	for (size_t i = 0; i < RG_NELEM(adds); i++)
		for (int j = 0; j < adds[i].n; j++)
			bw_table_add(t, adds[i].key, 10.0 + j, 1);
	assert_int_equal(bw_table_count(t, "root@site.example", 20), 12);
	assert_int_equal(bw_table_count(t, "nobody@site.example", 20), 0);
	assert_int_equal(bw_table_top(t, 20, top, 3), 3);
	assert_string_equal(top[0].key, "root@site.example");
	assert_int_equal(top[0].count, 12);
	assert_string_equal(top[1].key, "abuse@site.example");
	assert_string_equal(top[2].key, "user@site.example");
	assert_int_equal(bw_table_evictions(t), 0);
	/* everything leaves the window */
	assert_int_equal(bw_table_top(t, 400, top, 3), 0);
	bw_table_free(t);
}

/*
 * An attacker invents 100,000 distinct recipients while one mailbox gets a
 * real share (1 in 8) of the bounces: the table never grows past its fixed
 * size and still names the heavy hitter with its exact count.
 */
static void test_flood_keeps_heavy_hitter(void **state)
{
	const size_t cap = 256;
	struct bw_table *t = bw_table_new(cap, 300);
	size_t bytes = bw_table_bytes(t);
	unsigned long heavy = 0, got;
	struct bw_top top[3];
	char key[64];
	uint64_t x = 88172645463325252ULL;	/* xorshift64: reproducible */

	(void)state;
	for (int i = 0; i < 100000; i++) {
		double now = 1000.0 + i * 0.002;	/* 200 s of flood */

		if (i % 8 == 0) {
			got = bw_table_add(t, "victim@site.example", now, 1);
			assert_int_equal(got, ++heavy);
		} else {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			snprintf(key, sizeof(key), "r%016llx@invented.example",
			    (unsigned long long)x);
			bw_table_add(t, key, now, 1);
		}
		assert_true(bw_table_used(t) <= cap);
	}
	assert_int_equal(bw_table_bytes(t), bytes);
	assert_int_equal(bw_table_used(t), cap);
	assert_true(bw_table_evictions(t) > 80000);
	assert_int_equal(bw_table_top(t, 1200, top, 3), 3);
	assert_string_equal(top[0].key, "victim@site.example");
	assert_int_equal(top[0].count, heavy);
	assert_int_equal(top[0].error, 0);
	/* no invented key comes anywhere near it */
	assert_true(top[1].count + top[1].error < heavy / 10);
	printf("# flood: %zu slots, %zu bytes, %lu evictions, heavy hitter %lu\n",
	    cap, bytes, bw_table_evictions(t), heavy);
	bw_table_free(t);
}

/* --- classification -------------------------------------------------------- */

static void test_sender_kind(void **state)
{
	static const struct {
		const char *from;
		enum bounce_sender want;
	} cases[] = {
		{"<>", BOUNCE_SENDER_NULL},
		{"", BOUNCE_SENDER_NULL},		/* Postfix non_smtpd */
		{" <> ", BOUNCE_SENDER_NULL},
		{"<MAILER-DAEMON@mail.site.example>", BOUNCE_SENDER_ROLE},
		{"double-bounce@mail.site.example", BOUNCE_SENDER_ROLE},
		{"<postmaster>", BOUNCE_SENDER_ROLE},
		{"<Mailer_Daemon@x.example>", BOUNCE_SENDER_ROLE},
		{"<@relay.example:postmaster@x.example>", BOUNCE_SENDER_ROLE},
		{"<user@site.example>", BOUNCE_SENDER_NORMAL},
		{"<postmasters@site.example>", BOUNCE_SENDER_NORMAL},
		{"<list-bounces@lists.example>", BOUNCE_SENDER_NORMAL},
		{NULL, BOUNCE_SENDER_NULL},
	};

	(void)state;
	for (size_t i = 0; i < RG_NELEM(cases); i++) {
		if (bounce_sender_kind(cases[i].from) != cases[i].want)
			fail_msg("'%s': got %d, want %d", cases[i].from ?
			    cases[i].from : "(null)",
			    bounce_sender_kind(cases[i].from), cases[i].want);
	}
	assert_true(bounce_is_bounce(BOUNCE_SENDER_NULL, 0, true));
	assert_false(bounce_is_bounce(BOUNCE_SENDER_ROLE, 0, true));
	assert_true(bounce_is_bounce(BOUNCE_SENDER_ROLE, DSN_EV_REPORT, true));
	assert_true(bounce_is_bounce(BOUNCE_SENDER_ROLE, 0, false));
	assert_false(bounce_is_bounce(BOUNCE_SENDER_NORMAL, DSN_EV_REPORT, true));
}

static void test_diag_normalise(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"smtp; 550 5.1.1 <x@y.example>: Recipient address rejected",
		 "smtp; 550 5.1.1 <*>: Recipient address rejected"},
		{"smtp;  550 5.4.4   Host or domain\tname not found ",
		 "smtp; 550 5.4.4 Host or domain name not found"},
		{"x-unix; <unterminated", "x-unix; <unterminated"},
		{"", ""},
	};
	char buf[BW_KEY_MAX];

	(void)state;
	for (size_t i = 0; i < RG_NELEM(cases); i++)
		assert_string_equal(bounce_diag_normalise(cases[i].in, buf,
		    sizeof(buf)), cases[i].want);
}

static struct dsn_report make_dsn(const char *client, const char *by,
    const char *rcpt)
{
	struct dsn_report d;

	memset(&d, 0, sizeof(d));
	strlcpy_rg(d.orig_client_addr, client, sizeof(d.orig_client_addr));
	strlcpy_rg(d.orig_received_by, by, sizeof(d.orig_received_by));
	strlcpy_rg(d.reporting_mta, "mail.site.example", sizeof(d.reporting_mta));
	if (rcpt != NULL) {
		d.nrcpt = d.nrcpt_seen = 1;
		strlcpy_rg(d.rcpt[0].final_rcpt, rcpt, sizeof(d.rcpt[0].final_rcpt));
		strlcpy_rg(d.rcpt[0].status, "5.4.4", sizeof(d.rcpt[0].status));
		strlcpy_rg(d.rcpt[0].diagnostic,
		    "smtp; 550 5.4.4 Host or domain name not found",
		    sizeof(d.rcpt[0].diagnostic));
	}
	return d;
}

static void test_relay_abuse(void **state)
{
	static const struct {
		const char *client, *by, *rcpt;
		bool generated, want;
	} cases[] = {
		/* relayed for an outsider to a foreign domain: abuse */
		{"127.0.0.2", "mail.site.example", "a@victim.example", true, true},
		{"127.0.0.2", "mail.site.example", "a@victim.example", false, true},
		/* trusted client: the site's own users */
		{"127.0.0.1", "mail.site.example", "a@victim.example", true, false},
		/* failed recipient is local or a relay domain */
		{"127.0.0.2", "mail.site.example", "x@site.example", true, false},
		{"127.0.0.2", "mail.site.example", "x@mx.backup.example", true, false},
		/* inbound backscatter: received by someone else */
		{"203.0.113.9", "mx.elsewhere.example", "x@elsewhere.example", false, false},
		/* nothing known */
		{"", "mail.site.example", "a@victim.example", true, false},
		{"127.0.0.2", "mail.site.example", NULL, true, false},
	};
	char err[RG_CONFIG_ERRLEN];
	struct rg_config *c = rg_config_parse_string(
	    "TrustedNetworks 127.0.0.1/32\n"
	    "LocalDomains mail.site.example, site.example\n"
	    "RelayDomains .backup.example\n", "t.conf", err, sizeof(err));

	(void)state;
	assert_non_null(c);
	for (size_t i = 0; i < RG_NELEM(cases); i++) {
		struct dsn_report d = make_dsn(cases[i].client, cases[i].by,
		    cases[i].rcpt);

		if (bounce_relay_abuse(c, &d, cases[i].generated,
		    "mail.site.example") != cases[i].want)
			fail_msg("case %zu (%s %s): want %d", i, cases[i].client,
			    cases[i].rcpt ? cases[i].rcpt : "-", cases[i].want);
	}
	rg_config_unref(c);
}

/* --- the storm state machine ------------------------------------------------ */

static void test_storm_cycle(void **state)
{
	const struct bounce_limits lim = {.window = 60, .total = 0,
	    .per_rcpt = 20, .per_client = 0, .summary_interval = 30};
	struct bounce_sensor *s = bounce_sensor_new("generated", 64, &lim);
	struct bounce_storm_report rep;
	struct dsn_report d = make_dsn("127.0.0.2", "mail.site.example",
	    "a@victim.example");
	struct bounce_obs obs = {.recipient = "<postmaster@mail.site.example>",
	    .client = "127.0.0.2", .dsn = &d, .relay_abuse = true};
	char sentence[1200], line[4096];
	int starts = 0;

	(void)state;
	for (int i = 0; i < 19; i++)
		assert_int_equal(bounce_sensor_add(s, &obs, 100 + i * 0.5, &rep),
		    BOUNCE_STORM_NONE);
	assert_false(bounce_sensor_in_storm(s));
	/* the 20th bounce to one recipient starts the storm, once */
	for (int i = 19; i < 60; i++)
		if (bounce_sensor_add(s, &obs, 100 + i * 0.5, &rep) ==
		    BOUNCE_STORM_START) {
			starts++;
			assert_int_equal(i, 19);
			assert_int_equal(rep.total, 20);
			assert_string_equal(rep.origin, "generated");
			assert_non_null(strstr(rep.trigger,
			    "20 bounces to postmaster@mail.site.example"));
			assert_int_equal(rep.relay_abuse, 20);
			assert_string_equal(rep.top[BOUNCE_DIM_DOMAIN][0].key,
			    "victim.example");
			assert_string_equal(rep.top[BOUNCE_DIM_STATUS][0].key, "5.4.4");
			assert_string_equal(rep.top[BOUNCE_DIM_ORIG_CLIENT][0].key,
			    "127.0.0.2");
			bounce_storm_sentence(&rep, sentence, sizeof(sentence));
			assert_non_null(strstr(sentence, "relayed for outside "
			    "clients (127.0.0.2) to victim.example"));
			assert_non_null(strstr(sentence, "open-relay abuse"));
		}
	assert_int_equal(starts, 1);
	assert_true(bounce_sensor_in_storm(s));
	assert_int_equal(bounce_sensor_count(s, BOUNCE_DIM_RCPT,
	    "postmaster@MAIL.site.example", 130), 60);
	/* summaries every 30 s while it lasts, the end when it falls back */
	assert_int_equal(bounce_sensor_tick(s, 120, &rep), BOUNCE_STORM_NONE);
	assert_int_equal(bounce_sensor_tick(s, 140, &rep), BOUNCE_STORM_SUMMARY);
	assert_int_equal(rep.storm_bounces, 41);
	assert_int_equal(bounce_sensor_tick(s, 141, &rep), BOUNCE_STORM_NONE);
	assert_int_equal(bounce_sensor_tick(s, 200, &rep), BOUNCE_STORM_END);
	assert_true(rep.total < 20);
	{
		/* the event line carries the lists and the plain sentence */
		struct rg_event_item it[1] = {{"victim.example", 41}};
		struct rg_event_field f[2] = {{.key = "failed_domains",
		    .items = it, .nitems = 1}, {.key = "origin", .str = "generated"}};
		struct rg_event ev = {.event = "bounce_storm", .count = 41,
		    .window = 60, .fields = f, .nfields = 2, .reason = "x y"};

		assert_string_equal(rg_event_format_kv(&ev, line, sizeof(line)),
		    "event=bounce_storm count=41 window=60 "
		    "failed_domains=victim.example(41) origin=generated reason=\"x y\"");
	}
	assert_false(bounce_sensor_in_storm(s));
	assert_int_equal(bounce_sensor_tick(s, 300, &rep), BOUNCE_STORM_NONE);
	bounce_sensor_free(s);
}

/* Backscatter: many recipients, one client; the client threshold fires. */
static void test_storm_per_client(void **state)
{
	const struct bounce_limits lim = {.window = 300, .total = 100,
	    .per_rcpt = 20, .per_client = 20, .summary_interval = 60};
	struct bounce_sensor *s = bounce_sensor_new("inbound", 64, &lim);
	struct bounce_storm_report rep;
	char rcpt[64];
	int start_at = -1;

	(void)state;
	for (int i = 0; i < 30; i++) {
		struct bounce_obs obs = {.recipient = rcpt, .client = "127.0.0.2"};

		snprintf(rcpt, sizeof(rcpt), "<u%d@site.example>", i);
		if (bounce_sensor_add(s, &obs, 50 + i, &rep) == BOUNCE_STORM_START)
			start_at = i;
	}
	assert_int_equal(start_at, 19);
	bounce_sensor_free(s);
}

/* --- thread safety ----------------------------------------------------------- */

static struct bounce_sensor *shared;

static void *adder(void *arg)
{
	char rcpt[64];

	for (int i = 0; i < 5000; i++) {
		struct bounce_obs obs = {.recipient = rcpt, .client = arg};

		snprintf(rcpt, sizeof(rcpt), "<u%d@site.example>", i % 100);
		bounce_sensor_add(shared, &obs, 10.0 + i * 0.001, NULL);
	}
	return NULL;
}

static void test_threads(void **state)
{
	const struct bounce_limits lim = {.window = 3600, .total = 1000000,
	    .per_rcpt = 1000000, .per_client = 1000000, .summary_interval = 60};
	static char *clients[] = {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"};
	pthread_t th[4];

	(void)state;
	shared = bounce_sensor_new("inbound", 128, &lim);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, adder, clients[i]), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(bounce_sensor_count(shared, BOUNCE_DIM_RCPT, NULL, 20), 20000);
	for (int i = 0; i < 4; i++)
		assert_int_equal(bounce_sensor_count(shared, BOUNCE_DIM_CLIENT,
		    clients[i], 20), 5000);
	assert_int_equal(bounce_sensor_count(shared, BOUNCE_DIM_RCPT,
	    "u7@site.example", 20), 200);
	bounce_sensor_free(shared);
}

/* The schema rows of the sensor: defaults, and a 5xx hard-limit reply is
 * refused (generated bounces are never rejected; inbound ones only deferred). */
static void test_config_rows(void **state)
{
	char err[RG_CONFIG_ERRLEN];
	struct rg_config *c = rg_config_parse_string("", "t.conf", err,
	    sizeof(err));

	(void)state;
	assert_non_null(c);
	assert_true(c->bounce_sensor);
	assert_int_equal(c->bounce_window, 300);
	assert_int_equal(c->bounce_threshold, 100);
	assert_int_equal(c->bounce_rcpt_threshold, 20);
	assert_int_equal(c->bounce_client_threshold, 20);
	assert_int_equal(c->bounce_summary_interval, 60);
	assert_int_equal(c->bounce_table_size, 1024);
	assert_int_equal(c->bounce_max_body, 65536);
	assert_int_equal(c->bounce_storm_action, RG_BOUNCE_ACTION_NONE);
	assert_int_equal(c->bounce_hard_limit, 0);
	assert_string_equal(c->bounce_hard_limit_reply.code, "451");
	rg_config_unref(c);
	assert_null(rg_config_parse_string("BounceHardLimitReply 550 5.7.1 no\n",
	    "t.conf", err, sizeof(err)));
	assert_string_equal(err, "t.conf:1: BounceHardLimitReply: '550 5.7.1 no': "
	    "must be a 4xx reply");
	assert_null(rg_config_parse_string("BounceWindow 5\n", "t.conf", err,
	    sizeof(err)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_slides),
		cmocka_unit_test(test_table_exact),
		cmocka_unit_test(test_flood_keeps_heavy_hitter),
		cmocka_unit_test(test_sender_kind),
		cmocka_unit_test(test_diag_normalise),
		cmocka_unit_test(test_relay_abuse),
		cmocka_unit_test(test_storm_cycle),
		cmocka_unit_test(test_storm_per_client),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_config_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

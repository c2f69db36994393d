/*
 * test_metrics.c - MetricsListen parsing (loopback only) and the
 * Prometheus text: exact counts, cumulative histogram buckets, label
 * sets, counters from many threads at once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "milter/metrics.h"
#include "milter/policy/relay.h"
#include "lib/mail/spf.h"
#include "lib/base/util.h"

static const struct {
	const char *in;
	int ok;
	const char *err;	/* substring when !ok */
} listen_cases[] = {
	{"127.0.0.1:9894", 1, NULL},
	{"127.1.2.3:1", 1, NULL},
	{"[::1]:9894", 1, NULL},
	{"0.0.0.0:9894", 0, "not a loopback"},
	{"192.0.2.1:9894", 0, "not a loopback"},
	{"[2001:db8::1]:9894", 0, "not a loopback"},
	{"localhost:9894", 0, "not a name"},
	{"127.0.0.1", 0, "expected"},
	{"127.0.0.1:", 0, "port"},
	{"127.0.0.1:0", 0, "port"},
	{"127.0.0.1:65536", 0, "port"},
	{"127.0.0.1:99x", 0, "port"},
	{"[::1]9894", 0, "expected"},
	{"", 0, "expected"},
};

static void test_parse_listen(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char err[256];

	(void)state;
	for (size_t i = 0; i < RG_NELEM(listen_cases); i++) {
		int rc;

		err[0] = '\0';
		rc = rg_metrics_parse_listen(listen_cases[i].in, &ss, &len, err,
		    sizeof(err));
		if ((rc == 0) != listen_cases[i].ok ||
		    (!listen_cases[i].ok && strstr(err, listen_cases[i].err) == NULL))
			fail_msg("'%s': rc %d err '%s'", listen_cases[i].in, rc, err);
	}
}

static const char *value_of(const char *text, const char *series, char *buf,
    size_t len)
{
	size_t n = strlen(series);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, series, n) == 0 && p[n] == ' ') {
			size_t l = strcspn(p + n + 1, "\n");

			snprintf(buf, len, "%.*s", (int)l, p + n + 1);
			return buf;
		}
	return "absent";
}

static void test_format(void **state)
{
	static const struct {
		const char *series;
		const char *want;
	} want[] = {
		{"relayguard_decisions_total{verdict=\"reject\",basis=\"foreign-domain\"}", "2"},
		{"relayguard_decisions_total{verdict=\"permit\",basis=\"trusted-network\"}", "1"},
		{"relayguard_decisions_total{verdict=\"dunno\",basis=\"local-domain\"}", "absent"},
		{"relayguard_relay_attempts_total{action=\"refused\"}", "2"},
		{"relayguard_relay_attempts_total{action=\"logged\"}", "1"},
		{"relayguard_relay_attempts_refused_by_mta_total", "1"},
		{"relayguard_bounce_storms_total{origin=\"generated\"}", "1"},
		{"relayguard_bounce_storms_total{origin=\"inbound\"}", "0"},
		{"relayguard_spf_results_total{result=\"softfail\"}", "1"},
		{"relayguard_dnsbl_hits_total{action=\"reject\"}", "1"},
		{"relayguard_dns_lookups_total", "3"},
		{"relayguard_dns_timeouts_total", "1"},
		{"relayguard_dns_lookup_duration_seconds_bucket{le=\"0.001\"}", "0"},
		{"relayguard_dns_lookup_duration_seconds_bucket{le=\"0.005\"}", "1"},
		{"relayguard_dns_lookup_duration_seconds_bucket{le=\"0.25\"}", "2"},
		{"relayguard_dns_lookup_duration_seconds_bucket{le=\"5\"}", "2"},
		{"relayguard_dns_lookup_duration_seconds_bucket{le=\"+Inf\"}", "3"},
		{"relayguard_dns_lookup_duration_seconds_sum", "10.204000"},
		{"relayguard_dns_lookup_duration_seconds_count", "3"},
		{"relayguard_milter_sessions_total", "2"},
		{"relayguard_milter_sessions_active", "1"},
		{"relayguard_config_reloads_total{result=\"refused\"}", "1"},
	};
	char buf[64], *text;

	(void)state;
	rg_metrics_reset();
	rg_metrics_decision(RELAY_REJECT, RELAY_BASIS_FOREIGN_DOMAIN);
	rg_metrics_decision(RELAY_REJECT, RELAY_BASIS_FOREIGN_DOMAIN);
	rg_metrics_decision(RELAY_PERMIT, RELAY_BASIS_TRUSTED_NETWORK);
	rg_metrics_decision(99, 0);		/* out of range: ignored */
	rg_metrics_relay_attempt(true);
	rg_metrics_relay_attempt(true);
	rg_metrics_relay_attempt(false);
	rg_metrics_relay_refused_by_mta();
	rg_metrics_bounce_storm(true);
	rg_metrics_spf(RG_SPF_SOFTFAIL);
	rg_metrics_dnsbl_hit(true);
	rg_metrics_dns(0.004, false);
	rg_metrics_dns(0.2, false);
	rg_metrics_dns(10.0, true);		/* beyond the last bucket */
	rg_metrics_session(+1);
	rg_metrics_session(+1);
	rg_metrics_session(-1);
	rg_metrics_reload(false);
	text = rg_metrics_format();
	for (size_t i = 0; i < RG_NELEM(want); i++)
		if (strcmp(value_of(text, want[i].series, buf, sizeof(buf)),
		    want[i].want) != 0)
			fail_msg("%s: got %s, want %s", want[i].series, buf,
			    want[i].want);
	assert_non_null(strstr(text, "# TYPE relayguard_dns_lookup_duration_seconds histogram\n"));
	assert_non_null(strstr(text, "# TYPE relayguard_decisions_total counter\n"));
	free(text);
}

static void *adder(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100000; i++)
		rg_metrics_relay_attempt(true);
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t t[4];
	char buf[64], *text;

	(void)state;
	rg_metrics_reset();
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, adder, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	text = rg_metrics_format();
	assert_string_equal(value_of(text,
	    "relayguard_relay_attempts_total{action=\"refused\"}", buf,
	    sizeof(buf)), "400000");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_listen),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

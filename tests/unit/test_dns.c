/* test_dns.c - the pure parts of dns.h: reverse names (RFC 5782 / RFC 3596),
 * MX ordering, nameserver specs, name syntax. Lookups against a real DNS
 * server on loopback are in tests/integration/410_dns_lookups.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lib/net/dns.h"

static void test_reverse_name(void **state)
{
	static const struct {
		const char *ip, *zone, *want;
	} cases[] = {
		{"192.0.2.1", NULL, "1.2.0.192.in-addr.arpa"},
		{"127.0.0.2", "bl.test", "2.0.0.127.bl.test"},
		{"127.0.0.2", "bl.test.", "2.0.0.127.bl.test"},
		{"198.51.100.255", "zen.example", "255.100.51.198.zen.example"},
		{"2001:db8::1", NULL, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"},
		{"::1", "bl.test", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.bl.test"},
		{"2001:DB8:abcd::ff", "x.example", "f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a.8.b.d.0.1.0.0.2.x.example"},
		{"not-an-ip", NULL, NULL},
		{"192.0.2", NULL, NULL},
		{"[192.0.2.1]", NULL, NULL},
		{"", "bl.test", NULL},
	};
	char buf[200];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = rg_dns_reverse_name(cases[i].ip, cases[i].zone, buf, sizeof(buf));

		if (cases[i].want == NULL) {
			if (rc != -1)
				fail_msg("case %zu (%s): want an error, got %s", i, cases[i].ip, buf);
			continue;
		}
		if (rc != 0 || strcmp(buf, cases[i].want) != 0)
			fail_msg("case %zu (%s): got rc %d '%s', want '%s'", i, cases[i].ip, rc,
			    rc == 0 ? buf : "", cases[i].want);
	}
	/* too small a buffer is an error, never a truncated name */
	assert_int_equal(rg_dns_reverse_name("192.0.2.1", "bl.test", buf, 10), -1);
	assert_int_equal(rg_dns_reverse_name("::1", NULL, buf, 72), -1);
	assert_int_equal(rg_dns_reverse_name("::1", NULL, buf, 73), 0);
}

static void test_mx_sort(void **state)
{
	struct rg_dns_mx mx[] = {
		{20, "mx2.example"}, {10, "b.example"}, {65535, "last.example"},
		{10, "A.example"}, {0, "first.example"}, {10, "c.example"},
	};
	static const char *const want[] = {"first.example", "A.example", "b.example",
	    "c.example", "mx2.example", "last.example"};

	(void)state;
	rg_dns_mx_sort(mx, sizeof(mx) / sizeof(mx[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(mx[i].host, want[i]);
	rg_dns_mx_sort(mx, 0);	/* empty is fine */
}

static void test_parse_nameserver(void **state)
{
	static const struct {
		const char *spec, *addr;
		int port;
		const char *err;	/* substring of the message */
	} cases[] = {
		{"127.0.0.1", "127.0.0.1", 53, NULL},
		{"127.0.0.1:5353", "127.0.0.1", 5353, NULL},
		{"[::1]:5300", "::1", 5300, NULL},
		{"[::1]", "::1", 53, NULL},
		{"::1", "::1", 53, NULL},
		{"2001:db8::53", "2001:db8::53", 53, NULL},
		{"127.0.0.1:0", NULL, 0, "bad port"},
		{"127.0.0.1:65536", NULL, 0, "bad port"},
		{"127.0.0.1:", NULL, 0, "bad port"},
		{"127.0.0.1:53x", NULL, 0, "bad port"},
		{"ns.example:53", NULL, 0, "not an IP address"},
		{"[::1", NULL, 0, "missing ']'"},
		{"[::1]x", NULL, 0, "junk after"},
		{"", NULL, 0, "empty host"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char addr[64] = "", err[200] = "";
		int port = -1;
		int rc = rg_dns_parse_nameserver(cases[i].spec, addr, sizeof(addr), &port, err,
		    sizeof(err));

		if (cases[i].addr) {
			if (rc != 0 || strcmp(addr, cases[i].addr) != 0 || port != cases[i].port)
				fail_msg("case %zu '%s': rc %d addr '%s' port %d (%s)", i,
				    cases[i].spec, rc, addr, port, err);
		} else if (rc != -1 || strstr(err, cases[i].err) == NULL) {
			fail_msg("case %zu '%s': rc %d, message '%s', want '%s'", i,
			    cases[i].spec, rc, err, cases[i].err);
		}
	}
}

static void test_name_valid(void **state)
{
	static const struct {
		const char *name;
		bool want;
	} cases[] = {
		{"example.org", true}, {"example.org.", true}, {"a", true},
		{"_spf.example.org", true}, {"2.0.0.127.bl.test", true},
		{"", false}, {".", false}, {"a..b", false}, {".a", false},
		{"a b.example", false}, {"a\\046b.example", false}, {"a\"b", false},
		{"tab\there", false}, {"caf\xc3\xa9.example", false},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x", true},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x", false},
	};
	char longname[300];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (rg_dns_name_valid(cases[i].name) != cases[i].want)
			fail_msg("case %zu '%s': want %d", i, cases[i].name, cases[i].want);
	/* 253 characters is the limit */
	memset(longname, 0, sizeof(longname));
	for (size_t i = 0; i < 253; i++)
		longname[i] = (i % 10 == 9) ? '.' : 'a';
	assert_true(rg_dns_name_valid(longname));
	longname[253] = 'a';
	assert_false(rg_dns_name_valid(longname));
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(rg_dns_status_name(RG_DNS_NXDOMAIN), "nxdomain");
	assert_string_equal(rg_dns_status_name(RG_DNS_TIMEOUT), "timeout");
	assert_true(rg_dns_status_temporary(RG_DNS_SERVFAIL));
	assert_true(rg_dns_status_temporary(RG_DNS_TIMEOUT));
	assert_false(rg_dns_status_temporary(RG_DNS_NXDOMAIN));
	assert_false(rg_dns_status_temporary(RG_DNS_NODATA));
	assert_string_equal(rg_fcrdns_name(RG_FCRDNS_PASS), "pass");
	assert_string_equal(rg_fcrdns_name(RG_FCRDNS_TEMPERROR), "temperror");
}

static void test_bad_config(void **state)
{
	struct rg_dns_opts o = RG_DNS_OPTS_DEFAULT;
	char err[200];

	(void)state;
	o.nameservers = "127.0.0.1:53, ns.example";
	assert_null(rg_dns_new(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "ns.example"));
	o.nameservers = " , ";
	assert_null(rg_dns_new(&o, err, sizeof(err)));
	/* a valid one is created without sending anything */
	o.nameservers = "127.0.0.1:9, [::1]:9";
	struct rg_dns *dns = rg_dns_new(&o, err, sizeof(err));

	assert_non_null(dns);
	assert_string_equal(rg_dns_describe(dns), "127.0.0.1:9, [::1]:9");
	/* bad names never reach the network */
	struct rg_dns_answer a;

	assert_int_equal(rg_dns_query(dns, "a..b", RG_DNS_T_A, &a), RG_DNS_BADNAME);
	struct rg_dnsbl_result r;

	assert_int_equal(rg_dnsbl_query(dns, "not-an-ip", "bl.test", &r), RG_DNS_BADNAME);
	assert_false(r.listed);
	rg_dns_free(dns);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reverse_name),
		cmocka_unit_test(test_mx_sort),
		cmocka_unit_test(test_parse_nameserver),
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_bad_config),
	};

	return cmocka_run_group_tests_name("dns", tests, NULL, NULL);
}

/* test_netmatch.c - CIDR and domain lists (netmatch.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/mail/netmatch.h"

static void test_cidr_match_table(void **state)
{
	static const struct {
		const char *list, *ip;
		bool want;
	} cases[] = {
		{"192.0.2.0/24", "192.0.2.1", true},
		{"192.0.2.0/24", "192.0.3.1", false},
		{"192.0.2.128/25", "192.0.2.127", false},
		{"192.0.2.128/25", "192.0.2.200", true},
		{"10.0.0.0/8", "10.255.255.255", true},
		{"0.0.0.0/0", "203.0.113.5", true},
		{"0.0.0.0/0", "2001:db8::1", false},
		{"192.0.2.7", "192.0.2.7", true},
		{"192.0.2.7", "192.0.2.8", false},
		{"2001:db8::/32", "2001:db8:ffff::1", true},
		{"2001:db8::/32", "2001:db9::1", false},
		{"2001:db8::/33", "2001:db8:8000::1", false},
		{"::1", "::1", true},
		{"[2001:db8::1]/128", "2001:db8::1", true},
		/* IPv4-mapped IPv6 clients match IPv4 networks, both ways */
		{"127.0.0.0/8", "::ffff:127.0.0.2", true},
		{"127.0.0.1/32", "::ffff:127.0.0.2", false},
		{"::ffff:192.0.2.0/120", "192.0.2.9", true},
		{"::ffff:0:0/96", "198.51.100.1", true},
		{"127.0.0.0/8, ::1", "::1", true},
		{"127.0.0.0/8 10.0.0.0/8,,172.16.0.0/12", "172.31.0.1", true},
		{"", "127.0.0.1", false},
		{"127.0.0.1", "not-an-ip", false},
	};
	char err[RG_NETMATCH_ERRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rg_cidr_list l = {0};

		assert_int_equal(rg_cidr_list_parse(&l, cases[i].list, "t", 1,
		    err, sizeof(err)), 0);
		if (rg_cidr_list_match_text(&l, cases[i].ip) != cases[i].want)
			fail_msg("case %zu: '%s' vs %s: want %d", i, cases[i].list,
			    cases[i].ip, cases[i].want);
		rg_cidr_list_free(&l);
	}
}

static void test_cidr_errors(void **state)
{
	static const struct {
		const char *list, *want;
	} cases[] = {
		{"192.0.2.1/24", "t.conf:7: '192.0.2.1/24': host bits set beyond the /24 prefix"},
		{"192.0.2.0/33", "t.conf:7: '192.0.2.0/33': prefix length must be 0..32"},
		{"2001:db8::/129", "t.conf:7: '2001:db8::/129': prefix length must be 0..128"},
		{"192.0.2.0/", "t.conf:7: '192.0.2.0/': prefix length must be 0..32"},
		{"192.0.2.0/-1", "t.conf:7: '192.0.2.0/-1': prefix length must be 0..32"},
		{"example.org", "t.conf:7: 'example.org' is not an IPv4 or IPv6 address"},
		{"127.0.0.1, 300.1.1.1", "t.conf:7: '300.1.1.1' is not an IPv4 or IPv6 address"},
		{"file:relative", "t.conf:7: 'file:relative': file: needs an absolute path"},
		{"file:/nonexistent/rg", "t.conf:7: cannot open /nonexistent/rg: No such file or directory"},
	};
	char err[RG_NETMATCH_ERRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rg_cidr_list l = {0};

		assert_int_equal(rg_cidr_list_parse(&l, cases[i].list, "t.conf", 7,
		    err, sizeof(err)), -1);
		assert_string_equal(err, cases[i].want);
		rg_cidr_list_free(&l);
	}
}

static void test_sockaddr(void **state)
{
	struct rg_cidr_list l = {0};
	struct sockaddr_in in = {.sin_family = AF_INET};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
	struct sockaddr sun = {.sa_family = AF_UNIX};
	char err[RG_NETMATCH_ERRLEN];

	(void)state;
	assert_int_equal(rg_cidr_list_parse(&l, "127.0.0.1/32", "t", 1, err,
	    sizeof(err)), 0);
	inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
	assert_true(rg_cidr_list_match_sockaddr(&l, (struct sockaddr *)&in));
	inet_pton(AF_INET, "127.0.0.2", &in.sin_addr);
	assert_false(rg_cidr_list_match_sockaddr(&l, (struct sockaddr *)&in));
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &in6.sin6_addr);
	assert_true(rg_cidr_list_match_sockaddr(&l, (struct sockaddr *)&in6));
	assert_false(rg_cidr_list_match_sockaddr(&l, &sun));
	assert_false(rg_cidr_list_match_sockaddr(&l, NULL));
	rg_cidr_list_free(&l);
}

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/rg-test-netmatch.XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_file_lists(void **state)
{
	char *good = write_temp("# trusted\n10.0.0.0/8 # office\n\n"
	    "192.0.2.0/24, 2001:db8::/32\n");
	char *bad = write_temp("10.0.0.0/8\n# comment\n10.1.0.0/8\n");
	char *nest = write_temp("file:/etc/hosts\n");
	char value[256], err[RG_NETMATCH_ERRLEN], want[256];
	struct rg_cidr_list l = {0};

	(void)state;
	snprintf(value, sizeof(value), "127.0.0.1, file:%s", good);
	assert_int_equal(rg_cidr_list_parse(&l, value, "t", 1, err, sizeof(err)), 0);
	assert_int_equal(l.n, 4);
	assert_true(rg_cidr_list_match_text(&l, "10.9.9.9"));
	assert_true(rg_cidr_list_match_text(&l, "2001:db8::5"));
	rg_cidr_list_free(&l);

	/* errors name the included file and its line */
	snprintf(value, sizeof(value), "file:%s", bad);
	assert_int_equal(rg_cidr_list_parse(&l, value, "t", 1, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:3: '10.1.0.0/8': host bits set beyond "
	    "the /8 prefix", bad);
	assert_string_equal(err, want);
	rg_cidr_list_free(&l);

	snprintf(value, sizeof(value), "file:%s", nest);
	assert_int_equal(rg_cidr_list_parse(&l, value, "t", 1, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:1: 'file:/etc/hosts': included files "
	    "do not nest", nest);
	assert_string_equal(err, want);
	rg_cidr_list_free(&l);

	/* a file that is no list (file:/etc/shadow): its line, which may
	 * hold a password hash, is not echoed */
	{
		char *shadow = write_temp("root:$y$j9T$SeCrEtHaSh:20228:0:99999:7:::\n");
		struct rg_domain_list d = {0};

		snprintf(value, sizeof(value), "file:%s", shadow);
		assert_int_equal(rg_domain_list_parse(&d, value, "t", 1, err,
		    sizeof(err)), -1);
		snprintf(want, sizeof(want), "%s:1: not a list item (is this a "
		    "list file?)", shadow);
		assert_string_equal(err, want);
		rg_domain_list_free(&d);
		unlink(shadow);
		free(shadow);
	}

	unlink(good);
	unlink(bad);
	unlink(nest);
	free(good);
	free(bad);
	free(nest);
}

static void test_domain_lists(void **state)
{
	static const struct {
		const char *list, *domain, *literal;
		bool want;
	} cases[] = {
		{"example.org", "example.org", NULL, true},
		{"example.org", "EXAMPLE.ORG", NULL, true},
		{"Example.Org.", "example.org", NULL, true},
		{"example.org", "mx.example.org", NULL, false},
		{".example.org", "mx.example.org", NULL, true},
		{".example.org", "a.b.example.org", NULL, true},
		{".example.org", "example.org", NULL, false},
		{".example.org", "badexample.org", NULL, false},
		{"example.org .example.org", "example.org", NULL, true},
		{"site.example, localhost", "localhost", NULL, true},
		{"site.example", "victim.example", NULL, false},
		{"site.example", "[127.0.0.1]", "127.0.0.1", false},
		{"[127.0.0.1]", "[127.0.0.1]", "127.0.0.1", true},
		{"[127.0.0.1]", "[127.0.0.2]", "127.0.0.2", false},
		{"[IPv6:2001:db8::1]", "[ipv6:2001:db8::1]", "2001:db8::1", true},
		{"[127.0.0.1]", "[ipv6:::ffff:127.0.0.1]", "::ffff:127.0.0.1", true},
		{"", "example.org", NULL, false},
	};
	char err[RG_NETMATCH_ERRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rg_domain_list l = {0};

		assert_int_equal(rg_domain_list_parse(&l, cases[i].list, "t", 1,
		    err, sizeof(err)), 0);
		if (rg_domain_list_match(&l, cases[i].domain, cases[i].literal) !=
		    cases[i].want)
			fail_msg("case %zu: '%s' vs %s: want %d", i, cases[i].list,
			    cases[i].domain, cases[i].want);
		rg_domain_list_free(&l);
	}
}

static void test_domain_errors(void **state)
{
	static const struct {
		const char *list, *want;
	} cases[] = {
		{"exa mple..org", "t:2: 'mple..org' is not a domain name (bad character or empty label)"},
		{"ex@mple.org", "t:2: 'ex@mple.org' is not a domain name (bad character or empty label)"},
		{".", "t:2: '.' is not a domain name"},
		{"[999.0.0.1]", "t:2: '[999.0.0.1]' is not an address literal ([192.0.2.1] or [IPv6:2001:db8::1])"},
	};
	char err[RG_NETMATCH_ERRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rg_domain_list l = {0};

		assert_int_equal(rg_domain_list_parse(&l, cases[i].list, "t", 2,
		    err, sizeof(err)), -1);
		assert_string_equal(err, cases[i].want);
		rg_domain_list_free(&l);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_match_table),
		cmocka_unit_test(test_cidr_errors),
		cmocka_unit_test(test_sockaddr),
		cmocka_unit_test(test_file_lists),
		cmocka_unit_test(test_domain_lists),
		cmocka_unit_test(test_domain_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

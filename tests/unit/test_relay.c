/*
 * test_relay.c - relay_decide(), with the relay-trick catalogue as oracle:
 * every probe the auditor would send (every row, every per-name repeat) is
 * refused for an untrusted client, whatever names the site calls local;
 * the C1 postmaster control is permitted.
 */
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

#include "milter/policy/relay.h"
#include "audit/trick.h"
#include "lib/base/util.h"

/* The site of the integration tests: Postfix's mydestination. */
static const char site_conf[] =
    "TrustedNetworks 127.0.0.1/32, 2001:db8:1::/48\n"
    "LocalDomains mail.site.example, site.example, localhost, [192.0.2.1], [127.0.0.1]\n"
    "RelayDomains .backup.example\n";

#include "confload.h"

static struct sockaddr_storage addr(const char *ip)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, ip, &in6->sin6_addr), 1);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, ip, &in->sin_addr), 1);
	}
	return ss;
}

static void test_decision_table(void **state)
{
	static const struct {
		const char *client;	/* NULL: local submission */
		const char *auth;
		const char *rcpt;
		enum relay_verdict want;
		enum relay_basis basis;
		bool relaying;
		const char *reason;
		const char *server;	/* {daemon_addr}; NULL: not sent */
	} cases[] = {
		/* untrusted client */
		{"127.0.0.2", NULL, "<user@victim.example>", RELAY_REJECT,
		 RELAY_BASIS_FOREIGN_DOMAIN, true,
		 "untrusted client, recipient domain victim.example not local", NULL},
		{"127.0.0.2", NULL, "<user@site.example>", RELAY_DUNNO,
		 RELAY_BASIS_LOCAL_DOMAIN, false, "recipient domain site.example is local", NULL},
		{"127.0.0.2", NULL, "<User@MAIL.Site.Example.>", RELAY_DUNNO,
		 RELAY_BASIS_LOCAL_DOMAIN, false, NULL, NULL},
		{"127.0.0.2", NULL, "user@site.example", RELAY_DUNNO,
		 RELAY_BASIS_LOCAL_DOMAIN, false, NULL, NULL},
		{"127.0.0.2", NULL, "<\"john doe\"@site.example>", RELAY_DUNNO,
		 RELAY_BASIS_LOCAL_DOMAIN, false, NULL, NULL},
		{"127.0.0.2", NULL, "<mx1@a.backup.example>", RELAY_DUNNO,
		 RELAY_BASIS_RELAY_DOMAIN, false,
		 "recipient domain a.backup.example is a relay domain", NULL},
		{"127.0.0.2", NULL, "<mx1@backup.example>", RELAY_REJECT,
		 RELAY_BASIS_FOREIGN_DOMAIN, true, NULL, NULL},
		{"127.0.0.2", NULL, "<user@site.example.evil.example>", RELAY_REJECT,
		 RELAY_BASIS_FOREIGN_DOMAIN, true, NULL, NULL},
		{"127.0.0.2", NULL, "<user%victim.example@site.example>", RELAY_REJECT,
		 RELAY_BASIS_ROUTING, true, "routing operator '%' in local part", NULL},
		{"127.0.0.2", NULL, "<victim.example!user@site.example>", RELAY_REJECT,
		 RELAY_BASIS_ROUTING, true, "routing operator '!' in local part", NULL},
		{"127.0.0.2", NULL, "<\"user@victim.example\"@site.example>", RELAY_REJECT,
		 RELAY_BASIS_ROUTING, true,
		 "routing operator '@' in local part (hidden in a quoted local part)", NULL},
		{"127.0.0.2", NULL, "<@site.example:user@victim.example>", RELAY_REJECT,
		 RELAY_BASIS_ROUTING, true,
		 "source route @site.example: in recipient", NULL},
		{"127.0.0.2", NULL, "<@site.example:user@site.example>", RELAY_REJECT,
		 RELAY_BASIS_ROUTING, true, NULL, NULL},
		{"127.0.0.2", NULL, "<user@site.example@>", RELAY_REJECT,
		 RELAY_BASIS_ROUTING, true, NULL, NULL},
		{"127.0.0.2", NULL, "<user@[192.0.2.1]>", RELAY_DUNNO,
		 RELAY_BASIS_LOCAL_DOMAIN, false, NULL, NULL},
		{"127.0.0.2", NULL, "<user@[192.0.2.2]>", RELAY_REJECT,
		 RELAY_BASIS_FOREIGN_DOMAIN, true,
		 "untrusted client, recipient domain [192.0.2.2] not local", NULL},
		{"127.0.0.2", NULL, "<postmaster>", RELAY_DUNNO,
		 RELAY_BASIS_LOCAL_DOMAIN, false, NULL, NULL},
		{"127.0.0.2", NULL, "<user>", RELAY_REJECT, RELAY_BASIS_BAD_FORM, true,
		 "unqualified recipient user", NULL},
		{"127.0.0.2", NULL, "<>", RELAY_REJECT, RELAY_BASIS_BAD_FORM, true,
		 "null recipient <>", NULL},
		{"127.0.0.2", NULL, "<user@site.example", RELAY_REJECT,
		 RELAY_BASIS_UNPARSEABLE, true,
		 "unparseable address: '<' without '>' at offset 0", NULL},
		{"127.0.0.2", NULL, "<\"user@site.example>", RELAY_REJECT,
		 RELAY_BASIS_UNPARSEABLE, true, NULL, NULL},
		{"127.0.0.2", NULL, "<us\x01r@site.example>", RELAY_REJECT,
		 RELAY_BASIS_UNPARSEABLE, true, NULL, NULL},
		{"127.0.0.2", NULL, NULL, RELAY_REJECT, RELAY_BASIS_UNPARSEABLE, true, NULL, NULL},
		/* IPv4-mapped IPv6 clients match IPv4 networks */
		{"::ffff:127.0.0.2", NULL, "<user@victim.example>", RELAY_REJECT,
		 RELAY_BASIS_FOREIGN_DOMAIN, true, NULL, NULL},
		{"::ffff:127.0.0.1", NULL, "<user@victim.example>", RELAY_PERMIT,
		 RELAY_BASIS_TRUSTED_NETWORK, true,
		 "trusted client, recipient domain victim.example not local", NULL},
		{"2001:db8:1:2::5", NULL, "<user%victim.example@site.example>", RELAY_PERMIT,
		 RELAY_BASIS_TRUSTED_NETWORK, true, NULL, NULL},
		{"2001:db8:2::5", NULL, "<user@victim.example>", RELAY_REJECT,
		 RELAY_BASIS_FOREIGN_DOMAIN, true, NULL, NULL},
		/* the server's own address literal ({daemon_addr}) is local
		 * (RFC 5321 4.5.1); LocalDomains does not list these */
		{"127.0.0.2", NULL, "<postmaster@[198.51.100.7]>", RELAY_DUNNO,
		 RELAY_BASIS_LOCAL_DOMAIN, false, "recipient domain [198.51.100.7] "
		 "is this server's own address literal", "198.51.100.7"},
		{"127.0.0.2", NULL, "<user@[198.51.100.7]>", RELAY_DUNNO,
		 RELAY_BASIS_LOCAL_DOMAIN, false, NULL, "198.51.100.7"},
		{"127.0.0.2", NULL, "<postmaster@[198.51.100.7]>", RELAY_REJECT,
		 RELAY_BASIS_FOREIGN_DOMAIN, true, "untrusted client, recipient "
		 "domain [198.51.100.7] not local", NULL},
		{"127.0.0.2", NULL, "<user@[198.51.100.8]>", RELAY_REJECT,
		 RELAY_BASIS_FOREIGN_DOMAIN, true, "untrusted client, recipient "
		 "domain [198.51.100.8] not local", "198.51.100.7"},
		{"127.0.0.2", NULL, "<user%victim.example@[198.51.100.7]>",
		 RELAY_REJECT, RELAY_BASIS_ROUTING, true, NULL, "198.51.100.7"},
		{"127.0.0.2", NULL, "<@[198.51.100.7]:user@victim.example>",
		 RELAY_REJECT, RELAY_BASIS_ROUTING, true, NULL, "198.51.100.7"},
		{"127.0.0.2", NULL, "<user@198.51.100.7>", RELAY_REJECT,
		 RELAY_BASIS_FOREIGN_DOMAIN, true, NULL, "198.51.100.7"},
		{"127.0.0.2", NULL, "<user@[IPv6:2001:db8::25]>", RELAY_DUNNO,
		 RELAY_BASIS_LOCAL_DOMAIN, false, NULL, "2001:db8:0::25"},
		{"127.0.0.2", NULL, "<user@[IPv6:2001:DB8::25]>", RELAY_DUNNO,
		 RELAY_BASIS_LOCAL_DOMAIN, false, NULL, "IPv6:2001:db8::25"},
		{"127.0.0.2", NULL, "<user@[IPv6:2001:db8::26]>", RELAY_REJECT,
		 RELAY_BASIS_FOREIGN_DOMAIN, true, NULL, "2001:db8::25"},
		{"127.0.0.2", NULL, "<user@[IPv6:::ffff:198.51.100.7]>", RELAY_DUNNO,
		 RELAY_BASIS_LOCAL_DOMAIN, false, NULL, "198.51.100.7"},
		{"127.0.0.2", NULL, "<user@[198.51.100.7]>", RELAY_DUNNO,
		 RELAY_BASIS_LOCAL_DOMAIN, false, NULL, "::ffff:198.51.100.7"},
		/* a wildcard listener, a port, junk: no address of ours */
		{"127.0.0.2", NULL, "<user@[0.0.0.0]>", RELAY_REJECT,
		 RELAY_BASIS_FOREIGN_DOMAIN, true, NULL, "0.0.0.0"},
		{"127.0.0.2", NULL, "<user@[IPv6:::]>", RELAY_REJECT,
		 RELAY_BASIS_FOREIGN_DOMAIN, true, NULL, "::"},
		{"127.0.0.2", NULL, "<user@[198.51.100.7]>", RELAY_REJECT,
		 RELAY_BASIS_FOREIGN_DOMAIN, true, NULL, "198.51.100.7:25"},
		{"127.0.0.2", NULL, "<user@[198.51.100.7]>", RELAY_REJECT,
		 RELAY_BASIS_FOREIGN_DOMAIN, true, NULL, "mail.site.example"},
		{"127.0.0.2", NULL, "<user@[198.51.100.7]>", RELAY_REJECT,
		 RELAY_BASIS_FOREIGN_DOMAIN, true, NULL, ""},
		{NULL, NULL, "<user@[198.51.100.7]>", RELAY_DUNNO,
		 RELAY_BASIS_LOCAL_DOMAIN, false, NULL, "198.51.100.7"},
		/* trusted and local clients */
		{"127.0.0.1", NULL, "<user@site.example>", RELAY_PERMIT,
		 RELAY_BASIS_TRUSTED_NETWORK, false, "trusted client", NULL},
		/* no IP address (milter family unix/unknown, no connect):
		 * untrusted unless TrustAddresslessClients yes */
		{NULL, NULL, "<user@victim.example>", RELAY_REJECT,
		 RELAY_BASIS_FOREIGN_DOMAIN, true,
		 "client without an IP address, recipient domain victim.example not local", NULL},
		{NULL, NULL, "<user%victim.example@site.example>", RELAY_REJECT,
		 RELAY_BASIS_ROUTING, true, NULL, NULL},
		{NULL, NULL, "<user@site.example>", RELAY_DUNNO,
		 RELAY_BASIS_LOCAL_DOMAIN, false, NULL, NULL},
		{NULL, "alice", "<user@victim.example>", RELAY_PERMIT,
		 RELAY_BASIS_AUTHENTICATED, true, NULL, NULL},
		/* authenticated */
		{"127.0.0.2", "alice", "<user@victim.example>", RELAY_PERMIT,
		 RELAY_BASIS_AUTHENTICATED, true,
		 "authenticated as alice, recipient domain victim.example not local", NULL},
		{"127.0.0.2", "alice", "<user@site.example>", RELAY_PERMIT,
		 RELAY_BASIS_AUTHENTICATED, false, "authenticated as alice", NULL},
		{"127.0.0.2", "", "<user@victim.example>", RELAY_REJECT,
		 RELAY_BASIS_FOREIGN_DOMAIN, true, NULL, NULL},
	};
	struct rg_config *c = load(site_conf);
	struct relay_decision d;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage ss;
		const struct sockaddr *sa = NULL;

		if (cases[i].client != NULL) {
			ss = addr(cases[i].client);
			sa = (const struct sockaddr *)&ss;
		}
		relay_decide(c, sa, cases[i].server, cases[i].auth, cases[i].rcpt, &d);
		if (d.verdict != cases[i].want || d.basis != cases[i].basis ||
		    d.relaying != cases[i].relaying)
			fail_msg("case %zu (%s): got %s/%s/%d (%s), want %s/%s/%d", i,
			    cases[i].rcpt ? cases[i].rcpt : "NULL",
			    relay_verdict_str(d.verdict), relay_basis_str(d.basis),
			    d.relaying, d.reason, relay_verdict_str(cases[i].want),
			    relay_basis_str(cases[i].basis), cases[i].relaying);
		if (cases[i].reason != NULL)
			assert_string_equal(d.reason, cases[i].reason);
	}
	rg_config_unref(c);
}

static void test_trust_addressless(void **state)
{
	struct rg_config *c = load("TrustAddresslessClients yes\n"
	    "LocalDomains site.example\n");
	struct rg_config *dflt = load("LocalDomains site.example\n");
	struct sockaddr_storage ss = addr("203.0.113.5");
	struct relay_decision d;

	(void)state;
	assert_false(dflt->trust_addressless);
	assert_int_equal(relay_decide(c, NULL, NULL, NULL, "<user@victim.example>", &d),
	    RELAY_PERMIT);
	assert_int_equal(d.basis, RELAY_BASIS_LOCAL_SUBMISSION);
	assert_true(d.relaying);
	assert_string_equal(d.reason, "client without an IP address, trusted by "
	    "TrustAddresslessClients, recipient domain victim.example not local");
	/* the key trusts no address-bearing client */
	assert_int_equal(relay_decide(c, (struct sockaddr *)&ss, NULL, NULL,
	    "<user@victim.example>", &d), RELAY_REJECT);
	rg_config_unref(c);
	rg_config_unref(dflt);
}

static void test_allow_authenticated_no(void **state)
{
	struct rg_config *c = load("AllowAuthenticated no\nLocalDomains site.example\n");
	struct sockaddr_storage ss = addr("203.0.113.5");
	struct relay_decision d;

	(void)state;
	assert_int_equal(relay_decide(c, (struct sockaddr *)&ss, NULL, "alice",
	    "<u@victim.example>", &d), RELAY_REJECT);
	rg_config_unref(c);
}

/* Walk the whole battery the auditor generates, for several views of
 * "the server's own names": every relay trick must be refused. server:
 * the {daemon_addr} the MTA passes (NULL: none). */
static void check_battery(const struct rg_config *c, const char *server,
    const char *ip_literal, const char *server_name, const char *const *names,
    size_t nnames)
{
	const struct rg_trick_params p = {
		.domain = "victim.example", .sender_domain = "other.example",
		.ip_literal = ip_literal, .server_name = server_name,
		.random = "rgq7k2x9",
	};
	struct sockaddr_storage untrusted = addr("127.0.0.2");
	struct sockaddr_storage trusted = addr("127.0.0.1");
	struct rg_probe_spec *v;
	struct relay_decision d;
	size_t n = rg_battery_build(&p, names, nnames, &v), refused = 0;

	assert_true(n >= rg_trick_count);
	for (size_t i = 0; i < n; i++) {
		const struct rg_trick *t = v[i].trick;

		relay_decide(c, (struct sockaddr *)&untrusted, server, NULL,
		    v[i].rcpt_to, &d);
		if (t->flags & RG_TRICK_CONTROL_LOCAL) {
			if (d.verdict == RELAY_REJECT)
				fail_msg("control %s %s refused: %s", v[i].id,
				    v[i].rcpt_to, d.reason);
			continue;
		}
		/* a random local part at a name: local or not, no relay test */
		if (t->flags & RG_TRICK_CONTROL_NAME)
			continue;
		if (d.verdict != RELAY_REJECT)
			fail_msg("trick %s RCPT TO:%s not refused (%s: %s)", v[i].id,
			    v[i].rcpt_to, relay_verdict_str(d.verdict), d.reason);
		assert_true(d.relaying);
		refused++;
		/* an authenticated session may relay the same recipient */
		assert_int_equal(relay_decide(c, (struct sockaddr *)&untrusted,
		    server, "alice", v[i].rcpt_to, &d), RELAY_PERMIT);
		assert_int_equal(relay_decide(c, (struct sockaddr *)&trusted,
		    server, NULL, v[i].rcpt_to, &d), RELAY_PERMIT);
	}
	print_message("# battery %s/%s: %zu probes, %zu refused\n", ip_literal,
	    server_name, n, refused);
	free(v);
}

static void test_trick_battery_oracle(void **state)
{
	const char *names[] = {"[127.0.0.1]", "localhost", "mail.site.example",
	    "site.example", "[192.0.2.1]"};
	const char *names6[] = {"[IPv6:::1]", "localhost"};
	struct rg_config *c = load(site_conf);
	struct rg_config *wide = load("TrustedNetworks 127.0.0.1\n"
	    "LocalDomains site.example, .site.example, "
	    "localhost, [127.0.0.1], [IPv6:::1]\n");
	struct rg_config *bare = load("TrustedNetworks 127.0.0.1\n"
	    "LocalDomains mail.site.example, site.example, localhost, "
	    "[192.0.2.1]\n");

	(void)state;
	check_battery(c, NULL, "[127.0.0.1]", "mail.site.example", names,
	    RG_NELEM(names));
	check_battery(c, NULL, "[192.0.2.1]", "site.example", names,
	    RG_NELEM(names));
	check_battery(wide, NULL, "[IPv6:::1]", "mail.site.example", names6,
	    RG_NELEM(names6));
	/* the literal local only as the server's own address: no trick
	 * gets through it (routing operators, other literals) */
	check_battery(bare, "127.0.0.1", "[127.0.0.1]", "mail.site.example",
	    names, RG_NELEM(names));
	check_battery(bare, "::1", "[IPv6:::1]", "mail.site.example", names6,
	    RG_NELEM(names6));
	rg_config_unref(c);
	rg_config_unref(wide);
	rg_config_unref(bare);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decision_table),
		cmocka_unit_test(test_trust_addressless),
		cmocka_unit_test(test_allow_authenticated_no),
		cmocka_unit_test(test_trick_battery_oracle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

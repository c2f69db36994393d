/* test_config.c - the schema-driven relayguard.conf parser (config.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <pwd.h>
#include <syslog.h>
#include <unistd.h>

#include "milter/policy/config.h"

static void test_defaults(void **state)
{
	char err[RG_CONFIG_ERRLEN] = "";
	struct rg_config *c = rg_config_parse_string("", "empty.conf", err,
	    sizeof(err));

	(void)state;
	assert_non_null(c);
	assert_string_equal(c->socket, "inet:8894@127.0.0.1");
	assert_null(c->user_id);
	assert_null(c->pid_file);
	assert_null(c->event_log);
	assert_int_equal(c->mode, RG_MODE_ENFORCE);
	assert_true(c->allow_authenticated);
	assert_string_equal(c->reject_reply.code, "554");
	assert_string_equal(c->reject_reply.xcode, "5.7.1");
	assert_string_equal(c->reject_reply.text, "Relay access denied");
	assert_int_equal(c->trusted_networks.n, 2);
	assert_true(rg_cidr_list_match_text(&c->trusted_networks, "127.0.0.1"));
	assert_true(rg_cidr_list_match_text(&c->trusted_networks, "::1"));
	assert_int_equal(c->local_domains.n, 0);
	assert_int_equal(c->summary_interval, 600);
	assert_int_equal(c->socket_mode, 0660);
	assert_int_equal(rg_config_syslog_facility(c), LOG_MAIL);
	rg_config_unref(c);
}

static void test_every_key(void **state)
{
	static const char text[] =
	    "# comment\n"
	    "\n"
	    "Socket unix:/run/relayguard/milter.sock\n"
	    "  userid   root:root  \n"
	    "PidFile /run/relayguard.pid\n"
	    "SocketMode 0666\n"
	    "LogFacility local3\n"
	    "LogVerbose yes\n"
	    "Mode log-only\n"
	    "TrustedNetworks 192.0.2.0/24 2001:db8::/32\n"
	    "TrustedNetworks 198.51.100.0/24\n"
	    "LocalDomains site.example, .site.example [192.0.2.1]\n"
	    "RelayDomains backup.example\n"
	    "AllowAuthenticated no\n"
	    "RejectReply 550 5.7.1 Relaying denied (relayguard)\n"
	    "EventLog /var/log/relayguard/events.jsonl\n"
	    "SummaryInterval 60\n"
	    "ClientTableSize 100\n";
	char err[RG_CONFIG_ERRLEN] = "";
	struct rg_config *c = rg_config_parse_string(text, "all.conf", err,
	    sizeof(err));

	(void)state;
	if (c == NULL)
		fail_msg("%s", err);
	assert_string_equal(c->socket, "unix:/run/relayguard/milter.sock");
	assert_string_equal(c->user_id, "root:root");
	assert_string_equal(c->pid_file, "/run/relayguard.pid");
	assert_int_equal(c->socket_mode, 0666);
	assert_int_equal(rg_config_syslog_facility(c), LOG_LOCAL3);
	assert_true(c->log_verbose);
	assert_int_equal(c->mode, RG_MODE_LOG_ONLY);
	assert_string_equal(rg_config_enum_name("Mode", c->mode), "log-only");
	/* a list key given twice accumulates; no default added */
	assert_int_equal(c->trusted_networks.n, 3);
	assert_false(rg_cidr_list_match_text(&c->trusted_networks, "127.0.0.1"));
	assert_true(rg_cidr_list_match_text(&c->trusted_networks, "198.51.100.7"));
	assert_int_equal(c->local_domains.n, 2);
	assert_int_equal(c->local_domains.literals.n, 1);
	assert_int_equal(c->relay_domains.n, 1);
	assert_false(c->allow_authenticated);
	assert_string_equal(c->reject_reply.code, "550");
	assert_string_equal(c->reject_reply.text, "Relaying denied (relayguard)");
	assert_string_equal(c->event_log, "/var/log/relayguard/events.jsonl");
	assert_int_equal(c->summary_interval, 60);
	assert_int_equal(c->client_table_size, 100);
	rg_config_unref(c);
}

static void test_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"Bogus 1\n", "e.conf:1: unknown key 'Bogus'"},
		/* a file that is no config: the line (a secret?) is not echoed */
		{"root:$y$j9T$secrethash:20228:0:99999:7:::\n",
		 "e.conf:1: not a \"Key value\" line (is this a relayguard config?)"},
		{"Mode=enforce\n",
		 "e.conf:1: not a \"Key value\" line (is this a relayguard config?)"},
		{"\n# x\nMode relay-everything\n",
		 "e.conf:3: Mode: 'relay-everything' is not one of enforce|log-only"},
		{"AllowAuthenticated maybe\n",
		 "e.conf:1: AllowAuthenticated: 'maybe' is not yes or no"},
		{"Socket\n", "e.conf:1: Socket needs a value"},
		{"Mode enforce\nMode log-only\n", "e.conf:2: Mode given twice"},
		{"SummaryInterval 5\n",
		 "e.conf:1: SummaryInterval: '5' is not a number in 10..86400"},
		{"SummaryInterval 10m\n",
		 "e.conf:1: SummaryInterval: '10m' is not a number in 10..86400"},
		{"TrustedNetworks 10.0.0.0/8, 10.0.0.1/8\n",
		 "e.conf:1: '10.0.0.1/8': host bits set beyond the /8 prefix (TrustedNetworks)"},
		{"LocalDomains ok.example bad..example\n",
		 "e.conf:1: 'bad..example' is not a domain name (bad character or empty label) (LocalDomains)"},
		{"RejectReply 250 ok\n",
		 "e.conf:1: RejectReply: reply must start with a 4xx or 5xx code, e.g. \"554 5.7.1 Relay access denied\""},
		{"RejectReply 554 4.7.1 denied\n",
		 "e.conf:1: RejectReply: bad enhanced status code '4.7.1' (must be 5.x.y, RFC 3463)"},
		{"RejectReply 554 5.7.1\n",
		 "e.conf:1: RejectReply: reply needs a text after the code"},
		{"RejectReply 554 5.7.1 d\xc3\xa9nied\n",
		 "e.conf:1: RejectReply: reply text must be printable ASCII (byte 0xc3 at offset 1)"},
		{"Socket 8894\n",
		 "e.conf:1: Socket: '8894': expected unix:/path, inet:port@host or inet6:port@host"},
		{"Socket inet:99999@127.0.0.1\n",
		 "e.conf:1: Socket: 'inet:99999@127.0.0.1': expected inet:PORT@HOST with PORT 1..65535"},
		{"Socket unix:run/x.sock\n",
		 "e.conf:1: Socket: 'unix:run/x.sock': the socket path must be absolute"},
		{"UserID no-such-user-rg\n", "e.conf:1: UserID: unknown user 'no-such-user-rg': "
		 "create it (adduser --system --group no-such-user-rg) or name an existing user"},
		/* a lone word may be a password or a token file: not echoed */
		{"# token\nhunter2secret\n",
		 "e.conf:2: not a \"Key value\" line (is this a relayguard config?)"},
		{"Mode log-only\nLocalDomains a.example\nS3cretPassw0rd\n",
		 "e.conf:3: not a \"Key value\" line (is this a relayguard config?)"},
		{"UserID root:no-such-group-rg\n",
		 "e.conf:1: UserID: unknown group 'no-such-group-rg'"},
		{"EventLog events.jsonl\n",
		 "e.conf:1: EventLog: 'events.jsonl' is not an absolute path"},
		{"LogFacility kern\n",
		 "e.conf:1: LogFacility: 'kern' is not one of mail|daemon|user|local0|local1|local2|local3|local4|local5|local6|local7"},
	};
	char err[RG_CONFIG_ERRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rg_config *c;

		err[0] = '\0';
		c = rg_config_parse_string(cases[i].text, "e.conf", err, sizeof(err));
		if (c != NULL)
			fail_msg("case %zu parsed: %s", i, cases[i].text);
		assert_string_equal(err, cases[i].want);
	}
}

static void test_reply_forms(void **state)
{
	static const struct {
		const char *value, *code, *xcode, *text;
	} cases[] = {
		{"554 5.7.1 Relay access denied", "554", "5.7.1", "Relay access denied"},
		{"454 4.7.1 Try later", "454", "4.7.1", "Try later"},
		{"550 Relaying denied", "550", "", "Relaying denied"},
		{"550  5.7.100   spaced   text", "550", "5.7.100", "spaced   text"},
	};
	char text[200], err[RG_CONFIG_ERRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rg_config *c;

		snprintf(text, sizeof(text), "RejectReply %s\n", cases[i].value);
		c = rg_config_parse_string(text, "r.conf", err, sizeof(err));
		if (c == NULL)
			fail_msg("%s", err);
		assert_string_equal(c->reject_reply.code, cases[i].code);
		assert_string_equal(c->reject_reply.xcode, cases[i].xcode);
		assert_string_equal(c->reject_reply.text, cases[i].text);
		rg_config_unref(c);
	}
}

static void test_schema_sane(void **state)
{
	char err[RG_CONFIG_ERRLEN];

	(void)state;
	/* every row documented, names unique, findable case-insensitively */
	for (size_t i = 0; i < rg_config_schema_count; i++) {
		const struct rg_conf_key *k = &rg_config_schema[i];

		assert_non_null(k->description);
		assert_true(strlen(k->description) > 10);
		assert_ptr_equal(rg_config_key_find(k->name), k);
		for (size_t j = i + 1; j < rg_config_schema_count; j++)
			assert_string_not_equal(k->name, rg_config_schema[j].name);
		if (k->type == RG_CONF_ENUM)
			assert_non_null(k->values);
	}
	assert_ptr_equal(rg_config_key_find("trustednetworks"),
	    rg_config_key_find("TrustedNetworks"));
	/* the shipped sample config parses and covers every key (its
	 * "UserID relayguard:postfix" names a user make install creates:
	 * where it does not exist, the same file without that line) */
	{
		char tmp[] = "/tmp/rg-test-sample.XXXXXX";
		const char *sample = "conf/relayguard.conf";
		struct rg_config *c;
		FILE *fp = fopen("conf/relayguard.conf", "r");
		char line[512];
		size_t found = 0;

		assert_non_null(fp);
		if (getpwnam("relayguard") == NULL || getgrnam("postfix") == NULL) {
			int fd = mkstemp(tmp);
			FILE *out;

			assert_true(fd >= 0);
			out = fdopen(fd, "w");
			assert_non_null(out);
			while (fgets(line, sizeof(line), fp) != NULL)
				fprintf(out, "%s%s", strncmp(line, "UserID ", 7) == 0 ?
				    "#" : "", line);
			fclose(out);
			sample = tmp;
		}
		c = rg_config_load(sample, err, sizeof(err));
		if (sample == tmp)
			unlink(tmp);
		if (c == NULL)
			fail_msg("%s", err);
		rg_config_unref(c);
		assert_non_null(fp);
		for (size_t i = 0; i < rg_config_schema_count; i++) {
			rewind(fp);
			while (fgets(line, sizeof(line), fp) != NULL) {
				const char *p = line;

				while (*p == '#' || *p == ' ')
					p++;
				size_t kl = strlen(rg_config_schema[i].name);

				/* the whole key: "SPF" is not satisfied by "SPFHeader" */
				if (strncmp(p, rg_config_schema[i].name, kl) == 0 &&
				    (p[kl] == ' ' || p[kl] == '\t' || p[kl] == '\n')) {
					found++;
					break;
				}
			}
		}
		fclose(fp);
		assert_int_equal(found, rg_config_schema_count);
	}
}

static void test_load_file_and_refcount(void **state)
{
	char path[] = "/tmp/rg-test-config.XXXXXX", err[RG_CONFIG_ERRLEN];
	static const char text[] = "Mode log-only\nLocalDomains x.example\nOops\n";
	struct rg_config *c, *cur;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_null(rg_config_load(path, err, sizeof(err)));
	{
		char want[256];

		/* a bare word is not named: it may be a secret */
		snprintf(want, sizeof(want), "%s:3: not a \"Key value\" line "
		    "(is this a relayguard config?)", path);
		assert_string_equal(err, want);
	}
	unlink(path);
	assert_null(rg_config_load("/nonexistent/relayguard.conf", err, sizeof(err)));
	assert_string_equal(err, "/nonexistent/relayguard.conf: cannot open: "
	    "No such file or directory");

	c = rg_config_parse_string("Mode log-only\n", "a", err, sizeof(err));
	assert_non_null(c);
	rg_config_install(c);
	cur = rg_config_current();
	assert_ptr_equal(cur, c);
	assert_int_equal(cur->refcount, 2);
	rg_config_install(rg_config_parse_string("", "b", err, sizeof(err)));
	/* the old config lives on while a connection holds it */
	assert_int_equal(cur->refcount, 1);
	assert_int_equal(cur->mode, RG_MODE_LOG_ONLY);
	rg_config_unref(cur);
	cur = rg_config_current();
	assert_string_equal(cur->path, "b");
	rg_config_unref(cur);
	rg_config_install(NULL);
}

/* The DNS/SPF keys (issue 5): defaults, seconds, DNSBL items. */
static void test_dns_keys(void **state)
{
	static const struct {
		const char *text;
		bool ok;
		const char *err_has;
	} cases[] = {
		{"DNSTimeout 0.5", true, NULL},
		{"DNSTimeout 0.05", false, "DNSTimeout: '0.05' is not a number of seconds in 0.1..30"},
		{"DNSTimeout 1s", false, "not a number of seconds"},
		{"DNSBudget 9", false, "DNSBudget: '9'"},
		{"Nameservers 127.0.0.1:5353, [::1]:53", true, NULL},
		{"Nameservers 127.0.0.1:99999", false, "Nameservers"},
		{"DNSBL bl.example", true, NULL},
		{"DNSBL bl.example:127.0.0.2=reject, x.example=log", true, NULL},
		{"DNSBL bl.example=drop", false, "action must be log or reject"},
		{"DNSBL bl.example:192.0.2.1", false, "127.0.0.0/8"},
		{"DNSBL nodot", false, "not a DNSBL zone name"},
		{"SPFFail reject", true, NULL},
		{"SPFFail bounce", false, "record|reject|tempfail"},
		{"SPFHeader authentication-results", true, NULL},
	};
	char err[RG_CONFIG_ERRLEN];
	struct rg_config *c;

	(void)state;
	c = rg_config_parse_string("", "empty.conf", err, sizeof(err));
	assert_non_null(c);
	assert_false(c->spf);
	assert_false(c->reverse_dns);
	assert_int_equal(c->dnsbl.n, 0);
	assert_null(c->nameservers);
	assert_true(c->dns_timeout == 1.5);
	assert_int_equal(c->dns_retries, 1);
	assert_true(c->dns_budget == 4.0);
	assert_int_equal(c->spf_header, RG_SPF_HEADER_RECEIVED_SPF);
	assert_int_equal(c->spf_fail, RG_SPF_ACTION_RECORD);
	rg_config_unref(c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		c = rg_config_parse_string(cases[i].text, "t.conf", err, sizeof(err));
		if (cases[i].ok != (c != NULL))
			fail_msg("%s: %s", cases[i].text, c ? "accepted" : err);
		if (c == NULL && strstr(err, cases[i].err_has) == NULL)
			fail_msg("%s: error '%s' lacks '%s'", cases[i].text, err,
			    cases[i].err_has);
		rg_config_unref(c);
	}
	c = rg_config_parse_string("DNSBL bl.example:127.0.0.2=reject\n"
	    "DNSBL BL.example.\n", "t.conf", err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(c->dnsbl.n, 2);
	assert_string_equal(c->dnsbl.v[0].zone, "bl.example");
	assert_string_equal(c->dnsbl.v[0].code, "127.0.0.2");
	assert_int_equal(c->dnsbl.v[0].action, RG_DNSBL_REJECT);
	assert_string_equal(c->dnsbl.v[1].zone, "bl.example");
	assert_string_equal(c->dnsbl.v[1].code, "");
	assert_int_equal(c->dnsbl.v[1].action, RG_DNSBL_LOG);
	rg_config_unref(c);
}

/* On a fresh box the account does not exist yet: the message says how it
 * is made (the sysusers.d file make install and the package ship). */
static void test_unknown_relayguard_user(void **state)
{
	char err[RG_CONFIG_ERRLEN];

	(void)state;
	if (getpwnam("relayguard") != NULL)
		skip();
	assert_null(rg_config_parse_string("UserID relayguard:postfix\n", "u.conf",
	    err, sizeof(err)));
	assert_string_equal(err, "u.conf:1: UserID: unknown user 'relayguard': "
	    "create it with systemd-sysusers (make install and the package put "
	    "sysusers.d/relayguard.conf in place) or adduser --system --group "
	    "relayguard");
}

/* Where each key and list item came from: -t's "FILE:LINE: warning". */
static void test_origin_lines(void **state)
{
	static const char text[] =
	    "# comment\n"
	    "TrustedNetworks 127.0.0.0/8\n"
	    "Mode log-only\n"
	    "LocalDomains a.example, b.example\n"
	    "TrustedNetworks\n"
	    "TrustedNetworks ::1, 10.0.0.0/8\n"
	    "LocalDomains c.example\n";
	static const struct {
		const char *key;
		size_t item;
		int line;
	} items[] = {
		{"TrustedNetworks", 0, 2}, {"TrustedNetworks", 1, 6},
		{"TrustedNetworks", 2, 6}, {"LocalDomains", 0, 4},
		{"LocalDomains", 1, 4}, {"LocalDomains", 2, 7},
		{"RelayDomains", 0, 0},
	};
	char err[RG_CONFIG_ERRLEN], where[300];
	struct rg_config *c = rg_config_parse_string(text, "o.conf", err,
	    sizeof(err));

	(void)state;
	if (c == NULL)
		fail_msg("%s", err);
	assert_int_equal(rg_config_key_line(c, "Mode"), 3);
	assert_int_equal(rg_config_key_line(c, "mode"), 3);
	assert_int_equal(rg_config_key_line(c, "TrustedNetworks"), 2);
	assert_int_equal(rg_config_key_line(c, "Socket"), 0);
	assert_int_equal(rg_config_key_line(c, "NoSuchKey"), 0);
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++)
		if (rg_config_item_line(c, items[i].key, items[i].item) !=
		    items[i].line)
			fail_msg("%s item %zu: line %d, want %d", items[i].key,
			    items[i].item, rg_config_item_line(c, items[i].key,
			    items[i].item), items[i].line);
	/* the value as written; repeated list lines joined */
	assert_string_equal(c->origin[rg_config_key_find("TrustedNetworks") -
	    rg_config_schema].raw, "127.0.0.0/8, ::1, 10.0.0.0/8");
	assert_string_equal(rg_config_where(c, 6, where, sizeof(where)),
	    "o.conf:6");
	assert_string_equal(rg_config_where(c, 0, where, sizeof(where)),
	    "o.conf");
	rg_config_unref(c);
	/* built-in defaults have no line */
	c = rg_config_parse_string("", "d.conf", err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(rg_config_item_line(c, "TrustedNetworks", 0), 0);
	rg_config_unref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_reply_forms),
		cmocka_unit_test(test_schema_sane),
		cmocka_unit_test(test_load_file_and_refcount),
		cmocka_unit_test(test_dns_keys),
		cmocka_unit_test(test_unknown_relayguard_user),
		cmocka_unit_test(test_origin_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

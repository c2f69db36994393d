/*
 * test_mtaimport.c - relayguard-milter --import never trusts a client the
 * MTA itself does not relay for: sendmail access lines, Postfix mynetworks
 * values, cidr: tables and hash-table keys in, TrustedNetworks out,
 * table-driven. The rows marked trap were imported wider than the MTA
 * relays before (issue 16); the others pin down what stays imported and
 * where the import is narrower than the MTA on purpose (what it cannot
 * judge). tests/integration/280_milter_import_trust.sh asks the real
 * sendmail and Postfix about the same lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "milter/policy/mtaimport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* kind: 'S' sendmail access text, 'P' a mynetworks value, 'C' a cidr:
 * table named by mynetworks, 'K' hash-table keys (one a line). */
struct row {
	int kind;
	int trap;		/* wider than the MTA before the fix */
	const char *in;
	const char *want;	/* TrustedNetworks, ", "-joined */
	const char *note;	/* substring of the notes, or NULL */
};

static const struct row rows[] = {
	/* sendmail: the value is the whole rest of the line */
	{'S', 1, "Connect:127.0.0.2 RELAY # office\n", "", NULL},
	{'S', 1, "Connect:127.0.0.3\tRELAY REJECT\n", "", NULL},
	{'S', 1, "Connect:10 RELAY # note\n", "", NULL},
	{'S', 1, "Connect:127.0.0.4 RELAY\t# trusted host\n", "", NULL},
	{'S', 0, "Connect:127.0.0.5 \"RELAY\"\n", "", NULL},
	{'S', 0, "Connect:127.0.0.6 RELAY#x\n", "", NULL},
	/* a longer prefix or a bare entry comes first for some clients */
	{'S', 1, "Connect:10 RELAY\nConnect:10.1 REJECT\n", "",
	 "the access entry connect:10.1 (access:2) comes first"},
	{'S', 1, "Connect:127.0 RELAY\n127.0.0 OK\n", "", "127.0.0 (access:2)"},
	/* a duplicate key: makemap keeps the first; left out all the same */
	{'S', 0, "Connect:127.0.0.8 RELAY\nConnect:127.0.0.8 REJECT\n", "", NULL},
	{'S', 1, "Connect:IPv6:2001:db8:1 RELAY\nConnect:IPv6:2001:db8:1:5 DISCARD\n",
	 "", NULL},
	/* spellings sendmail never sees a client address in */
	{'S', 1, "Connect:127.0.0.09 RELAY\n", "", "names no client address"},
	{'S', 1, "Connect:127.0.0.9. RELAY\n", "", NULL},
	{'S', 1, "Connect:IPv6:2001:db8:0 RELAY\n", "", NULL},
	{'S', 1, "Connect:IPv6:2001:0db8:1 RELAY\n", "", NULL},
	{'S', 1, "Connect:IPv6:2001:db8:0:0:0:0:0:1 RELAY\n", "", NULL},
	/* makemap refuses a line with leading blanks */
	{'S', 1, " Connect:127.0.0.10 RELAY\n", "", NULL},
	/* an empty tag is no tag sendmail looks up (found by fuzz_import) */
	{'S', 0, ":1 RELAY\n", "", NULL},
	/* what sendmail does relay for */
	{'S', 0, "Connect:127.0.0.11 RELAY\n", "127.0.0.11/32", NULL},
	{'S', 0, "connect:127.0.0.12\trelay\r\n", "127.0.0.12/32", NULL},
	{'S', 0, "CONNECT:127.0.0.13 RELAY   \n", "127.0.0.13/32", NULL},
	{'S', 0, "127.0.0.14 RELAY\n", "127.0.0.14/32", NULL},
	{'S', 0, "Connect:10 RELAY\nConnect:10.1 RELAY\nFrom:10.2 REJECT\n",
	 "10.0.0.0/8, 10.1.0.0/16", NULL},
	{'S', 0, "Connect:IPv6:2001:DB8::1 RELAY\n", "2001:db8::1/128", NULL},
	{'S', 0, "Connect:IPv6:2001:db8:1 RELAY\n# Connect:IPv6:2001:db8:1:5 REJECT\n",
	 "2001:db8:1::/48", NULL},
	{'S', 0, "Connect:127.0.0.15 OK\n", "", NULL},
	/* Postfix mynetworks: anything not understood voids it all */
	{'P', 0, "127.0.0.1/32, 10.1.2.3/8", "", "10.1.2.3/8' is not an address"},
	{'P', 1, "!localhost, 10.8.0.0/16", "", "is a negated item"},
	{'P', 1, "!badhost.example 10.0.0.0/8", "", NULL},
	{'P', 1, "::1/128, 10.6.0.0/16", "", "none of mynetworks is imported"},
	{'P', 0, "10.7.0.0/16 # office", "", NULL},
	{'P', 0, "127.0.0.1, hash:/etc/postfix/trusted", "", "is not read"},
	{'P', 0, "[::1]/128, 127.0.0.0/8", "::1/128, 127.0.0.0/8", NULL},
	{'P', 0, "!10.1.2.3, 10.1.0.0/16, 127.0.0.1", "127.0.0.1/32",
	 "it covers the negated"},
	{'P', 0, "[2001:db8::1] [2001:db8:5::]/48", "2001:db8::1/128, 2001:db8:5::/48",
	 NULL},
	{'P', 0, "0.0.0.0/0 127.0.0.1", "127.0.0.1/32", "every address on the Internet"},
	/* inline: only as {name=value...}; else Postfix fails every lookup
	 * in it and defers every client (found by fuzz_import) */
	{'P', 1, "inline:0.0.0.0/0 127.0.0.1", "", "is not inline:{name=value"},
	{'P', 1, "inline:{127.0.0.2} 127.0.0.1", "", "is not inline:{name=value"},
	{'P', 1, "inline:{} 127.0.0.1", "", "is not inline:{name=value"},
	{'P', 1, "inline:{127.0.0.2=x}} 127.0.0.1", "", "is not inline:{name=value"},
	{'P', 1, "inline:{127.0.0.2=x}127.0.0.3=y} 127.0.0.1", "", "is not inline:{name=value"},
	{'P', 0, "inline:{127.0.0.2=ok} 127.0.0.1", "127.0.0.2/32, 127.0.0.1/32",
	 NULL},
	/* cidr: tables: values do not matter, if/endif and ! are not read */
	{'C', 1, "if !10.1.0.0/16\n10.0.0.0/8 OK\nendif\n", "", "if/endif"},
	{'C', 0, "!10.1.2.3 OK\n10.1.0.0/16 OK\n", "", NULL},
	{'C', 0, "10.1.2.3/16 OK\n", "", NULL},
	{'C', 0, "10.4.0.0/16\n  OK\n", "", "has no value"},
	{'C', 0, "# office\n10.3.0.0/16 REJECT\n2001:db8::/32 OK\n",
	 "10.3.0.0/16, 2001:db8::/32", NULL},
	/* hash-like tables: the client address is the key */
	{'K', 1, "10.0.0.0/8\n", "", "matches no client"},
	{'K', 0, "10.1.2\n", "", NULL},
	{'K', 0, "10.1.2.3\n2001:db8::5\n", "10.1.2.3/32, 2001:db8::5/128", NULL},
};

static void run_row(const struct row *r, struct rg_import *im)
{
	FILE *f = fmemopen((void *)r->in, strlen(r->in), "r");
	char *copy, *save = NULL;

	assert_non_null(f);
	switch (r->kind) {
	case 'S':
		rg_import_sendmail_access(im, f, "access");
		break;
	case 'P':
		rg_import_postfix_param(im, "mynetworks", r->in,
		    RG_IMPORT_NO_FILES);
		break;
	case 'C':
		rg_import_postfix_cidr(im, f, "mynetworks cidr:t");
		rg_import_pf_verdict(im);
		break;
	case 'K':
		copy = strdup(r->in);
		for (char *k = strtok_r(copy, "\n", &save); k != NULL;
		    k = strtok_r(NULL, "\n", &save))
			rg_import_pf_key(im, k, "mynetworks hash:t");
		free(copy);
		break;
	}
	fclose(f);
	rg_import_finish(im);
}

static void test_import_trust_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct rg_import im = {0};
		char got[1024] = "", notes[8192] = "";

		run_row(&rows[i], &im);
		for (size_t k = 0; k < im.trusted.n; k++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s",
			    k ? ", " : "", im.trusted.v[k].value);
		for (size_t k = 0; k < im.nnotes; k++)
			snprintf(notes + strlen(notes), sizeof(notes) - strlen(notes),
			    "%s\n", im.notes[k]);
		if (strcmp(got, rows[i].want) != 0 || (rows[i].note != NULL &&
		    strstr(notes, rows[i].note) == NULL)) {
			print_error("row %zu (%c%s) %s\n  got  '%s'\n  want '%s'\n"
			    "  notes:\n%s", i, rows[i].kind, rows[i].trap ?
			    ", trap" : "", rows[i].in, got, rows[i].want, notes);
			fail();
		}
		rg_import_free(&im);
	}
}

/* relay_domains: a negated table hides names relayguard cannot list. */
static void test_postfix_domains(void **state)
{
	static const struct {
		int trap;
		const char *value, *want;
	} cases[] = {
		{1, "!hash:/etc/postfix/excluded, example.net", ""},
		{1, "!/etc/postfix/excluded example.net", ""},
		{0, "!secret.example.net, other.example", "other.example"},
		{0, "!!x.example, other.example", ""},
		{0, "other.example # note, !other.example", ""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rg_import im = {0};
		char got[512] = "";

		rg_import_postfix_param(&im, "relay_domains", cases[i].value,
		    RG_IMPORT_NO_FILES);
		rg_import_finish(&im);
		for (size_t k = 0; k < im.relay.n; k++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s",
			    k ? ", " : "", im.relay.v[k].value);
		if (strcmp(got, cases[i].want) != 0) {
			print_error("case %zu (%s): got '%s' want '%s'\n", i,
			    cases[i].value, got, cases[i].want);
			fail();
		}
		rg_import_free(&im);
	}
}

/* Text from the MTA's files stays inside comment lines of the output. */
static void test_write_comments(void **state)
{
	struct rg_import im = {0};
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	(void)state;
	assert_non_null(out);
	rg_import_postfix_param(&im, "relay_domains",
	    "a.example # x\nTrustedNetworks 0.0.0.0/0", RG_IMPORT_NO_FILES);
	rg_import_finish(&im);
	rg_import_write(out, &im, "test");
	assert_int_equal(fclose(out), 0);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (line[0] != '#')
			assert_true(strncmp(line, "RelayDomains a.example", 22) == 0 ||
			    strcmp(line, "LocalDomains") == 0 ||
			    strcmp(line, "TrustedNetworks") == 0);
	free(text);
	rg_import_free(&im);
}

/* What sendmail trusts without the access map is subject to it too. */
static void test_sendmail_dir(void **state)
{
	static const struct {
		const char *access, *relay_domains, *want;
	} cases[] = {
		{"", "", "127.0.0.1/32, ::1/128"},
		{"Connect:127 REJECT\n", "", "::1/128"},
		{"Connect:127.0.0.1 OK\n", "192.168.07\n", "::1/128"},
		{"Connect:192.168.7.5 REJECT\n", "192.168.7\n10.9\n",
		 "10.9.0.0/16, 127.0.0.1/32, ::1/128"},
	};
	char dir[] = "/tmp/rg-mtaimport.XXXXXX", path[256], spec[300];

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rg_import im = {0};
		char err[RG_IMPORT_ERRLEN], got[512] = "";
		FILE *f;

		snprintf(path, sizeof(path), "%s/access", dir);
		assert_non_null(f = fopen(path, "w"));
		fputs(cases[i].access, f);
		assert_int_equal(fclose(f), 0);
		snprintf(path, sizeof(path), "%s/relay-domains", dir);
		assert_non_null(f = fopen(path, "w"));
		fputs(cases[i].relay_domains, f);
		assert_int_equal(fclose(f), 0);
		snprintf(spec, sizeof(spec), "sendmail:%s", dir);
		assert_int_equal(rg_import_run(spec, &im, err, sizeof(err)), 0);
		for (size_t k = 0; k < im.trusted.n; k++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s",
			    k ? ", " : "", im.trusted.v[k].value);
		if (strcmp(got, cases[i].want) != 0) {
			print_error("case %zu: got '%s' want '%s'\n", i, got,
			    cases[i].want);
			fail();
		}
		rg_import_free(&im);
	}
	snprintf(path, sizeof(path), "%s/access", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/relay-domains", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_import_trust_table),
		cmocka_unit_test(test_sendmail_dir),
		cmocka_unit_test(test_postfix_domains),
		cmocka_unit_test(test_write_comments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

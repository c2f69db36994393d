/*
 * test_dsn.c - the incremental DSN parser (dsn.h) on real bounces: a
 * Postfix bounce and double bounce captured from the test harness
 * (tests/unit/dsn/, one .eml file each), a sendmail DSN with an IPv6 client and two
 * recipients, a non-MIME qmail bounce; each fed in chunks of 1, 7, 64
 * and 65536 bytes, which must all give the same report. Then hostile
 * input: endless lines, no final boundary, NUL bytes, many recipients,
 * a body past the scan limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milter/bounce/dsn.h"
#include "lib/base/util.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;

	if (fp == NULL)
		fail_msg("cannot open %s (run from the top of the tree)", path);
	buf = xmalloc(1 << 20);
	*len = fread(buf, 1, (1 << 20) - 1, fp);
	buf[*len] = '\0';
	fclose(fp);
	return buf;
}

/* Feed a whole message: unfolded top-level headers one by one (as a
 * milter gets them), then the body in chunks of `chunk` bytes. */
static const struct dsn_report *feed(struct dsn_parser *p, const char *msg,
    size_t len, size_t chunk)
{
	const char *s = msg, *end = msg + len, *body;
	char name[128], value[2048];

	while (s < end && *s != '\n') {
		const char *colon = strchr(s, ':'), *eol = s;
		size_t vo = 0;

		assert_non_null(colon);
		snprintf(name, sizeof(name), "%.*s", (int)(colon - s), s);
		s = colon + 1;
		for (;;) {
			eol = strchr(s, '\n');
			for (const char *q = s; q < eol && vo + 1 < sizeof(value); q++)
				value[vo++] = *q;
			s = eol + 1;
			if (*s != ' ' && *s != '\t')
				break;
			value[vo++] = '\n';
		}
		value[vo] = '\0';
		dsn_header(p, name, value);
	}
	body = s < end ? s + 1 : end;
	for (const char *c = body; c < end; c += chunk) {
		size_t n = (size_t)(end - c) < chunk ? (size_t)(end - c) : chunk;

		if (dsn_body(p, c, n))
			break;
	}
	return dsn_finish(p);
}

struct want {
	const char *file;
	unsigned evidence;
	const char *mta, *sender, *client, *helo, *name, *by;
	bool double_bounce;
	size_t nrcpt;
	const char *final, *action, *status, *remote, *diag;
	const char *final2, *status2;
};

static const struct want bounces[] = {
	{"tests/unit/dsn/postfix-bounce.eml",
	 DSN_EV_REPORT | DSN_EV_AUTO_SUBMITTED | DSN_EV_SUBJECT |
	 DSN_EV_FROM_DAEMON | DSN_EV_STATUS_PART,
	 "mail.site.example", "root@mail.site.example", "127.0.0.2", "vm",
	 "unknown", "mail.site.example", false, 1,
	 "a@victim.example", "failed", "5.4.4", "127.0.0.1",
	 "smtp; 550 5.4.4 Host or domain name not found", NULL, NULL},
	/* the double bounce to postmaster: sender and client come from the
	 * bounce returned inside it */
	{"tests/unit/dsn/postfix-2bounce.eml",
	 DSN_EV_REPORT | DSN_EV_AUTO_SUBMITTED | DSN_EV_SUBJECT |
	 DSN_EV_FROM_DAEMON | DSN_EV_STATUS_PART,
	 "mail.site.example", "forged@spoofed.example", "127.0.0.2", "vm",
	 "unknown", "mail.site.example", true, 1,
	 "forged@spoofed.example", "failed", "5.4.4", "127.0.0.1",
	 "smtp; 550 5.4.4 Host or domain name not found", NULL, NULL},
	{"tests/unit/dsn/sendmail-bounce.eml",
	 DSN_EV_REPORT | DSN_EV_AUTO_SUBMITTED | DSN_EV_SUBJECT |
	 DSN_EV_FROM_DAEMON | DSN_EV_STATUS_PART,
	 "mx.sendmail.example", "orig@site.example", "2001:db8::25",
	 "client.example", "client.example", "mx.sendmail.example", false, 2,
	 "u@far.example", "failed", "5.1.1", "mx.far.example",
	 "SMTP; 550 5.1.1 <u@far.example>... User unknown",
	 "v@far2.example", "5.2.2"},
	{"tests/unit/dsn/qmail-bounce.eml",
	 DSN_EV_SUBJECT | DSN_EV_FROM_DAEMON,
	 "", "someone@site.example", "198.51.100.7", "unknown", "",
	 "mx.qmail.example", false, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static void check(const struct want *w, const struct dsn_report *r,
    size_t chunk)
{
	char where[128];

	snprintf(where, sizeof(where), "%s, chunks of %zu", w->file, chunk);
#define EQ(got, want) do { if (strcmp((got), (want)) != 0) \
	fail_msg("%s: %s = '%s', want '%s'", where, #got, (got), (want)); } while (0)
	if (r->evidence != w->evidence)
		fail_msg("%s: evidence %#x, want %#x", where, r->evidence, w->evidence);
	EQ(r->reporting_mta, w->mta);
	EQ(r->orig_sender, w->sender);
	EQ(r->orig_client_addr, w->client);
	EQ(r->orig_client_helo, w->helo);
	EQ(r->orig_client_name, w->name);
	EQ(r->orig_received_by, w->by);
	if (r->double_bounce != w->double_bounce)
		fail_msg("%s: double_bounce %d", where, r->double_bounce);
	if (r->nrcpt != w->nrcpt)
		fail_msg("%s: nrcpt %zu, want %zu", where, r->nrcpt, w->nrcpt);
	if (w->nrcpt > 0) {
		EQ(r->rcpt[0].final_rcpt, w->final);
		EQ(r->rcpt[0].action, w->action);
		EQ(r->rcpt[0].status, w->status);
		EQ(r->rcpt[0].remote_mta, w->remote);
		EQ(r->rcpt[0].diagnostic, w->diag);
	}
	if (w->final2 != NULL) {
		EQ(r->rcpt[1].final_rcpt, w->final2);
		EQ(r->rcpt[1].status, w->status2);
	}
#undef EQ
}

static void test_real_bounces(void **state)
{
	static const size_t chunks[] = {1, 7, 64, 65536};

	(void)state;
	for (size_t i = 0; i < RG_NELEM(bounces); i++) {
		size_t len;
		char *msg = slurp(bounces[i].file, &len);

		for (size_t c = 0; c < RG_NELEM(chunks); c++) {
			struct dsn_parser *p = dsn_parser_new(65536);

			check(&bounces[i], feed(p, msg, len, chunks[c]), chunks[c]);
			dsn_parser_free(p);
		}
		free(msg);
	}
}

static void test_stops_early(void **state)
{
	size_t len;
	char *msg = slurp("tests/unit/dsn/postfix-bounce.eml", &len);
	struct dsn_parser *p = dsn_parser_new(65536);
	const struct dsn_report *r;

	(void)state;
	/* Everything needed is known before the end of the returned
	 * message: dsn_body() says so, and the milter skips the rest. */
	r = feed(p, msg, len, 1);
	assert_true(r->body_bytes < len - 200);
	assert_false(r->truncated);
	dsn_parser_free(p);
	free(msg);
}

static void test_received(void **state)
{
	static const struct {
		const char *v, *ip, *helo, *name, *by;
	} cases[] = {
		{"from vm (unknown [127.0.0.2])\n\tby mail.site.example (Postfix) with ESMTP id X",
		 "127.0.0.2", "vm", "unknown", "mail.site.example"},
		{"from a.example (b.example [IPv6:2001:db8::1]) by c.example",
		 "2001:db8::1", "a.example", "b.example", "c.example"},
		{"from h (h [192.0.2.300]) by x", "", "h", "", "x"},
		{"by mail.site.example (Postfix) id E10DCA743E2", "", "", "", ""},
		{"from [192.0.2.9] (port=1 helo=x) by exim.example", "192.0.2.9",
		 "[192.0.2.9]", "", "exim.example"},
		{"from x (y [10.0.0.1]", "10.0.0.1", "x", "y", ""},
		{"", "", "", "", ""},
	};
	char ip[64], helo[64], name[64], by[64];

	(void)state;
	for (size_t i = 0; i < RG_NELEM(cases); i++) {
		bool ok = dsn_parse_received(cases[i].v, ip, sizeof(ip), helo,
		    sizeof(helo), name, sizeof(name), by, sizeof(by));

		assert_int_equal(ok, cases[i].ip[0] != '\0');
		assert_string_equal(ip, cases[i].ip);
		if (ok) {
			assert_string_equal(helo, cases[i].helo);
			assert_string_equal(name, cases[i].name);
			assert_string_equal(by, cases[i].by);
		}
	}
}

static void test_subjects(void **state)
{
	static const struct {
		const char *s;
		bool want;
	} cases[] = {
		{"Undelivered Mail Returned to Sender", true},
		{"Returned mail: see transcript for details", true},
		{"Delivery Status Notification (Failure)", true},
		{"Undeliverable: your invoice", true},
		{"failure notice", true},
		{"Postmaster Copy: Undelivered Mail", true},
		{"Lunch on Friday?", false},
		{"", false},
	};

	(void)state;
	for (size_t i = 0; i < RG_NELEM(cases); i++)
		assert_int_equal(dsn_subject_is_bounce(cases[i].s), cases[i].want);
}

/* Hostile bodies: the parser stays within its buffers, keeps what fits,
 * and never reads past max_body. */
static void test_hostile(void **state)
{
	struct dsn_parser *p;
	const struct dsn_report *r;
	char *big = xmalloc(300000), *o;

	(void)state;
	/* one endless line, then a field: the line is cut, the rest parsed */
	p = dsn_parser_new(1 << 20);
	dsn_header(p, "Content-Type", "multipart/report; report-type=delivery-status; boundary=B");
	o = big;
	o += sprintf(o, "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; ");
	memset(o, 'x', 100000);
	o += 100000;
	o += sprintf(o, "\n\n");
	for (int i = 0; i < 50; i++)
		o += sprintf(o, "Final-Recipient: rfc822; r%d@v.example\nStatus: 5.0.0\n\n", i);
	o += sprintf(o, "--B\nContent-Type: message/rfc822\n\nReceived: from h (h [192.0.2.1])\n");
	for (int i = 0; i < 300; i++)
		o += sprintf(o, "\tcontinued %d\n", i);	/* a field folded 300 times */
	memcpy(o, "\0\0\0\n", 4);
	o += 4;
	assert_false(dsn_body(p, big, (size_t)(o - big)));
	r = dsn_finish(p);	/* no closing boundary */
	assert_int_equal(strlen(r->reporting_mta), sizeof(r->reporting_mta) - 1);
	assert_int_equal(r->nrcpt, DSN_MAX_RCPTS);
	assert_int_equal(r->nrcpt_seen, 50);
	assert_string_equal(r->rcpt[7].final_rcpt, "r7@v.example");
	assert_string_equal(r->orig_client_addr, "192.0.2.1");
	dsn_parser_free(p);

	/* the scan limit */
	p = dsn_parser_new(4096);
	memset(big, 'a', 300000);
	assert_true(dsn_body(p, big, 300000));
	r = dsn_finish(p);
	assert_true(r->truncated);
	assert_int_equal(r->body_bytes, 4096);
	dsn_parser_free(p);

	/* garbage headers */
	p = dsn_parser_new(100);
	dsn_header(p, NULL, "x");
	dsn_header(p, "Content-Type", "multipart/mixed; boundary=\"");
	dsn_header(p, "Content-Type", "multipart/mixed; boundary=");
	dsn_header(p, "Auto-Submitted", "no");
	dsn_header(p, "Subject", NULL);
	r = dsn_finish(p);
	assert_int_equal(r->evidence, 0);
	dsn_parser_free(p);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_bounces),
		cmocka_unit_test(test_stops_early),
		cmocka_unit_test(test_received),
		cmocka_unit_test(test_subjects),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

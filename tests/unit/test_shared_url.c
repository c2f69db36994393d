/*
 * test_shared_url.c - the SharedState URL parser (shared_url.h): one table
 * of URLs with what they must give, or the error they must name. No
 * message may echo a user name or a password.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "milter/shared_url.h"
#include "lib/base/util.h"

static void test_url_table(void **state)
{
	static const struct {
		const char *url;
		int rc;
		/* rc 0: what it gives; "" where empty */
		const char *host;	/* or the socket path when unix */
		int port;
		const char *user, *pass;
		long db;
		const char *shown;
		/* rc -1: a phrase of the message */
		const char *err;
	} cases[] = {
		{"redis://127.0.0.1", 0, "127.0.0.1", 6379, "", "", 0,
		 "127.0.0.1 db 0", NULL},
		{"redis://127.0.0.1:6380/3", 0, "127.0.0.1", 6380, "", "", 3,
		 "127.0.0.1:6380 db 3", NULL},
		{"redis://redis.site.example/", 0, "redis.site.example", 6379,
		 "", "", 0, NULL, NULL},
		{"redis://user:pass@host:6379/1", 0, "host", 6379, "user", "pass",
		 1, "host:6379 db 1", NULL},
		{"redis://:s3cret@host", 0, "host", 6379, "", "s3cret", 0, NULL,
		 NULL},
		{"redis://relay:@host", 0, "host", 6379, "relay", "", 0, NULL, NULL},
		/* base64 passwords hold '/' and '+'; '@' in a password: the
		 * host starts after the last '@' */
		{"redis://:a/b+c=@host:7000/2", 0, "host", 7000, "", "a/b+c=", 2,
		 NULL, NULL},
		{"redis://u:p@ss@[::1]:6379/5", 0, "::1", 6379, "u", "p@ss", 5,
		 "[::1]:6379 db 5", NULL},
		/* percent-escapes (RFC 3986 userinfo, as redis-cli -u) */
		{"redis://u%40x:p%2Fq%25r%3a@host", 0, "host", 6379, "u@x",
		 "p/q%r:", 0, NULL, NULL},
		{"redis://:%2b+@host", 0, "host", 6379, "", "++", 0, NULL, NULL},
		{"redis://[::1]:6379", 0, "::1", 6379, "", "", 0,
		 "[::1]:6379 db 0", NULL},
		{"redis://[2001:db8::6]/9", 0, "2001:db8::6", 6379, "", "", 9, NULL,
		 NULL},
		{"unix:/run/redis/redis.sock", 0, "/run/redis/redis.sock", 0, "", "",
		 0, "unix:/run/redis/redis.sock db 0", NULL},
		{"unix:/r.sock?db=4&user=relay&password=a/b+c%26d", 0, "/r.sock", 0,
		 "relay", "a/b+c&d", 4, "unix:/r.sock db 4", NULL},
		{"unix:/r.sock?password=pw9&db=0", 0, "/r.sock", 0, "", "pw9", 0, NULL,
		 NULL},
		/* errors */
		{"http://host", -1, NULL, 0, NULL, NULL, 0, NULL, "expected redis://"},
		{"host:6379", -1, NULL, 0, NULL, NULL, 0, NULL, "expected redis://"},
		{"redis://", -1, NULL, 0, NULL, NULL, 0, NULL,
		 "SharedState: empty host"},
		{"redis://:pw@/0", -1, NULL, 0, NULL, NULL, 0, NULL,
		 "SharedState: empty host"},
		{"redis://:pw@:6379", -1, NULL, 0, NULL, NULL, 0, NULL,
		 "SharedState: :6379: bad host"},
		{"redis://host:0", -1, NULL, 0, NULL, NULL, 0, NULL, "SharedState: host:0: bad port '0'"},
		{"redis://host:65536", -1, NULL, 0, NULL, NULL, 0, NULL, "bad port"},
		{"redis://host:63x9", -1, NULL, 0, NULL, NULL, 0, NULL, "bad port"},
		{"redis://host:", -1, NULL, 0, NULL, NULL, 0, NULL, "bad port ''"},
		{"redis://::1:6379", -1, NULL, 0, NULL, NULL, 0, NULL, "[addr]:port"},
		{"redis://[::1:6379", -1, NULL, 0, NULL, NULL, 0, NULL,
		 "missing ']'"},
		{"redis://host/x", -1, NULL, 0, NULL, NULL, 0, NULL,
		 "bad database number 'x'"},
		{"redis://host/65536", -1, NULL, 0, NULL, NULL, 0, NULL,
		 "bad database number"},
		{"redis://host/-1", -1, NULL, 0, NULL, NULL, 0, NULL,
		 "bad database number"},
		{"redis://secret@host", -1, NULL, 0, NULL, NULL, 0, NULL,
		 "redis://:PASSWORD@host"},
		{"redis://:bad%zzsecret@host", -1, NULL, 0, NULL, NULL, 0, NULL,
		 "bad %-escape in the password"},
		{"redis://:secret%2@host", -1, NULL, 0, NULL, NULL, 0, NULL,
		 "bad %-escape in the password"},
		{"redis://:secret%@host", -1, NULL, 0, NULL, NULL, 0, NULL,
		 "bad %-escape in the password"},
		{"redis://us%00er:secret@host", -1, NULL, 0, NULL, NULL, 0, NULL,
		 "bad %-escape in the user name"},
		{"unix:run/redis.sock", -1, NULL, 0, NULL, NULL, 0, NULL,
		 "must be absolute"},
		{"unix:/r.sock?db=x", -1, NULL, 0, NULL, NULL, 0, NULL,
		 "bad database number"},
		{"unix:/r.sock?pass=secret", -1, NULL, 0, NULL, NULL, 0, NULL,
		 "unknown parameter"},
		{"unix:/r.sock?password=sec%G0ret", -1, NULL, 0, NULL, NULL, 0, NULL,
		 "bad %-escape in the password"},
	};

	(void)state;
	for (size_t i = 0; i < RG_NELEM(cases); i++) {
		struct shared_target t;
		char err[300] = "";
		int rc = shared_url_parse(cases[i].url, &t, err, sizeof(err));

		if (rc != cases[i].rc)
			fail_msg("%s: rc %d (%s), want %d", cases[i].url, rc, err,
			    cases[i].rc);
		if (rc != 0) {
			if (strstr(err, cases[i].err) == NULL)
				fail_msg("%s: message '%s' lacks '%s'", cases[i].url,
				    err, cases[i].err);
			if (strstr(err, "secret") != NULL)
				fail_msg("%s: message echoes the password: %s",
				    cases[i].url, err);
			continue;
		}
		if (t.unix_socket) {
			assert_string_equal(t.path, cases[i].host);
		} else {
			assert_string_equal(t.hp.host, cases[i].host);
			assert_int_equal(t.hp.port, cases[i].port);
		}
		assert_string_equal(t.user, cases[i].user);
		assert_string_equal(t.pass, cases[i].pass);
		assert_int_equal(t.db, cases[i].db);
		if (cases[i].shown != NULL)
			assert_string_equal(t.shown, cases[i].shown);
		if (t.pass[0] != '\0')
			assert_null(strstr(t.shown, t.pass));
	}
}

/* Over-long credentials are an error, never cut to a password that
 * cannot log in. */
static void test_url_long(void **state)
{
	char url[1200], err[300];
	struct shared_target t;

	(void)state;
	snprintf(url, sizeof(url), "redis://:%0300d@host", 7);
	assert_int_equal(shared_url_parse(url, &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "password is longer than 255 bytes"));
	snprintf(url, sizeof(url), "redis://%0200d:pw@host", 7);
	assert_int_equal(shared_url_parse(url, &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "user name is longer than 127 bytes"));
	snprintf(url, sizeof(url), "unix:/%0300d", 7);
	assert_int_equal(shared_url_parse(url, &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "socket path is longer"));
	/* exactly the room there is */
	snprintf(url, sizeof(url), "redis://:%0255d@host", 7);
	assert_int_equal(shared_url_parse(url, &t, err, sizeof(err)), 0);
	assert_int_equal(strlen(t.pass), 255);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_table),
		cmocka_unit_test(test_url_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

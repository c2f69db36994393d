/*
 * shared_url.c - the SharedState value; see shared_url.h.
 */
#include "milter/shared_url.h"
#include "lib/base/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "user:pass@" of a URL: either part may be empty (":pass@": no user). */
static int parse_userinfo(const char *s, size_t n, struct shared_target *t,
    char *err, size_t errlen)
{
	const char *colon = memchr(s, ':', n);

	if (colon == NULL)
		return rg_set_err(err, errlen, "SharedState: give the password "
		    "as redis://:PASSWORD@host or redis://USER:PASSWORD@host");
	snprintf(t->user, sizeof(t->user), "%.*s", (int)(colon - s), s);
	snprintf(t->pass, sizeof(t->pass), "%.*s", (int)(n - (size_t)(colon + 1 - s)),
	    colon + 1);
	return 0;
}

static int parse_db(const char *s, struct shared_target *t, char *err, size_t errlen)
{
	char *end;

	errno = 0;
	t->db = *s ? strtol(s, &end, 10) : 0;
	if (*s && (errno != 0 || *end != '\0' || t->db < 0 || t->db > 65535))
		return rg_set_err(err, errlen, "SharedState: bad database "
		    "number '%s'", s);
	return 0;
}

/* "db=N&user=U&password=P" after a unix socket path, any order. */
static int parse_query(const char *q, struct shared_target *t, char *err,
    size_t errlen)
{
	char buf[512], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", q);
	for (char *kv = strtok_r(buf, "&", &save); kv != NULL;
	    kv = strtok_r(NULL, "&", &save)) {
		if (strncmp(kv, "db=", 3) == 0) {
			if (parse_db(kv + 3, t, err, errlen) != 0)
				return -1;
		} else if (strncmp(kv, "user=", 5) == 0) {
			snprintf(t->user, sizeof(t->user), "%s", kv + 5);
		} else if (strncmp(kv, "password=", 9) == 0) {
			snprintf(t->pass, sizeof(t->pass), "%s", kv + 9);
		} else {
			return rg_set_err(err, errlen, "SharedState: unknown "
			    "parameter after the socket path (db=, user=, "
			    "password= are known)");
		}
	}
	return 0;
}

/* redis://[user:pass@]host[:port][/db] or
 * unix:/path[?db=N&user=U&password=P]. */
int shared_url_parse(const char *url, struct shared_target *t, char *err,
    size_t errlen)
{
	const char *p, *at, *slash;
	char hostport[300];

	memset(t, 0, sizeof(*t));
	if (strncmp(url, "unix:", 5) == 0) {
		const char *q = strchr(url + 5, '?');

		t->unix_socket = true;
		snprintf(t->path, sizeof(t->path), "%.*s",
		    q ? (int)(q - url - 5) : (int)strlen(url + 5), url + 5);
		if (t->path[0] != '/')
			return rg_set_err(err, errlen, "SharedState unix:...: the "
			    "socket path must be absolute");
		if (q != NULL && parse_query(q + 1, t, err, errlen) != 0)
			return -1;
		snprintf(t->shown, sizeof(t->shown), "unix:%s db %ld", t->path, t->db);
		return 0;
	}
	/* the value may hold a password: never echoed in a message */
	if (strncmp(url, "redis://", 8) != 0)
		return rg_set_err(err, errlen, "SharedState: expected "
		    "redis://[user:password@]host[:port][/db] or unix:/path");
	p = url + 8;
	/* the password may hold '/' (base64): the host starts after the last '@' */
	at = strrchr(p, '@');
	slash = strchr(at ? at + 1 : p, '/');
	if (at != NULL) {
		if (parse_userinfo(p, (size_t)(at - p), t, err, errlen) != 0)
			return -1;
		p = at + 1;
	}
	snprintf(hostport, sizeof(hostport), "%.*s",
	    slash ? (int)(slash - p) : (int)strlen(p), p);
	if (rg_hostport_parse(hostport, 6379, 0, &t->hp, err, errlen) != 0 ||
	    (slash && parse_db(slash + 1, t, err, errlen) != 0))
		return -1;
	snprintf(t->shown, sizeof(t->shown), "%s db %ld", hostport, t->db);
	return 0;
}

/*
 * shared_url.c - parse the SharedState URL; see shared_url.h.
 */
#include "milter/shared_url.h"
#include "lib/base/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* n bytes of s, percent-decoded, into buf; what names the part for the
 * message (never its value: it may be a password). */
static int decode(const char *s, size_t n, char *buf, size_t len,
    const char *what, char *err, size_t errlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
			int lo = hi >= 0 ? hexval(s[i + 2]) : -1;

			if (lo < 0 || (hi == 0 && lo == 0))
				return rg_set_err(err, errlen, "SharedState: bad "
				    "%%-escape in the %s (write '%%' as %%25)", what);
			c = hi * 16 + lo;
			i += 2;
		}
		if (o + 1 >= len)
			return rg_set_err(err, errlen, "SharedState: the %s is "
			    "longer than %zu bytes", what, len - 1);
		buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return 0;
}

/* "user:pass@" of a URL: either part may be empty (":pass@": no user). */
static int parse_userinfo(const char *s, size_t n, struct shared_target *t,
    char *err, size_t errlen)
{
	const char *colon = memchr(s, ':', n);

	if (colon == NULL)
		return rg_set_err(err, errlen, "SharedState: give the password "
		    "as redis://:PASSWORD@host or redis://USER:PASSWORD@host");
	if (decode(s, (size_t)(colon - s), t->user, sizeof(t->user),
	    "user name", err, errlen) != 0)
		return -1;
	return decode(colon + 1, n - (size_t)(colon + 1 - s), t->pass,
	    sizeof(t->pass), "password", err, errlen);
}

static int parse_db(const char *s, struct shared_target *t, char *err,
    size_t errlen)
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

	if (strlcpy_rg(buf, q, sizeof(buf)) >= sizeof(buf))
		return rg_set_err(err, errlen, "SharedState: the parameters "
		    "after the socket path are too long");
	for (char *kv = strtok_r(buf, "&", &save); kv != NULL;
	    kv = strtok_r(NULL, "&", &save)) {
		int rc;

		if (strncmp(kv, "db=", 3) == 0)
			rc = parse_db(kv + 3, t, err, errlen);
		else if (strncmp(kv, "user=", 5) == 0)
			rc = decode(kv + 5, strlen(kv + 5), t->user,
			    sizeof(t->user), "user name", err, errlen);
		else if (strncmp(kv, "password=", 9) == 0)
			rc = decode(kv + 9, strlen(kv + 9), t->pass,
			    sizeof(t->pass), "password", err, errlen);
		else
			rc = rg_set_err(err, errlen, "SharedState: unknown "
			    "parameter after the socket path (db=, user=, "
			    "password= are known)");
		if (rc != 0)
			return -1;
	}
	return 0;
}

static int parse_unix(const char *url, struct shared_target *t, char *err,
    size_t errlen)
{
	const char *p = url + 5, *q = strchr(p, '?');
	size_t n = q ? (size_t)(q - p) : strlen(p);

	t->unix_socket = true;
	if (n >= sizeof(t->path))
		return rg_set_err(err, errlen, "SharedState unix:...: the "
		    "socket path is longer than %zu bytes", sizeof(t->path) - 1);
	snprintf(t->path, sizeof(t->path), "%.*s", (int)n, p);
	if (t->path[0] != '/')
		return rg_set_err(err, errlen, "SharedState unix:...: the "
		    "socket path must be absolute");
	if (q != NULL && parse_query(q + 1, t, err, errlen) != 0)
		return -1;
	snprintf(t->shown, sizeof(t->shown), "unix:%s db %ld", t->path, t->db);
	return 0;
}

int shared_url_parse(const char *url, struct shared_target *t, char *err,
    size_t errlen)
{
	const char *p, *at, *slash;
	char hostport[300], why[400];

	memset(t, 0, sizeof(*t));
	if (strncmp(url, "unix:", 5) == 0)
		return parse_unix(url, t, err, errlen);
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
	if (rg_hostport_parse(hostport, 6379, 0, &t->hp, why, sizeof(why)) != 0)
		return rg_set_err(err, errlen, "SharedState: %s", why);
	if (slash && parse_db(slash + 1, t, err, errlen) != 0)
		return -1;
	snprintf(t->shown, sizeof(t->shown), "%s db %ld", hostport, t->db);
	return 0;
}

/*
 * shared_url.h - the SharedState value: where the Redis server is and how
 * to log in.
 *
 *	redis://[user:password@]host[:port][/db]
 *	unix:/path/redis.sock[?db=N&user=U&password=P]
 *
 * The host is read by hostport.h ("[::1]:6379" for IPv6; port 6379 by
 * default). The password may hold '/' and '@' (the host starts after the
 * last '@'); user and password are percent-decoded (RFC 3986 userinfo, as
 * redis-cli -u reads them: "%2F" is '/', "%25" is '%'), '+' stays '+'.
 * db is 0..65535 (default 0). Messages never echo user or password;
 * "shown" is the target without them, for logs.
 *
 *	struct shared_target t;
 *	char err[300];
 *	if (shared_url_parse("redis://:s3cret@[::1]:6380/2", &t, err,
 *	    sizeof(err)) != 0)
 *		msg_fatal("%s", err);
 *	... t.hp.host "::1", t.hp.port 6380, t.pass "s3cret", t.db 2 ...
 */
#ifndef RELAYGUARD_MILTER_SHARED_URL_H
#define RELAYGUARD_MILTER_SHARED_URL_H

#include "lib/base/hostport.h"

#include <stdbool.h>
#include <stddef.h>

struct shared_target {
	bool unix_socket;
	char path[256];			/* unix socket */
	struct rg_hostport hp;
	char user[128], pass[256];
	long db;
	char shown[320];		/* for logs: no credentials */
};

/* 0, or -1 with a message in err. */
int shared_url_parse(const char *url, struct shared_target *t, char *err,
    size_t errlen);

#endif

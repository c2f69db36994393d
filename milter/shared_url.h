/*
 * shared_url.h - the SharedState value (shared.h): where the Redis server
 * is and the credentials to give it.
 *
 *	redis://[user:pass@]host[:port][/db]
 *	unix:/path[?db=N&user=U&password=P]
 *
 * shared_url_parse() fills t; 0, or -1 with err. The password never
 * appears in err or in t->shown.
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

int shared_url_parse(const char *url, struct shared_target *t, char *err,
    size_t errlen);

#endif

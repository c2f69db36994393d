/*
 * configcheck.c - the extra checks schema rows of config.c run on a value
 * (Socket, UserID, paths, replies, MetricsListen, Nameservers); see
 * config.h. Each returns 0, or -1 with a message that config.c puts after
 * "FILE:LINE: Key: ".
 */
#include "config.h"
#include "lib/net/dns.h"
#include "milter/metrics.h"
#include "lib/base/util.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libmilter socket spec: unix:/path, local:/path, inet:port[@host],
 * inet6:port[@host] (smfi_setconn(3)). */
int rg_config_check_socket(const char *v, char *err, size_t errlen)
{
	const char *p;
	char *end;
	long port;

	if (strncmp(v, "unix:", 5) == 0 || strncmp(v, "local:", 6) == 0) {
		p = strchr(v, ':') + 1;
		if (*p != '/')
			return rg_set_err(err, errlen, "'%s': the socket path must "
			    "be absolute", v);
		return 0;
	}
	if (strncmp(v, "inet:", 5) == 0 || strncmp(v, "inet6:", 6) == 0) {
		p = strchr(v, ':') + 1;
		port = strtol(p, &end, 10);
		if (end == p || port < 1 || port > 65535 ||
		    (*end != '\0' && *end != '@') ||
		    (*end == '@' && end[1] == '\0'))
			return rg_set_err(err, errlen, "'%s': expected inet:PORT@HOST "
			    "with PORT 1..65535", v);
		return 0;
	}
	return rg_set_err(err, errlen, "'%s': expected unix:/path, inet:port@host "
	    "or inet6:port@host", v);
}

/*
 * A fresh box has no relayguard account until systemd-sysusers has read the
 * sysusers.d file that make install and the package ship: say so, rather
 * than leave the admin with a bare "unknown user".
 */
int rg_config_unknown_user(const char *name, char *err, size_t errlen)
{
	if (strcmp(name, "relayguard") == 0)
		return rg_set_err(err, errlen, "unknown user '%s': create it with "
		    "systemd-sysusers (make install and the package put "
		    "sysusers.d/relayguard.conf in place) or adduser --system "
		    "--group relayguard", name);
	return rg_set_err(err, errlen, "unknown user '%s': create it (adduser "
	    "--system --group %s) or name an existing user", name, name);
}

/* user[:group], both must exist. */
int rg_config_check_user(const char *v, char *err, size_t errlen)
{
	char buf[256], *colon;
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	char tmp[4096];

	if (strlcpy_rg(buf, v, sizeof(buf)) >= sizeof(buf))
		return rg_set_err(err, errlen, "user name too long");
	if ((colon = strchr(buf, ':')) != NULL)
		*colon++ = '\0';
	if (getpwnam_r(buf, &pw, tmp, sizeof(tmp), &pwp) != 0 || pwp == NULL)
		return rg_config_unknown_user(buf, err, errlen);
	if (colon != NULL &&
	    (getgrnam_r(colon, &gr, tmp, sizeof(tmp), &grp) != 0 || grp == NULL))
		return rg_set_err(err, errlen, "unknown group '%s'", colon);
	return 0;
}

int rg_config_check_abspath(const char *v, char *err, size_t errlen)
{
	if (v[0] != '/')
		return rg_set_err(err, errlen, "'%s' is not an absolute path", v);
	return 0;
}

int rg_config_check_tempfail(const char *v, char *err, size_t errlen)
{
	if (v[0] != '4')
		return rg_set_err(err, errlen, "'%s': must be a 4xx reply", v);
	return 0;
}

/* AbuserReply: a refusal (5xx), or 421, after which the MTA closes the
 * connection; any other 4xx would invite the boxed client to retry. */
int rg_config_check_abuser_reply(const char *v, char *err, size_t errlen)
{
	if (v[0] != '5' && strncmp(v, "421", 3) != 0)
		return rg_set_err(err, errlen, "'%s': must be a 5xx or a 421 reply", v);
	return 0;
}

/* MetricsListen: a loopback address and a port (metrics.h). */
int rg_config_check_metrics_listen(const char *v, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;

	return rg_metrics_parse_listen(v, &ss, &len, err, errlen);
}

/* "IP[:PORT], ..." as rg_dns_new() takes it. */
int rg_config_check_nameservers(const char *v, char *err, size_t errlen)
{
	char *copy = xstrdup(v), *save = NULL, *item, addr[64];
	int port, rc = 0, n = 0;

	for (item = strtok_r(copy, ", \t", &save); item != NULL && rc == 0;
	    item = strtok_r(NULL, ", \t", &save), n++)
		rc = rg_dns_parse_nameserver(item, addr, sizeof(addr), &port,
		    err, errlen);
	free(copy);
	if (rc == 0 && n == 0)
		return rg_set_err(err, errlen, "no nameserver given");
	return rc;
}


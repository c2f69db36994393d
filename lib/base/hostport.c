/*
 * hostport.c - parse and format "host[:port]"; see hostport.h.
 */
#include "lib/base/hostport.h"
#include "lib/base/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

bool rg_is_ip(const char *s)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

static int parse_port(const char *spec, const char *p, int *port, char *err, size_t errlen)
{
	char *end;
	long n;

	if (*p < '0' || *p > '9')
		return rg_set_err(err, errlen, "%s: bad port '%s'", spec, p);
	n = strtol(p, &end, 10);
	if (*end != '\0' || n < 1 || n > 65535)
		return rg_set_err(err, errlen, "%s: bad port '%s'", spec, p);
	*port = (int)n;
	return 0;
}

int rg_hostport_parse(const char *spec, int default_port, unsigned flags,
    struct rg_hostport *out, char *err, size_t errlen)
{
	const char *host = spec, *port = NULL;
	size_t hostlen;
	unsigned char a[16];

	memset(out, 0, sizeof(*out));
	out->port = default_port;
	if (*spec == '\0')
		return rg_set_err(err, errlen, "empty host");
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (close == NULL)
			return rg_set_err(err, errlen, "%s: missing ']'", spec);
		host = spec + 1;
		hostlen = (size_t)(close - host);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return rg_set_err(err, errlen, "%s: junk after ']'", spec);
		if (hostlen == 0 || hostlen >= INET6_ADDRSTRLEN)
			return rg_set_err(err, errlen, "%s: bad IPv6 address", spec);
		memcpy(out->host, host, hostlen);
		out->host[hostlen] = '\0';
		if (inet_pton(AF_INET6, out->host, a) != 1)
			return rg_set_err(err, errlen, "%s: bad IPv6 address", spec);
		out->family = AF_INET6;
	} else {
		const char *colon = strchr(spec, ':');

		if (colon && strchr(colon + 1, ':')) {	/* more than one colon */
			if (!(flags & RG_HP_BARE_V6))
				return rg_set_err(err, errlen, "%s: write IPv6 addresses as "
				    "[addr]:port", spec);
			if (strlen(spec) >= INET6_ADDRSTRLEN || inet_pton(AF_INET6, spec, a) != 1)
				return rg_set_err(err, errlen, "%s: bad IPv6 address", spec);
			strlcpy_rg(out->host, spec, sizeof(out->host));
			out->family = AF_INET6;
			return 0;
		}
		hostlen = colon ? (size_t)(colon - spec) : strlen(spec);
		port = colon ? colon + 1 : NULL;
		if (hostlen == 0 || hostlen >= sizeof(out->host))
			return rg_set_err(err, errlen, "%s: bad host", spec);
		memcpy(out->host, spec, hostlen);
		out->host[hostlen] = '\0';
		for (const char *c = out->host; *c; c++)
			if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-' && *c != '_')
				return rg_set_err(err, errlen, "%s: bad character in host name",
				    spec);
		if (inet_pton(AF_INET, out->host, a) == 1)
			out->family = AF_INET;
		else if (flags & RG_HP_NUMERIC)
			return rg_set_err(err, errlen, "%s: '%s' is not an IP address", spec,
			    out->host);
	}
	if (port) {
		if (flags & RG_HP_NO_PORT)
			return rg_set_err(err, errlen, "%s: no port expected", spec);
		if (parse_port(spec, port, &out->port, err, errlen) != 0)
			return -1;
		out->port_given = true;
	}
	return 0;
}

char *rg_hostport_format(const char *host, int port, char *buf, size_t len)
{
	snprintf(buf, len, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
	return buf;
}

/* configshow.c - relayguard-milter -n and -d; see configshow.h. */
#include "configshow.h"
#include "lib/base/util.h"

#include <stdio.h>
#include <string.h>

/*
 * "scheme://user:password@host/path" keeps all but the password (and a
 * query, which may carry one too): the admin still sees where it points.
 * Anything else is masked whole, also a URL whose secret is not plainly in
 * its userinfo. The mask has one length: it tells nothing about the
 * secret's.
 */
const char *rg_config_mask(const char *value, char *buf, size_t len)
{
	const char *auth = strstr(value, "://"), *at, *colon, *query;

	snprintf(buf, len, "%s", RG_CONFIG_MASK);
	if (auth == NULL || (at = strrchr(auth += 3, '@')) == NULL ||
	    (colon = memchr(auth, ':', (size_t)(at - auth))) == NULL)
		return buf;
	query = strchr(at, '?');
	snprintf(buf, len, "%.*s%s%.*s%s", (int)(colon + 1 - value), value,
	    RG_CONFIG_MASK, query ? (int)(query - at) : (int)strlen(at), at,
	    query ? "?" RG_CONFIG_MASK : "");
	return buf;
}

const char *rg_config_shown(const struct rg_conf_key *k, const char *value,
    char *buf, size_t len)
{
	if (k->flags & RG_CONF_SECRET)
		return rg_config_mask(value, buf, len);
	return value;
}

/* "Key value", or "Key" alone for an empty list. */
static void show(FILE *out, const struct rg_conf_key *k, const char *value)
{
	char buf[4096];
	const char *v = rg_config_shown(k, value, buf, sizeof(buf));

	if (*v == '\0')
		fprintf(out, "%s\n", k->name);
	else
		fprintf(out, "%s %s\n", k->name, v);
}

int rg_config_show_set(const struct rg_config *c, FILE *out)
{
	for (size_t i = 0; i < rg_config_schema_count; i++)
		if (c->origin[i].line > 0)
			show(out, &rg_config_schema[i], c->origin[i].raw);
	return fflush(out) != 0 || ferror(out) ? -1 : 0;
}

int rg_config_show_defaults(FILE *out)
{
	for (size_t i = 0; i < rg_config_schema_count; i++) {
		const struct rg_conf_key *k = &rg_config_schema[i];

		if (k->def != NULL)
			show(out, k, k->def);
		else
			fprintf(out, "# %s (unset)\n", k->name);
	}
	return fflush(out) != 0 || ferror(out) ? -1 : 0;
}

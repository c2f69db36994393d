/*
 * dnsbl_list.c - the DNSBL key of relayguard.conf: "zone[:code][=action]"
 * items (config.h).
 *
 *	DNSBL bl.example				any listing: log
 *	DNSBL bl.example=reject				any listing: reject
 *	DNSBL bl.example:127.0.0.2=reject, bl.example	code 127.0.0.2 rejects,
 *							other codes are logged
 *
 * The zone must be a valid domain name; a code must be an IPv4 address in
 * 127.0.0.0/8 (RFC 5782 return codes); the action is log (default) or
 * reject. Items naming the same zone share one query per client.
 */
#include "config.h"
#include "lib/net/dns.h"
#include "lib/base/util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int add_item(const char *item, void *ctx, char *err, size_t errlen)
{
	struct rg_dnsbl_list *list = ctx;
	char buf[RG_DNS_NAME_MAX + 32], *eq, *colon;
	struct rg_dnsbl d = {.action = RG_DNSBL_LOG};
	struct in_addr a;

	if (strlcpy_rg(buf, item, sizeof(buf)) >= sizeof(buf)) {
		snprintf(err, errlen, "DNSBL item too long");
		return -1;
	}
	if ((eq = strchr(buf, '=')) != NULL) {
		*eq++ = '\0';
		if (strcasecmp(eq, "reject") == 0)
			d.action = RG_DNSBL_REJECT;
		else if (strcasecmp(eq, "log") != 0) {
			snprintf(err, errlen, "'%s': action must be log or reject",
			    item);
			return -1;
		}
	}
	if ((colon = strchr(buf, ':')) != NULL) {
		*colon++ = '\0';
		if (inet_pton(AF_INET, colon, &a) != 1 ||
		    (ntohl(a.s_addr) >> 24) != 127) {
			snprintf(err, errlen, "'%s': a return code is an address "
			    "in 127.0.0.0/8", item);
			return -1;
		}
		inet_ntop(AF_INET, &a, d.code, sizeof(d.code));
	}
	if (!rg_dns_name_valid(buf) || strchr(buf, '.') == NULL) {
		snprintf(err, errlen, "'%s': not a DNSBL zone name", item);
		return -1;
	}
	d.zone = xstrdup(buf);
	rg_lowercase(d.zone);
	if (d.zone[strlen(d.zone) - 1] == '.')
		d.zone[strlen(d.zone) - 1] = '\0';
	list->v = xrealloc(list->v, (list->n + 1) * sizeof(*list->v));
	list->v[list->n++] = d;
	return 0;
}

int rg_dnsbl_list_parse(struct rg_dnsbl_list *list, const char *value,
    const char *file, int line, char *err, size_t errlen)
{
	return rg_list_walk(value, file, line, add_item, list, err, errlen);
}

void rg_dnsbl_list_free(struct rg_dnsbl_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		free(list->v[i].zone);
	free(list->v);
	list->v = NULL;
	list->n = 0;
}

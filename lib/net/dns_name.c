/*
 * dns_name.c - the syntax of a DNS name and of a nameserver spec (dns.h):
 * pure helpers that dns.c checks every query and template with, apart from
 * dns_mail.c, which stands on dns.c (so neither calls the other back).
 */
#include "lib/net/dns.h"
#include "lib/base/hostport.h"
#include "lib/base/textclean.h"
#include "lib/base/util.h"

#include <string.h>

bool rg_dns_name_valid(const char *name)
{
	size_t len = strlen(name), label = 0;

	if (len > 1 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (c == ' ' || !rg_ascii_print(c) || c == '\\' || c == '"' || c == '(' ||
		    c == ')' || c == ';' || c == '$' || c == '@')
			return false;
		if (++label > 63)
			return false;
	}
	return true;
}

int rg_dns_parse_nameserver(const char *spec, char *addr, size_t addrlen, int *port,
    char *err, size_t errlen)
{
	struct rg_hostport hp;
	char why[300];

	if (rg_hostport_parse(spec, 53, RG_HP_NUMERIC | RG_HP_BARE_V6, &hp, why,
	    sizeof(why)) != 0)
		return rg_set_err(err, errlen, "nameserver %s", why);
	if (strlen(hp.host) >= addrlen)
		return rg_set_err(err, errlen, "nameserver '%s': address too long", spec);
	strcpy(addr, hp.host);
	*port = hp.port;
	return 0;
}

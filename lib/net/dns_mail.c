/*
 * dns_mail.c - mail-level lookups on top of rg_dns_query() (dns.h): MX with
 * null MX (RFC 7505) and implicit MX (RFC 5321 5.1), A/AAAA, PTR and
 * forward-confirmed reverse DNS, TXT, DNSBL (RFC 5782), and the pure helpers
 * (reverse names, MX sorting). Name and nameserver syntax, which dns.c
 * itself checks, are in dns_name.c.
 */
#include "lib/net/dns.h"
#include "lib/base/hostport.h"
#include "lib/base/util.h"
#include "lib/base/textclean.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* --- pure helpers ------------------------------------------------------------ */

int rg_dns_reverse_name(const char *ip, const char *zone, char *buf, size_t len)
{
	unsigned char a[16];
	int n;

	if (inet_pton(AF_INET, ip, a) == 1) {
		n = snprintf(buf, len, "%u.%u.%u.%u.%s", a[3], a[2], a[1], a[0],
		    zone ? zone : "in-addr.arpa");
	} else if (inet_pton(AF_INET6, ip, a) == 1) {
		static const char hex[] = "0123456789abcdef";
		char nib[65];

		/* RFC 3596 2.5 / RFC 5782 2.4: nibbles, least significant first. */
		for (int i = 0; i < 16; i++) {
			nib[4 * i] = hex[a[15 - i] & 0xf];
			nib[4 * i + 1] = '.';
			nib[4 * i + 2] = hex[a[15 - i] >> 4];
			nib[4 * i + 3] = '.';
		}
		nib[64] = '\0';
		n = snprintf(buf, len, "%s%s", nib, zone ? zone : "ip6.arpa");
	} else {
		return -1;
	}
	if (n < 0 || (size_t)n >= len)
		return -1;
	/* a zone given with its trailing dot */
	if (n > 1 && buf[n - 1] == '.')
		buf[n - 1] = '\0';
	return 0;
}

static int mx_cmp(const void *x, const void *y)
{
	const struct rg_dns_mx *a = x, *b = y;

	if (a->pref != b->pref)
		return a->pref < b->pref ? -1 : 1;
	return strcasecmp(a->host, b->host);
}

void rg_dns_mx_sort(struct rg_dns_mx *mx, size_t n)
{
	qsort(mx, n, sizeof(*mx), mx_cmp);
}

const char *rg_fcrdns_name(enum rg_fcrdns f)
{
	switch (f) {
	case RG_FCRDNS_NONE: return "none";
	case RG_FCRDNS_PASS: return "pass";
	case RG_FCRDNS_FAIL: return "fail";
	case RG_FCRDNS_TEMPERROR: return "temperror";
	}
	return "?";
}

/* --- lookups ------------------------------------------------------------------- */

enum rg_dns_status rg_dns_addrs(struct rg_dns *dns, const char *name,
    struct rg_dns_addr_list *out)
{
	static const uint16_t types[] = {RG_DNS_T_A, RG_DNS_T_AAAA};
	enum rg_dns_status st[2];

	memset(out, 0, sizeof(*out));
	for (size_t t = 0; t < 2; t++) {
		struct rg_dns_answer a;

		st[t] = rg_dns_query(dns, name, types[t], &a);
		for (size_t i = 0; i < a.n && out->n < RG_DNS_ADDR_MAX; i++) {
			bool dup = false;

			for (size_t k = 0; k < out->n && !dup; k++)
				dup = strcmp(out->addr[k], a.rr[i].text) == 0;
			if (!dup)
				strlcpy_rg(out->addr[out->n++], a.rr[i].text, sizeof(out->addr[0]));
		}
		rg_dns_answer_free(&a);
		if (st[t] == RG_DNS_BADNAME)
			return st[t];
	}
	if (out->n)
		return RG_DNS_OK;
	if (rg_dns_status_temporary(st[0]))
		return st[0];
	if (rg_dns_status_temporary(st[1]))
		return st[1];
	return st[0] == RG_DNS_NXDOMAIN || st[1] == RG_DNS_NXDOMAIN ? RG_DNS_NXDOMAIN :
	    RG_DNS_NODATA;
}

enum rg_dns_status rg_dns_mx(struct rg_dns *dns, const char *domain,
    struct rg_dns_mx_list *out)
{
	struct rg_dns_answer a;
	enum rg_dns_status s;

	memset(out, 0, sizeof(*out));
	s = rg_dns_query(dns, domain, RG_DNS_T_MX, &a);
	if (s == RG_DNS_OK) {
		for (size_t i = 0; i < a.n && out->n < RG_DNS_MX_MAX; i++) {
			/* RFC 7505 3: "MX 0 ." is the null MX; the root as exchange
			 * means "no mail" whatever else is published. */
			if (a.rr[i].text[0] == '\0') {
				out->null_mx = true;
				continue;
			}
			out->mx[out->n].pref = a.rr[i].pref;
			strlcpy_rg(out->mx[out->n].host, a.rr[i].text, sizeof(out->mx[0].host));
			out->n++;
		}
		rg_dns_answer_free(&a);
		if (out->null_mx)
			out->n = 0;
		rg_dns_mx_sort(out->mx, out->n);
		return RG_DNS_OK;
	}
	rg_dns_answer_free(&a);
	if (s != RG_DNS_NODATA)
		return s;
	/* No MX: the implicit MX is the domain itself, if it has an address. */
	struct rg_dns_addr_list addrs;
	enum rg_dns_status as = rg_dns_addrs(dns, domain, &addrs);

	if (as != RG_DNS_OK)
		return as == RG_DNS_NXDOMAIN ? RG_DNS_NODATA : as;
	out->implicit = true;
	out->n = 1;
	strlcpy_rg(out->mx[0].host, domain, sizeof(out->mx[0].host));
	size_t n = strlen(out->mx[0].host);

	if (n > 1 && out->mx[0].host[n - 1] == '.')
		out->mx[0].host[n - 1] = '\0';
	rg_lowercase(out->mx[0].host);
	return RG_DNS_OK;
}

enum rg_dns_status rg_dns_ptr(struct rg_dns *dns, const char *ip,
    struct rg_dns_name_list *out)
{
	char rev[128];
	struct rg_dns_answer a;
	enum rg_dns_status s;

	memset(out, 0, sizeof(*out));
	if (rg_dns_reverse_name(ip, NULL, rev, sizeof(rev)) != 0)
		return RG_DNS_BADNAME;
	s = rg_dns_query(dns, rev, RG_DNS_T_PTR, &a);
	for (size_t i = 0; i < a.n && out->n < RG_NELEM(out->name); i++)
		if (rg_dns_name_valid(a.rr[i].text))
			strlcpy_rg(out->name[out->n++], a.rr[i].text, sizeof(out->name[0]));
	rg_dns_answer_free(&a);
	if (s == RG_DNS_OK && out->n == 0)
		s = RG_DNS_NODATA;
	return s;
}

/* Same address, IPv4-mapped IPv6 compared as IPv4. */
static bool same_ip(const char *x, const char *y)
{
	unsigned char a[16], b[16];
	int fa = strchr(x, ':') ? AF_INET6 : AF_INET, fb = strchr(y, ':') ? AF_INET6 : AF_INET;

	if (inet_pton(fa, x, a) != 1 || inet_pton(fb, y, b) != 1)
		return false;
	if (fa == fb)
		return memcmp(a, b, fa == AF_INET ? 4 : 16) == 0;
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const unsigned char *v6 = fa == AF_INET6 ? a : b, *v4 = fa == AF_INET ? a : b;

	return memcmp(v6, mapped, 12) == 0 && memcmp(v6 + 12, v4, 4) == 0;
}

enum rg_fcrdns rg_dns_fcrdns(struct rg_dns *dns, const char *ip, char *ptr_name,
    size_t len)
{
	struct rg_dns_name_list names;
	enum rg_dns_status s = rg_dns_ptr(dns, ip, &names);
	bool temp = false;

	if (len)
		ptr_name[0] = '\0';
	if (s != RG_DNS_OK)
		return rg_dns_status_temporary(s) ? RG_FCRDNS_TEMPERROR : RG_FCRDNS_NONE;
	if (len)
		strlcpy_rg(ptr_name, names.name[0], len);
	/* RFC 8601 2.7.3 iprev: at most a few names are tried. */
	for (size_t i = 0; i < names.n && i < 4; i++) {
		struct rg_dns_addr_list addrs;
		enum rg_dns_status fs = rg_dns_addrs(dns, names.name[i], &addrs);

		if (rg_dns_status_temporary(fs))
			temp = true;
		for (size_t k = 0; k < addrs.n; k++)
			if (same_ip(addrs.addr[k], ip)) {
				if (len)
					strlcpy_rg(ptr_name, names.name[i], len);
				return RG_FCRDNS_PASS;
			}
	}
	return temp ? RG_FCRDNS_TEMPERROR : RG_FCRDNS_FAIL;
}

enum rg_dns_status rg_dns_txt(struct rg_dns *dns, const char *name, char ***txt,
    size_t *n)
{
	struct rg_dns_answer a;
	enum rg_dns_status s = rg_dns_query(dns, name, RG_DNS_T_TXT, &a);

	*n = 0;
	*txt = a.n ? xcalloc(a.n, sizeof(**txt)) : NULL;
	for (size_t i = 0; i < a.n && i < 8; i++)
		(*txt)[(*n)++] = xstrdup(a.rr[i].text);
	rg_dns_answer_free(&a);
	return s;
}

void rg_dns_txt_free(char **txt, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(txt[i]);
	free(txt);
}

enum rg_dns_status rg_dnsbl_query(struct rg_dns *dns, const char *ip, const char *zone,
    struct rg_dnsbl_result *out)
{
	char q[RG_DNS_NAME_MAX + 80];
	struct rg_dns_answer a;

	memset(out, 0, sizeof(*out));
	if (rg_dns_reverse_name(ip, zone, q, sizeof(q)) != 0 || !rg_dns_name_valid(q)) {
		out->status = RG_DNS_BADNAME;
		return out->status;
	}
	out->status = rg_dns_query(dns, q, RG_DNS_T_A, &a);
	for (size_t i = 0; i < a.n; i++) {
		const unsigned char *b = a.rr[i].addr;

		/* RFC 5782 2.3: listings answer 127.0.0.0/8; 127.255.255.x is what
		 * several lists use for "query refused / rate limited". */
		if (b[0] != 127 || (b[1] == 255 && b[2] == 255))
			continue;
		out->listed = true;
		size_t used = strlen(out->codes);

		snprintf(out->codes + used, sizeof(out->codes) - used, "%s%s",
		    used ? " " : "", a.rr[i].text);
	}
	rg_dns_answer_free(&a);
	if (out->listed) {
		char **txt;
		size_t n;

		/* Kept as published (bounded): every writer cleans it for its
		 * sink with textclean.h. */
		if (rg_dns_txt(dns, q, &txt, &n) == RG_DNS_OK && n > 0)
			strlcpy_rg(out->reason, txt[0], sizeof(out->reason));
		rg_dns_txt_free(txt, n);
	}
	return out->status;
}

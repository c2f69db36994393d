/*
 * dns_parse.c - an ldns reply read into a struct rg_dns_answer: the CNAME
 * chain followed inside the answer section, records of the asked type kept
 * (A, AAAA, MX, TXT, PTR...), names lowercased, the negative TTL of RFC 2308.
 * Used by dns.c; see dns_parse.h.
 */
#include "lib/net/dns.h"
#include "lib/base/util.h"
#include "dns_impl.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define CNAME_HOPS	8
#define TXT_MAX		4096	/* longer TXT records are cut (never in SPF) */
#define RR_MAX		64	/* records kept per answer */

/* Lowercase name text without the trailing dot ("" for the root). */
static char *dname_text(const ldns_rdf *rdf)
{
	char *s = rdf ? ldns_rdf2str(rdf) : NULL;
	char *out;
	size_t n;

	if (s == NULL)
		return xstrdup("");
	n = strlen(s);
	if (n && s[n - 1] == '.')
		s[--n] = '\0';
	out = xstrdup(s);
	free(s);		/* ldns allocates with malloc */
	rg_lowercase(out);
	return out;
}

static char *txt_text(const ldns_rr *rr)
{
	char *buf = xmalloc(TXT_MAX + 1);
	size_t len = 0;

	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, i);
		const uint8_t *d = ldns_rdf_data(f);
		size_t sz = ldns_rdf_size(f);

		if (sz == 0)
			continue;
		/* character-string: a length byte, then that many bytes */
		size_t sl = d[0] < sz - 1 ? d[0] : sz - 1;

		for (size_t k = 0; k < sl && len < TXT_MAX; k++)
			buf[len++] = d[1 + k] ? (char)d[1 + k] : '?';
	}
	buf[len] = '\0';
	return buf;
}

static bool rr_to_answer(const ldns_rr *rr, uint16_t type, struct rg_dns_rr *out)
{
	const ldns_rdf *f;

	memset(out, 0, sizeof(*out));
	out->type = type;
	out->ttl = ldns_rr_ttl(rr);
	switch (type) {
	case RG_DNS_T_A:
	case RG_DNS_T_AAAA: {
		char txt[INET6_ADDRSTRLEN];
		size_t want = type == RG_DNS_T_A ? 4 : 16;

		f = ldns_rr_rdf(rr, 0);
		if (f == NULL || ldns_rdf_size(f) != want)
			return false;
		memcpy(out->addr, ldns_rdf_data(f), want);
		out->family = type == RG_DNS_T_A ? AF_INET : AF_INET6;
		inet_ntop(out->family, out->addr, txt, sizeof(txt));
		out->text = xstrdup(txt);
		return true;
	}
	case RG_DNS_T_MX:
		if (ldns_rr_rd_count(rr) < 2 || ldns_rdf_size(ldns_rr_rdf(rr, 0)) != 2)
			return false;
		out->pref = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
		out->text = dname_text(ldns_rr_rdf(rr, 1));
		return true;
	case RG_DNS_T_PTR:
	case RG_DNS_T_CNAME:
		if (ldns_rr_rd_count(rr) < 1)
			return false;
		out->text = dname_text(ldns_rr_rdf(rr, 0));
		return true;
	case RG_DNS_T_TXT:
		out->text = txt_text(rr);
		return true;
	}
	return false;
}

uint32_t rg_dns__negative_ttl(const ldns_pkt *p, uint32_t dflt)
{
	const ldns_rr_list *auth = ldns_pkt_authority(p);

	for (size_t i = 0; auth && i < ldns_rr_list_rr_count(auth); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(auth, i);

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA && ldns_rr_rd_count(rr) >= 7) {
			uint32_t min = ldns_rdf2native_int32(ldns_rr_rdf(rr, 6));
			uint32_t ttl = ldns_rr_ttl(rr);

			return min < ttl ? min : ttl;	/* RFC 2308 5 */
		}
	}
	return dflt;
}

/* Follow CNAMEs from qname inside the answer section, keep records of type. */
void rg_dns__parse_answer(const ldns_pkt *p, const char *qname, uint16_t type,
    unsigned neg_dflt, struct rg_dns_answer *out)
{
	const ldns_rr_list *an = ldns_pkt_answer(p);
	size_t count = an ? ldns_rr_list_rr_count(an) : 0;
	char *cur = xstrdup(qname);

	for (int hop = 0; hop < CNAME_HOPS && type != RG_DNS_T_CNAME; hop++) {
		bool moved = false;

		for (size_t i = 0; i < count && !moved; i++) {
			const ldns_rr *rr = ldns_rr_list_rr(an, i);
			char *owner;

			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME)
				continue;
			owner = dname_text(ldns_rr_owner(rr));
			if (strcmp(owner, cur) == 0 && ldns_rr_rd_count(rr) == 1) {
				free(cur);
				cur = dname_text(ldns_rr_rdf(rr, 0));
				moved = true;
			}
			free(owner);
		}
		if (!moved)
			break;
	}
	out->ttl = UINT32_MAX;
	for (size_t i = 0; i < count && out->n < RR_MAX; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		char *owner;
		struct rg_dns_rr r;

		if (ldns_rr_get_type(rr) != (ldns_rr_type)type ||
		    ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN)
			continue;
		owner = dname_text(ldns_rr_owner(rr));
		bool mine = strcmp(owner, cur) == 0;

		free(owner);
		if (!mine || !rr_to_answer(rr, type, &r))
			continue;
		out->rr = xrealloc(out->rr, (out->n + 1) * sizeof(*out->rr));
		out->rr[out->n++] = r;
		if (r.ttl < out->ttl)
			out->ttl = r.ttl;
	}
	free(cur);
	if (out->n == 0) {
		out->status = RG_DNS_NODATA;
		out->ttl = rg_dns__negative_ttl(p, neg_dflt);
	} else {
		out->status = RG_DNS_OK;
	}
}

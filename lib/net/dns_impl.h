/*
 * dns_impl.h - what the parts of the DNS module share and nobody else
 * sees: reading an ldns reply (dns_parse.c) for dns.c. It includes no
 * header of the module, so the parts only look at it, never at each other.
 */
#ifndef RELAYGUARD_DNS_IMPL_H
#define RELAYGUARD_DNS_IMPL_H

#include <ldns/ldns.h>
#include <stdint.h>

struct rg_dns_answer;

/* The negative-caching TTL of reply p (SOA minimum, RFC 2308 5), or dflt. */
uint32_t rg_dns__negative_ttl(const ldns_pkt *p, uint32_t dflt);

/* Follow CNAMEs from qname inside p's answer section and add the records
 * of type to out (status OK), or set NODATA with the negative TTL. */
void rg_dns__parse_answer(const ldns_pkt *p, const char *qname, uint16_t type,
    unsigned neg_dflt, struct rg_dns_answer *out);

#endif

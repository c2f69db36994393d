/*
 * dns_parse.h - reading an ldns reply (dns_parse.c), for dns.c only.
 */
#ifndef RELAYGUARD_DNS_PARSE_H
#define RELAYGUARD_DNS_PARSE_H

#include "lib/net/dns.h"

#include <ldns/ldns.h>
#include <stdint.h>

/* The negative-caching TTL of reply p (SOA minimum, RFC 2308 5), or dflt. */
uint32_t rg_dns__negative_ttl(const ldns_pkt *p, uint32_t dflt);

/* Follow CNAMEs from qname inside p's answer section and add the records
 * of type to out (status OK), or set NODATA with the negative TTL. */
void rg_dns__parse_answer(const ldns_pkt *p, const char *qname, uint16_t type,
    unsigned neg_dflt, struct rg_dns_answer *out);

#endif

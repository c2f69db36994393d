/*
 * fuzz_netmatch.c - libFuzzer target for the CIDR and domain lists
 * (netmatch.h), which read TrustedNetworks, LocalDomains, RelayDomains and
 * their list files.
 *
 * Input: the first line is a list value, parsed both as a CIDR list and as
 * a domain list; each further line is a candidate matched against both.
 * Invariants: an error names "fuzz:1:"; a candidate that is an IP address
 * matches a list made of itself alone, and a plain domain name (letters,
 * digits, '-', '.') matches a list made of itself alone, as do its
 * subdomains when it is written with a leading dot (and then the name
 * itself does not). Values naming "file:" are skipped (arbitrary files).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mail/netmatch.h"
#include "lib/base/util.h"
#include "fuzz.h"

struct lists {
	struct rg_cidr_list nets;
	struct rg_domain_list doms;
	bool nets_ok, doms_ok;
};

static void check_err(int rc, const char *err)
{
	if (rc != 0 && (memchr(err, '\0', RG_NETMATCH_ERRLEN) == NULL ||
	    strncmp(err, "fuzz:1:", 7) != 0))
		abort();
}

static bool plain_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 200 || s[0] == '.' || s[n - 1] == '.' || strstr(s, "..") != NULL)
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
			return false;
	return true;
}

static void self_match(const char *cand)
{
	char err[RG_NETMATCH_ERRLEN], lower[256], sub[300];
	unsigned char buf[16];
	struct rg_cidr_list one = {0};
	struct rg_domain_list dl = {0};

	if (inet_pton(AF_INET, cand, buf) == 1 || inet_pton(AF_INET6, cand, buf) == 1) {
		if (rg_cidr_list_parse(&one, cand, "fuzz", 1, err, sizeof(err)) != 0 ||
		    !rg_cidr_list_match_text(&one, cand))
			abort();
		rg_cidr_list_free(&one);
	}
	if (!plain_name(cand[0] == '.' ? cand + 1 : cand))
		return;
	if (rg_domain_list_parse(&dl, cand, "fuzz", 1, err, sizeof(err)) != 0)
		abort();
	strlcpy_rg(lower, cand, sizeof(lower));
	rg_lowercase(lower);
	snprintf(sub, sizeof(sub), "x%s%s", lower[0] == '.' ? "" : ".", lower);
	if (lower[0] == '.') {
		if (!rg_domain_list_match(&dl, sub, NULL) ||
		    rg_domain_list_match(&dl, lower + 1, NULL))
			abort();
	} else if (!rg_domain_list_match(&dl, lower, NULL)) {
		abort();
	}
	rg_domain_list_free(&dl);
}

static void candidate(const char *cand, size_t len, void *ctx)
{
	struct lists *l = ctx;

	(void)len;
	if (l->nets_ok)
		(void)rg_cidr_list_match_text(&l->nets, cand);
	if (l->doms_ok) {
		(void)rg_domain_list_match(&l->doms, cand, NULL);
		(void)rg_domain_list_match(&l->doms, cand, cand);
	}
	self_match(cand);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lists l = {0};
	char err[RG_NETMATCH_ERRLEN];
	const uint8_t *nl = memchr(data, '\n', size);
	size_t first = nl ? (size_t)(nl - data) : size;
	char *value;
	struct rg_cidr c;
	int rc;

	if (memmem(data, size, "file:", 5) != NULL)
		return 0;
	if ((value = fuzz_strndup(data, first)) == NULL)
		return 0;
	rc = rg_cidr_list_parse(&l.nets, value, "fuzz", 1, err, sizeof(err));
	check_err(rc, err);
	l.nets_ok = rc == 0;
	rc = rg_domain_list_parse(&l.doms, value, "fuzz", 1, err, sizeof(err));
	check_err(rc, err);
	l.doms_ok = rc == 0;
	if (rg_cidr_parse(value, &c, err, sizeof(err)) == 0 &&
	    (c.family == AF_INET ? c.prefix > 32 : c.prefix > 128))
		abort();
	if (nl != NULL)
		fuzz_pieces(nl + 1, size - first - 1, '\n', candidate, &l);
	rg_cidr_list_free(&l.nets);
	rg_domain_list_free(&l.doms);
	free(value);
	return 0;
}

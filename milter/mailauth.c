/*
 * mailauth.c - relayguard-milter's DNS-based checks: SPF (RFC 7208) with a
 * Received-SPF or Authentication-Results (RFC 8601) header, DNSBL lookups
 * of the client (RFC 5782), and the client's PTR name with forward-
 * confirmed reverse DNS for the decision log.
 *
 * All of it runs at MAIL FROM, under one per-thread DNS deadline of
 * DNSBudget seconds (dns.h): reverse DNS and DNSBL once per connection
 * (at its first MAIL FROM, so that sendmail's 10 s reply timer covers one
 * stage with one budget, not connect + MAIL), SPF once per message. A dead
 * nameserver costs one DNSTimeout, then the resolver's hold-down makes
 * every lookup fail at once: SPF becomes temperror, the PTR "unknown", the
 * DNSBL "not listed", dns.c logs one warning, and the mail flows.
 *
 * Who is checked: SPF and DNSBL only for clients outside TrustedNetworks
 * that did not authenticate (SPFCheckTrusted adds SPF for those, with
 * header and log but never a refusal). Local submissions (no client
 * address) are never checked.
 *
 * Policy: SPFFail, SPFSoftfail, SPFTempError, SPFPermError each record
 * (default), reject or tempfail at MAIL FROM, with the RFC 7372 codes:
 * fail/softfail 550 5.7.23 / 451 4.7.23 ("SPF validation failed"),
 * temperror/permerror 550 5.7.24 / 451 4.7.24 ("SPF validation error").
 * A DNSBL item with =reject refuses every recipient (554 5.7.1). Mode
 * log-only turns each refusal into a log line (action "log-only").
 *
 * Events: dnsbl_listed (zone, codes, TXT), spoofing (a LocalDomains
 * sender from an untrusted, unauthenticated client that SPF says fail or
 * softfail), spf_rejected / spf_tempfailed / spf_would_refuse; every SPF
 * check also gets a key=value syslog line "spf_checked" with dns_ms.
 */
#include "milter.h"
#include "metrics.h"
#include "lib/base/log.h"
#include "lib/mail/netmatch.h"
#include "lib/base/textclean.h"
#include "lib/base/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void milter_dns_free(void *p)
{
	struct milter_dns *md = p;

	rg_spf_free(md->spf);		/* before the resolver it uses */
	rg_dns_free(md->dns);
	free(md);
}

int milter_dns_attach(struct rg_config *c, char *err, size_t errlen)
{
	struct rg_dns_opts o = RG_DNS_OPTS_DEFAULT;
	struct milter_dns *md;
	char host[256];

	if (!c->spf && c->dnsbl.n == 0 && !c->reverse_dns)
		return 0;
	o.nameservers = c->nameservers;
	o.timeout = c->dns_timeout;
	o.retries = (int)c->dns_retries;
	md = xcalloc(1, sizeof(*md));
	if ((md->dns = rg_dns_new(&o, err, errlen)) == NULL) {
		free(md);
		return -1;
	}
	if (c->authserv_id == NULL) {
		if (gethostname(host, sizeof(host)) != 0)
			strlcpy_rg(host, "localhost", sizeof(host));
		host[sizeof(host) - 1] = '\0';
		c->authserv_id = xstrdup(host);
	}
	if (c->spf) {
		md->spf = rg_spf_new(md->dns, c->authserv_id);
		rg_spf_set_budget(md->spf, c->dns_budget);
	}
	c->runtime = md;
	c->runtime_free = milter_dns_free;
	msg_verbose("dns: nameservers %s, timeout %.1f s, %ld retries, budget "
	    "%.1f s", rg_dns_describe(md->dns), c->dns_timeout, c->dns_retries,
	    c->dns_budget);
	return 0;
}

static bool client_trusted(const struct conn *c)
{
	return rg_cidr_list_match_sockaddr(&c->conf->trusted_networks,
	    (const struct sockaddr *)&c->addr);
}

/* --- reverse DNS and DNSBL (once per connection) --------------------------- */

static bool code_listed(const char *codes, const char *code)
{
	size_t n = strlen(code);

	for (const char *p = codes; (p = strstr(p, code)) != NULL; p += n)
		if ((p == codes || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

/* The strongest action of the items of zone that the listing matches;
 * -1 when none matches (only items for other return codes). */
static int dnsbl_action(const struct rg_dnsbl_list *l, const char *zone,
    const char *codes)
{
	int action = -1;

	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].zone, zone) == 0 &&
		    (l->v[i].code[0] == '\0' || code_listed(codes, l->v[i].code)) &&
		    l->v[i].action > action)
			action = l->v[i].action;
	return action;
}

static void dnsbl_check(struct conn *c, struct rg_dns *dns)
{
	const struct rg_dnsbl_list *l = &c->conf->dnsbl;
	struct rg_dnsbl_result r;
	bool log_only = c->conf->mode == RG_MODE_LOG_ONLY;
	int action;

	for (size_t i = 0; i < l->n; i++) {
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)	/* one query per zone */
			seen = strcmp(l->v[j].zone, l->v[i].zone) == 0;
		if (seen || rg_dnsbl_query(dns, c->client_addr, l->v[i].zone,
		    &r) != RG_DNS_OK || !r.listed ||
		    (action = dnsbl_action(l, l->v[i].zone, r.codes)) < 0)
			continue;
		{
			struct rg_event_field f[] = {
				{.key = "zone", .str = l->v[i].zone},
				{.key = "codes", .str = r.codes},
				{.key = "txt", .str = r.reason},
			};
			const char *act = action != RG_DNSBL_REJECT ? "log" :
			    log_only ? "log-only" : "reject";

			rg_metrics_dnsbl_hit(action == RG_DNSBL_REJECT);
			milter_record(c, "dnsbl_listed", act, NULL,
			    "client listed in a DNS blocklist", f, RG_NELEM(f));
		}
		if (action == RG_DNSBL_REJECT && !log_only && !c->dnsbl_reject) {
			c->dnsbl_reject = true;
			strlcpy_rg(c->dnsbl_zone, l->v[i].zone,
			    sizeof(c->dnsbl_zone));
		}
	}
}

static void client_check(struct conn *c, struct rg_dns *dns, bool untrusted)
{
	c->client_checked = true;
	if (c->conf->reverse_dns) {
		c->fcrdns = rg_dns_fcrdns(dns, c->client_addr, c->ptr,
		    sizeof(c->ptr));
		if (c->fcrdns == RG_FCRDNS_TEMPERROR)
			strlcpy_rg(c->ptr, "unknown", sizeof(c->ptr));
		else if (c->fcrdns == RG_FCRDNS_NONE)
			c->ptr[0] = '\0';
	}
	if (untrusted && c->conf->dnsbl.n > 0)
		dnsbl_check(c, dns);
}

/* --- SPF --------------------------------------------------------------------- */

static int spf_action(const struct rg_config *conf, enum rg_spf_res r)
{
	switch (r) {
	case RG_SPF_FAIL:
		return conf->spf_fail;
	case RG_SPF_SOFTFAIL:
		return conf->spf_softfail;
	case RG_SPF_TEMPERROR:
		return conf->spf_temperror;
	case RG_SPF_PERMERROR:
		return conf->spf_permerror;
	default:
		return RG_SPF_ACTION_RECORD;
	}
}

static sfsistat spf_refuse(SMFICTX *ctx, const struct conn *c, int action)
{
	const struct rg_spf_result *r = &c->spf;
	bool failed = r->result == RG_SPF_FAIL || r->result == RG_SPF_SOFTFAIL;
	bool reject = action == RG_SPF_ACTION_REJECT;
	char raw[700], text[1024];

	if (c->conf->mode == RG_MODE_LOG_ONLY) {
		milter_record(c, "spf_would_refuse", "log-only", NULL,
		    r->explanation, (struct rg_event_field[]){{.key = "spf",
		    .str = rg_spf_result_name(r->result)}}, 1);
		return SMFIS_CONTINUE;
	}
	milter_record(c, reject ? "spf_rejected" : "spf_tempfailed",
	    reject ? "reject" : "tempfail", NULL, r->explanation,
	    (struct rg_event_field[]){{.key = "spf",
	    .str = rg_spf_result_name(r->result)}}, 1);
	/* the explanation may quote the sender's record: the SMTP rule of
	 * textclean.h (printable ASCII, '%' doubled for smfi_setreply) */
	snprintf(raw, sizeof(raw), "SPF %s: %s", rg_spf_result_name(r->result),
	    r->explanation);
	rg_clean_str(RG_SINK_SMTP, text, sizeof(text), raw);
	if (smfi_setreply(ctx, reject ? "550" : "451",
	    reject ? (failed ? "5.7.23" : "5.7.24") :
	    (failed ? "4.7.23" : "4.7.24"), text) != MI_SUCCESS)
		msg_warn("smfi_setreply failed for client_addr=%s", c->client_addr);
	return reject ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

static void spoofing_check(const struct conn *c, const char *action)
{
	const struct rg_spf_result *r = &c->spf;

	if ((r->result != RG_SPF_FAIL && r->result != RG_SPF_SOFTFAIL) ||
	    strcmp(r->identity, "mailfrom") != 0 ||
	    !rg_domain_list_match(&c->conf->local_domains, r->domain, NULL))
		return;
	milter_record(c, "spoofing", action, NULL,
	    "a local domain's address from an untrusted, unauthenticated "
	    "client that its SPF record does not authorise",
	    (struct rg_event_field[]){{.key = "spf",
	    .str = rg_spf_result_name(r->result)}, {.key = "domain",
	    .str = r->domain}}, 2);
}

static void spf_logline(const struct conn *c, double ms)
{
	char line[2048];
	struct rg_event_field f[] = {
		{.key = "spf", .str = rg_spf_result_name(c->spf.result)},
		{.key = "domain", .str = c->spf.domain},
		{.key = "identity", .str = c->spf.identity},
		{.key = "dns_ms", .num = (long)(ms + 0.5)},
	};
	struct rg_event ev = {
		.event = "spf_checked", .client_addr = c->client_addr,
		.host = c->myhostname[0] ? c->myhostname : NULL,
		.helo = c->helo, .sender = c->sender, .reason = c->spf.explanation,
		.queue_id = c->queue_id[0] ? c->queue_id : NULL,
		.fields = f, .nfields = RG_NELEM(f),
	};

	msg_info("%s", rg_event_format_kv(&ev, line, sizeof(line)));
}

sfsistat mailauth_envfrom(SMFICTX *ctx, struct conn *c)
{
	const struct rg_config *conf = c->conf;
	const struct milter_dns *md = conf->runtime;
	bool untrusted, check_spf;
	int action;
	double t0;

	if (!c->have_addr)
		return SMFIS_CONTINUE;
	untrusted = c->auth[0] == '\0' && !client_trusted(c);
	check_spf = conf->spf && md->spf != NULL &&
	    (untrusted || conf->spf_check_trusted);
	if (c->client_checked && !check_spf)
		return SMFIS_CONTINUE;
	t0 = rg_now();
	rg_dns_deadline_in(conf->dns_budget);
	if (!c->client_checked)
		client_check(c, md->dns, untrusted);
	if (check_spf) {
		rg_spf_check(md->spf, c->client_addr, c->helo, c->sender, &c->spf);
		c->spf_done = true;
		rg_metrics_spf((int)c->spf.result);
	}
	rg_dns_deadline_set(0);
	if (!check_spf)
		return SMFIS_CONTINUE;
	/* a pass is a counter (rg_metrics_spf), not evidence: no line per
	 * ordinary message unless LogVerbose */
	if (c->spf.result != RG_SPF_PASS || conf->log_verbose)
		spf_logline(c, (rg_now() - t0) * 1e3);
	action = untrusted ? spf_action(conf, c->spf.result) : RG_SPF_ACTION_RECORD;
	if (untrusted)
		spoofing_check(c, action == RG_SPF_ACTION_RECORD ? "none" :
		    conf->mode == RG_MODE_LOG_ONLY ? "log-only" :
		    action == RG_SPF_ACTION_REJECT ? "reject" : "tempfail");
	if (action == RG_SPF_ACTION_RECORD)
		return SMFIS_CONTINUE;
	return spf_refuse(ctx, c, action);
}

sfsistat mailauth_envrcpt(SMFICTX *ctx, struct conn *c, const char *rcpt)
{
	char raw[600], text[1024];

	if (!c->dnsbl_reject || c->auth[0] != '\0')
		return SMFIS_CONTINUE;
	milter_record(c, "dnsbl_refused", "reject", rcpt, "client listed in a "
	    "DNS blocklist", (struct rg_event_field[]){{.key = "zone",
	    .str = c->dnsbl_zone}}, 1);
	snprintf(raw, sizeof(raw), "Service unavailable; client [%s] blocked "
	    "using %s", c->client_addr, c->dnsbl_zone);
	rg_clean_str(RG_SINK_SMTP, text, sizeof(text), raw);
	if (smfi_setreply(ctx, "554", "5.7.1", text) != MI_SUCCESS)
		msg_warn("smfi_setreply failed for client_addr=%s", c->client_addr);
	return SMFIS_REJECT;
}

/* --- the header ------------------------------------------------------------------ */

bool mailauth_wants_eom(const struct conn *c)
{
	return c->spf_done && c->conf->spf_header != RG_SPF_HEADER_NONE;
}

/* local-part@domain when the local part is dot-atom text (RFC 5322), else
 * just the domain: RFC 8601 allows both, and no quoting is needed. */
static void ar_mailfrom(const struct conn *c, char *buf, size_t len)
{
	const char *s = c->sender + (c->sender[0] == '<');
	const char *at = strrchr(s, '@');
	bool atom = at != NULL && at > s;

	for (const char *p = s; atom && p < at; p++)
		atom = isalnum((unsigned char)*p) ||
		    strchr(".!#$&'*+-/=?^_`{|}~", *p) != NULL;
	if (atom)
		snprintf(buf, len, "%.*s@%s", (int)(at - s), s, c->spf.domain);
	else
		snprintf(buf, len, "%s", c->spf.domain);
}

void mailauth_eom(SMFICTX *ctx, struct conn *c)
{
	const struct rg_spf_result *r = &c->spf;
	char value[1400], from[600];
	const char *name;

	if (c->conf->spf_header == RG_SPF_HEADER_RECEIVED_SPF) {
		name = "Received-SPF";
		strlcpy_rg(value, r->received_spf, sizeof(value));
	} else {
		name = "Authentication-Results";
		if (r->domain[0] == '\0')
			snprintf(value, sizeof(value), "%s; spf=%s",
			    c->conf->authserv_id, rg_spf_result_name(r->result));
		else if (strcmp(r->identity, "helo") == 0)
			snprintf(value, sizeof(value), "%s; spf=%s smtp.helo=%s",
			    c->conf->authserv_id, rg_spf_result_name(r->result),
			    r->domain);
		else {
			ar_mailfrom(c, from, sizeof(from));
			snprintf(value, sizeof(value), "%s; spf=%s smtp.mailfrom=%s",
			    c->conf->authserv_id, rg_spf_result_name(r->result),
			    from);
		}
	}
	if (value[0] != '\0' &&
	    smfi_insheader(ctx, 0, (char *)name, value) != MI_SUCCESS)
		msg_warn("cannot add %s (client_addr=%s)", name, c->client_addr);
}

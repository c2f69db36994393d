/*
 * dns.c - the ldns resolver behind dns.h: nameserver templates, a clone per
 * query (ldns_send mutates its resolver), deadlines, hold-down after a dead
 * server, and the bounded TTL cache. Replies are read in dns_parse.c,
 * mail-level lookups are in dns_mail.c.
 */
#include "lib/net/dns.h"
#include "lib/net/fiber.h"
#include "lib/base/log.h"
#include "lib/base/util.h"
#include "dns_impl.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <ldns/ldns.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>


struct cache_entry {
	char *name;
	uint16_t type;
	double expires;
	struct rg_dns_answer ans;
};

struct rg_dns {
	struct rg_dns_opts o;
	ldns_resolver **tmpl;		/* one per nameserver, or one from resolv.conf */
	size_t ntmpl;
	char desc[512];
	pthread_mutex_t lock;		/* cache, hold-down and stats */
	struct cache_entry *cache;
	size_t ncache;
	double down_until;
	bool down;
	struct rg_dns_stats st;
};

static _Thread_local double tl_deadline;
static const struct rg_dns_observer *observer;	/* rg_dns_observe() */

void rg_dns_observe(const struct rg_dns_observer *obs)
{
	observer = obs;
}

static void observe_lookup(double seconds, bool timeout)
{
	if (observer != NULL && observer->lookup != NULL)
		observer->lookup(seconds, timeout);
}

/* per thread, or per fiber in one (fiber.h) */
static double *deadline_slot(void)
{
	struct rg_fiber_tls *f = rg_fiber_tls();

	return f != NULL ? &f->dns_deadline : &tl_deadline;
}

void rg_dns_deadline_set(double deadline) { *deadline_slot() = deadline; }
void rg_dns_deadline_in(double seconds) { *deadline_slot() = rg_now() + seconds; }
double rg_dns_deadline_get(void) { return *deadline_slot(); }

const char *rg_dns_status_name(enum rg_dns_status s)
{
	switch (s) {
	case RG_DNS_OK: return "ok";
	case RG_DNS_NODATA: return "nodata";
	case RG_DNS_NXDOMAIN: return "nxdomain";
	case RG_DNS_SERVFAIL: return "servfail";
	case RG_DNS_TIMEOUT: return "timeout";
	case RG_DNS_BADNAME: return "badname";
	}
	return "?";
}

bool rg_dns_status_temporary(enum rg_dns_status s)
{
	return s == RG_DNS_SERVFAIL || s == RG_DNS_TIMEOUT;
}

/* --- setup --------------------------------------------------------------- */

static void tmpl_tune(ldns_resolver *r, const struct rg_dns_opts *o)
{
	struct timeval tv = {(time_t)o->timeout,
	    (suseconds_t)((o->timeout - (double)(time_t)o->timeout) * 1e6)};

	ldns_resolver_set_timeout(r, tv);
	ldns_resolver_set_retry(r, 1);		/* rounds are ours, see send_one() */
	ldns_resolver_set_retrans(r, 1);
	ldns_resolver_set_random(r, false);
	ldns_resolver_set_recursive(r, true);
	ldns_resolver_set_defnames(r, false);
	ldns_resolver_set_dnsrch(r, false);
	ldns_resolver_set_fallback(r, true);	/* TCP when the reply is truncated */
	ldns_resolver_set_edns_udp_size(r, 1232);
}

static int add_nameserver(struct rg_dns *dns, const char *spec, char *err, size_t errlen)
{
	char addr[64];
	int port;
	ldns_rdf *a;
	ldns_resolver *r;

	if (rg_dns_parse_nameserver(spec, addr, sizeof(addr), &port, err, errlen) != 0)
		return -1;
	a = ldns_rdf_new_frm_str(strchr(addr, ':') ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A,
	    addr);
	r = ldns_resolver_new();
	if (a == NULL || r == NULL || ldns_resolver_push_nameserver(r, a) != LDNS_STATUS_OK) {
		snprintf(err, errlen, "nameserver '%s': cannot use it", spec);
		if (a)
			ldns_rdf_deep_free(a);
		if (r)
			ldns_resolver_deep_free(r);
		return -1;
	}
	ldns_rdf_deep_free(a);
	ldns_resolver_set_port(r, (uint16_t)port);
	tmpl_tune(r, &dns->o);
	dns->tmpl = xrealloc(dns->tmpl, (dns->ntmpl + 1) * sizeof(*dns->tmpl));
	dns->tmpl[dns->ntmpl++] = r;
	size_t used = strlen(dns->desc);

	snprintf(dns->desc + used, sizeof(dns->desc) - used, "%s%s%s%s:%d",
	    used ? ", " : "", strchr(addr, ':') ? "[" : "", addr,
	    strchr(addr, ':') ? "]" : "", port);
	return 0;
}

struct rg_dns *rg_dns_new(const struct rg_dns_opts *o, char *err, size_t errlen)
{
	struct rg_dns *dns = xcalloc(1, sizeof(*dns));

	dns->o = *o;
	if (dns->o.timeout <= 0)
		dns->o.timeout = 1.5;
	if (dns->o.retries < 0)
		dns->o.retries = 0;
	pthread_mutex_init(&dns->lock, NULL);
	if (o->nameservers && *o->nameservers) {
		char *list = xstrdup(o->nameservers), *save = NULL;

		for (char *tok = strtok_r(list, ", \t", &save); tok;
		    tok = strtok_r(NULL, ", \t", &save)) {
			if (add_nameserver(dns, tok, err, errlen) != 0) {
				free(list);
				rg_dns_free(dns);
				return NULL;
			}
		}
		free(list);
		if (dns->ntmpl == 0) {
			snprintf(err, errlen, "no nameserver in '%s'", o->nameservers);
			rg_dns_free(dns);
			return NULL;
		}
	} else {
		ldns_resolver *r = NULL;
		ldns_status s = ldns_resolver_new_frm_file(&r, NULL);

		if (s != LDNS_STATUS_OK || r == NULL || ldns_resolver_nameserver_count(r) == 0) {
			snprintf(err, errlen, "/etc/resolv.conf: %s", s != LDNS_STATUS_OK ?
			    ldns_get_errorstr_by_id(s) : "no nameserver");
			if (r)
				ldns_resolver_deep_free(r);
			rg_dns_free(dns);
			return NULL;
		}
		tmpl_tune(r, &dns->o);
		dns->tmpl = xmalloc(sizeof(*dns->tmpl));
		dns->tmpl[dns->ntmpl++] = r;
		snprintf(dns->desc, sizeof(dns->desc), "resolv.conf (%zu nameservers)",
		    ldns_resolver_nameserver_count(r));
	}
	if (dns->o.cache_entries)
		dns->cache = xcalloc(dns->o.cache_entries, sizeof(*dns->cache));
	return dns;
}

void rg_dns_answer_free(struct rg_dns_answer *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->rr[i].text);
	free(a->rr);
	a->rr = NULL;
	a->n = 0;
}

static void cache_drop(struct cache_entry *e)
{
	free(e->name);
	rg_dns_answer_free(&e->ans);
	memset(e, 0, sizeof(*e));
}

void rg_dns_free(struct rg_dns *dns)
{
	if (dns == NULL)
		return;
	for (size_t i = 0; i < dns->ntmpl; i++)
		ldns_resolver_deep_free(dns->tmpl[i]);
	free(dns->tmpl);
	for (size_t i = 0; i < dns->ncache; i++)
		cache_drop(&dns->cache[i]);
	free(dns->cache);
	pthread_mutex_destroy(&dns->lock);
	free(dns);
}

const char *rg_dns_describe(const struct rg_dns *dns)
{
	return dns->desc;
}

void rg_dns_stats(struct rg_dns *dns, struct rg_dns_stats *out)
{
	pthread_mutex_lock(&dns->lock);
	*out = dns->st;
	pthread_mutex_unlock(&dns->lock);
}

/* --- cache ----------------------------------------------------------------- */

static void answer_copy(struct rg_dns_answer *dst, const struct rg_dns_answer *src)
{
	*dst = *src;
	dst->rr = src->n ? xcalloc(src->n, sizeof(*dst->rr)) : NULL;
	for (size_t i = 0; i < src->n; i++) {
		dst->rr[i] = src->rr[i];
		dst->rr[i].text = xstrdup(src->rr[i].text);
	}
}

static bool cache_get(struct rg_dns *dns, const char *name, uint16_t type,
    struct rg_dns_answer *out)
{
	double now = rg_now();

	for (size_t i = 0; i < dns->ncache; i++) {
		struct cache_entry *e = &dns->cache[i];

		if (e->type != type || strcmp(e->name, name) != 0)
			continue;
		if (e->expires <= now) {
			cache_drop(e);
			dns->cache[i] = dns->cache[--dns->ncache];
			memset(&dns->cache[dns->ncache], 0, sizeof(*e));
			return false;
		}
		answer_copy(out, &e->ans);
		out->ttl = (uint32_t)(e->expires - now);
		out->from_cache = true;
		return true;
	}
	return false;
}

static void cache_put(struct rg_dns *dns, const char *name, uint16_t type,
    const struct rg_dns_answer *a)
{
	double now = rg_now();
	uint32_t ttl = a->ttl < dns->o.max_ttl ? a->ttl : dns->o.max_ttl;
	size_t slot = dns->ncache;

	if (dns->o.cache_entries == 0 || ttl == 0)
		return;
	for (size_t i = 0; i < dns->ncache; i++)	/* replace an older copy */
		if (dns->cache[i].type == type && strcmp(dns->cache[i].name, name) == 0)
			slot = i;
	if (slot == dns->ncache && dns->ncache == dns->o.cache_entries) {
		/* Full: the entry that expires first makes room (expired ones first). */
		slot = 0;
		for (size_t i = 1; i < dns->ncache; i++)
			if (dns->cache[i].expires < dns->cache[slot].expires)
				slot = i;
	}
	if (slot < dns->ncache)
		cache_drop(&dns->cache[slot]);
	else
		dns->ncache++;
	dns->cache[slot].name = xstrdup(name);
	dns->cache[slot].type = type;
	dns->cache[slot].expires = now + ttl;
	answer_copy(&dns->cache[slot].ans, a);
	dns->cache[slot].ans.from_cache = false;
}

/* --- sending ------------------------------------------------------------------ */

enum try_result { TRY_ANSWER, TRY_SERVFAIL, TRY_NOREPLY };

/* ldns_resolver_send() blocks: in a fiber it runs on the pool (fiber.h). */
struct ldns_call {
	ldns_pkt **p;
	ldns_resolver *r;
	const ldns_rdf *qname;
	uint16_t type;
	ldns_status s;
};

static void *ldns_send_run(void *arg)
{
	struct ldns_call *c = arg;

	c->s = ldns_resolver_send(c->p, c->r, c->qname, (ldns_rr_type)c->type,
	    LDNS_RR_CLASS_IN, LDNS_RD);
	return NULL;
}

static enum try_result send_one(struct rg_dns *dns, const ldns_resolver *tmpl,
    const ldns_rdf *qname, const char *name, uint16_t type, double per_try,
    struct rg_dns_answer *out)
{
	ldns_resolver *r = ldns_resolver_clone((ldns_resolver *)tmpl);
	struct timeval tv = {(time_t)per_try,
	    (suseconds_t)((per_try - (double)(time_t)per_try) * 1e6)};
	ldns_pkt *p = NULL;
	ldns_status s;
	enum try_result res;

	if (r == NULL)
		msg_fatal("dns: out of memory cloning the resolver");
	ldns_resolver_set_timeout(r, tv);
	struct ldns_call call = {&p, r, qname, type, LDNS_STATUS_OK};

	rg_fiber_offload(ldns_send_run, &call);
	s = call.s;
	ldns_resolver_deep_free(r);
	if (s != LDNS_STATUS_OK || p == NULL) {
		msg_verbose("dns: %s/%d: %s", name, type, ldns_get_errorstr_by_id(s));
		if (p)
			ldns_pkt_free(p);
		return TRY_NOREPLY;
	}
	switch (ldns_pkt_get_rcode(p)) {
	case LDNS_RCODE_NOERROR:
		rg_dns__parse_answer(p, name, type, dns->o.negative_ttl, out);
		res = TRY_ANSWER;
		break;
	case LDNS_RCODE_NXDOMAIN:
		out->status = RG_DNS_NXDOMAIN;
		out->ttl = rg_dns__negative_ttl(p, dns->o.negative_ttl);
		res = TRY_ANSWER;
		break;
	default:
		res = TRY_SERVFAIL;
		break;
	}
	ldns_pkt_free(p);
	return res;
}

static void note_down(struct rg_dns *dns, const char *name, uint16_t type)
{
	pthread_mutex_lock(&dns->lock);
	dns->st.timeouts++;
	if (dns->o.holddown > 0) {
		dns->down_until = rg_now() + dns->o.holddown;
		if (!dns->down) {
			dns->down = true;
			msg_warn("dns: no reply from %s for %s/%u; DNS-based checks are "
			    "skipped for %.0f s (degraded, mail is not held up)",
			    dns->desc, name, type, dns->o.holddown);
		}
	}
	pthread_mutex_unlock(&dns->lock);
}

static void note_up(struct rg_dns *dns)
{
	pthread_mutex_lock(&dns->lock);
	if (dns->down) {
		dns->down = false;
		msg_info("dns: %s answers again", dns->desc);
	}
	pthread_mutex_unlock(&dns->lock);
}

static enum rg_dns_status resolve(struct rg_dns *dns, const char *name, uint16_t type,
    struct rg_dns_answer *out)
{
	char *abs = xasprintf("%s.", name);
	ldns_rdf *qname = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_DNAME, abs);
	bool servfail = false, deadline_hit = false;
	double t0 = rg_now();

	free(abs);
	if (qname == NULL) {
		out->status = RG_DNS_BADNAME;
		return out->status;
	}
	for (int round = 0; round <= dns->o.retries; round++) {
		for (size_t i = 0; i < dns->ntmpl; i++) {
			double per_try = dns->o.timeout;

			double dl = rg_dns_deadline_get();

			if (dl > 0) {
				double left = dl - rg_now();

				if (left < 0.01) {
					deadline_hit = true;
					goto done;
				}
				if (left < per_try)
					per_try = left;
			}
			switch (send_one(dns, dns->tmpl[i], qname, name, type, per_try, out)) {
			case TRY_ANSWER:
				ldns_rdf_deep_free(qname);
				note_up(dns);
				observe_lookup(rg_now() - t0, false);
				msg_verbose("dns: %s/%u: %s, %zu records, %.1f ms", name, type,
				    rg_dns_status_name(out->status), out->n,
				    (rg_now() - t0) * 1e3);
				return out->status;
			case TRY_SERVFAIL:
				servfail = true;
				break;
			case TRY_NOREPLY:
				break;
			}
		}
	}
done:
	ldns_rdf_deep_free(qname);
	out->status = servfail ? RG_DNS_SERVFAIL : RG_DNS_TIMEOUT;
	if (!servfail && !deadline_hit)
		note_down(dns, name, type);
	observe_lookup(rg_now() - t0, !servfail);
	msg_verbose("dns: %s/%u: %s after %.1f ms%s", name, type,
	    rg_dns_status_name(out->status), (rg_now() - t0) * 1e3,
	    deadline_hit ? " (deadline)" : "");
	return out->status;
}

enum rg_dns_status rg_dns_query(struct rg_dns *dns, const char *name, uint16_t type,
    struct rg_dns_answer *out)
{
	char key[RG_DNS_NAME_MAX];
	size_t n;

	memset(out, 0, sizeof(*out));
	if (name == NULL || !rg_dns_name_valid(name)) {
		out->status = RG_DNS_BADNAME;
		return out->status;
	}
	strlcpy_rg(key, name, sizeof(key));
	n = strlen(key);
	if (n > 1 && key[n - 1] == '.')
		key[n - 1] = '\0';
	rg_lowercase(key);

	pthread_mutex_lock(&dns->lock);
	dns->st.queries++;
	if (cache_get(dns, key, type, out)) {
		dns->st.cache_hits++;
		if (observer != NULL && observer->cache_hit != NULL)
			observer->cache_hit();
		pthread_mutex_unlock(&dns->lock);
		return out->status;
	}
	if (dns->down && rg_now() < dns->down_until) {
		dns->st.held_down++;
		pthread_mutex_unlock(&dns->lock);
		out->status = RG_DNS_TIMEOUT;
		return out->status;
	}
	pthread_mutex_unlock(&dns->lock);

	if (resolve(dns, key, type, out) == RG_DNS_OK || out->status == RG_DNS_NODATA ||
	    out->status == RG_DNS_NXDOMAIN) {
		pthread_mutex_lock(&dns->lock);
		cache_put(dns, key, type, out);
		pthread_mutex_unlock(&dns->lock);
	}
	return out->status;
}

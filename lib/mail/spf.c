/*
 * spf.c - libspf2 over rg_dns (spf.h): the "relayguard" SPF_dns_server_t
 * layer, the record safety check, and Received-SPF (RFC 7208 9.1).
 */
#include "lib/mail/spf.h"
#include "lib/net/fiber.h"
#include "lib/base/hostport.h"
#include "lib/base/log.h"
#include "lib/base/textclean.h"
#include "lib/base/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <spf2/spf.h>
#include <spf2/spf_dns.h>

#define SPF_TXT_MAX	2048

struct rg_spf {
	struct rg_dns *dns;
	SPF_server_t *server;
	SPF_dns_server_t *layer;
	char receiver[RG_DNS_NAME_MAX];
	double budget;
};

static _Thread_local bool tl_unsafe_t;	/* a record was refused in this check */
static _Thread_local bool tl_tempfail_t;	/* a lookup timed out or SERVFAILed */

/* per thread, or per fiber in one (fiber.h: fibers share a thread) */
static bool *unsafe_slot(void)
{
	struct rg_fiber_tls *f = rg_fiber_tls();

	return f != NULL ? &f->spf_unsafe : &tl_unsafe_t;
}

static bool *tempfail_slot(void)
{
	struct rg_fiber_tls *f = rg_fiber_tls();

	return f != NULL ? &f->spf_tempfail : &tl_tempfail_t;
}
#define tl_unsafe (*unsafe_slot())
#define tl_tempfail (*tempfail_slot())

const char *rg_spf_result_name(enum rg_spf_res r)
{
	switch (r) {
	case RG_SPF_NONE: return "none";
	case RG_SPF_NEUTRAL: return "neutral";
	case RG_SPF_PASS: return "pass";
	case RG_SPF_FAIL: return "fail";
	case RG_SPF_SOFTFAIL: return "softfail";
	case RG_SPF_TEMPERROR: return "temperror";
	case RG_SPF_PERMERROR: return "permerror";
	}
	return "?";
}

/* --- the safety check ---------------------------------------------------------- */

/* RFC 7208 7.1: "%{" macro-letter transformers *delimiter "}". */
static bool macro_safe(const char **pp)
{
	const char *p = *pp;
	int digits = 0, value = 0, delims = 0;

	if (*p == '\0' || strchr("slodiphcrtvSLODIPHCRTV", *p) == NULL)
		return false;
	p++;
	while (isdigit((unsigned char)*p)) {
		if (++digits > 3)
			return false;
		value = value * 10 + (*p - '0');
		p++;
	}
	if (digits && (value < 1 || value > 128))
		return false;
	if (*p == 'r' || *p == 'R')
		p++;
	while (*p && strchr(".-+,/_=", *p)) {
		if (++delims > 7)
			return false;
		p++;
	}
	if (*p != '}')
		return false;
	*pp = p + 1;
	return true;
}

bool rg_spf_text_safe(const char *txt)
{
	size_t len = strlen(txt);

	if (len > SPF_TXT_MAX)
		return false;
	for (const char *p = txt; *p;) {
		unsigned char c = (unsigned char)*p;

		if (!rg_ascii_print(c))
			return false;
		if (c != '%') {
			p++;
			continue;
		}
		p++;
		if (*p == '%' || *p == '_' || *p == '-') {
			p++;
			continue;
		}
		if (*p != '{')
			return false;
		p++;
		if (!macro_safe(&p))
			return false;
	}
	return true;
}

/* MAIL FROM for libspf2: printable, no spaces, local@domain with a valid domain. */
static bool identity_safe(const char *from)
{
	const char *at = strrchr(from, '@');

	if (at == NULL || at == from || strlen(from) > 320 || !rg_dns_name_valid(at + 1))
		return false;
	for (const char *p = from; *p; p++)
		if (*p == ' ' || !rg_ascii_print((unsigned char)*p) || *p == '"' ||
		    *p == '\\')
			return false;
	return true;
}

/* --- the libspf2 DNS layer ------------------------------------------------------- */

static SPF_dns_stat_t herrno_of(enum rg_dns_status s)
{
	switch (s) {
	case RG_DNS_OK: return NETDB_SUCCESS;
	case RG_DNS_NODATA: return NO_DATA;
	case RG_DNS_NXDOMAIN: case RG_DNS_BADNAME: return HOST_NOT_FOUND;
	case RG_DNS_SERVFAIL: case RG_DNS_TIMEOUT: return TRY_AGAIN;
	}
	return TRY_AGAIN;
}

static bool looks_like_spf(const char *t)
{
	return strncasecmp(t, "v=spf1", 6) == 0 && (t[6] == '\0' || t[6] == ' ');
}

/* Fill one libspf2 record slot; false when it cannot be allocated. */
static bool put_rr(SPF_dns_rr_t *out, int idx, const struct rg_dns_rr *rr, ns_type type)
{
	size_t need = type == ns_t_a ? sizeof(struct in_addr) :
	    type == ns_t_aaaa ? sizeof(struct in6_addr) : strlen(rr->text) + 1;

	if (SPF_dns_rr_buf_realloc(out, idx, need) != SPF_E_SUCCESS)
		return false;
	switch (type) {
	case ns_t_a: memcpy(&out->rr[idx]->a, rr->addr, sizeof(struct in_addr)); break;
	case ns_t_aaaa: memcpy(&out->rr[idx]->aaaa, rr->addr, sizeof(struct in6_addr)); break;
	case ns_t_mx: memcpy(out->rr[idx]->mx, rr->text, need); break;
	case ns_t_ptr: memcpy(out->rr[idx]->ptr, rr->text, need); break;
	default: memcpy(out->rr[idx]->txt, rr->text, need); break;
	}
	return true;
}

static SPF_dns_rr_t *layer_lookup(SPF_dns_server_t *layer, const char *domain,
    ns_type type, int should_cache)
{
	struct rg_spf *spf = layer->hook;
	struct rg_dns_answer a;
	enum rg_dns_status s;
	SPF_dns_rr_t *out;
	int n = 0;

	(void)should_cache;		/* rg_dns caches by TTL itself */
	if (type != ns_t_a && type != ns_t_aaaa && type != ns_t_mx && type != ns_t_txt &&
	    type != ns_t_ptr)		/* e.g. type SPF (99): never published */
		return SPF_dns_rr_new_init(layer, domain, type, 0, NO_DATA);
	s = rg_dns_query(spf->dns, domain, (uint16_t)type, &a);
	if (rg_dns_status_temporary(s))
		tl_tempfail = true;
	out = SPF_dns_rr_new_init(layer, domain, type, (int)a.ttl, herrno_of(s));
	if (out == NULL) {
		rg_dns_answer_free(&a);
		return NULL;
	}
	for (size_t i = 0; i < a.n; i++) {
		struct rg_dns_rr *rr = &a.rr[i];

		if (type == ns_t_txt && !rg_spf_text_safe(rr->text)) {
			tl_unsafe = true;
			char dom[300], txt[100];

			msg_warn("spf: TXT record of %s refused as unsafe for libspf2 "
			    "(length %zu): %s", rg_clean_str(RG_SINK_LOG, dom, sizeof(dom),
			    domain), strlen(rr->text), rg_clean_str(RG_SINK_LOG, txt,
			    sizeof(txt), rr->text));
			if (!looks_like_spf(rr->text))
				continue;	/* an explanation: go without it */
			free(rr->text);	/* an SPF record: make it a permerror */
			rr->text = xstrdup("v=spf1 relayguard-refused-unsafe-record");
		}
		if (!put_rr(out, n, rr, type))
			break;
		n++;
	}
	out->num_rr = n;
	if (s == RG_DNS_OK && n == 0)
		out->herrno = NO_DATA;
	rg_dns_answer_free(&a);
	return out;
}

static void layer_destroy(SPF_dns_server_t *layer)
{
	free(layer);
}

/* libspf2 diagnostics into msg_* (its error handler is for internal bugs). */
__attribute__((noreturn)) static void spf_log_error(const char *file, int line,
    const char *m)
{
	msg_fatal("libspf2 internal error at %s:%d: %s", file ? file : "?", line, m);
}

static void spf_log_warn(const char *file, int line, const char *m)
{
	char buf[600];

	(void)file, (void)line;
	msg_verbose("libspf2: %s", rg_clean_str(RG_SINK_LOG, buf, sizeof(buf), m));
}

static void spf_log_debug(const char *file, int line, const char *m)
{
	char buf[600];

	(void)file, (void)line;
	if (msg_verbose_enabled(2))
		msg_verbose("libspf2: %s", rg_clean_str(RG_SINK_LOG, buf, sizeof(buf), m));
}

struct rg_spf *rg_spf_new(struct rg_dns *dns, const char *receiver)
{
	struct rg_spf *spf = xcalloc(1, sizeof(*spf));
	SPF_response_t *resp = NULL;

	SPF_error_handler = spf_log_error;
	SPF_warning_handler = spf_log_warn;
	SPF_info_handler = spf_log_warn;
	SPF_debug_handler = spf_log_debug;
	spf->dns = dns;
	spf->budget = 5.0;
	strlcpy_rg(spf->receiver, receiver && rg_dns_name_valid(receiver) ? receiver :
	    "localhost", sizeof(spf->receiver));
	spf->layer = xcalloc(1, sizeof(*spf->layer));	/* rg_spf_free() frees it */
	spf->layer->destroy = layer_destroy;
	spf->layer->lookup = layer_lookup;
	spf->layer->name = "relayguard";
	spf->layer->hook = spf;
	spf->server = SPF_server_new_dns(spf->layer, 0);
	if (spf->server == NULL)
		msg_fatal("spf: cannot create the libspf2 server");
	SPF_server_set_rec_dom(spf->server, spf->receiver);
	/* libspf2's default points at a web site that is gone. */
	/* libspf2 1.2.10 turns spaces in expanded explanations into '%', so
	 * rg_spf_check() writes its own explanation for fail results. */
	if (SPF_server_set_explanation(spf->server, "not-authorised", &resp) !=
	    SPF_E_SUCCESS)
		msg_warn("spf: cannot set the default explanation");
	if (resp)
		SPF_response_free(resp);
	return spf;
}

void rg_spf_free(struct rg_spf *spf)
{
	if (spf == NULL)
		return;
	/* SPF_server_new_dns() servers do not own their DNS layer. */
	SPF_server_free(spf->server);
	SPF_dns_free(spf->layer);	/* calls layer_destroy() */
	free(spf);
}

void rg_spf_set_budget(struct rg_spf *spf, double seconds)
{
	if (seconds > 0)
		spf->budget = seconds;
}

/* --- results ---------------------------------------------------------------------- */

static enum rg_spf_res map_result(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS: return RG_SPF_PASS;
	case SPF_RESULT_FAIL: return RG_SPF_FAIL;
	case SPF_RESULT_SOFTFAIL: return RG_SPF_SOFTFAIL;
	case SPF_RESULT_NEUTRAL: return RG_SPF_NEUTRAL;
	case SPF_RESULT_NONE: return RG_SPF_NONE;
	case SPF_RESULT_TEMPERROR: return RG_SPF_TEMPERROR;
	case SPF_RESULT_PERMERROR: return RG_SPF_PERMERROR;
	default: return RG_SPF_PERMERROR;
	}
}

/* Copy s into a header comment: the HEADER rule of textclean.h. */
static void clean_copy(char *dst, size_t len, const char *s)
{
	rg_clean_str(RG_SINK_HEADER, dst, len, s);
}

/* RFC 7208 9.1: result (comment) key=value; ... */
static void build_received_spf(const struct rg_spf *spf, struct rg_spf_result *r,
    const char *ip, const char *helo, const char *from)
{
	char comment[600], why[300], hq[300];
	const char *res = rg_spf_result_name(r->result);

	clean_copy(why, sizeof(why), r->explanation);
	switch (r->result) {
	case RG_SPF_PASS:
		snprintf(comment, sizeof(comment), "domain of %s designates %s as permitted "
		    "sender", from, ip);
		break;
	case RG_SPF_FAIL:
		snprintf(comment, sizeof(comment), "domain of %s does not designate %s as "
		    "permitted sender", from, ip);
		break;
	case RG_SPF_SOFTFAIL:
		snprintf(comment, sizeof(comment), "domain of transitioning %s does not "
		    "designate %s as permitted sender", from, ip);
		break;
	case RG_SPF_NEUTRAL:
		snprintf(comment, sizeof(comment), "%s is neither permitted nor denied by "
		    "domain of %s", ip, from);
		break;
	case RG_SPF_NONE:
		snprintf(comment, sizeof(comment), "domain of %s does not provide an SPF "
		    "record", from);
		break;
	case RG_SPF_TEMPERROR:
		snprintf(comment, sizeof(comment), "error in processing during lookup of "
		    "%s: %s", from, why);
		break;
	case RG_SPF_PERMERROR:
		snprintf(comment, sizeof(comment), "permanent error in processing domain "
		    "of %s: %s", from, why);
		break;
	}
	clean_copy(why, sizeof(why), comment);
	/* helo as dot-atom when it is a plain name, else a quoted-string */
	if (helo[0] && rg_dns_name_valid(helo))
		snprintf(hq, sizeof(hq), "%s", helo);
	else
		snprintf(hq, sizeof(hq), "\"%s\"", "unknown");
	snprintf(r->received_spf, sizeof(r->received_spf),
	    "%s (%s: %s) client-ip=%s; envelope-from=\"%s\"; helo=%s; receiver=%s; "
	    "identity=%s;", res, spf->receiver, why, ip, from, hq, spf->receiver,
	    r->identity);
}

static void set_explanation(const struct rg_spf *spf, struct rg_spf_result *r,
    SPF_response_t *resp, const char *ip)
{
	const char *e = NULL;

	if (r->unsafe_record && r->result == RG_SPF_PERMERROR) {
		snprintf(r->explanation, sizeof(r->explanation), "SPF record of %s refused "
		    "as unsafe (malformed macro, control bytes or too long)", r->domain);
		return;
	}
	if (r->result == RG_SPF_FAIL) {
		/* Not the domain's exp= text: it is the sender's, may be hostile,
		 * and libspf2 mangles its spaces. */
		snprintf(r->explanation, sizeof(r->explanation), "%s is not authorised by "
		    "the SPF record of %s", ip, r->domain);
		return;
	}
	for (int i = 0; e == NULL && i < SPF_response_messages(resp); i++) {
		SPF_error_t *err = SPF_response_message(resp, i);

		if (err && SPF_error_errorp(err))
			e = SPF_error_message(err);
	}
	if (e == NULL)
		e = SPF_response_get_header_comment(resp);
	if (e == NULL && r->result == RG_SPF_TEMPERROR)
		e = "DNS lookup failed or timed out";
	/* libspf2's comments start with "receiver: "; the header adds its own. */
	size_t rl = strlen(spf->receiver);

	if (e && strncmp(e, spf->receiver, rl) == 0 && strncmp(e + rl, ": ", 2) == 0)
		e += rl + 2;
	/* libspf2's text may quote the record: kept as one printable line */
	rg_clean_str(RG_SINK_LOG, r->explanation, sizeof(r->explanation), e ? e : "");
}

/*
 * SPF_request_query_mailfrom() of libspf2 1.2.10 answers "pass, localhost is
 * always allowed" for 127.0.0.0/8 and ::1 without looking at any record.
 * RFC 7208 has no such exemption, and the auditor's tests run on loopback,
 * so loopback clients get the same evaluation as any other: the same steps
 * as libspf2's own query (spf_request.c) minus the free ride.
 */
static void query_loopback(struct rg_spf *spf, SPF_request_t *req, SPF_response_t **resp)
{
	SPF_record_t *rec = NULL;
	SPF_errcode_t err;

	*resp = SPF_response_new(req);
	if (*resp == NULL)
		return;
	req->cur_dom = req->env_from_dp;
	err = SPF_server_get_record(spf->server, req, *resp, &rec);
	if (err != SPF_E_SUCCESS || rec == NULL) {
		if (rec)
			SPF_record_free(rec);
		return;		/* result, reason and errors are set in *resp */
	}
	(*resp)->spf_record_exp = rec;
	SPF_record_interpret(rec, req, *resp, 0);
	SPF_record_free(rec);
	(*resp)->spf_record_exp = NULL;
}

/* The identity to check (RFC 7208 2.4): MAIL FROM without its brackets,
 * or postmaster@HELO for the null sender; r->identity names which. */
static void spf_identity(const char *mail_from, const char *helo, char *from,
    size_t len, struct rg_spf_result *r)
{
	size_t n;

	strlcpy_rg(r->identity, "mailfrom", sizeof(r->identity));
	if (mail_from == NULL || mail_from[0] == '\0' || strcmp(mail_from, "<>") == 0) {
		snprintf(from, len, "postmaster@%s", helo);
		strlcpy_rg(r->identity, "helo", sizeof(r->identity));
	} else {
		strlcpy_rg(from, mail_from + (mail_from[0] == '<'), len);
		n = strlen(from);
		if (n && from[n - 1] == '>')
			from[n - 1] = '\0';
	}
}

/* Ask libspf2 under this check's DNS budget (never beyond a deadline the
 * caller already set); fills r's result, explanation and Received-SPF. */
static void spf_query(struct rg_spf *spf, const char *ip, const char *helo,
    const char *from, struct rg_spf_result *r)
{
	SPF_request_t *req;
	SPF_response_t *resp = NULL;
	double saved = rg_dns_deadline_get(), mine = rg_now() + spf->budget;

	if (saved == 0 || saved > mine)
		rg_dns_deadline_set(mine);
	tl_unsafe = false;
	tl_tempfail = false;
	req = SPF_request_new(spf->server);
	if (strchr(ip, ':'))
		SPF_request_set_ipv6_str(req, ip);
	else
		SPF_request_set_ipv4_str(req, ip);
	if (helo[0] && rg_dns_name_valid(helo))
		SPF_request_set_helo_dom(req, helo);
	SPF_request_set_env_from(req, from);
	if (SPF_request_is_loopback(req))
		query_loopback(spf, req, &resp);
	else
		SPF_request_query_mailfrom(req, &resp);
	r->unsafe_record = tl_unsafe;
	r->result = resp ? map_result(SPF_response_result(resp)) : RG_SPF_TEMPERROR;
	/* libspf2 1.2.10 reports a DNS failure as permerror; RFC 7208 4.4 says
	 * a lookup that times out or fails ends check_host() with temperror. */
	if (r->result == RG_SPF_PERMERROR && tl_tempfail)
		r->result = RG_SPF_TEMPERROR;
	if (resp)
		set_explanation(spf, r, resp, ip);
	build_received_spf(spf, r, ip, helo, from);
	if (resp)
		SPF_response_free(resp);
	SPF_request_free(req);
	rg_dns_deadline_set(saved);
}

enum rg_spf_res rg_spf_check(struct rg_spf *spf, const char *ip, const char *helo,
    const char *mail_from, struct rg_spf_result *r)
{
	char from[330];

	memset(r, 0, sizeof(*r));
	if (helo == NULL)
		helo = "";
	spf_identity(mail_from, helo, from, sizeof(from), r);
	if (ip == NULL || !rg_is_ip(ip)) {
		r->result = RG_SPF_NONE;
		snprintf(r->explanation, sizeof(r->explanation), "no client address to check");
		return r->result;
	}
	if (!identity_safe(from)) {
		char shown[80];

		clean_copy(shown, sizeof(shown), from);
		r->result = RG_SPF_NONE;	/* RFC 7208 4.3: no valid domain -> none */
		snprintf(r->explanation, sizeof(r->explanation), "identity '%s' is not a "
		    "usable address", shown);
		snprintf(r->received_spf, sizeof(r->received_spf), "none (%s: %s) "
		    "client-ip=%s; receiver=%s;", spf->receiver, r->explanation, ip,
		    spf->receiver);
		return r->result;
	}
	strlcpy_rg(r->domain, strrchr(from, '@') + 1, sizeof(r->domain));
	rg_lowercase(r->domain);
	spf_query(spf, ip, helo, from, r);
	if (msg_verbose_enabled(1)) {
		char cf[400], ch[300];

		/* KV rule, quoted: a HELO "x result=pass" stays one value */
		msg_verbose("spf: ip=%s from=\"%s\" helo=\"%s\" result=%s (%s)", ip,
		    rg_clean_str(RG_SINK_KV, cf, sizeof(cf), from),
		    rg_clean_str(RG_SINK_KV, ch, sizeof(ch), helo),
		    rg_spf_result_name(r->result), r->explanation);
	}
	return r->result;
}

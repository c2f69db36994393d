/*
 * callbacks.c - relayguard-milter's libmilter callbacks: relay policy at
 * RCPT (relay.h) and relay-attempt evidence (eventlog.h).
 *
 * One thread per MTA connection (libmilter); per-connection state lives in
 * struct conn, set with smfi_setpriv and freed in xxfi_close, which runs
 * after a reject and an abort too. Nothing here touches shared state
 * without a lock: the config is a reference taken at connect, the event
 * log and the client counter lock themselves.
 *
 * Negotiation (protocol 6): SMFIP_RCPT_REJ so that recipients the MTA
 * already refused still reach xxfi_envrcpt with {rcpt_mailer} = "error"
 * (Postfix runs reject_unauth_destination before the milter); no
 * unknown/EOH stages (and no replies for them where an MTA sends them
 * anyway); no replies for connect, HELO, MAIL and headers (SMFIP_NR_*)
 * where we never refuse there; macro lists set with smfi_setsymlist. An
 * MTA that cannot do one of these costs one warning. With BounceSensor
 * off the header and body stages are negotiated away as well; DATA stays,
 * so that a message with nothing to add is accepted there. -v logs what was negotiated, per connection.
 *
 * Bounce-storm sensor (bounce.h, dsn.h): a message whose envelope sender
 * is null or a mailer role is a bounce candidate. Every other message is
 * accepted at DATA (SMFIS_ACCEPT: no header, body or end-of-message
 * round trips for ordinary mail). A candidate's headers and at most
 * BounceMaxBodyScan bytes of its body go to the DSN parser; the body
 * stage returns SMFIS_SKIP as soon as the parser knows enough. At
 * end-of-message the bounce is counted by one of two sensors: "generated"
 * for bounces the local MTA made itself (Postfix non_smtpd_milters with
 * internal_mail_filter_classes = bounce: the connection comes from
 * "localhost" or no socket and the MAIL FROM argument has no angle
 * brackets, "" for the null sender - REFERENCE.md 3) and "inbound" for
 * bounces received over SMTP. Generated bounces are never rejected or
 * tempfailed; inbound ones only over BounceHardLimit.
 *
 * SPF, DNSBL and reverse DNS (mailauth.c) hook in at MAIL FROM (which then
 * needs a reply only where an SPF* action may refuse), RCPT (a DNSBL
 * reject) and end-of-message (the SPF header: a message with one pending
 * is not accepted at DATA).
 */
#include "milter.h"
#include "lib/base/clockstate.h"
#include "milter/bounce/bounce.h"
#include "milter/policy/config.h"
#include "milter/bounce/dsn.h"
#include "lib/base/log.h"
#include "milter/policy/relay.h"
#include "lib/base/textclean.h"
#include "lib/base/util.h"
#include "abuser.h"
#include "milter/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

struct rg_client_counter *milter_clients;
struct bounce_sensor *milter_bounce_generated, *milter_bounce_inbound;


static int warned_symlist, warned_rcpt_rej;

static struct conn *conn_get(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL) {
		c = xcalloc(1, sizeof(*c));
		c->conf = rg_config_current();
		/* until a connect event says otherwise: no address (fail
		 * closed, relay.h), e.g. an MTA that never sent CONNECT */
		strlcpy_rg(c->client_addr, "unknown", sizeof(c->client_addr));
		strlcpy_rg(c->client_name, "unknown", sizeof(c->client_name));
		smfi_setpriv(ctx, c);
		rg_metrics_session(+1);
	}
	return c;
}

/* SMFIS_NOREPLY where the MTA agreed to expect no reply, else CONTINUE. */
static sfsistat no_reply(const struct conn *c, unsigned long flag)
{
	return (c->nr & flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static void copy_macro(SMFICTX *ctx, const char *name, char *buf, size_t len)
{
	const char *v = smfi_getsymval(ctx, (char *)name);

	if (v != NULL)
		strlcpy_rg(buf, v, len);
}

/* SPF refuses at MAIL only with an SPF* action other than "record" in
 * Mode enforce (mailauth.c); else MAIL needs no reply. */
static bool spf_may_refuse(const struct rg_config *conf)
{
	return conf->spf && conf->mode == RG_MODE_ENFORCE &&
	    (conf->spf_fail != RG_SPF_ACTION_RECORD ||
	    conf->spf_softfail != RG_SPF_ACTION_RECORD ||
	    conf->spf_temperror != RG_SPF_ACTION_RECORD ||
	    conf->spf_permerror != RG_SPF_ACTION_RECORD);
}

/*
 * The steps that need no reply from us under conf. MAIL: unless SPF or
 * the penalty box may refuse there. Body: where the MTA cannot skip
 * (SMFIS_SKIP is the body's only answer; the two exclude each other).
 * DATA always answers: with SMFIP_NR_DATA and an SPF header to add,
 * Postfix's throughput fell to 0.60 of the floor from 0.83 at the same
 * CPU (bench/milter.sh, MILTER_B): DATA and the headers then go out as
 * small writes with nothing coming back, and the inet socket waits on
 * delayed ACKs.
 */
static unsigned long noreply_steps(const struct rg_config *conf, bool sensor,
    bool can_skip)
{
	const bool mail = conf != NULL && (spf_may_refuse(conf) ||
	    abuser_replies_at(conf, RG_ABUSER_AT_MAIL));

	return (abuser_replies_at(conf, RG_ABUSER_AT_CONNECT) ? 0 : SMFIP_NR_CONN) |
	    SMFIP_NR_HELO | (mail ? 0 : SMFIP_NR_MAIL) |
	    SMFIP_NR_EOH | SMFIP_NR_UNKN | (sensor ? SMFIP_NR_HDR : 0) |
	    (sensor && !can_skip ? SMFIP_NR_BODY : 0);
}

static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct conn *c = conn_get(ctx);
	const bool sensor = c->conf != NULL && c->conf->bounce_sensor;
	/* DATA stays: accepting there spares the MTA the end-of-message
	 * round trip (and Postfix's hand-off of the milter to cleanup) */
	const unsigned long skip = sensor ? SMFIP_NOEOH | SMFIP_NOUNKNOWN :
	    SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY | SMFIP_NOUNKNOWN;
	const bool spf = c->conf != NULL && c->conf->spf;
	const bool can_skip = sensor && (f1 & SMFIP_SKIP) != 0;
	const unsigned long noreply = noreply_steps(c->conf, sensor, can_skip);

	(void)f2;
	(void)f3;
	*pf0 = 0;
	*pf1 = f1 & (skip | noreply | (can_skip ? SMFIP_SKIP : 0));
	*pf2 = *pf3 = 0;
	c->nr = f1 & noreply;
	c->can_skip = can_skip;
	c->bounce_stages = sensor;
	if (sensor)
		*pf0 |= f0 & (SMFIF_ADDHDRS | SMFIF_QUARANTINE);
	if (spf && c->conf->spf_header != RG_SPF_HEADER_NONE)
		*pf0 |= f0 & SMFIF_ADDHDRS;
	if (f1 & SMFIP_RCPT_REJ)
		*pf1 |= SMFIP_RCPT_REJ;
	else if (__atomic_exchange_n(&warned_rcpt_rej, 1, __ATOMIC_RELAXED) == 0)
		msg_warn("the MTA does not offer SMFIP_RCPT_REJ: relay attempts "
		    "it refuses itself will not be logged");
	if (f0 & SMFIF_SETSYMLIST) {
		*pf0 |= SMFIF_SETSYMLIST;
		if (smfi_setsymlist(ctx, SMFIM_CONNECT, "j _ {daemon_name}") != MI_SUCCESS ||
		    smfi_setsymlist(ctx, SMFIM_ENVFROM,
		    "i {auth_authen} {auth_type} {mail_addr}") != MI_SUCCESS ||
		    smfi_setsymlist(ctx, SMFIM_ENVRCPT,
		    "i {rcpt_addr} {rcpt_mailer} {daemon_addr}") != MI_SUCCESS)
			msg_warn("smfi_setsymlist failed: using the MTA's default "
			    "macro lists");
	} else if (__atomic_exchange_n(&warned_symlist, 1, __ATOMIC_RELAXED) == 0) {
		msg_warn("the MTA cannot set macro lists (no SMFIF_SETSYMLIST): "
		    "make sure it sends {auth_authen} at MAIL and {rcpt_mailer} at RCPT");
	}
	msg_verbose("negotiated: actions 0x%lx of 0x%lx, protocol steps 0x%lx "
	    "of 0x%lx (no reply 0x%lx, skip %s)", *pf0, f0, *pf1, f1, c->nr,
	    c->can_skip ? "yes" : "no");
	return SMFIS_CONTINUE;
}

static sfsistat cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct conn *c = conn_get(ctx);
	const struct sockaddr *sa = (const struct sockaddr *)hostaddr;

	strlcpy_rg(c->client_name, hostname ? hostname : "unknown",
	    sizeof(c->client_name));
	copy_macro(ctx, "j", c->myhostname, sizeof(c->myhostname));
	c->local_conn = sa == NULL || (hostname != NULL &&
	    strcasecmp(hostname, "localhost") == 0);
	c->have_addr = false;
	strlcpy_rg(c->client_addr, "unknown", sizeof(c->client_addr));
	if (sa != NULL && sa->sa_family == AF_INET) {
		memcpy(&c->addr, sa, sizeof(struct sockaddr_in));
		c->have_addr = true;
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    c->client_addr, sizeof(c->client_addr));
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

		memcpy(&c->addr, sa, sizeof(struct sockaddr_in6));
		c->have_addr = true;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			inet_ntop(AF_INET, in6->sin6_addr.s6_addr + 12,
			    c->client_addr, sizeof(c->client_addr));
		else
			inet_ntop(AF_INET6, &in6->sin6_addr, c->client_addr,
			    sizeof(c->client_addr));
	} else if (sa != NULL && sa->sa_family == AF_UNIX) {
		/* milter family 'L': an MTA listening on a unix socket */
		strlcpy_rg(c->client_addr, "unix", sizeof(c->client_addr));
	}
	/* Family 'U' (NULL here: "sendmail -bs", a peer that went away) and
	 * 'L' leave have_addr false: relay_decide() trusts such a client
	 * only with TrustAddresslessClients. Postfix's pickup (non_smtpd_
	 * milters) and sendmail's MSP arrive as 127.0.0.1, family '4'. */
	sfsistat rc = abuser_check(ctx, c, RG_ABUSER_AT_CONNECT);

	return rc != SMFIS_CONTINUE ? rc : no_reply(c, SMFIP_NR_CONN);
}

static sfsistat cb_helo(SMFICTX *ctx, char *helo)
{
	struct conn *c = conn_get(ctx);

	strlcpy_rg(c->helo, helo ? helo : "", sizeof(c->helo));
	return no_reply(c, SMFIP_NR_HELO);
}

static void message_reset(struct conn *c)
{
	dsn_parser_free(c->dsn);
	c->dsn = NULL;
	c->candidate = c->internal = c->content_seen = false;
	c->sender_kind = BOUNCE_SENDER_NORMAL;
	c->nrcpt = 0;
	c->first_rcpt[0] = '\0';
	c->spf_done = false;
}

static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_get(ctx);
	const char *from = argv && argv[0] ? argv[0] : "";

	message_reset(c);
	strlcpy_rg(c->sender, from, sizeof(c->sender));
	if (c->bounce_stages && c->conf->bounce_sensor) {
		c->sender_kind = bounce_sender_kind(from);
		c->candidate = c->sender_kind != BOUNCE_SENDER_NORMAL;
		/* smtpd always passes <...>; Postfix's own mail does not */
		c->internal = c->local_conn && from[0] != '<';
	}
	c->auth[0] = '\0';
	c->queue_id[0] = '\0';
	copy_macro(ctx, "{auth_authen}", c->auth, sizeof(c->auth));
	copy_macro(ctx, "i", c->queue_id, sizeof(c->queue_id));
	sfsistat boxed = abuser_check(ctx, c, RG_ABUSER_AT_MAIL);

	if (boxed != SMFIS_CONTINUE)
		return boxed;	/* before any DNS work for this client */
	if (c->conf->runtime != NULL) {
		sfsistat rc = mailauth_envfrom(ctx, c);

		if (rc != SMFIS_CONTINUE)
			return rc;
	}
	return no_reply(c, SMFIP_NR_MAIL);
}

static double now_mono(void)
{
	return rg_now();
}

static void record(const struct conn *c, const char *event, const char *action,
    const char *rcpt, const char *reason)
{
	milter_record(c, event, action, rcpt, reason, NULL, 0);
}

/*
 * "<rcpt>: text" for smfi_setreply, cleaned with the SMTP rule of
 * textclean.h: printable ASCII only, '%' doubled (libmilter reads the text
 * as a format), the recipient's control and 8-bit bytes as \xHH escapes.
 * The recipient is shortened ("...") so that the whole reply line stays
 * within RFC 5321's 512 octets (4.5.3.1.5): a longer text makes
 * smfi_setreply() fail above libmilter's limit, and the client would get
 * a bare reject without the reason.
 */
#define REPLY_TEXT_MAX	480	/* 512 - "554 5.7.1 " - CRLF, with slack */

static void reject_text(const char *rcpt, const char *text, char *buf,
    size_t len)
{
	char r[REPLY_TEXT_MAX], t[REPLY_TEXT_MAX / 2];
	size_t n = strlen(rcpt), room;

	rg_clean_str(RG_SINK_SMTP, t, sizeof(t), text);
	if (n >= 2 && rcpt[0] == '<' && rcpt[n - 1] == '>') {
		rcpt++;
		n -= 2;
	}
	room = REPLY_TEXT_MAX - strlen(t) - sizeof("<>: ");
	if (room > sizeof(r))
		room = sizeof(r);
	rg_clean(RG_SINK_SMTP, r, room, rcpt, n);
	snprintf(buf, len, "<%s>: %s", r, t);
}

static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_get(ctx);
	const char *rcpt = argv && argv[0] ? argv[0] : NULL;
	const char *mailer = smfi_getsymval(ctx, "{rcpt_mailer}");
	const struct rg_config *conf = c->conf;
	struct relay_decision d;
	char text[1024];
	bool mta_rejected = mailer != NULL && strcmp(mailer, "error") == 0;

	if (c->auth[0] == '\0')
		copy_macro(ctx, "{auth_authen}", c->auth, sizeof(c->auth));
	copy_macro(ctx, "i", c->queue_id, sizeof(c->queue_id));
	relay_decide(conf, c->have_addr ? (const struct sockaddr *)&c->addr : NULL,
	    smfi_getsymval(ctx, "{daemon_addr}"), c->auth, rcpt, &d);
	if (rcpt == NULL)
		rcpt = "";
	rg_metrics_decision((int)d.verdict, (int)d.basis);

	if (d.verdict == RELAY_REJECT) {
		rg_client_counter_add(milter_clients, c->client_addr, now_mono());
		abuser_relay_attempt(c, rcpt);
		if (mta_rejected) {
			rg_metrics_relay_refused_by_mta();
			record(c, "relay_refused_by_mta", "none", rcpt, d.reason);
			return SMFIS_CONTINUE;
		}
		if (conf->mode == RG_MODE_LOG_ONLY) {
			if (c->nrcpt++ == 0)
				strlcpy_rg(c->first_rcpt, rcpt, sizeof(c->first_rcpt));
			rg_metrics_relay_attempt(false);
			record(c, "relay_would_refuse", "log-only", rcpt, d.reason);
			return SMFIS_CONTINUE;
		}
		rg_metrics_relay_attempt(true);
		record(c, "relay_refused", "reject", rcpt, d.reason);
		reject_text(rcpt, conf->reject_reply.text, text, sizeof(text));
		if (smfi_setreply(ctx, (char *)conf->reject_reply.code,
		    conf->reject_reply.xcode[0] ? (char *)conf->reject_reply.xcode : NULL,
		    text) != MI_SUCCESS)
			msg_warn("smfi_setreply failed for client_addr=%s; the MTA "
			    "uses its default reject text", c->client_addr);
		return SMFIS_REJECT;
	}
	if (!mta_rejected && c->dnsbl_reject &&
	    mailauth_envrcpt(ctx, c, rcpt) == SMFIS_REJECT)
		return SMFIS_REJECT;
	if (!mta_rejected && c->nrcpt++ == 0)
		strlcpy_rg(c->first_rcpt, rcpt, sizeof(c->first_rcpt));
	if (!mta_rejected && d.basis == RELAY_BASIS_AUTHENTICATED && d.relaying)
		record(c, "relay_authenticated", "permit", rcpt, d.reason);
	else if (conf->log_verbose)
		record(c, mta_rejected ? "rcpt_refused_by_mta" : "rcpt_permitted",
		    relay_verdict_str(d.verdict), rcpt, d.reason);
	return SMFIS_CONTINUE;
}

/* --- the bounce-storm sensor -------------------------------------------- */

static void null_sender_anomaly(const struct conn *c)
{
	char reason[160];

	snprintf(reason, sizeof(reason), "null-sender message with %u "
	    "recipients: a bounce has exactly one", c->nrcpt);
	record(c, "null_sender_anomaly", "none", c->first_rcpt, reason);
}

static sfsistat cb_data(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);

	if (c->sender_kind == BOUNCE_SENDER_NULL && c->nrcpt > 1)
		null_sender_anomaly(c);
	if (!c->candidate && !mailauth_wants_eom(c))
		return SMFIS_ACCEPT;	/* ordinary mail: nothing more to see */
	return SMFIS_CONTINUE;
}

static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = conn_get(ctx);

	if (c->candidate) {
		if (c->dsn == NULL)
			c->dsn = dsn_parser_new((size_t)c->conf->bounce_max_body);
		c->content_seen = true;
		dsn_header(c->dsn, name, value);
	}
	return no_reply(c, SMFIP_NR_HDR);
}

static sfsistat cb_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct conn *c = conn_get(ctx);
	bool enough = true;

	if (c->candidate) {
		if (c->dsn == NULL)
			c->dsn = dsn_parser_new((size_t)c->conf->bounce_max_body);
		enough = dsn_body(c->dsn, (const char *)chunk, len);
	}
	if (c->nr & SMFIP_NR_BODY)
		return SMFIS_NOREPLY;
	return enough && c->can_skip ? SMFIS_SKIP : SMFIS_CONTINUE;
}

static long relay_attempts_of(const struct bounce_storm_report *rep)
{
	if (milter_clients == NULL || rep->ntop[BOUNCE_DIM_ORIG_CLIENT] == 0)
		return -1;
	return (long)rg_client_counter_get(milter_clients,
	    rep->top[BOUNCE_DIM_ORIG_CLIENT][0].key);
}

static void storm_action(SMFICTX *ctx, const struct conn *c,
    struct bounce_sensor *sensor)
{
	char hdr[128];

	if (c->conf->bounce_storm_action == RG_BOUNCE_ACTION_NONE ||
	    !bounce_sensor_in_storm(sensor))
		return;
	snprintf(hdr, sizeof(hdr), "origin=%s; window=%ld; count=%lu",
	    sensor == milter_bounce_generated ? "generated" : "inbound",
	    c->conf->bounce_window, bounce_sensor_count(sensor,
	    BOUNCE_DIM_RCPT, NULL, rg_now()));
	if (smfi_addheader(ctx, "X-Relayguard-Bounce-Storm", hdr) != MI_SUCCESS)
		msg_warn("cannot add X-Relayguard-Bounce-Storm (client_addr=%s)",
		    c->client_addr);
	if (c->conf->bounce_storm_action == RG_BOUNCE_ACTION_QUARANTINE &&
	    smfi_quarantine(ctx, "relayguard: bounce storm") != MI_SUCCESS)
		msg_warn("cannot quarantine a bounce (client_addr=%s)",
		    c->client_addr);
}

/* Inbound bounces over BounceHardLimit: tempfail (never generated ones). */
static bool over_hard_limit(const struct conn *c, double now)
{
	unsigned long lim = (unsigned long)c->conf->bounce_hard_limit;

	if (c->internal || lim == 0 || milter_bounce_inbound == NULL)
		return false;
	return bounce_sensor_count(milter_bounce_inbound, BOUNCE_DIM_RCPT,
	    c->first_rcpt, now) > lim ||
	    bounce_sensor_count(milter_bounce_inbound, BOUNCE_DIM_CLIENT,
	    c->client_addr, now) > lim;
}

static sfsistat bounce_eom(SMFICTX *ctx, struct conn *c)
{
	const struct dsn_report *r = c->dsn ? dsn_finish(c->dsn) : NULL;
	struct bounce_sensor *sensor = c->internal ? milter_bounce_generated :
	    milter_bounce_inbound;
	struct bounce_storm_report rep;
	struct bounce_obs obs = {.recipient = c->first_rcpt};
	double now = rg_now();
	const struct rg_reply *reply = &c->conf->bounce_hard_limit_reply;
	char why[300];

	if (sensor == NULL || !bounce_is_bounce(c->sender_kind,
	    r ? r->evidence : 0, c->content_seen))
		return SMFIS_CONTINUE;
	obs.dsn = r;
	obs.relay_abuse = bounce_relay_abuse(c->conf, r, c->internal,
	    c->myhostname);
	if (c->internal)
		obs.client = r && r->orig_client_addr[0] ? r->orig_client_addr :
		    "unknown";
	else
		obs.client = c->client_addr;
	if (c->conf->log_verbose) {
		snprintf(why, sizeof(why), "%s bounce about %s from %s, status %s",
		    c->internal ? "generated" : "inbound",
		    r && r->nrcpt ? r->rcpt[0].final_rcpt : "?",
		    r && r->orig_client_addr[0] ? r->orig_client_addr : "?",
		    r && r->nrcpt ? r->rcpt[0].status : "?");
		record(c, "bounce", "none", c->first_rcpt, why);
	}
	if (bounce_sensor_add(sensor, &obs, now, &rep) == BOUNCE_STORM_START) {
		rg_metrics_bounce_storm(sensor == milter_bounce_generated);
		bounce_storm_log(&rep, relay_attempts_of(&rep));
	}
	milter_bounce_shared(c, c->internal, c->first_rcpt, obs.client);
	storm_action(ctx, c, sensor);
	if (over_hard_limit(c, now)) {
		record(c, "bounce_tempfail", "tempfail", c->first_rcpt,
		    "inbound bounces over BounceHardLimit");
		char text[1024];

		if (smfi_setreply(ctx, (char *)reply->code,
		    reply->xcode[0] ? (char *)reply->xcode : NULL,
		    (char *)rg_clean_str(RG_SINK_SMTP, text, sizeof(text),
		    reply->text)) != MI_SUCCESS)
			msg_warn("smfi_setreply failed for client_addr=%s",
			    c->client_addr);
		return SMFIS_TEMPFAIL;
	}
	return SMFIS_CONTINUE;
}

static sfsistat cb_eom(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);
	sfsistat rc = SMFIS_CONTINUE;

	if (c->candidate) {
		/* Postfix's own mail never sees DATA: check the anomaly here */
		if (c->internal && c->sender_kind == BOUNCE_SENDER_NULL &&
		    c->nrcpt > 1)
			null_sender_anomaly(c);
		rc = bounce_eom(ctx, c);
	}
	if (rc == SMFIS_CONTINUE && mailauth_wants_eom(c))
		mailauth_eom(ctx, c);
	message_reset(c);
	return rc;
}

void milter_bounce_tick(double now)
{
	struct bounce_storm_report rep;
	struct bounce_sensor *sensors[2] = {milter_bounce_generated,
	    milter_bounce_inbound};

	for (size_t i = 0; i < RG_NELEM(sensors); i++)
		if (sensors[i] != NULL &&
		    bounce_sensor_tick(sensors[i], now, &rep) != BOUNCE_STORM_NONE)
			bounce_storm_log(&rep, relay_attempts_of(&rep));
}

static sfsistat cb_abort(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c != NULL) {
		message_reset(c);
		c->sender[0] = '\0';
		c->auth[0] = '\0';
		c->queue_id[0] = '\0';
	}
	return SMFIS_CONTINUE;
}

static sfsistat cb_close(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c != NULL) {
		message_reset(c);
		rg_config_unref(c->conf);
		free(c);
		smfi_setpriv(ctx, NULL);
		rg_metrics_session(-1);
	}
	return SMFIS_CONTINUE;
}

struct smfiDesc milter_desc = {
	.xxfi_name = RG_MILTER_NAME,
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_SETSYMLIST | SMFIF_ADDHDRS | SMFIF_QUARANTINE,
	.xxfi_connect = cb_connect,
	.xxfi_helo = cb_helo,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = cb_envrcpt,
	.xxfi_data = cb_data,
	.xxfi_header = cb_header,
	.xxfi_body = cb_body,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_negotiate = cb_negotiate,
};

/*
 * milter.h - private interface between relayguard-milter's daemon plumbing
 * (main.c) and its libmilter callbacks (callbacks.c).
 *
 * The callbacks take the installed config (config.h) once per MTA
 * connection and hold that reference until xxfi_close, so a reload never
 * changes the policy in the middle of an SMTP session. Relay attempts are
 * counted in milter_clients, summarised by main.c's signal thread.
 * Bounces are counted by two bounce sensors (bounce.h): those the MTA
 * generated itself and those received over SMTP; the signal thread calls
 * milter_bounce_tick() once a second for storm summaries and ends.
 *
 * The DNS-based checks (mailauth.c: SPF, DNSBL, reverse DNS) run at MAIL
 * FROM over one resolver and one SPF server that belong to the config
 * (struct milter_dns hangs off rg_config.runtime, so a reload brings a new
 * resolver and the old one goes with the last connection that holds the
 * old config).
 */
#ifndef RELAYGUARD_MILTER_H
#define RELAYGUARD_MILTER_H

#include <libmilter/mfapi.h>

#include "clients.h"
#include "milter/bounce/bounce.h"
#include "milter/policy/config.h"
#include "lib/net/dns.h"
#include "milter/bounce/dsn.h"
#include "lib/mail/eventlog.h"
#include "lib/mail/spf.h"
#include "lib/base/version.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>

#define RG_MILTER_NAME		"relayguard-milter"
#define RG_MILTER_VERSION	RG_VERSION	/* version.h */

/* Per MTA connection (smfi_setpriv), freed in xxfi_close. */
struct conn {
	struct rg_config *conf;
	bool have_addr;			/* false: no IP address (unix, unknown) */
	struct sockaddr_storage addr;
	char client_addr[INET6_ADDRSTRLEN];
	char client_name[256];
	char helo[256];
	char sender[512];
	char auth[256];
	char queue_id[64];
	unsigned long nr;		/* negotiated SMFIP_NR_* */
	bool can_skip;			/* SMFIP_SKIP negotiated */
	bool bounce_stages;		/* headers/body negotiated for the sensor */
	bool local_conn;		/* "localhost" or no socket: maybe internal */
	char myhostname[256];		/* macro j */
	/* the current message */
	enum bounce_sender sender_kind;
	bool candidate;			/* a bounce candidate */
	bool internal;			/* made by the MTA itself (non_smtpd) */
	bool content_seen;
	unsigned nrcpt;			/* recipients accepted */
	char first_rcpt[512];
	struct dsn_parser *dsn;
	/* DNS-based checks (mailauth.c) */
	bool client_checked;		/* PTR and DNSBL done (once per connection) */
	char ptr[RG_DNS_NAME_MAX];	/* PTR name, "" none, "unknown" temperror */
	enum rg_fcrdns fcrdns;
	bool dnsbl_reject;		/* a DNSBL listing with action reject */
	char dnsbl_zone[RG_DNS_NAME_MAX];	/* the zone that rejects */
	bool spf_done;			/* this message was SPF-checked */
	struct rg_spf_result spf;
};

/* The resolver and SPF server of one config (rg_config.runtime). */
struct milter_dns {
	struct rg_dns *dns;
	struct rg_spf *spf;
};

extern struct smfiDesc milter_desc;
extern struct rg_client_counter *milter_clients;
extern struct bounce_sensor *milter_bounce_generated, *milter_bounce_inbound;

/* Log the per-client summary and start a new window; then the clock state. */
void milter_summary(double now);
/* One event (milter_start, clock_status) with the time zone and the
 * kernel's clock synchronisation state (clockstate.h). */
void milter_clock_event(const char *event);
/* Bounce-storm summaries and end events that are due. */
void milter_bounce_tick(double now);
/* reload.c: SIGUSR1 (signal thread); the pieces main's start shares */
struct bounce_limits;
void milter_reload(const char *config_path);
void milter_bounce_limits_of(const struct rg_config *c, struct bounce_limits *l);
void milter_default_host(const struct rg_config *c);
void milter_advice_to_log(const char *where, const char *text, void *ctx);
/* bounce_shared.c: a bounce the local sensor counted, counted over every
 * MX too (SharedState); the one MX whose bounce starts a shared storm
 * logs bounce_storm_shared. */
void milter_bounce_shared(const struct conn *c, bool generated,
    const char *rcpt, const char *client);

/* One event: a key=value log line and a JSON line in the EventLog, with
 * the client's PTR/FCrDNS when ReverseDNS is on. */
void milter_record(const struct conn *c, const char *event, const char *action,
    const char *rcpt, const char *reason, const struct rg_event_field *extra,
    size_t nextra);

/* metrics_http.c: MetricsListen (NULL: nothing); 0, or -1 with err. */
int milter_metrics_start(const char *listen, char *err, size_t errlen);
void milter_metrics_stop(void);
/* Once a second: close metrics connections past their deadline. */
void milter_metrics_tick(void);
/* The counters to the log, one line per sample (SIGUSR2). */
void milter_metrics_dump(void);

/* import.c: relayguard-milter --import SPEC; the exit status. */
int milter_import_main(int argc, char **argv);

/* mailauth.c: build c's resolver and SPF server when a DNS-based check is
 * on (c->runtime); 0, or -1 with err. */
int milter_dns_attach(struct rg_config *c, char *err, size_t errlen);
/* At MAIL FROM: reverse DNS and DNSBL (first MAIL of the connection), SPF;
 * the SPF policy's verdict (SMFIS_CONTINUE, _REJECT, _TEMPFAIL). */
sfsistat mailauth_envfrom(SMFICTX *ctx, struct conn *c);
/* At RCPT: SMFIS_REJECT (reply set) for a client a DNSBL rejects. */
sfsistat mailauth_envrcpt(SMFICTX *ctx, struct conn *c, const char *rcpt);
/* At end of message: the SPF header. */
void mailauth_eom(SMFICTX *ctx, struct conn *c);
/* True when the message needs the end-of-message stage for a header. */
bool mailauth_wants_eom(const struct conn *c);

#endif

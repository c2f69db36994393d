/*
 * reload.c - SIGUSR1: a new configuration replaces the running one only
 * when it loads, attaches its DNS and opens its event log; otherwise the
 * running one stays (and its event log is reopened all the same, for
 * logrotate). What only a restart changes is said, not half-applied.
 */
#include "milter.h"
#include "milter/bounce/bounce.h"
#include "milter/metrics.h"
#include "milter/policy/config.h"
#include "milter/policy/configadvice.h"
#include "lib/mail/eventlog.h"
#include "lib/base/log.h"

#include <string.h>
#include <unistd.h>

void milter_bounce_limits_of(const struct rg_config *c,
    struct bounce_limits *l)
{
	l->window = c->bounce_window;
	l->total = c->bounce_threshold;
	l->per_rcpt = c->bounce_rcpt_threshold;
	l->per_client = c->bounce_client_threshold;
	l->summary_interval = c->bounce_summary_interval;
}

static bool changed(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

/* A refused reload still reopens the running EventLog: logrotate's
 * SIGUSR1 must not depend on the config file being valid right now. */
static void eventlog_reopen_running(void)
{
	char err[RG_CONFIG_ERRLEN];
	struct rg_config *cur = rg_config_current();

	if (cur != NULL && cur->event_log != NULL &&
	    rg_eventlog_open(cur->event_log, err, sizeof(err)) != 0)
		msg_error("%s: events go on to the file open before", err);
	rg_config_unref(cur);
}

void milter_advice_to_log(const char *where, const char *text, void *ctx)
{
	(void)ctx;
	msg_warn("%s: %s", where, text);
}

/* The host field of events not tied to an MTA connection: AuthservID, else
 * the host name; at start and at each reload. */
void milter_default_host(const struct rg_config *c)
{
	char host[256];

	if (c->authserv_id != NULL)
		rg_event_set_default_host(c->authserv_id);
	else if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		rg_event_set_default_host(host);
	}
}

/* The new configuration (next, or NULL) is dropped, the running one and
 * what (its event log) stay; the running event log is reopened all the same. */
static void refuse(const char *what, const char *err, struct rg_config *next)
{
	msg_error("reload refused, keeping the running configuration%s: %s", what, err);
	rg_config_unref(next);
	rg_metrics_reload(false);
	eventlog_reopen_running();
}

void milter_reload(const char *config_path)
{
	char err[RG_CONFIG_ERRLEN];
	struct rg_config *next, *cur;

	if ((next = rg_config_load(config_path, err, sizeof(err))) == NULL) {
		refuse("", err, NULL);
		return;
	}
	if (milter_dns_attach(next, err, sizeof(err)) != 0) {
		refuse("", err, next);
		return;
	}
	if (next->event_log != NULL &&
	    rg_eventlog_open(next->event_log, err, sizeof(err)) != 0) {
		refuse(" and its event log", err, next);
		return;
	}
	if (next->event_log == NULL)
		rg_eventlog_close();
	cur = rg_config_current();
	if (cur != NULL) {
		if (changed(cur->socket, next->socket) ||
		    changed(cur->user_id, next->user_id) ||
		    changed(cur->pid_file, next->pid_file) ||
		    cur->socket_mode != next->socket_mode)
			msg_warn("Socket, UserID, PidFile and SocketMode take "
			    "effect at the next restart only");
		if (cur->client_table_size != next->client_table_size)
			msg_warn("ClientTableSize takes effect at the next restart only");
		if (changed(cur->metrics_listen, next->metrics_listen))
			msg_warn("MetricsListen takes effect at the next restart only");
		if (changed(cur->shared_state, next->shared_state) ||
		    cur->shared_state_timeout != next->shared_state_timeout)
			msg_warn("SharedState and SharedStateTimeout take effect "
			    "at the next restart only");
		if (cur->bounce_window != next->bounce_window ||
		    cur->bounce_table_size != next->bounce_table_size)
			msg_warn("BounceWindow and BounceTableSize take effect at "
			    "the next restart only");
		rg_config_unref(cur);
	}
	msg_syslog_open(RG_MILTER_NAME, rg_config_syslog_facility(next));
	msg_verbose_config(next->log_verbose ? 1 : 0);	/* also back down */
	milter_default_host(next);
	rg_config_advise(next, false, milter_advice_to_log, NULL);
	{
		struct bounce_limits l;

		milter_bounce_limits_of(next, &l);
		bounce_sensor_set_limits(milter_bounce_generated, &l);
		bounce_sensor_set_limits(milter_bounce_inbound, &l);
	}
	msg_info("reloaded %s: mode=%s spf=%s dnsbl=%zu reverse_dns=%s", config_path,
	    rg_config_enum_name("Mode", next->mode), next->spf ? "yes" : "no",
	    next->dnsbl.n, next->reverse_dns ? "yes" : "no");
	rg_metrics_reload(true);
	rg_config_install(next);
}


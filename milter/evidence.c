/*
 * evidence.c - relayguard-milter's event records: one event about a client
 * (milter_record), the per-client relay summaries and the clock evidence
 * logged with them. Each goes to the log as a key=value line and to the
 * EventLog as JSON (eventlog.h).
 */
#include "milter.h"
#include "lib/base/clockstate.h"
#include "milter/policy/config.h"
#include "lib/mail/eventlog.h"
#include "lib/base/log.h"
#include "lib/base/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <unistd.h>

void milter_record(const struct conn *c, const char *event, const char *action,
    const char *rcpt, const char *reason, const struct rg_event_field *extra,
    size_t nextra)
{
	char line[4096];
	struct rg_event_field fields[16];
	size_t n = 0;
	struct rg_event ev = {
		.event = event, .action = action,
		.host = c->myhostname[0] ? c->myhostname : NULL,
		.client_addr = c->client_addr, .client_name = c->client_name,
		.helo = c->helo, .sender = c->sender, .recipient = rcpt,
		.auth_authen = c->auth[0] ? c->auth : NULL, .reason = reason,
		.queue_id = c->queue_id[0] ? c->queue_id : NULL,
		.mode = rg_config_enum_name("Mode", c->conf->mode),
		.fields = fields,
	};

	/* the client's port: needed to tell clients apart behind a CGNAT */
	if (c->have_addr) {
		long port = c->addr.ss_family == AF_INET6 ?
		    ntohs(((const struct sockaddr_in6 *)(const void *)&c->addr)->sin6_port) :
		    ntohs(((const struct sockaddr_in *)(const void *)&c->addr)->sin_port);

		if (port > 0)
			fields[n++] = (struct rg_event_field){.key = "client_port", .num = port};
	}
	for (size_t i = 0; i < nextra && n < RG_NELEM(fields) - 2; i++)
		fields[n++] = extra[i];
	if (c->client_checked && c->conf->reverse_dns) {
		fields[n++] = (struct rg_event_field){.key = "ptr",
		    .str = c->ptr[0] ? c->ptr : "none"};
		fields[n++] = (struct rg_event_field){.key = "fcrdns",
		    .str = rg_fcrdns_name(c->fcrdns)};
	}
	ev.nfields = n;
	msg_info("%s", rg_event_format_kv(&ev, line, sizeof(line)));
	(void)rg_eventlog_write(&ev);	/* a failure is logged and counted there */
}

static void summary_one(const char *addr, unsigned long count, double window,
    void *ctx)
{
	char sentence[256], line[1024];
	struct rg_event ev = {
		.event = "relay_summary", .client_addr = addr,
		.count = (long)count, .window = (long)(window + 0.5),
	};

	(void)ctx;
	rg_summary_line(addr, count, window, sentence, sizeof(sentence));
	ev.reason = sentence;
	msg_info("%s", rg_event_format_kv(&ev, line, sizeof(line)));
	rg_eventlog_write(&ev);
}

/* Clock evidence (clockstate.h): the zone of the log's times and whether
 * the clock was synchronised, at start and with every summary. */
void milter_clock_event(const char *event)
{
	struct rg_clock clk;
	char line[1024], zone[160], sentence[300];

	rg_clock_read(&clk);
	snprintf(zone, sizeof(zone), "%s", clk.zone_name[0] ? clk.zone_name : clk.zone_abbr);
	struct rg_event_field f[] = {
		{.key = "time_zone", .str = clk.zone_abbr},
		{.key = "zone_name", .str = zone},
		{.key = "utc_offset", .str = clk.utc_offset},
		{.key = "clock", .str = rg_clock_state_word(&clk)},
		{.key = "esterror_us", .num = clk.esterror_us},
		{.key = "maxerror_us", .num = clk.maxerror_us},
		{.key = "pid", .num = (long)getpid()},
	};
	struct rg_event ev = {
		.event = event, .fields = f, .nfields = RG_NELEM(f),
		.reason = rg_clock_describe(&clk, sentence, sizeof(sentence)),
	};

	msg_info("%s", rg_event_format_kv(&ev, line, sizeof(line)));
	rg_eventlog_write(&ev);
}

void milter_summary(double now)
{
	if (milter_clients != NULL)
		rg_client_counter_summary(milter_clients, now, summary_one, NULL);
	milter_clock_event("clock_status");
}

/*
 * record.c - one piece of relay evidence (milter.h milter_record): the
 * key=value log line and the EventLog line, from a connection's state.
 *
 * Apart from callbacks.c, so that mailauth.c (SPF, DNSBL) records its
 * findings without calling back into the callbacks that call it.
 */
#include "milter.h"
#include "lib/mail/eventlog.h"
#include "lib/net/dns.h"
#include "lib/base/log.h"
#include "lib/base/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

void milter_record(const struct conn *c, const char *event, const char *action,
    const char *rcpt, const char *reason, const struct rg_event_field *extra,
    size_t nextra)
{
	char line[4096];
	struct rg_event_field fields[12];
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

/*
 * metrics_http.c - the optional loopback HTTP listener (MetricsListen)
 * that serves GET /metrics in Prometheus text format (metrics.h), built on
 * libmicrohttpd: its own polling thread, at most 8 connections, 10 s idle
 * timeout. Anything but GET/HEAD /metrics gets 404 or 405.
 */
#include "milter.h"
#include "relayguard/log.h"
#include "relayguard/metrics.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct MHD_Daemon *metrics_daemon;

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status,
    char *body, bool owned, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body),
	    body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	enum MHD_Result rc;

	if (r == NULL) {
		if (owned)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
    const char *url, const char *method, const char *version,
    const char *upload_data, size_t *upload_size, void **state)
{
	(void)cls;
	(void)version;
	(void)upload_data;
	(void)state;
	if (*upload_size != 0)
		return MHD_NO;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "only GET /metrics\n", false, "text/plain");
	if (strcmp(url, "/metrics") != 0)
		return reply(conn, MHD_HTTP_NOT_FOUND, "see /metrics\n", false,
		    "text/plain");
	return reply(conn, MHD_HTTP_OK, rg_metrics_format(), true,
	    "text/plain; version=0.0.4; charset=utf-8");
}

int milter_metrics_start(const char *listen, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

	if (listen == NULL)
		return 0;
	if (rg_metrics_parse_listen(listen, &ss, &len, err, errlen) != 0)
		return -1;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	metrics_daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)8,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
	    MHD_OPTION_END);
	if (metrics_daemon == NULL) {
		snprintf(err, errlen, "MetricsListen %s: cannot listen there "
		    "(in use?)", listen);
		return -1;
	}
	msg_info("metrics at http://%s/metrics", listen);
	return 0;
}

void milter_metrics_stop(void)
{
	if (metrics_daemon != NULL)
		MHD_stop_daemon(metrics_daemon);
	metrics_daemon = NULL;
}

/* SIGUSR2: every sample line to the log, once. */
void milter_metrics_dump(void)
{
	char *text = rg_metrics_format(), *save = NULL;

	msg_info("metrics dump (SIGUSR2) begins");
	for (char *line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (line[0] != '#')
			msg_info("metrics: %s", line);
	msg_info("metrics dump ends");
	free(text);
}

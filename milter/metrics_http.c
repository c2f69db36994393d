/*
 * metrics_http.c - the optional loopback HTTP listener (MetricsListen)
 * that serves GET /metrics in Prometheus text format (metrics.h), built on
 * libmicrohttpd: its own polling thread (epoll). Anything but GET/HEAD
 * /metrics gets 404 or 405; every answer closes its connection.
 *
 * Slow clients (slowloris): any local user reaches the port, and
 * libmicrohttpd's own timeout (MHD_OPTION_CONNECTION_TIMEOUT) starts again
 * with every byte, so a client sending one header line every few seconds
 * would hold its connection for ever, and a few dozen of them every
 * connection there is. Two bounds stop that: up to METRICS_CONNECTIONS
 * connections at once (a scraper finds a free one beside 20-odd slow
 * clients), and a total deadline per connection, counted from the accept
 * whatever the client sends: milter_metrics_tick() (once a second, from
 * the signal thread) shuts down every connection older than
 * METRICS_DEADLINE seconds, so even with every place taken one frees up
 * within that time and the connections waiting in the listen queue are
 * served in order. A per-address limit would not help: every local user
 * connects from 127.0.0.1 (or from any 127/8 address), as the scraper does.
 */
#include "milter.h"
#include "lib/base/log.h"
#include "metrics.h"
#include "lib/base/util.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define METRICS_CONNECTIONS	64	/* at once */
#define METRICS_DEADLINE	5	/* seconds from accept to close, at most */
#define METRICS_IDLE		3	/* seconds of silence (libmicrohttpd's) */

static struct MHD_Daemon *metrics_daemon;

/* The open connections, oldest first, for the deadline. */
struct metrics_conn {
	struct metrics_conn *next, *prev;
	int fd;
	double opened;		/* rg_now() at the accept */
	bool cut;		/* shut down by the deadline already */
};
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct metrics_conn *conns_head, *conns_tail;

static void conn_started(struct MHD_Connection *conn, void **socket_context)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_CONNECTION_FD);
	struct metrics_conn *mc;

	if (info == NULL)
		return;
	mc = xcalloc(1, sizeof(*mc));
	mc->fd = info->connect_fd;
	mc->opened = rg_now();
	pthread_mutex_lock(&conns_lock);
	mc->prev = conns_tail;
	if (conns_tail != NULL)
		conns_tail->next = mc;
	else
		conns_head = mc;
	conns_tail = mc;
	pthread_mutex_unlock(&conns_lock);
	*socket_context = mc;
}

static void conn_closed(void **socket_context)
{
	struct metrics_conn *mc = *socket_context;

	if (mc == NULL)
		return;
	pthread_mutex_lock(&conns_lock);
	if (mc->prev != NULL)
		mc->prev->next = mc->next;
	else
		conns_head = mc->next;
	if (mc->next != NULL)
		mc->next->prev = mc->prev;
	else
		conns_tail = mc->prev;
	pthread_mutex_unlock(&conns_lock);
	free(mc);
	*socket_context = NULL;
}

/*
 * libmicrohttpd reports every connection's start and end; it closes the
 * descriptor only after the end is reported, and the end waits for
 * conns_lock, so milter_metrics_tick() never shuts down a descriptor
 * number that has been reused meanwhile.
 */
static void conn_notify(void *cls, struct MHD_Connection *conn,
    void **socket_context, enum MHD_ConnectionNotificationCode code)
{
	(void)cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		conn_started(conn, socket_context);
	else if (code == MHD_CONNECTION_NOTIFY_CLOSED)
		conn_closed(socket_context);
}

void milter_metrics_tick(void)
{
	double now = rg_now();
	unsigned cut = 0;

	pthread_mutex_lock(&conns_lock);
	for (struct metrics_conn *mc = conns_head; mc != NULL &&
	    now - mc->opened >= METRICS_DEADLINE; mc = mc->next) {
		if (mc->cut)
			continue;
		/* libmicrohttpd reads end-of-file and closes it itself */
		(void)shutdown(mc->fd, SHUT_RDWR);
		mc->cut = true;
		cut++;
	}
	pthread_mutex_unlock(&conns_lock);
	if (cut > 0)
		msg_info("metrics: closed %u connection%s that had not finished "
		    "in %d s (slow clients?)", cut, cut == 1 ? "" : "s",
		    METRICS_DEADLINE);
}

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
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
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
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;

	if (listen == NULL)
		return 0;
	if (rg_metrics_parse_listen(listen, &ss, &len, err, errlen) != 0)
		return -1;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	metrics_daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_IDLE,
	    MHD_OPTION_NOTIFY_CONNECTION, conn_notify, NULL,
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

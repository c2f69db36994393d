/*
 * smtp_info.c - what a report asks of an SMTP client connection: its
 * status, both ends, TLS; see smtp.h.
 */
#include "audit/smtp.h"
#include "smtp_impl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

const char *rg_smtp_status_name(enum rg_smtp_status st)
{
	switch (st) {
	case RG_SMTP_OK: return "ok";
	case RG_SMTP_CONNECT_FAILED: return "connect-failed";
	case RG_SMTP_TIMEOUT: return "timeout";
	case RG_SMTP_CLOSED: return "closed";
	case RG_SMTP_PROTOCOL: return "protocol-error";
	case RG_SMTP_TLS_FAILED: return "tls-failed";
	case RG_SMTP_IO: return "io-error";
	}
	return "unknown";
}

enum rg_smtp_status rg_smtp_status(const struct rg_smtp *s) { return s->status; }
const char *rg_smtp_error(const struct rg_smtp *s) { return s->error; }
const char *rg_smtp_peer_addr(const struct rg_smtp *s) { return s->peer; }

/* The local end of the connection: the vantage point a report names. */
char *rg_smtp_local_addr(const struct rg_smtp *s, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	buf[0] = '\0';
	if (s == NULL || s->fd < 0 || getsockname(s->fd, (struct sockaddr *)&ss, &sl) != 0)
		return buf;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf, (socklen_t)len);
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, buf, (socklen_t)len);
	return buf;
}
int rg_smtp_local_port(const struct rg_smtp *s)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (s == NULL || s->fd < 0 || getsockname(s->fd, (struct sockaddr *)&ss, &sl) != 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}
int rg_smtp_peer_family(const struct rg_smtp *s) { return s->family; }
bool rg_smtp_tls_active(const struct rg_smtp *s) { return s->ssl != NULL; }
const char *rg_smtp_tls_info(const struct rg_smtp *s) { return s->tls_info; }

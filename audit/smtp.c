/*
 * smtp.c - deadline-driven SMTP client connection; see smtp.h.
 *
 * One non-blocking socket, poll(2) for every wait, OpenSSL on the same
 * descriptor for STARTTLS (RFC 3207) and implicit TLS (RFC 8314). Input is
 * read into a fixed buffer of RG_REPLY_LINE_MAX bytes: a longer line is a
 * protocol error, so a hostile server cannot make us buffer without limit.
 */
#include "audit/smtp.h"
#include "lib/net/fiber.h"
#include "lib/base/hostport.h"
#include "lib/base/log.h"
#include "lib/base/util.h"
#include "smtp_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

static void tx(struct rg_smtp *s, enum rg_transcript_dir dir, const char *line)
{
	if (s->opts.transcript) {
		struct timeval tv;

		gettimeofday(&tv, NULL);
		s->opts.transcript(s->opts.transcript_arg, &tv, dir, line);
	}
}

static int fail(struct rg_smtp *s, enum rg_smtp_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct rg_smtp *s, enum rg_smtp_status st, const char *fmt, ...)
{
	va_list ap;

	if (s->status == RG_SMTP_OK) {	/* keep the first cause */
		s->status = st;
		va_start(ap, fmt);
		vsnprintf(s->error, sizeof(s->error), fmt, ap);
		va_end(ap);
		tx(s, RG_TX_EVENT, s->error);
	}
	return -1;
}

/* now + seconds, but never past the connection's overall deadline. */
static double deadline_in(const struct rg_smtp_opts *o, double seconds)
{
	double d = rg_now() + seconds;

	return o->deadline > 0 && o->deadline < d ? o->deadline : d;
}

/* Wait for events on the socket until the deadline: 1 ready, 0 timeout,
 * -1 error. In a fiber (relayguard-audit) the loop runs the others meanwhile. */
static int wait_fd(struct rg_smtp *s, short events, double deadline)
{
	return rg_fiber_wait_fd(s->fd, events, deadline);
}

static const char *ssl_errstr(void)
{
	static __thread char buf[160];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "unexpected EOF or I/O error";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

/* Read some bytes: >0 count, -1 error (status set). */
static ssize_t io_read(struct rg_smtp *s, char *buf, size_t len, double deadline)
{
	for (;;) {
		short want = POLLIN;

		if (s->ssl) {
			ERR_clear_error();	/* the queue is the thread's: fibers share it */
			int n = SSL_read(s->ssl, buf, (int)len);

			if (n > 0)
				return n;
			int e = SSL_get_error(s->ssl, n);

			if (e == SSL_ERROR_ZERO_RETURN)
				return fail(s, RG_SMTP_CLOSED, "server closed the TLS session");
			if (e == SSL_ERROR_WANT_WRITE)
				want = POLLOUT;
			else if (e != SSL_ERROR_WANT_READ)
				return fail(s, RG_SMTP_TLS_FAILED, "TLS read: %s", ssl_errstr());
		} else {
			ssize_t n = recv(s->fd, buf, len, 0);

			if (n > 0)
				return n;
			if (n == 0)
				return fail(s, RG_SMTP_CLOSED, "server closed the connection");
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				return fail(s, RG_SMTP_IO, "read: %s", strerror(errno));
		}
		int w = wait_fd(s, want, deadline);

		if (w == 0 && s->opts.deadline > 0 && rg_now() >= s->opts.deadline)
			return fail(s, RG_SMTP_TIMEOUT, "time budget exhausted");
		if (w == 0)
			return fail(s, RG_SMTP_TIMEOUT, "no complete reply within %.1f s",
			    s->opts.read_timeout);
		if (w < 0)
			return fail(s, RG_SMTP_IO, "poll: %s", strerror(errno));
	}
}

static int io_write_all(struct rg_smtp *s, const char *buf, size_t len)
{
	double deadline = deadline_in(&s->opts, s->opts.read_timeout);

	while (len > 0) {
		short want = POLLOUT;
		ssize_t n;

		if (s->ssl) {
			ERR_clear_error();
			n = SSL_write(s->ssl, buf, (int)len);
			if (n <= 0) {
				int e = SSL_get_error(s->ssl, (int)n);

				if (e == SSL_ERROR_WANT_READ)
					want = POLLIN;
				else if (e != SSL_ERROR_WANT_WRITE)
					return fail(s, RG_SMTP_TLS_FAILED, "TLS write: %s",
					    ssl_errstr());
				n = 0;
			}
		} else {
			n = send(s->fd, buf, len, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EPIPE || errno == ECONNRESET)
					return fail(s, RG_SMTP_CLOSED,
					    "server closed the connection");
				if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
					return fail(s, RG_SMTP_IO, "write: %s", strerror(errno));
				n = 0;
			}
		}
		buf += n;
		len -= (size_t)n;
		if (len > 0 && n == 0) {
			int w = wait_fd(s, want, deadline);

			if (w == 0)
				return fail(s, RG_SMTP_TIMEOUT, "write timed out");
			if (w < 0)
				return fail(s, RG_SMTP_IO, "poll: %s", strerror(errno));
		}
	}
	return 0;
}

/* One line (CR LF or bare LF removed) into line[], within the deadline. */
static int read_line(struct rg_smtp *s, char *line, size_t cap, double deadline)
{
	for (;;) {
		char *nl = memchr(s->in, '\n', s->inlen);

		if (nl) {
			size_t n = (size_t)(nl - s->in);
			size_t keep = n;

			if (keep > 0 && s->in[keep - 1] == '\r')
				keep--;
			if (keep >= cap)
				keep = cap - 1;
			memcpy(line, s->in, keep);
			line[keep] = '\0';
			/* Keep C strings whole: a NUL byte would cut the line.
			 * Everything else is kept as the server sent it (evidence);
			 * every writer cleans it for its sink (textclean.h), the
			 * terminal rule keeps escapes off the operator's screen. */
			for (size_t i = 0; i < keep; i++)
				if (line[i] == '\0')
					line[i] = '?';
			memmove(s->in, nl + 1, s->inlen - n - 1);
			s->inlen -= n + 1;
			return 0;
		}
		if (s->inlen >= RG_REPLY_LINE_MAX)
			return fail(s, RG_SMTP_PROTOCOL,
			    "reply line longer than %d bytes", RG_REPLY_LINE_MAX);
		ssize_t got = io_read(s, s->in + s->inlen,
		    RG_REPLY_LINE_MAX - s->inlen, deadline);

		if (got < 0)
			return -1;
		s->inlen += (size_t)got;
	}
}

int rg_smtp_read_reply(struct rg_smtp *s, struct rg_reply *r)
{
	char line[RG_REPLY_LINE_MAX + 1];
	double deadline = deadline_in(&s->opts, s->opts.read_timeout);

	rg_reply_init(r);
	if (s->status != RG_SMTP_OK)
		return -1;
	for (;;) {
		if (read_line(s, line, sizeof(line), deadline) != 0)
			return -1;
		tx(s, RG_TX_RECV, line);
		switch (rg_reply_feed(r, line)) {
		case RG_REPLY_DONE:
			return 0;
		case RG_REPLY_BAD:
			return fail(s, RG_SMTP_PROTOCOL, "not an SMTP reply: %s", r->error);
		case RG_REPLY_MORE:
			break;
		}
	}
}

static int vsend(struct rg_smtp *s, const char *fmt, va_list ap)
{
	char buf[1100];
	int n;

	if (s->status != RG_SMTP_OK)
		return -1;
	n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
	if (n < 0 || (size_t)n >= sizeof(buf) - 2)
		return fail(s, RG_SMTP_PROTOCOL, "command too long");
	tx(s, RG_TX_SENT, buf);
	memcpy(buf + n, "\r\n", 3);
	return io_write_all(s, buf, (size_t)n + 2);
}

int rg_smtp_send(struct rg_smtp *s, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vsend(s, fmt, ap);
	va_end(ap);
	return rc;
}

int rg_smtp_send_group(struct rg_smtp *s, const char *const *cmds, size_t n)
{
	char buf[8192];
	size_t used = 0;

	if (s->status != RG_SMTP_OK)
		return -1;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(cmds[i]);

		if (len > 1000 || used + len + 2 > sizeof(buf))
			return fail(s, RG_SMTP_PROTOCOL, "command group too long");
		tx(s, RG_TX_SENT, cmds[i]);
		memcpy(buf + used, cmds[i], len);
		memcpy(buf + used + len, "\r\n", 2);
		used += len + 2;
	}
	return io_write_all(s, buf, used);
}

bool rg_smtp_unsolicited(struct rg_smtp *s)
{
	char c;

	if (s->status != RG_SMTP_OK)
		return false;
	if (s->inlen > 0)
		return true;
	if (s->ssl)
		return SSL_pending(s->ssl) > 0;
	return recv(s->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

int rg_smtp_await_input(struct rg_smtp *s, double seconds)
{
	if (s->status != RG_SMTP_OK)
		return -1;
	if (s->inlen > 0 || (s->ssl && SSL_pending(s->ssl) > 0))
		return 1;
	int rc = wait_fd(s, POLLIN, deadline_in(&s->opts, seconds));

	return rc < 0 ? -1 : rc;
}

int rg_smtp_command(struct rg_smtp *s, struct rg_reply *r, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vsend(s, fmt, ap);
	va_end(ap);
	if (rc != 0) {
		rg_reply_init(r);
		return -1;
	}
	return rg_smtp_read_reply(s, r);
}

static int connect_one(struct rg_smtp *s, const struct addrinfo *ai, double deadline)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    ai->ai_protocol);

	if (fd < 0) {
		snprintf(s->error, sizeof(s->error), "socket: %s", strerror(errno));
		return -1;
	}
	if (s->opts.source_addr) {
		struct addrinfo hints = {.ai_family = ai->ai_family,
		    .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_PASSIVE};
		struct addrinfo *src = NULL;
		int e = getaddrinfo(s->opts.source_addr, NULL, &hints, &src);

		if (e != 0 || bind(fd, src->ai_addr, src->ai_addrlen) != 0) {
			snprintf(s->error, sizeof(s->error), "cannot bind source %s: %s",
			    s->opts.source_addr, e ? gai_strerror(e) : strerror(errno));
			if (src)
				freeaddrinfo(src);
			close(fd);
			return -1;
		}
		freeaddrinfo(src);
	}
	s->fd = fd;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (errno != EINPROGRESS) {
			snprintf(s->error, sizeof(s->error), "connect: %s", strerror(errno));
			goto bad;
		}
		int w = wait_fd(s, POLLOUT, deadline);
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (w == 0) {
			snprintf(s->error, sizeof(s->error), "connect timed out after %.1f s",
			    s->opts.connect_timeout);
			goto bad;
		}
		if (w < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 ||
		    soerr != 0) {
			snprintf(s->error, sizeof(s->error), "connect: %s",
			    strerror(soerr ? soerr : errno));
			goto bad;
		}
	}
	return 0;
bad:
	close(fd);
	s->fd = -1;
	return -1;
}

struct rg_smtp *rg_smtp_open(const char *host, int port,
    const struct rg_smtp_opts *opts)
{
	struct rg_smtp *s = xcalloc(1, sizeof(*s));
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	char portstr[16];
	int e;

	s->fd = -1;
	s->opts = *opts;
	s->host = xstrdup(host);
	snprintf(portstr, sizeof(portstr), "%d", port);
	e = rg_fiber_getaddrinfo(host, portstr, &hints, &res);
	if (e != 0) {
		fail(s, RG_SMTP_CONNECT_FAILED, "cannot resolve %s: %s", host,
		    gai_strerror(e));
		return s;
	}
	if (rg_smtp__rate_wait(opts->deadline) != 0) {
		freeaddrinfo(res);
		fail(s, RG_SMTP_TIMEOUT, "time budget exhausted waiting for a --rate slot");
		return s;
	}
	double deadline = deadline_in(opts, opts->connect_timeout);
	bool timed_out = false;

	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		const void *a = ai->ai_family == AF_INET6 ?
		    (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr :
		    (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;

		inet_ntop(ai->ai_family, a, s->peer, sizeof(s->peer));
		s->family = ai->ai_family;
		if (connect_one(s, ai, deadline) == 0)
			break;
		timed_out = strstr(s->error, "timed out") != NULL;
		if (rg_now() >= deadline)
			break;
	}
	freeaddrinfo(res);
	if (s->fd < 0) {
		char why[256];

		strlcpy_rg(why, s->error, sizeof(why));
		fail(s, timed_out ? RG_SMTP_TIMEOUT : RG_SMTP_CONNECT_FAILED,
		    "%s port %d: %s", host, port, why);
		return s;
	}
	{
		char ev[300];

		snprintf(ev, sizeof(ev), "connected to %s port %d%s%s", s->peer, port,
		    opts->source_addr ? " from " : "",
		    opts->source_addr ? opts->source_addr : "");
		tx(s, RG_TX_EVENT, ev);
	}
	if (opts->implicit_tls)
		rg_smtp_start_tls(s);
	return s;
}

int rg_smtp_start_tls(struct rg_smtp *s)
{
	double deadline = deadline_in(&s->opts, s->opts.read_timeout);

	if (s->status != RG_SMTP_OK)
		return -1;
	s->ctx = SSL_CTX_new(TLS_client_method());
	if (s->ctx == NULL)
		return fail(s, RG_SMTP_TLS_FAILED, "TLS context: %s", ssl_errstr());
	/* An auditor must talk to old servers too: no minimum, no verification
	 * (the result is recorded in tls_info instead). */
	SSL_CTX_set_security_level(s->ctx, 0);
	SSL_CTX_set_verify(s->ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_default_verify_paths(s->ctx);
	s->ssl = SSL_new(s->ctx);
	if (s->ssl == NULL || SSL_set_fd(s->ssl, s->fd) != 1)
		return fail(s, RG_SMTP_TLS_FAILED, "TLS setup: %s", ssl_errstr());
	if (!rg_is_ip(s->host))
		SSL_set_tlsext_host_name(s->ssl, s->host);
	tx(s, RG_TX_EVENT, "TLS handshake");
	if (s->inlen > 0)	/* RFC 3207: nothing may follow the 220 in clear */
		return fail(s, RG_SMTP_PROTOCOL, "server sent data before the TLS handshake");
	for (;;) {
		ERR_clear_error();
		int n = SSL_connect(s->ssl);

		if (n == 1)
			break;
		int e = SSL_get_error(s->ssl, n);
		short want;

		if (e == SSL_ERROR_WANT_READ)
			want = POLLIN;
		else if (e == SSL_ERROR_WANT_WRITE)
			want = POLLOUT;
		else
			return fail(s, RG_SMTP_TLS_FAILED, "TLS handshake: %s", ssl_errstr());
		if (wait_fd(s, want, deadline) <= 0)
			return fail(s, RG_SMTP_TIMEOUT, "TLS handshake timed out");
	}
	X509 *cert = SSL_get1_peer_certificate(s->ssl);
	char subj[160] = "", iss[160] = "";

	if (cert) {
		X509_NAME_oneline(X509_get_subject_name(cert), subj, sizeof(subj));
		X509_NAME_oneline(X509_get_issuer_name(cert), iss, sizeof(iss));
		X509_free(cert);
	}
	snprintf(s->tls_info, sizeof(s->tls_info), "%s %s subject=%s issuer=%s verify=%s",
	    SSL_get_version(s->ssl), SSL_get_cipher_name(s->ssl), subj, iss,
	    X509_verify_cert_error_string(SSL_get_verify_result(s->ssl)));
	tx(s, RG_TX_EVENT, s->tls_info);
	return 0;
}

int rg_smtp_send_quit(struct rg_smtp *s)
{
	if (s->quit_sent)
		return 0;
	s->quit_sent = true;
	return rg_smtp_send(s, "QUIT");
}

void rg_smtp_set_transcript(struct rg_smtp *s, rg_transcript_fn fn, void *arg)
{
	s->opts.transcript = fn;
	s->opts.transcript_arg = arg;
}

/* After its 221 the server closes (RFC 5321 4.1.1.10); until then its
 * process holds a place it counts against us (couriertcpd -maxperip frees
 * one only once it has reaped the process): wait for that, secs at most. */
static void await_peer_close(struct rg_smtp *s, double secs)
{
	double deadline = deadline_in(&s->opts, secs);
	char buf[512];
	ssize_t n;

	/* a server that keeps talking after its 221 is not waited for past
	 * the deadline (nothing else yields while bytes keep coming) */
	while (s->ssl == NULL && s->fd >= 0 && rg_now() < deadline &&
	    (n = recv(s->fd, buf, sizeof(buf), 0)) != 0)
		if (n < 0 && (!(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ||
		    wait_fd(s, POLLIN, deadline) <= 0))
			return;
}

void rg_smtp_close(struct rg_smtp *s, bool polite)
{
	if (s == NULL)
		return;
	if (polite && s->status == RG_SMTP_OK && s->fd >= 0) {
		struct rg_reply r;
		double saved = s->opts.read_timeout;
		double wait = s->quit_wait > 0 ? s->quit_wait : 5;	/* not long for a 221 */

		s->opts.read_timeout = saved < wait ? saved : wait;
		if (s->quit_sent)
			rg_smtp_read_reply(s, &r);
		else
			rg_smtp_command(s, &r, "QUIT");
		if (s->status == RG_SMTP_OK && r.code == 221)
			await_peer_close(s, 1.0);
		s->opts.read_timeout = saved;
	}
	if (s->ssl) {
		if (s->status == RG_SMTP_OK)
			SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
	}
	if (s->ctx)
		SSL_CTX_free(s->ctx);
	if (s->fd >= 0) {
		close(s->fd);
		tx(s, RG_TX_EVENT, "connection closed");
	}
	free(s->host);
	free(s);
}

void rg_smtp_set_read_timeout(struct rg_smtp *s, double seconds)
{
	if (s != NULL && seconds > 0)
		s->opts.read_timeout = seconds;
}

void rg_smtp_set_quit_wait(struct rg_smtp *s, double seconds)
{
	if (s != NULL && seconds > 0)
		s->quit_wait = seconds;
}

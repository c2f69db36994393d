/*
 * smtp.h - a small, deadline-driven SMTP client connection (plain, STARTTLS,
 * implicit TLS) for probing servers that may be hostile.
 *
 * Every read has a deadline: a whole reply must arrive within read_timeout
 * seconds, however slowly it drips; a connect must finish within
 * connect_timeout. Replies are framed by reply.h, so an endless multi-line
 * reply, a line over RG_REPLY_LINE_MAX or garbage ends in an error, never a
 * hang or unbounded memory. TLS certificates are recorded, not verified: an
 * auditor wants to talk to the server it was pointed at.
 *
 * Every line sent and received, and every event (connect, TLS, close), is
 * passed to the optional transcript callback with its time.
 *
 *	struct rg_smtp_opts o = RG_SMTP_OPTS_DEFAULT;
 *	struct rg_smtp *s = rg_smtp_open("127.0.0.1", 25, &o);
 *	if (rg_smtp_status(s) != RG_SMTP_OK) ... rg_smtp_error(s) ...
 *	rg_smtp_read_reply(s, &greeting);
 *	rg_smtp_command(s, &r, "EHLO %s", name);
 *	rg_smtp_close(s);
 */
#ifndef RELAYGUARD_SMTP_H
#define RELAYGUARD_SMTP_H

#include <stdbool.h>
#include <sys/time.h>

#include "reply.h"

enum rg_smtp_status {
	RG_SMTP_OK = 0,
	RG_SMTP_CONNECT_FAILED,	/* refused, unreachable, bad address */
	RG_SMTP_TIMEOUT,	/* connect or reply deadline passed */
	RG_SMTP_CLOSED,		/* peer closed the connection */
	RG_SMTP_PROTOCOL,	/* not an SMTP reply: garbage, too long, ... */
	RG_SMTP_TLS_FAILED,	/* handshake or TLS I/O failed */
	RG_SMTP_IO,		/* other socket error */
};

enum rg_transcript_dir { RG_TX_SENT = '>', RG_TX_RECV = '<', RG_TX_EVENT = '*' };

typedef void (*rg_transcript_fn)(void *arg, const struct timeval *when,
    enum rg_transcript_dir dir, const char *line);

struct rg_smtp_opts {
	double connect_timeout;		/* seconds */
	double read_timeout;		/* seconds for one whole reply */
	const char *source_addr;	/* bind before connect, or NULL */
	bool implicit_tls;		/* TLS from the first byte (port 465) */
	rg_transcript_fn transcript;
	void *transcript_arg;
	double deadline;		/* absolute rg_now() limit on every wait of
					 * this connection (a time budget), 0 = none */
};

#define RG_SMTP_OPTS_DEFAULT { 10.0, 30.0, NULL, false, NULL, NULL, 0 }

struct rg_smtp;

/* Never NULL: check rg_smtp_status() afterwards. host is a numeric address
 * or a name (resolved with getaddrinfo; the first address that connects). */
struct rg_smtp *rg_smtp_open(const char *host, int port,
    const struct rg_smtp_opts *opts);
enum rg_smtp_status rg_smtp_status(const struct rg_smtp *s);
const char *rg_smtp_error(const struct rg_smtp *s);
const char *rg_smtp_status_name(enum rg_smtp_status st);

/* The peer's numeric address ("192.0.2.1", "2001:db8::1") and family. */
const char *rg_smtp_peer_addr(const struct rg_smtp *s);
/* Our own address on the connection (getsockname), "" when unknown. */
char *rg_smtp_local_addr(const struct rg_smtp *s, char *buf, size_t len);
/* Our own port on the connection, 0 when unknown (the transcript's tag). */
int rg_smtp_local_port(const struct rg_smtp *s);
int rg_smtp_peer_family(const struct rg_smtp *s);

/* 0 on a complete reply; -1 on error (status/error set, connection dead). */
int rg_smtp_read_reply(struct rg_smtp *s, struct rg_reply *r);
int rg_smtp_send(struct rg_smtp *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* send + read_reply */
int rg_smtp_command(struct rg_smtp *s, struct rg_reply *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* RFC 2920 pipelining: the commands (without CRLF) in one write, each one
 * in the transcript. Read their replies with rg_smtp_read_reply(), in order. */
int rg_smtp_send_group(struct rg_smtp *s, const char *const *cmds, size_t n);
/* True when the server sent something nobody asked for: bytes already
 * received (buffered, or waiting in the socket) after the replies read so
 * far. Call after the last expected reply: a reply stream out of step. */
bool rg_smtp_unsolicited(struct rg_smtp *s);

/* Wait at most seconds for input, reading nothing: 1 there is some, 0
 * none yet, -1 the connection is dead. */
int rg_smtp_await_input(struct rg_smtp *s, double seconds);

/* After a 220 reply to STARTTLS: run the handshake. 0 or -1. */
int rg_smtp_start_tls(struct rg_smtp *s);
bool rg_smtp_tls_active(const struct rg_smtp *s);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384 subject=/CN=mx issuer=/CN=ca" or "". */
const char *rg_smtp_tls_info(const struct rg_smtp *s);

/* At most per_second new connections per second over the whole process
 * (every thread): rg_smtp_open() waits for its slot (0: no limit). */
void rg_smtp_set_connect_rate(double per_second);

/* Send QUIT (when polite and the connection is healthy), then close. */
void rg_smtp_close(struct rg_smtp *s, bool polite);
/* QUIT now (recorded), its 221 later: a polite rg_smtp_close() afterwards
 * only waits for that reply (at most 5 s, or the quit wait) instead of
 * sending QUIT again. */
int rg_smtp_send_quit(struct rg_smtp *s);
/* The wait for QUIT's 221 (default 5 s, never longer than a reply's): a
 * tarpit may sleep before it. */
void rg_smtp_set_quit_wait(struct rg_smtp *s, double seconds);
/* Where the transcript goes from now on (fn NULL: nowhere). */
void rg_smtp_set_transcript(struct rg_smtp *s, rg_transcript_fn fn, void *arg);
/* The wait for one whole reply from now on (a server that tarpits errors
 * is given longer than the default). */
void rg_smtp_set_read_timeout(struct rg_smtp *s, double seconds);

#endif

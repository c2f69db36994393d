/*
 * smtp_impl.h - what the parts of the SMTP client share and nobody else
 * sees: the connection itself (smtp.c talks, smtp_info.c answers what a
 * report asks of it) and the connection pacing of smtp_rate.c
 * (rg_smtp_set_connect_rate() in audit/smtp.h sets the rate). It includes
 * no header of the module, so the parts only look at it: include
 * audit/smtp.h first.
 */
#ifndef RELAYGUARD_SMTP_IMPL_H
#define RELAYGUARD_SMTP_IMPL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

struct rg_smtp {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	char *host;
	enum rg_smtp_status status;
	char error[256];
	char peer[INET6_ADDRSTRLEN];
	int family;
	struct rg_smtp_opts opts;
	char in[RG_REPLY_LINE_MAX + 2];
	size_t inlen;
	char tls_info[512];
	bool quit_sent;
	double quit_wait;	/* for QUIT's 221 at most (0: 5 s) */
};

/* Wait for this connection's slot; -1 when it lies past the deadline. */
int rg_smtp__rate_wait(double deadline);

#endif

/*
 * smtp_rate.h - the connection pacing of smtp_rate.c, for smtp.c only
 * (rg_smtp_set_connect_rate() in relayguard/smtp.h sets the rate).
 */
#ifndef RELAYGUARD_SMTP_RATE_H
#define RELAYGUARD_SMTP_RATE_H

/* Wait for this connection's slot; -1 when it lies past the deadline. */
int rg_smtp__rate_wait(double deadline);

#endif

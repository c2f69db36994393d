/*
 * smtp_impl.h - what the parts of the SMTP client share and nobody else
 * sees: the connection pacing of smtp_rate.c, for smtp.c
 * (rg_smtp_set_connect_rate() in audit/smtp.h sets the rate). It includes
 * no header of the module, so the parts only look at it.
 */
#ifndef RELAYGUARD_SMTP_IMPL_H
#define RELAYGUARD_SMTP_IMPL_H

/* Wait for this connection's slot; -1 when it lies past the deadline. */
int rg_smtp__rate_wait(double deadline);

#endif

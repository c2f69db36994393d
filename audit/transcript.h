/*
 * transcript.h - each target's SMTP transcript, bounded: the first
 * AUDIT_TX_HEAD_BYTES and the last AUDIT_TX_TAIL_BYTES are kept, the
 * middle gives way to one line saying how much is gone (audit.h).
 *
 * Apart from connect.c, whose connections write to it, so that polite.c
 * and probe.c record events without including the connection pool.
 */
#ifndef RELAYGUARD_AUDIT_TRANSCRIPT_H
#define RELAYGUARD_AUDIT_TRANSCRIPT_H

#include "audit.h"

#include <sys/time.h>

/* The transcript sink every connection of t (arg) writes to. */
void tx_record(void *arg, const struct timeval *when, enum rg_transcript_dir dir,
    const char *text);

#endif

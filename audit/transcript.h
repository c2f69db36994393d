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

/* One line of t's transcript; tag: the connection it belongs to (its
 * session and local port), NULL for the target's own events. */
void tx_add(struct audit_target *t, const struct tx_tag *tag,
    const struct timeval *when, enum rg_transcript_dir dir, const char *text);
/* The transcript sink for the target's own events (arg: t). */
void tx_record(void *arg, const struct timeval *when, enum rg_transcript_dir dir,
    const char *text);

/* A new tag for one connection of t (its session and local port are set
 * once known); freed with t's transcript. */
struct tx_tag *tx_tag_new(struct audit_target *t);
/* The transcript sink of one connection (arg: its tag). */
void tx_record_tagged(void *arg, const struct timeval *when,
    enum rg_transcript_dir dir, const char *text);

#endif

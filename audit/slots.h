/*
 * slots.h - the run's cap on SMTP sessions at once over all targets
 * (--max-sessions; slots.c). Private to connect.c.
 *
 * -j bounds the targets in progress; this bounds the sockets. A shared
 * backend (many MX names, one cluster of ~100 smtpd processes) is never
 * handed thousands of connections at once: the excess would wait in its
 * listen queue until their greetings time out. A slot is taken before a
 * connect and given back when the connection is closed (after the 221 of a
 * polite close); waiters are served first come, first served, targets in
 * progress before targets not yet started.
 */
#ifndef RELAYGUARD_AUDIT_SLOTS_H
#define RELAYGUARD_AUDIT_SLOTS_H

#include <stdbool.h>

/* The cap: n sessions at once, 0 none. Set before the first slot is taken. */
void session_slots_set(int n);
/* Take a slot, waiting in turn until deadline (0: as long as it takes);
 * false when the deadline came first. newcomer: the first session of a
 * target, served after every target in progress. */
bool session_slot_take(double deadline, bool newcomer);
/* Take a slot only if one is free now and nobody waits for one. */
bool session_slot_try(void);
/* Give a slot back: to the first waiter, else to the pool. */
void session_slot_give(void);

#endif

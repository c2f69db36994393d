/*
 * countertab.h - one bounded, hashed table of counters keyed by short
 * strings: the storage under the per-client relay-attempt counter
 * (eventlog.h) and the bounce-storm windows (bounce_window.h).
 *
 * A struct ct_table has a fixed number of slots, allocated once by
 * ct_new(): however many distinct keys an attacker invents, its memory
 * stays ct_bytes(). Each slot holds a key (truncated to key_max - 1
 * bytes), a caller-defined value of value_size bytes (zeroed when the key
 * enters), a weight and the time the key was last touched.
 *
 * Lookup is O(1) expected: an open-addressing index (linear probing, at
 * most half full, backward-shift deletion) over a keyed hash (SipHash-2-4
 * with a per-table random key, so remote peers cannot aim collisions at
 * one probe chain).
 *
 * Eviction policy: Space-Saving (Metwally et al. 2005). When the table is
 * full, a new key replaces the key with the smallest weight, ties broken
 * by the least recently touched; ct_get() returns that weight in
 * *inherited so that the caller can carry it as the newcomer's possible
 * error. With weight = exact count + inherited error, a key whose exact
 * count exceeds (sum of the counts) / capacity is never evicted: heavy
 * hitters stay and keep their exact counts, random keys replace each
 * other. A binary min-heap over the weights finds the victim in O(1) and
 * restores order in O(log n) when a weight changes.
 *
 * Weights are set by the caller (ct_set_weight); weights that decay with
 * time (sliding windows) are recomputed by ct_reweigh() in O(n).
 *
 * Slots are numbered 0 .. ct_used() - 1; a slot number stays valid until
 * the next ct_get() or ct_clear(). Not thread-safe: callers serialise.
 */
#ifndef RELAYGUARD_COUNTERTAB_H
#define RELAYGUARD_COUNTERTAB_H

#include <stdbool.h>
#include <stddef.h>

#define CT_NONE ((size_t)-1)

struct ct_table;

/* capacity >= 1 (at most 2^30) slots, keys of key_max - 1 bytes (>= 2). */
struct ct_table *ct_new(size_t capacity, size_t key_max, size_t value_size);
void ct_free(struct ct_table *t);

/* The slot holding key, or CT_NONE. */
size_t ct_find(const struct ct_table *t, const char *key);
/*
 * The slot of key, which is entered when missing (*fresh = true, value
 * zeroed, weight = *inherited); when the table is full, the slot with the
 * smallest weight is evicted first and its weight is *inherited (else 0).
 * Marks the key touched at now.
 */
size_t ct_get(struct ct_table *t, const char *key, double now,
    unsigned long *inherited, bool *fresh);

const char *ct_key(const struct ct_table *t, size_t slot);
void *ct_value(struct ct_table *t, size_t slot);
unsigned long ct_weight(const struct ct_table *t, size_t slot);
void ct_set_weight(struct ct_table *t, size_t slot, unsigned long w);
double ct_last_seen(const struct ct_table *t, size_t slot);
/* Set every slot's weight to fn(key, value, ctx); O(n). */
void ct_reweigh(struct ct_table *t,
    unsigned long (*fn)(const char *key, void *value, void *ctx), void *ctx);

void ct_clear(struct ct_table *t);		/* forget every key */
size_t ct_used(const struct ct_table *t);
size_t ct_capacity(const struct ct_table *t);
size_t ct_bytes(const struct ct_table *t);	/* fixed at creation */
unsigned long ct_evictions(const struct ct_table *t);

#endif

/*
 * countertab.h - one bounded, hashed table of counters keyed by short
 * strings: the storage under the per-client relay-attempt counter
 * (eventlog.h) and the bounce-storm windows (bounce_window.h).
 *
 * A struct rg_ct_table has a fixed number of slots, allocated once by
 * rg_ct_new(): however many distinct keys an attacker invents, its memory
 * stays rg_ct_bytes(). Each slot holds a key (truncated to key_max - 1
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
 * by the least recently touched; rg_ct_get() returns that weight in
 * *inherited so that the caller can carry it as the newcomer's possible
 * error. With weight = exact count + inherited error, a key whose exact
 * count exceeds (sum of the counts) / capacity is never evicted: heavy
 * hitters stay and keep their exact counts, random keys replace each
 * other. A binary min-heap over the weights finds the victim in O(1) and
 * restores order in O(log n) when a weight changes.
 *
 * Weights are set by the caller (rg_ct_set_weight); weights that decay with
 * time (sliding windows) are recomputed by rg_ct_reweigh() in O(n).
 *
 * Slots are numbered 0 .. rg_ct_used() - 1; a slot number stays valid until
 * the next rg_ct_get() or rg_ct_clear(). Not thread-safe: callers serialise.
 */
#ifndef RELAYGUARD_COUNTERTAB_H
#define RELAYGUARD_COUNTERTAB_H

#include <stdbool.h>
#include <stddef.h>

#define CT_NONE ((size_t)-1)

struct rg_ct_table;

/* capacity >= 1 (at most 2^30) slots, keys of key_max - 1 bytes (>= 2). */
struct rg_ct_table *rg_ct_new(size_t capacity, size_t key_max, size_t value_size);
void rg_ct_free(struct rg_ct_table *t);

/* The slot holding key, or CT_NONE. */
size_t rg_ct_find(const struct rg_ct_table *t, const char *key);
/*
 * The slot of key, which is entered when missing (*fresh = true, value
 * zeroed, weight = *inherited); when the table is full, the slot with the
 * smallest weight is evicted first and its weight is *inherited (else 0).
 * Marks the key touched at now.
 */
size_t rg_ct_get(struct rg_ct_table *t, const char *key, double now,
    unsigned long *inherited, bool *fresh);

const char *rg_ct_key(const struct rg_ct_table *t, size_t slot);
void *rg_ct_value(struct rg_ct_table *t, size_t slot);
unsigned long rg_ct_weight(const struct rg_ct_table *t, size_t slot);
void rg_ct_set_weight(struct rg_ct_table *t, size_t slot, unsigned long w);
double rg_ct_last_seen(const struct rg_ct_table *t, size_t slot);
/* Set every slot's weight to fn(key, value, ctx); O(n). */
void rg_ct_reweigh(struct rg_ct_table *t,
    unsigned long (*fn)(const char *key, void *value, void *ctx), void *ctx);

void rg_ct_clear(struct rg_ct_table *t);		/* forget every key */
size_t rg_ct_used(const struct rg_ct_table *t);
size_t rg_ct_capacity(const struct rg_ct_table *t);
size_t rg_ct_bytes(const struct rg_ct_table *t);	/* fixed at creation */
unsigned long rg_ct_evictions(const struct rg_ct_table *t);

#endif

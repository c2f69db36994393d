/*
 * bounce_window.h - sliding-window counts of the heaviest keys, in bounded
 * memory: the counting engine of the bounce-storm sensor (bounce.h).
 *
 * A struct bw_table counts events per key (a recipient, a client address,
 * a domain...) over the last `window` seconds. Each key holds a ring of
 * BW_BUCKETS time buckets (window / BW_BUCKETS seconds each, 5 s for a
 * 300 s window); a key's count is the sum of its buckets that are still
 * inside the window, kept as a running total and brought up to date
 * lazily when the key is touched. A separate struct bw_ring does the same
 * for one unnamed counter (the total).
 *
 * The table has a fixed number of slots, allocated once: however many
 * distinct keys an attacker invents, the memory stays bw_table_bytes().
 * When it is full a new key replaces the key with the smallest estimated
 * count (Space-Saving, Metwally et al. 2005): the newcomer inherits that
 * count as its possible error, so its estimate never understates it, and
 * a key whose count in the window exceeds (events in the window) / capacity
 * cannot be evicted - a real heavy hitter stays and keeps its exact count.
 * Ties are broken by evicting the least recently seen key.
 *
 * bw_table_add() returns the key's exact count since it entered the table
 * (a lower bound of its true count); bw_top() reports the heaviest keys
 * with that count and the error bound. Thresholds should be compared with
 * the exact count, which random keys cannot inflate.
 *
 * Times are seconds on any monotonic clock (rg_now()). Not thread-safe:
 * bounce.h serialises every table of a sensor under one mutex.
 */
#ifndef RELAYGUARD_BOUNCE_WINDOW_H
#define RELAYGUARD_BOUNCE_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#define BW_BUCKETS	60
#define BW_KEY_MAX	160	/* longer keys are truncated */

struct bw_ring {
	uint32_t bucket[BW_BUCKETS];
	int64_t epoch;		/* bucket number of the newest bucket */
	unsigned long total;	/* sum of bucket[] */
};

struct bw_top {
	char key[BW_KEY_MAX];
	unsigned long count;	/* exact count since the key entered */
	unsigned long error;	/* the true count may be up to this higher */
};

struct bw_table;

/* capacity >= 1 keys, window >= 1 s. */
struct bw_table *bw_table_new(size_t capacity, double window);
void bw_table_free(struct bw_table *t);
/* n more events for key at time now; returns the key's count in the window. */
unsigned long bw_table_add(struct bw_table *t, const char *key, double now,
    unsigned long n);
/* Count of key in the window (0 when not in the table). */
unsigned long bw_table_count(struct bw_table *t, const char *key, double now);
/* The n heaviest keys with a count > 0, heaviest first; returns how many. */
size_t bw_table_top(struct bw_table *t, double now, struct bw_top *out,
    size_t n);
size_t bw_table_used(const struct bw_table *t);	/* keys held now */
size_t bw_table_capacity(const struct bw_table *t);
size_t bw_table_bytes(const struct bw_table *t);	/* fixed at creation */
unsigned long bw_table_evictions(const struct bw_table *t);

/* One counter: add n at now, or read it (window as for the tables). */
unsigned long bw_ring_add(struct bw_ring *r, double window, double now,
    unsigned long n);
unsigned long bw_ring_count(struct bw_ring *r, double window, double now);

#endif

/*
 * clients.h - relay attempts per client address (the milter's summaries).
 *
 * struct rg_client_counter counts relay attempts per client address in a
 * bounded table (ClientTableSize, a countertab.h table): when it is full a
 * new client replaces the one with the fewest attempts (Space-Saving), so
 * a client with more than (attempts in the window) / ClientTableSize
 * attempts is never evicted and its count stays exact, however many
 * addresses an attacker cycles through. rg_client_counter_summary() reports every client with
 * attempts since the last summary and starts a new window:
 *	"203.0.113.5: 57 relay attempts in 10 min"
 * All functions are thread-safe.
 */
#ifndef RELAYGUARD_MILTER_CLIENTS_H
#define RELAYGUARD_MILTER_CLIENTS_H

#include <stddef.h>

struct rg_client_counter;

struct rg_client_counter *rg_client_counter_new(size_t capacity, double now);
void rg_client_counter_free(struct rg_client_counter *c);
/* One more attempt by addr at time now (seconds, any monotonic clock);
 * returns its count in the current window. */
unsigned long rg_client_counter_add(struct rg_client_counter *c,
    const char *addr, double now);
unsigned long rg_client_counter_get(struct rg_client_counter *c,
    const char *addr);
size_t rg_client_counter_size(struct rg_client_counter *c);
unsigned long rg_client_counter_evictions(struct rg_client_counter *c);

typedef void (*rg_summary_fn)(const char *addr, unsigned long count,
    double window, void *ctx);
/* Call fn for each client with attempts in the window that ends now (most
 * attempts first), then reset the counts. Returns how many were reported. */
size_t rg_client_counter_summary(struct rg_client_counter *c, double now,
    rg_summary_fn fn, void *ctx);
/* "203.0.113.5: 57 relay attempts in 10 min" */
char *rg_summary_line(const char *addr, unsigned long count, double window,
    char *buf, size_t len);

#endif

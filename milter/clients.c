/*
 * clients.c - relay attempts per client address, in a bounded countertab
 * table (Space-Saving); see clients.h. The milter's own: the EventLog
 * writer in lib/mail/eventlog.c, which the reporter links too, knows
 * nothing of it.
 */
#include "clients.h"
#include "lib/base/countertab.h"
#include "lib/base/util.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLIENT_ADDR_MAX	64

/* Weight in the countertab: count + error (Space-Saving estimate). */
struct client_count {
	unsigned long count;	/* exact, since the client entered the table */
	unsigned long error;	/* inherited from the client it replaced */
};

struct rg_client_counter {
	pthread_mutex_t lock;
	struct rg_ct_table *ct;
	double window_start;
};

struct rg_client_counter *rg_client_counter_new(size_t capacity, double now)
{
	struct rg_client_counter *c = xcalloc(1, sizeof(*c));

	pthread_mutex_init(&c->lock, NULL);
	c->ct = rg_ct_new(capacity > 0 ? capacity : 1, CLIENT_ADDR_MAX,
	    sizeof(struct client_count));
	c->window_start = now;
	return c;
}

void rg_client_counter_free(struct rg_client_counter *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->lock);
	rg_ct_free(c->ct);
	free(c);
}

unsigned long rg_client_counter_add(struct rg_client_counter *c,
    const char *addr, double now)
{
	struct client_count *v;
	unsigned long count, inherited;
	size_t slot;
	bool fresh;

	if (addr == NULL)
		addr = "local";
	pthread_mutex_lock(&c->lock);
	slot = rg_ct_get(c->ct, addr, now, &inherited, &fresh);
	v = rg_ct_value(c->ct, slot);
	if (fresh)
		v->error = inherited;
	count = ++v->count;
	rg_ct_set_weight(c->ct, slot, v->count + v->error);
	pthread_mutex_unlock(&c->lock);
	return count;
}

unsigned long rg_client_counter_get(struct rg_client_counter *c,
    const char *addr)
{
	unsigned long count = 0;
	size_t slot;

	pthread_mutex_lock(&c->lock);
	if ((slot = rg_ct_find(c->ct, addr)) != CT_NONE)
		count = ((struct client_count *)rg_ct_value(c->ct, slot))->count;
	pthread_mutex_unlock(&c->lock);
	return count;
}

size_t rg_client_counter_size(struct rg_client_counter *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = rg_ct_used(c->ct);
	pthread_mutex_unlock(&c->lock);
	return n;
}

unsigned long rg_client_counter_evictions(struct rg_client_counter *c)
{
	unsigned long n;

	pthread_mutex_lock(&c->lock);
	n = rg_ct_evictions(c->ct);
	pthread_mutex_unlock(&c->lock);
	return n;
}

struct client_row {
	char addr[CLIENT_ADDR_MAX];
	unsigned long count;
};

static int by_count_desc(const void *a, const void *b)
{
	const struct client_row *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->addr, y->addr);
}

size_t rg_client_counter_summary(struct rg_client_counter *c, double now,
    rg_summary_fn fn, void *ctx)
{
	struct client_row *copy;
	size_t n, i;
	double window;

	/* Copy and reset under the lock; report without it. */
	pthread_mutex_lock(&c->lock);
	n = rg_ct_used(c->ct);
	copy = xcalloc(n ? n : 1, sizeof(*copy));
	for (i = 0; i < n; i++) {
		strlcpy_rg(copy[i].addr, rg_ct_key(c->ct, i), sizeof(copy[i].addr));
		copy[i].count = ((struct client_count *)rg_ct_value(c->ct, i))->count;
	}
	rg_ct_clear(c->ct);
	window = now - c->window_start;
	c->window_start = now;
	pthread_mutex_unlock(&c->lock);

	qsort(copy, n, sizeof(*copy), by_count_desc);
	for (i = 0; i < n && copy[i].count > 0; i++)
		fn(copy[i].addr, copy[i].count, window, ctx);
	free(copy);
	return i;
}

char *rg_summary_line(const char *addr, unsigned long count, double window,
    char *buf, size_t len)
{
	long secs = (long)(window + 0.5);
	const char *what = count == 1 ? "relay attempt" : "relay attempts";

	if (secs >= 120)
		snprintf(buf, len, "%s: %lu %s in %ld min", addr, count, what,
		    (secs + 30) / 60);
	else
		snprintf(buf, len, "%s: %lu %s in %ld s", addr, count, what, secs);
	return buf;
}

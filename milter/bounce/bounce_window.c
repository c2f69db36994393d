/*
 * bounce_window.c - Space-Saving heavy-hitter table with per-key sliding
 * windows; see bounce_window.h.
 *
 * The keys live in a countertab (countertab.h): hashed lookup, and a
 * min-heap of the keys' estimated counts that names the key to evict. A
 * key's estimate only changes when it is touched, except that old buckets
 * leave its window as time passes; so before an eviction in a new bucket
 * every estimate is recomputed (O(n) at most once per bucket width, 5 s
 * for a 300 s window), which keeps the heap exact at bucket granularity,
 * the granularity of the windows themselves.
 */
#include "bounce_window.h"
#include "lib/base/countertab.h"
#include "lib/base/util.h"

#include <stdlib.h>
#include <string.h>

struct bw_slot {
	struct bw_ring ring;
	unsigned long error;	/* inherited on eviction (Space-Saving) */
	double error_until;	/* the inherited counts leave the window then */
};

struct bw_table {
	struct rg_ct_table *ct;
	double window;
	int64_t reweighed;	/* bucket of the last full re-estimate */
};

/* --- one ring ------------------------------------------------------------ */

static int64_t bucket_of(double window, double now)
{
	double width = window / BW_BUCKETS;

	return (int64_t)((now < 0 ? 0 : now) / width);	/* >= 0: truncation is floor */
}

/* Drop the buckets that left the window by now. */
static void ring_advance(struct bw_ring *r, double window, double now)
{
	int64_t cur = bucket_of(window, now), d;

	if (r->total == 0) {
		r->epoch = cur;
		return;
	}
	if (cur <= r->epoch)
		return;
	d = cur - r->epoch;
	if (d >= BW_BUCKETS) {
		memset(r->bucket, 0, sizeof(r->bucket));
		r->total = 0;
	} else {
		for (int64_t i = 1; i <= d; i++) {
			size_t idx = (size_t)((r->epoch + i) % BW_BUCKETS);

			r->total -= r->bucket[idx];
			r->bucket[idx] = 0;
		}
	}
	r->epoch = cur;
}

unsigned long bw_ring_add(struct bw_ring *r, double window, double now,
    unsigned long n)
{
	size_t idx;

	ring_advance(r, window, now);
	idx = (size_t)(r->epoch % BW_BUCKETS);
	if (n > UINT32_MAX - r->bucket[idx])
		n = UINT32_MAX - r->bucket[idx];
	r->bucket[idx] += (uint32_t)n;
	r->total += n;
	return r->total;
}

unsigned long bw_ring_count(struct bw_ring *r, double window, double now)
{
	ring_advance(r, window, now);
	return r->total;
}

/* --- the table ------------------------------------------------------------ */

struct bw_table *bw_table_new(size_t capacity, double window)
{
	struct bw_table *t = xcalloc(1, sizeof(*t));

	t->window = window >= 1 ? window : 1;
	t->ct = rg_ct_new(capacity > 0 ? capacity : 1, BW_KEY_MAX, sizeof(struct bw_slot));
	t->reweighed = -1;
	return t;
}

void bw_table_free(struct bw_table *t)
{
	if (t == NULL)
		return;
	rg_ct_free(t->ct);
	free(t);
}

struct estimate_ctx {
	double window, now;
};

/* Exact count in the window plus the inherited error while it lasts. */
static unsigned long slot_estimate(struct bw_slot *s, double window, double now)
{
	ring_advance(&s->ring, window, now);
	return s->ring.total + (now < s->error_until ? s->error : 0);
}

static unsigned long reestimate(const char *key, void *value, void *ctx)
{
	struct estimate_ctx *e = ctx;

	(void)key;
	return slot_estimate(value, e->window, e->now);
}

unsigned long bw_table_add(struct bw_table *t, const char *key, double now,
    unsigned long n)
{
	struct estimate_ctx e = { t->window, now };
	struct bw_slot *s;
	unsigned long inherited, count;
	size_t slot;
	bool fresh;

	if (key == NULL)
		key = "";
	if (rg_ct_used(t->ct) == rg_ct_capacity(t->ct) &&
	    bucket_of(t->window, now) != t->reweighed &&
	    rg_ct_find(t->ct, key) == CT_NONE) {
		rg_ct_reweigh(t->ct, reestimate, &e);
		t->reweighed = bucket_of(t->window, now);
	}
	slot = rg_ct_get(t->ct, key, now, &inherited, &fresh);
	s = rg_ct_value(t->ct, slot);
	if (fresh) {
		s->error = inherited;
		s->error_until = now + t->window;
	}
	count = bw_ring_add(&s->ring, t->window, now, n);
	rg_ct_set_weight(t->ct, slot, slot_estimate(s, t->window, now));
	return count;
}

unsigned long bw_table_count(struct bw_table *t, const char *key, double now)
{
	size_t slot = rg_ct_find(t->ct, key ? key : "");

	if (slot == CT_NONE)
		return 0;
	return bw_ring_count(&((struct bw_slot *)rg_ct_value(t->ct, slot))->ring,
	    t->window, now);
}

size_t bw_table_top(struct bw_table *t, double now, struct bw_top *out,
    size_t n)
{
	size_t got = 0, j, used = rg_ct_used(t->ct);

	/* Insertion into the short output list: n is small (top 5). */
	for (size_t i = 0; i < used && n > 0; i++) {
		struct bw_slot *s = rg_ct_value(t->ct, i);
		const char *key = rg_ct_key(t->ct, i);
		unsigned long c = bw_ring_count(&s->ring, t->window, now);

		if (c == 0)
			continue;
		if (got == n && c <= out[n - 1].count)
			continue;
		j = got < n ? got++ : n - 1;
		while (j > 0 && (out[j - 1].count < c ||
		    (out[j - 1].count == c && strcmp(out[j - 1].key, key) > 0))) {
			out[j] = out[j - 1];
			j--;
		}
		strlcpy_rg(out[j].key, key, sizeof(out[j].key));
		out[j].count = c;
		out[j].error = now < s->error_until ? s->error : 0;
	}
	return got;
}

size_t bw_table_used(const struct bw_table *t)
{
	return rg_ct_used(t->ct);
}

size_t bw_table_capacity(const struct bw_table *t)
{
	return rg_ct_capacity(t->ct);
}

size_t bw_table_bytes(const struct bw_table *t)
{
	return sizeof(*t) + rg_ct_bytes(t->ct);
}

unsigned long bw_table_evictions(const struct bw_table *t)
{
	return rg_ct_evictions(t->ct);
}

/*
 * bounce_window.c - Space-Saving heavy-hitter table with per-key sliding
 * windows; see bounce_window.h.
 *
 * Lookup is a linear scan comparing 64-bit FNV-1a hashes first: with the
 * default 1024 slots that is about a microsecond, far below what one SMTP
 * message costs, and it needs no second structure to keep in step on
 * eviction.
 */
#include "relayguard/bounce_window.h"
#include "relayguard/util.h"

#include <stdlib.h>
#include <string.h>

struct bw_slot {
	char key[BW_KEY_MAX];
	uint64_t hash;
	struct bw_ring ring;
	unsigned long error;	/* inherited on eviction (Space-Saving) */
	double error_until;	/* the inherited counts leave the window then */
	double last_seen;
	int used;
};

struct bw_table {
	struct bw_slot *slots;
	size_t cap, used;
	double window;
	unsigned long evictions;
};

static uint64_t key_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

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

	t->cap = capacity > 0 ? capacity : 1;
	t->window = window >= 1 ? window : 1;
	t->slots = xcalloc(t->cap, sizeof(*t->slots));
	return t;
}

void bw_table_free(struct bw_table *t)
{
	if (t == NULL)
		return;
	free(t->slots);
	free(t);
}

static unsigned long slot_estimate(struct bw_table *t, struct bw_slot *s,
    double now)
{
	ring_advance(&s->ring, t->window, now);
	return s->ring.total + (now < s->error_until ? s->error : 0);
}

static struct bw_slot *slot_find(struct bw_table *t, const char *key,
    uint64_t h)
{
	for (size_t i = 0; i < t->used; i++)
		if (t->slots[i].hash == h && strcmp(t->slots[i].key, key) == 0)
			return &t->slots[i];
	return NULL;
}

/* A free slot, or the one with the smallest estimate (oldest on ties). */
static struct bw_slot *slot_claim(struct bw_table *t, double now,
    unsigned long *inherited)
{
	struct bw_slot *min = NULL;
	unsigned long min_est = 0, est;

	*inherited = 0;
	if (t->used < t->cap)
		return &t->slots[t->used++];
	for (size_t i = 0; i < t->cap; i++) {
		struct bw_slot *s = &t->slots[i];

		est = slot_estimate(t, s, now);
		if (min == NULL || est < min_est ||
		    (est == min_est && s->last_seen < min->last_seen)) {
			min = s;
			min_est = est;
		}
	}
	*inherited = min_est;
	t->evictions++;
	return min;
}

unsigned long bw_table_add(struct bw_table *t, const char *key, double now,
    unsigned long n)
{
	char k[BW_KEY_MAX];
	struct bw_slot *s;
	unsigned long inherited;
	uint64_t h;

	strlcpy_rg(k, key ? key : "", sizeof(k));
	h = key_hash(k);
	if ((s = slot_find(t, k, h)) == NULL) {
		s = slot_claim(t, now, &inherited);
		memset(s, 0, sizeof(*s));
		memcpy(s->key, k, sizeof(k));
		s->hash = h;
		s->used = 1;
		s->error = inherited;
		s->error_until = now + t->window;
	}
	s->last_seen = now;
	return bw_ring_add(&s->ring, t->window, now, n);
}

unsigned long bw_table_count(struct bw_table *t, const char *key, double now)
{
	char k[BW_KEY_MAX];
	struct bw_slot *s;

	strlcpy_rg(k, key ? key : "", sizeof(k));
	if ((s = slot_find(t, k, key_hash(k))) == NULL)
		return 0;
	return bw_ring_count(&s->ring, t->window, now);
}

size_t bw_table_top(struct bw_table *t, double now, struct bw_top *out,
    size_t n)
{
	size_t got = 0, j;

	/* Insertion into the short output list: n is small (top 5). */
	for (size_t i = 0; i < t->used && n > 0; i++) {
		struct bw_slot *s = &t->slots[i];
		unsigned long c = bw_ring_count(&s->ring, t->window, now);

		if (c == 0)
			continue;
		if (got == n && c <= out[n - 1].count)
			continue;
		j = got < n ? got++ : n - 1;
		while (j > 0 && (out[j - 1].count < c ||
		    (out[j - 1].count == c && strcmp(out[j - 1].key, s->key) > 0))) {
			out[j] = out[j - 1];
			j--;
		}
		memcpy(out[j].key, s->key, sizeof(out[j].key));
		out[j].count = c;
		out[j].error = now < s->error_until ? s->error : 0;
	}
	return got;
}

size_t bw_table_used(const struct bw_table *t)
{
	return t->used;
}

size_t bw_table_capacity(const struct bw_table *t)
{
	return t->cap;
}

size_t bw_table_bytes(const struct bw_table *t)
{
	return sizeof(*t) + t->cap * sizeof(struct bw_slot);
}

unsigned long bw_table_evictions(const struct bw_table *t)
{
	return t->evictions;
}

/*
 * countertab.c - bounded hashed counter table with Space-Saving eviction;
 * see countertab.h.
 *
 * Layout: parallel arrays of cap slots (key bytes, values, weights, last
 * touch, hash, heap position), a min-heap of slot numbers ordered by
 * (weight, last touch, slot), and an index of 2^k >= 2 * cap entries
 * holding slot + 1 (0 = empty) probed linearly from hash & mask.
 */
#include "lib/base/countertab.h"
#include "lib/base/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

struct rg_ct_table {
	size_t cap, used, key_max, value_size;
	size_t mask;			/* index size - 1 */
	char *keys;			/* cap * key_max */
	unsigned char *values;		/* cap * value_size */
	unsigned long *weight;
	double *last;
	uint64_t *hash;
	uint32_t *heap;			/* slot numbers, min first */
	uint32_t *hpos;			/* slot -> heap position */
	uint32_t *index;		/* slot + 1, 0 = empty */
	uint64_t k0, k1;		/* SipHash key */
	unsigned long evictions;
};

/* --- SipHash-2-4 (Aumasson and Bernstein 2012) ---------------------------- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { \
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
	} while (0)

static uint64_t siphash(uint64_t k0, uint64_t k1, const unsigned char *in,
    size_t len)
{
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
	uint64_t m, b = (uint64_t)len << 56;
	size_t i, left = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		m = 0;
		for (int j = 7; j >= 0; j--)
			m = m << 8 | in[i + (size_t)j];
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; j < left; j++)
		b |= (uint64_t)in[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* --- creation ---------------------------------------------------------------- */

struct rg_ct_table *rg_ct_new(size_t capacity, size_t key_max, size_t value_size)
{
	struct rg_ct_table *t = xcalloc(1, sizeof(*t));
	uint64_t seed[2];
	size_t n = 2;

	t->cap = capacity < 1 ? 1 : capacity > (1u << 30) ? (1u << 30) : capacity;
	t->key_max = key_max < 2 ? 2 : key_max;
	t->value_size = value_size;
	while (n < 2 * t->cap)
		n <<= 1;
	t->mask = n - 1;
	t->keys = xcalloc(t->cap, t->key_max);
	t->values = value_size ? xcalloc(t->cap, value_size) : NULL;
	t->weight = xcalloc(t->cap, sizeof(*t->weight));
	t->last = xcalloc(t->cap, sizeof(*t->last));
	t->hash = xcalloc(t->cap, sizeof(*t->hash));
	t->heap = xcalloc(t->cap, sizeof(*t->heap));
	t->hpos = xcalloc(t->cap, sizeof(*t->hpos));
	t->index = xcalloc(n, sizeof(*t->index));
	if (getrandom(seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
		seed[0] = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)t;
		seed[1] = (uint64_t)clock() * 0x9e3779b97f4a7c15ULL;
	}
	t->k0 = seed[0];
	t->k1 = seed[1];
	return t;
}

void rg_ct_free(struct rg_ct_table *t)
{
	if (t == NULL)
		return;
	free(t->keys);
	free(t->values);
	free(t->weight);
	free(t->last);
	free(t->hash);
	free(t->heap);
	free(t->hpos);
	free(t->index);
	free(t);
}

/* --- the min-heap -------------------------------------------------------------- */

static bool before(const struct rg_ct_table *t, uint32_t a, uint32_t b)
{
	if (t->weight[a] != t->weight[b])
		return t->weight[a] < t->weight[b];
	if (t->last[a] != t->last[b])
		return t->last[a] < t->last[b];
	return a < b;
}

static void heap_put(struct rg_ct_table *t, size_t i, uint32_t slot)
{
	t->heap[i] = slot;
	t->hpos[slot] = (uint32_t)i;
}

static void sift_up(struct rg_ct_table *t, size_t i)
{
	uint32_t s = t->heap[i];

	while (i > 0 && before(t, s, t->heap[(i - 1) / 2])) {
		heap_put(t, i, t->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_put(t, i, s);
}

static void sift_down(struct rg_ct_table *t, size_t i)
{
	uint32_t s = t->heap[i];
	size_t c;

	while ((c = 2 * i + 1) < t->used) {
		if (c + 1 < t->used && before(t, t->heap[c + 1], t->heap[c]))
			c++;
		if (!before(t, t->heap[c], s))
			break;
		heap_put(t, i, t->heap[c]);
		i = c;
	}
	heap_put(t, i, s);
}

static void heap_fix(struct rg_ct_table *t, size_t slot)
{
	size_t i = t->hpos[slot];

	sift_up(t, i);
	sift_down(t, t->hpos[slot]);
}

/* --- the index ------------------------------------------------------------------ */

static char *key_at(const struct rg_ct_table *t, size_t slot)
{
	return t->keys + slot * t->key_max;
}

/* Position in the index of key (hash h, length len), or of the empty entry
 * that ends its probe chain. */
static size_t probe(const struct rg_ct_table *t, const char *key, size_t len,
    uint64_t h)
{
	size_t i = (size_t)h & t->mask;
	uint32_t e;

	while ((e = t->index[i]) != 0) {
		if (t->hash[e - 1] == h && strncmp(key_at(t, e - 1), key, len) == 0 &&
		    key_at(t, e - 1)[len] == '\0')
			return i;
		i = (i + 1) & t->mask;
	}
	return i;
}

/* Remove index entry i, shifting later members of its cluster back so that
 * no probe chain is broken (Knuth 6.4, algorithm R). */
static void index_delete(struct rg_ct_table *t, size_t i)
{
	size_t j = i, home;

	t->index[i] = 0;
	for (;;) {
		j = (j + 1) & t->mask;
		if (t->index[j] == 0)
			return;
		home = (size_t)t->hash[t->index[j] - 1] & t->mask;
		/* entry j may move to the hole i unless home lies in (i, j] */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		t->index[i] = t->index[j];
		t->index[j] = 0;
		i = j;
	}
}

static size_t key_len(const struct rg_ct_table *t, const char *key)
{
	return strnlen(key, t->key_max - 1);
}

size_t rg_ct_find(const struct rg_ct_table *t, const char *key)
{
	size_t len = key_len(t, key);
	uint64_t h = siphash(t->k0, t->k1, (const unsigned char *)key, len);
	uint32_t e = t->index[probe(t, key, len, h)];

	return e ? e - 1 : CT_NONE;
}

/* The slot for a new key: a free one, or the heap's minimum, unindexed. */
static size_t claim(struct rg_ct_table *t, unsigned long *inherited)
{
	size_t slot;

	*inherited = 0;
	if (t->used < t->cap) {
		slot = t->used++;
		heap_put(t, slot, (uint32_t)slot);
		return slot;
	}
	slot = t->heap[0];
	*inherited = t->weight[slot];
	index_delete(t, probe(t, key_at(t, slot), strlen(key_at(t, slot)),
	    t->hash[slot]));
	t->evictions++;
	return slot;
}

size_t rg_ct_get(struct rg_ct_table *t, const char *key, double now,
    unsigned long *inherited, bool *fresh)
{
	size_t len = key_len(t, key), i, slot;
	uint64_t h = siphash(t->k0, t->k1, (const unsigned char *)key, len);
	unsigned long inh = 0;

	i = probe(t, key, len, h);
	if (t->index[i] != 0) {
		slot = t->index[i] - 1;
		*fresh = false;
	} else {
		slot = claim(t, &inh);
		memcpy(key_at(t, slot), key, len);
		key_at(t, slot)[len] = '\0';
		if (t->value_size)
			memset(t->values + slot * t->value_size, 0, t->value_size);
		t->hash[slot] = h;
		t->weight[slot] = inh;
		t->index[probe(t, key_at(t, slot), len, h)] = (uint32_t)slot + 1;
		*fresh = true;
	}
	if (inherited != NULL)
		*inherited = inh;
	t->last[slot] = now;
	heap_fix(t, slot);
	return slot;
}

/* --- slots ------------------------------------------------------------------------ */

const char *rg_ct_key(const struct rg_ct_table *t, size_t slot)
{
	return key_at(t, slot);
}

void *rg_ct_value(struct rg_ct_table *t, size_t slot)
{
	return t->value_size ? t->values + slot * t->value_size : NULL;
}

unsigned long rg_ct_weight(const struct rg_ct_table *t, size_t slot)
{
	return t->weight[slot];
}

void rg_ct_set_weight(struct rg_ct_table *t, size_t slot, unsigned long w)
{
	if (t->weight[slot] == w)
		return;
	t->weight[slot] = w;
	heap_fix(t, slot);
}

double rg_ct_last_seen(const struct rg_ct_table *t, size_t slot)
{
	return t->last[slot];
}

void rg_ct_reweigh(struct rg_ct_table *t,
    unsigned long (*fn)(const char *key, void *value, void *ctx), void *ctx)
{
	for (size_t s = 0; s < t->used; s++)
		t->weight[s] = fn(key_at(t, s), rg_ct_value(t, s), ctx);
	for (size_t i = t->used / 2; i-- > 0;)	/* Floyd's heapify */
		sift_down(t, i);
}

void rg_ct_clear(struct rg_ct_table *t)
{
	memset(t->index, 0, (t->mask + 1) * sizeof(*t->index));
	t->used = 0;
}

size_t rg_ct_used(const struct rg_ct_table *t)
{
	return t->used;
}

size_t rg_ct_capacity(const struct rg_ct_table *t)
{
	return t->cap;
}

size_t rg_ct_bytes(const struct rg_ct_table *t)
{
	return sizeof(*t) + t->cap * (t->key_max + t->value_size +
	    sizeof(*t->weight) + sizeof(*t->last) + sizeof(*t->hash) +
	    sizeof(*t->heap) + sizeof(*t->hpos)) +
	    (t->mask + 1) * sizeof(*t->index);
}

unsigned long rg_ct_evictions(const struct rg_ct_table *t)
{
	return t->evictions;
}

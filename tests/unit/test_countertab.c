/*
 * test_countertab.c - the bounded hashed counter table (countertab.h) and
 * the per-client relay-attempt counter built on it (eventlog.h): lookup,
 * truncation, Space-Saving eviction checked against a linear reference
 * model, heavy hitters kept exact under a flood, and re-weighing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/countertab.h"
#include "milter/clients.h"

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* --- lookup -------------------------------------------------------------------- */

static void test_find_get(void **state)
{
	static const struct {
		const char *key;
		const char *stored;	/* after truncation to 7 bytes */
	} rows[] = {
		{ "a", "a" },
		{ "", "" },
		{ "203.0.113.5", "203.0.1" },
		{ "203.0.1", "203.0.1" },	/* the same key once truncated */
		{ "root@x", "root@x" },
	};
	struct rg_ct_table *t = rg_ct_new(8, 8, sizeof(long));
	size_t slot;
	bool fresh;

	(void)state;
	assert_int_equal(rg_ct_used(t), 0);
	assert_int_equal(rg_ct_find(t, "a"), CT_NONE);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		slot = rg_ct_get(t, rows[i].key, (double)i, NULL, &fresh);
		assert_string_equal(rg_ct_key(t, slot), rows[i].stored);
		assert_int_equal(rg_ct_find(t, rows[i].key), slot);
		assert_int_equal(rg_ct_find(t, rows[i].stored), slot);
		*(long *)rg_ct_value(t, slot) += 1;
		assert_true(rg_ct_last_seen(t, slot) == (double)i);
	}
	assert_int_equal(rg_ct_used(t), 4);
	assert_int_equal(*(long *)rg_ct_value(t, rg_ct_find(t, "203.0.1")), 2);
	assert_int_equal(rg_ct_find(t, "203.0.2"), CT_NONE);
	assert_int_equal(rg_ct_evictions(t), 0);
	rg_ct_clear(t);
	assert_int_equal(rg_ct_used(t), 0);
	assert_int_equal(rg_ct_find(t, "a"), CT_NONE);
	slot = rg_ct_get(t, "a", 9, NULL, &fresh);
	assert_true(fresh);
	assert_int_equal(*(long *)rg_ct_value(t, slot), 0);	/* zeroed again */
	rg_ct_free(t);
}

/* --- eviction ------------------------------------------------------------------ */

/*
 * The policy, written as the obvious linear scan: a new key in a full
 * table replaces the slot with the smallest weight, then the least
 * recently touched, then the lowest slot number; weight = count + error.
 */
struct model {
	char key[16][16];
	unsigned long weight[16];
	double last[16];
	size_t used, cap;
	unsigned long evictions;
};

static size_t model_add(struct model *m, const char *key, double now)
{
	size_t s, min = 0;

	for (s = 0; s < m->used; s++)
		if (strcmp(m->key[s], key) == 0)
			break;
	if (s == m->used) {
		unsigned long inh = 0;

		if (m->used < m->cap) {
			s = m->used++;
		} else {
			for (size_t i = 1; i < m->used; i++)
				if (m->weight[i] < m->weight[min] ||
				    (m->weight[i] == m->weight[min] &&
				    m->last[i] < m->last[min]))
					min = i;
			s = min;
			inh = m->weight[s];
			m->evictions++;
		}
		snprintf(m->key[s], sizeof(m->key[s]), "%s", key);
		m->weight[s] = inh;
	}
	m->weight[s]++;
	m->last[s] = now;
	return s;
}

static void test_eviction_matches_model(void **state)
{
	static const struct {
		size_t cap;
		unsigned nkeys;		/* distinct keys drawn from */
		unsigned skew;		/* key 0 drawn one time in skew */
	} rows[] = {
		{ 1, 3, 2 }, { 2, 5, 3 }, { 7, 40, 4 }, { 16, 17, 5 },
		{ 16, 1000, 3 }, { 5, 5, 2 },
	};
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	(void)state;
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct rg_ct_table *t = rg_ct_new(rows[r].cap, 16, 0);
		struct model m = { .cap = rows[r].cap };
		char key[16];
		unsigned long inh;
		bool fresh;

		for (int i = 0; i < 20000; i++) {
			unsigned k = xorshift(&x) % rows[r].skew == 0 ? 0 :
			    (unsigned)(xorshift(&x) % rows[r].nkeys);
			size_t ms, slot;

			snprintf(key, sizeof(key), "k%u", k);
			ms = model_add(&m, key, (double)i);
			slot = rg_ct_get(t, key, (double)i, &inh, &fresh);
			rg_ct_set_weight(t, slot, rg_ct_weight(t, slot) + 1);
			assert_int_equal(slot, ms);
			assert_int_equal(rg_ct_weight(t, slot), m.weight[ms]);
			assert_int_equal(rg_ct_used(t), m.used);
			assert_int_equal(rg_ct_evictions(t), m.evictions);
		}
		/* every key the model holds is found at its slot, no other */
		for (unsigned k = 0; k < rows[r].nkeys && k < 2000; k++) {
			size_t want = CT_NONE;

			snprintf(key, sizeof(key), "k%u", k);
			for (size_t s = 0; s < m.used; s++)
				if (strcmp(m.key[s], key) == 0)
					want = s;
			assert_int_equal(rg_ct_find(t, key), want);
		}
		rg_ct_free(t);
	}
}

/* Equal weights: the least recently touched key goes first. */
static void test_eviction_ties_lru(void **state)
{
	struct rg_ct_table *t = rg_ct_new(3, 16, 0);
	unsigned long inh;
	bool fresh;

	(void)state;
	rg_ct_get(t, "old", 1, &inh, &fresh);
	rg_ct_get(t, "mid", 2, &inh, &fresh);
	rg_ct_get(t, "new", 3, &inh, &fresh);
	rg_ct_get(t, "old", 4, &inh, &fresh);	/* touched: now "mid" is oldest */
	assert_false(fresh);
	rg_ct_get(t, "next", 5, &inh, &fresh);
	assert_true(fresh);
	assert_int_equal(inh, 0);
	assert_int_equal(rg_ct_find(t, "mid"), CT_NONE);
	assert_true(rg_ct_find(t, "old") != CT_NONE);
	assert_true(rg_ct_find(t, "new") != CT_NONE);
	assert_true(rg_ct_find(t, "next") != CT_NONE);
	assert_int_equal(rg_ct_evictions(t), 1);
	rg_ct_free(t);
}

/* A weight that drops (a window sliding) is seen after rg_ct_reweigh(). */
static unsigned long halve(const char *key, void *value, void *ctx)
{
	(void)value;
	(void)ctx;
	return strcmp(key, "big") == 0 ? 0 : 10;
}

static void test_reweigh(void **state)
{
	struct rg_ct_table *t = rg_ct_new(2, 16, 0);
	unsigned long inh;
	bool fresh;

	(void)state;
	rg_ct_set_weight(t, rg_ct_get(t, "big", 1, &inh, &fresh), 100);
	rg_ct_set_weight(t, rg_ct_get(t, "small", 2, &inh, &fresh), 10);
	rg_ct_get(t, "third", 3, &inh, &fresh);
	assert_int_equal(inh, 10);			/* "small" went */
	assert_int_equal(rg_ct_find(t, "small"), CT_NONE);
	rg_ct_reweigh(t, halve, NULL);			/* "big" left the window */
	rg_ct_get(t, "fourth", 4, &inh, &fresh);
	assert_int_equal(inh, 0);
	assert_int_equal(rg_ct_find(t, "big"), CT_NONE);
	assert_true(rg_ct_find(t, "third") != CT_NONE);
	rg_ct_free(t);
}

/* --- the per-client relay-attempt counter ----------------------------------------- */

/*
 * One client makes 1 in 4 of the relay attempts while an attacker cycles
 * through 50,000 source addresses: the table stays at its size, evicts,
 * and keeps the real offender with its exact count at the top of the
 * summary; a client seen once after the flood is still counted.
 */
static int summary_rows;
static char summary_first[64];
static unsigned long summary_first_count;

static void on_summary(const char *addr, unsigned long count, double window,
    void *ctx)
{
	(void)window;
	(void)ctx;
	if (summary_rows++ == 0) {
		snprintf(summary_first, sizeof(summary_first), "%s", addr);
		summary_first_count = count;
	}
}

static void test_client_counter_flood(void **state)
{
	struct rg_client_counter *c = rg_client_counter_new(64, 0);
	unsigned long heavy = 0;
	char addr[64];
	uint64_t x = 88172645463325252ULL;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		if (i % 4 == 0) {
			assert_int_equal(rg_client_counter_add(c, "198.51.100.7",
			    i * 0.001), ++heavy);
			continue;
		}
		xorshift(&x);
		snprintf(addr, sizeof(addr), "10.%u.%u.%u", (unsigned)(x >> 8) & 0xff,
		    (unsigned)(x >> 16) & 0xff, (unsigned)(x >> 24) % 200);
		rg_client_counter_add(c, addr, i * 0.001);
		assert_true(rg_client_counter_size(c) <= 64);
	}
	assert_int_equal(rg_client_counter_size(c), 64);
	assert_true(rg_client_counter_evictions(c) > 100000);
	assert_int_equal(rg_client_counter_get(c, "198.51.100.7"), heavy);
	/* a newcomer in the full table is counted, from 1 */
	assert_int_equal(rg_client_counter_get(c, "192.0.2.1"), 0);
	assert_int_equal(rg_client_counter_add(c, "192.0.2.1", 300), 1);
	assert_int_equal(rg_client_counter_add(c, "192.0.2.1", 301), 2);
	assert_int_equal(rg_client_counter_get(c, "192.0.2.1"), 2);
	summary_rows = 0;
	assert_int_equal(rg_client_counter_summary(c, 600, on_summary, NULL), 64);
	assert_string_equal(summary_first, "198.51.100.7");
	assert_int_equal(summary_first_count, heavy);
	/* the summary starts a new window */
	assert_int_equal(rg_client_counter_size(c), 0);
	assert_int_equal(rg_client_counter_get(c, "198.51.100.7"), 0);
	rg_client_counter_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_get),
		cmocka_unit_test(test_eviction_matches_model),
		cmocka_unit_test(test_eviction_ties_lru),
		cmocka_unit_test(test_reweigh),
		cmocka_unit_test(test_client_counter_flood),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

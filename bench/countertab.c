/*
 * countertab.c - micro-benchmark: the hashed counter table (countertab.h)
 * against the linear scan it replaced (the old per-client counter of
 * eventlog.c: strcmp over every slot, least recently seen evicted by a
 * second full scan), at 1024 and 65536 slots.
 *
 * Workload per table size: the table is filled with distinct client
 * addresses, then each operation counts one attempt for a client that is
 * in the table (9 in 10) or for a new one (1 in 10, an eviction). Prints
 * ns per operation for both and the ratio linear/hashed.
 *
 *	build/bench/countertab [ops-hashed]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/base/countertab.h"
#include "lib/base/log.h"

#define ADDR_MAX 64

/* --- the old linear table, as it was in lib/eventlog.c ---------------------- */

struct lin_slot {
	char addr[ADDR_MAX];
	unsigned long count;
	double last_seen;
};

struct lin {
	struct lin_slot *slots;
	size_t n, cap;
};

static unsigned long lin_add(struct lin *c, const char *addr, double now)
{
	struct lin_slot *s = NULL;
	size_t oldest = 0;

	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->slots[i].addr, addr) == 0) {
			s = &c->slots[i];
			break;
		}
	if (s == NULL) {
		if (c->n < c->cap) {
			s = &c->slots[c->n++];
		} else {
			for (size_t i = 1; i < c->n; i++)
				if (c->slots[i].last_seen < c->slots[oldest].last_seen)
					oldest = i;
			s = &c->slots[oldest];
		}
		memset(s, 0, sizeof(*s));
		snprintf(s->addr, sizeof(s->addr), "%s", addr);
	}
	s->last_seen = now;
	return ++s->count;
}

/* --- the hashed table, used as eventlog.c uses it -------------------------------- */

struct count {
	unsigned long count, error;
};

static unsigned long bench_add(struct rg_ct_table *t, const char *addr, double now)
{
	unsigned long inh;
	bool fresh;
	size_t slot = rg_ct_get(t, addr, now, &inh, &fresh);
	struct count *v = rg_ct_value(t, slot);

	if (fresh)
		v->error = inh;
	v->count++;
	rg_ct_set_weight(t, slot, v->count + v->error);
	return v->count;
}

/* --- workload ----------------------------------------------------------------------- */

static uint64_t rng = 88172645463325252ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void addr_of(uint64_t n, char *buf)
{
	snprintf(buf, ADDR_MAX, "%u.%u.%u.%u", (unsigned)(n >> 24) & 0xff,
	    (unsigned)(n >> 16) & 0xff, (unsigned)(n >> 8) & 0xff,
	    (unsigned)n & 0xff);
}

/* ns per operation; kind 0 = linear, 1 = hashed. */
static double run(int kind, size_t cap, long ops)
{
	struct lin lin = { calloc(cap, sizeof(struct lin_slot)), 0, cap };
	struct rg_ct_table *t = rg_ct_new(cap, ADDR_MAX, sizeof(struct count));
	uint64_t fresh_id = 1u << 31;
	char addr[ADDR_MAX];
	volatile unsigned long sink = 0;
	double t0, t1, clock_ = 0;

	for (size_t i = 0; i < cap; i++) {
		addr_of(i, addr);
		if (kind == 0)
			lin_add(&lin, addr, clock_++);
		else
			bench_add(t, addr, clock_++);
	}
	rng = 88172645463325252ULL;
	t0 = rg_now();
	for (long i = 0; i < ops; i++) {
		uint64_t r = next();

		addr_of(r % 10 == 0 ? fresh_id++ : (r >> 8) % cap, addr);
		sink += kind == 0 ? lin_add(&lin, addr, clock_++) :
		    bench_add(t, addr, clock_++);
	}
	t1 = rg_now();
	(void)sink;
	free(lin.slots);
	rg_ct_free(t);
	return (t1 - t0) * 1e9 / (double)ops;
}

int main(int argc, char **argv)
{
	static const size_t caps[] = { 1024, 65536 };
	long ops = argc > 1 ? atol(argv[1]) : 500000;

	printf("%-8s %14s %14s %10s\n", "slots", "linear ns/op", "hashed ns/op",
	    "ratio");
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		/* the linear scan costs O(slots): fewer operations, same figure */
		long lops = (long)(ops / (long)caps[i] * 64);
		double lin, hash;

		if (lops < 2000)
			lops = 2000;
		lin = run(0, caps[i], lops);
		hash = run(1, caps[i], ops);
		printf("%-8zu %14.1f %14.1f %9.0fx\n", caps[i], lin, hash,
		    lin / hash);
	}
	return 0;
}

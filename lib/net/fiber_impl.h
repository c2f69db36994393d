/*
 * fiber_impl.h - what fiber.c lends fiber_offload.c; nothing else may
 * include it (the public interface is relayguard/fiber.h).
 */
#ifndef RELAYGUARD_FIBER_IMPL_H
#define RELAYGUARD_FIBER_IMPL_H

struct rg_fiber;

/* The fiber running on this thread, or NULL outside any fiber. */
struct rg_fiber *rg_fiber__self(void);

/* Resume f from its rg_fiber__park_offloaded(); any thread may call it. */
void rg_fiber__wake(struct rg_fiber *f);

/* Give the loop back until a pool thread wakes this fiber. The loop then
 * keeps turning although no event is pending: the wake-up will come. */
void rg_fiber__park_offloaded(void);

#endif

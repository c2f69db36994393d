/*
 * fiber.h - cooperative fibers on one libevent loop (the auditor's engine).
 *
 * relayguard-audit runs every target and every session of a target as a
 * fiber: a small stack of its own, one thread, one event_base. A fiber runs
 * the battery as straight-line code (audit/smtp.c, audit/session.c) and gives
 * the loop back only where it would block: rg_fiber_wait_fd() for socket
 * readiness with a deadline, rg_fiber_sleep_until(), rg_fiber_offload() for
 * a call that can only block (getaddrinfo(3), an ldns query), which runs on
 * a small thread pool while the fiber waits. Between those points a fiber
 * is never interrupted, so fibers share data without locks. This is how
 * nmap's NSE runs scripts (Lua coroutines over the nsock event loop).
 *
 * Outside a fiber (the milter's threads, the unit tests) every call falls
 * back to blocking: rg_fiber_wait_fd() polls, rg_fiber_sleep_until() sleeps,
 * rg_fiber_offload() calls the function in place, and rg_fiber_group_wait()
 * runs the loop itself until the group is done. So audit/smtp.c and lib/net/dns.c
 * work unchanged for callers that know nothing of fibers.
 */
#ifndef RELAYGUARD_FIBER_H
#define RELAYGUARD_FIBER_H

#include <stdbool.h>
#include <stddef.h>

/* Fibers that someone waits for: spawn into a group, wait for all of it. */
struct rg_fiber_group {
	size_t running;
	struct rg_fiber *waiter;	/* the fiber in rg_fiber_group_wait() */
};

/* Start fn(arg) as a new fiber in group g (may be NULL: nobody waits for
 * it, but the loop does: rg_fiber_drain() runs it to its end). It first
 * runs on the loop's next turn, never inside this call. */
void rg_fiber_spawn(struct rg_fiber_group *g, void (*fn)(void *), void *arg);

/* Wait until every fiber of g has ended; true. With deadline > 0: false
 * when rg_now() passed it first. In a fiber this yields; outside one it
 * runs the loop. */
bool rg_fiber_group_wait(struct rg_fiber_group *g, double deadline);

/* Run the loop until no fiber is left (closers, detached fibers). */
void rg_fiber_drain(void);

/* Whether the caller runs in a fiber (false in every other thread). */
bool rg_fiber_active(void);

/* Wait until fd is ready for events (POLLIN/POLLOUT) or deadline
 * (rg_now() seconds): 1 ready, 0 timed out, -1 error (errno). */
int rg_fiber_wait_fd(int fd, short events, double deadline);

/* Sleep until rg_now() >= when. */
void rg_fiber_sleep_until(double when);

/* Run fn(arg) where it may block without stopping the loop: on a pool
 * thread while this fiber waits; in place outside a fiber. fn must not
 * touch fiber state. Returns fn's result. */
void *rg_fiber_offload(void *(*fn)(void *), void *arg);

/* getaddrinfo(3): a numeric host at once, a name through rg_fiber_offload(). */
struct addrinfo;
int rg_fiber_getaddrinfo(const char *host, const char *port,
    const struct addrinfo *hints, struct addrinfo **res);

/* A lock held across yields (the target list while a --mx domain resolves). */
struct rg_fiber_lock {
	bool held;
	struct rg_fiber *first, *last;	/* waiting, in order */
};
void rg_fiber_lock(struct rg_fiber_lock *l);
void rg_fiber_unlock(struct rg_fiber_lock *l);

/* Wait for a signal from another fiber (a slot freed, say). */
struct rg_fiber_cond {
	struct rg_fiber *first, *last;	/* waiting, in order */
};
/* Until rg_fiber_cond_broadcast() (true) or deadline > 0 passes (false).
 * Outside a fiber: turns the loop once and returns true (callers loop on
 * their own condition). */
bool rg_fiber_cond_wait(struct rg_fiber_cond *c, double deadline);
void rg_fiber_cond_broadcast(struct rg_fiber_cond *c);

/* What lib/ keeps per thread outside fibers, kept per fiber inside one
 * (fibers share a thread): lib/net/dns.c's deadline, lib/mail/spf.c's flags of the
 * check in progress. NULL outside a fiber. */
struct rg_fiber_tls {
	double dns_deadline;
	bool spf_unsafe, spf_tempfail;
};
struct rg_fiber_tls *rg_fiber_tls(void);

/* Fibers alive now and at most so far, and the bytes of stack each gets. */
size_t rg_fiber_count(void);
size_t rg_fiber_peak(void);
size_t rg_fiber_stack_size(void);

#endif

/*
 * fiber_offload.c - blocking calls run on a small thread pool while the
 * calling fiber waits (rg_fiber_offload, rg_fiber_getaddrinfo); see fiber.h.
 *
 * A job lives on the waiting fiber's stack; a pool thread runs it and
 * wakes the fiber (event_active is thread-safe: evthread_use_pthreads).
 */
#include "lib/net/fiber.h"
#include "fiber_impl.h"

#include <netdb.h>
#include <pthread.h>
#include <stddef.h>

#define POOL_THREADS	8

struct job {
	void *(*fn)(void *);
	void *arg, *res;
	struct rg_fiber *fiber;
	struct job *next;
};

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cond = PTHREAD_COND_INITIALIZER;
static struct job *pool_first, *pool_last;
static int pool_threads;

static void *pool_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct job *j;

		pthread_mutex_lock(&pool_lock);
		while (pool_first == NULL)
			pthread_cond_wait(&pool_cond, &pool_lock);
		j = pool_first;
		pool_first = j->next;
		if (pool_first == NULL)
			pool_last = NULL;
		pthread_mutex_unlock(&pool_lock);
		j->res = j->fn(j->arg);
		rg_fiber__wake(j->fiber);	/* event_active is thread-safe */
	}
	return NULL;
}

void *rg_fiber_offload(void *(*fn)(void *), void *arg)
{
	struct job j = {fn, arg, NULL, rg_fiber__self(), NULL};

	if (j.fiber == NULL)
		return fn(arg);
	pthread_mutex_lock(&pool_lock);
	if (pool_threads < POOL_THREADS) {
		pthread_t th;
		pthread_attr_t attr;

		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&th, &attr, pool_main, NULL) == 0)
			pool_threads++;
		pthread_attr_destroy(&attr);
		if (pool_threads == 0) {
			pthread_mutex_unlock(&pool_lock);
			return fn(arg);	/* no thread at all: block in place */
		}
	}
	if (pool_last)
		pool_last->next = &j;
	else
		pool_first = &j;
	pool_last = &j;
	pthread_cond_signal(&pool_cond);
	pthread_mutex_unlock(&pool_lock);
	rg_fiber__park_offloaded();	/* pool_main() wakes us with the result */
	return j.res;
}

/* getaddrinfo(3) may block on DNS for a name: numbers at once, names off
 * the loop. */
struct gai_call {
	const char *host, *port;
	const struct addrinfo *hints;
	struct addrinfo **res;
	int rc;
};

static void *gai_run(void *arg)
{
	struct gai_call *c = arg;

	c->rc = getaddrinfo(c->host, c->port, c->hints, c->res);
	return NULL;
}

int rg_fiber_getaddrinfo(const char *host, const char *port,
    const struct addrinfo *hints, struct addrinfo **res)
{
	struct addrinfo numeric = *hints;
	struct gai_call c = {host, port, hints, res, 0};

	numeric.ai_flags |= AI_NUMERICHOST;
	if (host != NULL && getaddrinfo(host, port, &numeric, res) == 0)
		return 0;
	rg_fiber_offload(gai_run, &c);
	return c.rc;
}

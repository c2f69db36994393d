/* test_fiber.c - fibers on one libevent loop (fiber.h): order, waits with
 * deadlines, locks, conditions, the thread pool, and the blocking fallbacks
 * outside a fiber. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/net/dns.h"
#include "lib/net/fiber.h"
#include "lib/base/log.h"

static char trace[256];

static void note(char c)
{
	size_t n = strlen(trace);

	if (n + 1 < sizeof(trace)) {
		trace[n] = c;
		trace[n + 1] = '\0';
	}
}

/* --- sleeping fibers interleave by their deadlines, not their start order */
struct sleeper {
	char name;
	double secs;
};

static void sleeper_main(void *arg)
{
	const struct sleeper *s = arg;

	note(s->name);
	rg_fiber_sleep_until(rg_now() + s->secs);
	note((char)(s->name - 'a' + 'A'));
}

static void test_group_and_sleep(void **state)
{
	struct sleeper s[] = {{'a', 0.15}, {'b', 0.05}, {'c', 0.10}};
	struct rg_fiber_group g = {0};
	double t0 = rg_now();

	(void)state;
	trace[0] = '\0';
	for (size_t i = 0; i < 3; i++)
		rg_fiber_spawn(&g, sleeper_main, &s[i]);
	assert_string_equal(trace, "");	/* nothing runs inside spawn */
	assert_true(rg_fiber_group_wait(&g, 0));
	assert_string_equal(trace, "abcBCA");	/* all started, woke by deadline */
	assert_true(rg_now() - t0 >= 0.14);
	assert_true(rg_now() - t0 < 1.0);	/* side by side, not one after another */
	assert_int_equal(rg_fiber_count(), 0);
	assert_false(rg_fiber_active());
}

/* --- a group wait with a deadline returns false while fibers still run */
static void test_group_deadline(void **state)
{
	struct sleeper s = {'x', 0.3};
	struct rg_fiber_group g = {0};

	(void)state;
	trace[0] = '\0';
	rg_fiber_spawn(&g, sleeper_main, &s);
	assert_false(rg_fiber_group_wait(&g, rg_now() + 0.05));
	assert_int_equal(g.running, 1);
	assert_true(rg_fiber_group_wait(&g, 0));
	assert_string_equal(trace, "xX");
}

/* --- fd waits: ready, and timed out at the deadline */
struct fdwait {
	int fd;
	double deadline;
	int got;
	double took;
};

static void fdwait_main(void *arg)
{
	struct fdwait *w = arg;
	double t0 = rg_now();

	assert_true(rg_fiber_active());
	w->got = rg_fiber_wait_fd(w->fd, POLLIN, w->deadline);
	w->took = rg_now() - t0;
}

static void writer_main(void *arg)
{
	int *fd = arg;

	rg_fiber_sleep_until(rg_now() + 0.05);
	assert_int_equal(write(*fd, "x", 1), 1);
}

static void test_wait_fd(void **state)
{
	int sv[2];
	struct rg_fiber_group g = {0};
	struct fdwait ready, late;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ready = (struct fdwait){sv[0], rg_now() + 5, -2, 0};
	rg_fiber_spawn(&g, fdwait_main, &ready);
	rg_fiber_spawn(&g, writer_main, &sv[1]);
	assert_true(rg_fiber_group_wait(&g, 0));
	assert_int_equal(ready.got, 1);
	assert_true(ready.took < 1.0);	/* woken by the data, not the deadline */
	char c;
	assert_int_equal(read(sv[0], &c, 1), 1);
	late = (struct fdwait){sv[0], rg_now() + 0.1, -2, 0};
	rg_fiber_spawn(&g, fdwait_main, &late);
	assert_true(rg_fiber_group_wait(&g, 0));
	assert_int_equal(late.got, 0);	/* nothing came: the deadline */
	assert_true(late.took >= 0.09);
	/* outside a fiber: poll(2) */
	assert_int_equal(rg_fiber_wait_fd(sv[0], POLLIN, rg_now() + 0.05), 0);
	assert_int_equal(write(sv[1], "y", 1), 1);
	assert_int_equal(rg_fiber_wait_fd(sv[0], POLLIN, rg_now() + 1), 1);
	close(sv[0]);
	close(sv[1]);
}

/* --- a lock held across yields is handed over in order */
static struct rg_fiber_lock lock;

static void locker_main(void *arg)
{
	char name = *(const char *)arg;

	rg_fiber_lock(&lock);
	note(name);
	rg_fiber_sleep_until(rg_now() + 0.02);	/* yields while holding it */
	note(name);
	rg_fiber_unlock(&lock);
}

static void test_lock(void **state)
{
	static const char names[] = "pqr";
	struct rg_fiber_group g = {0};

	(void)state;
	trace[0] = '\0';
	for (size_t i = 0; i < 3; i++)
		rg_fiber_spawn(&g, locker_main, (void *)&names[i]);
	assert_true(rg_fiber_group_wait(&g, 0));
	assert_string_equal(trace, "ppqqrr");	/* never interleaved */
	assert_false(lock.held);
}

/* --- conditions: broadcast wakes every waiter; a deadline wakes one alone */
static struct rg_fiber_cond cond;

struct waiter {
	double deadline;
	int result;
};

static void waiter_main(void *arg)
{
	struct waiter *w = arg;

	w->result = rg_fiber_cond_wait(&cond, w->deadline);
}

static void broadcaster_main(void *arg)
{
	(void)arg;
	rg_fiber_sleep_until(rg_now() + 0.1);
	rg_fiber_cond_broadcast(&cond);
}

static void test_cond(void **state)
{
	struct waiter w[3];
	struct rg_fiber_group g = {0};

	(void)state;
	w[0] = (struct waiter){0, -1};
	w[1] = (struct waiter){rg_now() + 5, -1};
	w[2] = (struct waiter){rg_now() + 0.03, -1};	/* gives up first */
	for (size_t i = 0; i < 3; i++)
		rg_fiber_spawn(&g, waiter_main, &w[i]);
	rg_fiber_spawn(&g, broadcaster_main, NULL);
	assert_true(rg_fiber_group_wait(&g, rg_now() + 3));
	assert_int_equal(w[0].result, 1);
	assert_int_equal(w[1].result, 1);
	assert_int_equal(w[2].result, 0);
	assert_null(cond.first);	/* the one that timed out left the list */
}

/* --- offload: the call runs on another thread while other fibers go on */
static void *slow_call(void *arg)
{
	usleep(300000);	/* the ticker needs 60 ms of it */
	*(pthread_t *)arg = pthread_self();
	return arg;
}

struct offloader {
	pthread_t ran_on;
	void *result;
};

static void offloader_main(void *arg)
{
	struct offloader *o = arg;

	o->result = rg_fiber_offload(slow_call, &o->ran_on);
	note('O');
}

static void ticker_main(void *arg)
{
	(void)arg;
	for (int i = 0; i < 3; i++) {
		rg_fiber_sleep_until(rg_now() + 0.02);
		note('t');
	}
}

static void test_offload(void **state)
{
	struct offloader o = {0};
	struct rg_fiber_group g = {0};
	pthread_t inplace = 0;

	(void)state;
	trace[0] = '\0';
	rg_fiber_spawn(&g, offloader_main, &o);
	rg_fiber_spawn(&g, ticker_main, NULL);
	assert_true(rg_fiber_group_wait(&g, 0));
	assert_string_equal(trace, "tttO");	/* the loop ran while it blocked */
	assert_ptr_equal(o.result, &o.ran_on);
	assert_false(pthread_equal(o.ran_on, pthread_self()));
	/* outside a fiber: called in place */
	assert_ptr_equal(rg_fiber_offload(slow_call, &inplace), &inplace);
	assert_true(pthread_equal(inplace, pthread_self()));
}

/* --- many fibers: stacks are reused, the count comes back to zero */
static void nothing_main(void *arg)
{
	int *n = arg;

	rg_fiber_sleep_until(rg_now() + 0.001);
	(*n)++;
}

static void test_many(void **state)
{
	struct rg_fiber_group g = {0};
	int n = 0;

	(void)state;
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 500; i++)
			rg_fiber_spawn(&g, nothing_main, &n);
		assert_true(rg_fiber_group_wait(&g, 0));
	}
	assert_int_equal(n, 1500);
	assert_int_equal(rg_fiber_count(), 0);
	assert_true(rg_fiber_peak() >= 500);
}

/* --- what lib/ keeps per thread is per fiber inside one: a DNS deadline
 * set by one target never cuts another's lookups short */
struct dl_fiber {
	double mine, seen;
};

static void deadline_main(void *arg)
{
	struct dl_fiber *d = arg;

	rg_dns_deadline_set(d->mine);
	rg_fiber_sleep_until(rg_now() + 0.02);	/* the other one runs meanwhile */
	d->seen = rg_dns_deadline_get();
	rg_dns_deadline_set(0);
}

static void test_fiber_tls(void **state)
{
	struct dl_fiber a = {1000.5, -1}, b = {2000.5, -1};
	struct rg_fiber_group g = {0};

	(void)state;
	rg_dns_deadline_set(42);	/* the thread's own, outside fibers */
	rg_fiber_spawn(&g, deadline_main, &a);
	rg_fiber_spawn(&g, deadline_main, &b);
	assert_true(rg_fiber_group_wait(&g, 0));
	assert_true(a.seen == 1000.5);
	assert_true(b.seen == 2000.5);
	assert_true(rg_dns_deadline_get() == 42);
	rg_dns_deadline_set(0);
	assert_null(rg_fiber_tls());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_and_sleep),
		cmocka_unit_test(test_group_deadline),
		cmocka_unit_test(test_wait_fd),
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_cond),
		cmocka_unit_test(test_offload),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_fiber_tls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

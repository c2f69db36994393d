/*
 * test_log_threads.c - the logging state a daemon's reload changes
 * (msg_syslog_open, msg_verbose_config) against threads that log at the
 * same time, as relayguard-milter's signal thread and its workers do. In a
 * plain build this is a smoke test; built with make SANITIZE=thread
 * (build-tsan/) ThreadSanitizer fails it on any data race in log.c - as it
 * did when the reload wrote msg_to_syslog and msg_verbose_level plainly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/base/log.h"

#include <pthread.h>
#include <stdbool.h>
#include <syslog.h>

#define ROUNDS 2000

static int stop;

static void *reloader(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		msg_syslog_open("test_log_threads", LOG_LOCAL7);
		msg_verbose_config(i & 1);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *worker(void *arg)
{
	long *seen = arg;

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		if (msg_verbose_enabled(1))
			(*seen)++;
		msg_verbose("worker %ld", *seen);
	}
	return NULL;
}

static void test_reload_while_logging(void **state)
{
	pthread_t r, w[2];
	long seen[2] = {0, 0};

	(void)state;
	msg_stderr_enable(false);	/* before the threads: keep the output quiet */
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&w[i], NULL, worker, &seen[i]), 0);
	assert_int_equal(pthread_create(&r, NULL, reloader, NULL), 0);
	pthread_join(r, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(w[i], NULL);
	/* the last reload set LogVerbose off: it went back down */
	msg_verbose_config(0);
	assert_false(msg_verbose_enabled(1));
	msg_verbose_config(1);
	assert_true(msg_verbose_enabled(1));
	msg_verbose_config(0);
	assert_false(msg_verbose_enabled(1));
	msg_stderr_enable(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reload_while_logging),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

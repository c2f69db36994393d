/*
 * smtp_rate.c - the auditor's --rate: one process-wide schedule of new
 * connection slots, 1/rate seconds apart, shared by every thread and
 * fiber that opens an SMTP connection (smtp.c asks before connecting).
 */
#include "audit/smtp.h"
#include "lib/net/fiber.h"
#include "lib/base/log.h"
#include "smtp_impl.h"

#include <pthread.h>

static pthread_mutex_t rate_lock = PTHREAD_MUTEX_INITIALIZER;
static double rate_interval, rate_next;

void rg_smtp_set_connect_rate(double per_second)
{
	pthread_mutex_lock(&rate_lock);
	rate_interval = per_second > 0 ? 1.0 / per_second : 0;
	pthread_mutex_unlock(&rate_lock);
}

/* Wait for this connection's slot; -1 when it lies past the deadline. */
int rg_smtp__rate_wait(double deadline)
{
	double slot, now = rg_now();

	pthread_mutex_lock(&rate_lock);
	if (rate_interval <= 0) {
		pthread_mutex_unlock(&rate_lock);
		return 0;
	}
	slot = rate_next > now ? rate_next : now;
	if (deadline > 0 && slot > deadline) {
		pthread_mutex_unlock(&rate_lock);
		return -1;
	}
	rate_next = slot + rate_interval;
	pthread_mutex_unlock(&rate_lock);
	if (slot > now)
		rg_fiber_sleep_until(slot);
	return 0;
}

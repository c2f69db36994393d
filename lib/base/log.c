/* log.c - msg_info/warn/error/fatal and ISO 8601 timestamps; see log.h. */
#include "lib/base/log.h"
#include "lib/base/textclean.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

int msg_verbose_level;
int msg_fatal_status = 1;

/*
 * Read by every thread, written by a daemon's reload: atomics, never plain
 * loads and stores (ThreadSanitizer saw the reload race otherwise).
 * msg_verbose_level is the -v count, written before threads exist.
 */
static const char *msg_progname = "relayguard";
static bool msg_to_syslog;
static bool msg_to_stderr = true;
static bool msg_stderr_quiet;	/* stderr: warnings and worse only */
static int msg_verbose_conf;	/* LogVerbose of the installed config */
static void (*msg_stderr_hook)(void);	/* set before any thread exists */

void msg_init(const char *progname)
{
	const char *slash = strrchr(progname, '/');

	msg_progname = slash ? slash + 1 : progname;
}

void msg_syslog_open(const char *ident, int facility)
{
	openlog(ident, LOG_PID | LOG_NDELAY, facility);
	__atomic_store_n(&msg_to_syslog, true, __ATOMIC_RELEASE);
}

void msg_stderr_enable(bool on)
{
	__atomic_store_n(&msg_to_stderr, on, __ATOMIC_RELEASE);
}

void msg_stderr_errors_only(bool on)
{
	__atomic_store_n(&msg_stderr_quiet, on, __ATOMIC_RELEASE);
}

void msg_stderr_before(void (*fn)(void))
{
	msg_stderr_hook = fn;
}

void msg_verbose_config(int level)
{
	__atomic_store_n(&msg_verbose_conf, level, __ATOMIC_RELAXED);
}

bool msg_verbose_enabled(int level)
{
	return msg_verbose_level +
	    __atomic_load_n(&msg_verbose_conf, __ATOMIC_RELAXED) >= level;
}

/*
 * The last line of defence against forged log lines: whatever a %s brought
 * in (a CR LF from a HELO, a DNS TXT record, an SMTP reply), the line that
 * reaches stderr or syslog is cleaned with the LOG rule (textclean.h): one
 * line of printable ASCII. Callers still clean each untrusted value, which
 * this pass leaves as it is (the LOG rule is idempotent).
 */
static void msg_vlog(int prio, const char *tag, const char *fmt, va_list ap)
{
	char raw[4096], line[4096];	/* an event line fits (eventlog.c caps) */
	int n;

	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	if (n < 0)
		n = 0;
	else if ((size_t)n >= sizeof(raw))
		n = (int)sizeof(raw) - 1;
	rg_clean(RG_SINK_LOG, line, sizeof(line), raw, (size_t)n);
	if (__atomic_load_n(&msg_to_stderr, __ATOMIC_ACQUIRE) &&
	    (prio <= LOG_WARNING ||
	    !__atomic_load_n(&msg_stderr_quiet, __ATOMIC_ACQUIRE))) {
		if (msg_stderr_hook)
			msg_stderr_hook();
		if (tag)
			fprintf(stderr, "%s: %s: %s\n", msg_progname, tag, line);
		else
			fprintf(stderr, "%s: %s\n", msg_progname, line);
	}
	if (__atomic_load_n(&msg_to_syslog, __ATOMIC_ACQUIRE))
		syslog(prio, "%s%s%s", tag ? tag : "", tag ? ": " : "", line);
}

#define MSG_BODY(prio, tag) \
	do { va_list ap; va_start(ap, fmt); msg_vlog(prio, tag, fmt, ap); va_end(ap); } while (0)

void msg_info(const char *fmt, ...) { MSG_BODY(LOG_INFO, NULL); }
void msg_warn(const char *fmt, ...) { MSG_BODY(LOG_WARNING, "warning"); }
void msg_error(const char *fmt, ...) { MSG_BODY(LOG_ERR, "error"); }

void msg_verbose(const char *fmt, ...)
{
	if (msg_verbose_enabled(1))
		MSG_BODY(LOG_DEBUG, "debug");
}

void msg_fatal(const char *fmt, ...)
{
	MSG_BODY(LOG_CRIT, "fatal");
	exit(msg_fatal_status);
}

char *rg_time_iso8601(const struct timeval *tv, char *buf, size_t len)
{
	struct timeval now;
	struct tm tm;
	char base[32], zone[8];

	if (tv == NULL) {
		gettimeofday(&now, NULL);
		tv = &now;
	}
	time_t t = tv->tv_sec;

	localtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm);	/* +0900 */
	snprintf(buf, len, "%s.%03ld%.3s:%.2s", base, (long)(tv->tv_usec / 1000),
	    zone, zone + 3);
	return buf;
}

double rg_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

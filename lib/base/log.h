/*
 * log.h - one diagnostics family for every relayguard program.
 *
 * msg_info(), msg_warn(), msg_error() and msg_fatal() write one line each to
 * stderr (prefixed with the program name) and, once msg_syslog_open() was
 * called, to syslog. msg_verbose() writes only when msg_verbose_enabled(1).
 * msg_fatal() exits with status 1 (or msg_fatal_status when set).
 *
 * rg_time_iso8601() formats a time as ISO 8601 with the local UTC offset,
 * e.g. "2026-11-21T17:35:43.123+09:00": CSIRTs need the time zone.
 */
#ifndef RELAYGUARD_LOG_H
#define RELAYGUARD_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/time.h>

extern int msg_verbose_level;
extern int msg_fatal_status;

void msg_init(const char *progname);
void msg_syslog_open(const char *ident, int facility);
void msg_stderr_enable(bool on);
/* true: only warnings, errors and fatal messages go to stderr (a daemon
 * between its detach and ready: the reason of a failed start). */
void msg_stderr_errors_only(bool on);
/* fn runs before each message written to stderr (NULL: none): a program
 * that keeps a progress line there clears it, so a message gets its own line. */
void msg_stderr_before(void (*fn)(void));
/* The config's verbose level (LogVerbose), set at start and at each reload,
 * also back down; added to the -v count msg_verbose_level, which is set
 * only before threads start. Both atomic, safe from any thread. */
void msg_verbose_config(int level);
bool msg_verbose_enabled(int level);	/* effective level >= level */

void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void msg_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* buf must hold at least RG_TIME_ISO_LEN bytes. */
#define RG_TIME_ISO_LEN 40
char *rg_time_iso8601(const struct timeval *tv, char *buf, size_t len);
double rg_now(void);		/* monotonic seconds */

#endif

/*
 * budget.c - what one session of a target may hold before the server
 * slows down or ends it (connect.h), and what the battery learns about it.
 *
 * Errors: Postfix answers every command with a delay of
 * smtpd_error_sleep_time once a session has made smtpd_soft_error_limit
 * (10) errors - the check runs before each reply, the count goes up after
 * it - so the tenth refusal still comes at once and nothing may be asked
 * after it. A session therefore makes at most --errors-per-session errors,
 * the last of them on a probe run alone and followed by no command at all
 * (no RSET, no NOOP, no QUIT). A server that ends a session with 421 after
 * fewer errors lowers the limit for the rest of the target.
 *
 * Non-mail commands: Exim ends a session after smtp_accept_max_nonmail (10)
 * of them and sendmail after MaxNOOPCommands (20); Postfix counts only
 * RSET, NOOP, VRFY and ETRN, and only after smtpd_junk_command_limit (100).
 * sendmail sleeps before answering its third HELO/EHLO of a session
 * (MAXHELOCOMMANDS); Postfix and Exim count no EHLO beyond the above.
 */
#include "connect.h"
#include "pool.h"

/* Postfix's junk command limit is 100; half of it leaves room for any
 * junk its other sessions from our address could not have made. */
#define POSTFIX_NONMAIL_MAX	50

int session_error_limit(const struct audit_target *t, const struct audit_opts *o)
{
	int n = o->errors_per_session;

	if (t->pool != NULL && t->pool->error_limit > 0 && t->pool->error_limit < n)
		n = t->pool->error_limit;
	return n;
}

void session_lower_error_limit(struct audit_target *t, int errors)
{
	/* ended after `errors` of them: one fewer is what it takes */
	int n = errors > 1 ? errors - 1 : 1;

	if (t->pool != NULL && (t->pool->error_limit == 0 || n < t->pool->error_limit))
		t->pool->error_limit = n;
}

int session_nonmail_limit(const struct audit_target *t)
{
	return t->mta == MTA_POSTFIX ? POSTFIX_NONMAIL_MAX : SESSION_NONMAIL_MAX;
}

int session_hello_limit(const struct audit_target *t)
{
	return t->mta == MTA_POSTFIX || t->mta == MTA_EXIM ? session_nonmail_limit(t) : 2;
}

bool session_may_rehello(const struct audit_target *t)
{
	return t->pool != NULL && !t->pool->no_rehello;
}

void session_no_rehello(struct audit_target *t)
{
	if (t->pool != NULL)
		t->pool->no_rehello = true;
}

bool session_rehello_known(const struct audit_target *t)
{
	/* Postfix and Exim take EHLO at any point of a session, and a name
	 * they took once they take again (their HELO checks are by name) */
	return session_may_rehello(t) && (t->pool->rehello_taken ||
	    t->mta == MTA_POSTFIX || t->mta == MTA_EXIM);
}

void session_rehello_taken(struct audit_target *t)
{
	if (t->pool != NULL)
		t->pool->rehello_taken = true;
}

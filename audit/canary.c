/*
 * canary.c - relayguard-audit --confirm MAILBOX --confirm-maildir DIR: the
 * opt-in confirmation canary, for an operator who owns MAILBOX.
 *
 * By default the auditor never completes a message. With --confirm, after
 * the battery, exactly one message per target is sent: the first accepted
 * relay probe is replayed on a fresh session with its recipient pointed at
 * MAILBOX (the probe's recipient local part and domain replaced by the
 * mailbox's, so a routing trick stays that trick), carrying a per-target
 * random token in its Subject, Message-ID and body. The auditor then watches
 * DIR (a Maildir: new/ and cur/) for the token, at most --confirm-wait
 * seconds. What it settles:
 *	delivered                the canary arrived: open_relay is "confirmed"
 *	                         (an accept-all grade becomes open_relay)
 *	refused at DATA / after  the server does not relay after all: a DATA
 *	the final dot            verdict (open_relay from 354) becomes accept_all
 *	accepted, not delivered  within the wait: stays as graded, said so
 *	refused at MAIL/RCPT     the replay was refused this time: said so
 *	unanswered               the message was sent, its end of data got no
 *	                         reply within --budget, and it has not arrived
 * Nothing is sent when no relay probe was accepted.
 *
 * --budget covers the canary too: every wait of its session ends at the
 * target's deadline, the wait for the mailbox as well, and the target's
 * finish time and elapsed_seconds include it. The Maildir is read at least
 * once after the message went out (even when the server's reply is slow
 * or never comes) before anything but "confirmed" is said.
 */
#include "audit.h"
#include "lib/net/fiber.h"
#include "lib/base/i18n.h"
#include "lib/base/log.h"
#include "smtp.h"
#include "lib/base/util.h"

#include <dirent.h>
#include <stdarg.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define TO_LOCAL	"relaytest"	/* audit/trick.c's default {T} */

static const struct audit_probe *first_accepted(const struct audit_target *t)
{
	for (size_t i = 0; i < t->nprobes; i++)
		if (probe_is_relay(&t->probes[i]) && t->probes[i].outcome == OUT_ACCEPTED)
			return &t->probes[i];
	return NULL;
}

/* Replace every occurrence of from by to in s (in place, bounded). */
static void replace(char *s, size_t len, const char *from, const char *to)
{
	char out[1200];
	size_t o = 0, fl = strlen(from), tl = strlen(to);
	const char *p = s;

	if (fl == 0)
		return;
	while (*p && o + 1 < sizeof(out)) {
		if (strncasecmp(p, from, fl) == 0 && o + tl + 1 < sizeof(out)) {
			memcpy(out + o, to, tl);
			o += tl;
			p += fl;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	strlcpy_rg(s, out, len);
}

/* Is the token in a file of dir/sub? */
static bool token_in(const char *dir, const char *sub, const char *token)
{
	char path[4096], buf[65536];
	DIR *d;
	struct dirent *e;
	bool found = false;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if ((d = opendir(path)) == NULL)
		return false;
	while (!found && (e = readdir(d)) != NULL) {
		FILE *f;
		size_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		found = strstr(buf, token) != NULL;
	}
	closedir(d);
	return found;
}

static void settle(struct audit_target *t, const char *state, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void settle(struct audit_target *t, const char *state, const char *fmt, ...)
{
	va_list ap;

	strlcpy_rg(t->canary.state, state, sizeof(t->canary.state));
	va_start(ap, fmt);
	vsnprintf(t->canary.note, sizeof(t->canary.note), fmt, ap);
	va_end(ap);
}

/* One SMTP exchange of the canary; 0 sent and accepted, -1 settled
 * otherwise. *sent: the whole message, final dot included, went out. */
static int send_canary(struct audit_target *t, const struct audit_opts *o,
    const struct audit_probe *p, const char *rcpt, bool *sent)
{
	struct rg_smtp_opts so = RG_SMTP_OPTS_DEFAULT;
	struct rg_smtp *s;
	struct rg_reply r;
	char date[64], from[600];
	time_t now = time(NULL);
	struct tm tm;
	int rc = -1;

	so.connect_timeout = o->connect_timeout;
	so.read_timeout = o->read_timeout;
	so.source_addr = o->source;
	so.implicit_tls = o->implicit_tls;
	so.deadline = t->deadline;	/* --budget covers the canary */
	*sent = false;
	s = rg_smtp_open(t->address[0] ? t->address : t->host, t->port, &so);
	if (rg_smtp_status(s) != RG_SMTP_OK || rg_smtp_read_reply(s, &r) != 0 || r.code != 220) {
		settle(t, "not_sent", "connect: %s", rg_smtp_status(s) != RG_SMTP_OK ?
		    rg_smtp_error(s) : r.text);
		goto out;
	}
#define STEP(stage, ok, ...) do { \
	if (rg_smtp_command(s, &r, __VA_ARGS__) != 0) { \
		settle(t, "not_sent", "%s: %s", stage, rg_smtp_error(s)); goto out; } \
	if (!(ok)) { \
		settle(t, "refused_at_" stage, "%s: %d %s", stage, r.code, r.text); goto out; } \
} while (0)
	STEP("helo", r.code == 250, "EHLO %s", p->spec.helo[0] ? p->spec.helo : o->helo);
	if (t->tls_used && !o->implicit_tls) {
		STEP("starttls", r.code == 220, "STARTTLS");
		if (rg_smtp_start_tls(s) != 0) {
			settle(t, "not_sent", "starttls: %s", rg_smtp_error(s));
			goto out;
		}
		STEP("helo", r.code == 250, "EHLO %s", p->spec.helo[0] ? p->spec.helo : o->helo);
	}
	STEP("mail", r.code / 100 == 2, "MAIL FROM:%s", p->spec.mail_from);
	STEP("rcpt", r.code / 100 == 2, "RCPT TO:%s", rcpt);
	STEP("data", r.code == 354, "DATA");
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	strlcpy_rg(from, p->spec.mail_from, sizeof(from));
	replace(from, sizeof(from), "<", "");
	replace(from, sizeof(from), ">", "");
	if (rg_smtp_send(s, "Date: %s\r\nFrom: <%s>\r\nTo: <%s>\r\n"
	    "Subject: relayguard canary %s\r\nMessage-ID: <%s@relayguard.invalid>\r\n"
	    "X-Relayguard-Canary: %s\r\n\r\n"
	    "This message was relayed by %s port %d (probe %s) for relayguard-audit\r\n"
	    "--confirm: the operator of %s asked for it, to confirm an open relay.\r\n"
	    "Token: %s\r\n.", date, from[0] ? from : "relaytest", o->confirm, t->canary.token,
	    t->canary.token, t->canary.token, t->address[0] ? t->address : t->host, t->port,
	    p->spec.id, o->confirm, t->canary.token) != 0) {
		settle(t, "not_sent", "message: %s", rg_smtp_error(s));
		goto out;
	}
	*sent = true;
	if (rg_smtp_read_reply(s, &r) != 0) {
		settle(t, "unanswered", "the canary (token %s) was sent, but the end of "
		    "data got no reply within --budget (%s); it did not arrive in %s",
		    t->canary.token, rg_smtp_error(s), o->confirm_maildir);
		goto out;
	}
	if (r.code / 100 != 2) {
		settle(t, "refused_at_end_of_data", "end of data: %d %s", r.code, r.text);
		goto out;
	}
	rg_smtp_command(s, &r, "QUIT");
	rc = 0;
#undef STEP
out:
	rg_smtp_close(s, true);
	return rc;
}

static bool mailbox_has(const struct audit_target *t, const struct audit_opts *o)
{
	return token_in(o->confirm_maildir, "new", t->canary.token) ||
	    token_in(o->confirm_maildir, "cur", t->canary.token);
}

/* Watch the Maildir until the token shows or until (confirm-wait after the
 * send, or the budget, whichever is first); it is read at least once. */
static bool watch_maildir(const struct audit_target *t, const struct audit_opts *o)
{
	double until = rg_now() + o->confirm_wait, now;

	if (until > t->deadline)
		until = t->deadline;
	for (;;) {
		if (mailbox_has(t, o))
			return true;
		if ((now = rg_now()) >= until)
			return false;
		rg_fiber_sleep_until(now + 0.2 < until ? now + 0.2 : until);
	}
}

/* The target's times cover the canary (elapsed_seconds, finish). */
static void canary_end(struct audit_target *t, const struct audit_opts *o)
{
	gettimeofday(&t->finish, NULL);
	t->elapsed = rg_now() - (t->deadline - o->budget);
}

static void settled_by_refusal(struct audit_target *t)
{
	if (strcmp(t->canary.state, "refused_at_end_of_data") != 0 &&
	    strcmp(t->canary.state, "refused_at_data") != 0)
		return;
	if (t->verdict == VERDICT_OPEN_RELAY)
		t->verdict = VERDICT_ACCEPT_ALL;
	snprintf(t->verdict_reason + strlen(t->verdict_reason),
	    sizeof(t->verdict_reason) - strlen(t->verdict_reason),
	    "; settled by the canary: %s, so it does not relay", t->canary.note);
}

void audit_canary(struct audit_target *t, const struct audit_opts *o)
{
	const struct audit_probe *p = first_accepted(t);
	const char *at = strrchr(o->confirm, '@');
	char rcpt[600], local[256];
	double start;
	bool delivered = false, sent = false;

	memset(&t->canary, 0, sizeof(t->canary));
	if (p == NULL || at == NULL || t->verdict == VERDICT_UNREACHABLE)
		return;		/* nothing accepted: no message is ever sent */
	t->canary.tried = true;
	strlcpy_rg(t->canary.probe, p->spec.id, sizeof(t->canary.probe));
	rg_random_token(t->canary.token, 24);
	snprintf(local, sizeof(local), "%.*s", (int)(at - o->confirm), o->confirm);
	strlcpy_rg(rcpt, p->spec.rcpt_to, sizeof(rcpt));
	replace(rcpt, sizeof(rcpt), o->domain, at + 1);
	replace(rcpt, sizeof(rcpt), TO_LOCAL, local);
	strlcpy_rg(t->canary.rcpt, rcpt, sizeof(t->canary.rcpt));
	if (rg_now() >= t->deadline) {
		settle(t, "not_sent", "--budget (%.0f s) was used up by the battery",
		    o->budget);
		return;
	}
	start = rg_now();
	if (send_canary(t, o, p, rcpt, &sent) == 0)
		delivered = watch_maildir(t, o);
	else if (sent)		/* refused after the dot, or no reply: one look */
		delivered = mailbox_has(t, o);
	t->canary.seconds = rg_now() - start;
	if (delivered) {
		settle(t, "confirmed", "the canary (token %s) arrived in %s %.1f s after it "
		    "was sent", t->canary.token, o->confirm, t->canary.seconds);
		t->verdict = VERDICT_OPEN_RELAY;
		snprintf(t->verdict_reason + strlen(t->verdict_reason),
		    sizeof(t->verdict_reason) - strlen(t->verdict_reason),
		    "; CONFIRMED: %s", t->canary.note);
	} else if (t->canary.state[0] != '\0') {
		settled_by_refusal(t);
	} else {
		settle(t, "not_delivered", "the server accepted the canary (token %s) but it "
		    "did not arrive in %s within %.1f s (queued, filtered, or a trap)",
		    t->canary.token, o->confirm_maildir, t->canary.seconds);
	}
	canary_end(t, o);
}

json_t *audit_canary_json(const struct audit_target *t)
{
	json_t *o = json_object();

	json_object_set_new(o, "state", json_string(t->canary.state));
	json_object_set_new(o, "probe", json_string(t->canary.probe));
	json_object_set_new(o, "rcpt_to", json_string(t->canary.rcpt));
	json_object_set_new(o, "token", json_string(t->canary.token));
	json_object_set_new(o, "note", json_string(t->canary.note));
	if (t->canary.seconds > 0)
		json_object_set_new(o, "seconds", json_real(t->canary.seconds));
	return o;
}

void audit_canary_text(const struct audit_target *t, FILE *out)
{
	fprintf(out, _("Confirmation canary (probe %s, RCPT TO:%s): %s - %s\n"),
	    t->canary.probe, t->canary.rcpt, t->canary.state, t->canary.note);
}

/* notify_mail.c - the notification e-mail body and the syslog-form log
 * excerpt; see notify.h.
 *
 * The body follows the shape of a report to JPCERT/CC: classification,
 * reporter, source, first/last time with the zone, the clock state, how it
 * was found, what is requested, disclosure conditions, and a bounded log
 * excerpt in syslog form ("Jun 23 12:34:00 host prog[pid]: ...") whose
 * key=value payload starts with the event's ISO 8601 time. Everything
 * passes the disclosure filter (notify_filter.c). */
#include "notify.h"
#include "lib/mail/eventlog.h"
#include "lib/base/i18n.h"
#include "lib/base/log.h"
#include "lib/base/textclean.h"
#include "lib/base/util.h"

#include <stdlib.h>
#include <string.h>

#define LINE_MAX_CHARS	700

const char *notify_request_name(enum notify_request r)
{
	return r == REQ_QUESTION ? "question" : r == REQ_CONTACT ? "contact" : "info";
}

static const char *const standard[] = {"time", "host", "event", "action", "client_addr",
	"client_name", "helo", "sender", "recipient", "auth", "queue_id", "mode",
	"count", "window_seconds", "reason", NULL};

static bool is_standard(const char *k)
{
	for (size_t i = 0; standard[i]; i++)
		if (strcmp(k, standard[i]) == 0)
			return true;
	return false;
}

/* The key=value line the milter wrote to syslog for this event. Its keys
 * and values were cleaned when the log was read (notify_clean_event); the
 * values are cleaned again with the KV rule by rg_event_format_kv(). */
static char *kv_line(json_t *e, char *buf, size_t len)
{
	struct rg_event_field f[24];
	struct rg_event_item items[24][8];
	size_t nf = 0;
	const char *k;
	json_t *v;
#define S(key) (*notify_jstr(e, key) ? notify_jstr(e, key) : NULL)
	struct rg_event ev = {
		.event = S("event"), .action = S("action"), .client_addr = S("client_addr"),
		.client_name = S("client_name"), .helo = S("helo"), .sender = S("sender"),
		.recipient = S("recipient"), .auth_authen = S("auth"),
		.queue_id = S("queue_id"), .mode = S("mode"), .reason = S("reason"),
		.host = S("host"),
		.count = (long)json_integer_value(json_object_get(e, "count")),
		.window = (long)json_integer_value(json_object_get(e, "window_seconds")),
		.fields = f,
	};
#undef S

	json_object_foreach(e, k, v) {
		if (is_standard(k) || nf >= RG_NELEM(f))
			continue;
		f[nf] = (struct rg_event_field){.key = k};
		if (json_is_string(v)) {
			f[nf++].str = json_string_value(v);
		} else if (json_is_integer(v)) {
			f[nf++].num = (long)json_integer_value(v);
		} else if (json_is_array(v)) {
			size_t i, n = 0;
			json_t *item;

			json_array_foreach(v, i, item)
				if (n < RG_NELEM(items[0]))
					items[nf][n++] = (struct rg_event_item){notify_jstr(item, "value"),
					    (unsigned long)json_integer_value(json_object_get(item, "count"))};
			f[nf].items = items[nf];
			f[nf++].nitems = n;
		}
	}
	ev.nfields = nf;
	return rg_event_format_kv(&ev, buf, len);
}

/* One kept event as the milter's syslog line: the disclosure filter works
 * on the event's fields (notify_filter.c), then the line is formatted. */
static char *syslog_line(const struct notify_opts *o, const struct notify_source *s,
    const struct notify_event *n)
{
	char stamp[32], iso[RG_TIME_ISO_LEN], kv[4096], pid[32] = "", host[256];
	struct timeval tv = notify_tv(n->when);
	time_t t = tv.tv_sec;
	struct tm tm;
	char *line;
	json_t *red_ev;

	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);	/* LC_TIME stays "C" */
	if (n->pid > 0)
		snprintf(pid, sizeof(pid), "[%ld]", n->pid);
	red_ev = notify_filter_event(o, s, n->ev);
	kv_line(red_ev, kv, sizeof(kv));
	json_decref(red_ev);
	/* syslog names the host by its short name: the event's, else ours; an
	 * internal one is judged by its full name, before it is shortened, and
	 * withheld with a one-word marker (the column is one token) */
	strlcpy_rg(host, *notify_jstr(n->ev, "host") ? notify_jstr(n->ev, "host") : o->host,
	    sizeof(host));
	if (notify_withheld(o, RG_WITHHOLD_INTERNAL_HOSTS))
		strlcpy_rg(host, notify_filter_host(o, host), sizeof(host));
	else
		host[strcspn(host, ".")] = '\0';
	{
		char chost[256];

		line = xasprintf("%s %s relayguard-milter%s: time=%s %s", stamp,
		    rg_clean_str(RG_SINK_KV, chost, sizeof(chost), host), pid,
		    rg_time_iso8601(&tv, iso, sizeof(iso)), kv);
	}
	if (strlen(line) > LINE_MAX_CHARS) {
		size_t cut = LINE_MAX_CHARS - 4;

		while (cut > 0 && ((unsigned char)line[cut] & 0xc0) == 0x80)
			cut--;		/* never inside a UTF-8 sequence */
		strcpy(line + cut, " ...");
	}
	return line;
}

/* The kept events (notify_source.c: the first and last ones, up to three
 * bounce storms between), with a line for each gap. */
size_t notify_excerpt(const struct notify_opts *o, const struct notify_source *s,
    char ***lines)
{
	const struct notify_event **kept = xcalloc(s->head_max + s->tail_max +
	    NOTIFY_STORMS_KEPT + 1, sizeof(*kept));
	size_t nk = notify_kept(s, kept), n = 0;

	*lines = xcalloc(2 * nk + 1, sizeof(char *));
	for (size_t i = 0; i < nk; i++) {
		if (i > 0 && kept[i]->seq > kept[i - 1]->seq + 1)
			(*lines)[n++] = xasprintf(_("    ... %zu more events ..."),
			    kept[i]->seq - kept[i - 1]->seq - 1);
		(*lines)[n++] = syslog_line(o, s, kept[i]);
	}
	free(kept);
	return n;
}

void notify_excerpt_free(char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

static void put_filtered(const struct notify_opts *o, FILE *out, const char *text)
{
	char *r = notify_filter_text(o, text);

	fputs(r, out);
	free(r);
}

static void when_line(FILE *out, const char *label, double t)
{
	struct timeval tv = notify_tv(t);
	char iso[RG_TIME_ISO_LEN];

	fprintf(out, "   %s %s\n", label, rg_time_iso8601(&tv, iso, sizeof(iso)));
}

/* 1. and 2.: what this is, and who reports it. */
static void mail_reporter(const struct notify_opts *o, const struct notify_source *s,
    FILE *out)
{
	const struct rg_reporter *r = o->reporter;

	fprintf(out, _("Subject: [relayguard] relay attempts from %s\n\n"), s->key);
	fprintf(out, _("To the administrator responsible for %s,\n\n"), s->key);
	fprintf(out, _("We report attempts to relay mail through our mail server without "
	    "permission (open-relay abuse) from the address(es) below.\n\n"));

	fprintf(out, _("1. Classification\n"));
	fprintf(out, _("   Unauthorised relay attempts (spam relaying through a third "
	    "party's mail server)\n\n"));

	fprintf(out, _("2. Reporter\n"));
	fprintf(out, "   %s", rg_reporter_name(r));
	if (r->contact_name && r->organisation)
		fprintf(out, ", %s", r->contact_name);
	fputc('\n', out);
	if (r->email)
		fprintf(out, _("   E-mail: %s\n"), r->email);
	if (r->phone)
		fprintf(out, _("   Telephone: %s\n"), r->phone);
	fprintf(out, _("   Role: %s\n\n"), r->role == RG_ROLE_CSIRT ?
	    _("CSIRT (coordinating)") : _("site (the abused mail server's operator)"));
}

/* 3. and 4.: the source, and when, with the clocks of both hosts. */
static void mail_source_time(const struct notify_opts *o, const struct notify_source *s,
    FILE *out)
{
	char buf[600];

	fprintf(out, _("3. Source\n"));
	for (size_t i = 0; i < s->naddrs; i++)
		fprintf(out, "   %s\n", s->addrs[i]);
	if (s->network[0])
		fprintf(out, _("   (grouped as network %s)\n"), s->network);
	if (s->client_name[0])
		fprintf(out, _("   reverse DNS: %s\n"), s->client_name);
	fputc('\n', out);

	fprintf(out, _("4. Time\n"));
	when_line(out, _("first:"), s->first);
	when_line(out, _("last: "), s->last);
	fprintf(out, "   %s\n", rg_clock_zone_line(&o->clock, buf, sizeof(buf)));
	fprintf(out, _("   Clock of the reporting host now: %s\n"),
	    rg_clock_describe(&o->clock, buf, sizeof(buf)));
	if (o->log_clock && *o->log_clock)
		fprintf(out, _("   Clock of the mail server when the log was recorded: %s\n"),
		    o->log_clock);
	if (o->log_zone && *o->log_zone)
		fprintf(out, _("   Mail server log: %s\n"), o->log_zone);
	fputc('\n', out);
}

/* 5.: the counts, and where they come from. */
static void mail_what(const struct notify_opts *o, const struct notify_source *s,
    FILE *out)
{
	fprintf(out, _("5. What happened and how it was found\n"));
	fprintf(out, _("   relayguard-milter on our mail server recorded %ld relay attempts "
	    "from this source (%ld refused, %ld logged while the server still "
	    "relayed), to %ld recipients in these domains: "), s->relay_attempts,
	    s->relay_refused, s->relay_logged, s->recipients);
	put_filtered(o, out, s->domains[0] ? s->domains : "-");
	fputc('\n', out);
	if (s->sender[0] && !notify_withheld(o, RG_WITHHOLD_SENDERS)) {
		fprintf(out, _("   Most frequent envelope sender: "));
		put_filtered(o, out, s->sender);
		fputc('\n', out);
	}
	if (s->storms > 0)
		fprintf(out, _("   The relayed mail came back as a bounce storm: %ld "
		    "bounce-storm event(s), %ld bounces about mail from this source.\n"),
		    s->storms, s->storm_bounces);
	if (s->other > 0)
		fprintf(out, _("   %ld related events (SPF, DNS blocklist, ...).\n"), s->other);
	/* the event log's path is the analyst's, not evidence: never shown */
	fprintf(out, _("   Source of the evidence: the event log of relayguard-milter "
	    "on our mail server (excerpt in section 8).\n\n"));
}

/* 6.: what we ask of the reader. */
static void mail_request(const struct notify_opts *o, FILE *out)
{
	fprintf(out, _("6. What we request\n"));
	switch (o->request) {
	case REQ_INFO:
		fprintf(out, _("   For your information only; no reply is needed.\n"));
		break;
	case REQ_QUESTION:
		fprintf(out, _("   Please check the host(s) above and tell us what you found "
		    "(e.g. a compromised host or an abused account).\n"));
		break;
	case REQ_CONTACT:
		fprintf(out, _("   Please contact the site(s) responsible for the source and "
		    "have the relaying stopped.\n"));
		break;
	}
	fputc('\n', out);
}

/* 7.: TLP, disclosure of the reporter, and what was withheld. */
static void mail_disclosure(const struct notify_opts *o, FILE *out)
{
	const struct rg_reporter *r = o->reporter;

	fprintf(out, _("7. Disclosure conditions\n"));
	fprintf(out, _("   TLP:%s.\n"), o->tlp);
	fprintf(out, _("   The reporter's identity may be disclosed to the notified "
	    "party: %s.\n"), r->disclosure == RG_DISCLOSE_YES ? _("yes") :
	    r->disclosure == RG_DISCLOSE_NO ? _("no") : _("ask us first"));
	if (r->withhold) {
		fprintf(out, _("   Withheld from this notification:"));
		if (notify_withheld(o, RG_WITHHOLD_RECIPIENTS))
			fprintf(out, " %s", _("recipient addresses;"));
		if (notify_withheld(o, RG_WITHHOLD_SENDERS))
			fprintf(out, " %s", _("sender addresses;"));
		if (notify_withheld(o, RG_WITHHOLD_HELO))
			fprintf(out, " %s", _("HELO names;"));
		if (notify_withheld(o, RG_WITHHOLD_INTERNAL_HOSTS))
			fprintf(out, " %s", _("internal host names;"));
		fputc('\n', out);
	}
	fputc('\n', out);
}

int notify_mail(const struct notify_opts *o, const struct notify_source *s, FILE *out)
{
	char **lines;
	size_t n;

	mail_reporter(o, s, out);
	mail_source_time(o, s, out);
	mail_what(o, s, out);
	mail_request(o, out);
	mail_disclosure(o, out);
	fprintf(out, _("8. Log excerpt (syslog form, times in %s; each line also carries "
	    "its ISO 8601 time)\n"), o->clock.zone_abbr);
	n = notify_excerpt(o, s, &lines);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s\n", lines[i]);
	notify_excerpt_free(lines, n);
	fprintf(out, _("   (%zu events in total from this source)\n\n"), s->nev);
	fprintf(out, "-- \n%s\n", _("relayguard-report notify"));
	return ferror(out) ? -1 : 0;
}

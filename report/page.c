/* page.c - the parts of relayguard-report's HTML page that speak its
 * language; see page.h. The auditor and the milter write English: a reason
 * or an event is given in the page's language from its structured fields,
 * and their own words follow, marked lang="en", as the record. */
#include "notify.h"
#include "page.h"
#include "lib/mail/eventlog.h"
#include "lib/base/i18n.h"
#include "lib/base/log.h"
#include "lib/base/util.h"

#include <string.h>

/* An ISO 8601 time from an input, in the zone the page names (the
 * reporter's TimeZone); as written when it is not one. */
const char *page_time(const char *iso, char *buf, size_t len)
{
	double t = notify_parse_time(iso);
	struct timeval tv;

	if (t < 0 || len < RG_TIME_ISO_LEN)
		return iso;
	tv = notify_tv(t);
	return rg_time_iso8601(&tv, buf, len);
}

static long long jint(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* The reason for a verdict: the auditor writes it in English, so another
 * language gets a sentence of its own from the audit's counts, and the
 * auditor's words follow as its record, marked as English. */
void page_verdict_reason(FILE *out, json_t *a)
{
	if (strcmp(rg_i18n_lang(), "en") == 0) {
		html_escape(out, jget(a, "verdict_reason"));
		return;
	}
	fprintf(out, _("%lld of %lld relay probes accepted, %lld refused."),
	    jint(a, "accepted"), jint(a, "relay_probes"), jint(a, "refused"));
	fprintf(out, "</p><p class=\"small\">%s <span lang=\"en\">",
	    _("The auditor's record (English):"));
	html_escape(out, jget(a, "verdict_reason"));
	fprintf(out, "</span>");
}

/* What an event means, in the page's language; NULL for one not shown. */
static const char *event_text(const char *ev)
{
	static const char *const texts[][2] = {
		{"bounce_storm", N_("bounce storm: bounces piling up")},
		{"bounce_storm_end", N_("bounce storm over")},
		{"bounce_storm_summary", N_("bounce storm summary")},
		{"relay_summary", N_("relay attempts of one client (summary)")},
		{"null_sender_anomaly", N_("many bounces (null sender) from one client")},
		{"spoofing", N_("a sender in our own domains from outside")},
		{"dnsbl_listed", N_("client on a DNS blocklist")},
		{"dnsbl_refused", N_("refused: client on a DNS blocklist")},
		{"relay_refused", N_("relay attempt refused")},
	};

	for (size_t i = 0; i < RG_NELEM(texts); i++)
		if (strcmp(ev, texts[i][0]) == 0)
			return _(texts[i][1]);
	return NULL;
}

/* One event: its time in the page's zone, what it means, the client, and
 * the milter's own words (English, as logged: the record). */
static void event_item(FILE *out, json_t *e, const char *ev, const char *text)
{
	char t[RG_TIME_ISO_LEN];

	fprintf(out, "<li><span class=\"small\">");
	html_escape(out, page_time(jget(e, "time"), t, sizeof(t)));
	fprintf(out, "</span> <b>");
	html_escape(out, text);
	fprintf(out, "</b> <code>");
	html_escape(out, ev);
	fprintf(out, "</code> ");
	html_escape(out, jget(e, "client_addr"));
	fprintf(out, " &ndash; <span lang=\"en\">");
	html_escape(out, jget(e, "reason"));
	fprintf(out, "</span></li>\n");
}

/* The events a reader needs: storms and their summaries, the per-client
 * relay summaries, and the first few refusals; the rest is in the log. */
void page_events(FILE *out, FILE *f)
{
	char line[8192];
	int shown = 0, refusals = 0;
	char evbuf[128];

	if (f == NULL)
		return;
	fprintf(out, "<h2>%s</h2><ul class=\"events\">\n", _("What the milter said"));
	while (fgets(line, sizeof(line), f) && shown < 25) {
		json_error_t err;
		json_t *e = json_loads(line, 0, &err);
		const char *ev, *text;

		if (e == NULL)
			continue;
		/* names before 0.2 used '-' (bounce-storm): read both */
		ev = rg_event_name_canonical(jget(e, "event"), evbuf, sizeof(evbuf));
		text = event_text(ev);
		if (text == NULL && strstr(ev, "storm"))
			text = _("bounce storm");
		if (text == NULL && strncmp(ev, "dnsbl", 5) == 0)
			text = _("client on a DNS blocklist");
		if (text != NULL && (strcmp(ev, "relay_refused") != 0 || refusals++ < 3)) {
			event_item(out, e, ev, text);
			shown++;
		}
		json_decref(e);
	}
	fprintf(out, "</ul>\n");
}

/* notify_events.c - read the milter's event log and group it by source;
 * see notify.h. */
#include "notify.h"
#include "relayguard/eventlog.h"
#include "relayguard/textclean.h"
#include "relayguard/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *notify_jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : "";
}

/* Every string of an event, cleaned again with the JSON rule of
 * textclean.h: the milter writes them clean, but an event log from an older
 * version or edited by hand may carry raw controls, C1 or bidi controls into
 * the mail, X-ARF and IODEF reports. In place; arrays and objects too. */
static void clean_strings(json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_string(j)) {
		char *c = rg_clean_dup(RG_SINK_JSON, json_string_value(j));

		if (strcmp(c, json_string_value(j)) != 0)
			json_string_set(j, c);
		free(c);
	} else if (json_is_object(j)) {
		json_object_foreach(j, key, v)
			clean_strings(v);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			clean_strings(v);
	}
}

/* "2026-06-23T12:34:00.123+09:00" (or Z) -> epoch seconds; -1 if not. */
double notify_parse_time(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0;
	double frac = 0;
	const char *p;
	char sign;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    n != 19)
		return -1;
	p = s + n;
	if (*p == '.') {
		char *end;

		frac = strtod(p, &end);
		p = end;
	}
	if (*p == 'Z' && p[1] == '\0') {
		sign = '+';
	} else if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) == 2 &&
	    p[1 + n] == '\0') {
		sign = *p;
	} else {
		return -1;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 ||
	    oh > 14 || om > 59)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return (double)timegm(&tm) + frac - (sign == '+' ? 1 : -1) * (oh * 3600 + om * 60);
}

struct timeval notify_tv(double t)
{
	time_t sec = (time_t)t;
	long ms = (long)((t - (double)sec) * 1000.0 + 0.5);

	if (ms >= 1000) {
		sec++;
		ms -= 1000;
	}
	return (struct timeval){sec, (suseconds_t)(ms * 1000)};
}

/* addr -> its network of the given prefix ("192.0.2.0/24"); 0 or -1. */
static int network_of(const char *addr, int prefix4, int prefix6, char *out, size_t len)
{
	unsigned char b[16];
	int fam = strchr(addr, ':') ? AF_INET6 : AF_INET;
	int bits = fam == AF_INET ? prefix4 : prefix6, nbytes = fam == AF_INET ? 4 : 16;
	char txt[INET6_ADDRSTRLEN];

	if (inet_pton(fam, addr, b) != 1)
		return -1;
	for (int i = 0; i < nbytes; i++) {
		int keep = bits - i * 8;

		if (keep <= 0)
			b[i] = 0;
		else if (keep < 8)
			b[i] &= (unsigned char)(0xff << (8 - keep));
	}
	inet_ntop(fam, b, txt, sizeof(txt));
	snprintf(out, len, "%s/%d", txt, bits);
	return 0;
}

/* bounce_storm, _summary, _end; logs before 0.2 spelt them with '-'
 * (rg_event_name_canonical). */
static bool is_storm(const char *ev)
{
	char buf[64];

	return strncmp(rg_event_name_canonical(ev, buf, sizeof(buf)),
	    "bounce_storm", 12) == 0;
}

static bool is_storm_start(const char *ev)
{
	char buf[64];

	return strcmp(rg_event_name_canonical(ev, buf, sizeof(buf)),
	    "bounce_storm") == 0;
}

static bool is_ip(const char *a)
{
	unsigned char b[16];

	return inet_pton(strchr(a, ':') ? AF_INET6 : AF_INET, a, b) == 1;
}

static struct notify_source *source_for(struct notify_log *log, const char *addr,
    int prefix4, int prefix6)
{
	char key[64], net[64] = "";
	struct notify_source *s;

	if (prefix4 > 0 || prefix6 > 0) {
		if (network_of(addr, prefix4 > 0 ? prefix4 : 32, prefix6 > 0 ? prefix6 : 128,
		    net, sizeof(net)) != 0)
			return NULL;
		strlcpy_rg(key, net, sizeof(key));
	} else {
		strlcpy_rg(key, addr, sizeof(key));
	}
	for (size_t i = 0; i < log->n; i++)
		if (strcmp(log->src[i].key, key) == 0) {
			s = &log->src[i];
			goto found;
		}
	log->src = xrealloc(log->src, (log->n + 1) * sizeof(*log->src));
	s = &log->src[log->n++];
	memset(s, 0, sizeof(*s));
	strlcpy_rg(s->key, key, sizeof(s->key));
	strlcpy_rg(s->network, net, sizeof(s->network));
	s->first = -1;
found:
	for (size_t i = 0; i < s->naddrs; i++)
		if (strcmp(s->addrs[i], addr) == 0)
			return s;
	if (s->naddrs < RG_NELEM(s->addrs))
		strlcpy_rg(s->addrs[s->naddrs++], addr, sizeof(s->addrs[0]));
	return s;
}

static void add_event(struct notify_source *s, json_t *e, double when, long pid)
{
	if (s->nev == s->capev) {
		s->capev = s->capev ? s->capev * 2 : 64;
		s->ev = xrealloc(s->ev, s->capev * sizeof(*s->ev));
	}
	s->ev[s->nev++] = (struct notify_event){json_incref(e), when, pid};
	if (s->first < 0 || when < s->first) {
		s->first = when;
		strlcpy_rg(s->first_iso, notify_jstr(e, "time"), sizeof(s->first_iso));
	}
	if (when >= s->last) {
		s->last = when;
		strlcpy_rg(s->last_iso, notify_jstr(e, "time"), sizeof(s->last_iso));
	}
}

static void set_add(json_t *set, const char *v)
{
	char bare[600];

	strlcpy_rg(bare, v[0] == '<' ? v + 1 : v, sizeof(bare));
	bare[strcspn(bare, ">")] = '\0';
	if (strlen(bare) >= 3)	/* "<>" and "" reveal nothing */
		json_object_set_new(set, bare, json_true());
}

/* The disclosure filter's needles: every recipient (also of bounce storms),
 * sender and HELO name in the source's events. */
static void collect_needles(struct notify_source *s)
{
	s->recipients_set = json_object();
	s->senders_set = json_object();
	s->helos_set = json_object();
	for (size_t i = 0; i < s->nev; i++) {
		json_t *e = s->ev[i].ev, *item;
		size_t j;

		if (*notify_jstr(e, "recipient"))
			set_add(s->recipients_set, notify_jstr(e, "recipient"));
		json_array_foreach(json_object_get(e, "top_recipients"), j, item)
			set_add(s->recipients_set, notify_jstr(item, "value"));
		if (*notify_jstr(e, "sender"))
			set_add(s->senders_set, notify_jstr(e, "sender"));
		json_array_foreach(json_object_get(e, "original_senders"), j, item)
			set_add(s->senders_set, notify_jstr(item, "value"));
		if (*notify_jstr(e, "helo"))
			set_add(s->helos_set, notify_jstr(e, "helo"));
	}
}

/* Per source: relay counts, port, name, the most frequent sender, the
 * distinct recipients and their domains. */
static void summarise(struct notify_source *s)
{
	json_t *senders = json_object(), *rcpts = json_object(), *doms = json_object();
	const char *k;
	json_t *v;
	long best = 0;
	size_t o = 0;

	for (size_t i = 0; i < s->nev; i++) {
		json_t *e = s->ev[i].ev;
		const char *ev = notify_jstr(e, "event"), *r = notify_jstr(e, "recipient");
		json_t *port = json_object_get(e, "client_port");

		if (strncmp(ev, "relay_", 6) != 0 || strcmp(ev, "relay_summary") == 0 ||
		    strcmp(ev, "relay_authenticated") == 0)
			continue;
		if (json_is_integer(port))
			s->port = (long)json_integer_value(port);
		if (*notify_jstr(e, "client_name") && notify_jstr(e, "client_name")[0] != '[' &&
		    strcmp(notify_jstr(e, "client_name"), "unknown") != 0)
			strlcpy_rg(s->client_name, notify_jstr(e, "client_name"),
			    sizeof(s->client_name));
		if (*notify_jstr(e, "sender")) {
			json_t *c = json_object_get(senders, notify_jstr(e, "sender"));

			json_object_set_new(senders, notify_jstr(e, "sender"),
			    json_integer(c ? json_integer_value(c) + 1 : 1));
		}
		if (*r) {
			const char *at = strrchr(r, '@');
			char dom[256];

			json_object_set_new(rcpts, r, json_true());
			if (at) {
				strlcpy_rg(dom, at + 1, sizeof(dom));
				dom[strcspn(dom, ">")] = '\0';
				/* names and [literals] only: routing tricks make odd "domains" */
				if (dom[0] && strspn(dom, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789.-[]:") == strlen(dom))
					json_object_set_new(doms, dom, json_true());
			}
		}
	}
	json_object_foreach(senders, k, v)
		if (json_integer_value(v) > best) {
			best = (long)json_integer_value(v);
			strlcpy_rg(s->sender, k, sizeof(s->sender));
		}
	s->recipients = (long)json_object_size(rcpts);
	json_object_foreach(doms, k, v) {
		int n = snprintf(s->domains + o, sizeof(s->domains) - o, "%s%s",
		    o ? ", " : "", k);

		if (n < 0 || (size_t)n >= sizeof(s->domains) - o)
			break;
		o += (size_t)n;
	}
	json_decref(senders);
	json_decref(rcpts);
	json_decref(doms);
}

static void count_event(struct notify_source *s, const char *ev, const char *action)
{
	if (strcmp(ev, "relay_summary") == 0 || strcmp(ev, "relay_authenticated") == 0)
		return;
	if (strncmp(ev, "relay_", 6) == 0) {
		s->relay_attempts++;
		if (strcmp(action, "log-only") == 0 || strcmp(ev, "relay_would_refuse") == 0)
			s->relay_logged++;
		else
			s->relay_refused++;
	} else if (!is_storm(ev)) {
		s->other++;
	}
}

int notify_read(const char *path, int prefix4, int prefix6, struct notify_log *log,
    char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long pid = 0;

	memset(log, 0, sizeof(*log));
	if (f == NULL)
		return rg_set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
	while ((len = getline(&line, &cap, f)) >= 0) {
		json_error_t jerr;
		json_t *e, *list;
		const char *ev, *addr;
		double when;

		log->lines++;
		if (len <= 1)
			continue;
		e = json_loads(line, 0, &jerr);
		clean_strings(e);
		if (e == NULL || !json_is_object(e) ||
		    (when = notify_parse_time(notify_jstr(e, "time"))) < 0) {
			log->bad_lines++;	/* a torn or foreign line: skipped, counted */
			json_decref(e);
			continue;
		}
		ev = notify_jstr(e, "event");
		if (strcmp(ev, "milter_start") == 0) {
			json_t *p = json_object_get(e, "pid");

			pid = json_is_integer(p) ? (long)json_integer_value(p) : 0;
			if (!log->milter_clock[0]) {
				/* re-rendered in the report's language from the
				 * recorded state, not copied from its English reason */
				struct rg_clock k = {0};
				const char *state = notify_jstr(e, "clock");

				k.known = strcmp(state, "unknown") != 0 && *state;
				k.synced = strcmp(state, "synchronised") == 0;
				k.esterror_us = (long)json_integer_value(json_object_get(e, "esterror_us"));
				k.maxerror_us = (long)json_integer_value(json_object_get(e, "maxerror_us"));
				snprintf(k.error, sizeof(k.error), "%s", "not recorded");
				strlcpy_rg(k.zone_abbr, notify_jstr(e, "time_zone"), sizeof(k.zone_abbr));
				strlcpy_rg(k.zone_name, notify_jstr(e, "zone_name"), sizeof(k.zone_name));
				strlcpy_rg(k.utc_offset, notify_jstr(e, "utc_offset"), sizeof(k.utc_offset));
				rg_clock_describe(&k, log->milter_clock, sizeof(log->milter_clock));
				rg_clock_zone_line(&k, log->milter_zone, sizeof(log->milter_zone));
			}
		}
		list = json_object_get(e, "original_clients");
		if (is_storm(ev) && json_is_array(list) &&
		    json_array_size(list) > 0) {
			size_t i;
			json_t *item;

			json_array_foreach(list, i, item) {
				struct notify_source *s;

				addr = notify_jstr(item, "value");
				if (!is_ip(addr) || (s = source_for(log, addr, prefix4, prefix6)) == NULL)
					continue;
				add_event(s, e, when, pid);
				if (is_storm_start(ev)) {
					s->storms++;
					s->storm_bounces += (long)json_integer_value(
					    json_object_get(item, "count"));
				}
			}
		} else if (is_ip(addr = notify_jstr(e, "client_addr"))) {
			struct notify_source *s = source_for(log, addr, prefix4, prefix6);

			if (s != NULL) {
				add_event(s, e, when, pid);
				count_event(s, ev, notify_jstr(e, "action"));
			}
		}
		json_decref(e);
	}
	free(line);
	fclose(f);
	for (size_t i = 0; i < log->n; i++) {
		summarise(&log->src[i]);
		collect_needles(&log->src[i]);
	}
	return 0;
}

void notify_log_free(struct notify_log *log)
{
	for (size_t i = 0; i < log->n; i++) {
		for (size_t j = 0; j < log->src[i].nev; j++)
			json_decref(log->src[i].ev[j].ev);
		free(log->src[i].ev);
		json_decref(log->src[i].recipients_set);
		json_decref(log->src[i].senders_set);
		json_decref(log->src[i].helos_set);
	}
	free(log->src);
	memset(log, 0, sizeof(*log));
}

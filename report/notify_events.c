/* notify_events.c - stream the milter's event log once, line by line, and
 * group it by source in a hash table; see notify.h.
 *
 * Every line is parsed, then copied key by key through the one text module
 * (textclean.h, the JSON rule): keys and string values alike, so that no
 * raw control, C1 or bidi character from an older or hand-edited log
 * reaches the mail, X-ARF or IODEF reports. The copy is bounded (values,
 * list items, extra keys), and only the events an excerpt may show are
 * kept (notify_source.c), so memory follows the number of sources, not
 * the size of the log. */
#include "notify.h"
#include "lib/base/hostport.h"
#include "lib/mail/eventlog.h"
#include "lib/base/regfile.h"
#include "lib/base/textclean.h"
#include "lib/base/util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds of one cleaned event: a value (the key=value line caps at 1024),
 * a key, the keys beyond the standard ones, the items of a list. A line
 * longer than LINE_MAX_BYTES is not the milter's: skipped, counted. */
#define VALUE_MAX	1025
#define KEY_MAX		128
#define KEYS_MAX	48
#define ITEMS_MAX	8
#define LINE_MAX_BYTES	(1024 * 1024)

const char *notify_jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : "";
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


static json_t *clean_string(const char *v)
{
	char buf[VALUE_MAX];

	return json_string(rg_clean_str(RG_SINK_JSON, buf, sizeof(buf), v));
}

/* A list of {"value": ..., "count": N} items (a bare string is a value). */
static json_t *clean_items(json_t *list)
{
	json_t *c = json_array(), *item, *count;
	size_t i;

	json_array_foreach(list, i, item) {
		json_t *o;

		if (i >= ITEMS_MAX)
			break;
		o = json_object();
		json_object_set_new(o, "value", clean_string(json_is_string(item) ?
		    json_string_value(item) : notify_jstr(item, "value")));
		if (json_is_integer(count = json_object_get(item, "count")))
			json_object_set_new(o, "count", json_integer(json_integer_value(count)));
		json_array_append_new(c, o);
	}
	return c;
}

static json_t *clean_value(json_t *v)
{
	if (json_is_string(v))
		return clean_string(json_string_value(v));
	if (json_is_integer(v))
		return json_integer(json_integer_value(v));
	if (json_is_real(v))
		return json_real(json_real_value(v));
	if (json_is_boolean(v))
		return json_boolean(json_is_true(v));
	if (json_is_array(v))
		return clean_items(v);
	return NULL;		/* nested objects: the milter writes none */
}

json_t *notify_clean_event(json_t *raw)
{
	static const char *const always[] = {"time", "event", "action", "client_addr",
		"host", NULL};
	json_t *c, *v, *cv;
	const char *k;
	size_t extra = 0;

	if (!json_is_object(raw))
		return NULL;
	c = json_object();
	/* the fields every reader needs come first, whatever precedes them */
	for (size_t i = 0; always[i]; i++)
		if ((cv = clean_value(json_object_get(raw, always[i]))) != NULL)
			json_object_set_new(c, always[i], cv);
	json_object_foreach(raw, k, v) {
		char key[KEY_MAX];

		if (extra >= KEYS_MAX)
			break;
		rg_clean_str(RG_SINK_JSON, key, sizeof(key), k);
		if (json_object_get(c, key) != NULL || (cv = clean_value(v)) == NULL)
			continue;
		json_object_set_new(c, key, cv);
		extra++;
	}
	return c;
}

struct reader {
	int prefix4, prefix6, excerpt;
	long pid;			/* of the last milter_start */
	const struct rg_cidr_list *own;	/* OwnAuditors, or NULL */
};

/* An own auditor's address is a source of its own, never grouped into a
 * network with others: its events are an audit, not abuse. */
static struct notify_source *source_for(struct notify_log *log, const char *addr,
    const struct reader *r)
{
	char key[64], net[64] = "";
	struct notify_source *s;
	json_t *at;
	bool own = r->own != NULL && rg_cidr_list_match_text(r->own, addr);
	int prefix4 = own ? 0 : r->prefix4, prefix6 = own ? 0 : r->prefix6;

	if (prefix4 > 0 || prefix6 > 0) {
		if (network_of(addr, prefix4 > 0 ? prefix4 : 32, prefix6 > 0 ? prefix6 : 128,
		    net, sizeof(net)) != 0)
			return NULL;
		strlcpy_rg(key, net, sizeof(key));
	} else {
		strlcpy_rg(key, addr, sizeof(key));
	}
	if ((at = json_object_get(log->index, key)) != NULL) {
		s = &log->src[json_integer_value(at)];
	} else {
		if (log->n == log->cap) {
			log->cap = log->cap ? log->cap * 2 : 64;
			log->src = xrealloc(log->src, log->cap * sizeof(*log->src));
		}
		json_object_set_new(log->index, key, json_integer((json_int_t)log->n));
		s = &log->src[log->n++];
		notify_source_init(s, key, net, r->excerpt);
		s->own_audit = own;
	}
	for (size_t i = 0; i < s->naddrs; i++)
		if (strcmp(s->addrs[i], addr) == 0)
			return s;
	if (s->naddrs < RG_NELEM(s->addrs))
		strlcpy_rg(s->addrs[s->naddrs++], addr, sizeof(s->addrs[0]));
	return s;
}

/* The milter's clock state at its first start, re-rendered in the
 * report's language from the recorded state, not copied from its English
 * reason. */
static void milter_clock(struct notify_log *log, json_t *e)
{
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

/* A bounce storm: to each original client it names. */
static void group_storm(struct notify_log *log, const struct reader *r, json_t *e,
    json_t *list, double when)
{
	bool start = is_storm_start(notify_jstr(e, "event"));
	json_t *item;
	size_t i;

	json_array_foreach(list, i, item) {
		const char *addr = notify_jstr(item, "value");
		struct notify_source *s;

		if (!rg_is_ip(addr) || (s = source_for(log, addr, r)) == NULL)
			continue;
		notify_source_add(s, e, when, r->pid, true);
		if (start) {
			s->storms++;
			s->storm_bounces += (long)json_integer_value(json_object_get(item, "count"));
		}
	}
}

/* One cleaned event to its source(s). */
static void group_event(struct notify_log *log, struct reader *r, json_t *e, double when)
{
	const char *ev = notify_jstr(e, "event"), *addr = notify_jstr(e, "client_addr");
	json_t *list = json_object_get(e, "original_clients");
	struct notify_source *s;

	if (strcmp(ev, "milter_start") == 0) {
		json_t *p = json_object_get(e, "pid");

		r->pid = json_is_integer(p) ? (long)json_integer_value(p) : 0;
		if (!log->milter_clock[0])
			milter_clock(log, e);
	}
	if (is_storm(ev) && json_array_size(list) > 0)
		group_storm(log, r, e, list, when);
	else if (rg_is_ip(addr) && (s = source_for(log, addr, r)) != NULL) {
		notify_source_add(s, e, when, r->pid, is_storm(ev));
		notify_source_count(s, e, is_storm(ev));
	}
}

/* The next line into buf (without its end, NUL bytes kept, *len bytes); a
 * longer one is skipped whole and returns 1. -1 at the end. */
static int read_line(FILE *f, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;
	bool over = false;
	int c;

	while ((c = getc_unlocked(f)) != EOF && c != '\n') {
		if (n + 1 < cap)
			buf[n++] = (char)c;
		else
			over = true;
	}
	if (c == EOF && n == 0 && !over)
		return -1;
	buf[n] = '\0';
	*len = n;
	return over ? 1 : 0;
}

int notify_read(const char *path, int prefix4, int prefix6, int excerpt,
    struct notify_log *log, char *err, size_t errlen)
{
	return notify_read_own(path, prefix4, prefix6, excerpt, NULL, log, err,
	    errlen);
}

int notify_read_own(const char *path, int prefix4, int prefix6, int excerpt,
    const struct rg_cidr_list *own, struct notify_log *log, char *err,
    size_t errlen)
{
	/* a FIFO planted as --events must not hang the reporter */
	FILE *f = rg_infile_open(path, err, errlen);
	char *line;
	size_t len;
	struct reader r = {prefix4, prefix6, excerpt, 0, own};
	int rc;

	memset(log, 0, sizeof(*log));
	if (f == NULL)
		return -1;
	log->index = json_object();
	line = xmalloc(LINE_MAX_BYTES);
	while ((rc = read_line(f, line, LINE_MAX_BYTES, &len)) >= 0) {
		json_error_t jerr;
		json_t *raw, *e;
		double when;

		log->lines++;
		if (rc == 0 && len == 0)
			continue;
		/* a NUL byte makes the line invalid JSON: skipped, counted */
		raw = rc == 0 ? json_loadb(line, len, 0, &jerr) : NULL;
		e = notify_clean_event(raw);
		json_decref(raw);
		if (e == NULL || (when = notify_parse_time(notify_jstr(e, "time"))) < 0)
			log->bad_lines++;	/* a torn or foreign line: skipped, counted */
		else
			group_event(log, &r, e, when);
		json_decref(e);
	}
	rc = ferror(f) ? rg_set_err(err, errlen, "%s: read error", path) : 0;
	free(line);
	fclose(f);
	for (size_t i = 0; i < log->n; i++)
		notify_source_finish(&log->src[i]);
	return rc;
}

void notify_log_free(struct notify_log *log)
{
	for (size_t i = 0; i < log->n; i++)
		notify_source_free(&log->src[i]);
	free(log->src);
	json_decref(log->index);
	memset(log, 0, sizeof(*log));
}

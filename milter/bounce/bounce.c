/*
 * bounce.c - bounce classification, per-origin sliding-window counts and
 * the storm state machine; see bounce.h.
 */
#include "bounce.h"
#include "lib/mail/eventlog.h"
#include "lib/base/log.h"
#include "lib/mail/netmatch.h"
#include "lib/base/util.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- classification ---------------------------------------------------- */

/* Mailer roles (REFERENCE.md 5: rspamd's list, plus Postfix's
 * double-bounce and the common spellings of mailer-daemon). */
static const char *const role_names[] = {
	"postmaster", "mailer-daemon", "mailer_daemon", "mailerdaemon",
	"mail-daemon", "double-bounce", "null", "fetchmail-daemon",
	"mdaemon",
};

bool bounce_role_local_part(const char *local, size_t len)
{
	for (size_t i = 0; i < RG_NELEM(role_names); i++)
		if (strlen(role_names[i]) == len &&
		    strncasecmp(role_names[i], local, len) == 0)
			return true;
	return false;
}

enum bounce_sender bounce_sender_kind(const char *mail_from)
{
	const char *p = mail_from ? mail_from : "", *end, *at, *colon;

	while (*p == ' ' || *p == '\t')
		p++;
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end > p && *p == '<') {
		p++;
		if (end > p && end[-1] == '>')
			end--;
	}
	if (end == p)
		return BOUNCE_SENDER_NULL;
	/* RFC 821 source route "@a,@b:local@domain" */
	if (*p == '@' && (colon = memchr(p, ':', (size_t)(end - p))) != NULL)
		p = colon + 1;
	at = NULL;
	for (const char *q = p; q < end; q++)
		if (*q == '@')
			at = q;
	if (at == NULL)
		at = end;
	return bounce_role_local_part(p, (size_t)(at - p)) ?
	    BOUNCE_SENDER_ROLE : BOUNCE_SENDER_NORMAL;
}

bool bounce_is_bounce(enum bounce_sender kind, unsigned evidence,
    bool content_seen)
{
	switch (kind) {
	case BOUNCE_SENDER_NULL:
		return true;
	case BOUNCE_SENDER_ROLE:
		return !content_seen || evidence != 0;
	default:
		return false;
	}
}

static const char *domain_of(const char *addr, char *buf, size_t len)
{
	const char *at = strrchr(addr, '@');

	strlcpy_rg(buf, at ? at + 1 : "", len);
	rg_lowercase(buf);
	return buf;
}

bool bounce_relay_abuse(const struct rg_config *conf, const struct dsn_report *d,
    bool generated, const char *myhostname)
{
	char dom[256];
	bool ours;

	if (conf == NULL || d == NULL || d->orig_client_addr[0] == '\0')
		return false;
	if (rg_cidr_list_match_text(&conf->trusted_networks, d->orig_client_addr))
		return false;
	if (!generated) {
		/* Only a Received: line this server wrote proves it relayed. */
		ours = myhostname != NULL && myhostname[0] != '\0' &&
		    strcasecmp(d->orig_received_by, myhostname) == 0;
		strlcpy_rg(dom, d->orig_received_by, sizeof(dom));
		rg_lowercase(dom);
		if (!ours && !rg_domain_list_match(&conf->local_domains, dom, NULL))
			return false;
	}
	for (size_t i = 0; i < d->nrcpt; i++) {
		domain_of(d->rcpt[i].final_rcpt, dom, sizeof(dom));
		if (dom[0] == '\0' || dom[0] == '[')
			continue;
		if (!rg_domain_list_match(&conf->local_domains, dom, NULL) &&
		    !rg_domain_list_match(&conf->relay_domains, dom, NULL))
			return true;
	}
	return false;
}

char *bounce_diag_normalise(const char *diag, char *buf, size_t len)
{
	size_t o = 0;
	const char *p = diag ? diag : "";

	if (len == 0)
		return buf;
	while (*p && o + 4 < len) {
		if (*p == '<') {
			const char *gt = strchr(p, '>');

			if (gt != NULL) {
				memcpy(buf + o, "<*>", 3);
				o += 3;
				p = gt + 1;
				continue;
			}
		}
		if (isspace((unsigned char)*p)) {
			if (o > 0 && buf[o - 1] != ' ')
				buf[o++] = ' ';
			p++;
			continue;
		}
		buf[o++] = *p++;
	}
	while (o > 0 && buf[o - 1] == ' ')
		o--;
	buf[o] = '\0';
	return buf;
}

/* --- the sensor ------------------------------------------------------------ */

/* Size of the descriptive tables (MTAs, domains, ...): they only feed the
 * top-5 lists of a report. */
#define BOUNCE_DETAIL_SLOTS	128

struct bounce_sensor {
	pthread_mutex_t lock;
	char origin[16];
	struct bounce_limits lim;
	struct bw_table *t[BOUNCE_DIMS];
	struct bw_ring total, abuse, dbl;
	bool storm;
	double storm_start, last_summary;
	unsigned long storm_count;
	char trigger[300];
};

static const char *const dim_names[BOUNCE_DIMS] = {
	"top_recipients", "top_clients", "original_clients",
	"original_senders", "reporting_mtas", "failed_domains", "statuses",
	"diagnostics",
};

const char *bounce_dim_name(enum bounce_dim dim)
{
	return dim < BOUNCE_DIMS ? dim_names[dim] : "?";
}

const char *bounce_storm_event_name(enum bounce_storm_event e)
{
	switch (e) {
	case BOUNCE_STORM_START:
		return "bounce_storm";
	case BOUNCE_STORM_SUMMARY:
		return "bounce_storm_summary";
	case BOUNCE_STORM_END:
		return "bounce_storm_end";
	default:
		return "none";
	}
}

struct bounce_sensor *bounce_sensor_new(const char *origin, size_t table_size,
    const struct bounce_limits *limits)
{
	struct bounce_sensor *s = xcalloc(1, sizeof(*s));
	double w = limits->window > 0 ? (double)limits->window : 300;

	pthread_mutex_init(&s->lock, NULL);
	strlcpy_rg(s->origin, origin, sizeof(s->origin));
	s->lim = *limits;
	s->lim.window = (long)w;
	for (int d = 0; d < BOUNCE_DIMS; d++)
		s->t[d] = bw_table_new(d <= BOUNCE_DIM_CLIENT ? table_size :
		    BOUNCE_DETAIL_SLOTS, w);
	return s;
}

void bounce_sensor_free(struct bounce_sensor *s)
{
	if (s == NULL)
		return;
	for (int d = 0; d < BOUNCE_DIMS; d++)
		bw_table_free(s->t[d]);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void bounce_sensor_set_limits(struct bounce_sensor *s,
    const struct bounce_limits *limits)
{
	pthread_mutex_lock(&s->lock);
	s->lim.total = limits->total;
	s->lim.per_rcpt = limits->per_rcpt;
	s->lim.per_client = limits->per_client;
	s->lim.summary_interval = limits->summary_interval;
	pthread_mutex_unlock(&s->lock);
}

size_t bounce_sensor_bytes(const struct bounce_sensor *s)
{
	size_t n = sizeof(*s);

	for (int d = 0; d < BOUNCE_DIMS; d++)
		n += bw_table_bytes(s->t[d]);
	return n;
}

static void key_lower(const char *in, char *buf, size_t len)
{
	const char *p = in ? in : "";

	if (*p == '<')
		p++;
	strlcpy_rg(buf, p, len);
	if (buf[0] != '\0' && buf[strlen(buf) - 1] == '>')
		buf[strlen(buf) - 1] = '\0';
	rg_lowercase(buf);
}

static void count_dsn(struct bounce_sensor *s, const struct dsn_report *d,
    double now)
{
	char buf[BW_KEY_MAX];

	if (d->orig_client_addr[0])
		bw_table_add(s->t[BOUNCE_DIM_ORIG_CLIENT], d->orig_client_addr, now, 1);
	if (d->orig_sender[0]) {
		key_lower(d->orig_sender, buf, sizeof(buf));
		bw_table_add(s->t[BOUNCE_DIM_ORIG_SENDER], buf, now, 1);
	}
	if (d->reporting_mta[0]) {
		key_lower(d->reporting_mta, buf, sizeof(buf));
		bw_table_add(s->t[BOUNCE_DIM_MTA], buf, now, 1);
	}
	for (size_t i = 0; i < d->nrcpt; i++) {
		const struct dsn_recipient *r = &d->rcpt[i];

		if (r->final_rcpt[0] && domain_of(r->final_rcpt, buf, sizeof(buf))[0])
			bw_table_add(s->t[BOUNCE_DIM_DOMAIN], buf, now, 1);
		if (r->status[0])
			bw_table_add(s->t[BOUNCE_DIM_STATUS], r->status, now, 1);
		if (r->diagnostic[0])
			bw_table_add(s->t[BOUNCE_DIM_DIAG], bounce_diag_normalise(
			    r->diagnostic, buf, sizeof(buf)), now, 1);
	}
}

/* The first threshold reached now, described in trigger; false: none. */
static bool over_threshold(struct bounce_sensor *s, double now,
    char *trigger, size_t len)
{
	unsigned long total = bw_ring_count(&s->total, (double)s->lim.window, now);
	struct bw_top top;

	if (s->lim.per_rcpt > 0 &&
	    bw_table_top(s->t[BOUNCE_DIM_RCPT], now, &top, 1) == 1 &&
	    top.count >= (unsigned long)s->lim.per_rcpt) {
		snprintf(trigger, len, "%lu bounces to %s in %ld s "
		    "(BounceRecipientThreshold %ld)", top.count, top.key,
		    s->lim.window, s->lim.per_rcpt);
		return true;
	}
	if (s->lim.per_client > 0 &&
	    bw_table_top(s->t[BOUNCE_DIM_CLIENT], now, &top, 1) == 1 &&
	    top.count >= (unsigned long)s->lim.per_client) {
		snprintf(trigger, len, "%lu bounces %s client %s in %ld s "
		    "(BounceClientThreshold %ld)", top.count,
		    strcmp(s->origin, "inbound") == 0 ? "from" : "about mail from",
		    top.key, s->lim.window, s->lim.per_client);
		return true;
	}
	if (s->lim.total > 0 && total >= (unsigned long)s->lim.total) {
		snprintf(trigger, len, "%lu bounces in %ld s (BounceThreshold %ld)",
		    total, s->lim.window, s->lim.total);
		return true;
	}
	return false;
}

static void fill_report(struct bounce_sensor *s, enum bounce_storm_event e,
    double now, struct bounce_storm_report *rep)
{
	double w = (double)s->lim.window;

	memset(rep, 0, sizeof(*rep));
	rep->event = e;
	strlcpy_rg(rep->origin, s->origin, sizeof(rep->origin));
	rep->window = s->lim.window;
	rep->duration = now - s->storm_start;
	rep->total = bw_ring_count(&s->total, w, now);
	rep->relay_abuse = bw_ring_count(&s->abuse, w, now);
	rep->double_bounces = bw_ring_count(&s->dbl, w, now);
	rep->storm_bounces = s->storm_count;
	strlcpy_rg(rep->trigger, s->trigger, sizeof(rep->trigger));
	for (int d = 0; d < BOUNCE_DIMS; d++)
		rep->ntop[d] = bw_table_top(s->t[d], now, rep->top[d], BOUNCE_TOP);
}

enum bounce_storm_event bounce_sensor_add(struct bounce_sensor *s,
    const struct bounce_obs *obs, double now, struct bounce_storm_report *rep)
{
	enum bounce_storm_event e = BOUNCE_STORM_NONE;
	double w = (double)s->lim.window;
	char key[BW_KEY_MAX];

	pthread_mutex_lock(&s->lock);
	bw_ring_add(&s->total, w, now, 1);
	key_lower(obs->recipient, key, sizeof(key));
	bw_table_add(s->t[BOUNCE_DIM_RCPT], key[0] ? key : "(none)", now, 1);
	if (obs->client != NULL && obs->client[0] != '\0')
		bw_table_add(s->t[BOUNCE_DIM_CLIENT], obs->client, now, 1);
	if (obs->relay_abuse)
		bw_ring_add(&s->abuse, w, now, 1);
	if (obs->dsn != NULL) {
		if (obs->dsn->double_bounce)
			bw_ring_add(&s->dbl, w, now, 1);
		count_dsn(s, obs->dsn, now);
	}
	if (s->storm) {
		s->storm_count++;
	} else if (over_threshold(s, now, s->trigger, sizeof(s->trigger))) {
		s->storm = true;
		s->storm_start = s->last_summary = now;
		s->storm_count = 1;
		e = BOUNCE_STORM_START;
		if (rep != NULL)
			fill_report(s, e, now, rep);
	}
	pthread_mutex_unlock(&s->lock);
	return e;
}

enum bounce_storm_event bounce_sensor_tick(struct bounce_sensor *s, double now,
    struct bounce_storm_report *rep)
{
	enum bounce_storm_event e = BOUNCE_STORM_NONE;
	char trigger[sizeof(s->trigger)];

	pthread_mutex_lock(&s->lock);
	if (s->storm) {
		if (!over_threshold(s, now, trigger, sizeof(trigger))) {
			e = BOUNCE_STORM_END;
			s->storm = false;
		} else if (now - s->last_summary >= (double)s->lim.summary_interval) {
			e = BOUNCE_STORM_SUMMARY;
			s->last_summary = now;
			strlcpy_rg(s->trigger, trigger, sizeof(s->trigger));
		}
		if (e != BOUNCE_STORM_NONE && rep != NULL)
			fill_report(s, e, now, rep);
	}
	pthread_mutex_unlock(&s->lock);
	return e;
}

bool bounce_sensor_in_storm(struct bounce_sensor *s)
{
	bool b;

	pthread_mutex_lock(&s->lock);
	b = s->storm;
	pthread_mutex_unlock(&s->lock);
	return b;
}

unsigned long bounce_sensor_count(struct bounce_sensor *s, enum bounce_dim dim,
    const char *key, double now)
{
	unsigned long n;
	char k[BW_KEY_MAX];

	pthread_mutex_lock(&s->lock);
	if (key == NULL) {
		n = bw_ring_count(&s->total, (double)s->lim.window, now);
	} else {
		if (dim == BOUNCE_DIM_RCPT)
			key_lower(key, k, sizeof(k));
		else
			strlcpy_rg(k, key, sizeof(k));
		n = dim < BOUNCE_DIMS ? bw_table_count(s->t[dim], k, now) : 0;
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* --- reporting ------------------------------------------------------------ */

static void list_text(const struct bounce_storm_report *rep, enum bounce_dim d,
    size_t max, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < rep->ntop[d] && i < max && o < len; i++) {
		int n = snprintf(buf + o, len - o, "%s%s", i ? ", " : "",
		    rep->top[d][i].key);

		if (n < 0)
			break;
		o += (size_t)n;
	}
}

char *bounce_storm_sentence(const struct bounce_storm_report *rep, char *buf,
    size_t len)
{
	char clients[200], domains[200], abuse[600] = "";
	bool generated = strcmp(rep->origin, "generated") == 0;
	const char *what = generated ? "bounces generated by this MTA" :
	    "bounces received over SMTP (backscatter)";

	list_text(rep, BOUNCE_DIM_ORIG_CLIENT, 3, clients, sizeof(clients));
	list_text(rep, BOUNCE_DIM_DOMAIN, 3, domains, sizeof(domains));
	if (rep->relay_abuse > 0)
		snprintf(abuse, sizeof(abuse), "; %lu of them are about mail this "
		    "server relayed for outside clients (%s) to %s: the signature "
		    "of open-relay abuse - refuse unauthorised relaying",
		    rep->relay_abuse, clients[0] ? clients : "unknown",
		    domains[0] ? domains : "foreign domains");
	switch (rep->event) {
	case BOUNCE_STORM_START:
		snprintf(buf, len, "bounce storm: %lu %s in the last %ld s, %s%s",
		    rep->total, what, rep->window, rep->trigger, abuse);
		break;
	case BOUNCE_STORM_SUMMARY:
		snprintf(buf, len, "bounce storm goes on for %ld s: %lu %s in "
		    "the last %ld s, %lu since it began%s", (long)(rep->duration + 0.5),
		    rep->total, what, rep->window, rep->storm_bounces, abuse);
		break;
	default:
		snprintf(buf, len, "bounce storm over after %ld s: %lu %s in the "
		    "last %ld s, below every threshold; %lu counted during the "
		    "storm", (long)(rep->duration + 0.5), rep->total, what,
		    rep->window, rep->storm_bounces);
		break;
	}
	return buf;
}

void bounce_storm_log(const struct bounce_storm_report *rep,
    long relay_attempts)
{
	struct rg_event_item items[BOUNCE_DIMS][BOUNCE_TOP];
	struct rg_event_field f[BOUNCE_DIMS + 12];
	char sentence[1200], line[4096];
	const char *client = NULL;
	size_t nf = 0;
	int d;

	for (d = 0; d < BOUNCE_DIMS; d++)
		for (size_t i = 0; i < rep->ntop[d]; i++) {
			items[d][i].value = rep->top[d][i].key;
			items[d][i].count = rep->top[d][i].count;
		}
	if (rep->ntop[BOUNCE_DIM_CLIENT] > 0)
		client = rep->top[BOUNCE_DIM_CLIENT][0].key;
	else if (rep->ntop[BOUNCE_DIM_ORIG_CLIENT] > 0)
		client = rep->top[BOUNCE_DIM_ORIG_CLIENT][0].key;
#define STR(k, v) (f[nf++] = (struct rg_event_field){.key = (k), .str = (v)})
#define NUM(k, v) (f[nf++] = (struct rg_event_field){.key = (k), .num = (long)(v)})
	STR("origin", rep->origin);
	NUM("relay_abuse", rep->relay_abuse);
	NUM("double_bounces", rep->double_bounces);
	NUM("storm_seconds", rep->duration + 0.5);
	NUM("storm_bounces", rep->storm_bounces);
	if (rep->trigger[0])
		STR("trigger", rep->trigger);
	if (rep->ntop[BOUNCE_DIM_STATUS] > 0)
		STR("dominant_status", rep->top[BOUNCE_DIM_STATUS][0].key);
	if (rep->ntop[BOUNCE_DIM_DIAG] > 0)
		STR("dominant_diagnostic", rep->top[BOUNCE_DIM_DIAG][0].key);
	if (relay_attempts >= 0)
		NUM("relay_attempts", relay_attempts);
	for (d = 0; d < BOUNCE_DIMS; d++)
		if (rep->ntop[d] > 0)
			f[nf++] = (struct rg_event_field){.key = dim_names[d],
			    .items = items[d], .nitems = rep->ntop[d]};
#undef STR
#undef NUM
	struct rg_event ev = {
		.event = bounce_storm_event_name(rep->event),
		.action = "none",
		.client_addr = client,
		.count = (long)(rep->total > 0 ? rep->total : 0),
		.window = rep->window,
		.fields = f, .nfields = nf,
		.reason = bounce_storm_sentence(rep, sentence, sizeof(sentence)),
	};
	if (rep->event == BOUNCE_STORM_END)
		msg_info("%s", rg_event_format_kv(&ev, line, sizeof(line)));
	else
		msg_warn("%s", rg_event_format_kv(&ev, line, sizeof(line)));
	(void)rg_eventlog_write(&ev);	/* a failure is logged and counted there */
}

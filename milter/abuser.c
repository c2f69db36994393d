/*
 * abuser.c - the penalty box; see abuser.h.
 *
 * One struct source per table slot: the window of refused attempts (a
 * bw_ring, bounce_window.h), when the current run of attempts began, and
 * the box (until > 0) with what it refused. Times are monotonic seconds
 * (rg_now()); events carry them as ISO 8601 wall-clock times.
 */
#include "abuser.h"
#include "abuser_state.h"
#include "shared.h"
#include "milter/policy/config.h"
#include "lib/base/countertab.h"
#include "lib/base/log.h"
#include "lib/mail/netmatch.h"
#include "lib/base/textclean.h"
#include "lib/base/util.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define SOURCE_MAX	ABUSER_SOURCE_MAX
#define RELEASE_BATCH	64			/* events per tick at most */
#define MERGE_BATCH	256			/* sources merged per tick */

/* What an event needs, copied out of the table under the lock. */
struct box_note {
	char source[SOURCE_MAX];
	char client[INET6_ADDRSTRLEN];
	struct source s;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct rg_ct_table *sources;
static unsigned long n_boxed, n_would_box, n_released, n_boxed_now;
static unsigned long n_refused[2];		/* enum rg_abuser_stage */

#define ADD(x, n)	__atomic_fetch_add(&(x), (n), __ATOMIC_RELAXED)
#define GET(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)

void abuser_start(size_t capacity)
{
	sources = rg_ct_new(capacity, SOURCE_MAX, sizeof(struct source));
}

bool abuser_replies_at(const struct rg_config *conf, int stage)
{
	return conf != NULL && conf->abuser_threshold > 0 &&
	    conf->mode == RG_MODE_ENFORCE && conf->abuser_stage == stage;
}

/* The client's source ("192.0.2.0/24"); false for a client the box never
 * touches (abuser_state.h). */
static bool source_of(const struct conn *c, char *buf, size_t len)
{
	return abuser_source_key(c->conf, c->have_addr, c->client_addr, c->auth,
	    buf, len);
}

/* A monotonic time as ISO 8601 wall-clock time (eventlog.h's format). */
static const char *iso_of(double mono, char *buf, size_t len)
{
	struct timeval tv;
	double wall;

	gettimeofday(&tv, NULL);
	wall = (double)tv.tv_sec + (double)tv.tv_usec / 1e6 - (rg_now() - mono);
	tv.tv_sec = (time_t)wall;
	tv.tv_usec = (suseconds_t)((wall - (double)tv.tv_sec) * 1e6);
	return rg_time_iso8601(&tv, buf, len);
}

static void note_boxed(const struct conn *c, const char *rcpt,
    const struct box_note *n)
{
	const struct rg_config *conf = c->conf;
	char first[RG_TIME_ISO_LEN], last[RG_TIME_ISO_LEN], until[RG_TIME_ISO_LEN];
	char reason[256], count[64];
	const bool enforced = n->s.enforced;
	/* a box learned from the shared state has no run of attempts here:
	 * the count is the shared window's (when known), no evidence times */
	const bool counted = !n->s.learned || n->s.attempts > 0;
	struct rg_event_field f[10];
	size_t nf = 0;

	f[nf++] = (struct rg_event_field){.key = "source", .str = n->source};
	if (counted)
		f[nf++] = (struct rg_event_field){.key = "attempts",
		    .num = (long)n->s.attempts};
	f[nf++] = (struct rg_event_field){.key = "threshold",
	    .num = conf->abuser_threshold};
	f[nf++] = (struct rg_event_field){.key = "window", .num = conf->abuser_window};
	if (!n->s.learned) {
		f[nf++] = (struct rg_event_field){.key = "first_attempt",
		    .str = iso_of(n->s.first, first, sizeof(first))};
		f[nf++] = (struct rg_event_field){.key = "last_attempt",
		    .str = iso_of(n->s.last, last, sizeof(last))};
		f[nf++] = (struct rg_event_field){.key = "evidence_seconds",
		    .num = (long)(n->s.last - n->s.first + 0.5)};
	}
	f[nf++] = (struct rg_event_field){.key = "block_time",
	    .num = conf->abuser_block_time};
	f[nf++] = (struct rg_event_field){.key = "until",
	    .str = iso_of(n->s.until, until, sizeof(until))};
	if (n->s.boxed_by[0])
		f[nf++] = (struct rg_event_field){.key = "boxed_by",
		    .str = n->s.boxed_by};

	if (counted)
		snprintf(count, sizeof(count), "%lu refused relay attempts",
		    n->s.attempts);
	else
		snprintf(count, sizeof(count), "refused relay attempts");
	snprintf(reason, sizeof(reason), "%s from %s within %ld s%s%s: %s for "
	    "%ld s", count, n->source, conf->abuser_window, n->s.boxed_by[0] ?
	    ", counted by every MX; boxed by " : "", n->s.boxed_by,
	    enforced ? "boxed" : "would be boxed (log-only)",
	    conf->abuser_block_time);
	milter_record(c, enforced ? "abuser_boxed" : "abuser_would_box",
	    enforced ? (conf->abuser_reply.code[0] == '4' ? "tempfail" : "reject") :
	    "log-only", rcpt, reason, f, nf);
}

/* Under the lock: the weight that orders evictions (countertab.h). */
static void reweigh(size_t slot, struct source *s, double window,
    double now)
{
	rg_ct_set_weight(sources, slot, abuser_source_weight(s, window, now));
}

/* Under the lock: what the event of s's box needs. */
static void note_of(const struct source *s, const char *key,
    struct box_note *n)
{
	strlcpy_rg(n->source, key, sizeof(n->source));
	n->s = *s;
}

/* After a box: counters, then the event. */
static void boxed(const struct conn *c, const char *rcpt,
    const struct box_note *n)
{
	ADD(*(n->s.enforced ? &n_boxed : &n_would_box), 1);
	if (n->s.enforced)
		ADD(n_boxed_now, 1);
	note_boxed(c, rcpt, n);
}

static const char *host_of(const struct conn *c)
{
	return c->myhostname[0] ? c->myhostname : "unknown";
}

void abuser_relay_attempt(const struct conn *c, const char *rcpt)
{
	const struct rg_config *conf = c->conf;
	const bool enforce = conf->mode == RG_MODE_ENFORCE;
	char key[SOURCE_MAX];
	struct shared_answer sa;
	struct box_note n;
	struct source *s;
	double now = rg_now(), window = (double)conf->abuser_window;
	unsigned long inherited;
	bool fresh, shared, made;
	size_t slot;

	if (sources == NULL || !source_of(c, key, sizeof(key)))
		return;
	/* one round trip, before the lock: the local table never waits */
	shared = shared_attempt(key, 1, conf->abuser_threshold,
	    conf->abuser_window, conf->abuser_block_time, enforce, host_of(c),
	    &sa) == 0;
	pthread_mutex_lock(&lock);
	slot = rg_ct_get(sources, key, now, &inherited, &fresh);
	s = rg_ct_value(sources, slot);
	made = abuser_source_attempt(s, conf, c->client_addr, shared ? &sa : NULL,
	    shared_enabled(), host_of(c), now);
	if (made)
		note_of(s, key, &n);
	reweigh(slot, s, window, now);
	pthread_mutex_unlock(&lock);
	if (made)
		boxed(c, NULL == rcpt ? "" : rcpt, &n);
}

/* Under the lock: is key boxed here? Counts the refusal. */
static bool boxed_locally(const char *key, double now)
{
	size_t slot = rg_ct_find(sources, key);

	return slot != CT_NONE &&
	    abuser_source_refuses(rg_ct_value(sources, slot), now);
}

/* Another MX's box, learned from the shared state: the count in the
 * shared window for its event (sa->count; 0 when unknown). One more round
 * trip, once per box and MX: it adds no attempt and sets no box. */
static void learned_count(const struct conn *c, const char *key,
    struct shared_answer *sa)
{
	const struct rg_config *conf = c->conf;
	struct shared_answer w;

	sa->count = 0;
	if (shared_attempt(key, 0, conf->abuser_threshold, conf->abuser_window,
	    conf->abuser_block_time, false, host_of(c), &w) == 0)
		sa->count = w.count;
}

/* True when c's source is boxed (enforced) now, here or, with shared
 * state, by another MX (then it is boxed here too, with its event). */
static bool boxed_now(const struct conn *c)
{
	char key[SOURCE_MAX];
	struct shared_answer sa;
	struct box_note n;
	unsigned long inherited;
	double now = rg_now();
	bool fresh, is = false, made = false;
	size_t slot;

	if (sources == NULL || !source_of(c, key, sizeof(key)))
		return false;
	pthread_mutex_lock(&lock);
	is = boxed_locally(key, now);
	pthread_mutex_unlock(&lock);
	if (is || shared_box(key, &sa) != 0 || sa.box_ms <= 0)
		return is;
	learned_count(c, key, &sa);
	pthread_mutex_lock(&lock);
	if (!(is = boxed_locally(key, now))) {
		struct source *s;

		slot = rg_ct_get(sources, key, now, &inherited, &fresh);
		s = rg_ct_value(sources, slot);
		abuser_source_learn(s, c->conf, c->client_addr, &sa, now);
		note_of(s, key, &n);
		reweigh(slot, s, (double)c->conf->abuser_window, now);
		is = made = true;
	}
	pthread_mutex_unlock(&lock);
	if (made)
		boxed(c, "", &n);
	return is;
}

sfsistat abuser_check(SMFICTX *ctx, const struct conn *c, int stage)
{
	const struct rg_reply *r = &c->conf->abuser_reply;
	char text[1024];

	if (!abuser_replies_at(c->conf, stage) || !boxed_now(c))
		return SMFIS_CONTINUE;
	ADD(n_refused[stage == RG_ABUSER_AT_CONNECT], 1);
	if (smfi_setreply(ctx, (char *)r->code, r->xcode[0] ? (char *)r->xcode : NULL,
	    (char *)rg_clean_str(RG_SINK_SMTP, text, sizeof(text), r->text)) !=
	    MI_SUCCESS)
		msg_warn("smfi_setreply failed for client_addr=%s", c->client_addr);
	return r->code[0] == '4' ? SMFIS_TEMPFAIL : SMFIS_REJECT;
}

static void note_released(const struct box_note *n, double now)
{
	char line[2048], since[RG_TIME_ISO_LEN], reason[256];
	struct rg_event_field f[] = {
		{.key = "source", .str = n->source},
		{.key = "boxed_since", .str = iso_of(n->s.boxed_at, since, sizeof(since))},
		{.key = "boxed_seconds", .num = (long)(now - n->s.boxed_at + 0.5)},
		{.key = "refused", .num = (long)n->s.refused},
	};
	struct rg_event ev = {
		.event = "abuser_released", .action = "none",
		.client_addr = n->s.client, .reason = reason,
		.fields = f, .nfields = RG_NELEM(f),
	};

	snprintf(reason, sizeof(reason), "%s released after %.0f s; %lu "
	    "transactions refused while boxed", n->source, now - n->s.boxed_at,
	    n->s.refused);
	msg_info("%s", rg_event_format_kv(&ev, line, sizeof(line)));
	(void)rg_eventlog_write(&ev);
}

/* Under the lock: copy out and clear boxes that ran out; how many. */
static size_t collect_expired(double now, struct box_note *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < rg_ct_used(sources) && n < max; i++) {
		struct source was;

		if (!abuser_source_expire(rg_ct_value(sources, i), now, &was))
			continue;
		rg_ct_set_weight(sources, i, 0);
		if (was.enforced) {
			strlcpy_rg(out[n].source, rg_ct_key(sources, i),
			    sizeof(out[n].source));
			out[n].s = was;
			n++;
		}
	}
	return n;
}

struct pending_note {
	char source[SOURCE_MAX];
	unsigned long n;
	char host[64];			/* the MTA that counted them */
};

/* Under the lock: take up to max sources' pending counts. */
static size_t take_pending(struct pending_note *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < rg_ct_used(sources) && n < max; i++) {
		struct source *s = rg_ct_value(sources, i);

		if (s->pending == 0)
			continue;
		strlcpy_rg(out[n].source, rg_ct_key(sources, i), sizeof(out[n].source));
		strlcpy_rg(out[n].host, s->counted_by, sizeof(out[n].host));
		out[n++].n = s->pending;
		s->pending = 0;
	}
	return n;
}

/* Under the lock: counts not merged go back to their source (unless it
 * was evicted meanwhile), for the next try. */
static void give_back(const struct pending_note *notes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t slot = rg_ct_find(sources, notes[i].source);

		if (slot != CT_NONE)
			((struct source *)rg_ct_value(sources, slot))->pending += notes[i].n;
	}
}

/* The shared state is back: the attempts counted here meanwhile go to it,
 * so a storm split over the MX hosts during the outage still adds up. A
 * batch at a time; true while some are left (the next tick goes on), a
 * failed merge gives the rest back. */
static bool merge_pending(void)
{
	static struct pending_note notes[MERGE_BATCH];	/* signal thread only */
	struct rg_config *conf = rg_config_current();
	struct shared_answer sa;
	char host[256] = "unknown";
	size_t n, done = 0;

	if (conf == NULL)
		return false;
	/* for counts without the MTA's name (none is expected) */
	(void)gethostname(host, sizeof(host) - 1);
	pthread_mutex_lock(&lock);
	n = take_pending(notes, RG_NELEM(notes));
	pthread_mutex_unlock(&lock);
	/* a box set by a merge names the MTA that counted, as a live one */
	while (done < n && shared_attempt(notes[done].source, notes[done].n,
	    conf->abuser_threshold, conf->abuser_window, conf->abuser_block_time,
	    conf->mode == RG_MODE_ENFORCE, notes[done].host[0] ?
	    notes[done].host : host, &sa) == 0)
		done++;
	if (done < n) {
		pthread_mutex_lock(&lock);
		give_back(notes + done, n - done);
		pthread_mutex_unlock(&lock);
	}
	if (n > 0)
		msg_info("shared state: merged the relay attempts of %zu sources "
		    "counted while it was lost%s", done, done < n ? " (lost again "
		    "before the rest; kept for the next try)" : "");
	rg_config_unref(conf);
	return n == RG_NELEM(notes) && done == n;
}

void abuser_tick(double now)
{
	static bool merging;	/* signal thread only: a merge goes on */
	struct box_note notes[RELEASE_BATCH];
	size_t n;

	if (sources == NULL)
		return;
	if (shared_tick(now))
		merging = true;
	if (merging)
		merging = merge_pending();
	pthread_mutex_lock(&lock);
	n = collect_expired(now, notes, RG_NELEM(notes));
	pthread_mutex_unlock(&lock);
	for (size_t i = 0; i < n; i++) {
		ADD(n_released, 1);
		__atomic_fetch_sub(&n_boxed_now, 1, __ATOMIC_RELAXED);
		note_released(&notes[i], now);
	}
}

void abuser_describe(const struct rg_config *c, FILE *out)
{
	if (c->abuser_threshold <= 0) {
		fprintf(out, "penalty box: off (AbuserThreshold 0)\n");
		return;
	}
	fprintf(out, "penalty box: %ld refused relay attempts within %ld s from one "
	    "/%ld (IPv4) or /%ld (IPv6) box it for %ld s; refused at %s with "
	    "\"%s%s%s %s\"%s\n", c->abuser_threshold, c->abuser_window,
	    c->abuser_prefix4, c->abuser_prefix6, c->abuser_block_time,
	    c->abuser_stage == RG_ABUSER_AT_CONNECT ? "CONNECT" : "MAIL FROM",
	    c->abuser_reply.code, c->abuser_reply.xcode[0] ? " " : "",
	    c->abuser_reply.xcode, c->abuser_reply.text,
	    c->mode == RG_MODE_LOG_ONLY ? " (Mode log-only: logged, never refused)" : "");
}

void abuser_metrics(FILE *f)
{
	fprintf(f, "# HELP relayguard_abuser_boxed_total Sources put in the "
	    "penalty box (action=log-only: would have been).\n"
	    "# TYPE relayguard_abuser_boxed_total counter\n"
	    "relayguard_abuser_boxed_total{action=\"enforce\"} %lu\n"
	    "relayguard_abuser_boxed_total{action=\"log-only\"} %lu\n",
	    GET(n_boxed), GET(n_would_box));
	fprintf(f, "# HELP relayguard_abuser_refused_total Transactions of "
	    "boxed sources refused, by stage.\n"
	    "# TYPE relayguard_abuser_refused_total counter\n"
	    "relayguard_abuser_refused_total{stage=\"mail\"} %lu\n"
	    "relayguard_abuser_refused_total{stage=\"connect\"} %lu\n",
	    GET(n_refused[0]), GET(n_refused[1]));
	fprintf(f, "# HELP relayguard_abuser_released_total Boxes that ran out.\n"
	    "# TYPE relayguard_abuser_released_total counter\n"
	    "relayguard_abuser_released_total %lu\n"
	    "# HELP relayguard_abuser_boxed Sources in the penalty box now.\n"
	    "# TYPE relayguard_abuser_boxed gauge\n"
	    "relayguard_abuser_boxed %lu\n", GET(n_released), GET(n_boxed_now));
	shared_metrics(f);
}

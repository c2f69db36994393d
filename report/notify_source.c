/* notify_source.c - what notify keeps of one source while the event log
 * streams past: counts, the first and last times, the summary fields and
 * the excerpt's candidates; see notify.h.
 *
 * Nothing here grows with the log: the excerpt keeps head_max + tail_max +
 * NOTIFY_STORMS_KEPT events (the last ones in a ring), and the distinct
 * recipients and the senders' counts stop taking new values at
 * NOTIFY_DISTINCT_MAX (a value already seen is still counted). */
#include "notify.h"
#include "lib/mail/eventlog.h"
#include "lib/base/util.h"

#include <stdlib.h>
#include <string.h>

void notify_source_init(struct notify_source *s, const char *key, const char *net,
    int excerpt)
{
	memset(s, 0, sizeof(*s));
	strlcpy_rg(s->key, key, sizeof(s->key));
	strlcpy_rg(s->network, net, sizeof(s->network));
	s->first = -1;
	s->head_max = (size_t)excerpt / 2;
	s->tail_max = (size_t)excerpt - s->head_max;
}

/* Room for one more event in *arr (of *cap, at most max): doubled as it
 * fills, so a source with one event does not take --excerpt's room. */
static void grow(struct notify_event **arr, size_t *cap, size_t used, size_t max)
{
	if (used < *cap)
		return;
	*cap = *cap ? *cap * 2 : 2;
	if (*cap > max)
		*cap = max;
	*arr = xrealloc(*arr, *cap * sizeof(**arr));
}

/* The event in the head, the ring of the last ones, or (a bounce storm
 * between them) among the storms kept. The ring fills in order before it
 * first wraps, so it can grow until then. */
static void keep_event(struct notify_source *s, const struct notify_event *n, bool storm)
{
	size_t slot;

	if (s->nhead < s->head_max) {
		grow(&s->head, &s->head_cap, s->nhead, s->head_max);
		s->head[s->nhead++] = *n;
		json_incref(n->ev);
		return;
	}
	if (storm && s->nstorm < NOTIFY_STORMS_KEPT) {
		s->storm[s->nstorm++] = *n;
		json_incref(n->ev);
	}
	if (s->tail_max == 0)
		return;
	slot = (n->seq - s->head_max) % s->tail_max;
	if (s->ntail == s->tail_max) {
		json_decref(s->tail[slot].ev);
	} else {
		grow(&s->tail, &s->tail_cap, s->ntail, s->tail_max);
		s->ntail++;
	}
	s->tail[slot] = *n;
	json_incref(n->ev);
}

void notify_source_add(struct notify_source *s, json_t *e, double when, long pid,
    bool storm)
{
	struct notify_event n = {e, when, pid, s->nev++};

	keep_event(s, &n, storm);
	if (s->first < 0 || when < s->first) {
		s->first = when;
		strlcpy_rg(s->first_iso, notify_jstr(e, "time"), sizeof(s->first_iso));
	}
	if (when >= s->last) {
		s->last = when;
		strlcpy_rg(s->last_iso, notify_jstr(e, "time"), sizeof(s->last_iso));
	}
}

/* One value into a bounded set (or counter) of the source. */
static void bounded_count(json_t **set, const char *v, bool count)
{
	json_t *c;

	if (*set == NULL)
		*set = json_object();
	c = json_object_get(*set, v);
	if (c == NULL && json_object_size(*set) >= NOTIFY_DISTINCT_MAX)
		return;
	json_object_set_new(*set, v, json_integer(count && c ? json_integer_value(c) + 1 : 1));
}

/* A recipient's domain into the comma-separated list, while it fits. */
static void add_domain(struct notify_source *s, const char *r)
{
	const char *at = strrchr(r, '@');
	size_t o = strlen(s->domains);
	char dom[256], *p;

	if (at == NULL)
		return;
	strlcpy_rg(dom, at + 1, sizeof(dom));
	dom[strcspn(dom, ">")] = '\0';
	/* names and [literals] only: routing tricks make odd "domains" */
	if (!dom[0] || strspn(dom, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-[]:") != strlen(dom))
		return;
	for (p = s->domains; (p = strstr(p, dom)) != NULL; p++)
		if ((p == s->domains || p[-1] == ' ') && (p[strlen(dom)] == ',' ||
		    p[strlen(dom)] == '\0'))
			return;
	if (o + strlen(dom) + 3 < sizeof(s->domains))
		snprintf(s->domains + o, sizeof(s->domains) - o, "%s%s", o ? ", " : "", dom);
}

/* A relay event (not a summary): port, name, sender, recipient. */
static void summarise(struct notify_source *s, json_t *e)
{
	const char *r = notify_jstr(e, "recipient"), *name = notify_jstr(e, "client_name");
	json_t *port = json_object_get(e, "client_port");

	if (json_is_integer(port))
		s->port = (long)json_integer_value(port);
	if (*name && name[0] != '[' && strcmp(name, "unknown") != 0)
		strlcpy_rg(s->client_name, name, sizeof(s->client_name));
	if (*notify_jstr(e, "sender"))
		bounded_count(&s->sender_counts, notify_jstr(e, "sender"), true);
	if (*r) {
		bounded_count(&s->rcpt_set, r, false);
		add_domain(s, r);
	}
}

void notify_source_count(struct notify_source *s, json_t *e, bool storm)
{
	const char *ev = notify_jstr(e, "event"), *action = notify_jstr(e, "action");

	if (strcmp(ev, "relay_summary") == 0 || strcmp(ev, "relay_authenticated") == 0)
		return;
	if (strncmp(ev, "relay_", 6) == 0) {
		s->relay_attempts++;
		if (strcmp(action, "log-only") == 0 || strcmp(ev, "relay_would_refuse") == 0)
			s->relay_logged++;
		else
			s->relay_refused++;
		summarise(s, e);
	} else if (!storm) {
		s->other++;
		if (strcmp(ev, "abuser_boxed") == 0) {
			s->boxed++;
			strlcpy_rg(s->boxed_source, notify_jstr(e, "source"),
			    sizeof(s->boxed_source));
		}
	}
}

/* After the last line: the most frequent sender, the recipients counted. */
void notify_source_finish(struct notify_source *s)
{
	const char *k;
	json_t *v;
	long best = 0;

	json_object_foreach(s->sender_counts, k, v)
		if (json_integer_value(v) > best) {
			best = (long)json_integer_value(v);
			strlcpy_rg(s->sender, k, sizeof(s->sender));
		}
	s->recipients = (long)json_object_size(s->rcpt_set);
	json_decref(s->sender_counts);
	json_decref(s->rcpt_set);
	s->sender_counts = s->rcpt_set = NULL;
}

/* The kept events in log order: the head, the storms not in the tail, the
 * tail from its oldest. *out has room for head_max + tail_max + storms. */
size_t notify_kept(const struct notify_source *s, const struct notify_event **out)
{
	size_t n = 0, tail_from = s->nev - s->ntail;

	for (size_t i = 0; i < s->nhead; i++)
		out[n++] = &s->head[i];
	for (size_t i = 0; i < s->nstorm; i++)
		if (s->storm[i].seq < tail_from)
			out[n++] = &s->storm[i];
	for (size_t i = 0; i < s->ntail; i++)
		out[n++] = &s->tail[(tail_from + i - s->head_max) % s->tail_max];
	return n;
}

void notify_source_free(struct notify_source *s)
{
	for (size_t i = 0; i < s->nhead; i++)
		json_decref(s->head[i].ev);
	for (size_t i = 0; i < s->ntail; i++)
		json_decref(s->tail[i].ev);
	for (size_t i = 0; i < s->nstorm; i++)
		json_decref(s->storm[i].ev);
	free(s->head);
	free(s->tail);
	json_decref(s->sender_counts);
	json_decref(s->rcpt_set);
}

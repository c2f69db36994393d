/* notify_filter.c - the disclosure filter; see notify.h.
 *
 * What the reporter marked "Withhold" never reaches the notified party:
 * recipients, senders, HELO names, internal host names (any host name,
 * alone or after '@', under InternalDomains). Each is replaced by a
 * bracketed "[... withheld]" so the reader sees that something was removed.
 *
 * The filter works on the fields of an event, before anything is formatted,
 * never on a formatted line: a value the client chose (a recipient
 * "<reject>", "<203.0.113.5>" or "<2026-06-23>") is replaced in the field
 * that holds it and, in free text such as the reason, where it stands as a
 * whole word; the fields that make the evidence - time, event, action, the
 * client's address and port, mode, queue id, counts - are never touched, and
 * neither is the client's address wherever it is written. */
#include "notify.h"
#include "lib/base/i18n.h"
#include "lib/base/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum field_kind { F_TEXT, F_PROTECTED, F_RECIPIENT, F_SENDER, F_HELO, F_HOST,
	F_OWN_HOST };

/* Every field the milter writes that is not free text; the rest is. */
static const struct {
	const char *key;
	enum field_kind kind;
} fields[] = {
	{"time", F_PROTECTED}, {"event", F_PROTECTED}, {"action", F_PROTECTED},
	{"client_addr", F_PROTECTED}, {"client_port", F_PROTECTED},
	{"mode", F_PROTECTED}, {"queue_id", F_PROTECTED}, {"count", F_PROTECTED},
	{"window_seconds", F_PROTECTED}, {"pid", F_PROTECTED},
	{"top_clients", F_PROTECTED}, {"original_clients", F_PROTECTED},
	{"recipient", F_RECIPIENT}, {"top_recipients", F_RECIPIENT},
	{"sender", F_SENDER}, {"original_senders", F_SENDER},
	{"helo", F_HELO},
	{"host", F_OWN_HOST}, {"client_name", F_HOST}, {"reporting_mtas", F_HOST},
};

static enum field_kind kind_of(const char *key)
{
	for (size_t i = 0; i < RG_NELEM(fields); i++)
		if (strcmp(fields[i].key, key) == 0)
			return fields[i].kind;
	return F_TEXT;
}

bool notify_withheld(const struct notify_opts *o, unsigned what)
{
	return (o->reporter->withhold & what) != 0;
}

/* "<a@b>" -> "a@b" */
static const char *bare(const char *v, char *buf, size_t len)
{
	strlcpy_rg(buf, v[0] == '<' ? v + 1 : v, len);
	buf[strcspn(buf, ">")] = '\0';
	return buf;
}

static bool host_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.';
}

/* s[at..at+len) replaced by with; a new string. */
static char *splice(char *s, size_t at, size_t len, const char *with)
{
	size_t total = strlen(s), wl = strlen(with);
	char *n = xmalloc(total - len + wl + 1);

	memcpy(n, s, at);
	memcpy(n + at, with, wl);
	memcpy(n + at + wl, s + at + len, total - at - len + 1);
	free(s);
	return n;
}

/* Every host name under InternalDomains in s, alone or after '@'. */
static char *internal_hosts(const struct notify_opts *o, char *s)
{
	const char *with = _("[internal host withheld]");
	size_t i = 0;

	if (!notify_withheld(o, RG_WITHHOLD_INTERNAL_HOSTS))
		return s;
	while (s[i]) {
		size_t j = i, len;
		char name[256];

		if (!host_char(s[i]) || (i > 0 && host_char(s[i - 1]))) {
			i++;
			continue;
		}
		while (host_char(s[j]))
			j++;
		len = j - i;
		if (len < sizeof(name) && memchr(s + i, '.', len)) {
			memcpy(name, s + i, len);
			name[len] = '\0';
			while (len > 0 && name[len - 1] == '.')
				name[--len] = '\0';
			if (rg_reporter_internal_host(o->reporter, name)) {
				s = splice(s, i, len, with);
				i += strlen(with);
				continue;
			}
		}
		i = j;
	}
	return s;
}

/* The milter's host is our mail server: an internal host whatever its
 * domain (a short name "mx1" is under no InternalDomains), so the host
 * field and the syslog host column say the same one-word marker. */
const char *notify_filter_host(const struct notify_opts *o, const char *host)
{
	return notify_withheld(o, RG_WITHHOLD_INTERNAL_HOSTS) ?
	    _("[internal-host-withheld]") : host;
}

char *notify_filter_text(const struct notify_opts *o, const char *text)
{
	return internal_hosts(o, xstrdup(text));
}

bool notify_filter_changes_sender(const struct notify_opts *o, const char *sender)
{
	char *f;
	bool changed;

	if (notify_withheld(o, RG_WITHHOLD_SENDERS))
		return true;
	f = notify_filter_text(o, sender);
	changed = strcmp(f, sender) != 0;
	free(f);
	return changed;
}

/* A byte that continues a word, an address or a host name. */
static bool word_byte(unsigned char c)
{
	return c != '\0' && (isalnum(c) || c >= 0x80 || strchr("._-+@%=/\\:", c) != NULL);
}

/* Every whole-word occurrence of needle (case-insensitive) in s. */
static char *replace_word(char *s, const char *needle, const char *with)
{
	size_t nl = strlen(needle), off = 0;
	char *p;

	if (nl < 3)	/* "<>" and "" stay: they reveal nothing */
		return s;
	while ((p = strcasestr(s + off, needle)) != NULL) {
		size_t at = (size_t)(p - s);

		if ((at > 0 && word_byte((unsigned char)s[at - 1])) ||
		    word_byte((unsigned char)p[nl])) {
			off = at + 1;
			continue;
		}
		s = splice(s, at, nl, with);
		off = at + strlen(with);
	}
	return s;
}

/* The withheld values of one event: what its free text must not show. */
struct needles {
	json_t *values;		/* bare value -> marker */
	json_t *keep;		/* bare values never replaced (the client's address) */
};

static void needle_add(struct needles *n, const char *v, const char *marker)
{
	char b[600];

	bare(v, b, sizeof(b));
	if (strlen(b) >= 3 && json_object_get(n->keep, b) == NULL &&
	    json_object_get(n->values, b) == NULL)
		json_object_set_new(n->values, b, json_string(marker));
}

/* value, or each item's value, of field key */
static void needles_of(struct needles *n, json_t *e, const char *key, const char *marker)
{
	json_t *v = json_object_get(e, key), *item;
	size_t i;

	if (json_is_string(v))
		needle_add(n, json_string_value(v), marker);
	json_array_foreach(v, i, item)
		needle_add(n, notify_jstr(item, "value"), marker);
}

/* A recipient that is also a sender of the event or the source's usual
 * one: a forged sender gets the bounces, but using it is the source's own
 * doing, so as a recipient it is withheld only with the senders. */
static bool forged_sender(const struct notify_opts *o, const struct notify_source *s,
    json_t *e, const char *rcpt)
{
	char a[600], b[600];
	json_t *item;
	size_t i;

	if (notify_withheld(o, RG_WITHHOLD_SENDERS))
		return false;
	bare(rcpt, a, sizeof(a));
	if (strcasecmp(a, bare(s->sender, b, sizeof(b))) == 0 ||
	    strcasecmp(a, bare(notify_jstr(e, "sender"), b, sizeof(b))) == 0)
		return true;
	json_array_foreach(json_object_get(e, "original_senders"), i, item)
		if (strcasecmp(a, bare(notify_jstr(item, "value"), b, sizeof(b))) == 0)
			return true;
	return false;
}

static void needles_build(const struct notify_opts *o, const struct notify_source *s,
    json_t *e, struct needles *n)
{
	json_t *item, *rcpts = json_array();
	size_t i;

	n->values = json_object();
	n->keep = json_object();
	json_object_set_new(n->keep, notify_jstr(e, "client_addr"), json_true());
	for (size_t k = 0; k < s->naddrs; k++)
		json_object_set_new(n->keep, s->addrs[k], json_true());
	json_array_foreach(json_object_get(e, "original_clients"), i, item)
		json_object_set_new(n->keep, notify_jstr(item, "value"), json_true());
	if (notify_withheld(o, RG_WITHHOLD_SENDERS)) {
		needles_of(n, e, "sender", _("[sender withheld]"));
		needles_of(n, e, "original_senders", _("[sender withheld]"));
	}
	if (notify_withheld(o, RG_WITHHOLD_HELO))
		needles_of(n, e, "helo", _("[helo withheld]"));
	if (notify_withheld(o, RG_WITHHOLD_INTERNAL_HOSTS))
		needles_of(n, e, "host", notify_filter_host(o, ""));
	if (notify_withheld(o, RG_WITHHOLD_RECIPIENTS)) {
		if (*notify_jstr(e, "recipient"))
			json_array_append_new(rcpts, json_string(notify_jstr(e, "recipient")));
		json_array_foreach(json_object_get(e, "top_recipients"), i, item)
			json_array_append(rcpts, json_object_get(item, "value"));
		json_array_foreach(rcpts, i, item)
			if (json_is_string(item) && !forged_sender(o, s, e, json_string_value(item)))
				needle_add(n, json_string_value(item), _("[recipient withheld]"));
	}
	json_decref(rcpts);
}

/* One value of a field of the given kind. */
static char *filter_value(const struct notify_opts *o, const struct notify_source *s,
    json_t *e, const struct needles *n, enum field_kind kind, const char *v)
{
	char *r;
	const char *k;
	json_t *m;
	bool angle = v[0] == '<' && v[strlen(v) - 1] == '>';

	if ((kind == F_RECIPIENT && notify_withheld(o, RG_WITHHOLD_RECIPIENTS) &&
	    !forged_sender(o, s, e, v)) || (kind == F_SENDER &&
	    notify_withheld(o, RG_WITHHOLD_SENDERS)) || (kind == F_HELO &&
	    notify_withheld(o, RG_WITHHOLD_HELO))) {
		char b[600];

		if (strlen(bare(v, b, sizeof(b))) >= 3)	/* "<>" reveals nothing */
			return xasprintf(angle ? "<%s>" : "%s", kind == F_RECIPIENT ?
			    _("[recipient withheld]") : kind == F_SENDER ?
			    _("[sender withheld]") : _("[helo withheld]"));
	}
	r = xstrdup(v);
	if (kind == F_TEXT)
		json_object_foreach(n->values, k, m)
			r = replace_word(r, k, json_string_value(m));
	return internal_hosts(o, r);
}

static json_t *filter_json(const struct notify_opts *o, const struct notify_source *s,
    json_t *e, const struct needles *n, enum field_kind kind, json_t *v)
{
	const char *k;
	json_t *c, *x;
	size_t i;

	if (kind == F_PROTECTED)
		return json_incref(v);
	if (kind == F_OWN_HOST && json_is_string(v) && *json_string_value(v))
		return json_string(notify_filter_host(o, json_string_value(v)));
	if (json_is_string(v)) {
		char *r = filter_value(o, s, e, n, kind, json_string_value(v));

		c = json_string(r);
		free(r);
		return c ? c : json_string("");
	}
	if (json_is_array(v)) {		/* lists of {value, count} */
		c = json_array();
		json_array_foreach(v, i, x)
			json_array_append_new(c, filter_json(o, s, e, n, kind, x));
		return c;
	}
	if (json_is_object(v)) {
		c = json_object();
		json_object_foreach(v, k, x)
			json_object_set_new(c, k, filter_json(o, s, e, n,
			    strcmp(k, "value") == 0 ? kind : F_PROTECTED, x));
		return c;
	}
	return json_incref(v);
}

json_t *notify_filter_event(const struct notify_opts *o, const struct notify_source *s,
    json_t *e)
{
	struct needles n;
	const char *k;
	json_t *c = json_object(), *v;

	needles_build(o, s, e, &n);
	json_object_foreach(e, k, v)
		json_object_set_new(c, k, filter_json(o, s, e, &n, kind_of(k), v));
	json_decref(n.values);
	json_decref(n.keep);
	return c;
}

/* notify_filter.c - the disclosure filter; see notify.h.
 *
 * What the reporter marked "Withhold" never reaches the notified party:
 * recipients (every recipient address of the source's events, with or
 * without <>), senders, helo names, and internal host names (any host name,
 * alone or after '@', under InternalDomains). Each is replaced by a
 * bracketed "[... withheld]" so the reader sees that something was removed. */
#include "notify.h"
#include "relayguard/i18n.h"
#include "relayguard/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool notify_withheld(const struct notify_opts *o, unsigned what)
{
	return (o->reporter->withhold & what) != 0;
}

/* Replace every occurrence of needle (case-insensitive) in *s. */
static void replace_all(char **s, const char *needle, const char *with)
{
	size_t nl = strlen(needle), wl = strlen(with);
	char *p;

	if (nl < 3)	/* "<>" and "" stay: they reveal nothing */
		return;
	for (size_t off = 0; (p = strcasestr(*s + off, needle)) != NULL;) {
		size_t at = (size_t)(p - *s), len = strlen(*s);
		char *n = xmalloc(len - nl + wl + 1);

		memcpy(n, *s, at);
		memcpy(n + at, with, wl);
		memcpy(n + at + wl, p + nl, len - at - nl + 1);
		free(*s);
		*s = n;
		off = at + wl;
	}
}

static void replace_value(char **s, const char *v, const char *with)
{
	char bare[600];

	strlcpy_rg(bare, v, sizeof(bare));
	if (bare[0] == '<') {
		memmove(bare, bare + 1, strlen(bare));
		bare[strcspn(bare, ">")] = '\0';
	}
	replace_all(s, bare, with);
}

/* Did the source use v as its envelope sender? */
static bool is_sender(const struct notify_source *src, const char *v)
{
	char a[600], b[600];

	strlcpy_rg(a, v[0] == '<' ? v + 1 : v, sizeof(a));
	a[strcspn(a, ">")] = '\0';
	for (size_t i = 0; i < src->nev; i++) {
		const char *snd = notify_jstr(src->ev[i].ev, "sender");

		strlcpy_rg(b, snd[0] == '<' ? snd + 1 : snd, sizeof(b));
		b[strcspn(b, ">")] = '\0';
		if (b[0] && strcasecmp(a, b) == 0)
			return true;
	}
	return false;
}

/* Every value of key (and of the items of list key2) in the source's events.
 * keep_senders: a value the source used as its sender is not touched (a
 * forged sender gets the bounces, but it is the source's own doing). */
static void replace_field(char **s, const struct notify_source *src, const char *key,
    const char *list, const char *with, bool keep_senders)
{
	for (size_t i = 0; i < src->nev; i++) {
		json_t *e = src->ev[i].ev, *a = json_object_get(e, list), *item;
		size_t j;

		if (*notify_jstr(e, key) && !(keep_senders && is_sender(src, notify_jstr(e, key))))
			replace_value(s, notify_jstr(e, key), with);
		json_array_foreach(a, j, item)
			if (!(keep_senders && is_sender(src, notify_jstr(item, "value"))))
				replace_value(s, notify_jstr(item, "value"), with);
	}
}

static bool host_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.';
}

static void replace_internal_hosts(const struct notify_opts *o, char **s)
{
	const char *with = _("[internal host withheld]");
	size_t i = 0;

	while ((*s)[i]) {
		size_t j = i, len;
		char name[256];

		if (!host_char((*s)[i]) || (i > 0 && host_char((*s)[i - 1]))) {
			i++;
			continue;
		}
		while (host_char((*s)[j]))
			j++;
		len = j - i;
		if (len < sizeof(name) && memchr(*s + i, '.', len)) {
			memcpy(name, *s + i, len);
			name[len] = '\0';
			while (len > 0 && name[len - 1] == '.')
				name[--len] = '\0';
			if (rg_reporter_internal_host(o->reporter, name)) {
				size_t total = strlen(*s), wl = strlen(with);
				char *n = xmalloc(total - len + wl + 1);

				memcpy(n, *s, i);
				memcpy(n + i, with, wl);
				memcpy(n + i + wl, *s + i + len, total - i - len + 1);
				free(*s);
				*s = n;
				i += wl;
				continue;
			}
		}
		i = j;
	}
}

char *notify_redact(const struct notify_opts *o, const struct notify_source *src,
    const char *text)
{
	char *s = xstrdup(text);

	if (notify_withheld(o, RG_WITHHOLD_RECIPIENTS))
		replace_field(&s, src, "recipient", "top_recipients",
		    _("[recipient withheld]"), !notify_withheld(o, RG_WITHHOLD_SENDERS));
	if (notify_withheld(o, RG_WITHHOLD_SENDERS))
		replace_field(&s, src, "sender", "original_senders", _("[sender withheld]"), false);
	if (notify_withheld(o, RG_WITHHOLD_HELO))
		replace_field(&s, src, "helo", "", _("[helo withheld]"), false);
	if (notify_withheld(o, RG_WITHHOLD_INTERNAL_HOSTS))
		replace_internal_hosts(o, &s);
	return s;
}

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

/* Every needle of set (but those in keep, when given) replaced by with. */
static void replace_set(char **s, json_t *set, json_t *keep, const char *with)
{
	const char *needle;
	json_t *v;

	json_object_foreach(set, needle, v)
		if (keep == NULL || json_object_get(keep, needle) == NULL)
			replace_all(s, needle, with);
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

	/* a forged sender gets the bounces, but using it is the source's own
	 * doing: as a recipient it is withheld only with the senders */
	if (notify_withheld(o, RG_WITHHOLD_RECIPIENTS))
		replace_set(&s, src->recipients_set, notify_withheld(o, RG_WITHHOLD_SENDERS) ?
		    NULL : src->senders_set, _("[recipient withheld]"));
	if (notify_withheld(o, RG_WITHHOLD_SENDERS))
		replace_set(&s, src->senders_set, NULL, _("[sender withheld]"));
	if (notify_withheld(o, RG_WITHHOLD_HELO))
		replace_set(&s, src->helos_set, NULL, _("[helo withheld]"));
	if (notify_withheld(o, RG_WITHHOLD_INTERNAL_HOSTS))
		replace_internal_hosts(o, &s);
	return s;
}

/*
 * baseline.c - relayguard-audit --baseline PREVIOUS: what changed since an
 * earlier run, per target. What a CSIRT runs a week after notifying.
 *
 * PREVIOUS is an earlier -f json or -f jsonl output (relayguard or IntelMQ
 * field names: "verdict" or "extra.verdict", ...). A target is matched by
 * its address and port, else by its host name and port. The change:
 *	new                 not in the baseline
 *	newly_open          open now, not before            open_since = now
 *	still_open          open then and now               open_since carried over
 *	fixed               open then, closed (or accept-all, not a relay) now
 *	                                                    fixed_at = this audit
 *	newly_unreachable   reachable then, unreachable now
 *	changed             another verdict change (e.g. open -> inconclusive)
 *	unchanged           the same verdict
 * open_since travels in the JSON ("baseline": {...}), so a chain of runs
 * keeps the first time a target was seen open.
 */
#include "audit.h"
#include "lib/base/i18n.h"
#include "lib/base/log.h"
#include "lib/base/util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct audit_baseline {
	json_t *index;			/* key -> {verdict, start, open_since} */
	char path[512];
	size_t n;
};

static json_t *field(json_t *o, const char *name)
{
	char ext[80];
	json_t *v = json_object_get(o, name);

	if (v == NULL) {
		snprintf(ext, sizeof(ext), "extra.%s", name);
		v = json_object_get(o, ext);
	}
	return v;
}

static const char *sfield(json_t *o, const char *name)
{
	json_t *v = field(o, name);

	return json_is_string(v) ? json_string_value(v) : "";
}

struct audit_baseline *audit_baseline_load(const char *path, char *err, size_t errlen)
{
	FILE *in = fopen(path, "r");
	struct audit_baseline *b;
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0;

	if (in == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	b = xcalloc(1, sizeof(*b));
	b->index = json_object();
	strlcpy_rg(b->path, path, sizeof(b->path));
	while (getline(&line, &cap, in) > 0) {
		json_error_t e;
		json_t *j, *port, *entry, *since;
		const char *verdict, *addr, *host;
		char key[300];

		lineno++;
		if (audit_json_frame_line(line) || line[strspn(line, " \t")] == '\0')
			continue;	/* -f json's array lines, blank lines */
		j = json_loads(line, 0, &e);
		verdict = j ? sfield(j, "verdict") : "";
		port = j ? field(j, "port") : NULL;
		if (!json_is_integer(port))
			port = j ? json_object_get(j, "source.port") : NULL;
		if (j == NULL || !*verdict || !json_is_integer(port)) {
			msg_warn("--baseline: %s:%d: not a relayguard-audit result, ignored",
			    path, lineno);
			json_decref(j);
			continue;
		}
		entry = json_object();
		json_object_set_new(entry, "verdict", json_string(verdict));
		json_object_set_new(entry, "start", json_string(sfield(j, "start")));
		since = json_object_get(json_object_get(j, "baseline"), "open_since");
		if (!json_is_string(since))
			since = json_object_get(json_object_get(j, "extra.baseline"), "open_since");
		if (json_is_string(since))
			json_object_set(entry, "open_since", since);
		addr = sfield(j, "address");
		if (!*addr && json_is_string(json_object_get(j, "source.ip")))
			addr = json_string_value(json_object_get(j, "source.ip"));
		host = sfield(j, "host");
		if (*addr) {
			audit_target_key(addr, (int)json_integer_value(port), key, sizeof(key));
			json_object_set(b->index, key, entry);
		}
		if (*host) {
			audit_target_key(host, (int)json_integer_value(port), key, sizeof(key));
			if (json_object_get(b->index, key) == NULL)
				json_object_set(b->index, key, entry);
		}
		json_decref(entry);
		json_decref(j);
		b->n++;
	}
	free(line);
	fclose(in);
	return b;
}

void audit_baseline_free(struct audit_baseline *b)
{
	if (b == NULL)
		return;
	json_decref(b->index);
	free(b);
}

const char *audit_baseline_path(const struct audit_baseline *b)
{
	return b->path;
}

void audit_baseline_compare(const struct audit_baseline *b, struct audit_target *t)
{
	char key[300], now[RG_TIME_ISO_LEN];
	json_t *e = NULL;
	const char *prev;
	bool was_open, is_open = t->verdict == VERDICT_OPEN_RELAY;
	struct baseline_change *c = &t->base;

	memset(c, 0, sizeof(*c));
	c->compared = true;
	rg_time_iso8601(&t->start, now, sizeof(now));
	if (t->address[0]) {
		audit_target_key(t->address, t->port, key, sizeof(key));
		e = json_object_get(b->index, key);
	}
	if (e == NULL) {
		audit_target_key(t->host, t->port, key, sizeof(key));
		e = json_object_get(b->index, key);
	}
	if (e == NULL) {
		strlcpy_rg(c->change, "new", sizeof(c->change));
		if (is_open)
			strlcpy_rg(c->open_since, now, sizeof(c->open_since));
		return;
	}
	prev = json_string_value(json_object_get(e, "verdict"));
	strlcpy_rg(c->prev_verdict, prev, sizeof(c->prev_verdict));
	strlcpy_rg(c->prev_start, json_string_value(json_object_get(e, "start")),
	    sizeof(c->prev_start));
	was_open = strcmp(prev, "open_relay") == 0;
	if (was_open && is_open) {
		json_t *since = json_object_get(e, "open_since");

		strlcpy_rg(c->change, "still_open", sizeof(c->change));
		strlcpy_rg(c->open_since, json_is_string(since) ? json_string_value(since) :
		    c->prev_start, sizeof(c->open_since));
	} else if (is_open) {
		strlcpy_rg(c->change, "newly_open", sizeof(c->change));
		strlcpy_rg(c->open_since, now, sizeof(c->open_since));
	} else if (t->verdict == VERDICT_UNREACHABLE && strcmp(prev, "unreachable") != 0) {
		strlcpy_rg(c->change, "newly_unreachable", sizeof(c->change));
	} else if (was_open && (t->verdict == VERDICT_CLOSED ||
	    t->verdict == VERDICT_ACCEPT_ALL)) {
		strlcpy_rg(c->change, "fixed", sizeof(c->change));
		strlcpy_rg(c->fixed_at, now, sizeof(c->fixed_at));
	} else if (strcmp(prev, verdict_name(t->verdict)) == 0) {
		strlcpy_rg(c->change, "unchanged", sizeof(c->change));
	} else {
		strlcpy_rg(c->change, "changed", sizeof(c->change));
	}
}

json_t *audit_baseline_json(const struct audit_target *t)
{
	const struct baseline_change *c = &t->base;
	json_t *o = json_object();

	json_object_set_new(o, "change", json_string(c->change));
	json_object_set_new(o, "previous_verdict", c->prev_verdict[0] ?
	    json_string(c->prev_verdict) : json_null());
	json_object_set_new(o, "previous_start", c->prev_start[0] ?
	    json_string(c->prev_start) : json_null());
	if (c->open_since[0])
		json_object_set_new(o, "open_since", json_string(c->open_since));
	if (c->fixed_at[0])
		json_object_set_new(o, "fixed_at", json_string(c->fixed_at));
	return o;
}

void audit_baseline_text(const struct audit_target *t, FILE *out)
{
	const struct baseline_change *c = &t->base;

	if (strcmp(c->change, "new") == 0)
		fprintf(out, _("Baseline: not in the earlier run\n"));
	else if (strcmp(c->change, "still_open") == 0)
		fprintf(out, _("Baseline: STILL OPEN since %s (earlier run %s)\n"),
		    c->open_since, c->prev_start);
	else if (strcmp(c->change, "newly_open") == 0)
		fprintf(out, _("Baseline: NEWLY OPEN (was %s at %s)\n"), c->prev_verdict,
		    c->prev_start);
	else if (strcmp(c->change, "fixed") == 0)
		fprintf(out, _("Baseline: FIXED at %s (open relay at %s)\n"), c->fixed_at,
		    c->prev_start);
	else if (strcmp(c->change, "newly_unreachable") == 0)
		fprintf(out, _("Baseline: NEWLY UNREACHABLE (was %s at %s)\n"), c->prev_verdict,
		    c->prev_start);
	else if (strcmp(c->change, "changed") == 0)
		fprintf(out, _("Baseline: changed from %s (at %s)\n"), c->prev_verdict,
		    c->prev_start);
	else
		fprintf(out, _("Baseline: unchanged since %s (%s)\n"), c->prev_start,
		    c->prev_verdict);
}

void audit_baseline_summary(const struct audit_baseline *b, const struct audit_target *t,
    const bool *have, size_t n, FILE *out)
{
	static const char *const changes[] = {"newly_open", "still_open", "fixed",
		"newly_unreachable", "changed", "unchanged", "new"};
	size_t count[RG_NELEM(changes)] = {0};

	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; have[i] && k < RG_NELEM(changes); k++)
			count[k] += strcmp(t[i].base.change, changes[k]) == 0;
	fprintf(out, _("Compared with %s (%zu earlier results): %zu newly open, %zu still "
	    "open, %zu fixed, %zu newly unreachable, %zu changed otherwise, %zu unchanged, "
	    "%zu new\n"), b->path, b->n, count[0], count[1], count[2], count[3], count[4],
	    count[5], count[6]);
}

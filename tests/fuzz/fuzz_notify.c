/*
 * fuzz_notify.c - libFuzzer target for relayguard-report notify's input:
 * the milter's event log (JSON lines, keys included), read by
 * report/notify_events.c and written by every notify writer. Build with
 * "make fuzz"; run build-fuzz/fuzz_notify.
 *
 * The first input byte picks the Withhold bits (recipients, internal
 * hosts, senders, HELO; InternalDomains = example) and --network; the rest
 * is the event log. For every source, the e-mail body, the IODEF, X-ARF and
 * IntelMQ documents must hold no raw C0 control (but the line feeds the
 * writers put between lines), no DEL, no C1 (U+0080-U+009F), no bidi
 * control and no U+2028/U+2029, and be valid UTF-8; every JSON string and
 * the decoded X-ARF evidence likewise, with no line feed at all. Every
 * excerpt line must carry its event's own time, event name, action and
 * client address, whatever the disclosure filter withholds.
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../report/notify.h"
#include "lib/mail/eventlog.h"
#include "lib/base/log.h"
#include "lib/mail/reporter.h"
#include "lib/base/util.h"
#include "fuzz.h"


/* text[0..n) is valid UTF-8 without a control, C1, bidi or separator
 * character; a line feed only where lf_ok. */
static void check_text(const char *text, size_t n, bool lf_ok)
{
	const unsigned char *u = (const unsigned char *)text;
	uint32_t cp;
	size_t len;

	for (size_t i = 0; i < n; i += len) {
		if ((len = fuzz_utf8_len(u + i, n - i, &cp)) == 0)
			abort();
		if (cp == '\n' && lf_ok)
			continue;
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
		    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
		    cp == 0x200e || cp == 0x200f || cp == 0x061c || cp == 0x2028 ||
		    cp == 0x2029)
			abort();
	}
}

/* Every string (and key) of a JSON document; the X-ARF evidence decoded. */
static void check_json(json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_string(j))
		check_text(json_string_value(j), json_string_length(j), false);
	json_object_foreach(j, k, v) {
		check_text(k, strlen(k), false);
		if (strcmp(k, "payload") == 0 && json_is_string(v)) {
			size_t n = json_string_length(v);
			unsigned char *d = malloc(n + 4);
			int dl = EVP_DecodeBlock(d, (const unsigned char *)json_string_value(v), (int)n);

			if (dl < 0)
				abort();
			while (dl > 0 && d[dl - 1] == '\0')	/* base64 padding */
				dl--;
			check_text((const char *)d, (size_t)dl, true);
			free(d);
		}
		check_json(v);
	}
	json_array_foreach(j, i, v)
		check_json(v);
}

typedef int (*writer)(const struct notify_opts *, const struct notify_source *, FILE *);

static void run_writer(writer w, const struct notify_opts *o, const struct notify_source *s,
    bool json)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	if (f == NULL)
		return;
	if (w(o, s, f) != 0)
		abort();
	fclose(f);
	check_text(buf, n, true);
	if (json) {
		json_error_t err;
		json_t *j = json_loadb(buf, n, 0, &err);

		if (j == NULL)
			abort();
		check_json(j);
		json_decref(j);
	}
	free(buf);
}

/* needle "key=value" as rg_event_format_kv() writes it */
static bool has_field(const char *line, const char *key, const char *v)
{
	struct rg_event_field f = {.key = key, .str = v};
	struct rg_event ev = {.fields = &f, .nfields = 1};
	char kv[1200];

	if (*v == '\0')
		return true;
	rg_event_format_kv(&ev, kv, sizeof(kv));
	return strstr(line, kv) != NULL;
}

/* The excerpt lines against the kept events: time, event, action, client. */
static void check_excerpt(const struct notify_opts *o, const struct notify_source *s)
{
	const struct notify_event *kept[1024];
	char **lines, iso[RG_TIME_ISO_LEN], want[RG_TIME_ISO_LEN + 8];
	size_t nk = notify_kept(s, kept), n = notify_excerpt(o, s, &lines), k = 0;

	for (size_t i = 0; i < n; i++) {
		const char *l = lines[i];
		struct timeval tv;
		json_t *e;

		if (strncmp(l, "    ...", 7) == 0)
			continue;
		if (k >= nk)
			abort();
		e = kept[k++]->ev;
		tv = notify_tv(kept[k - 1]->when);
		snprintf(want, sizeof(want), " time=%s ", rg_time_iso8601(&tv, iso, sizeof(iso)));
		if (strstr(l, want) == NULL)
			abort();
		if (strlen(l) < 600 && (!has_field(l, "event", notify_jstr(e, "event")) ||
		    !has_field(l, "action", notify_jstr(e, "action")) ||
		    !has_field(l, "client_addr", notify_jstr(e, "client_addr"))))
			abort();
	}
	if (k != nk)
		abort();
	notify_excerpt_free(lines, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rg_reporter *rep;
	static struct rg_clock clock;
	char path[] = "/tmp/fuzz_notify.XXXXXX", err[300];
	struct notify_opts o = {.victim_port = 25, .excerpt = 6, .tlp = "amber",
		.host = "mx1.example", .events_path = path, .victim = "192.0.2.1"};
	struct notify_log log;
	int fd;

	if (size < 1)
		return 0;
	if (rep == NULL) {
		rg_clock_read(&clock);
		rep = rg_reporter_parse_string("Organisation = Fuzz\nInternalDomains = example\n",
		    "fuzz", err, sizeof(err));
		if (rep == NULL)
			abort();
	}
	rep->withhold = data[0] & 0x0f;
	o.reporter = rep;
	o.clock = clock;
	if ((fd = mkstemp(path)) < 0)
		return 0;
	if (write(fd, data + 1, size - 1) != (ssize_t)(size - 1)) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	if (notify_read(path, data[0] & 0x10 ? 24 : 0, data[0] & 0x10 ? 64 : 0, o.excerpt,
	    &log, err, sizeof(err)) == 0) {
		o.log_clock = log.milter_clock;
		o.log_zone = log.milter_zone;
		for (size_t i = 0; i < log.n; i++) {
			const struct notify_source *s = &log.src[i];

			check_excerpt(&o, s);
			run_writer(notify_mail, &o, s, false);
			run_writer(notify_iodef, &o, s, false);
			run_writer(notify_xarf, &o, s, true);
			run_writer(notify_intelmq, &o, s, true);
		}
		notify_log_free(&log);
	}
	unlink(path);
	return 0;
}

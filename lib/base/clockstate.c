/* clockstate.c - kernel NTP state and local time zone; see clockstate.h. */
#include "lib/base/clockstate.h"
#include "lib/base/i18n.h"
#include "lib/base/util.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

static void zone_name(char *buf, size_t len)
{
	const char *tz = getenv("TZ");
	char link[PATH_MAX];
	ssize_t n;
	FILE *f;

	buf[0] = '\0';
	if (tz != NULL && *tz != '\0') {
		strlcpy_rg(buf, tz[0] == ':' ? tz + 1 : tz, len);
		return;
	}
	if ((f = fopen("/etc/timezone", "r")) != NULL) {
		if (fgets(buf, (int)len, f) != NULL)
			buf[strcspn(buf, "\r\n")] = '\0';
		fclose(f);
		if (buf[0])
			return;
	}
	n = readlink("/etc/localtime", link, sizeof(link) - 1);
	if (n > 0) {
		const char *p;

		link[n] = '\0';
		p = strstr(link, "zoneinfo/");
		if (p != NULL)
			strlcpy_rg(buf, p + 9, len);
	}
}

void rg_clock_read(struct rg_clock *c)
{
	struct timex tx;
	time_t now = time(NULL);
	struct tm tm;
	char z[8];
	int r;

	memset(c, 0, sizeof(*c));
	memset(&tx, 0, sizeof(tx));
	tx.modes = 0;
	r = ntp_adjtime(&tx);
	if (r < 0) {
		snprintf(c->error, sizeof(c->error), "ntp_adjtime: %s", strerror(errno));
	} else {
		c->known = true;
		c->state = r;
		c->status = tx.status;
		c->esterror_us = tx.esterror;
		c->maxerror_us = tx.maxerror;
		c->synced = r != TIME_ERROR && !(tx.status & STA_UNSYNC);
	}
	localtime_r(&now, &tm);
	strftime(z, sizeof(z), "%z", &tm);
	snprintf(c->utc_offset, sizeof(c->utc_offset), "%.3s:%.2s", z, z + 3);
	strlcpy_rg(c->zone_abbr, tm.tm_zone ? tm.tm_zone : "", sizeof(c->zone_abbr));
	zone_name(c->zone_name, sizeof(c->zone_name));
}

const char *rg_clock_state_word(const struct rg_clock *c)
{
	return !c->known ? "unknown" : c->synced ? "synchronised" : "unsynchronised";
}

/* "0.5 ms", "12 ms", "16 s" */
static char *error_text(long us, char *buf, size_t len)
{
	if (us < 1000)
		snprintf(buf, len, "%.1f ms", (double)us / 1000.0);
	else if (us < 1000000)
		snprintf(buf, len, "%ld ms", us / 1000);
	else
		snprintf(buf, len, "%.0f s", (double)us / 1e6);
	return buf;
}

char *rg_clock_describe(const struct rg_clock *c, char *buf, size_t len)
{
	char est[32], max[32];

	if (!c->known)
		snprintf(buf, len, _("clock synchronisation unknown (%s)"), c->error);
	else if (c->synced)
		snprintf(buf, len, _("clock synchronised (kernel NTP state; estimated "
		    "error %s, maximum error %s)"), error_text(c->esterror_us, est,
		    sizeof(est)), error_text(c->maxerror_us, max, sizeof(max)));
	else
		snprintf(buf, len, _("clock NOT known to be synchronised (kernel NTP "
		    "state: STA_UNSYNC; maximum error %s)"),
		    error_text(c->maxerror_us, max, sizeof(max)));
	return buf;
}

char *rg_clock_zone_line(const struct rg_clock *c, char *buf, size_t len)
{
	if (c->zone_name[0] && strcmp(c->zone_name, c->zone_abbr) != 0)
		snprintf(buf, len, _("times are %s (%s, UTC%s)"), c->zone_abbr,
		    c->zone_name, c->utc_offset);
	else
		snprintf(buf, len, _("times are %s (UTC%s)"), c->zone_abbr,
		    c->utc_offset);
	return buf;
}

json_t *rg_clock_json(const struct rg_clock *c)
{
	json_t *o = json_object();

	json_object_set_new(o, "time_zone", json_string(c->zone_abbr));
	json_object_set_new(o, "zone_name", c->zone_name[0] ?
	    json_string(c->zone_name) : json_null());
	json_object_set_new(o, "utc_offset", json_string(c->utc_offset));
	json_object_set_new(o, "clock", json_string(rg_clock_state_word(c)));
	if (c->known) {
		json_object_set_new(o, "esterror_us", json_integer(c->esterror_us));
		json_object_set_new(o, "maxerror_us", json_integer(c->maxerror_us));
	}
	return o;
}

/*
 * clockstate.h - clock evidence for reports: the time zone the timestamps
 * are written in, and whether the host's clock was synchronised when the
 * evidence was recorded (a CSIRT weighs log times by it).
 *
 * rg_clock_read() asks the kernel's NTP state with ntp_adjtime(2) in
 * read-only mode (modes 0; needs no privilege): synchronised means the
 * call did not return TIME_ERROR and STA_UNSYNC is clear; esterror and
 * maxerror are the kernel's estimated and maximum error in microseconds.
 * The zone is the local one (TZ, else /etc/localtime): its abbreviation
 * (tm_zone, "JST"), IANA name when known (TZ or /etc/timezone, else the
 * /etc/localtime link), and UTC offset ("+09:00").
 *
 * rg_clock_describe() renders one translated sentence, e.g.
 *	"clock synchronised (kernel NTP state; estimated error 0.5 ms,
 *	 maximum error 12 ms)"
 *	"clock NOT known to be synchronised (kernel NTP state: STA_UNSYNC;
 *	 maximum error 16 s)"
 * rg_clock_zone_line(): "times are JST (Asia/Tokyo, UTC+09:00)".
 */
#ifndef RELAYGUARD_CLOCKSTATE_H
#define RELAYGUARD_CLOCKSTATE_H

#include <stdbool.h>
#include <stddef.h>

struct rg_clock {
	bool known;			/* ntp_adjtime answered */
	bool synced;
	int state;			/* ntp_adjtime() return (TIME_OK ...) */
	int status;			/* STA_* bits */
	long esterror_us, maxerror_us;
	char zone_abbr[16];		/* "JST" */
	char zone_name[64];		/* "Asia/Tokyo", or "" */
	char utc_offset[8];		/* "+09:00" */
	char error[128];		/* when !known */
};

void rg_clock_read(struct rg_clock *c);
char *rg_clock_describe(const struct rg_clock *c, char *buf, size_t len);
char *rg_clock_zone_line(const struct rg_clock *c, char *buf, size_t len);
/* "synchronised" / "unsynchronised" / "unknown" (not translated: for JSON). */
const char *rg_clock_state_word(const struct rg_clock *c);
/* {"time_zone":"JST","zone_name":"Asia/Tokyo","utc_offset":"+09:00",
 *  "clock":"synchronised","esterror_us":..,"maxerror_us":..} (new reference) */
struct json_t *rg_clock_json(const struct rg_clock *c);

#endif

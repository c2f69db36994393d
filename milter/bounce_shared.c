/*
 * bounce_shared.c - bounce-storm windows counted over every MX host that
 * shares a SharedState server (shared.h): a storm split over several MX
 * crosses the thresholds there even where no single MX's sensor does.
 *
 * Every bounce the local sensor (bounce.h) counts is counted on the
 * server too, per origin: in total, per recipient and per client, with
 * BounceThreshold, BounceRecipientThreshold and BounceClientThreshold.
 * The bounce that reaches one of them starts a shared storm: a key that
 * lives for BounceWindow and that only one MX can create, so the storm is
 * reported once, as bounce_storm_shared, by that MX. The local sensor
 * goes on as without shared state (its own events, summaries, actions).
 */
#include "milter.h"
#include "shared.h"
#include "lib/base/util.h"

#include <stdio.h>

static const char *const dim_name[3] = {"bounces", "recipient", "client"};
static const char *const key_name[3] = {"BounceThreshold",
    "BounceRecipientThreshold", "BounceClientThreshold"};

void milter_bounce_shared(const struct conn *c, bool generated,
    const char *rcpt, const char *client)
{
	const char *origin = generated ? "generated" : "inbound";
	struct shared_bounce b;
	char reason[400];
	int i;

	if (!shared_enabled() || shared_bounce(origin, rcpt, client, c->conf,
	    c->myhostname[0] ? c->myhostname : "unknown", &b) != 0 ||
	    b.started == 0)
		return;
	i = b.started - 1;
	snprintf(reason, sizeof(reason), "%lu %s bounces %s%s within %ld s, "
	    "counted over every MX sharing the state (%s %ld)", b.count[i],
	    origin, i == 1 ? "to " : i == 2 ? "about client " : "",
	    i == 1 ? rcpt : i == 2 ? client : "", c->conf->bounce_window,
	    key_name[i], b.threshold);
	struct rg_event_field f[] = {
		{.key = "origin", .str = origin},
		{.key = "trigger", .str = dim_name[i]},
		{.key = "count", .num = (long)b.count[i]},
		{.key = "threshold", .num = b.threshold},
		{.key = "window", .num = c->conf->bounce_window},
		{.key = "bounces", .num = (long)b.count[0]},
		{.key = "recipient_bounces", .num = (long)b.count[1]},
		{.key = "client_bounces", .num = (long)b.count[2]},
		{.key = "bounce_client", .str = client},
	};

	milter_record(c, "bounce_storm_shared", "none", rcpt, reason, f,
	    RG_NELEM(f));
}

/*
 * abuser_state.c - one source of the penalty box; see abuser_state.h.
 */
#include "abuser_state.h"
#include "lib/mail/netmatch.h"
#include "lib/base/util.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* A boxed source outweighs any count: never evicted for an unboxed one. */
#define BOXED_WEIGHT	(ULONG_MAX / 2)

bool abuser_source_key(const struct rg_config *conf, bool have_addr,
    const char *client_addr, const char *auth, char *buf, size_t len)
{
	unsigned char a[16];
	int family, bits;
	char text[INET6_ADDRSTRLEN];

	if (conf->abuser_threshold <= 0 || !have_addr || auth[0] != '\0' ||
	    rg_cidr_list_match_text(&conf->trusted_networks, client_addr) ||
	    rg_cidr_list_match_text(&conf->abuser_exempt, client_addr))
		return false;
	family = strchr(client_addr, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(family, client_addr, a) != 1)
		return false;
	bits = (int)(family == AF_INET ? conf->abuser_prefix4 : conf->abuser_prefix6);
	for (int i = 0; i < (family == AF_INET ? 4 : 16); i++) {
		int keep = bits - 8 * i;

		a[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 :
		    (unsigned char)(0xff << (8 - keep));
	}
	inet_ntop(family, a, text, sizeof(text));
	snprintf(buf, len, "%s/%d", text, bits);
	return true;
}

void abuser_source_box(struct source *s, const struct rg_config *conf,
    const char *client, unsigned long count, const struct shared_answer *sa,
    double now)
{
	if (s->first == 0)		/* boxed by another MX: no run here */
		s->first = s->last = now;
	s->boxed_at = now;
	s->until = now + (sa != NULL && sa->box_ms > 0 ? (double)sa->box_ms / 1000 :
	    (double)conf->abuser_block_time);
	s->attempts = count;
	s->refused = 0;
	s->learned = false;
	s->enforced = conf->mode == RG_MODE_ENFORCE;
	strlcpy_rg(s->client, client, sizeof(s->client));
	strlcpy_rg(s->boxed_by, sa != NULL ? sa->boxed_by : "", sizeof(s->boxed_by));
}

bool abuser_source_attempt(struct source *s, const struct rg_config *conf,
    const char *client, const struct shared_answer *sa, bool lost,
    const char *host, double now)
{
	const double window = (double)conf->abuser_window;
	const bool enforce = conf->mode == RG_MODE_ENFORCE;
	unsigned long count;
	bool due;

	if (bw_ring_count(&s->ring, window, now) == 0)
		s->first = now;
	count = bw_ring_add(&s->ring, window, now, 1);
	s->last = now;
	if (sa == NULL && lost) {
		s->pending++;		/* merged back when the server returns */
		strlcpy_rg(s->counted_by, host, sizeof(s->counted_by));
	}
	if (sa != NULL)
		count = sa->count;
	due = count >= (unsigned long)conf->abuser_threshold ||
	    (sa != NULL && sa->box_ms > 0);
	if ((s->until == 0 || (!s->enforced && enforce)) && due) {
		abuser_source_box(s, conf, client, count, sa, now);
		return true;
	}
	return false;
}

void abuser_source_learn(struct source *s, const struct rg_config *conf,
    const char *client, const struct shared_answer *sa, double now)
{
	const unsigned long here = bw_ring_count(&s->ring,
	    (double)conf->abuser_window, now);

	/* the shared count when known, else what was seen here */
	abuser_source_box(s, conf, client, sa->count > 0 ? sa->count : here, sa,
	    now);
	s->learned = here == 0;
	s->refused = 1;
}

bool abuser_source_refuses(struct source *s, double now)
{
	if (!s->enforced || s->until <= now)
		return false;
	s->refused++;
	return true;
}

bool abuser_source_expire(struct source *s, double now, struct source *was)
{
	if (s->until == 0 || s->until > now)
		return false;
	*was = *s;
	/* a clean slate: the next box needs a new run of attempts */
	memset(s, 0, sizeof(*s));
	return true;
}

unsigned long abuser_source_weight(struct source *s, double window,
    double now)
{
	return s->until > 0 ? BOXED_WEIGHT : bw_ring_count(&s->ring, window, now);
}

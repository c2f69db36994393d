/*
 * transcript.c - each target's bounded SMTP transcript, and its lines
 * grouped by session for the reports; see transcript.h.
 */
#include "transcript.h"
#include "lib/base/util.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The cut marker's text: how much of the middle is gone. */
static void tx_mark_cut(struct audit_target *t)
{
	struct tx_line *m = &t->tx[t->tx_head];

	m->tag = NULL;		/* the cut is the target's, not a session's */
	free(m->line);
	m->line = xasprintf("transcript cut here: %zu lines (%zu bytes) omitted; the "
	    "first %u KiB and the last %u KiB of each target's transcript are kept",
	    t->tx_cut_lines, t->tx_cut_bytes, AUDIT_TX_HEAD_BYTES / 1024,
	    AUDIT_TX_TAIL_BYTES / 1024);
}

/* The tail is over its share: drop its oldest lines down to three
 * quarters of it (so a memmove is paid once per quarter, not per line);
 * the first dropped line's slot becomes the marker. */
static void tx_cut(struct audit_target *t)
{
	size_t from = t->tx_truncated ? t->tx_head + 1 : t->tx_head, k = from;

	while (k < t->ntx - 1 && t->tx_tail_bytes > AUDIT_TX_TAIL_BYTES * 3 / 4) {
		size_t len = strlen(t->tx[k].line);

		t->tx_tail_bytes -= len + 1 + sizeof(struct tx_line);
		t->tx_bytes -= len + 1 + sizeof(struct tx_line);
		t->tx_cut_bytes += len + 1;
		t->tx_cut_lines++;
		if (k > t->tx_head || t->tx_truncated)
			free(t->tx[k].line);
		else		/* slot tx_head: kept as the marker */
			t->tx[k].dir = RG_TX_EVENT;
		k++;
	}
	if (k == from)
		return;
	if (!t->tx_truncated) {
		t->tx_truncated = true;
		from++;		/* the marker stays at tx_head */
		t->tx_bytes += sizeof(struct tx_line);
	}
	memmove(t->tx + from, t->tx + k, (t->ntx - k) * sizeof(*t->tx));
	t->ntx -= k - from;
	tx_mark_cut(t);
}

/* The sessions of a target run as fibers on one thread (fiber.h): they
 * share the target's state without locks, switching only where they wait. */
void tx_add(struct audit_target *t, const struct tx_tag *tag,
    const struct timeval *when, enum rg_transcript_dir dir, const char *text)
{
	size_t len = strnlen(text, 1000), cost = len + 1 + sizeof(struct tx_line);

	if (!t->keep_tx)	/* no report shows it */
		return;
	if (t->ntx == t->captx) {
		t->captx = t->captx ? t->captx * 2 : 256;
		t->tx = xrealloc(t->tx, t->captx * sizeof(*t->tx));
	}
	t->tx[t->ntx].when = *when;
	t->tx[t->ntx].dir = (char)dir;
	t->tx[t->ntx].line = xstrndup(text, len);
	t->tx[t->ntx].tag = tag;
	t->ntx++;
	t->tx_bytes += cost;
	if (t->tx_tail_bytes == 0 && t->tx_bytes <= AUDIT_TX_HEAD_BYTES) {
		t->tx_head = t->ntx;	/* still in the first part */
		return;
	}
	t->tx_tail_bytes += cost;
	if (t->tx_tail_bytes > AUDIT_TX_TAIL_BYTES)
		tx_cut(t);
}

void tx_record(void *arg, const struct timeval *when,
    enum rg_transcript_dir dir, const char *text)
{
	tx_add(arg, NULL, when, dir, text);
}

/* A connection's own lines, tagged with its session and local port. */
void tx_record_tagged(void *arg, const struct timeval *when,
    enum rg_transcript_dir dir, const char *text)
{
	struct tx_tag *tag = arg;

	tx_add(tag->t, tag, when, dir, text);
}

struct tx_tag *tx_tag_new(struct audit_target *t)
{
	struct tx_tag *tag = xcalloc(1, sizeof(*tag));

	tag->t = t;
	tag->next = t->tx_tags;
	t->tx_tags = tag;
	return tag;
}

/* Sessions by number; connections never opened (0), then the target's
 * own events (NULL), last. */
static int tag_key(const struct tx_tag *g)
{
	return g == NULL ? INT_MAX : g->session ? g->session : INT_MAX - 1;
}

size_t audit_tx_groups(const struct audit_target *t, const struct tx_tag ***out)
{
	const struct tx_tag **g = NULL;
	size_t n = 0;

	for (size_t i = 0; i < t->ntx; i++) {
		const struct tx_tag *tag = t->tx[i].tag;
		size_t k = 0;

		while (k < n && g[k] != tag)
			k++;
		if (k < n)
			continue;
		/* insertion in key order, after equal keys: first seen first */
		g = xrealloc(g, (n + 1) * sizeof(*g));
		for (k = n; k > 0 && tag_key(g[k - 1]) > tag_key(tag); k--)
			g[k] = g[k - 1];
		g[k] = tag;
		n++;
	}
	*out = g;
	return n;
}

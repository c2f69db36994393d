/*
 * session.c - run the relay battery against one target: build it from the
 * trick catalogue, spread its probes over --per-host lanes, run the passes
 * (the battery, the retries with an accepted sender, the DATA checks) and
 * grade. One probe on a session: probe.c (lock-step) and pipeline.c
 * (RFC 2920 groups); the sessions themselves: connect.c; politeness and
 * trust of the reply stream: polite.c.
 */
#include "queue.h"
#include "polite.h"
#include "lib/net/fiber.h"
#include "lib/base/log.h"
#include "lib/base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

void audit_target_free(struct audit_target *t)
{
	for (size_t i = 0; i < t->ntx; i++)
		free(t->tx[i].line);
	free(t->tx);
	while (t->tx_tags != NULL) {
		struct tx_tag *next = t->tx_tags->next;

		free(t->tx_tags);
		t->tx_tags = next;
	}
	free(t->probes);
	free(t->dnsbl);
	t->dnsbl = NULL;
	t->ndnsbl = 0;
	t->tx = NULL;
	t->probes = NULL;
	t->ntx = t->nprobes = 0;
}


static void build_battery(struct audit_target *t, const struct audit_opts *o)
{
	char token[13], rnd[16];
	const char *names[AUDIT_NAMES_MAX];
	struct rg_probe_spec *specs;
	struct rg_trick_params tp = {0};
	struct audit_name_facts nf = {
		.ip_literal = t->ip_literal, .banner_name = t->banner_name,
		.ehlo_name = t->ehlo_name, .mx_domain = t->mail_domain,
		.mx_host = t->mx_host, .ptr = t->ptr,
		.operator_names = o->local_names, .noperator = o->nlocal_names,
	};

	/* {R}: the accept-all control's local part and domain (under .invalid) */
	rg_random_token(token, 12);
	snprintf(rnd, sizeof(rnd), "rg%s", token);
	tp.domain = o->domain;
	tp.sender_domain = o->sender_domain;
	tp.ip_literal = t->ip_literal;
	tp.server_name = t->server_name;
	tp.random = rnd;
	tp.second_domain = o->second_domain;
	t->nnames = audit_name_set(&nf, t->names, AUDIT_NAMES_MAX);
	for (size_t i = 0; i < t->nnames; i++)
		names[i] = t->names[i];
	size_t n = rg_battery_build(&tp, names, t->nnames, &specs);

	t->probes = xcalloc(n, sizeof(*t->probes));
	t->nprobes = 0;
	for (size_t i = 0; i < n; i++) {
		/* an identity that is the session default (--helo) is what every
		 * default session says already: no session of its own */
		if (specs[i].helo[0] && strcasecmp(specs[i].helo, o->helo) == 0)
			continue;
		t->probes[t->nprobes++].spec = specs[i];
	}
	free(specs);
}

/* Save a probe's attempt before it is run again. */
static void keep_first_attempt(struct audit_probe *p)
{
	struct audit_attempt *a = &p->first;

	strlcpy_rg(a->mail_from, p->spec.mail_from, sizeof(a->mail_from));
	a->outcome = p->outcome;
	a->stage = p->stage;
	a->code = p->code;
	strlcpy_rg(a->enhanced, p->enhanced, sizeof(a->enhanced));
	strlcpy_rg(a->text, p->text, sizeof(a->text));
	a->session = p->session;
	p->retried = true;
	p->outcome = OUT_NOT_RUN;
	p->stage = NULL;
	p->code = 0;
	p->enhanced[0] = p->text[0] = '\0';
	p->untested_why = NULL;
	memset(&p->finish, 0, sizeof(p->finish));
}

/* Copy i of t->probes[i] (q->copies[i], made once), towards the second
 * domain with the sender the server took. */
static void copy_make(struct probe_queue *q, size_t i)
{
	const struct audit_probe *p = &q->t->probes[i];
	struct audit_probe *c = xcalloc(1, sizeof(*c));

	c->spec = p->spec;
	c->copy = true;
	strlcpy_rg(c->spec.rcpt_to, p->spec.rcpt_to_second, sizeof(c->spec.rcpt_to));
	c->retried = p->retried;
	strlcpy_rg(c->retry_from, p->retry_from, sizeof(c->retry_from));
	q->copies[i] = c;
}

/* Whether t->probes[i] wants a copy towards the second domain now: it is
 * evidence (accepted towards -d) and has a second-domain recipient;
 * plain: of class plain only. */
static bool copy_wanted(const struct probe_queue *q, size_t i, bool plain)
{
	const struct audit_probe *p = &q->t->probes[i];

	return q->copies[i] == NULL && p->spec.rcpt_to_second[0] != '\0' &&
	    (!plain || p->spec.trick->klass == RG_CLASS_PLAIN) && probe_is_evidence(q->t, p);
}

/* Copy i of class plain (or of the others), made and not run yet. */
static struct audit_probe *copy_of_class(const struct probe_queue *q, size_t i, bool plain)
{
	struct audit_probe *c = q->copies[i];

	return c != NULL && (c->spec.trick->klass == RG_CLASS_PLAIN) == plain ? c : NULL;
}

/* In the battery, each plain probe accepted so far sends its copy after
 * it in the same pass: an open relay settles "relays for any domain" with
 * no pass of its own (second_destination_pass). */
static void battery_copies(struct probe_queue *q)
{
	for (size_t i = 0; q->battery && q->t->second_domain[0] && i < q->t->nprobes; i++)
		if (copy_wanted(q, i, true)) {
			copy_make(q, i);
			q->order[q->n++] = q->copies[i];
		}
}

static void drain(struct probe_queue *q, struct lane *l)
{
	struct audit_target *t = q->t;
	const struct audit_opts *o = q->o;
	struct runner *run = l->run;

	l->active = true;
	pool_idle(t, &run->s, false);
	for (;;) {
		struct audit_probe *pp[RG_BATCH_MAX];
		bool batch = !o->no_pipelining && !t->lockstep && q->data_budget == NULL &&
		    strstr(t->ehlo_keywords, "PIPELINING") != NULL;
		bool id_follows = batch && identity_follows(q, run);
		size_t n;

		if (leave_to_others(q, l) ||
		    (n = take_group(q, run, pp, batch, id_follows)) == 0)
			break;
		struct audit_probe *id = id_follows ? next_identity(q, n) : NULL;

		if (n == 1 || !run_batch(t, o, run, pp, n, id ? id->spec.helo : NULL))
			for (size_t i = 0; i < n; i++)
				run_one(t, o, run, pp[i]);
		if (id != NULL)
			run_one(t, o, run, id);
		battery_copies(q);
		/* an error reply came: its delay is known; or none came in
		 * MEASURE_ALONE probes */
		if (!q->measured)
			queue_measured(q, n);
	}
	q->measured = true;	/* the pass is taken: the next ones are not */
	l->active = l->opening = false;
	pool_idle(t, &run->s, true);	/* kept for the next pass, unless needed */
}

static void lane_main(void *arg)
{
	struct lane *l = arg;

	/* the lane's session is kept for the next pass while its budgets
	 * last (budget.c): every session is one more for the server */
	drain(l->q, l);
}

/* Lanes a pass needs: enough sessions for its errors at most, and the
 * lanes that hold a session already (a small pass opens no new one). */
static bool lane_wanted(const struct probe_queue *q, size_t i, size_t need)
{
	return i < need || !q->lanes[i].run->s.dead;
}

/* The caller's runner and per_host - 1 more lanes take the queue's probes. */
static void run_queue(struct probe_queue *q, struct runner *run)
{
	struct rg_fiber_group g = {0};
	int cost = 0, limit = session_error_limit(q->t, q->o);
	size_t need;

	for (size_t i = 0; i < q->n; i++)
		cost += probe_cost(q->t, q->order[i]);
	need = (size_t)(cost + limit - 1) / (size_t)limit;
	for (size_t i = 1; i < q->nlanes && i < q->n; i++) {
		if (!lane_wanted(q, i, need))
			continue;
		q->lanes[i].run->data_budget = q->data_budget;
		rg_fiber_spawn(&g, lane_main, &q->lanes[i]);
	}
	q->lanes[0].run = run;
	drain(q, &q->lanes[0]);
	rg_fiber_group_wait(&g, 0);
}

/* Tricks refused at MAIL because of their incidental sender: once more
 * with a sender the server accepted (both attempts are kept). */
static void retry_pass(struct probe_queue *q, struct runner *run)
{
	struct audit_target *t = q->t;

	q->n = q->next = 0;
	for (size_t i = 0; i < t->nprobes; i++) {
		struct audit_probe *p = &t->probes[i];

		if (!probe_wants_retry(p, t->baseline_from))
			continue;
		keep_first_attempt(p);
		strlcpy_rg(p->retry_from, t->baseline_from, sizeof(p->retry_from));
		q->order[q->n++] = p;
	}
	run_queue(q, run);
}

/* Run the copies of class plain (or all the others) not run yet; true
 * when any copy of the class was accepted. */
static bool run_copies(struct probe_queue *q, struct runner *run, bool plain)
{
	bool accepted = false;
	size_t n = q->t->nprobes;

	q->n = q->next = 0;
	for (size_t i = 0; i < n; i++) {
		struct audit_probe *c = copy_of_class(q, i, plain);

		if (c != NULL && c->outcome == OUT_NOT_RUN)
			q->order[q->n++] = c;
	}
	run_queue(q, run);
	for (size_t i = 0; i < n; i++) {
		const struct audit_probe *c = copy_of_class(q, i, plain);

		accepted |= c != NULL && c->outcome == OUT_ACCEPTED;
	}
	return accepted;
}

/*
 * Item 5 of issue 17: relaying towards the -d domain alone is not an open
 * relay (relay_domains or a backup MX for it). Every probe accepted towards
 * -d runs once more with its relay recipient towards --second-domain, a
 * domain no server relays for by design. Only the accepted ones: a probe
 * refused towards -d proves no relaying to any domain, so a closed server
 * costs no probe at all. The plain forms go first (in the battery already,
 * battery_copies): one of them accepted towards the second domain settles
 * "relays for any domain", and an open relay pays one or two probes; only
 * when they are refused there do the other forms follow (any one of them
 * may still relay there), so "relays only for -d" rests on every accepted
 * form. The copies run like the battery (pipelined groups, lanes); their
 * replies go to each probe's "second" record, its own result stays as it
 * was.
 */
static void second_destination_pass(struct probe_queue *q, struct runner *run)
{
	struct audit_target *t = q->t;

	for (size_t i = 0; i < t->nprobes; i++)
		if (copy_wanted(q, i, false))
			copy_make(q, i);
	if (!run_copies(q, run, true))
		run_copies(q, run, false);
	for (size_t i = 0; i < t->nprobes; i++) {
		struct audit_second *s2 = &t->probes[i].second;
		const struct audit_probe *c = q->copies[i];

		if (c == NULL)
			continue;
		s2->tried = c->outcome != OUT_NOT_RUN;
		s2->outcome = c->outcome;
		s2->stage = c->stage;
		s2->code = c->code;
		strlcpy_rg(s2->enhanced, c->enhanced, sizeof(s2->enhanced));
		strlcpy_rg(s2->text, c->text, sizeof(s2->text));
	}
}

/* The --per-host lanes of q; [0] runs the caller's runner (run_queue). */
static void lanes_start(struct probe_queue *q, double deadline)
{
	q->nlanes = q->o->per_host > 1 ? (size_t)q->o->per_host : 1;
	q->lanes = xcalloc(q->nlanes, sizeof(*q->lanes));
	for (size_t i = 0; i < q->nlanes; i++) {
		q->lanes[i] = (struct lane){.q = q, .own = {.s = {.dead = true},
		    .deadline = deadline}};
		q->lanes[i].run = &q->lanes[i].own;
	}
}

/* The sessions of lanes from..nlanes closed (QUIT, the 221 read in the
 * background); lane 0's is the caller's. */
static void lanes_close(struct probe_queue *q, size_t from)
{
	for (size_t i = from > 1 ? from : 1; i < q->nlanes; i++) {
		pool_idle(q->t, &q->lanes[i].own.s, false);
		close_session(q->t, &q->lanes[i].own.s, true);
	}
}

/* Every lane's session closed, but the caller's (run's). */
static void lanes_finish(struct probe_queue *q, struct runner *run)
{
	pool_idle(q->t, &run->s, false);
	lanes_close(q, 1);
	free(q->lanes);
	q->lanes = NULL;
}

/* The passes over the battery, run holding the first session: the
 * battery, the retries with an accepted sender, the second destination,
 * the DATA checks. */
static void run_passes(struct audit_target *t, const struct audit_opts *o,
    struct runner *run)
{
	int data_budget = o->data_probes;
	struct probe_queue q = {.t = t, .o = o, .deadline = run->deadline};

	/* the battery and the copies that may join it */
	q.order = xcalloc(2 * t->nprobes + 1, sizeof(*q.order));
	q.copies = xcalloc(t->nprobes + 1, sizeof(*q.copies));
	/* Postfix answers its first errors at once (group_max): not measured */
	q.measured = t->mta == MTA_POSTFIX;
	lanes_start(&q, run->deadline);
	for (size_t i = 0; i < t->nprobes; i++)
		q.order[q.n++] = &t->probes[i];
	q.battery = true;
	run_queue(&q, run);
	q.battery = false;
	retry_pass(&q, run);
	second_destination_pass(&q, run);
	/* The DATA checks, last: the first --data-probes accepted relay probes in
	 * battery order run once more, each followed by DATA (and, on 354, the
	 * dropped connection), so the same probes get them whatever the
	 * sessions did in parallel. */
	q.n = q.next = 0;
	for (size_t i = 0; i < t->nprobes && (int)q.n < o->data_probes; i++)
		if (t->probes[i].outcome == OUT_ACCEPTED && probe_is_relay(&t->probes[i]))
			q.order[q.n++] = &t->probes[i];
	q.data_budget = run->data_budget = &data_budget;
	/* the last pass: a lane it leaves idle says QUIT meanwhile, not after */
	lanes_close(&q, q.n);
	run_queue(&q, run);
	run->data_budget = NULL;	/* data_budget ends here */
	free(q.order);
	for (size_t i = 0; i < t->nprobes; i++)
		free(q.copies[i]);
	free(q.copies);
	lanes_finish(&q, run);
}

void audit_run_target(struct audit_target *t, const struct audit_opts *o)
{
	struct session s = {.dead = true};
	struct rg_reply fail_reply;
	double deadline;

	gettimeofday(&t->start, NULL);
	double t0 = rg_now();

	deadline = t0 + o->budget;
	t->deadline = deadline;
	strlcpy_rg(t->domain, o->domain, sizeof(t->domain));
	strlcpy_rg(t->second_domain, o->second_domain ? o->second_domain : "",
	    sizeof(t->second_domain));
	/* the transcript is evidence in IODEF, and shown with --transcript */
	t->keep_tx = o->transcript || o->format == FORMAT_IODEF;
	/* --per-host: the other lanes' connections open while this one greets */
	pool_start(t, o, o->per_host - 1);
	if (open_session(t, o, &s, o->helo, &fail_reply) != 0 && fail_reply.code == 0 &&
	    !t->polite.gave_up && !t->polite.untrusted) {
		polite_no_session_verdict(t);	/* unreachable, or busy */
		pool_finish(t);
		goto out;
	}
	deadline = t->deadline;	/* --budget runs from the first place (connect.c) */
	strlcpy_rg(t->server_name, t->ehlo_name[0] ? t->ehlo_name :
	    t->banner_name[0] ? t->banner_name : t->ip_literal, sizeof(t->server_name));
	{
		char ehlo[sizeof(t->ehlo_greeting) + sizeof(t->ehlo_keywords) + 2];

		snprintf(ehlo, sizeof(ehlo), "%s\n%s", t->ehlo_greeting, t->ehlo_keywords);
		t->mta = mta_fingerprint(t->banner, ehlo);
	}
	audit_dns_ptr(t, o);	/* its PTR name joins the name set */
	build_battery(t, o);

	struct runner run = {.s = s, .fail_reply = fail_reply, .deadline = deadline};

	run_passes(t, o, &run);
	s = run.s;
	close_session(t, &s, true);
	pool_finish(t);
	grade_verdict(t);
	polite_verdict(t);	/* busy, or never in step: inconclusive, and why */
out:
	gettimeofday(&t->finish, NULL);
	t->elapsed = rg_now() - t0;
}

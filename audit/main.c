/*
 * relayguard-audit - test whether mail servers act as open relays.
 *
 * Usage: relayguard-audit [options] TARGET...   (see relayguard-audit(1))
 * Exit: 0 closed, 1 accept_all or inconclusive, 2 open_relay,
 *       3 unreachable or usage error (the worst over all targets).
 */
#include "audit.h"
#include "report_iodef.h"
#include "relayguard/fiber.h"
#include "relayguard/i18n.h"
#include "relayguard/log.h"
#include "relayguard/util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void list_tricks(void)
{
	for (size_t i = 0; i < rg_trick_count; i++) {
		const struct rg_trick *t = &rg_trick_catalogue[i];

		printf("%-4s %s%s%sMAIL FROM:%s RCPT TO:%s%s\n     %s%s%s\n", t->id,
		    t->helo ? "HELO " : "", t->helo ? t->helo : "", t->helo ? " " : "",
		    t->mail_from, t->rcpt_to,
		    (t->flags & RG_TRICK_PER_NAME) ? "  (repeated per local name)" : "",
		    t->exploits, t->anchors[0] ? "; run by " : "", t->anchors);
	}
}

/*
 * The workers are fibers on one event loop (fiber.h): --concurrency of
 * them take targets from the feed one at a time, and every session of a
 * target is a fiber too. With -f jsonl each result is written (and flushed)
 * the moment it is graded, then freed: memory stays bounded by
 * --concurrency however long the list. The other formats keep the results
 * and print them in input order at the end.
 */
struct work {
	struct target_feed feed;
	struct rg_fiber_lock feed_lock;	/* feed_next() may wait on DNS (--mx) */
	const struct audit_opts *opts;
	bool stream;
	size_t nfed;
	struct audit_target *results;	/* collect mode, by feed order */
	bool *have;
	size_t cap;
	size_t excluded;
	struct audit_progress progress;
	enum verdict worst;
};

static int exit_rank(enum verdict v)
{
	switch (v) {
	case VERDICT_OPEN_RELAY: return 4;
	case VERDICT_UNREACHABLE: return 3;
	case VERDICT_INCONCLUSIVE: case VERDICT_ACCEPT_ALL: return 2;
	case VERDICT_CLOSED: return 1;
	}
	return 0;
}

static void count(struct work *w, const struct audit_target *t)
{
	w->progress.done++;
	w->progress.open += t->verdict == VERDICT_OPEN_RELAY;
	w->progress.inconclusive += t->verdict == VERDICT_INCONCLUSIVE;
	w->progress.unreachable += t->verdict == VERDICT_UNREACHABLE;
	if (exit_rank(t->verdict) > exit_rank(w->worst))
		w->worst = t->verdict;
}

static void worker(void *arg)
{
	struct work *w = arg;
	struct audit_target *t = xmalloc(sizeof(*t));

	for (;;) {
		rg_fiber_lock(&w->feed_lock);
		int more = feed_next(&w->feed, t);
		size_t idx = w->nfed++;

		rg_fiber_unlock(&w->feed_lock);
		if (!more)
			break;
		if (feed_excluded(&w->feed, t)) {
			msg_verbose("%s port %d: excluded (--exclude), not contacted", t->host,
			    t->port);
			w->excluded++;
			continue;
		}
		msg_verbose("auditing %s port %d", t->host, t->port);
		audit_run_target(t, w->opts);
		audit_dns_facts(t, w->opts);
		if (w->opts->confirm != NULL)
			audit_canary(t, w->opts);
		if (w->opts->baseline_db != NULL)
			audit_baseline_compare(w->opts->baseline_db, t);
		count(w, t);
		if (w->stream) {
			audit_json_line(t, w->opts, stdout);
			fflush(stdout);
			audit_target_free(t);
		} else {
			if (idx >= w->cap) {
				size_t cap = w->cap ? w->cap * 2 : 64;

				while (cap <= idx)
					cap *= 2;
				w->results = xrealloc(w->results, cap * sizeof(*w->results));
				w->have = xrealloc(w->have, cap * sizeof(*w->have));
				memset(w->have + w->cap, 0, (cap - w->cap) * sizeof(*w->have));
				w->cap = cap;
			}
			w->results[idx] = *t;
			w->have[idx] = true;
		}
	}
	free(t);
}

/* Targets in the lists, when they can be counted up front (for the ETA). */
static bool count_targets(const struct audit_opts *o, int nargs, char **args, size_t *n)
{
	*n = 0;
	if (o->mx || o->shard_n || o->resume || o->exclude)
		return false;
	for (int i = 0; i < nargs; i++) {
		if (strcmp(args[i], "-") == 0)
			return false;
		(*n)++;
	}
	for (size_t i = 0; i < o->ninput_files; i++) {
		FILE *f;
		char *line = NULL;
		size_t cap = 0;
		struct stat st;

		if (strcmp(o->input_files[i], "-") == 0 || stat(o->input_files[i], &st) != 0 ||
		    !S_ISREG(st.st_mode) || (f = fopen(o->input_files[i], "r")) == NULL)
			return false;
		while (getline(&line, &cap, f) > 0) {
			const char *c = line + strspn(line, " \t\r\n");

			*n += *c != '\0' && *c != '#';
		}
		free(line);
		fclose(f);
	}
	return true;
}

/* --concurrency workers; a progress line each second on a terminal; then
 * the sessions still closing (QUIT and its 221) end too. */
static void run(struct work *w, int nworkers, bool progress)
{
	struct rg_fiber_group g = {0};

	for (int i = 0; i < nworkers; i++)
		rg_fiber_spawn(&g, worker, w);
	if (progress) {
		while (!rg_fiber_group_wait(&g, rg_now() + 1))
			audit_progress(&w->progress, false);
		audit_progress(&w->progress, true);
	} else {
		rg_fiber_group_wait(&g, 0);
	}
	rg_fiber_drain();
	msg_verbose("engine: %zu fibers at most, %zu KB of stack each (virtual)",
	    rg_fiber_peak(), rg_fiber_stack_size() / 1024);
}

/* Every session is a descriptor: raise the soft limit to the hard one and
 * keep --concurrency x --per-host within it. */
static void fit_descriptors(struct audit_opts *o)
{
	struct rlimit rl;
	rlim_t need, spare = 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	/* a target's sessions, and as many again closing in the background */
	need = (rlim_t)o->jobs * (rlim_t)(o->per_host > 1 ? 2 * o->per_host : 2) + spare;
	if (rl.rlim_cur != RLIM_INFINITY && need > rl.rlim_cur) {
		int jobs = (int)((rl.rlim_cur - spare) / (rlim_t)(o->per_host > 1 ?
		    2 * o->per_host : 2));

		if (jobs < 1)
			jobs = 1;
		msg_warn("--concurrency %d x --per-host %d needs %llu descriptors, the "
		    "limit is %llu: running %d targets at once", o->jobs, o->per_host,
		    (unsigned long long)need, (unsigned long long)rl.rlim_cur, jobs);
		o->jobs = jobs;
	}
}

int main(int argc, char **argv)
{
	struct audit_opts o;
	const char *action;
	struct rg_reporter *reporter;
	char rerr[600];
	int first;

	msg_init(argv[0]);
	msg_fatal_status = 3;
	signal(SIGPIPE, SIG_IGN);
	first = audit_options_parse(argc, argv, &o, &action);
	if (action && strcmp(action, "help") == 0) {
		audit_usage(stdout);
		return 0;
	}
	if (action && strcmp(action, "version") == 0) {
		audit_print_version();
		return 0;
	}
	if (action && strcmp(action, "list-tricks") == 0) {
		list_tricks();
		return 0;
	}
	if (first >= argc && o.ninput_files == 0) {
		audit_usage(stderr);
		return 3;
	}
	/* Who reports, in which language and time zone; before any thread. */
	if ((reporter = rg_reporter_find(o.reporter_path, NULL, rerr, sizeof(rerr))) == NULL)
		msg_fatal("--reporter: %s", rerr);
	if (rg_i18n_init(o.lang, reporter->language, rerr, sizeof(rerr)) != 0)
		msg_fatal("--lang: %s", rerr);
	rg_reporter_apply_timezone(reporter);
	rg_clock_read(&o.clock);
	o.reporter = reporter;
	if (o.confirm != NULL && o.confirm_maildir == NULL)
		msg_fatal("--confirm needs --confirm-maildir DIR (where the mailbox's mail "
		    "arrives; IMAP is not supported)");
	if (o.baseline != NULL &&
	    (o.baseline_db = audit_baseline_load(o.baseline, rerr, sizeof(rerr))) == NULL)
		msg_fatal("--baseline: %s", rerr);
	if (o.tlp == NULL)
		o.tlp = reporter->tlp;
	if (o.mx || o.nameserver || o.ndnsbl || o.spf_domain) {
		struct rg_dns_opts dopts = RG_DNS_OPTS_DEFAULT;
		char err[300];

		dopts.nameservers = o.nameserver;
		dopts.timeout = o.dns_timeout;
		dopts.retries = o.dns_retries;
		o.dns = rg_dns_new(&dopts, err, sizeof(err));
		if (o.dns == NULL)
			msg_fatal("--nameserver: %s", err);
		o.spf = rg_spf_new(o.dns, NULL);
		msg_verbose("DNS through %s", rg_dns_describe(o.dns));
	}

	rg_smtp_set_connect_rate(o.rate);

	fit_descriptors(&o);

	struct work w = {.opts = &o, .worst = VERDICT_CLOSED};

	w.stream = o.format == FORMAT_JSONL;
	feed_open(&w.feed, &o, argv + first, argc - first);
	w.progress.start = rg_now();
	w.progress.total_known = count_targets(&o, argc - first, argv + first, &w.progress.total);
	run(&w, o.jobs, isatty(STDERR_FILENO) == 1);

	size_t n = w.nfed > 0 ? w.nfed - 1 : 0;	/* the last take found none */

	if (!w.stream) {
		for (size_t i = 0; i < n && i < w.cap; i++) {
			if (!w.have[i])
				continue;
			if (o.format == FORMAT_JSON)
				audit_json_line(&w.results[i], &o, stdout);
			else if (o.format == FORMAT_TEXT)
				report_text(&w.results[i], &o, stdout);
		}
		if (o.format == FORMAT_TEXT && o.baseline_db != NULL)
			audit_baseline_summary(o.baseline_db, w.results, w.have,
			    n < w.cap ? n : w.cap, stdout);
		if (o.format == FORMAT_IODEF) {
			const struct audit_target **tp = xcalloc(n + 1, sizeof(*tp));
			size_t k = 0;

			for (size_t i = 0; i < n && i < w.cap; i++)
				if (w.have[i])
					tp[k++] = &w.results[i];
			if (k > 0 && report_iodef(tp, k, &o, stdout) != 0)
				msg_error("could not write the IODEF document");
			free(tp);
		}
	}
	fflush(stdout);
	if (w.excluded || w.feed.skipped_excluded)
		msg_info("%zu targets excluded (--exclude), not contacted",
		    w.excluded + w.feed.skipped_excluded);
	if (w.feed.skipped_duplicate && !o.mx)
		msg_info("%zu duplicate targets audited once", w.feed.skipped_duplicate);
	if (w.feed.bad_lines)
		msg_warn("%zu bad lines in the target lists skipped (warned above)",
		    w.feed.bad_lines);
	if (w.feed.skipped_resume)
		msg_verbose("%zu targets already in %s (--resume)", w.feed.skipped_resume,
		    o.resume);
	for (size_t i = 0; i < w.cap; i++)
		if (w.have[i])
			audit_target_free(&w.results[i]);
	free(w.results);
	free(w.have);
	if (w.feed.mx_failed && exit_rank(VERDICT_UNREACHABLE) > exit_rank(w.worst))
		w.worst = VERDICT_UNREACHABLE;
	feed_close(&w.feed);
	rg_spf_free(o.spf);
	rg_dns_free(o.dns);
	free(o.dnsbl);
	free(o.local_names);
	free(o.input_files);
	audit_baseline_free(o.baseline_db);
	rg_reporter_free(reporter);
	return verdict_exit_code(w.worst);
}

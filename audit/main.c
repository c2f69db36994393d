/*
 * relayguard-audit - test whether mail servers act as open relays.
 *
 * Usage: relayguard-audit [options] TARGET...   (see relayguard-audit(1))
 * Exit: 0 closed, 1 accept_all, inconclusive or domain_relay, 2 open_relay,
 *       3 unreachable or an error (the worst over all targets), 64 usage.
 */
#include "audit.h"
#include "report_iodef.h"
#include "lib/net/fiber.h"
#include "lib/base/i18n.h"
#include "lib/base/log.h"
#include "lib/base/regfile.h"
#include "lib/base/util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Each line checked as it is written: errno is then the failed write's
 * (ENOSPC), not lost by the time the stream is closed. */
static void list_tricks(struct audit_out *out)
{
	for (size_t i = 0; i < rg_trick_count; i++) {
		const struct rg_trick *t = &rg_trick_catalogue[i];

		fprintf(out->fp, "%-4s %s%s%sMAIL FROM:%s %s%s%sRCPT TO:%s%s\n     [%s] %s%s%s\n",
		    t->id, t->helo ? "HELO " : "", t->helo ? t->helo : "", t->helo ? " " : "",
		    t->mail_from, t->first_rcpt ? "RCPT TO:" : "",
		    t->first_rcpt ? t->first_rcpt : "", t->first_rcpt ? " " : "", t->rcpt_to,
		    (t->flags & RG_TRICK_PER_NAME) ? "  (repeated per local name)" : "",
		    rg_trick_class_name(t->klass), t->exploits, t->anchors[0] ? "; run by " : "",
		    t->anchors);
		if (!audit_out_ok(out, false))
			return;
	}
}

/* SIGINT/SIGTERM: only noted here; the main loop looks at it four times a
 * second and stops the run (no I/O in a signal handler). */
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/*
 * The workers are fibers on one event loop (fiber.h): --concurrency of
 * them take targets from the feed one at a time, and every session of a
 * target is a fiber too. With -f jsonl each result is written (and flushed)
 * the moment it is graded, then freed: memory stays bounded by
 * --concurrency however long the list. The other formats are written in
 * input order: a result is written as soon as every target before it is
 * done, then its probes and transcript are freed.
 */
enum slot { SLOT_PENDING = 0, SLOT_DONE, SLOT_SKIPPED, SLOT_WRITTEN };

struct work {
	struct target_feed feed;
	struct rg_fiber_lock feed_lock;	/* feed_next() may wait on DNS (--mx) */
	const struct audit_opts *opts;
	struct audit_out *out;
	struct iodef_doc *iodef;	/* -f iodef, from the first result on */
	struct audit_nagios nagios;	/* --nagios: the worst target so far */
	bool stream;
	bool stop;			/* a signal or a failed write: no more targets */
	size_t nfed;
	struct audit_target *results;	/* collect mode, by feed order */
	unsigned char *slot;		/* enum slot, by feed order */
	size_t cap, next_out;
	size_t excluded;
	struct audit_progress progress;
	struct audit_json_doc json;	/* -f json: one document */
	enum verdict worst;
};

/* A worker and the target it is auditing (named when the run is stopped). */
struct lane {
	struct work *w;
	const struct audit_target *busy;
};

static void count(struct work *w, const struct audit_target *t)
{
	w->progress.done++;
	w->progress.verdicts[t->verdict]++;
	w->progress.unresolved += t->unresolved;
	if (verdict_rank(t->verdict) > verdict_rank(w->worst))
		w->worst = t->verdict;
}

static void grow(struct work *w, size_t idx)
{
	size_t cap = w->cap ? w->cap * 2 : 64;

	if (idx < w->cap)
		return;
	while (cap <= idx)
		cap *= 2;
	w->results = xrealloc(w->results, cap * sizeof(*w->results));
	w->slot = xrealloc(w->slot, cap * sizeof(*w->slot));
	memset(w->slot + w->cap, SLOT_PENDING, cap - w->cap);
	w->cap = cap;
}

/* Write one finished result in the chosen format, then free its records. */
static void emit_one(struct work *w, size_t i)
{
	struct audit_target *t = &w->results[i];
	const struct audit_opts *o = w->opts;

	if (w->slot[i] != SLOT_DONE)
		return;
	if (!w->out->failed) {
		if (o->format == FORMAT_JSON)
			audit_json_doc_add(&w->json, t, o, w->out->fp);
		else if (o->format == FORMAT_TEXT)
			report_text(t, o, w->out->fp);
		else if (o->format == FORMAT_NAGIOS)
			audit_nagios_add(&w->nagios, t);
		else if (o->format == FORMAT_IODEF) {
			if (w->iodef == NULL && (w->iodef = report_iodef_begin(o)) == NULL)
				w->out->failed = true;
			else
				report_iodef_add(w->iodef, t);
		}
		if (!audit_out_ok(w->out, false))
			w->stop = true;
	}
	w->slot[i] = SLOT_WRITTEN;
	audit_target_free(t);
}

/* Every result whose predecessors are all written. */
static void emit_ready(struct work *w)
{
	while (w->next_out < w->cap && w->slot[w->next_out] != SLOT_PENDING)
		emit_one(w, w->next_out++);
}

static void finished(struct work *w, struct audit_target *t, size_t idx)
{
	msg_verbose("%s port %d: %s, %.1f s", t->host, t->port, verdict_name(t->verdict),
	    t->elapsed);
	count(w, t);
	if (w->stream) {
		if (!w->out->failed) {
			audit_json_line(t, w->opts, w->out->fp);
			if (!audit_out_ok(w->out, true))
				w->stop = true;
		}
		audit_target_free(t);
		return;
	}
	grow(w, idx);
	w->results[idx] = *t;
	w->slot[idx] = SLOT_DONE;
	emit_ready(w);
}

/* A name without an address is a result too (unresolved), not contacted. */
static void audit_one(struct audit_target *t, const struct audit_opts *o)
{
	char why[400];

	if (!audit_target_resolves(t, why, sizeof(why))) {
		if (!t->unresolved)
			audit_target_unresolved(t, why);
		return;
	}
	audit_run_target(t, o);
	audit_dns_facts(t, o);
	if (o->confirm != NULL)
		audit_canary(t, o);
}

static void worker(void *arg)
{
	struct lane *lane = arg;
	struct work *w = lane->w;
	struct audit_target *t = xmalloc(sizeof(*t));

	while (!w->stop) {
		rg_fiber_lock(&w->feed_lock);
		int more = feed_next(&w->feed, t);
		size_t idx = w->nfed++;

		rg_fiber_unlock(&w->feed_lock);
		if (!more || w->stop)
			break;
		if (feed_excluded(&w->feed, t)) {
			msg_verbose("%s port %d: excluded (--exclude), not contacted", t->host,
			    t->port);
			w->excluded++;
			if (!w->stream) {
				grow(w, idx);
				w->slot[idx] = SLOT_SKIPPED;
				emit_ready(w);
			}
			continue;
		}
		msg_verbose("auditing %s port %d", t->host, t->port);
		lane->busy = t;
		audit_one(t, w->opts);
		if (w->opts->baseline_db != NULL)
			audit_baseline_compare(w->opts->baseline_db, t);
		lane->busy = NULL;
		finished(w, t, idx);
	}
	free(t);
}

/* --concurrency workers; a progress line each second on a terminal; then
 * the sessions still closing (QUIT and its 221) end too. False when a
 * signal or a failed write stopped the run: the targets in flight are
 * left as they are (their fibers never run again). */
static bool run(struct work *w, struct lane *lanes, int nworkers, bool progress)
{
	struct rg_fiber_group g = {0};
	double tick = rg_now() + 1;

	for (int i = 0; i < nworkers; i++) {
		lanes[i].w = w;
		rg_fiber_spawn(&g, worker, &lanes[i]);
	}
	while (!rg_fiber_group_wait(&g, rg_now() + 0.25)) {
		if (got_signal || w->stop) {
			w->stop = true;
			if (progress)
				audit_progress(&w->progress, true);
			return false;
		}
		if (progress && rg_now() >= tick) {
			audit_progress(&w->progress, false);
			tick += 1;
		}
	}
	if (progress)
		audit_progress(&w->progress, true);
	rg_fiber_drain();
	msg_verbose("engine: %zu fibers at most, %zu KB of stack each (virtual)",
	    rg_fiber_peak(), rg_fiber_stack_size() / 1024);
	return true;
}

/* The unfinished targets by name, how to go on, and the exit status. */
static int report_stop(const struct work *w, const struct lane *lanes, int nworkers)
{
	const struct audit_opts *o = w->opts;
	size_t unfinished = 0;
	char left[64] = "";

	for (int i = 0; i < nworkers; i++) {
		if (lanes[i].busy == NULL)
			continue;
		msg_warn("interrupted: %s port %d not finished, no result written",
		    lanes[i].busy->host, lanes[i].busy->port);
		unfinished++;
	}
	if (w->progress.total_known && w->progress.total >= w->progress.done + unfinished)
		snprintf(left, sizeof(left), ", %zu not started", w->progress.total -
		    w->progress.done - unfinished);
	msg_warn("interrupted by %s: %zu targets finished and written, %zu unfinished%s",
	    got_signal == SIGTERM ? "SIGTERM" : "SIGINT", w->progress.done, unfinished,
	    w->progress.total_known ? left : ", the rest of the list not started");
	if (o->format != FORMAT_JSON && o->format != FORMAT_JSONL)
		msg_warn("to go on later, run with -f jsonl -o FILE: --resume FILE then "
		    "skips what FILE holds (a %s report cannot be resumed)",
		    o->format == FORMAT_TEXT ? "text" : o->format == FORMAT_NAGIOS ?
		    "nagios" : "IODEF");
	else if (o->output != NULL)
		msg_warn("to go on, run the same command with --resume %s: it skips the "
		    "targets in %s and adds the rest to it", o->output, o->output);
	else if (o->format == FORMAT_JSON)	/* appending would make two documents */
		msg_warn("to go on, run the same command with -o FILE --resume FILE, "
		    "FILE holding this output: it skips the targets in FILE and writes "
		    "them and the rest as one document");
	else
		msg_warn("to go on, run the same command with --resume FILE >> FILE, "
		    "FILE being where this output went: it skips the targets in FILE");
	return 128 + (got_signal ? got_signal : SIGINT);
}

/* After the run: whatever is finished and not yet written, then the end of
 * the document (IODEF) or the summary (text with --baseline). */
static void finish_output(struct work *w)
{
	const struct audit_opts *o = w->opts;

	for (size_t i = w->next_out; i < w->cap; i++)
		emit_one(w, i);
	if (w->out->failed)
		return;
	if (o->format == FORMAT_TEXT && o->baseline_db != NULL) {
		bool *have = xcalloc(w->cap + 1, sizeof(*have));

		for (size_t i = 0; i < w->cap; i++)
			have[i] = w->slot[i] == SLOT_WRITTEN;
		audit_baseline_summary(o->baseline_db, w->results, have, w->cap, w->out->fp);
		free(have);
	}
	if (o->format == FORMAT_JSON)
		audit_json_doc_end(&w->json, w->out->fp);
	if (o->format == FORMAT_NAGIOS && audit_nagios_print(&w->nagios,
	    w->out->fp) != 0)
		w->out->failed = true;
	if (w->iodef != NULL && report_iodef_end(w->iodef, w->out->fp) != 0) {
		msg_error("could not build the IODEF document");
		w->out->failed = true;
	}
	w->iodef = NULL;
	audit_out_ok(w->out, false);
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

/* --help, --version, --list-tricks: to the output, checked. */
static int action_main(const char *action, const struct audit_opts *o)
{
	struct audit_out out;
	char err[600];

	if (audit_out_open(&out, o, err, sizeof(err)) != 0) {
		msg_error("%s", err);
		return AUDIT_EXIT_OUTPUT;
	}
	if (strcmp(action, "help") == 0)
		audit_usage(out.fp);
	else if (strcmp(action, "version") == 0)
		audit_print_version(out.fp);
	else
		list_tricks(&out);
	return audit_out_close(&out) == 0 ? 0 : AUDIT_EXIT_OUTPUT;
}

static void setup(struct audit_opts *o, struct rg_reporter **reporter)
{
	char rerr[600];

	/* Who reports, in which language and time zone; before any thread. */
	if ((*reporter = rg_reporter_find(o->reporter_path, NULL, rerr, sizeof(rerr))) == NULL)
		msg_fatal("--reporter: %s", rerr);
	if (rg_i18n_init(o->lang, (*reporter)->language, rerr, sizeof(rerr)) != 0)
		msg_fatal("--lang: %s", rerr);
	rg_reporter_apply_timezone(*reporter);
	rg_clock_read(&o->clock);
	o->reporter = *reporter;
	if (o->confirm != NULL && o->confirm_maildir == NULL) {
		msg_fatal_status = audit_usage_status();
		msg_fatal("--confirm needs --confirm-maildir DIR (where the mailbox's mail "
		    "arrives; IMAP is not supported)");
	}
	if (o->baseline != NULL &&
	    (o->baseline_db = audit_baseline_load(o->baseline, rerr, sizeof(rerr))) == NULL)
		msg_fatal("--baseline: %s", rerr);
	if (o->tlp == NULL)
		o->tlp = (*reporter)->tlp;
	if (o->mx || o->nameserver || o->ndnsbl || o->spf_domain) {
		struct rg_dns_opts dopts = RG_DNS_OPTS_DEFAULT;

		dopts.nameservers = o->nameserver;
		dopts.timeout = o->dns_timeout;
		dopts.retries = o->dns_retries;
		o->dns = rg_dns_new(&dopts, rerr, sizeof(rerr));
		if (o->dns == NULL)
			msg_fatal("--nameserver: %s", rerr);
		o->spf = rg_spf_new(o->dns, NULL);
		msg_verbose("DNS through %s", rg_dns_describe(o->dns));
	}
	rg_smtp_set_connect_rate(o->rate);
	fit_descriptors(o);
}

static void teardown(struct audit_opts *o, struct rg_reporter *reporter)
{
	rg_spf_free(o->spf);
	rg_dns_free(o->dns);
	free(o->dnsbl);
	free(o->local_names);
	free(o->input_files);
	audit_baseline_free(o->baseline_db);
	rg_reporter_free(reporter);
}

/* -f json: one object when the command line names one host target, else
 * an array (audit.h, struct audit_json_doc). */
static bool json_single(const struct audit_opts *o, char **args, int nargs)
{
	return nargs == 1 && o->ninput_files == 0 && !o->mx && strcmp(args[0], "-") != 0 &&
	    strchr(args[0], '/') == NULL;
}

/* The list's notes after a complete run, then the summary line. */
static void after_run(const struct work *w)
{
	const struct audit_opts *o = w->opts;

	if (w->excluded || w->feed.skipped_excluded)
		msg_info("%zu targets excluded (--exclude), not contacted",
		    w->excluded + w->feed.skipped_excluded);
	if (w->feed.skipped_duplicate && !o->mx)
		msg_info("%zu duplicate targets audited once", w->feed.skipped_duplicate);
	if (w->feed.bad_lines)
		msg_warn("%zu bad lines in the target lists skipped (warned above)",
		    w->feed.bad_lines);
	if (w->feed.skipped_resume)
		msg_verbose("%zu targets already in %s (--resume)", w->feed.skipped_resume,
		    o->resume);
	if (o->format != FORMAT_NAGIOS && !o->quiet)
		audit_summary(&w->progress);
}

/* Interrupted: what was finished is written, the rest named; the
 * unfinished targets' fibers hold their memory, so the process ends here. */
static __attribute__((noreturn)) void end_interrupted(struct work *w,
    struct lane *lanes)
{
	int status = AUDIT_EXIT_OUTPUT;

	if (!w->out->failed) {
		/* a second signal ends the process at once */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		status = report_stop(w, lanes, w->opts->jobs);
	}
	if (audit_out_close(w->out) != 0)
		status = AUDIT_EXIT_OUTPUT;
	fflush(stderr);
	_exit(status);
}

/* The targets through the workers, the report written; the exit status. */
static int audit_all(struct audit_opts *o, struct audit_out *out, char **args, int nargs)
{
	struct work w = {.opts = o, .out = out, .worst = VERDICT_CLOSED};
	struct lane *lanes = xcalloc((size_t)o->jobs, sizeof(*lanes));
	int status;

	w.stream = o->format == FORMAT_JSONL;
	w.json.array = !json_single(o, args, nargs) || out->carried > 0;
	w.json.n = out->carried;
	feed_open(&w.feed, o, args, nargs);
	w.progress.start = rg_now();
	w.progress.total_known = audit_count_targets(o, args, nargs, &w.progress.total);
	catch_signals();
	if (!run(&w, lanes, o->jobs, isatty(STDERR_FILENO) == 1 && !o->quiet)) {
		finish_output(&w);
		end_interrupted(&w, lanes);
	}
	finish_output(&w);
	if (out->failed)
		msg_verbose("stopped: the report could not be written");
	status = audit_out_close(out) != 0 || out->failed ? AUDIT_EXIT_OUTPUT : -1;
	after_run(&w);
	free(w.results);
	free(w.slot);
	free(lanes);
	if (w.feed.mx_failed && verdict_rank(VERDICT_UNREACHABLE) > verdict_rank(w.worst))
		w.worst = VERDICT_UNREACHABLE;
	feed_close(&w.feed);
	return status >= 0 ? status : verdict_exit_code(w.worst);
}

int main(int argc, char **argv)
{
	struct audit_opts o;
	const char *action;
	struct rg_reporter *reporter;
	struct audit_out out;
	char err[600];
	int first, status;

	audit_out_guard_fds();
	msg_init(argv[0]);
	msg_fatal_status = 3;
	signal(SIGPIPE, SIG_IGN);
	first = audit_options_parse(argc, argv, &o, &action);
	if (action)
		return action_main(action, &o);
	if (first >= argc && o.ninput_files == 0) {
		audit_usage(stderr);
		return audit_usage_status();
	}
	if (o.source != NULL)
		audit_check_source(o.source);
	if (o.quiet)
		msg_stderr_errors_only(true);
	setup(&o, &reporter);
	if (audit_out_open(&out, &o, err, sizeof(err)) != 0) {
		msg_error("%s", err);
		teardown(&o, reporter);
		return AUDIT_EXIT_OUTPUT;
	}
	status = audit_all(&o, &out, argv + first, argc - first);
	teardown(&o, reporter);
	return status;
}

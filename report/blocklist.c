/* blocklist.c - relayguard-report blocklist: from the milter's event log to
 * the sources an admin blocks before they reach smtpd, as a Postfix cidr:
 * table (check_client_access or postscreen_access_list) or as plain CIDR
 * lines (an nftables set, fail2ban's ignore list's opposite); see
 * relayguard-report(1).
 *
 * A source is listed when the milter boxed it (abuser_boxed) or when it
 * made at least --min-refused refused relay attempts. The table says only
 * what the milter saw of the source itself - counts and times, never a
 * recipient, sender or HELO - so it can be shared as the reporter profile's
 * Withhold rules expect. Addresses in --exclude and the reporter profile's
 * OwnAuditors (our own auditors, monitoring) are never listed, nor a network
 * that holds one. A boxed source is listed as the network the milter boxed
 * (AbuserPrefix4/6), unless --network asks for another grouping. */
#include "notify.h"
#include "lib/base/log.h"
#include "lib/mail/netmatch.h"
#include "lib/base/outfile.h"
#include "lib/mail/reporter.h"
#include "lib/base/util.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

enum bl_format { BL_POSTFIX, BL_POSTSCREEN, BL_CIDR };

struct bl_opts {
	const char *events;
	const char *output;		/* NULL: stdout */
	const char *reporter, *config;	/* --reporter, --config, or NULL */
	enum bl_format format;
	int prefix4, prefix6;
	long min_refused;
	struct rg_cidr_list exclude;
};

static void usage(FILE *out)
{
	fprintf(out,
	    "usage: relayguard-report blocklist --events EVENTS.jsonl [options]\n"
	    "  --events FILE       the milter's EventLog (JSON lines)\n"
	    "  -f, --format F      postfix (check_client_access: REJECT with a reason),\n"
	    "                      postscreen (postscreen_access_list: reject), or\n"
	    "                      cidr (one network per line, for an nftables set)\n"
	    "  --min-refused N     list sources with N refused relay attempts or more\n"
	    "                      (10); a source the milter boxed is always listed\n"
	    "  --network           list the /24 (IPv4) and /64 (IPv6) of each source\n"
	    "  --prefix4 N, --prefix6 N   these prefix lengths instead\n"
	    "  --exclude CIDR      never list this address or network (repeatable);\n"
	    "                      the reporter profile's OwnAuditors never are either\n"
	    "  --reporter FILE     reporter profile (default: reporter.conf beside\n"
	    "                      --config, else /etc/relayguard/reporter.conf)\n"
	    "  --config FILE       the milter's relayguard.conf (where to look for\n"
	    "                      reporter.conf)\n"
	    "  -o, --output FILE   write FILE (complete or not at all) instead of stdout\n");
}

static void parse_args(int argc, char **argv, struct bl_opts *o)
{
	static const struct option longopts[] = {
		{"events", required_argument, NULL, 'e'}, {"format", required_argument, NULL, 'f'},
		{"min-refused", required_argument, NULL, 'm'}, {"network", no_argument, NULL, 'n'},
		{"prefix4", required_argument, NULL, '4'}, {"prefix6", required_argument, NULL, '6'},
		{"exclude", required_argument, NULL, 'x'}, {"output", required_argument, NULL, 'o'},
		{"reporter", required_argument, NULL, 'r'}, {"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	char err[RG_NETMATCH_ERRLEN];
	struct rg_cidr x;
	int c;

	msg_fatal_status = EX_USAGE;	/* until the options are read */
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'e': o->events = optarg; break;
		case 'o': o->output = optarg; break;
		case 'r': o->reporter = optarg; break;
		case 'c': o->config = optarg; break;
		case 'f':
			if (strcmp(optarg, "postfix") == 0) o->format = BL_POSTFIX;
			else if (strcmp(optarg, "postscreen") == 0) o->format = BL_POSTSCREEN;
			else if (strcmp(optarg, "cidr") == 0) o->format = BL_CIDR;
			else msg_fatal("--format: '%s' is not postfix, "
			    "postscreen or cidr", optarg);
			break;
		case 'm': o->min_refused = notify_parse_num("--min-refused", optarg, 1, 1000000000); break;
		case 'n': o->prefix4 = o->prefix4 ? o->prefix4 : 24;
			o->prefix6 = o->prefix6 ? o->prefix6 : 64; break;
		case '4': o->prefix4 = notify_parse_num("--prefix4", optarg, 8, 32); break;
		case '6': o->prefix6 = notify_parse_num("--prefix6", optarg, 16, 128); break;
		case 'x':
			if (rg_cidr_parse(optarg, &x, err, sizeof(err)) != 0)
				msg_fatal("--exclude: %s", err);
			rg_cidr_list_add(&o->exclude, &x);
			break;
		case 'h': usage(stdout); exit(rg_close_stdout() == 0 ? 0 : 1);
		default: usage(stderr); exit(EX_USAGE);
		}
	}
	if (o->events == NULL || optind != argc) {
		usage(stderr);
		exit(EX_USAGE);
	}
	msg_fatal_status = 1;
}

/* Is the network the milter boxed one that holds the source's address (a
 * log edited by hand, or another program's, lists nothing wider)? */
static bool boxed_source_holds(const struct notify_source *s)
{
	struct rg_cidr c;
	struct rg_cidr_list one = {&c, 1, 1};
	char err[RG_NETMATCH_ERRLEN];

	return s->boxed_source[0] && rg_cidr_parse(s->boxed_source, &c, err,
	    sizeof(err)) == 0 && rg_cidr_list_match_text(&one, s->key);
}

/* The source as a CIDR item: its network, the network the milter boxed,
 * or its one address. */
static void source_cidr(const struct notify_source *s, char *out, size_t len)
{
	if (s->network[0])
		strlcpy_rg(out, s->network, len);
	else if (boxed_source_holds(s))
		strlcpy_rg(out, s->boxed_source, len);
	else
		snprintf(out, len, "%s/%d", s->key, strchr(s->key, ':') ? 128 : 32);
}

/* Does --exclude hold the source, one of its addresses, or an address
 * inside its network? */
static bool excluded(const struct bl_opts *o, const struct notify_source *s)
{
	struct rg_cidr net;
	char err[RG_NETMATCH_ERRLEN], cidr[80];

	if (rg_cidr_list_match_text(&o->exclude, s->key))
		return true;
	for (size_t i = 0; i < s->naddrs; i++)
		if (rg_cidr_list_match_text(&o->exclude, s->addrs[i]))
			return true;
	source_cidr(s, cidr, sizeof(cidr));
	if (rg_cidr_parse(cidr, &net, err, sizeof(err)) != 0)
		return true;		/* cannot tell: never list it */
	for (size_t i = 0; i < o->exclude.n; i++) {
		const struct rg_cidr *x = &o->exclude.v[i];
		struct rg_cidr_list one = {&net, 1, 1};

		if (x->family == net.family && rg_cidr_list_match(&one, x->family, x->addr))
			return true;
	}
	return false;
}

static bool listed(const struct bl_opts *o, const struct notify_source *s)
{
	return s->boxed > 0 || s->relay_refused >= o->min_refused;
}

static void write_entry(const struct bl_opts *o, const struct notify_source *s, FILE *out)
{
	char cidr[80];

	source_cidr(s, cidr, sizeof(cidr));
	if (o->format == BL_CIDR) {
		fprintf(out, "%s\n", cidr);
		return;
	}
	fprintf(out, "# %s: %ld refused relay attempt(s)%s, %s .. %s\n", cidr,
	    s->relay_refused, s->boxed ? ", boxed by relayguard-milter" : "",
	    s->first_iso, s->last_iso);
	if (o->format == BL_POSTSCREEN)
		fprintf(out, "%-43s reject\n", cidr);
	else
		fprintf(out, "%-43s REJECT 5.7.1 Access denied: relay abuse\n", cidr);
}

static void write_header(const struct bl_opts *o, size_t n, FILE *out)
{
	if (o->format == BL_CIDR)
		return;
	fprintf(out, "# relayguard-report blocklist: %zu source(s) boxed by the milter "
	    "or with %ld refused relay attempts or more\n", n, o->min_refused);
	fprintf(out, o->format == BL_POSTSCREEN ?
	    "# postscreen_access_list = permit_mynetworks, cidr:/etc/postfix/THIS_FILE\n" :
	    "# smtpd_client_restrictions = permit_mynetworks, check_client_access "
	    "cidr:/etc/postfix/THIS_FILE\n");
}

/* The header, then one entry per listed source, to out. */
static void write_table(const struct bl_opts *o, const struct notify_log *log, FILE *out)
{
	size_t n = 0;

	for (size_t i = 0; i < log->n; i++)
		if (listed(o, &log->src[i]) && !excluded(o, &log->src[i]))
			n++;
	write_header(o, n, out);
	for (size_t i = 0; i < log->n; i++) {
		const struct notify_source *s = &log->src[i];

		if (!listed(o, s))
			continue;
		if (excluded(o, s))
			msg_info("%s: not listed: --exclude or OwnAuditors holds it", s->key);
		else
			write_entry(o, s, out);
	}
}

int blocklist_main(int argc, char **argv)
{
	struct bl_opts o = {.min_refused = 10};
	struct notify_log log;
	struct rg_outfile of = {0};
	struct rg_reporter *reporter;
	char err[700];
	int rc = 0;

	parse_args(argc, argv, &o);
	if ((reporter = rg_reporter_find(o.reporter, o.config, err, sizeof(err))) == NULL)
		msg_fatal("--reporter: %s", err);
	for (size_t i = 0; i < reporter->own_auditors.n; i++)
		rg_cidr_list_add(&o.exclude, &reporter->own_auditors.v[i]);
	if (notify_read_own(o.events, o.prefix4, o.prefix6, 2, &reporter->own_auditors,
	    &log, err, sizeof(err)) != 0)
		msg_fatal("%s", err);
	if (log.bad_lines > 0)
		msg_warn("%s: %ld of %ld lines are not event-log JSON with a time; skipped",
		    o.events, log.bad_lines, log.lines);
	if (o.output != NULL && rg_outfile_open(&of, o.output, 0644, err, sizeof(err)) != 0)
		msg_fatal("%s", err);
	write_table(&o, &log, o.output ? of.fp : stdout);
	if (o.output != NULL && rg_outfile_commit(&of, err, sizeof(err)) != 0) {
		msg_error("%s", err);
		rc = 1;
	}
	notify_log_free(&log);
	rg_cidr_list_free(&o.exclude);
	rg_reporter_free(reporter);
	if (rg_close_stdout() != 0)
		rc = 1;
	return rc;
}

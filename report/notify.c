/* notify.c - relayguard-report notify: options and the loop over sources;
 * see notify.h and relayguard-report(1). */
#include "notify.h"
#include "lib/base/i18n.h"
#include "lib/mail/iodef_write.h"
#include "lib/base/log.h"
#include "lib/base/outfile.h"
#include "lib/base/util.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

static void usage(FILE *out)
{
	fprintf(out,
	    "usage: relayguard-report notify --events EVENTS.jsonl [options]\n"
	    "  --events FILE       the milter's EventLog (JSON lines)\n"
	    "  --out DIR           write per source: SRC.txt (e-mail body), SRC.iodef.xml,\n"
	    "                      SRC.xarf.json, SRC.intelmq.json; and intelmq.jsonl\n"
	    "                      (default: the e-mail bodies to stdout)\n"
	    "  --reporter FILE     reporter profile (default: reporter.conf beside\n"
	    "                      --config, else /etc/relayguard/reporter.conf)\n"
	    "  --config FILE       the milter's relayguard.conf (where to look for\n"
	    "                      reporter.conf)\n"
	    "  --network           group sources by /24 (IPv4) and /64 (IPv6)\n"
	    "  --prefix4 N, --prefix6 N   group by these prefix lengths instead\n"
	    "  --source ADDR       only this source (address or network; repeatable)\n"
	    "  --min-attempts N    only sources with at least N relay attempts (1)\n"
	    "  --request WHAT      info (default), question, contact\n"
	    "  --tlp LEVEL         clear, green, amber, red (default: the profile's)\n"
	    "  --victim ADDR       our mail server's address or name (target System)\n"
	    "  --victim-port N     its SMTP port (25)\n"
	    "  --excerpt N         log lines in the excerpt at most (20)\n"
	    "  --lang LANG         en or ja (default: LANG, then the profile's)\n");
}

static void safe_name(const char *key, char *out, size_t len)
{
	strlcpy_rg(out, key, len);
	for (char *c = out; *c; c++)
		if (*c == ':' || *c == '/')
			*c = '_';
}

typedef int (*notify_writer)(const struct notify_opts *,
    const struct notify_source *, FILE *);

/* A writer's whole output in memory: only a document that was made
 * completely reaches a file, and intelmq.jsonl is built from this copy, not
 * from the file re-read (another process could have swapped it). */
static char *render(notify_writer fn, const struct notify_opts *o,
    const struct notify_source *s, size_t *len)
{
	char *buf = NULL;
	FILE *m = open_memstream(&buf, len);
	int rc;

	if (m == NULL)
		msg_fatal("open_memstream: %s", strerror(errno));
	rc = fn(o, s, m);
	if (fclose(m) != 0 || rc != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* DIR/NAME.EXT, complete or absent (outfile.h): a temporary file beside it,
 * renamed when written; a link planted at the name is replaced, not
 * followed. */
static int write_file(const char *dir, const char *name, const char *ext,
    const char *buf, size_t len, char *err, size_t errlen)
{
	char *path = xasprintf("%s/%s.%s", dir, name, ext);
	struct rg_outfile of;
	int rc = -1;

	if (rg_outfile_open(&of, path, 0644, err, errlen) == 0) {
		if (fwrite(buf, 1, len, of.fp) != len) {
			rg_set_err(err, errlen, "%s: write error: %s", path,
			    strerror(errno));
			rg_outfile_abort(&of);
		} else {
			rc = rg_outfile_commit(&of, err, errlen);
		}
	}
	free(path);
	return rc;
}

/* One source's four files, and its line in intelmq.jsonl. */
static int write_source(const struct notify_opts *o, const struct notify_source *s,
    const char *dir, FILE *jsonl, char *err, size_t errlen)
{
	static const struct {
		const char *ext;
		notify_writer fn;
	} outputs[] = {
		{"txt", notify_mail}, {"iodef.xml", notify_iodef},
		{"xarf.json", notify_xarf}, {"intelmq.json", notify_intelmq},
	};
	char name[80];

	safe_name(s->key, name, sizeof(name));
	for (size_t i = 0; i < RG_NELEM(outputs); i++) {
		size_t len;
		char *buf = render(outputs[i].fn, o, s, &len);
		json_t *j;
		int rc;

		if (buf == NULL)
			return rg_set_err(err, errlen, "%s/%s.%s: could not be made",
			    dir, name, outputs[i].ext);
		rc = write_file(dir, name, outputs[i].ext, buf, len, err, errlen);
		if (rc == 0 && outputs[i].fn == notify_intelmq &&
		    (j = json_loadb(buf, len, 0, NULL)) != NULL) {
			json_dumpf(j, jsonl, JSON_COMPACT | JSON_PRESERVE_ORDER);
			fputc('\n', jsonl);
			json_decref(j);
		}
		free(buf);
		if (rc != 0)
			return -1;
	}
	printf("%s: %ld relay attempts, %ld bounce storm(s), %s .. %s -> %s/%s.*\n",
	    s->key, s->relay_attempts, s->storms, s->first_iso, s->last_iso, dir, name);
	return 0;
}

/* --out DIR: created if absent; one that belongs to another user (who could
 * swap the files under us) is refused by rg_outfile_open() with the first
 * file, intelmq.jsonl, before anything is written. */
static void open_out_dir(const char *dir, struct rg_outfile *jsonl)
{
	char err[700], *p;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		msg_fatal("%s: cannot create: %s", dir, strerror(errno));
	p = xasprintf("%s/intelmq.jsonl", dir);
	if (rg_outfile_open(jsonl, p, 0644, err, sizeof(err)) != 0)
		msg_fatal("%s", err);
	free(p);
}

static bool wanted(const struct notify_source *s, char **only, size_t nonly)
{
	if (nonly == 0)
		return true;
	for (size_t i = 0; i < nonly; i++) {
		if (strcmp(s->key, only[i]) == 0)
			return true;
		for (size_t j = 0; j < s->naddrs; j++)
			if (strcmp(s->addrs[j], only[i]) == 0)
				return true;
	}
	return false;
}

int notify_parse_num(const char *opt, const char *v, int min, int max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || n < min || n > max) {
		msg_fatal_status = EX_USAGE;
		msg_fatal("%s: '%s' is not a number from %d to %d", opt, v, min, max);
	}
	return (int)n;
}

/* What the command line asks for, beyond struct notify_opts. */
struct notify_args {
	const char *reporter_path, *config_path, *out_dir, *lang;
	int prefix4, prefix6, min_attempts;
	char **only;
	size_t nonly;
};

static void parse_request(struct notify_opts *o, const char *v)
{
	if (strcmp(v, "info") == 0)
		o->request = REQ_INFO;
	else if (strcmp(v, "question") == 0)
		o->request = REQ_QUESTION;
	else if (strcmp(v, "contact") == 0)
		o->request = REQ_CONTACT;
	else
		msg_fatal("--request: '%s' is not info, question or contact", v);
}

static void parse_tlp(struct notify_opts *o, const char *v)
{
	const char *r, *why = rg_iodef_tlp_restriction(v, &r);

	if (why)
		msg_fatal("--tlp: '%s' %s", v, why);
	o->tlp = v;
}

/* One option; -1 for --help, EX_USAGE for a bad one, 0 otherwise. */
static int parse_opt(int c, struct notify_opts *o, struct notify_args *a)
{
	switch (c) {
	case 'e': o->events_path = optarg; break;
	case 'o': a->out_dir = optarg; break;
	case 'r': a->reporter_path = optarg; break;
	case 'c': a->config_path = optarg; break;
	case 'n':
		a->prefix4 = a->prefix4 ? a->prefix4 : 24;
		a->prefix6 = a->prefix6 ? a->prefix6 : 64;
		break;
	case '4': a->prefix4 = notify_parse_num("--prefix4", optarg, 8, 32); break;
	case '6': a->prefix6 = notify_parse_num("--prefix6", optarg, 16, 128); break;
	case 's':
		a->only = xrealloc(a->only, (a->nonly + 1) * sizeof(*a->only));
		a->only[a->nonly++] = optarg;
		break;
	case 'm': a->min_attempts = notify_parse_num("--min-attempts", optarg, 0, 1000000000); break;
	case 'q': parse_request(o, optarg); break;
	case 't': parse_tlp(o, optarg); break;
	case 'v': o->victim = optarg; break;
	case 'p': o->victim_port = notify_parse_num("--victim-port", optarg, 1, 65535); break;
	case 'x': o->excerpt = notify_parse_num("--excerpt", optarg, 2, 1000); break;
	case 'l': a->lang = optarg; break;
	case 'h': return -1;
	default: return EX_USAGE;
	}
	return 0;
}

/* 0 to go on, else the exit status (--help, a usage error). */
static int parse_args(int argc, char **argv, struct notify_opts *o,
    struct notify_args *a)
{
	static const struct option longopts[] = {
		{"events", required_argument, NULL, 'e'}, {"out", required_argument, NULL, 'o'},
		{"reporter", required_argument, NULL, 'r'}, {"config", required_argument, NULL, 'c'},
		{"network", no_argument, NULL, 'n'}, {"prefix4", required_argument, NULL, '4'},
		{"prefix6", required_argument, NULL, '6'}, {"source", required_argument, NULL, 's'},
		{"min-attempts", required_argument, NULL, 'm'},
		{"request", required_argument, NULL, 'q'}, {"tlp", required_argument, NULL, 't'},
		{"victim", required_argument, NULL, 'v'}, {"victim-port", required_argument, NULL, 'p'},
		{"excerpt", required_argument, NULL, 'x'}, {"lang", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if ((rc = parse_opt(c, o, a)) == -1) {
			usage(stdout);
			return rg_close_stdout() == 0 ? -1 : 1;
		}
		if (rc != 0) {
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (o->events_path == NULL || optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	return 0;
}

/* The profile, the language, the clocks; then the log, read once. */
static struct rg_reporter *prepare(struct notify_opts *o, const struct notify_args *a,
    struct notify_log *log, char *host, size_t hostlen)
{
	struct rg_reporter *reporter;
	char err[700];

	if ((reporter = rg_reporter_find(a->reporter_path, a->config_path, err,
	    sizeof(err))) == NULL)
		msg_fatal("--reporter: %s", err);
	if (rg_i18n_init(a->lang, reporter->language, err, sizeof(err)) != 0)
		msg_fatal("--lang: %s", err);
	rg_reporter_apply_timezone(reporter);
	rg_clock_read(&o->clock);
	o->reporter = reporter;
	if (o->tlp == NULL)
		o->tlp = reporter->tlp;
	if (gethostname(host, hostlen) != 0)
		strlcpy_rg(host, "localhost", hostlen);
	host[hostlen - 1] = '\0';
	o->host = host;		/* the full name: syslog_line() shortens it */
	if (notify_read_own(o->events_path, a->prefix4, a->prefix6, o->excerpt,
	    &reporter->own_auditors, log, err, sizeof(err)) != 0)
		msg_fatal("%s", err);
	if (log->bad_lines > 0)
		msg_warn("%s: %ld of %ld lines are not event-log JSON with a time; skipped",
		    o->events_path, log->bad_lines, log->lines);
	o->log_clock = log->milter_clock;
	o->log_zone = log->milter_zone;
	return reporter;
}

/* Our own audit (OwnAuditors): said apart on stderr, never a notification. */
static void own_audit(const struct notify_source *s)
{
	struct timeval first = notify_tv(s->first), last = notify_tv(s->last);
	char a[RG_TIME_ISO_LEN], b[RG_TIME_ISO_LEN];

	msg_info(_("%s: own audit (OwnAuditors of the reporter profile): %ld relay "
	    "attempts, %s .. %s; not reported as abuse"), s->key, s->relay_attempts,
	    rg_time_iso8601(&first, a, sizeof(a)), rg_time_iso8601(&last, b, sizeof(b)));
}

/* One notification per wanted source; 0 or -1. */
static int notify_sources(const struct notify_opts *o, const struct notify_args *a,
    const struct notify_log *log, FILE *jsonl, size_t *written)
{
	char err[700];
	int rc = 0;

	for (size_t i = 0; i < log->n && rc == 0; i++) {
		const struct notify_source *s = &log->src[i];

		if (!wanted(s, a->only, a->nonly) ||
		    s->relay_attempts + s->storms < a->min_attempts ||
		    (s->relay_attempts < a->min_attempts && s->storms == 0))
			continue;
		if (s->own_audit) {
			own_audit(s);
			continue;
		}
		(*written)++;
		if (a->out_dir == NULL) {
			/* a failing stdout stops here; rg_close_stdout says why */
			if (notify_mail(o, s, stdout) != 0 || ferror(stdout))
				rc = -1;
			continue;
		}
		if (write_source(o, s, a->out_dir, jsonl, err, sizeof(err)) != 0) {
			msg_error("%s", err);
			rc = -1;
		}
	}
	return rc;
}

int notify_main(int argc, char **argv)
{
	struct notify_opts o = {.victim_port = 25, .excerpt = 20};
	struct notify_args a = {.min_attempts = 1};
	int rc;
	char err[700], host[256];
	size_t written = 0;
	struct rg_reporter *reporter;
	struct notify_log log;
	struct rg_outfile jsonl = {0};

	if ((rc = parse_args(argc, argv, &o, &a)) != 0) {
		free(a.only);
		return rc == -1 ? 0 : rc;
	}
	reporter = prepare(&o, &a, &log, host, sizeof(host));
	if (a.out_dir != NULL)
		open_out_dir(a.out_dir, &jsonl);
	rc = notify_sources(&o, &a, &log, jsonl.fp, &written);
	/* intelmq.jsonl only when every source reached it */
	if (a.out_dir != NULL && rc != 0)
		rg_outfile_abort(&jsonl);
	else if (a.out_dir != NULL && rg_outfile_commit(&jsonl, err, sizeof(err)) != 0) {
		msg_error("%s", err);
		rc = -1;
	}
	if (written == 0)
		msg_info("%s: no source with at least %d relay attempt(s)", o.events_path,
		    a.min_attempts);
	notify_log_free(&log);
	free(a.only);
	rg_reporter_free(reporter);
	if (rg_close_stdout() != 0 && rc == 0)
		rc = -1;
	return rc == 0 ? 0 : 1;
}

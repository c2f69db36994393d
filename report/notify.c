/* notify.c - relayguard-report notify: options and the loop over sources;
 * see notify.h and relayguard-report(1). */
#include "notify.h"
#include "relayguard/i18n.h"
#include "relayguard/iodef_write.h"
#include "relayguard/log.h"
#include "relayguard/util.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static int write_file(const char *dir, const char *name, const char *ext,
    int (*fn)(const struct notify_opts *, const struct notify_source *, FILE *),
    const struct notify_opts *o, const struct notify_source *s)
{
	char *path = xasprintf("%s/%s.%s", dir, name, ext);
	FILE *f = fopen(path, "w");
	int rc;

	if (f == NULL) {
		msg_error("%s: cannot write: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	rc = fn(o, s, f);
	if (fclose(f) != 0)
		rc = -1;
	if (rc != 0)
		msg_error("%s: could not be written", path);
	free(path);
	return rc;
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

static int parse_num(const char *opt, const char *v, int min, int max)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (*v == '\0' || *end != '\0' || n < min || n > max)
		msg_fatal("%s: '%s' is not a number from %d to %d", opt, v, min, max);
	return (int)n;
}

int notify_main(int argc, char **argv)
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
	struct notify_opts o = {.victim_port = 25, .excerpt = 20};
	const char *reporter_path = NULL, *config_path = NULL, *out_dir = NULL, *lang = NULL;
	int prefix4 = 0, prefix6 = 0, min_attempts = 1, c, rc = 0;
	char **only = NULL, err[700], host[256];
	size_t nonly = 0, written = 0;
	struct rg_reporter *reporter;
	struct notify_log log;
	FILE *jsonl = NULL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'e': o.events_path = optarg; break;
		case 'o': out_dir = optarg; break;
		case 'r': reporter_path = optarg; break;
		case 'c': config_path = optarg; break;
		case 'n': prefix4 = prefix4 ? prefix4 : 24; prefix6 = prefix6 ? prefix6 : 64; break;
		case '4': prefix4 = parse_num("--prefix4", optarg, 8, 32); break;
		case '6': prefix6 = parse_num("--prefix6", optarg, 16, 128); break;
		case 's':
			only = xrealloc(only, (nonly + 1) * sizeof(*only));
			only[nonly++] = optarg;
			break;
		case 'm': min_attempts = parse_num("--min-attempts", optarg, 0, 1000000000); break;
		case 'q':
			if (strcmp(optarg, "info") == 0) o.request = REQ_INFO;
			else if (strcmp(optarg, "question") == 0) o.request = REQ_QUESTION;
			else if (strcmp(optarg, "contact") == 0) o.request = REQ_CONTACT;
			else msg_fatal("--request: '%s' is not info, question or contact", optarg);
			break;
		case 't': {
			const char *r, *why = rg_iodef_tlp_restriction(optarg, &r);

			if (why)
				msg_fatal("--tlp: '%s' %s", optarg, why);
			o.tlp = optarg;
			break;
		}
		case 'v': o.victim = optarg; break;
		case 'p': o.victim_port = parse_num("--victim-port", optarg, 1, 65535); break;
		case 'x': o.excerpt = parse_num("--excerpt", optarg, 2, 1000); break;
		case 'l': lang = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (o.events_path == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	if ((reporter = rg_reporter_find(reporter_path, config_path, err, sizeof(err))) == NULL)
		msg_fatal("--reporter: %s", err);
	if (rg_i18n_init(lang, reporter->language, err, sizeof(err)) != 0)
		msg_fatal("--lang: %s", err);
	rg_reporter_apply_timezone(reporter);
	rg_clock_read(&o.clock);
	o.reporter = reporter;
	if (o.tlp == NULL)
		o.tlp = reporter->tlp;
	if (gethostname(host, sizeof(host)) != 0)
		strlcpy_rg(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	o.host = host;		/* the full name: syslog_line() shortens it */
	if (notify_read(o.events_path, prefix4, prefix6, o.excerpt, &log, err,
	    sizeof(err)) != 0)
		msg_fatal("%s", err);
	if (log.bad_lines > 0)
		msg_warn("%s: %ld of %ld lines are not event-log JSON with a time; skipped",
		    o.events_path, log.bad_lines, log.lines);
	o.log_clock = log.milter_clock;
	o.log_zone = log.milter_zone;
	if (out_dir != NULL) {
		char *p = xasprintf("%s/intelmq.jsonl", out_dir);

		if (mkdir(out_dir, 0755) != 0 && errno != EEXIST)
			msg_fatal("%s: cannot create: %s", out_dir, strerror(errno));
		if ((jsonl = fopen(p, "w")) == NULL)
			msg_fatal("%s: cannot write: %s", p, strerror(errno));
		free(p);
	}
	for (size_t i = 0; i < log.n; i++) {
		const struct notify_source *s = &log.src[i];
		char name[80];

		if (!wanted(s, only, nonly) || s->relay_attempts + s->storms < min_attempts ||
		    (s->relay_attempts < min_attempts && s->storms == 0))
			continue;
		written++;
		if (out_dir == NULL) {
			rc |= notify_mail(&o, s, stdout);
			continue;
		}
		safe_name(s->key, name, sizeof(name));
		rc |= write_file(out_dir, name, "txt", notify_mail, &o, s);
		rc |= write_file(out_dir, name, "iodef.xml", notify_iodef, &o, s);
		rc |= write_file(out_dir, name, "xarf.json", notify_xarf, &o, s);
		rc |= write_file(out_dir, name, "intelmq.json", notify_intelmq, &o, s);
		{
			char *path = xasprintf("%s/%s.intelmq.json", out_dir, name);
			json_error_t jerr;
			json_t *j = json_load_file(path, 0, &jerr);

			if (j != NULL) {
				json_dumpf(j, jsonl, JSON_COMPACT | JSON_PRESERVE_ORDER);
				fputc('\n', jsonl);
				json_decref(j);
			}
			free(path);
		}
		printf("%s: %ld relay attempts, %ld bounce storm(s), %s .. %s -> %s/%s.*\n",
		    s->key, s->relay_attempts, s->storms, s->first_iso, s->last_iso, out_dir,
		    name);
	}
	if (jsonl != NULL && fclose(jsonl) != 0)
		rc = -1;
	if (written == 0)
		msg_info("%s: no source with at least %d relay attempt(s)", o.events_path,
		    min_attempts);
	notify_log_free(&log);
	free(only);
	rg_reporter_free(reporter);
	return rc == 0 ? 0 : 1;
}

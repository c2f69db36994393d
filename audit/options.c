/*
 * options.c - relayguard-audit's command line: ONE table of options that
 * yields the getopt parser, the usage text and the defaults (as
 * milter/policy/config.c's schema does for the milter's configuration).
 *
 * A row names the option (long name, short letter), its kind (flag,
 * integer, seconds, number, string, one-of, repeatable), where the value
 * goes in struct audit_opts (offsetof), its default as text - applied at
 * start through the very parser a command-line value goes through - its
 * range or choices, an optional check, and one line of help. A new option
 * is one new row.
 *
 * "-iL FILE" (nmap's spelling) is read as "--input-file FILE".
 */
#include "audit.h"
#include "report_iodef.h"
#include "lib/mail/address.h"
#include "lib/base/log.h"
#include "lib/base/util.h"
#include "lib/base/version.h"

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <sysexits.h>

_Static_assert(sizeof(enum starttls_mode) == sizeof(int), "enum fields are set as int");
_Static_assert(sizeof(enum report_format) == sizeof(int), "enum fields are set as int");

enum opt_kind {
	OK_FLAG,	/* bool = true */
	OK_INT,		/* int in [min, max] */
	OK_SECS,	/* double seconds in (0, max] */
	OK_NUM,		/* double in [min, max] */
	OK_STR,		/* const char * (check optional) */
	OK_ENUM,	/* int: index of the value in choices "a|b|c" */
	OK_LIST,	/* const char ** grown by one; count at off2 */
	OK_ACTION,	/* handled by the caller (help, version, ...) */
};

struct opt_row {
	const char *name;
	int key;			/* short letter, or 0 */
	enum opt_kind kind;
	size_t off, off2;
	const char *def;		/* default, as text; NULL none */
	const char *arg;		/* the value's name in the usage */
	double min, max;
	const char *choices;		/* OK_ENUM */
	const char *(*check)(const char *v);	/* NULL ok, else why not */
	const char *help;		/* '\n' continues on the next line */
};

#define F(f) offsetof(struct audit_opts, f)

static const char *check_domain(const char *v)
{
	struct rg_address a;
	struct rg_addr_error e;
	char probe[300];

	snprintf(probe, sizeof(probe), "<x@%s>", v);
	if (strlen(v) > 253 || rg_address_parse(probe, &a, &e) != 0 ||
	    a.domain_kind != RG_DOMAIN_NAME)
		return "is not a domain name";
	return NULL;
}

static const char *check_mailbox(const char *v)
{
	const char *at = strrchr(v, '@');

	if (at == NULL || at == v || check_domain(at + 1) != NULL || strpbrk(v, "<> \t\"\\"))
		return "is not a mailbox (local@domain)";
	return NULL;
}

static const char *check_zone(const char *v)
{
	return rg_dns_name_valid(v) ? NULL : "is not a DNS name";
}

static const char *check_local_name(const char *v)
{
	struct rg_address a;
	struct rg_addr_error e;
	char probe[300];

	snprintf(probe, sizeof(probe), "<x@%s>", v);
	if (strlen(v) >= AUDIT_NAME_MAX || rg_address_parse(probe, &a, &e) != 0)
		return "is not a domain name or address literal";
	return NULL;
}

static const char *check_tlp(const char *v)
{
	const char *restriction;

	return iodef_tlp_restriction(v, &restriction);
}

static const char *check_shard(const char *v)
{
	unsigned i, n;
	char end;

	if (sscanf(v, "%u/%u%c", &i, &n, &end) != 2 || n == 0 || n > 1000000 || i >= n)
		return "is not I/N with 0 <= I < N (ZMap's shard numbering)";
	return NULL;
}

/* RFC 2606 reserves example.com, .net and .org: no server relays for one
 * of them by design, and -d defaults to example.com. */
#define SECOND_DOMAIN_DEFAULT	"example.net"

static const struct opt_row rows[] = {
	{"port", 'p', OK_INT, F(port), 0, "25", "N", 1, 65535, NULL, NULL,
	 "default port for targets without one (465 with --tls)"},
	{"domain", 'd', OK_STR, F(domain), 0, "example.com", "D", 0, 0, NULL, check_domain,
	 "external domain used in probe recipients (use one you control)"},
	{"sender-domain", 0, OK_STR, F(sender_domain), 0, NULL, "D2", 0, 0, NULL, check_domain,
	 "external sender domain (default: --domain)"},
	{"second-domain", 0, OK_STR, F(second_domain), 0, SECOND_DOMAIN_DEFAULT, "D", 0, 0,
	 NULL, check_domain, "second destination: every probe accepted towards\n"
	 "--domain is tried towards D too (RFC 2606 reserved, no server\n"
	 "relays for it); refused there: \"relays only for --domain\""},
	{"helo", 0, OK_STR, F(helo), 0, NULL, "NAME", 0, 0, NULL, NULL,
	 "EHLO/HELO name (default: --domain); a CSIRT names a host\n"
	 "with a web page that explains the scan"},
	{"source", 's', OK_STR, F(source), 0, NULL, "ADDR", 0, 0, NULL, NULL,
	 "bind this local address"},
	{"starttls", 0, OK_ENUM, F(starttls), 0, "auto", "MODE", 0, 0, "auto|always|never", NULL,
	 "STARTTLS when offered, always (or fail), never"},
	{"tls", 0, OK_FLAG, F(implicit_tls), 0, NULL, NULL, 0, 0, NULL, NULL,
	 "implicit TLS from the first byte (port 465)"},
	{"timeout", 't', OK_SECS, F(read_timeout), 0, "30", "SECS", 0, 86400, NULL, NULL,
	 "reply timeout"},
	{"connect-timeout", 0, OK_SECS, F(connect_timeout), 0, "10", "SECS", 0, 86400, NULL, NULL,
	 "connect timeout"},
	{"budget", 0, OK_SECS, F(budget), 0, "300", "SECS", 0, 86400, NULL, NULL,
	 "time budget per target"},
	{"no-pipelining", 0, OK_FLAG, F(no_pipelining), 0, NULL, NULL, 0, 0, NULL, NULL,
	 "one command at a time even when EHLO offers PIPELINING"},
	{"errors-per-session", 0, OK_INT, F(errors_per_session), 0, "10", "N", 1, 1000, NULL, NULL,
	 "new session after N refusals"},
	{"data-probes", 0, OK_INT, F(data_probes), 0, "3", "N", 0, 1000, NULL, NULL,
	 "DATA-stage checks per target"},
	{"format", 'f', OK_ENUM, F(format), 0, "text", "FMT", 0, 0, "text|json|iodef|jsonl|nagios", NULL,
	 "report format; jsonl: one JSON object per target, written\n"
	 "the moment it is graded; nagios: as --nagios"},
	{"nagios", 0, OK_FLAG, F(nagios), 0, NULL, NULL, 0, 0, NULL, NULL,
	 "a monitoring plugin: one status line (RELAY OK|WARNING|CRITICAL|\n"
	 "UNKNOWN - ... | perfdata), exit 0/1/2/3; usage errors exit 3"},
	{"output", 'o', OK_STR, F(output), 0, NULL, "FILE", 0, 0, NULL, NULL,
	 "write the report to FILE instead of stdout: complete or\n"
	 "absent (written beside it, renamed when whole)"},
	{"fields", 0, OK_ENUM, F(fields), 0, "relayguard", "NAMES", 0, 0, "relayguard|intelmq",
	 NULL, "JSON field names: relayguard's, or IntelMQ's (source.ip,\n"
	 "classification.*, extra.*) for a CSIRT pipeline"},
	{"feed-name", 0, OK_STR, F(feed_name), 0, NULL, "NAME", 0, 0, NULL, NULL,
	 "IntelMQ feed.name written with --fields intelmq"},
	{"tlp", 0, OK_STR, F(tlp), 0, NULL, "LEVEL", 0, 0, NULL, check_tlp,
	 "IODEF disclosure restriction: clear, green, amber, red\n"
	 "(default: the reporter profile's TLP, else amber)"},
	{"transcript", 'T', OK_FLAG, F(transcript), 0, NULL, NULL, 0, 0, NULL, NULL,
	 "include the timestamped SMTP dialogue"},
	{"input-file", 0, OK_LIST, F(input_files), F(ninput_files), NULL, "FILE", 0, 0, NULL, NULL,
	 "-iL FILE: targets from FILE (- for stdin), one host[:port]\n"
	 "per line; ZMap output (bare IPs) and ZGrab2 CSV\n"
	 "(IP, DOMAIN, TAG, PORT) too; a TARGET '-' reads stdin"},
	{"concurrency", 'j', OK_INT, F(jobs), 0, "4", "N", 1, 1024, NULL, NULL,
	 "targets audited at once (-j, --jobs N is the same)"},
	{"jobs", 0, OK_INT, F(jobs), 0, NULL, "N", 1, 1024, NULL, NULL,
	 "same as --concurrency"},
	{"per-host", 0, OK_INT, F(per_host), 0, "4", "N", 1, 64, NULL, NULL,
	 "connections at once per target, never more (opened ahead,\n"
	 "kept between passes and closing ones count); each session\n"
	 "stays below the server's error limits; a 421 'too many\n"
	 "connections' lowers it to what the server takes"},
	{"max-sessions", 0, OK_INT, F(max_sessions), 0, "256", "N", 0, 65536, NULL, NULL,
	 "SMTP sessions at once over all targets, never more (0: no\n"
	 "cap); -j bounds the targets in progress, this the sockets,\n"
	 "so a backend shared by many targets is not flooded"},
	{"rate", 0, OK_NUM, F(rate), 0, NULL, "N", 0.01, 100000, NULL, NULL,
	 "at most N new connections per second, over all targets"},
	{"exclude", 0, OK_STR, F(exclude), 0, NULL, "FILE", 0, 0, NULL, NULL,
	 "never contact addresses in these networks (CIDRs, one or\n"
	 "more per line, '#' comments): the opt-out list"},
	{"shard", 0, OK_STR, F(shard), 0, NULL, "I/N", 0, 0, NULL, check_shard,
	 "audit only share I (0..N-1) of N disjoint, deterministic\n"
	 "shares of the targets (by a hash of host:port)"},
	{"resume", 0, OK_STR, F(resume), 0, NULL, "FILE", 0, 0, NULL, NULL,
	 "skip targets already in FILE, an earlier -f jsonl output"},
	{"confirm", 0, OK_STR, F(confirm), 0, NULL, "MAILBOX", 0, 0, NULL, check_mailbox,
	 "opt-in: send ONE canary message per target through the first\n"
	 "accepted relay probe to MAILBOX (yours), then wait for it"},
	{"confirm-maildir", 0, OK_STR, F(confirm_maildir), 0, NULL, "DIR", 0, 0, NULL, NULL,
	 "the Maildir where MAILBOX's mail arrives (new/, cur/)"},
	{"confirm-wait", 0, OK_SECS, F(confirm_wait), 0, "30", "SECS", 0, 3600, NULL, NULL,
	 "how long to wait for the canary"},
	{"baseline", 0, OK_STR, F(baseline), 0, NULL, "FILE", 0, 0, NULL, NULL,
	 "compare with an earlier -f json/jsonl run: new, newly open,\n"
	 "still open since T, fixed at T, newly unreachable"},
	{"mx", 0, OK_FLAG, F(mx), 0, NULL, NULL, 0, 0, NULL, NULL,
	 "TARGETs (and -iL lines) are mail domains: audit every\n"
	 "address of every MX host (null MX honoured)"},
	{"nameserver", 0, OK_STR, F(nameserver), 0, NULL, "NS", 0, 0, NULL, NULL,
	 "HOST[:PORT][,...] DNS server (default: resolv.conf)"},
	{"dnsbl", 0, OK_LIST, F(dnsbl), F(ndnsbl), NULL, "ZONE", 0, 0, NULL, check_zone,
	 "report listings on this DNSBL (repeatable)"},
	{"spf-domain", 0, OK_STR, F(spf_domain), 0, NULL, "D", 0, 0, NULL, check_zone,
	 "domain the targets serve, for the SPF check"},
	{"dns-timeout", 0, OK_SECS, F(dns_timeout), 0, "2", "SECS", 0, 86400, NULL, NULL,
	 "seconds per DNS try"},
	{"dns-retries", 0, OK_INT, F(dns_retries), 0, "1", "N", 0, 10, NULL, NULL,
	 "extra DNS rounds"},
	{"local-name", 0, OK_LIST, F(local_names), F(nlocal_names), NULL, "NAME", 0, 0, NULL,
	 check_local_name, "a name the targets treat as their own (a mail domain,\n"
	 "host name or [literal]); the sender and routing tricks\n"
	 "are repeated for it (repeatable)"},
	{"reporter", 0, OK_STR, F(reporter_path), 0, NULL, "FILE", 0, 0, NULL, NULL,
	 "reporter profile (default /etc/relayguard/reporter.conf\n"
	 "when it exists)"},
	{"lang", 0, OK_STR, F(lang), 0, NULL, "LANG", 0, 0, NULL, NULL,
	 "report language: en or ja (default: LANG)"},
	{"list-tricks", 0, OK_ACTION, 0, 0, NULL, NULL, 0, 0, NULL, NULL,
	 "print the relay-trick catalogue and exit"},
	{"quiet", 'q', OK_FLAG, F(quiet), 0, NULL, NULL, 0, 0, NULL, NULL,
	 "no progress line, no summary line, no notes: only warnings,\n"
	 "errors and the report"},
	{"verbose", 'v', OK_ACTION, 0, 0, NULL, NULL, 0, 0, NULL, NULL, "more diagnostics"},
	{"version", 'V', OK_ACTION, 0, 0, NULL, NULL, 0, 0, NULL, NULL, "print the version"},
	{"help", 'h', OK_ACTION, 0, 0, NULL, NULL, 0, 0, NULL, NULL, "this help"},
};

/* EX_USAGE, or UNKNOWN (3) for a monitoring plugin (--nagios): a check
 * whose command line is wrong must not look like a verdict code 64. */
static int usage_status = EX_USAGE;

/* --nagios (or an unambiguous prefix), -f nagios, -fnagios, --format
 * nagios, --format=nagios: seen before getopt, so that its errors exit 3 */
static bool nagios_word(const char *a, const char *next)
{
	size_t n = strlen(a);

	return (n >= 5 && strncmp(a, "--nagios", n) == 0) ||
	    strcmp(a, "-fnagios") == 0 || strcmp(a, "--format=nagios") == 0 ||
	    ((strcmp(a, "-f") == 0 || strcmp(a, "--format") == 0) &&
	    strcmp(next, "nagios") == 0);
}

static void bad(const struct opt_row *r, const char *v, const char *why)
{
	fprintf(stderr, "relayguard-audit: --%s: '%s' %s\n", r->name, v, why);
	exit(usage_status);
}

static void set(const struct opt_row *r, const char *v, struct audit_opts *o)
{
	char *p = (char *)o + r->off, *end;
	const char *why;

	if (r->check && (why = r->check(v)) != NULL)
		bad(r, v, why);
	switch (r->kind) {
	case OK_FLAG:
		*(bool *)p = true;
		break;
	case OK_INT: {
		long n = strtol(v, &end, 10);

		if (*v == '\0' || *end != '\0' || n < r->min || n > r->max) {
			fprintf(stderr, "relayguard-audit: --%s: '%s' is not a number from "
			    "%.0f to %.0f\n", r->name, v, r->min, r->max);
			exit(usage_status);
		}
		*(int *)p = (int)n;
		break;
	}
	case OK_SECS:
	case OK_NUM: {
		double d = strtod(v, &end);

		if (*v == '\0' || *end != '\0' || d != d ||
		    (r->kind == OK_SECS ? d <= 0 : d < r->min) || d > r->max)
			bad(r, v, r->kind == OK_SECS ? "is not a number of seconds" :
			    "is out of range");
		*(double *)p = d;
		break;
	}
	case OK_STR:
		*(const char **)p = v;
		break;
	case OK_ENUM: {
		const char *c = r->choices;
		size_t len = strlen(v);

		for (int i = 0; c && *c; i++) {
			const char *bar = strchr(c, '|');
			size_t clen = bar ? (size_t)(bar - c) : strlen(c);

			if (clen == len && strncmp(c, v, len) == 0) {
				*(int *)p = i;
				return;
			}
			c = bar ? bar + 1 : NULL;
		}
		fprintf(stderr, "relayguard-audit: --%s: '%s' is not one of %s\n", r->name, v,
		    r->choices);
		exit(usage_status);
	}
	case OK_LIST: {
		const char ***list = (const char ***)p;
		size_t *n = (size_t *)((char *)o + r->off2);

		*list = xrealloc(*list, (*n + 1) * sizeof(**list));
		(*list)[(*n)++] = v;
		break;
	}
	case OK_ACTION:
		break;
	}
}

void audit_usage(FILE *out)
{
	fprintf(out, "usage: relayguard-audit [options] TARGET...\n"
	    "  TARGET is host, host:port or [v6addr]:port; - reads targets from stdin\n");
	for (size_t i = 0; i < RG_NELEM(rows); i++) {
		const struct opt_row *r = &rows[i];
		char left[64];
		const char *h = r->help;
		bool first = true;

		snprintf(left, sizeof(left), "  %s%c%s --%s%s%s", r->key ? "-" : " ",
		    r->key ? r->key : ' ', r->key ? "," : " ", r->name, r->arg ? " " : "",
		    r->arg ? r->arg : "");
		while (h) {
			const char *nl = strchr(h, '\n');
			int len = nl ? (int)(nl - h) : (int)strlen(h);

			fprintf(out, "%-30s%.*s", first ? left : "", len, h);
			h = nl ? nl + 1 : NULL;
			first = false;
			if (h == NULL && r->def && r->kind != OK_FLAG)
				fprintf(out, " (default %s)", r->def);
			fputc('\n', out);
		}
	}
	fprintf(out, "exit: 0 closed, 1 accept_all/inconclusive/domain_relay, 2 open_relay, "
	    "3 unreachable or an error,\n      4 the report could not be written, "
	    "64 usage error, 130/143 interrupted (SIGINT/SIGTERM)\n");
}

/* The second destination must not be --domain: the default steps aside
 * to example.org, a chosen one is a usage error. */
static void second_domain_differs(struct audit_opts *o)
{
	if (strcasecmp(o->second_domain, o->domain) != 0)
		return;
	if (strcmp(o->second_domain, SECOND_DOMAIN_DEFAULT) == 0) {
		o->second_domain = "example.org";
		return;
	}
	fprintf(stderr, "relayguard-audit: --second-domain %s is --domain: it must be "
	    "another domain\n", o->second_domain);
	exit(usage_status);
}

int audit_options_parse(int argc, char **argv, struct audit_opts *o, const char **action)
{
	struct option longopts[RG_NELEM(rows) + 1];
	char shortopts[2 * RG_NELEM(rows) + 2] = "";
	size_t ns = 0;
	int c, idx;

	memset(o, 0, sizeof(*o));
	*action = NULL;
	for (size_t i = 0; i < RG_NELEM(rows); i++) {
		const struct opt_row *r = &rows[i];
		bool arg = r->kind != OK_FLAG && r->kind != OK_ACTION;

		if (r->def)
			set(r, r->def, o);
		longopts[i] = (struct option){r->name, arg ? required_argument : no_argument,
		    NULL, 0};
		if (r->key) {
			shortopts[ns++] = (char)r->key;
			if (arg)
				shortopts[ns++] = ':';
		}
	}
	longopts[RG_NELEM(rows)] = (struct option){NULL, 0, NULL, 0};
	shortopts[ns] = '\0';
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "-iL") == 0)
			argv[i] = (char *)"--input-file";
		if (nagios_word(argv[i], i + 1 < argc ? argv[i + 1] : ""))
			usage_status = 3;
	}
	while ((c = getopt_long(argc, argv, shortopts, longopts, &idx)) != -1) {
		const struct opt_row *r = NULL;

		if (c == '?' || c == ':') {
			audit_usage(stderr);
			exit(usage_status);
		}
		if (c == 0) {
			r = &rows[idx];
		} else {
			for (size_t i = 0; i < RG_NELEM(rows) && r == NULL; i++)
				if (rows[i].key == c)
					r = &rows[i];
		}
		if (r == NULL)
			continue;
		if (r->kind == OK_ACTION) {
			if (strcmp(r->name, "verbose") == 0) {
				msg_verbose_level++;
				continue;
			}
			if (*action == NULL)	/* the rest is parsed too (-o FILE) */
				*action = r->name;
			continue;
		}
		if (strcmp(r->name, "port") == 0)
			o->port_given = true;
		set(r, optarg, o);
	}
	if (o->nagios)
		o->format = FORMAT_NAGIOS;
	if (o->implicit_tls && !o->port_given)
		o->port = 465;
	if (o->helo == NULL)
		o->helo = o->domain;
	second_domain_differs(o);
	if (o->shard) {
		unsigned i, n;

		sscanf(o->shard, "%u/%u", &i, &n);
		o->shard_i = i;
		o->shard_n = n;
	}
	return optind;
}

int audit_usage_status(void)
{
	return usage_status;
}

void audit_print_version(FILE *out)
{
	fprintf(out, "relayguard-audit %s (JSON schema %s)\n", RG_VERSION, RG_AUDIT_SCHEMA);
}

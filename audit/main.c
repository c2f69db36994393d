/*
 * relayguard-audit - test whether mail servers act as open relays.
 *
 * Usage: relayguard-audit [options] TARGET...   (see relayguard-audit(1))
 * Exit: 0 closed, 1 accept_all or inconclusive, 2 open_relay,
 *       3 unreachable or usage error (the worst over all targets).
 */
#include "audit.h"
#include "report_iodef.h"
#include "relayguard/address.h"
#include "relayguard/i18n.h"
#include "relayguard/log.h"
#include "relayguard/util.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RG_VERSION "0.1.0"

static void usage(FILE *out)
{
	fprintf(out,
	    "usage: relayguard-audit [options] TARGET...\n"
	    "  TARGET is host, host:port or [v6addr]:port\n"
	    "  -p, --port N              default port (25)\n"
	    "  -d, --domain D            external domain used in probe recipients\n"
	    "                            (default example.com; use one you control)\n"
	    "      --sender-domain D2    external sender domain (default: --domain)\n"
	    "      --helo NAME           EHLO/HELO name (default: --domain)\n"
	    "  -s, --source ADDR         bind this local address\n"
	    "      --starttls MODE       auto|always|never (default auto)\n"
	    "      --tls                 implicit TLS from the first byte (port 465)\n"
	    "  -t, --timeout SECS        reply timeout (default 30)\n"
	    "      --connect-timeout S   connect timeout (default 10)\n"
	    "      --budget SECS         time budget per target (default 300)\n"
	    "      --errors-per-session N  new session after N refusals (default 8)\n"
	    "      --data-probes N       DATA-stage checks per target (default 3)\n"
	    "  -f, --format FMT          text|json|iodef (default text)\n"
	    "      --tlp LEVEL           IODEF disclosure restriction: clear, green,\n"
	    "                            amber, red (default: the reporter\n"
	    "                            profile's TLP, else amber)\n"
	    "  -T, --transcript          include the timestamped SMTP dialogue\n"
	    "  -j, --jobs N              targets audited in parallel (default 4)\n"
	    "      --mx                  TARGETs are mail domains: audit every address\n"
	    "                            of every MX host (null MX honoured)\n"
	    "      --nameserver NS       HOST[:PORT][,...] DNS server (default: resolv.conf)\n"
	    "      --dnsbl ZONE          report listings on this DNSBL (repeatable)\n"
	    "      --spf-domain D        domain the targets serve, for the SPF check\n"
	    "      --dns-timeout S       seconds per DNS try (default 2)\n"
	    "      --dns-retries N       extra DNS rounds (default 1)\n"
	    "      --local-name NAME     a name the targets treat as their own (a mail\n"
	    "                            domain, host name or [literal]); the sender\n"
	    "                            and routing tricks are repeated for it\n"
	    "                            (repeatable)\n"
	    "      --reporter FILE       reporter profile (default /etc/relayguard/\n"
	    "                            reporter.conf when it exists)\n"
	    "      --lang LANG           report language: en or ja (default: LANG)\n"
	    "      --list-tricks         print the relay-trick catalogue and exit\n"
	    "  -v, --verbose             -V, --version   -h, --help\n"
	    "exit: 0 closed, 1 accept_all/inconclusive, 2 open_relay, 3 unreachable/usage\n");
}

static double parse_seconds(const char *opt, const char *v)
{
	char *end;
	double d = strtod(v, &end);

	if (*v == '\0' || *end != '\0' || d <= 0 || d > 86400) {
		fprintf(stderr, "relayguard-audit: %s: '%s' is not a number of seconds\n",
		    opt, v);
		exit(3);
	}
	return d;
}

static int parse_int(const char *opt, const char *v, int min, int max)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (*v == '\0' || *end != '\0' || n < min || n > max) {
		fprintf(stderr, "relayguard-audit: %s: '%s' is not a number from %d to %d\n",
		    opt, v, min, max);
		exit(3);
	}
	return (int)n;
}

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

struct work {
	struct audit_target *targets;
	size_t n, next;
	const struct audit_opts *opts;
	pthread_mutex_t lock;
};

static void *worker(void *arg)
{
	struct work *w = arg;

	for (;;) {
		pthread_mutex_lock(&w->lock);
		size_t i = w->next++;

		pthread_mutex_unlock(&w->lock);
		if (i >= w->n)
			return NULL;
		msg_verbose("auditing %s port %d", w->targets[i].host, w->targets[i].port);
		audit_run_target(&w->targets[i], w->opts);
		audit_dns_facts(&w->targets[i], w->opts);
	}
}

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

int main(int argc, char **argv)
{
	struct audit_opts o = {
		.port = 25, .domain = "example.com", .starttls = STARTTLS_AUTO,
		.connect_timeout = 10, .read_timeout = 30, .budget = 300,
		.errors_per_session = 8, .data_probes = 3, .format = FORMAT_TEXT,
		.jobs = 4, .tlp = NULL, .dns_timeout = 2, .dns_retries = 1,
	};
	static const struct option longopts[] = {
		{"port", required_argument, NULL, 'p'},
		{"domain", required_argument, NULL, 'd'},
		{"sender-domain", required_argument, NULL, 1},
		{"helo", required_argument, NULL, 2},
		{"source", required_argument, NULL, 's'},
		{"starttls", required_argument, NULL, 3},
		{"tls", no_argument, NULL, 4},
		{"timeout", required_argument, NULL, 't'},
		{"connect-timeout", required_argument, NULL, 5},
		{"budget", required_argument, NULL, 6},
		{"errors-per-session", required_argument, NULL, 7},
		{"data-probes", required_argument, NULL, 8},
		{"format", required_argument, NULL, 'f'},
		{"tlp", required_argument, NULL, 10},
		{"transcript", no_argument, NULL, 'T'},
		{"jobs", required_argument, NULL, 'j'},
		{"list-tricks", no_argument, NULL, 9},
		{"mx", no_argument, NULL, 20},
		{"nameserver", required_argument, NULL, 21},
		{"dnsbl", required_argument, NULL, 22},
		{"spf-domain", required_argument, NULL, 23},
		{"dns-timeout", required_argument, NULL, 24},
		{"dns-retries", required_argument, NULL, 25},
		{"local-name", required_argument, NULL, 60},
		{"reporter", required_argument, NULL, 26},
		{"lang", required_argument, NULL, 27},
		{"verbose", no_argument, NULL, 'v'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	bool port_given = false;
	const char *reporter_path = NULL, *lang = NULL;
	struct rg_reporter *reporter;
	char rerr[600];

	msg_init(argv[0]);
	msg_fatal_status = 3;
	signal(SIGPIPE, SIG_IGN);
	while ((c = getopt_long(argc, argv, "p:d:s:t:f:Tj:vVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': o.port = parse_int("--port", optarg, 1, 65535); port_given = true; break;
		case 'd': o.domain = optarg; break;
		case 1: o.sender_domain = optarg; break;
		case 2: o.helo = optarg; break;
		case 's': o.source = optarg; break;
		case 3:
			if (strcmp(optarg, "auto") == 0) o.starttls = STARTTLS_AUTO;
			else if (strcmp(optarg, "always") == 0) o.starttls = STARTTLS_ALWAYS;
			else if (strcmp(optarg, "never") == 0) o.starttls = STARTTLS_NEVER;
			else msg_fatal("--starttls: '%s' is not auto, always or never", optarg);
			break;
		case 4: o.implicit_tls = true; break;
		case 't': o.read_timeout = parse_seconds("--timeout", optarg); break;
		case 5: o.connect_timeout = parse_seconds("--connect-timeout", optarg); break;
		case 6: o.budget = parse_seconds("--budget", optarg); break;
		case 7: o.errors_per_session = parse_int("--errors-per-session", optarg, 1, 1000); break;
		case 8: o.data_probes = parse_int("--data-probes", optarg, 0, 1000); break;
		case 'f':
			if (strcmp(optarg, "text") == 0) o.format = FORMAT_TEXT;
			else if (strcmp(optarg, "json") == 0) o.format = FORMAT_JSON;
			else if (strcmp(optarg, "iodef") == 0) o.format = FORMAT_IODEF;
			else msg_fatal("--format: '%s' is not text, json or iodef", optarg);
			break;
		case 'T': o.transcript = true; break;
		case 10: {
			const char *restriction, *why = iodef_tlp_restriction(optarg, &restriction);

			if (why)
				msg_fatal("--tlp: '%s' %s", optarg, why);
			o.tlp = optarg;
			break;
		}
		case 'j': o.jobs = parse_int("--jobs", optarg, 1, 256); break;
		case 9: list_tricks(); return 0;
		case 20: o.mx = true; break;
		case 21: o.nameserver = optarg; break;
		case 22:
			if (!rg_dns_name_valid(optarg))
				msg_fatal("--dnsbl: '%s' is not a DNS zone", optarg);
			o.dnsbl = xrealloc(o.dnsbl, (o.ndnsbl + 1) * sizeof(*o.dnsbl));
			o.dnsbl[o.ndnsbl++] = optarg;
			break;
		case 23:
			if (!rg_dns_name_valid(optarg))
				msg_fatal("--spf-domain: '%s' is not a domain name", optarg);
			o.spf_domain = optarg;
			break;
		case 24: o.dns_timeout = parse_seconds("--dns-timeout", optarg); break;
		case 25: o.dns_retries = parse_int("--dns-retries", optarg, 0, 10); break;
		case 60: {
			char probe[300];
			struct rg_address a;
			struct rg_addr_error e;

			snprintf(probe, sizeof(probe), "<x@%s>", optarg);
			if (strlen(optarg) >= AUDIT_NAME_MAX ||
			    rg_address_parse(probe, &a, &e) != 0)
				msg_fatal("--local-name: '%s' is not a domain name or "
				    "address literal", optarg);
			o.local_names = xrealloc(o.local_names,
			    (o.nlocal_names + 1) * sizeof(*o.local_names));
			o.local_names[o.nlocal_names++] = optarg;
			break;
		}
		case 26: reporter_path = optarg; break;
		case 27: lang = optarg; break;
		case 'v': msg_verbose_level++; break;
		case 'V': printf("relayguard-audit %s\n", RG_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 3;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 3;
	}
	/* Who reports, in which language and time zone; before any thread. */
	if ((reporter = rg_reporter_find(reporter_path, NULL, rerr, sizeof(rerr))) == NULL)
		msg_fatal("--reporter: %s", rerr);
	if (rg_i18n_init(lang, reporter->language, rerr, sizeof(rerr)) != 0)
		msg_fatal("--lang: %s", rerr);
	rg_reporter_apply_timezone(reporter);
	rg_clock_read(&o.clock);
	o.reporter = reporter;
	if (o.tlp == NULL)
		o.tlp = reporter->tlp;
	if (o.implicit_tls && !port_given)
		o.port = 465;
	if (o.helo == NULL)
		o.helo = o.domain;
	{
		struct rg_address a;
		struct rg_addr_error e;
		char probe[300];

		snprintf(probe, sizeof(probe), "<x@%s>", o.domain);
		if (rg_address_parse(probe, &a, &e) != 0 || a.domain_kind != RG_DOMAIN_NAME)
			msg_fatal("--domain: '%s' is not a domain name", o.domain);
		if (o.sender_domain) {
			snprintf(probe, sizeof(probe), "<x@%s>", o.sender_domain);
			if (rg_address_parse(probe, &a, &e) != 0 ||
			    a.domain_kind != RG_DOMAIN_NAME)
				msg_fatal("--sender-domain: '%s' is not a domain name",
				    o.sender_domain);
		}
	}

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

	size_t n = 0;
	struct audit_target *targets = NULL;
	int mx_failed = 0;

	if (o.mx) {
		for (int i = optind; i < argc; i++) {
			char err[600];
			int r = audit_mx_targets(argv[i], &o, &targets, &n, err, sizeof(err));

			if (r != 0)
				msg_warn("%s", err);
			if (r < 0)
				mx_failed++;
		}
		if (n == 0) {
			rg_spf_free(o.spf);
			rg_dns_free(o.dns);
			free(o.dnsbl);
	free(o.local_names);
			rg_reporter_free(reporter);
			return mx_failed ? 3 : 0;	/* only null MX: nothing accepts mail */
		}
	} else {
		n = (size_t)(argc - optind);
		targets = xcalloc(n, sizeof(*targets));
		for (size_t i = 0; i < n; i++) {
			char err[400];

			if (audit_parse_target(argv[optind + (int)i], o.port, &targets[i], err,
			    sizeof(err)) != 0)
				msg_fatal("target %s", err);
		}
	}

	struct work w = {.targets = targets, .n = n, .opts = &o};
	size_t nthreads = n < (size_t)o.jobs ? n : (size_t)o.jobs;
	pthread_t *th = xcalloc(nthreads, sizeof(*th));

	pthread_mutex_init(&w.lock, NULL);
	for (size_t i = 0; i < nthreads; i++)
		if (pthread_create(&th[i], NULL, worker, &w) != 0)
			msg_fatal("cannot start a worker thread");
	for (size_t i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	free(th);

	enum verdict worst = VERDICT_CLOSED;

	for (size_t i = 0; i < n; i++) {
		if (o.format == FORMAT_JSON)
			report_json(&targets[i], &o, stdout);
		else if (o.format == FORMAT_TEXT)
			report_text(&targets[i], &o, stdout);
		if (exit_rank(targets[i].verdict) > exit_rank(worst))
			worst = targets[i].verdict;
	}
	if (o.format == FORMAT_IODEF) {
		const struct audit_target **tp = xcalloc(n, sizeof(*tp));

		for (size_t i = 0; i < n; i++)
			tp[i] = &targets[i];
		if (report_iodef(tp, n, &o, stdout) != 0)
			msg_error("could not write the IODEF document");
		free(tp);
	}
	fflush(stdout);
	for (size_t i = 0; i < n; i++)
		audit_target_free(&targets[i]);
	free(targets);
	rg_spf_free(o.spf);
	rg_dns_free(o.dns);
	free(o.dnsbl);
	free(o.local_names);
	rg_reporter_free(reporter);
	if (mx_failed && exit_rank(VERDICT_UNREACHABLE) > exit_rank(worst))
		worst = VERDICT_UNREACHABLE;
	return verdict_exit_code(worst);
}

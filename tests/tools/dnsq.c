/*
 * dnsq - drive lib/net/dns.c and lib/mail/spf.c from the integration tests.
 *
 *   dnsq -n NS [-t SECS] [-r RETRIES] [-H HOLDDOWN] [-D DEADLINE] [-c COUNT] [-s]
 *        CMD ARGS...
 *
 *   mx DOMAIN | addrs NAME | ptr IP | fcrdns IP | txt NAME | dnsbl IP ZONE |
 *   spf IP HELO MAILFROM | a NAME
 *
 * -c runs the command COUNT times (cache test); -s prints the resolver's
 * statistics ("stats queries=N cache_hits=N timeouts=N held_down=N"); each run
 * prints "elapsed_ms=N" last. Exit 0 unless the arguments are wrong.
 */
#include "lib/net/dns.h"
#include "lib/base/log.h"
#include "lib/mail/spf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int run(struct rg_dns *dns, struct rg_spf *spf, int argc, char **argv)
{
	const char *cmd = argv[0];
	enum rg_dns_status s;

	if (strcmp(cmd, "mx") == 0 && argc == 2) {
		struct rg_dns_mx_list l;

		s = rg_dns_mx(dns, argv[1], &l);
		printf("status=%s%s%s\n", rg_dns_status_name(s), l.null_mx ? " null_mx" : "",
		    l.implicit ? " implicit" : "");
		for (size_t i = 0; i < l.n; i++)
			printf("%u %s\n", l.mx[i].pref, l.mx[i].host);
	} else if (strcmp(cmd, "addrs") == 0 && argc == 2) {
		struct rg_dns_addr_list l;

		s = rg_dns_addrs(dns, argv[1], &l);
		printf("status=%s\n", rg_dns_status_name(s));
		for (size_t i = 0; i < l.n; i++)
			printf("%s\n", l.addr[i]);
	} else if (strcmp(cmd, "a") == 0 && argc == 2) {
		struct rg_dns_answer a;

		s = rg_dns_query(dns, argv[1], RG_DNS_T_A, &a);
		printf("status=%s ttl=%u%s\n", rg_dns_status_name(s), a.ttl,
		    a.from_cache ? " cached" : "");
		for (size_t i = 0; i < a.n; i++)
			printf("%s\n", a.rr[i].text);
		rg_dns_answer_free(&a);
	} else if (strcmp(cmd, "ptr") == 0 && argc == 2) {
		struct rg_dns_name_list l;

		s = rg_dns_ptr(dns, argv[1], &l);
		printf("status=%s\n", rg_dns_status_name(s));
		for (size_t i = 0; i < l.n; i++)
			printf("%s\n", l.name[i]);
	} else if (strcmp(cmd, "fcrdns") == 0 && argc == 2) {
		char name[RG_DNS_NAME_MAX];
		enum rg_fcrdns f = rg_dns_fcrdns(dns, argv[1], name, sizeof(name));

		printf("%s %s\n", rg_fcrdns_name(f), name[0] ? name : "-");
	} else if (strcmp(cmd, "txt") == 0 && argc == 2) {
		char **txt;
		size_t n;

		s = rg_dns_txt(dns, argv[1], &txt, &n);
		printf("status=%s\n", rg_dns_status_name(s));
		for (size_t i = 0; i < n; i++)
			printf("%s\n", txt[i]);
		rg_dns_txt_free(txt, n);
	} else if (strcmp(cmd, "dnsbl") == 0 && argc == 3) {
		struct rg_dnsbl_result r;

		s = rg_dnsbl_query(dns, argv[1], argv[2], &r);
		printf("status=%s %s codes=%s reason=%s\n", rg_dns_status_name(s),
		    r.listed ? "listed" : "not_listed", r.codes, r.reason);
	} else if (strcmp(cmd, "spf") == 0 && argc == 4) {
		struct rg_spf_result r;

		rg_spf_check(spf, argv[1], argv[2], argv[3], &r);
		printf("result=%s\ndomain=%s\nunsafe=%d\nexplanation=%s\nreceived_spf=%s\n",
		    rg_spf_result_name(r.result), r.domain, r.unsafe_record, r.explanation,
		    r.received_spf);
	} else {
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct rg_dns_opts o = RG_DNS_OPTS_DEFAULT;
	int c, count = 1;
	bool stats = false;
	double deadline = 0;
	char err[256];

	msg_init("dnsq");
	while ((c = getopt(argc, argv, "n:t:r:H:D:c:sv")) != -1) {
		switch (c) {
		case 'n': o.nameservers = optarg; break;
		case 't': o.timeout = atof(optarg); break;
		case 'r': o.retries = atoi(optarg); break;
		case 'H': o.holddown = atof(optarg); break;
		case 'D': deadline = atof(optarg); break;
		case 'c': count = atoi(optarg); break;
		case 's': stats = true; break;
		case 'v': msg_verbose_level++; break;
		default: return 2;
		}
	}
	if (optind >= argc || o.nameservers == NULL) {
		fprintf(stderr, "usage: dnsq -n NS [options] CMD ARGS (see the source)\n");
		return 2;
	}
	struct rg_dns *dns = rg_dns_new(&o, err, sizeof(err));

	if (dns == NULL) {
		fprintf(stderr, "dnsq: %s\n", err);
		return 2;
	}
	struct rg_spf *spf = rg_spf_new(dns, "receiver.test");
	int rc = 0;

	for (int i = 0; i < count && rc == 0; i++) {
		double t0 = rg_now();

		if (deadline > 0)
			rg_dns_deadline_in(deadline);
		if (run(dns, spf, argc - optind, argv + optind) != 0) {
			fprintf(stderr, "dnsq: bad command\n");
			rc = 2;
		}
		rg_dns_deadline_set(0);
		printf("elapsed_ms=%.1f\n", (rg_now() - t0) * 1e3);
	}
	if (stats) {
		struct rg_dns_stats st;

		rg_dns_stats(dns, &st);
		printf("stats queries=%lu cache_hits=%lu timeouts=%lu held_down=%lu\n",
		    st.queries, st.cache_hits, st.timeouts, st.held_down);
	}
	rg_spf_free(spf);
	rg_dns_free(dns);
	return rc;
}

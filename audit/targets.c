/*
 * targets.c - where relayguard-audit's targets come from, and which of them
 * are audited.
 *
 * Sources, read lazily in this order (a list of millions of lines is never
 * held in memory): the TARGET arguments ("-" is stdin), then every -iL
 * FILE ("-" is stdin too). A line holds one target:
 *	host, host:port, [v6]:port	as on the command line
 *	192.0.2.1, 2001:db8::1		bare addresses, IPv6 too (ZMap output)
 *	192.0.2.0/28, 2001:db8::/124	every address of a network, at most
 *					FEED_CIDR_MAX of them (nmap's notation)
 *	IP, DOMAIN, TAG, PORT		ZGrab2-style CSV: the IP, else the DOMAIN,
 *					at PORT when given
 * Empty lines, '#' comments and CSV/ZMap header lines ("ip,...", "saddr")
 * are skipped; anything else that does not parse is an error "FILE:LINE:
 * what" (exit 3). With --mx every item is a mail domain, expanded into its
 * MX hosts' addresses.
 *
 * The same host:port twice (arguments, lists, --mx) is audited once: two
 * audits of one server would double its connections past --per-host.
 *
 * Filters, in this order: --shard I/N keeps the targets whose FNV-1a hash of
 * "host:port" (lowercase, IPv6 in brackets) is I modulo N: deterministic
 * and disjoint whatever the order of the list, and the N shares together
 * are the list. --resume FILE skips targets already present in an earlier
 * JSON lines output (either field naming). --exclude FILE (CIDRs) skips
 * targets whose address, or any address of whose name, is listed; names
 * are resolved for that by the worker, just before the audit
 * (feed_excluded()), so nothing listed is ever contacted.
 */
#include "audit.h"
#include "lib/net/fiber.h"
#include "lib/base/hostport.h"
#include "lib/base/log.h"
#include "lib/mail/netmatch.h"
#include "lib/base/regfile.h"
#include "lib/base/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <jansson.h>
#include <limits.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>

/* A network target expands to at most this many addresses (a /16, a /112):
 * a typo such as /8 must not start 16 million audits. */
#define FEED_CIDR_MAX 65536

int audit_target_init(const char *spec, int default_port, bool bare_v6, struct audit_target *t,
    char *err, size_t errlen)
{
	struct rg_hostport hp;

	memset(t, 0, sizeof(*t));
	if (strlen(spec) >= sizeof(t->spec))
		return rg_set_err(err, errlen, "%.60s...: target too long", spec);
	if (rg_hostport_parse(spec, default_port, bare_v6 ? RG_HP_BARE_V6 : 0, &hp, err,
	    errlen) != 0)
		return -1;
	strlcpy_rg(t->spec, spec, sizeof(t->spec));
	strlcpy_rg(t->host, hp.host, sizeof(t->host));
	t->port = hp.port;
	return 0;
}

void audit_target_key(const char *host, int port, char *buf, size_t len)
{
	char h[256];

	strlcpy_rg(h, host, sizeof(h));
	rg_lowercase(h);
	if (h[0] && h[strlen(h) - 1] == '.')
		h[strlen(h) - 1] = '\0';
	rg_hostport_format(h, port, buf, len);
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

bool audit_shard_keeps(const char *key, unsigned i, unsigned n)
{
	return n == 0 || fnv1a(key) % n == i;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The target key of one earlier output object (either field naming). */
static bool object_key(json_t *j, char *key, size_t len)
{
	json_t *host = json_object_get(j, "host"), *port = json_object_get(j, "port");

	if (!json_is_string(host) || !json_is_integer(port)) {
		host = json_object_get(j, "source.fqdn");
		if (!json_is_string(host))
			host = json_object_get(j, "source.ip");
		port = json_object_get(j, "source.port");
	}
	if (!json_is_string(host) || !json_is_integer(port))
		return false;
	audit_target_key(json_string_value(host), (int)json_integer_value(port), key, len);
	return true;
}

static void load_resume(struct target_feed *f, const char *path)
{
	char why[600];
	/* a regular file only: a FIFO there must not hang the run */
	FILE *in = strcmp(path, "-") == 0 ? NULL : rg_infile_open(path, why, sizeof(why));
	char *line = NULL;
	size_t cap = 0, alloc = 0;
	int lineno = 0;

	if (in == NULL)
		msg_fatal("--resume: %s", strcmp(path, "-") == 0 ? "'-': a file, not stdin" : why);
	while (getline(&line, &cap, in) > 0) {
		json_error_t e;
		json_t *j;
		char key[300];

		lineno++;
		if (audit_json_frame_line(line) || line[strspn(line, " \t")] == '\0')
			continue;	/* -f json's array lines, blank lines */
		j = json_loads(line, 0, &e);
		if (j == NULL || !object_key(j, key, sizeof(key))) {
			msg_warn("--resume: %s:%d: not a result object, ignored", path, lineno);
			json_decref(j);
			continue;
		}
		json_decref(j);
		if (f->nresume == alloc) {
			alloc = alloc ? alloc * 2 : 1024;
			f->resume_keys = xrealloc(f->resume_keys, alloc * sizeof(char *));
		}
		f->resume_keys[f->nresume++] = xstrdup(key);
	}
	free(line);
	fclose(in);
	if (f->nresume > 0)	/* qsort(NULL, 0, ...) is undefined */
		qsort(f->resume_keys, f->nresume, sizeof(char *), cmp_str);
}

/* "-" (stdin) as a target list twice can only fail later, after targets
 * were audited: refuse it before any connection. */
static void check_stdin_once(const struct audit_opts *o, char **args, int nargs)
{
	int n = 0;

	for (int i = 0; i < nargs; i++)
		n += strcmp(args[i], "-") == 0;
	for (size_t i = 0; i < o->ninput_files; i++)
		n += strcmp(o->input_files[i], "-") == 0;
	if (n > 1) {
		msg_fatal_status = audit_usage_status();
		msg_fatal("stdin ('-') named twice as a target list");
	}
}

void feed_open(struct target_feed *f, const struct audit_opts *o, char **args, int nargs)
{
	memset(f, 0, sizeof(*f));
	f->o = o;
	f->args = args;
	f->nargs = nargs;
	check_stdin_once(o, args, nargs);
	if (o->exclude) {
		char value[PATH_MAX + 8], err[RG_NETMATCH_ERRLEN], *abs;

		/* file: lists take absolute paths (config files are read
		 * after a chdir); a command line names files from here */
		if ((abs = realpath(o->exclude, NULL)) == NULL)
			msg_fatal("--exclude: %s: %m", o->exclude);
		snprintf(value, sizeof(value), "file:%s", abs);
		free(abs);
		if (rg_cidr_list_parse(&f->exclude, value, "--exclude", 0, err, sizeof(err)) != 0)
			msg_fatal("%s", err);
	}
	if (o->resume)
		load_resume(f, o->resume);
}

void feed_close(struct target_feed *f)
{
	if (f->in && f->in != stdin)
		fclose(f->in);
	for (size_t i = 0; i < f->nresume; i++)
		free(f->resume_keys[i]);
	free(f->resume_keys);
	free(f->pending);
	free(f->line);
	for (size_t i = 0; i < f->seen_cap; i++)
		free(f->seen_tab[i]);
	free(f->seen_tab);
	rg_cidr_list_free(&f->exclude);
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* A CSV field: trimmed, its "double quotes" and an IPv6 [brackets] off. */
static char *csv_field(char *s)
{
	size_t n;

	s = trim(s);
	n = strlen(s);
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s[n - 1] = '\0';
		s = trim(s + 1);
		n = strlen(s);
	}
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']' && strchr(s, ':')) {
		s[n - 1] = '\0';
		s++;
	}
	return s;
}

/*
 * One line of a list into a target spec in buf: 1 a target, 0 nothing (blank,
 * comment, header), -1 with err.
 */
static int line_spec(char *line, char *buf, size_t len, char *err, size_t errlen)
{
	char *hash = strchr(line, '#'), *s;

	if (hash)
		*hash = '\0';
	if (strncmp(line, "\xef\xbb\xbf", 3) == 0)	/* a UTF-8 BOM (any line: cat a b) */
		line += 3;
	s = trim(line);
	if (*s == '\0')
		return 0;
	if (strchr(s, ',')) {				/* IP, DOMAIN, TAG, PORT */
		char *field[4] = {NULL, NULL, NULL, NULL}, *save = NULL, *p = s;
		int n = 0;

		for (char *tok = strsep(&p, ","); tok && n < 4; tok = strsep(&p, ","))
			field[n++] = csv_field(tok);
		(void)save;
		if (strcasecmp(field[0], "ip") == 0 || strcasecmp(field[0], "saddr") == 0)
			return 0;
		const char *host = field[0][0] ? field[0] : field[1] ? field[1] : "";
		const char *port = field[3] && field[3][0] ? field[3] : NULL;

		if (*host == '\0')
			return rg_set_err(err, errlen, "CSV line without IP or DOMAIN");
		if (port && strspn(port, "0123456789") != strlen(port))
			return rg_set_err(err, errlen, "CSV PORT '%s' is not a number", port);
		if (port)
			snprintf(buf, len, strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, port);
		else
			snprintf(buf, len, "%s", host);
		return 1;
	}
	if (strcasecmp(s, "saddr") == 0)
		return 0;
	if (strpbrk(s, " \t"))
		return rg_set_err(err, errlen, "'%s': one host[:port] per line", s);
	snprintf(buf, len, "%s", s);
	return 1;
}

/* The next raw item (argument or line): 1, or 0 at the end of all input. */
static int next_item(struct target_feed *f, char *buf, size_t len, bool *from_list)
{
	char err[400];

	for (;;) {
		if (f->in) {
			ssize_t n = getline(&f->line, &f->linecap, f->in);

			if (n < 0) {
				if (ferror(f->in))
					msg_fatal("%s: read error", f->inname);
				if (f->in != stdin)
					fclose(f->in);
				f->in = NULL;
				continue;
			}
			f->lineno++;
			/* A bad line is warned about and skipped: targets before it
			 * may be audited already, the run goes on. */
			if (memchr(f->line, '\0', (size_t)n)) {
				msg_warn("%s:%d: NUL byte in the target list; line skipped",
				    f->inname, f->lineno);
				f->bad_lines++;
				continue;
			}
			int r = line_spec(f->line, buf, len, err, sizeof(err));

			if (r < 0) {
				msg_warn("%s:%d: %s; line skipped", f->inname, f->lineno, err);
				f->bad_lines++;
				continue;
			}
			if (r == 0)
				continue;
			*from_list = true;
			return 1;
		}
		const char *src;

		if (f->argi < f->nargs) {
			src = f->args[f->argi++];
			if (strcmp(src, "-") != 0) {
				snprintf(buf, len, "%s", src);
				*from_list = false;
				return 1;
			}
		} else if (f->filei < f->o->ninput_files) {
			src = f->o->input_files[f->filei++];
		} else {
			return 0;
		}
		if (strcmp(src, "-") == 0) {
			if (f->stdin_used)
				msg_fatal("stdin ('-') named twice as a target list");
			f->stdin_used = true;
			f->in = stdin;
			f->inname = "stdin";
		} else {
			f->in = fopen(src, "r");
			f->inname = src;
			if (f->in == NULL)
				msg_fatal("%s: %m", src);
		}
		f->lineno = 0;
	}
}

static bool resumed(const struct target_feed *f, const char *key)
{
	return f->nresume && bsearch(&key, f->resume_keys, f->nresume, sizeof(char *),
	    cmp_str) != NULL;
}

/* Whether a host:port was taken before (a set of keys that grows with the
 * distinct targets; an address two --mx domains share is one of them). */
static bool seen_before(struct target_feed *f, const char *key)
{
	size_t i;

	if (f->seen_n * 2 >= f->seen_cap) {
		size_t cap = f->seen_cap ? f->seen_cap * 2 : 1024;
		char **tab = xcalloc(cap, sizeof(*tab));

		for (size_t k = 0; k < f->seen_cap; k++) {
			if (f->seen_tab[k] == NULL)
				continue;
			for (i = fnv1a(f->seen_tab[k]) % cap; tab[i]; i = (i + 1) % cap)
				;
			tab[i] = f->seen_tab[k];
		}
		free(f->seen_tab);
		f->seen_tab = tab;
		f->seen_cap = cap;
	}
	for (i = fnv1a(key) % f->seen_cap; f->seen_tab[i]; i = (i + 1) % f->seen_cap)
		if (strcmp(f->seen_tab[i], key) == 0)
			return true;
	f->seen_tab[i] = xstrdup(key);
	f->seen_n++;
	return false;
}

/* Shard, resume and (numeric) exclusion: true to keep. */
static bool keep(struct target_feed *f, const struct audit_target *t)
{
	char key[300];

	audit_target_key(t->host, t->port, key, sizeof(key));
	if (seen_before(f, key)) {
		f->skipped_duplicate++;
		return false;
	}
	if (!audit_shard_keeps(key, f->o->shard_i, f->o->shard_n)) {
		f->skipped_shard++;
		return false;
	}
	if (resumed(f, key)) {
		f->skipped_resume++;
		return false;
	}
	if (f->exclude.n && rg_cidr_list_match_text(&f->exclude, t->host)) {
		f->skipped_excluded++;
		return false;
	}
	return true;
}

/*
 * "192.0.2.0/28" or "2001:db8::/124" into f->cidr: 1 a network (host bits
 * cleared), 0 no '/' in spec, -1 with err.
 */
static int cidr_start(struct target_feed *f, const char *spec, char *err, size_t errlen)
{
	const char *slash = strchr(spec, '/');
	char addr[INET6_ADDRSTRLEN], *end;
	int family, bits;
	long len;

	if (slash == NULL)
		return 0;
	if ((size_t)(slash - spec) >= sizeof(addr))
		return rg_set_err(err, errlen, "'%.60s': bad network", spec);
	memcpy(addr, spec, (size_t)(slash - spec));
	addr[slash - spec] = '\0';
	family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	bits = family == AF_INET ? 32 : 128;
	if (inet_pton(family, addr, f->cidr.base) != 1)
		return rg_set_err(err, errlen, "'%.60s': not an IP network (a name "
		    "takes no /length)", spec);
	len = strtol(slash + 1, &end, 10);
	if (!isdigit((unsigned char)slash[1]) || *end != '\0' || len > bits)
		return rg_set_err(err, errlen, "'%.60s': bad prefix length", spec);
	if (bits - len > 16)
		return rg_set_err(err, errlen, "'%.60s': more than %d addresses (at "
		    "most a /%d in one target)", spec, FEED_CIDR_MAX, bits - 16);
	for (int b = (int)len; b < bits; b++)
		f->cidr.base[b / 8] &= (unsigned char)~(0x80 >> (b % 8));
	f->cidr.family = family;
	f->cidr.count = (uint64_t)1 << (bits - len);
	f->cidr.next = 0;
	return 1;
}

/* The next address of the network being expanded, as a target. */
static void cidr_next(struct target_feed *f, struct audit_target *t)
{
	size_t n = f->cidr.family == AF_INET ? 4 : 16;
	unsigned char a[16];
	uint64_t add = f->cidr.next++;
	unsigned carry = 0;
	char host[INET6_ADDRSTRLEN], err[300];

	memcpy(a, f->cidr.base, n);
	for (size_t i = n; i-- > 0 && (add != 0 || carry != 0); add >>= 8) {
		unsigned sum = a[i] + (unsigned)(add & 0xff) + carry;

		a[i] = (unsigned char)sum;
		carry = sum >> 8;
	}
	inet_ntop(f->cidr.family, a, host, sizeof(host));
	if (audit_target_init(host, f->o->port, true, t, err, sizeof(err)) != 0)
		msg_fatal("%s", err);	/* an address we formatted ourselves */
}

/* An --mx domain whose lookup failed is a result of its own, so a list of
 * domains gives one line per domain even when DNS is down. */
static bool mx_failure(struct target_feed *f, const char *domain, const char *why,
    struct audit_target *t)
{
	char err[300];

	f->mx_failed++;
	if (audit_target_init(domain, f->o->port, false, t, err, sizeof(err)) != 0) {
		memset(t, 0, sizeof(*t));	/* not even a name: kept as given */
		strlcpy_rg(t->spec, domain, sizeof(t->spec));
		strlcpy_rg(t->host, domain, sizeof(t->host));
		t->port = f->o->port;
	}
	strlcpy_rg(t->mail_domain, domain, sizeof(t->mail_domain));
	audit_target_unresolved(t, why);
	return keep(f, t);
}

int feed_next(struct target_feed *f, struct audit_target *t)
{
	char spec[400], err[700];
	bool from_list;

	for (;;) {
		if (f->cidr.next < f->cidr.count) {
			cidr_next(f, t);
			if (keep(f, t))
				return 1;
			continue;
		}
		if (f->pendi < f->npending) {
			*t = f->pending[f->pendi++];
			if (keep(f, t))
				return 1;
			continue;
		}
		if (!next_item(f, spec, sizeof(spec), &from_list))
			return 0;
		if (f->o->mx) {
			int r;

			f->npending = f->pendi = 0;
			r = audit_mx_targets(spec, f->o, &f->pending, &f->npending, err,
			    sizeof(err));
			if (r != 0)
				msg_warn("%s", err);
			if (r < 0 && mx_failure(f, spec, err, t))
				return 1;
			continue;
		}
		int c = cidr_start(f, spec, err, sizeof(err));

		if (c > 0)
			continue;
		/* a bare IPv6 address is an address, as for nmap */
		if (c < 0 || audit_target_init(spec, f->o->port, true, t, err,
		    sizeof(err)) != 0) {
			if (!from_list)
				msg_fatal("target %s", err);
			msg_warn("%s:%d: %s; line skipped", f->inname, f->lineno, err);
			f->bad_lines++;
			continue;
		}
		if (keep(f, t))
			return 1;
	}
}

bool feed_excluded(const struct target_feed *f, const struct audit_target *t)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	bool hit = false;

	if (f->exclude.n == 0 || rg_cidr_list_match_text(&f->exclude, t->host))
		return f->exclude.n != 0;
	if (rg_fiber_getaddrinfo(t->host, NULL, &hints, &res) != 0)
		return false;
	for (struct addrinfo *a = res; a && !hit; a = a->ai_next)
		hit = rg_cidr_list_match_sockaddr(&f->exclude, a->ai_addr);
	freeaddrinfo(res);
	return hit;
}

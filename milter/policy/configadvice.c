/* configadvice.c - warnings about a valid but risky config; see
 * configadvice.h. */
#include "configadvice.h"
#include "lib/base/util.h"

#include <arpa/inet.h>
#include <libpsl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>

/* "10.0.0.0/8" */
static void cidr_text(const struct rg_cidr *r, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(r->family, r->addr, a, sizeof(a)) == NULL)
		strlcpy_rg(a, "?", sizeof(a));
	snprintf(buf, len, "%s/%u", a, r->prefix);
}

/* One run of rg_config_advise(): where the warnings go, how many. */
struct advice {
	const struct rg_config *c;
	rg_advice_fn fn;
	void *ctx;
	int n;
};

/* A warning about line of the config (0: about the file as a whole, or a
 * built-in default). */
static void warn(struct advice *a, int line, const char *text)
{
	char where[4200];

	a->fn(rg_config_where(a->c, line, where, sizeof(where)), text, a->ctx);
	a->n++;
}

static void advise_networks(struct advice *a)
{
	const struct rg_config *c = a->c;

	char text[400], net[80];

	for (size_t i = 0; i < c->trusted_networks.n; i++) {
		const struct rg_cidr *r = &c->trusted_networks.v[i];
		bool v4 = r->family == AF_INET;
		unsigned widest = v4 ? RG_ADVICE_WIDEST_V4 : RG_ADVICE_WIDEST_V6;

		if (r->prefix >= widest)
			continue;
		cidr_text(r, net, sizeof(net));
		if (r->prefix == 0)
			snprintf(text, sizeof(text), "TrustedNetworks %s lets every "
			    "%s client relay: this is an open relay", net,
			    v4 ? "IPv4" : "IPv6");
		else
			snprintf(text, sizeof(text), "TrustedNetworks %s is wider "
			    "than a /%u: every client in it may relay; list only "
			    "your own hosts and networks", net, widest);
		warn(a, rg_config_item_line(c, "TrustedNetworks", i), text);
	}
}

/* May uid/gid (the daemon after its drop: setgroups(1, &gid)) read path?
 * Mode bits only (an ACL may grant more). "" when yes, else the first
 * path that stops it. */
static bool may(const struct stat *st, uid_t uid, gid_t gid, mode_t u,
    mode_t g, mode_t o)
{
	if (st->st_uid == uid)
		return (st->st_mode & u) != 0;
	if (st->st_gid == gid)
		return (st->st_mode & g) != 0;
	return (st->st_mode & o) != 0;
}

static const char *unreadable_by(const char *path, uid_t uid, gid_t gid,
    char *buf, size_t len)
{
	struct stat st;
	char *slash;

	if (uid == 0 || path[0] != '/')
		return "";
	strlcpy_rg(buf, path, len);
	for (slash = strchr(buf + 1, '/'); slash != NULL;
	    slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (stat(buf, &st) == 0 &&
		    !may(&st, uid, gid, S_IXUSR, S_IXGRP, S_IXOTH))
			return buf;
		*slash = '/';
	}
	if (stat(buf, &st) == 0 && !may(&st, uid, gid, S_IRUSR, S_IRGRP, S_IROTH))
		return buf;
	return "";
}

/* A reload (SIGUSR1) reads the config and its file: lists after the
 * privilege drop: warn when the UserID user could not. */
static void advise_readable(struct advice *a, uid_t uid, gid_t gid,
    const char *user)
{
	const struct rg_config *c = a->c;
	char line[4096], buf[4096], text[600], abs[4096], *p, *e;
	const char *bad;
	FILE *f;
	int lineno = 0;
	bool at_start = true;

	if (c->path == NULL || realpath(c->path, abs) == NULL)
		return;
	if ((bad = unreadable_by(abs, uid, gid, buf, sizeof(buf)))[0]) {
		snprintf(text, sizeof(text), "UserID %s cannot read %s (%s is "
		    "closed to it): every reload (SIGUSR1, systemctl reload) will "
		    "fail; make it readable by the user or its group", user,
		    c->path, bad);
		warn(a, 0, text);
	}
	if ((f = fopen(c->path, "re")) == NULL)
		return;
	/* counted as the parser does: a line longer than line[] comes in
	 * pieces */
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno += at_start;
		at_start = strchr(line, '\n') != NULL;
		for (p = line; (p = strstr(p, "file:")) != NULL; p = e) {
			p += 5;
			e = p + strcspn(p, ", \t\r\n");
			if (*e != '\0')
				*e++ = '\0';
			if (line[strspn(line, " \t")] == '#')
				break;
			if ((bad = unreadable_by(p, uid, gid, buf, sizeof(buf)))[0]) {
				snprintf(text, sizeof(text), "UserID %s cannot read "
				    "the list file:%s (%s is closed to it): every "
				    "reload will fail", user, p, bad);
				warn(a, lineno, text);
			}
		}
	}
	fclose(f);
}

static void advise_user(struct advice *a)
{
	const struct rg_config *c = a->c;
	char name[256], text[800], why[600], *colon;
	int line = rg_config_key_line(c, "UserID");
	struct passwd *pw;
	struct group *gr;
	gid_t gid;

	if (c->user_id == NULL) {
		warn(a, 0, "started as root without UserID: the milter would "
		    "read network input as root; set UserID (e.g. "
		    "relayguard:postfix)");
		return;
	}
	strlcpy_rg(name, c->user_id, sizeof(name));
	if ((colon = strchr(name, ':')) != NULL)
		*colon = '\0';
	if ((pw = getpwnam(name)) == NULL) {
		rg_config_unknown_user(name, why, sizeof(why));
		snprintf(text, sizeof(text), "UserID: %s; until then the milter "
		    "cannot drop its root privileges", why);
		warn(a, line, text);
		return;
	}
	if (pw->pw_uid == 0) {
		snprintf(text, sizeof(text), "UserID %s is root: the milter "
		    "keeps its root privileges", name);
		warn(a, line, text);
		return;
	}
	gid = pw->pw_gid;
	if (colon != NULL && (gr = getgrnam(colon + 1)) != NULL)
		gid = gr->gr_gid;
	advise_readable(a, pw->pw_uid, gid, name);
}

bool rg_domain_is_public_suffix(const char *name)
{
	static const psl_ctx_t *psl;	/* loaded once; read-only afterwards */
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	const psl_ctx_t *p;

	if (name[0] == '.')
		name++;
	if (name[0] == '\0' || name[0] == '[')
		return false;
	pthread_mutex_lock(&lock);
	if (psl == NULL && (psl = psl_latest(NULL)) == NULL)
		psl = psl_builtin();
	p = psl;
	pthread_mutex_unlock(&lock);
	/* no "*" rule: an unlisted name such as localhost is not a suffix */
	return p != NULL && psl_is_public_suffix2(p, name,
	    PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0;
}

static void advise_domains(struct advice *a, const struct rg_domain_list *l,
    const char *key)
{
	char text[600];

	for (size_t i = 0; i < l->n; i++) {
		const char *d = l->names[i];

		if (!rg_domain_is_public_suffix(d))
			continue;
		if (d[0] == '.')
			snprintf(text, sizeof(text), "%s %s: %s is a public suffix "
			    "(publicsuffix.org): every domain under it counts as "
			    "yours, and outside clients may relay to all of them; "
			    "list your own domains", key, d, d + 1);
		else
			snprintf(text, sizeof(text), "%s %s is a public suffix "
			    "(publicsuffix.org), not a domain of one site", key, d);
		warn(a, rg_config_item_line(a->c, key, i), text);
	}
}

/* The same item twice in a list key: harmless to the milter, but the mark
 * of an --import appended twice (or two hands editing one file); named so
 * that the second copy can be deleted rather than pile up. */
static void duplicate_warn(struct advice *a, const char *key, size_t first,
    size_t again, const char *item)
{
	char text[600];

	snprintf(text, sizeof(text), "%s %s given again (first at line %d); "
	    "an --import appended twice? delete one copy", key, item,
	    rg_config_item_line(a->c, key, first));
	warn(a, rg_config_item_line(a->c, key, again), text);
}

static void advise_duplicate_networks(struct advice *a,
    const struct rg_cidr_list *l, const char *key)
{
	char net[80];

	for (size_t i = 1; i < l->n; i++)
		for (size_t j = 0; j < i; j++)
			if (memcmp(&l->v[i], &l->v[j], sizeof(l->v[i])) == 0) {
				cidr_text(&l->v[i], net, sizeof(net));
				duplicate_warn(a, key, j, i, net);
				break;
			}
}

static void advise_duplicate_domains(struct advice *a,
    const struct rg_domain_list *l, const char *key)
{
	for (size_t i = 1; i < l->n; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(l->names[i], l->names[j]) == 0) {
				duplicate_warn(a, key, j, i, l->names[i]);
				break;
			}
}

/* Is host (of inet:port@host / inet6:port@host) a loopback address? */
static bool loopback_host(const char *host)
{
	char buf[128];
	unsigned char a[16];
	size_t n;

	if (strlcpy_rg(buf, host, sizeof(buf)) >= sizeof(buf))
		return false;
	n = strlen(buf);
	if (n >= 2 && buf[0] == '[' && buf[n - 1] == ']') {
		memmove(buf, buf + 1, n - 2);
		buf[n - 2] = '\0';
	}
	if (strcasecmp(buf, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, buf, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, buf, a) == 1)
		return memcmp(a, &in6addr_loopback, 16) == 0;
	return false;
}

/* Who may talk to the milter may write relay events into the evidence
 * (and so into abuse reports): only the MTA should reach the socket. */
static void advise_socket(struct advice *a)
{
	const struct rg_config *c = a->c;
	const char *s = c->socket, *at;
	char text[600];
	int line;

	if (s == NULL)
		return;
	if (strncmp(s, "unix:", 5) == 0 || strncmp(s, "local:", 6) == 0) {
		if ((c->socket_mode & 0002) == 0)
			return;
		snprintf(text, sizeof(text), "SocketMode %04o lets every local "
		    "user connect to the milter and write forged relay events "
		    "into the evidence; use 0660 with UserID relayguard:postfix",
		    (unsigned)c->socket_mode);
		if ((line = rg_config_key_line(c, "SocketMode")) == 0)
			line = rg_config_key_line(c, "Socket");
		warn(a, line, text);
		return;
	}
	if (strncmp(s, "inet:", 5) != 0 && strncmp(s, "inet6:", 6) != 0)
		return;
	if ((at = strchr(s, '@')) != NULL && loopback_host(at + 1))
		return;
	snprintf(text, sizeof(text), "Socket %s listens beyond this host%s: "
	    "whoever reaches it can ask for decisions and write forged relay "
	    "events into the evidence (and so into abuse reports); use a unix "
	    "socket (unix:/run/relayguard/milter.sock) or a loopback address",
	    s, at == NULL ? " (no @host: every interface)" : "");
	warn(a, rg_config_key_line(c, "Socket"), text);
}

int rg_config_advise(const struct rg_config *c, bool as_root, rg_advice_fn fn,
    void *ctx)
{
	struct advice a = {c, fn, ctx, 0};

	advise_networks(&a);
	advise_socket(&a);
	advise_domains(&a, &c->local_domains, "LocalDomains");
	advise_domains(&a, &c->relay_domains, "RelayDomains");
	advise_duplicate_networks(&a, &c->trusted_networks, "TrustedNetworks");
	advise_duplicate_domains(&a, &c->local_domains, "LocalDomains");
	advise_duplicate_domains(&a, &c->relay_domains, "RelayDomains");
	if (c->mode == RG_MODE_ENFORCE &&
	    c->local_domains.n + c->local_domains.literals.n == 0 &&
	    c->relay_domains.n + c->relay_domains.literals.n == 0)
		warn(&a, rg_config_key_line(c, "Mode"), "Mode enforce with "
		    "neither LocalDomains nor RelayDomains refuses every "
		    "recipient of an untrusted client, i.e. all inbound mail; "
		    "list your domains (relayguard-milter --import postfix "
		    "writes them) or use Mode log-only");
	if (as_root)
		advise_user(&a);
	return a.n;
}

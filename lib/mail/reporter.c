/* reporter.c - the reporter profile parser; see reporter.h. */
#include "lib/mail/reporter.h"
#include "lib/base/util.h"
#include "lib/base/textclean.h"
#include "lib/base/i18n.h"
#include "lib/mail/netmatch.h"

#include <ctype.h>
#include <jansson.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_PROFILE "/etc/relayguard/reporter.conf"
#define MAX_FILE	(64 * 1024)

const char *rg_reporter_role_name(int role)
{
	return role == RG_ROLE_CSIRT ? "csirt" : "site";
}

const char *rg_reporter_disclosure_name(int d)
{
	return d == RG_DISCLOSE_YES ? "yes" : d == RG_DISCLOSE_NO ? "no" : "ask";
}

struct rg_reporter *rg_reporter_unidentified(void)
{
	struct rg_reporter *r = xcalloc(1, sizeof(*r));

	strlcpy_rg(r->tlp, "amber", sizeof(r->tlp));
	r->disclosure = RG_DISCLOSE_ASK;
	r->internal_domains = xcalloc(1, sizeof(char *));
	return r;
}

void rg_reporter_free(struct rg_reporter *r)
{
	if (r == NULL)
		return;
	free(r->path);
	free(r->organisation);
	free(r->contact_name);
	free(r->email);
	free(r->phone);
	free(r->timezone);
	for (size_t i = 0; r->internal_domains && r->internal_domains[i]; i++)
		free(r->internal_domains[i]);
	free(r->internal_domains);
	rg_cidr_list_free(&r->own_auditors);
	free(r);
}

/* --- value checks -------------------------------------------------------- */

static int check_text(const char *v, char *err, size_t errlen)
{
	for (const char *c = v; *c; c++)
		if ((unsigned char)*c < 0x80 && !rg_ascii_print((unsigned char)*c))
			return rg_set_err(err, errlen, "control character in value");
	if (strlen(v) > 200)
		return rg_set_err(err, errlen, "value longer than 200 characters");
	return 0;
}

static int check_email(const char *v, char *err, size_t errlen)
{
	const char *at = strchr(v, '@');

	if (at == NULL || at == v || at[1] == '\0' || strchr(at + 1, '@') ||
	    strpbrk(v, " \t<>()[],;:\"\\") != NULL)
		return rg_set_err(err, errlen, "'%s' is not an e-mail address "
		    "(local@domain)", v);
	return 0;
}

static int check_phone(const char *v, char *err, size_t errlen)
{
	int digits = 0;

	for (const char *c = v; *c; c++) {
		if (isdigit((unsigned char)*c))
			digits++;
		else if (!strchr("+-() .", *c))
			return rg_set_err(err, errlen, "'%s' is not a telephone "
			    "number (digits, + - ( ) . and blanks)", v);
	}
	if (digits < 3)
		return rg_set_err(err, errlen, "'%s' is not a telephone number", v);
	return 0;
}

/* An IANA name that exists under /usr/share/zoneinfo, or UTC. */
static int check_timezone(const char *v, char *err, size_t errlen)
{
	char path[300];
	struct stat st;

	if (strcmp(v, "UTC") == 0)
		return 0;
	if (v[0] == '/' || strstr(v, "..") != NULL || strlen(v) > 100)
		return rg_set_err(err, errlen, "'%s' is not a time zone name", v);
	for (const char *c = v; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("/_+-", *c))
			return rg_set_err(err, errlen, "'%s' is not a time zone name", v);
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", v);
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return rg_set_err(err, errlen, "unknown time zone '%s' (e.g. "
		    "Asia/Tokyo, UTC)", v);
	return 0;
}

static int pick(const char *v, const char *const *words, int *out, char *err,
    size_t errlen, const char *what)
{
	for (int i = 0; words[i]; i++)
		if (strcasecmp(v, words[i]) == 0) {
			*out = i;
			return 0;
		}
	return rg_set_err(err, errlen, "'%s' is not %s", v, what);
}

static int set_withhold(struct rg_reporter *r, const char *v, char *err, size_t errlen)
{
	static const char *const words[] = {"recipients", "internal-hosts",
		"senders", "helo", "none", NULL};
	char *copy = xstrdup(v), *save = NULL, *item;
	int rc = 0, i = 0;

	for (item = strtok_r(copy, ", \t", &save); item && rc == 0;
	    item = strtok_r(NULL, ", \t", &save)) {
		rc = pick(item, words, &i, err, errlen, "one of recipients, "
		    "internal-hosts, senders, helo, none");
		if (rc == 0 && i < 4)
			r->withhold |= 1u << i;
	}
	free(copy);
	return rc;
}

static int set_domains(struct rg_reporter *r, const char *v, char *err, size_t errlen)
{
	char *copy = xstrdup(v), *save = NULL, *item;
	size_t n = 0;
	int rc = 0;

	while (r->internal_domains[n])
		n++;
	for (item = strtok_r(copy, ", \t", &save); item && rc == 0;
	    item = strtok_r(NULL, ", \t", &save)) {
		for (const char *c = item; *c && rc == 0; c++)
			if (!isalnum((unsigned char)*c) && *c != '-' && *c != '.')
				rc = rg_set_err(err, errlen, "'%s' is not a domain name", item);
		if (rc)
			break;
		r->internal_domains = xrealloc(r->internal_domains,
		    (n + 2) * sizeof(char *));
		r->internal_domains[n] = xstrdup(item[0] == '.' ? item + 1 : item);
		rg_lowercase(r->internal_domains[n]);
		r->internal_domains[++n] = NULL;
	}
	free(copy);
	return rc;
}

/* OwnAuditors: addresses and networks ("192.0.2.10, 2001:db8::/64") from
 * which the organisation audits its own servers. */
static int set_auditors(struct rg_reporter *r, const char *v, char *err,
    size_t errlen)
{
	char *copy = xstrdup(v), *save = NULL, *item, why[200];
	struct rg_cidr c;
	int rc = 0;

	for (item = strtok_r(copy, ", \t", &save); item && rc == 0;
	    item = strtok_r(NULL, ", \t", &save)) {
		if (rg_cidr_parse(item, &c, why, sizeof(why)) != 0)
			rc = rg_set_err(err, errlen, "'%s': %s", item, why);
		else
			rg_cidr_list_add(&r->own_auditors, &c);
	}
	free(copy);
	return rc;
}

/* --- the key table --------------------------------------------------------- */

enum key_kind { K_TEXT, K_EMAIL, K_PHONE, K_TZ, K_ROLE, K_TLP, K_DISCLOSURE,
	K_WITHHOLD, K_DOMAINS, K_LANG, K_AUDITORS };

static const struct {
	const char *name;
	enum key_kind kind;
	size_t offset;			/* char * field for K_TEXT/EMAIL/PHONE/TZ */
} keys[] = {
	{"Organisation", K_TEXT, offsetof(struct rg_reporter, organisation)},
	{"Organization", K_TEXT, offsetof(struct rg_reporter, organisation)},
	{"ContactName", K_TEXT, offsetof(struct rg_reporter, contact_name)},
	{"Email", K_EMAIL, offsetof(struct rg_reporter, email)},
	{"Phone", K_PHONE, offsetof(struct rg_reporter, phone)},
	{"TimeZone", K_TZ, offsetof(struct rg_reporter, timezone)},
	{"Role", K_ROLE, 0},
	{"TLP", K_TLP, 0},
	{"Disclosure", K_DISCLOSURE, 0},
	{"Withhold", K_WITHHOLD, 0},
	{"InternalDomains", K_DOMAINS, 0},
	{"Language", K_LANG, 0},
	{"OwnAuditors", K_AUDITORS, 0},
};

static int set_key(struct rg_reporter *r, size_t k, const char *v, char *err,
    size_t errlen)
{
	static const char *const roles[] = {"site", "csirt", NULL};
	static const char *const tlps[] = {"clear", "white", "green", "amber", "red", NULL};
	static const char *const disc[] = {"ask", "yes", "no", NULL};
	static const char *const langs[] = {"en", "ja", NULL};
	char **field = (char **)((char *)r + keys[k].offset);
	int i = 0, rc = 0;

	switch (keys[k].kind) {
	case K_EMAIL: rc = check_email(v, err, errlen); break;
	case K_PHONE: rc = check_phone(v, err, errlen); break;
	case K_TZ: rc = check_timezone(v, err, errlen); break;
	case K_TEXT: rc = check_text(v, err, errlen); break;
	case K_ROLE:
		if ((rc = pick(v, roles, &i, err, errlen, "site or csirt")) == 0)
			r->role = i;
		return rc;
	case K_TLP:
		if ((rc = pick(v, tlps, &i, err, errlen, "a TLP level (clear, green, "
		    "amber, red)")) == 0)
			strlcpy_rg(r->tlp, tlps[i], sizeof(r->tlp));
		return rc;
	case K_DISCLOSURE:
		if ((rc = pick(v, disc, &i, err, errlen, "yes, ask or no")) == 0)
			r->disclosure = i;
		return rc;
	case K_WITHHOLD: return set_withhold(r, v, err, errlen);
	case K_DOMAINS: return set_domains(r, v, err, errlen);
	case K_AUDITORS: return set_auditors(r, v, err, errlen);
	case K_LANG:
		if ((rc = pick(v, langs, &i, err, errlen, "en or ja")) == 0)
			strlcpy_rg(r->language, langs[i], sizeof(r->language));
		return rc;
	}
	if (rc == 0) {
		free(*field);
		*field = xstrdup(v);
	}
	return rc;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

struct rg_reporter *rg_reporter_parse_string(const char *text, const char *name,
    char *err, size_t errlen)
{
	struct rg_reporter *r = rg_reporter_unidentified();
	char *copy = xstrdup(text), *line, *next, msg[400];
	bool seen[RG_NELEM(keys)] = {false};
	int lineno = 0;

	for (line = copy; line != NULL; line = next) {
		char *key, *eq, *val;
		size_t k;

		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			snprintf(msg, sizeof(msg), "expected \"Key = value\"");
			goto fail;
		}
		*eq = '\0';
		val = trim(eq + 1);
		key = trim(key);
		for (k = 0; k < RG_NELEM(keys); k++)
			if (strcasecmp(key, keys[k].name) == 0)
				break;
		if (k == RG_NELEM(keys)) {
			snprintf(msg, sizeof(msg), "unknown key '%.60s'", key);
			goto fail;
		}
		if (*val == '\0') {
			snprintf(msg, sizeof(msg), "%s: empty value", keys[k].name);
			goto fail;
		}
		if (seen[k] && keys[k].kind != K_WITHHOLD && keys[k].kind != K_DOMAINS &&
		    keys[k].kind != K_AUDITORS) {
			snprintf(msg, sizeof(msg), "%s given twice", keys[k].name);
			goto fail;
		}
		seen[k] = true;
		if (set_key(r, k, val, err, errlen) != 0) {
			snprintf(msg, sizeof(msg), "%s: %s", keys[k].name, err);
			goto fail;
		}
	}
	free(copy);
	r->identified = true;
	r->path = xstrdup(name);
	return r;
fail:
	snprintf(err, errlen, "%s:%d: %s", name, lineno, msg);
	free(copy);
	rg_reporter_free(r);
	return NULL;
}

struct rg_reporter *rg_reporter_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text;
	size_t n;
	struct rg_reporter *r;

	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	text = xmalloc(MAX_FILE + 1);
	n = fread(text, 1, MAX_FILE + 1, f);
	fclose(f);
	if (n > MAX_FILE) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, MAX_FILE);
		free(text);
		return NULL;
	}
	text[n] = '\0';
	if (strlen(text) != n) {
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		free(text);
		return NULL;
	}
	r = rg_reporter_parse_string(text, path, err, errlen);
	free(text);
	return r;
}

struct rg_reporter *rg_reporter_find(const char *explicit_path,
    const char *config_path, char *err, size_t errlen)
{
	char path[4096];
	const char *slash;

	if (explicit_path != NULL)
		return rg_reporter_load(explicit_path, err, errlen);
	if (config_path != NULL) {
		slash = strrchr(config_path, '/');
		if (slash == NULL)
			snprintf(path, sizeof(path), "reporter.conf");
		else
			snprintf(path, sizeof(path), "%.*s/reporter.conf",
			    (int)(slash - config_path), config_path);
		if (access(path, F_OK) == 0)
			return rg_reporter_load(path, err, errlen);
	}
	if (access(DEFAULT_PROFILE, F_OK) == 0)
		return rg_reporter_load(DEFAULT_PROFILE, err, errlen);
	return rg_reporter_unidentified();
}

const char *rg_reporter_name(const struct rg_reporter *r)
{
	if (r != NULL && r->organisation != NULL)
		return r->organisation;
	if (r != NULL && r->contact_name != NULL)
		return r->contact_name;
	return _("reporter not identified");
}

bool rg_reporter_internal_host(const struct rg_reporter *r, const char *name)
{
	size_t nl = strlen(name);

	while (nl > 0 && name[nl - 1] == '.')
		nl--;
	for (size_t i = 0; r->internal_domains[i]; i++) {
		const char *d = r->internal_domains[i];
		size_t dl = strlen(d);

		if (nl == dl && strncasecmp(name, d, dl) == 0)
			return true;
		if (nl > dl && name[nl - dl - 1] == '.' &&
		    strncasecmp(name + nl - dl, d, dl) == 0)
			return true;
	}
	return false;
}

bool rg_reporter_own_auditor(const struct rg_reporter *r, const char *addr)
{
	return r != NULL && rg_cidr_list_match_text(&r->own_auditors, addr);
}

void rg_reporter_apply_timezone(const struct rg_reporter *r)
{
	if (r != NULL && r->timezone != NULL) {
		setenv("TZ", r->timezone, 1);
		tzset();
	}
}

static void set_opt(json_t *o, const char *key, const char *v)
{
	json_t *s = v ? json_string(v) : NULL;

	json_object_set_new(o, key, s ? s : json_null());
}

json_t *rg_reporter_json(const struct rg_reporter *r)
{
	json_t *o = json_object(), *w = json_array();

	json_object_set_new(o, "identified", json_boolean(r->identified));
	set_opt(o, "organisation", r->organisation);
	set_opt(o, "contact_name", r->contact_name);
	set_opt(o, "email", r->email);
	set_opt(o, "phone", r->phone);
	set_opt(o, "time_zone", r->timezone);
	json_object_set_new(o, "role", json_string(rg_reporter_role_name(r->role)));
	json_object_set_new(o, "tlp", json_string(r->tlp));
	json_object_set_new(o, "disclosure", json_string(
	    rg_reporter_disclosure_name(r->disclosure)));
	if (r->withhold & RG_WITHHOLD_RECIPIENTS)
		json_array_append_new(w, json_string("recipients"));
	if (r->withhold & RG_WITHHOLD_INTERNAL_HOSTS)
		json_array_append_new(w, json_string("internal-hosts"));
	if (r->withhold & RG_WITHHOLD_SENDERS)
		json_array_append_new(w, json_string("senders"));
	if (r->withhold & RG_WITHHOLD_HELO)
		json_array_append_new(w, json_string("helo"));
	json_object_set_new(o, "withhold", w);
	return o;
}

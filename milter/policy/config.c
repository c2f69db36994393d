/*
 * config.c - the schema-driven relayguard.conf parser; see config.h.
 *
 * Every default lives in rg_config_schema[] (configkeys.c) and nowhere
 * else; the sample conf/relayguard.conf and relayguard.conf(5) follow it.
 */
#include "milter/policy/config.h"
#include "lib/base/filetrust.h"
#include "lib/base/util.h"
#include "lib/base/textclean.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>


static const int log_facility_values[] = {
	LOG_MAIL, LOG_DAEMON, LOG_USER, LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2,
	LOG_LOCAL3, LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7
};


const struct rg_conf_key *rg_config_key_find(const char *name)
{
	for (size_t i = 0; i < rg_config_schema_count; i++)
		if (strcasecmp(rg_config_schema[i].name, name) == 0)
			return &rg_config_schema[i];
	return NULL;
}

static const struct rg_conf_origin *origin_of(const struct rg_config *c,
    const char *key)
{
	const struct rg_conf_key *k = rg_config_key_find(key);

	return k == NULL ? NULL : &c->origin[k - rg_config_schema];
}

int rg_config_key_line(const struct rg_config *c, const char *key)
{
	const struct rg_conf_origin *o = origin_of(c, key);

	return o == NULL ? 0 : o->line;
}

int rg_config_item_line(const struct rg_config *c, const char *key,
    size_t item)
{
	const struct rg_conf_origin *o = origin_of(c, key);
	int line = 0;

	for (size_t i = 0; o != NULL && i < o->nmarks; i++)
		if (o->marks[i].first <= item)
			line = o->marks[i].line;
	return line;
}

const char *rg_config_where(const struct rg_config *c, int line, char *buf,
    size_t len)
{
	if (line > 0)
		snprintf(buf, len, "%s:%d", c->path, line);
	else
		snprintf(buf, len, "%s", c->path);
	return buf;
}

/* Index of value in "a|b|c", or -1. */
static int enum_index(const char *values, const char *value)
{
	const char *p = values, *bar;
	size_t n, vlen = strlen(value);
	int i = 0;

	for (;;) {
		bar = strchr(p, '|');
		n = bar ? (size_t)(bar - p) : strlen(p);
		if (n == vlen && strncasecmp(p, value, n) == 0)
			return i;
		if (bar == NULL)
			return -1;
		p = bar + 1;
		i++;
	}
}

const char *rg_config_enum_name(const char *key, int index)
{
	static __thread char buf[64];
	const struct rg_conf_key *k = rg_config_key_find(key);
	const char *p, *bar;

	if (k == NULL || k->type != RG_CONF_ENUM || index < 0)
		return "?";
	for (p = k->values; index > 0; index--) {
		if ((p = strchr(p, '|')) == NULL)
			return "?";
		p++;
	}
	bar = strchr(p, '|');
	snprintf(buf, sizeof(buf), "%.*s", (int)(bar ? bar - p : (long)strlen(p)), p);
	return buf;
}

int rg_config_syslog_facility(const struct rg_config *c)
{
	if (c->log_facility < 0 ||
	    (size_t)c->log_facility >= RG_NELEM(log_facility_values))
		return LOG_MAIL;
	return log_facility_values[c->log_facility];
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < RG_NELEM(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = false, 0;
	}
	return -1;
}

static bool is_xcode(const char *s, size_t n, char cls)
{
	int dots = 0, digits = 0;

	if (n < 5 || s[0] != cls || s[1] != '.')
		return false;
	for (size_t i = 2; i < n; i++) {
		if (s[i] == '.') {
			if (digits == 0 || ++dots > 1)
				return false;
			digits = 0;
		} else if (isdigit((unsigned char)s[i])) {
			if (++digits > 3)
				return false;
		} else {
			return false;
		}
	}
	return dots == 1 && digits > 0;
}

static int parse_reply(const char *v, struct rg_reply *r, char *err,
    size_t errlen)
{
	const char *p = v, *tok;
	size_t n;

	if (!(v[0] == '4' || v[0] == '5') || !isdigit((unsigned char)v[1]) ||
	    !isdigit((unsigned char)v[2]) || (v[3] != ' ' && v[3] != '\0'))
		return rg_set_err(err, errlen, "reply must start with a 4xx or "
		    "5xx code, e.g. \"554 5.7.1 Relay access denied\"");
	memcpy(r->code, v, 3);
	r->code[3] = '\0';
	p = v + 3;
	while (*p == ' ')
		p++;
	tok = p;
	n = strcspn(tok, " ");
	if (n > 0 && isdigit((unsigned char)tok[0]) && tok[1] == '.') {
		if (!is_xcode(tok, n, v[0]) || n >= sizeof(r->xcode))
			return rg_set_err(err, errlen, "bad enhanced status code "
			    "'%.*s' (must be %c.x.y, RFC 3463)", (int)n, tok, v[0]);
		memcpy(r->xcode, tok, n);
		r->xcode[n] = '\0';
		p = tok + n;
		while (*p == ' ')
			p++;
	}
	if (*p == '\0')
		return rg_set_err(err, errlen, "reply needs a text after the code");
	/* RFC 5321 4.2: reply text is printable ASCII. A '%' is fine: every
	 * reply is cleaned with the SMTP rule of textclean.h, which doubles it
	 * for smfi_setreply. */
	for (const char *q = p; *q; q++)
		if (!rg_ascii_print((unsigned char)*q))
			return rg_set_err(err, errlen, "reply text must be printable "
			    "ASCII (byte 0x%02x at offset %zu)", (unsigned char)*q,
			    (size_t)(q - p));
	free(r->text);
	r->text = xstrdup(p);
	return 0;
}

/* Decimal seconds within [min, max] milliseconds. */
static int parse_seconds(const struct rg_conf_key *k, const char *value,
    double *out, const char *file, int line, char *err, size_t errlen)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(value, &end);
	if (*value == '\0' || *end != '\0' || errno != 0 || !(d >= 0) ||
	    d * 1000 < (double)k->min || d * 1000 > (double)k->max)
		return rg_set_err(err, errlen, "%s:%d: %s: '%s' is not a number of "
		    "seconds in %g..%g", file, line, k->name, value,
		    (double)k->min / 1000, (double)k->max / 1000);
	*out = d;
	return 0;
}

/* Store value for key k into c. 0, or -1 with "file:line: ..." in err. */
static int apply_value(struct rg_config *c, const struct rg_conf_key *k,
    const char *value, const char *file, int line, char *err, size_t errlen)
{
	void *field = (char *)c + k->offset;
	char msg[RG_CONFIG_ERRLEN];
	char *end;
	long l;
	int i;

	if (k->check != NULL && k->check(value, msg, sizeof(msg)) != 0)
		return rg_set_err(err, errlen, "%s:%d: %s: %s", file, line,
		    k->name, msg);
	switch (k->type) {
	case RG_CONF_STRING:
		if (*value == '\0')
			return rg_set_err(err, errlen, "%s:%d: %s needs a value",
			    file, line, k->name);
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return 0;
	case RG_CONF_BOOL:
		if (parse_bool(value, field) != 0)
			return rg_set_err(err, errlen, "%s:%d: %s: '%s' is not yes "
			    "or no", file, line, k->name, value);
		return 0;
	case RG_CONF_ENUM:
		if ((i = enum_index(k->values, value)) < 0)
			return rg_set_err(err, errlen, "%s:%d: %s: '%s' is not one "
			    "of %s", file, line, k->name, value, k->values);
		*(int *)field = i;
		return 0;
	case RG_CONF_INT:
		errno = 0;
		l = strtol(value, &end, 0);
		if (*value == '\0' || *end != '\0' || errno != 0 ||
		    l < k->min || l > k->max)
			return rg_set_err(err, errlen, "%s:%d: %s: '%s' is not a "
			    "number in %ld..%ld", file, line, k->name, value,
			    k->min, k->max);
		*(long *)field = l;
		return 0;
	case RG_CONF_CIDR_LIST:
		if (rg_cidr_list_parse(field, value, file, line, msg,
		    sizeof(msg)) != 0)
			return rg_set_err(err, errlen, "%s (%s)", msg, k->name);
		return 0;
	case RG_CONF_DOMAIN_LIST:
		if (rg_domain_list_parse(field, value, file, line, msg,
		    sizeof(msg)) != 0)
			return rg_set_err(err, errlen, "%s (%s)", msg, k->name);
		return 0;
	case RG_CONF_REPLY:
		if (parse_reply(value, field, msg, sizeof(msg)) != 0)
			return rg_set_err(err, errlen, "%s:%d: %s: %s", file, line,
			    k->name, msg);
		return 0;
	case RG_CONF_SECONDS:
		return parse_seconds(k, value, field, file, line, err, errlen);
	case RG_CONF_DNSBL_LIST:
		if (rg_dnsbl_list_parse(field, value, file, line, msg,
		    sizeof(msg)) != 0)
			return rg_set_err(err, errlen, "%s (%s)", msg, k->name);
		return 0;
	}
	return rg_set_err(err, errlen, "%s:%d: %s: internal error: bad type",
	    file, line, k->name);
}

static bool is_list(const struct rg_conf_key *k)
{
	return k->type == RG_CONF_CIDR_LIST || k->type == RG_CONF_DOMAIN_LIST ||
	    k->type == RG_CONF_DNSBL_LIST;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* A key is a word of letters and digits. Anything else on a line means the
 * file is no relayguard config at all (-c /etc/shadow): say so without
 * echoing the line, which may hold a secret. */
static bool key_shaped(const char *s)
{
	size_t n = 0;

	if (!isalpha((unsigned char)*s))
		return false;
	for (; *s != '\0'; s++, n++)
		if (!isalnum((unsigned char)*s) || n >= 40)
			return false;
	return true;
}

/* Items in the list at field (v[] or names[]; domain literals apart). */
static size_t list_items(const struct rg_conf_key *k, const void *field)
{
	switch (k->type) {
	case RG_CONF_CIDR_LIST:
		return ((const struct rg_cidr_list *)field)->n;
	case RG_CONF_DOMAIN_LIST:
		return ((const struct rg_domain_list *)field)->n;
	case RG_CONF_DNSBL_LIST:
		return ((const struct rg_dnsbl_list *)field)->n;
	default:
		return 0;
	}
}

/* Remember that line set key idx to value; a list key's items from before
 * on came from it. */
static void origin_note(struct rg_config *c, size_t idx, const char *value,
    int line, size_t before)
{
	struct rg_conf_origin *o = &c->origin[idx];
	char *joined;

	if (o->line == 0) {
		o->line = line;
		o->raw = xstrdup(value);
	} else if (*value != '\0') {
		joined = *o->raw ? xasprintf("%s, %s", o->raw, value) :
		    xstrdup(value);
		free(o->raw);
		o->raw = joined;
	}
	if (list_items(&rg_config_schema[idx], (char *)c +
	    rg_config_schema[idx].offset) > before) {
		o->marks = xrealloc(o->marks, (o->nmarks + 1) * sizeof(*o->marks));
		o->marks[o->nmarks].first = before;
		o->marks[o->nmarks++].line = line;
	}
}

/* One line (NUL-terminated, newline removed). */
static int parse_line(struct rg_config *c, bool *seen, char *raw,
    const char *file, int line, char *err, size_t errlen)
{
	const struct rg_conf_key *k;
	char *s = trim(raw), *value;
	size_t idx, before;

	if (*s == '\0' || *s == '#')
		return 0;
	value = s + strcspn(s, " \t");
	if (*value != '\0')
		*value++ = '\0';
	value = trim(value);
	if (!key_shaped(s))
		return rg_set_err(err, errlen, "%s:%d: not a \"Key value\" line "
		    "(is this a relayguard config?)", file, line);
	/* A lone word is no "Key value" line either: it may be a password
	 * or a token (-c /root/token); only a key with a value is named. */
	if ((k = rg_config_key_find(s)) == NULL && *value == '\0')
		return rg_set_err(err, errlen, "%s:%d: not a \"Key value\" line "
		    "(is this a relayguard config?)", file, line);
	if (k == NULL)
		return rg_set_err(err, errlen, "%s:%d: unknown key '%s'", file,
		    line, s);
	idx = (size_t)(k - rg_config_schema);
	if (seen[idx] && !is_list(k))
		return rg_set_err(err, errlen, "%s:%d: %s given twice", file,
		    line, k->name);
	if (*value == '\0' && !is_list(k))
		return rg_set_err(err, errlen, "%s:%d: %s needs a value", file,
		    line, k->name);
	seen[idx] = true;
	before = list_items(k, (char *)c + k->offset);
	if (apply_value(c, k, value, file, line, err, errlen) != 0) {
		/* the value checks quote the value: never a secret's */
		if (k->flags & RG_CONF_SECRET)
			rg_set_err(err, errlen, "%s:%d: %s: not a valid value (not "
			    "shown: it is a secret)", file, line, k->name);
		return -1;
	}
	origin_note(c, idx, value, line, before);
	return 0;
}

static int finish(struct rg_config *c, const bool *seen, const char *file,
    char *err, size_t errlen)
{
	for (size_t i = 0; i < rg_config_schema_count; i++) {
		const struct rg_conf_key *k = &rg_config_schema[i];

		if (seen[i])
			continue;
		if (k->flags & RG_CONF_REQUIRED)
			return rg_set_err(err, errlen, "%s: %s is required", file,
			    k->name);
		if (k->def != NULL && apply_value(c, k, k->def,
		    "(built-in default)", 0, err, errlen) != 0)
			return -1;
	}
	return 0;
}

static struct rg_config *config_new(const char *path)
{
	struct rg_config *c = xcalloc(1, sizeof(*c));

	c->refcount = 1;
	c->path = xstrdup(path);
	c->origin = xcalloc(rg_config_schema_count, sizeof(*c->origin));
	return c;
}

struct rg_config *rg_config_parse_string(const char *text, const char *name,
    char *err, size_t errlen)
{
	struct rg_config *c = config_new(name);
	bool *seen = xcalloc(rg_config_schema_count, sizeof(*seen));
	const char *p = text, *nl;
	char *buf;
	int line = 0, rc = 0;

	while (rc == 0 && *p != '\0') {
		nl = strchr(p, '\n');
		buf = xstrndup(p, nl ? (size_t)(nl - p) : strlen(p));
		rc = parse_line(c, seen, buf, name, ++line, err, errlen);
		free(buf);
		p = nl ? nl + 1 : p + strlen(p);
	}
	if (rc == 0)
		rc = finish(c, seen, name, err, errlen);
	free(seen);
	if (rc != 0) {
		rg_config_unref(c);
		return NULL;
	}
	return c;
}

struct rg_config *rg_config_load(const char *path, char *err, size_t errlen)
{
	FILE *fp;
	char *text = NULL;
	size_t cap = 0, len = 0, n;
	struct rg_config *c;

	if ((fp = fopen(path, "r")) == NULL) {
		rg_set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (rg_file_trusted(fileno(fp), path, err, errlen) != 0) {
		fclose(fp);
		return NULL;
	}
	do {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			if (cap > 16 * 1024 * 1024) {
				fclose(fp);
				free(text);
				rg_set_err(err, errlen, "%s: file too large", path);
				return NULL;
			}
			text = xrealloc(text, cap);
		}
		n = fread(text + len, 1, cap - len - 1, fp);
		len += n;
	} while (n > 0);
	if (ferror(fp)) {
		fclose(fp);
		free(text);
		rg_set_err(err, errlen, "%s: read error", path);
		return NULL;
	}
	fclose(fp);
	text[len] = '\0';
	if (memchr(text, '\0', len) != NULL) {
		free(text);
		rg_set_err(err, errlen, "%s: NUL byte in file", path);
		return NULL;
	}
	c = rg_config_parse_string(text, path, err, errlen);
	free(text);
	return c;
}

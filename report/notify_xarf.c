/* notify_xarf.c - X-ARF v4 and IntelMQ-style JSON per abusing source; see
 * notify.h. Built with jansson.
 *
 * X-ARF v4 (schemas/xarf, from github.com/xarf/xarf-spec): category
 * "messaging", type "spam", protocol "smtp" with smtp_from and source_port
 * (the client port the milter recorded), evidence = the syslog-form log
 * excerpt (text/plain, base64, sha256). A withheld sender is written as
 * "withheld@withheld.invalid" (RFC 2606 .invalid). Without a known client
 * port the protocol is "other" (X-ARF requires a port for smtp).
 *
 * IntelMQ: flat keys from IntelMQ's harmonization (tests/intelmq):
 * source.ip/port/network/reverse_dns/account, destination.ip/port,
 * protocol.application smtp, classification abusive-content / spam with
 * identifier "openrelay" (the source tried to use an open relay; the
 * vulnerable/vulnerable-system/openrelay taxonomy describes the relay
 * itself, which is the auditor's finding), time.source/observation, tlp,
 * and extra.* counts. */
#include "notify.h"
#include "lib/base/hostport.h"
#include "lib/base/i18n.h"
#include "lib/mail/iodef_write.h"
#include "lib/base/log.h"
#include "lib/base/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static char *iso_of(double t, char *buf, size_t len)
{
	struct timeval tv = notify_tv(t);

	return rg_time_iso8601(&tv, buf, len);
}

static void uuid4(char *out, size_t len)
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		msg_fatal("getrandom failed");
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
	    b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* {org, contact, domain}: the reporter, or this host without a profile. */
static json_t *contact_info(const struct rg_reporter *r)
{
	char host[256], *at;
	json_t *c = json_object();

	if (gethostname(host, sizeof(host)) != 0)
		strlcpy_rg(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	/* our host name is withheld like any internal host (RFC 2606 .invalid) */
	if ((r->withhold & RG_WITHHOLD_INTERNAL_HOSTS) && rg_reporter_internal_host(r, host))
		strlcpy_rg(host, RG_IODEF_WITHHELD_DOMAIN, sizeof(host));
	at = r->email ? strchr(r->email, '@') : NULL;
	json_object_set_new(c, "org", json_string(rg_reporter_name(r)));
	if (at) {
		json_object_set_new(c, "contact", json_string(r->email));
		json_object_set_new(c, "domain", json_string(at + 1));
	} else {
		char *pm = xasprintf("postmaster@%s", host);

		json_object_set_new(c, "contact", json_string(pm));
		json_object_set_new(c, "domain", json_string(host));
		free(pm);
	}
	return c;
}

static char *bare_address(const char *a, char *buf, size_t len)
{
	strlcpy_rg(buf, a[0] == '<' ? a + 1 : a, len);
	buf[strcspn(buf, ">")] = '\0';
	return buf;
}

/* The sender, unless the disclosure filter would touch it (withheld, or an
 * internal host inside it). */
static bool sender_shown(const struct notify_opts *o, const struct notify_source *s)
{
	return s->sender[0] && strchr(s->sender, '@') &&
	    !notify_filter_changes_sender(o, s->sender);
}

/* The source and counts only: nothing here for the filter to withhold. */
static char *summary_text(const struct notify_source *s)
{
	return xasprintf(_("Unauthorised relay attempts from %s: %ld relay attempts "
	    "(%ld refused, %ld logged while the server still relayed), %ld recipients, "
	    "%ld bounce storm(s) with %ld bounces"), s->key, s->relay_attempts,
	    s->relay_refused, s->relay_logged, s->recipients, s->storms, s->storm_bounces);
}

static json_t *evidence(const struct notify_opts *o, const struct notify_source *s)
{
	char **lines, *text = xstrdup(""), *b64, hex[2 * EVP_MAX_MD_SIZE + 8];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	size_t n = notify_excerpt(o, s, &lines), len;
	json_t *e = json_object(), *a = json_array();

	for (size_t i = 0; i < n; i++) {
		char *t = xasprintf("%s%s\n", text, lines[i]);

		free(text);
		text = t;
	}
	notify_excerpt_free(lines, n);
	len = strlen(text);
	b64 = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)text, (int)len);
	EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL);
	strcpy(hex, "sha256:");
	for (unsigned i = 0; i < mdlen; i++)
		sprintf(hex + 7 + 2 * i, "%02x", md[i]);
	json_object_set_new(e, "content_type", json_string("text/plain"));
	json_object_set_new(e, "description", json_string(_("relayguard-milter log "
	    "excerpt (syslog form)")));
	json_object_set_new(e, "payload", json_string(b64));
	json_object_set_new(e, "hash", json_string(hex));
	json_object_set_new(e, "size", json_integer((json_int_t)len));
	json_array_append_new(a, e);
	free(b64);
	free(text);
	return a;
}

static int dump(json_t *j, FILE *out)
{
	int rc = json_dumpf(j, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	fputc('\n', out);
	json_decref(j);
	return rc == 0 && !ferror(out) ? 0 : -1;
}

int notify_xarf(const struct notify_opts *o, const struct notify_source *s, FILE *out)
{
	json_t *j = json_object(), *tags = json_array();
	char id[40], ts[RG_TIME_ISO_LEN], addr[600], *desc, tag[64];

	uuid4(id, sizeof(id));
	json_object_set_new(j, "xarf_version", json_string("4.0.0"));
	json_object_set_new(j, "report_id", json_string(id));
	json_object_set_new(j, "timestamp", json_string(iso_of(s->first, ts, sizeof(ts))));
	json_object_set_new(j, "reporter", contact_info(o->reporter));
	json_object_set_new(j, "sender", contact_info(o->reporter));
	json_object_set_new(j, "source_identifier", json_string(s->network[0] ? s->network :
	    s->addrs[0]));
	if (s->port > 0)
		json_object_set_new(j, "source_port", json_integer(s->port));
	json_object_set_new(j, "category", json_string("messaging"));
	json_object_set_new(j, "type", json_string("spam"));
	json_object_set_new(j, "protocol", json_string(s->port > 0 ? "smtp" : "other"));
	if (!sender_shown(o, s))
		json_object_set_new(j, "smtp_from", json_string(
		    s->sender[0] && strchr(s->sender, '@') ? "withheld@withheld.invalid" :
		    "mailer-daemon@null-sender.invalid"));
	else
		json_object_set_new(j, "smtp_from", json_string(bare_address(s->sender, addr,
		    sizeof(addr))));
	if (s->recipients > 0)
		json_object_set_new(j, "recipient_count", json_integer(s->recipients));
	json_object_set_new(j, "evidence_source", json_string("automated_filter"));
	json_object_set_new(j, "evidence", evidence(o, s));
	json_array_append_new(tags, json_string("abuse:relay-attempt"));
	snprintf(tag, sizeof(tag), "tlp:%s", o->tlp);
	json_array_append_new(tags, json_string(tag));
	snprintf(tag, sizeof(tag), "request:%s", notify_request_name(o->request));
	json_array_append_new(tags, json_string(tag));
	json_object_set_new(j, "tags", tags);
	json_object_set_new(j, "confidence", json_real(s->relay_attempts > 0 ? 0.95 : 0.5));
	desc = summary_text(s);
	if (strlen(desc) > 1000)
		desc[1000] = '\0';
	json_object_set_new(j, "description", json_string(desc));
	free(desc);
	return dump(j, out);
}

/* A reverse DNS name IntelMQ takes as FQDN: lowercase, no final dot. */
static bool fqdn(const char *in, char *out, size_t len)
{
	size_t n;

	strlcpy_rg(out, in, len);
	rg_lowercase(out);
	n = strlen(out);
	while (n > 0 && out[n - 1] == '.')
		out[--n] = '\0';
	if (n == 0 || !strchr(out, '.') || rg_is_ip(out))
		return false;
	for (const char *c = out; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("-._", *c))
			return false;
	return true;
}

int notify_intelmq(const struct notify_opts *o, const struct notify_source *s, FILE *out)
{
	json_t *j = json_object();
	char ts[RG_TIME_ISO_LEN], name[256], addr[600], *desc;
	bool victim_ip = o->victim && rg_is_ip(o->victim);

	json_object_set_new(j, "feed.name", json_string("relayguard-milter"));
	json_object_set_new(j, "feed.provider", json_string(rg_reporter_name(o->reporter)));
	json_object_set_new(j, "time.observation", json_string(rg_time_iso8601(NULL, ts,
	    sizeof(ts))));
	json_object_set_new(j, "time.source", json_string(iso_of(s->first, ts, sizeof(ts))));
	json_object_set_new(j, "source.ip", json_string(s->addrs[0]));
	if (s->network[0])
		json_object_set_new(j, "source.network", json_string(s->network));
	if (s->port > 0)
		json_object_set_new(j, "source.port", json_integer(s->port));
	if (s->client_name[0] && fqdn(s->client_name, name, sizeof(name)))
		json_object_set_new(j, "source.reverse_dns", json_string(name));
	if (sender_shown(o, s))
		json_object_set_new(j, "source.account", json_string(bare_address(s->sender,
		    addr, sizeof(addr))));
	if (victim_ip)
		json_object_set_new(j, "destination.ip", json_string(o->victim));
	else if (o->victim && fqdn(o->victim, name, sizeof(name)) &&
	    !(notify_withheld(o, RG_WITHHOLD_INTERNAL_HOSTS) &&
	    rg_reporter_internal_host(o->reporter, name)))
		json_object_set_new(j, "destination.fqdn", json_string(name));
	json_object_set_new(j, "destination.port", json_integer(o->victim_port));
	json_object_set_new(j, "protocol.application", json_string("smtp"));
	json_object_set_new(j, "protocol.transport", json_string("tcp"));
	json_object_set_new(j, "classification.taxonomy", json_string("abusive-content"));
	json_object_set_new(j, "classification.type", json_string("spam"));
	json_object_set_new(j, "classification.identifier", json_string("openrelay"));
	desc = summary_text(s);
	json_object_set_new(j, "event_description.text", json_string(desc));
	free(desc);
	json_object_set_new(j, "tlp", json_string(strcmp(o->tlp, "clear") == 0 ? "WHITE" :
	    o->tlp));
	{
		char up[16];

		strlcpy_rg(up, json_string_value(json_object_get(j, "tlp")), sizeof(up));
		for (char *c = up; *c; c++)
			*c = (char)toupper((unsigned char)*c);
		json_object_set_new(j, "tlp", json_string(up));
	}
	json_object_set_new(j, "extra.relay_attempts", json_integer(s->relay_attempts));
	json_object_set_new(j, "extra.relay_refused", json_integer(s->relay_refused));
	json_object_set_new(j, "extra.relay_logged", json_integer(s->relay_logged));
	json_object_set_new(j, "extra.recipients", json_integer(s->recipients));
	json_object_set_new(j, "extra.bounce_storms", json_integer(s->storms));
	json_object_set_new(j, "extra.storm_bounces", json_integer(s->storm_bounces));
	json_object_set_new(j, "extra.last_seen", json_string(iso_of(s->last, ts, sizeof(ts))));
	json_object_set_new(j, "extra.clock", json_string(rg_clock_state_word(&o->clock)));
	json_object_set_new(j, "extra.requested_action",
	    json_string(notify_request_name(o->request)));
	return dump(j, out);
}

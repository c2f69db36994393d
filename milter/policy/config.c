/*
 * config.c - the schema-driven relayguard.conf parser; see config.h.
 *
 * Every default lives in rg_config_schema[] below and nowhere else; the
 * sample conf/relayguard.conf and relayguard.conf(5) follow this table.
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


#define F(field) offsetof(struct rg_config, field)

const char *const rg_log_facility_names[] = {
	"mail", "daemon", "user", "local0", "local1", "local2", "local3",
	"local4", "local5", "local6", "local7", NULL
};
static const int log_facility_values[] = {
	LOG_MAIL, LOG_DAEMON, LOG_USER, LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2,
	LOG_LOCAL3, LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7
};

const struct rg_conf_key rg_config_schema[] = {
	/* Daemon */
	{"Socket", RG_CONF_STRING, "inet:8894@127.0.0.1", NULL, 0, 0, F(socket), 0, rg_config_check_socket,
	 "where the MTA connects: unix:/path, inet:port@host or inet6:port@host (libmilter syntax)"},
	{"UserID", RG_CONF_STRING, NULL, NULL, 0, 0, F(user_id), 0, rg_config_check_user,
	 "user[:group] to switch to right after the socket is opened (unset: keep the current user)"},
	{"PidFile", RG_CONF_STRING, NULL, NULL, 0, 0, F(pid_file), 0, rg_config_check_abspath,
	 "write the daemon's process id here (unset: no pid file)"},
	{"SocketMode", RG_CONF_INT, "0660", NULL, 0, 0777, F(socket_mode), 0, NULL,
	 "permissions of a unix: socket (octal); the MTA's user must be able to write to it"},
	{"LogFacility", RG_CONF_ENUM, "mail", "mail|daemon|user|local0|local1|local2|local3|local4|local5|local6|local7",
	 0, 0, F(log_facility), 0, NULL,
	 "syslog facility of every log line"},
	{"LogVerbose", RG_CONF_BOOL, "no", NULL, 0, 0, F(log_verbose), 0, NULL,
	 "also log every permitted recipient (debugging)"},
	/* Relay policy */
	{"Mode", RG_CONF_ENUM, "enforce", "enforce|log-only", 0, 0, F(mode), 0, NULL,
	 "enforce: refuse unauthorised relaying at RCPT; log-only: only record it"},
	{"TrustedNetworks", RG_CONF_CIDR_LIST, "127.0.0.0/8, ::1", NULL, 0, 0, F(trusted_networks), 0, NULL,
	 "clients that may relay anywhere (IPv4/IPv6 CIDRs, or file:/path); keep it as narrow as Postfix's mynetworks should be"},
	{"LocalDomains", RG_CONF_DOMAIN_LIST, "", NULL, 0, 0, F(local_domains), 0, NULL,
	 "domains this server receives mail for (example.org exact, .example.org subdomains, [192.0.2.1] literals, file:/path)"},
	{"RelayDomains", RG_CONF_DOMAIN_LIST, "", NULL, 0, 0, F(relay_domains), 0, NULL,
	 "domains this server is a backup MX or gateway for (same syntax as LocalDomains)"},
	{"TrustAddresslessClients", RG_CONF_BOOL, "no", NULL, 0, 0, F(trust_addressless), 0, NULL,
	 "let a client without an IP address (milter family unix or unknown, or no connect event: \"sendmail -bs\") relay; Postfix's pickup and sendmail's MSP arrive as 127.0.0.1 and do not need it"},
	{"AllowAuthenticated", RG_CONF_BOOL, "yes", NULL, 0, 0, F(allow_authenticated), 0, NULL,
	 "an SMTP AUTH login ({auth_authen}) may relay"},
	{"RejectReply", RG_CONF_REPLY, "554 5.7.1 Relay access denied", NULL, 0, 0, F(reject_reply), 0, NULL,
	 "reply to a refused recipient; \"<recipient>: \" is put before the text, as Postfix does"},
	/* Evidence */
	{"EventLog", RG_CONF_STRING, NULL, NULL, 0, 0, F(event_log), 0, rg_config_check_abspath,
	 "append every relay event here as JSON lines (unset: syslog only)"},
	{"SummaryInterval", RG_CONF_INT, "600", NULL, 10, 86400, F(summary_interval), 0, NULL,
	 "seconds between per-client relay-attempt summary lines"},
	{"MetricsListen", RG_CONF_STRING, NULL, NULL, 0, 0, F(metrics_listen), 0, rg_config_check_metrics_listen,
	 "serve counters in Prometheus text format at http://ADDR:PORT/metrics: 127.0.0.1:PORT or [::1]:PORT, loopback only (unset: off)"},
	{"ClientTableSize", RG_CONF_INT, "4096", NULL, 16, 1000000, F(client_table_size), 0, NULL,
	 "clients whose relay attempts are counted at once; the least recently seen is evicted"},
	/* Bounce-storm sensor: see relayguard.conf(5) for how the defaults were chosen */
	{"BounceSensor", RG_CONF_BOOL, "yes", NULL, 0, 0, F(bounce_sensor), 0, NULL,
	 "count bounces and report bounce storms (needs the header and body stages of bounces)"},
	{"BounceWindow", RG_CONF_INT, "300", NULL, 10, 86400, F(bounce_window), 0, NULL,
	 "seconds of the sliding window the bounce counts cover (60 buckets; restart to change)"},
	{"BounceThreshold", RG_CONF_INT, "100", NULL, 0, 10000000, F(bounce_threshold), 0, NULL,
	 "bounces of one origin (generated here, or inbound) within BounceWindow that make a storm; 0: off"},
	{"BounceRecipientThreshold", RG_CONF_INT, "20", NULL, 0, 10000000, F(bounce_rcpt_threshold), 0, NULL,
	 "bounces to one recipient within BounceWindow that make a storm; 0: off"},
	{"BounceClientThreshold", RG_CONF_INT, "20", NULL, 0, 10000000, F(bounce_client_threshold), 0, NULL,
	 "bounces about mail from one original client (generated) or from one SMTP client (inbound) within BounceWindow that make a storm; 0: off"},
	{"BounceSummaryInterval", RG_CONF_INT, "60", NULL, 10, 86400, F(bounce_summary_interval), 0, NULL,
	 "seconds between bounce_storm_summary events while a storm lasts"},
	{"BounceTableSize", RG_CONF_INT, "1024", NULL, 16, 1000000, F(bounce_table_size), 0, NULL,
	 "recipients and clients counted at once per origin (fixed memory; the smallest count is evicted; restart to change)"},
	{"BounceMaxBodyScan", RG_CONF_INT, "65536", NULL, 1024, 10485760, F(bounce_max_body), 0, NULL,
	 "bytes of a bounce's body read at most to parse its delivery report"},
	{"BounceStormAction", RG_CONF_ENUM, "none", "none|header|quarantine", 0, 0, F(bounce_storm_action), 0, NULL,
	 "during a storm, also mark bounces with an X-Relayguard-Bounce-Storm header, or quarantine them (never rejected)"},
	{"BounceHardLimit", RG_CONF_INT, "0", NULL, 0, 10000000, F(bounce_hard_limit), 0, NULL,
	 "tempfail inbound SMTP bounces once their recipient or client has more than this many within BounceWindow; 0: off"},
	{"BounceHardLimitReply", RG_CONF_REPLY, "451 4.7.1 Too many bounces, try again later", NULL, 0, 0,
	 F(bounce_hard_limit_reply), 0, rg_config_check_tempfail,
	 "reply to a bounce over BounceHardLimit (must be 4xx)"},
	/* DNS: every DNS-based check is off by default (SPF, DNSBL, ReverseDNS) */
	{"Nameservers", RG_CONF_STRING, NULL, NULL, 0, 0, F(nameservers), 0, rg_config_check_nameservers,
	 "nameservers to ask, \"IP[:PORT], ...\" ([v6]:port for IPv6), in order (unset: /etc/resolv.conf)"},
	{"DNSTimeout", RG_CONF_SECONDS, "1.5", NULL, 100, 30000, F(dns_timeout), 0, NULL,
	 "seconds to wait for one reply from one nameserver"},
	{"DNSRetries", RG_CONF_INT, "1", NULL, 0, 5, F(dns_retries), 0, NULL,
	 "extra rounds over the nameservers after the first"},
	{"DNSBudget", RG_CONF_SECONDS, "4", NULL, 200, 8000, F(dns_budget), 0, NULL,
	 "seconds all DNS lookups of one MAIL FROM (SPF, DNSBL, reverse DNS) may take together; keep it far below sendmail's 10 s milter reply timeout"},
	{"DNSBL", RG_CONF_DNSBL_LIST, "", NULL, 0, 0, F(dnsbl), 0, NULL,
	 "DNS blocklists to look the client up in: zone[:127.0.0.N][=log|reject] (default action log)"},
	{"ReverseDNS", RG_CONF_BOOL, "no", NULL, 0, 0, F(reverse_dns), 0, NULL,
	 "look up the client's PTR name and forward-confirm it; both go into the decision log"},
	/* SPF */
	{"SPF", RG_CONF_BOOL, "no", NULL, 0, 0, F(spf), 0, NULL,
	 "check SPF (RFC 7208) at MAIL FROM for untrusted, unauthenticated clients"},
	{"SPFHeader", RG_CONF_ENUM, "received-spf", "received-spf|authentication-results|none", 0, 0, F(spf_header), 0, NULL,
	 "header that records the SPF result at the top of the message"},
	{"AuthservID", RG_CONF_STRING, NULL, NULL, 0, 0, F(authserv_id), 0, NULL,
	 "this host's name in Authentication-Results and Received-SPF (unset: the host name)"},
	{"SPFFail", RG_CONF_ENUM, "record", "record|reject|tempfail", 0, 0, F(spf_fail), 0, NULL,
	 "what an SPF fail does: record (header and log), reject (550 5.7.23) or tempfail (451 4.7.23)"},
	{"SPFSoftfail", RG_CONF_ENUM, "record", "record|reject|tempfail", 0, 0, F(spf_softfail), 0, NULL,
	 "what an SPF softfail does (same values as SPFFail)"},
	{"SPFTempError", RG_CONF_ENUM, "record", "record|reject|tempfail", 0, 0, F(spf_temperror), 0, NULL,
	 "what an SPF temperror does: record, reject (550 5.7.24) or tempfail (451 4.7.24)"},
	{"SPFPermError", RG_CONF_ENUM, "record", "record|reject|tempfail", 0, 0, F(spf_permerror), 0, NULL,
	 "what an SPF permerror does (same values as SPFTempError)"},
	{"SPFCheckTrusted", RG_CONF_BOOL, "no", NULL, 0, 0, F(spf_check_trusted), 0, NULL,
	 "also check (and record, never refuse) mail from TrustedNetworks and authenticated clients"},
	/* Penalty box (milter/abuser.h): off until AbuserThreshold is set */
	{"AbuserThreshold", RG_CONF_INT, "0", NULL, 0, 1000000, F(abuser_threshold), 0, NULL,
	 "refused relay attempts from one source within AbuserWindow that box it for AbuserBlockTime; 0: off"},
	{"AbuserWindow", RG_CONF_INT, "600", NULL, 10, 86400, F(abuser_window), 0, NULL,
	 "seconds over which AbuserThreshold counts a source's refused relay attempts"},
	{"AbuserBlockTime", RG_CONF_INT, "3600", NULL, 10, 604800, F(abuser_block_time), 0, NULL,
	 "seconds a boxed source gets AbuserReply for every transaction"},
	{"AbuserPrefix4", RG_CONF_INT, "32", NULL, 8, 32, F(abuser_prefix4), 0, NULL,
	 "IPv4 prefix length of a source: 32 one address, 24 its /24"},
	{"AbuserPrefix6", RG_CONF_INT, "128", NULL, 16, 128, F(abuser_prefix6), 0, NULL,
	 "IPv6 prefix length of a source: 128 one address, 64 its /64"},
	{"AbuserExempt", RG_CONF_CIDR_LIST, NULL, NULL, 0, 0, F(abuser_exempt), 0, NULL,
	 "sources never counted or boxed (your own auditors and monitoring, like fail2ban's ignoreip); their relay attempts are still refused"},
	{"AbuserStage", RG_CONF_ENUM, "mail", "mail|connect", 0, 0, F(abuser_stage), 0, NULL,
	 "where a boxed source is refused: at MAIL FROM, or already at CONNECT"},
	{"AbuserReply", RG_CONF_REPLY, "554 5.7.1 Too many refused relay attempts from your network, try again later",
	 NULL, 0, 0, F(abuser_reply), 0, rg_config_check_abuser_reply,
	 "reply to a boxed source (5xx, or 421 to close the connection)"},
	/* Shared state (relayguard-milter's shared.h): off until set */
	{"SharedState", RG_CONF_STRING, NULL, NULL, 0, 0, F(shared_state), RG_CONF_SECRET, NULL,
	 "Redis server the penalty box shares with the other MX hosts: redis://[user:password@]host[:port][/db] or unix:/path[?db=N&user=U&password=P]"},
	{"SharedStateTimeout", RG_CONF_SECONDS, "0.05", NULL, 5, 1000, F(shared_state_timeout), 0, NULL,
	 "seconds one shared-state call may take, lock wait included; past it the milter decides on local state"},
};

const size_t rg_config_schema_count = RG_NELEM(rg_config_schema);

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
	bool seen[RG_NELEM(rg_config_schema)] = {false};
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

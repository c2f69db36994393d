/*
 * config.h - relayguard.conf: one schema table drives parsing, checking,
 * defaults and the documentation of every key.
 *
 * The file holds "Key value" lines (key case-insensitive, value is the rest
 * of the line with surrounding blanks removed); blank lines and lines whose
 * first non-blank character is '#' are ignored. rg_config_schema[] has one
 * row per key: name, type, default, allowed values (enums) or range (ints),
 * where the value lands in struct rg_config, and a one-line description.
 * A later feature adds a key by adding a field to struct rg_config and one
 * row to the table - nothing else in the parser changes.
 *
 * Types: string, bool (yes/no, true/false, on/off, 1/0), enum (one of a
 * '|'-separated list, stored as its index), int (decimal, or octal with a
 * leading 0, within [min, max]), cidr-list and domain-list (netmatch.h;
 * comma/space separated, "file:/path" items; a list key may be repeated and
 * accumulates), reply ("554 5.7.1 text": a 4xx/5xx code, an optional
 * enhanced status code of the same class, text). Scalar keys may appear
 * once. Unknown keys, bad values and duplicates are errors reported as
 * "FILE:LINE: what is wrong"; rg_config_load() reports the first one.
 *
 * Each parsed config remembers where the file set each key and list item
 * (origin[]: the line, the value as written): relayguard-milter -t names
 * that line in its warnings, -n prints the values (configshow.h).
 * Homes: config.c parses, configcheck.c holds the per-key value checks,
 * configref.c the reference counts and the installed config.
 *
 * The config object is reference counted so that the milter can swap a
 * fully parsed new one in on reload while connections finish with the old
 * one: rg_config_current() returns a new reference to the installed
 * config, rg_config_install() replaces it, rg_config_unref() drops one.
 */
#ifndef RELAYGUARD_CONFIG_H
#define RELAYGUARD_CONFIG_H

#include "lib/mail/netmatch.h"

#include <stdbool.h>
#include <stddef.h>

#define RG_CONFIG_ERRLEN	600

enum rg_conf_type {
	RG_CONF_STRING,
	RG_CONF_BOOL,
	RG_CONF_ENUM,
	RG_CONF_INT,
	RG_CONF_CIDR_LIST,
	RG_CONF_DOMAIN_LIST,
	RG_CONF_REPLY,
	RG_CONF_SECONDS,	/* decimal seconds ("1.5"), a double; min/max in ms */
	RG_CONF_DNSBL_LIST,	/* "zone[:127.0.0.N][=log|reject]" items */
};

/* Mode values (index into the Mode enum row). */
enum rg_mode { RG_MODE_ENFORCE = 0, RG_MODE_LOG_ONLY = 1 };

struct rg_reply {
	char code[4];		/* "554" */
	char xcode[16];		/* "5.7.1" or "" */
	char *text;		/* "Relay access denied" */
};

/* SPFFail, SPFSoftfail, SPFTempError, SPFPermError values. */
enum rg_spf_action {
	RG_SPF_ACTION_RECORD = 0,	/* header and log only */
	RG_SPF_ACTION_REJECT = 1,	/* 550 5.7.23 / 5.7.24 at MAIL FROM */
	RG_SPF_ACTION_TEMPFAIL = 2,	/* 451 4.7.23 / 4.7.24 at MAIL FROM */
};

/* SPFHeader values. */
enum rg_spf_header {
	RG_SPF_HEADER_RECEIVED_SPF = 0,
	RG_SPF_HEADER_AUTH_RESULTS = 1,
	RG_SPF_HEADER_NONE = 2,
};

enum rg_dnsbl_action { RG_DNSBL_LOG = 0, RG_DNSBL_REJECT = 1 };

/* One DNSBL item: a listing of the client in zone (with return code code,
 * or any code in 127.0.0.0/8 when code is "") leads to action. */
struct rg_dnsbl {
	char *zone;
	char code[16];
	int action;			/* enum rg_dnsbl_action */
};

struct rg_dnsbl_list {
	size_t n;
	struct rg_dnsbl *v;
};

/* Where the file set a key (struct rg_config's origin[], one per schema
 * row): -t names the line of a warning, -n prints the value as written. */
struct rg_conf_mark {
	size_t first;			/* list items from this index on... */
	int line;			/* ...came from this line */
};

struct rg_conf_origin {
	int line;			/* first line naming the key; 0: not set */
	char *raw;			/* value as written; repeated list lines
					 * joined with ", " */
	size_t nmarks;			/* list keys: lines that added items */
	struct rg_conf_mark *marks;
};

struct rg_config {
	int refcount;			/* atomic; see rg_config_ref() */
	char *path;			/* file it was read from */
	struct rg_conf_origin *origin;	/* rg_config_schema_count rows */

	/* Daemon */
	char *socket;
	char *user_id;
	char *pid_file;
	long socket_mode;
	int log_facility;		/* index into rg_log_facility_names */
	bool log_verbose;
	/* Relay policy */
	int mode;			/* enum rg_mode */
	struct rg_cidr_list trusted_networks;
	struct rg_domain_list local_domains;
	struct rg_domain_list relay_domains;
	bool trust_addressless;		/* clients without an IP address may relay */
	bool allow_authenticated;
	struct rg_reply reject_reply;
	/* Evidence */
	char *event_log;
	long summary_interval;		/* seconds */
	long client_table_size;
	char *metrics_listen;		/* NULL: no metrics listener */
	/* Bounce-storm sensor (bounce.h) */
	bool bounce_sensor;
	long bounce_window;		/* seconds */
	long bounce_threshold;		/* all bounces of one origin */
	long bounce_rcpt_threshold;	/* to one recipient */
	long bounce_client_threshold;	/* from/about one client */
	long bounce_summary_interval;	/* seconds */
	long bounce_table_size;
	long bounce_max_body;		/* bytes of a bounce's body read */
	int bounce_storm_action;	/* enum rg_bounce_action */
	long bounce_hard_limit;		/* 0: off */
	struct rg_reply bounce_hard_limit_reply;
	/* DNS (dns.h): resolver, DNSBL, reverse DNS */
	char *nameservers;		/* NULL: /etc/resolv.conf */
	double dns_timeout;		/* seconds per try per nameserver */
	long dns_retries;
	double dns_budget;		/* seconds of DNS per MAIL stage at most */
	struct rg_dnsbl_list dnsbl;
	bool reverse_dns;
	/* SPF (spf.h) */
	bool spf;
	int spf_header;			/* enum rg_spf_header */
	char *authserv_id;		/* NULL: the host name */
	int spf_fail, spf_softfail;	/* enum rg_spf_action */
	int spf_temperror, spf_permerror;
	bool spf_check_trusted;
	/* Penalty box (relayguard-milter's abuser.h) */
	long abuser_threshold;		/* 0: off */
	long abuser_window;		/* seconds */
	long abuser_block_time;		/* seconds */
	long abuser_prefix4, abuser_prefix6;
	struct rg_cidr_list abuser_exempt;	/* never counted or boxed */
	int abuser_stage;		/* enum rg_abuser_stage */
	struct rg_reply abuser_reply;
	char *shared_state;		/* NULL: local state only */
	double shared_state_timeout;	/* seconds per call */

	/* Not from the file: what a front end builds from this config (the
	 * milter's resolver and SPF server), freed with it by
	 * runtime_free(runtime) when the last reference goes. */
	void *runtime;
	void (*runtime_free)(void *runtime);
};

/* AbuserStage values. */
enum rg_abuser_stage { RG_ABUSER_AT_MAIL = 0, RG_ABUSER_AT_CONNECT = 1 };

/* BounceStormAction values. */
enum rg_bounce_action {
	RG_BOUNCE_ACTION_NONE = 0,
	RG_BOUNCE_ACTION_HEADER = 1,
	RG_BOUNCE_ACTION_QUARANTINE = 2,
};

/* struct rg_conf_key flags. A secret value (a password, a URL with one) is
 * never printed: relayguard-milter -n masks it (configshow.h). */
#define RG_CONF_REQUIRED	0x1
#define RG_CONF_SECRET		0x2

struct rg_conf_key {
	const char *name;
	enum rg_conf_type type;
	const char *def;		/* default as it would be written; NULL: none */
	const char *values;		/* enum: "enforce|log-only" */
	long min, max;			/* int */
	size_t offset;			/* into struct rg_config */
	unsigned flags;			/* RG_CONF_REQUIRED, RG_CONF_SECRET */
	/* extra check of a value (NULL: none): 0, or -1 with a message */
	int (*check)(const char *value, char *err, size_t errlen);
	const char *description;
};

/* Checks used by schema rows, exported for the tests. */
int rg_config_check_socket(const char *value, char *err, size_t errlen);
int rg_config_check_user(const char *value, char *err, size_t errlen);
int rg_config_check_abspath(const char *value, char *err, size_t errlen);
int rg_config_check_tempfail(const char *value, char *err, size_t errlen);
int rg_config_check_nameservers(const char *value, char *err, size_t errlen);
int rg_config_check_metrics_listen(const char *value, char *err, size_t errlen);
int rg_config_check_abuser_reply(const char *value, char *err, size_t errlen);

/* Parse DNSBL items into list (accumulates). 0, or -1 with err. */
int rg_dnsbl_list_parse(struct rg_dnsbl_list *list, const char *value,
    const char *file, int line, char *err, size_t errlen);
void rg_dnsbl_list_free(struct rg_dnsbl_list *list);

extern const struct rg_conf_key rg_config_schema[];
extern const size_t rg_config_schema_count;
extern const char *const rg_log_facility_names[];	/* "mail", ... */

/* Parse path completely. NULL on error, with "path:line: ..." in err. */
struct rg_config *rg_config_load(const char *path, char *err, size_t errlen);
/* The same from a string (tests); name is used in messages. */
struct rg_config *rg_config_parse_string(const char *text, const char *name,
    char *err, size_t errlen);

const struct rg_conf_key *rg_config_key_find(const char *name);
/* The line that set key (the first, for a repeated list key); 0 when the
 * file does not set it. */
int rg_config_key_line(const struct rg_config *c, const char *key);
/* The line that added item index of list key (the index into the list's
 * v[] or names[]); 0 when the item is a built-in default. */
int rg_config_item_line(const struct rg_config *c, const char *key,
    size_t item);
/* "FILE:LINE" for a message about line, "FILE" when line is 0. */
const char *rg_config_where(const struct rg_config *c, int line, char *buf,
    size_t len);
/* err = "unknown user 'name': " and how the account is made. */
int rg_config_unknown_user(const char *name, char *err, size_t errlen);
/* Enum value text for an index (e.g. mode name); "?" when out of range. */
const char *rg_config_enum_name(const char *key, int index);
/* syslog facility constant (LOG_MAIL...) for config->log_facility. */
int rg_config_syslog_facility(const struct rg_config *c);

struct rg_config *rg_config_ref(struct rg_config *c);
void rg_config_unref(struct rg_config *c);

/* The installed config (a new reference, or NULL before the first install). */
struct rg_config *rg_config_current(void);
/* Install c (takes over the caller's reference); the old one is unref'd. */
void rg_config_install(struct rg_config *c);

#endif

/*
 * reporter.h - who reports: the reporter profile every report writer uses
 * (audit text/JSON/IODEF, the notifications of relayguard-report notify).
 *
 * A small file of "Key = value" lines (key case-insensitive; blank lines
 * and '#' comments ignored), conf/reporter.conf documents every key:
 *
 *	Organisation = Example Corp. information systems
 *	ContactName  = Hanako Yamada
 *	Email        = security@site.example
 *	Phone        = +81-3-0000-0000
 *	TimeZone     = Asia/Tokyo        (report times are written in it)
 *	Role         = site | csirt
 *	TLP          = clear | green | amber | red
 *	Disclosure   = yes | ask | no    (may the CSIRT name us to the party
 *	                                  it notifies?)
 *	Withhold     = recipients, internal-hosts, senders, helo
 *	                                 (not for the notified party)
 *	InternalDomains = site.example, corp.example
 *	Language     = en | ja
 *	OwnAuditors  = 192.0.2.10, 2001:db8:1::/64
 *	                                 (where we audit our own servers from:
 *	                                  their events are "own audit", never
 *	                                  an abuse report)
 *
 * Errors read "FILE:LINE: what is wrong" like relayguard.conf's.
 *
 * rg_reporter_find() picks the profile: the --reporter FILE when given
 * (it must exist), else reporter.conf in the directory of the milter's
 * config file when that exists, else /etc/relayguard/reporter.conf when
 * that exists, else an unidentified profile: reports still work and say
 * "reporter not identified".
 */
#ifndef RELAYGUARD_REPORTER_H
#define RELAYGUARD_REPORTER_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/mail/netmatch.h"

enum rg_reporter_role { RG_ROLE_SITE = 0, RG_ROLE_CSIRT = 1 };
enum rg_disclosure { RG_DISCLOSE_ASK = 0, RG_DISCLOSE_YES = 1, RG_DISCLOSE_NO = 2 };

/* Withhold bits: what the notified party must not see. */
#define RG_WITHHOLD_RECIPIENTS		0x01u
#define RG_WITHHOLD_INTERNAL_HOSTS	0x02u
#define RG_WITHHOLD_SENDERS		0x04u
#define RG_WITHHOLD_HELO		0x08u

struct rg_reporter {
	bool identified;		/* read from a file */
	char *path;
	char *organisation;		/* NULL when not given */
	char *contact_name;
	char *email;
	char *phone;
	char *timezone;			/* IANA name, NULL: the host's */
	int role;			/* enum rg_reporter_role */
	char tlp[8];			/* "amber" by default */
	int disclosure;			/* enum rg_disclosure */
	unsigned withhold;		/* RG_WITHHOLD_* */
	char **internal_domains;	/* lowercase, NULL-terminated */
	char language[4];		/* "en" or "ja"; "" when not given */
	struct rg_cidr_list own_auditors;	/* OwnAuditors */
};

/* Parse path. NULL on error with "path:line: ..." in err. */
struct rg_reporter *rg_reporter_load(const char *path, char *err, size_t errlen);
struct rg_reporter *rg_reporter_parse_string(const char *text, const char *name,
    char *err, size_t errlen);
/* An unidentified profile (defaults only). */
struct rg_reporter *rg_reporter_unidentified(void);
/* See above. explicit_path: --reporter or NULL; config_path: the milter's
 * config file or NULL. NULL on error (err set). */
struct rg_reporter *rg_reporter_find(const char *explicit_path,
    const char *config_path, char *err, size_t errlen);
void rg_reporter_free(struct rg_reporter *r);

/* Organisation, else contact name, else "reporter not identified" (translated). */
const char *rg_reporter_name(const struct rg_reporter *r);
/* Is name (a host name) in one of InternalDomains (or the domain itself)? */
bool rg_reporter_internal_host(const struct rg_reporter *r, const char *name);
/* Is addr (textual) one of OwnAuditors? */
bool rg_reporter_own_auditor(const struct rg_reporter *r, const char *addr);
const char *rg_reporter_role_name(int role);		/* "site", "csirt" */
const char *rg_reporter_disclosure_name(int d);		/* "ask", "yes", "no" */
/* Make report times use the profile's TimeZone (setenv TZ + tzset);
 * no-op without one. Call before any thread starts. */
void rg_reporter_apply_timezone(const struct rg_reporter *r);
/* {"identified":..., "organisation":..., ...} (a new jansson reference). */
struct json_t *rg_reporter_json(const struct rg_reporter *r);

#endif

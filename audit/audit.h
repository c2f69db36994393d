/*
 * audit.h - relayguard-audit internals: options, per-target results, and the
 * four steps every target goes through:
 *
 *   audit_run_target()   session.c      talk to the MTA, run the battery
 *   grade_reply()        grade.c        one reply -> one probe outcome
 *   grade_verdict()      grade.c        all outcomes -> the target's verdict
 *   mta_fingerprint()    fingerprint.c  banner/EHLO -> MTA kind and its fix
 *   audit_dns_facts()    dnsfacts.c     PTR/FCrDNS, DNSBL, SPF authorisation
 *   audit_mx_targets()   resolve.c      expands --mx domains
 *   report_*()           report_*.c     text, JSON, IODEF
 */
#ifndef RELAYGUARD_AUDIT_H
#define RELAYGUARD_AUDIT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/time.h>

#include <jansson.h>

#include "lib/base/clockstate.h"
#include "lib/net/dns.h"
#include "lib/mail/netmatch.h"
#include "lib/base/outfile.h"
#include "smtp.h"
#include "lib/mail/spf.h"
#include "lib/mail/reporter.h"
#include "trick.h"

#define AUDIT_NAME_MAX	256
#define AUDIT_NAMES_MAX	16		/* bound on the name set (battery size) */

enum starttls_mode { STARTTLS_AUTO, STARTTLS_ALWAYS, STARTTLS_NEVER };
enum report_format { FORMAT_TEXT, FORMAT_JSON, FORMAT_IODEF, FORMAT_JSONL, FORMAT_NAGIOS };
enum field_names { FIELDS_RELAYGUARD, FIELDS_INTELMQ };

struct audit_opts {
	int port;			/* default port for targets without one */
	const char *helo;		/* NULL: the probe domain */
	const char *domain;		/* {D}: external domain used in probes */
	const char *sender_domain;	/* {D2}: NULL = domain */
	const char *second_domain;	/* --second-domain: "" = none */
	const char *source;		/* bind address or NULL */
	enum starttls_mode starttls;
	bool implicit_tls;
	double connect_timeout;
	double read_timeout;
	double budget;			/* seconds per target */
	int errors_per_session;		/* new session after this many refusals */
	int data_probes;		/* DATA-stage checks per target */
	bool transcript;
	bool quiet;			/* -q: no progress, summary or info lines */
	bool nagios;			/* --nagios: -f nagios */
	enum report_format format;
	const char *output;		/* -o FILE: complete or absent; NULL stdout */
	const char *tlp;		/* IODEF restriction, e.g. "amber" */
	const char **local_names;	/* --local-name, the operator's own names */
	size_t nlocal_names;
	int jobs;			/* targets audited in parallel */
	/* DNS (any of these turns the DNS facts on) */
	bool mx;			/* targets are mail domains */
	const char *nameserver;		/* "HOST[:PORT],..."; NULL: resolv.conf */
	const char **dnsbl;		/* --dnsbl zones */
	size_t ndnsbl;
	const char *spf_domain;		/* domain served, for targets without --mx */
	double dns_timeout;
	int dns_retries;
	struct rg_dns *dns;		/* set up by main() when DNS is on */
	/* who reports, and the clock the times come from (main() sets both) */
	const struct rg_reporter *reporter;
	struct rg_clock clock;
	struct rg_spf *spf;
	/* scale (options.c, targets.c, output.c) */
	bool port_given;
	int fields;			/* enum field_names */
	const char *feed_name;		/* IntelMQ feed.name */
	const char **input_files;	/* -iL FILE ("-" stdin) */
	size_t ninput_files;
	double rate;			/* new connections per second, 0 = no limit */
	const char *exclude;		/* CIDR file: never contact */
	const char *shard;		/* "I/N" */
	unsigned shard_i, shard_n;	/* shard_n 0: no sharding */
	const char *resume;		/* earlier jsonl output */
	const char *reporter_path, *lang;
	const char *baseline;		/* --baseline: an earlier json/jsonl run */
	const char *confirm;		/* --confirm MAILBOX: send one canary */
	const char *confirm_maildir;	/* where MAILBOX's mail arrives */
	double confirm_wait;		/* seconds to wait for it */
	struct audit_baseline *baseline_db;	/* loaded by main() */
	bool no_pipelining;		/* lock-step even when PIPELINING is offered */
	int per_host;			/* sessions at once per target */
	int max_sessions;		/* sessions at once over all targets, 0 none */
};

/* --confirm (canary.c): the one message sent to confirm a relay */
struct canary_result {
	bool tried;
	char state[32];			/* confirmed, not_delivered, refused_at_*, not_sent */
	char probe[96];
	char rcpt[600];
	char token[32];
	char note[700];
	double seconds;
};

/* --baseline (baseline.c): this target against the earlier run */
struct baseline_change {
	bool compared;
	char change[24];		/* new, newly_open, still_open, fixed, ... */
	char prev_verdict[24];
	char prev_start[48];
	char open_since[48];
	char fixed_at[48];
};

enum outcome {
	OUT_NOT_RUN = 0,
	OUT_ACCEPTED,
	OUT_REJECTED,
	OUT_TEMPFAIL,
	OUT_AUTH_REQUIRED,
	OUT_TLS_REQUIRED,
	OUT_ERROR,
	OUT_UNTESTED,		/* refused before RCPT (HELO or MAIL): trick not tested */
};

enum data_outcome { DATA_NOT_TRIED = 0, DATA_TAKEN, DATA_REFUSED, DATA_ERROR };

enum verdict {
	VERDICT_CLOSED = 0,
	VERDICT_ACCEPT_ALL,
	VERDICT_INCONCLUSIVE,
	VERDICT_OPEN_RELAY,
	VERDICT_UNREACHABLE,
	VERDICT_DOMAIN_RELAY,	/* relays towards -d only, not the second domain */
};
/* How many verdicts there are (arrays by verdict): one past the last. */
#define VERDICT_COUNT	(VERDICT_DOMAIN_RELAY + 1)

enum mta_kind { MTA_UNKNOWN = 0, MTA_POSTFIX, MTA_SENDMAIL, MTA_EXIM, MTA_OPENSMTPD,
	MTA_EXCHANGE, MTA_QMAIL, MTA_HARAKA, MTA_COURIER, MTA_MDAEMON };

/* One earlier attempt of a probe (kept when it is retried). */
struct audit_attempt {
	char mail_from[600];
	enum outcome outcome;
	const char *stage;
	int code;
	char enhanced[16];
	char text[512];
	int session;
};

/* A probe's relay recipient tried once more towards --second-domain
 * (session.c second_destination_pass). */
struct audit_second {
	bool tried;
	enum outcome outcome;
	const char *stage;
	int code;
	char enhanced[16];
	char text[256];
};

struct audit_probe {
	struct rg_probe_spec spec;
	/* retried: the first attempt was refused before RCPT (MAIL refused) and
	 * the trick ran again with the baseline sender retry_from; first holds
	 * that attempt, the fields below the final one. */
	bool retried;
	char retry_from[600];
	struct audit_attempt first;
	const char *untested_why;	/* OUT_UNTESTED: why, one phrase */
	enum outcome outcome;
	const char *stage;		/* "connect", "helo", "mail", "rcpt" */
	int code;
	char enhanced[16];
	char text[512];
	enum data_outcome data;
	int data_code;
	char data_text[256];
	/* spec.first_rcpt (after-local tricks): its reply; 0 = not sent */
	int first_rcpt_code;
	char first_rcpt_text[256];
	struct audit_second second;	/* towards --second-domain */
	bool copy;			/* a copy towards --second-domain (session.c):
					 * its answer alone says "any domain" */
	int session;			/* 1-based connection number */
	struct timeval start, finish;
};

/* Politeness and trust of one target (polite.c): what its connections did. */
struct audit_politeness {
	int attempts;			/* connections tried (TCP connects) */
	int busy;			/* turned away: 4xx greeting, refused connect */
	int consecutive;		/* busy in a row, none of ours up; reset by a 220 */
	int retries;			/* tried again after a backoff */
	double backoff_seconds;		/* waited in backoffs, in all */
	double busy_until;		/* rg_now() before which no session connects */
	bool gave_up;			/* busy past the caps: no more connections */
	char busy_what[32];		/* "421", "connection refused" */
	double ceiling;			/* new connections a second, whole run */
	int out_of_step;		/* sessions whose reply stream was out of step */
	bool untrusted;			/* out of step too often: no more sessions */
	/* tarpits and silent per-IP limits (issue 17 item 4) */
	double tarpit_seconds;		/* slowest tarpit reply (>= POLITE_TARPIT_MIN) */
	double tarpit_least;		/* the quickest of those: what an error costs */
	int tarpit_replies;		/* replies that came that late, after an error */
	int closed_at_greeting;		/* connections closed before any greeting */
	double read_timeout;		/* --timeout */
	bool error_timed;		/* an error reply's delay was measured (not a
					 * syntax error's to a bare path) */
	int no_greeting;		/* taken, none of ours open, not greeted in time */
};
/* A target's transcript is bounded (transcript.c tx_record): the first
 * AUDIT_TX_HEAD_BYTES and the last AUDIT_TX_TAIL_BYTES (line text plus
 * its record) are kept, what lay between is replaced by one '*' line that
 * says how much was cut. A server sending 100-line replies of 2 KB costs
 * at most this much per target in flight. */
#define AUDIT_TX_HEAD_BYTES	(128 * 1024)
#define AUDIT_TX_TAIL_BYTES	(128 * 1024)

/* The connection a transcript line belongs to (connect.c): its session
 * number (0: a connection that never became a session, or the target
 * itself) and our local port. Owned by the target, freed with it. */
struct tx_tag {
	struct audit_target *t;
	int session;
	int local_port;
	struct tx_tag *next;
};

struct tx_line {
	struct timeval when;
	char dir;			/* '>' sent, '<' received, '*' event */
	char *line;
	const struct tx_tag *tag;	/* NULL: an event of the target */
};

struct dnsbl_fact {
	char zone[RG_DNS_NAME_MAX];
	enum rg_dns_status status;
	bool listed;
	char codes[128];
	char reason[256];
};

struct audit_target {
	/* given */
	char spec[300];
	char host[256];
	int port;
	/* --mx: where this target came from */
	char mail_domain[RG_DNS_NAME_MAX];
	char mx_host[RG_DNS_NAME_MAX];
	int mx_pref;			/* -1: implicit MX (the domain's address) */
	/* learned */
	char address[64];
	char vantage[64];		/* our local address: where we tested from */
	char ip_literal[80];		/* "[192.0.2.1]" / "[IPv6:::1]" */
	char banner[600];
	char server_name[256];		/* EHLO name, else banner name */
	char banner_name[256];
	char ehlo_name[256];
	char ehlo_keywords[512];	/* space-separated */
	char ehlo_greeting[256];	/* first line of the first EHLO reply */
	bool ehlo_refused;		/* first session: EHLO refused, used HELO */
	bool described;			/* a session was greeted and said EHLO:
					 * the fields above are the server's */
	char baseline_from[600];	/* first MAIL FROM the server accepted */
	int mail_refusals;		/* probes refused at MAIL with 5xx: none,
					 * and no probe scan (polite_sender_refused) */
	bool starttls_offered;
	/* RFC 2920 (session.c): groups sent pipelined; a reply stream found
	 * out of step, and the lock-step fallback it caused */
	int pipelined_groups;
	struct session_pool *pool;	/* connect.c, while the battery runs */
	bool lockstep, desync;
	char desync_note[200];
	bool tls_used;
	char tls_info[512];
	char starttls_failed[300];	/* --starttls auto: the handshake error;
					 * the target was audited in clear */
	enum mta_kind mta;
	/* results */
	struct audit_probe *probes;
	size_t nprobes;
	char names[AUDIT_NAMES_MAX][AUDIT_NAME_MAX];	/* its own names (names.c) */
	size_t nnames;
	int sessions;
	enum verdict verdict;
	char verdict_reason[1024];
	/* counts over relay probes, set by grade_verdict() */
	size_t n_relay, n_accepted, n_refused;
	size_t n_untested;		/* not answered definitively at RCPT */
	size_t n_untested_relevant;	/* of those, leaving a relay hole untested */
	/* -d and --second-domain of this audit; VERDICT_DOMAIN_RELAY: relays
	 * only towards domain, refused towards second_domain */
	char domain[RG_DNS_NAME_MAX], second_domain[RG_DNS_NAME_MAX];
	size_t n_second_tried, n_second_accepted, n_second_refused;
	char error[300];
	bool unresolved;		/* no address for its name (or --mx domain):
					 * not contacted, verdict unreachable */
	struct timeval start, finish;
	double elapsed;
	double deadline;		/* rg_now() when --budget runs out */
	/* DNS facts (dns_checked: they were looked up) */
	bool dns_checked;
	bool ptr_checked;		/* PTR looked up before the battery */
	char ptr[RG_DNS_NAME_MAX];
	enum rg_fcrdns fcrdns;
	struct dnsbl_fact *dnsbl;
	size_t ndnsbl;
	bool spf_checked;
	struct rg_spf_result spf;
	bool spf_authorised_relay;	/* open relay inside the domain's SPF */
	/* transcript */
	struct baseline_change base;	/* with --baseline */
	struct canary_result canary;	/* with --confirm */
	struct tx_line *tx;		/* kept when a report shows it (keep_tx) */
	struct tx_tag *tx_tags;		/* one per connection, with keep_tx */
	size_t ntx, captx;
	bool keep_tx;
	bool tx_truncated;		/* lines were cut from the middle */
	/* the per-target cap (transcript.c tx_record): tx[0..tx_head) is the
	 * first part, tx[tx_head] the cut marker once lines were dropped */
	size_t tx_bytes, tx_tail_bytes, tx_head;
	size_t tx_cut_lines, tx_cut_bytes;
	struct audit_politeness polite;	/* polite.c */
};

/* names.c: the names a target may treat as its own */
struct audit_name_facts {
	const char *ip_literal;		/* "[192.0.2.1]" / "[IPv6:2001:db8::1]" */
	const char *banner_name, *ehlo_name;
	const char *mx_domain, *mx_host;	/* --mx */
	const char *ptr;
	const char *const *operator_names;	/* --local-name */
	size_t noperator;
};
/* De-duplicated, lower-cased, at most max names, most telling first. */
size_t audit_name_set(const struct audit_name_facts *f, char (*out)[AUDIT_NAME_MAX],
    size_t max);
/* mail.site.example -> site.example; false for a single label, a name.tld,
 * or when the parent is a public suffix (site.co.uk -/-> co.uk). */
bool audit_parent_domain(const char *name, char *out, size_t len);

/* session.c */
void audit_run_target(struct audit_target *t, const struct audit_opts *o);
void audit_target_free(struct audit_target *t);
/* -T: the connections of t's transcript, each once, in session order (the
 * ones never opened, then NULL for the target's own events, last); *out
 * is allocated, free it. */
size_t audit_tx_groups(const struct audit_target *t, const struct tx_tag ***out);

/* grade.c */
enum outcome grade_reply(int code, const char *enhanced, bool tls_offered_in_clear);
void grade_verdict(struct audit_target *t);
const char *outcome_name(enum outcome o);
const char *verdict_name(enum verdict v);
const char *data_outcome_name(enum data_outcome d);
int verdict_exit_code(enum verdict v);
int verdict_rank(enum verdict v);	/* the worst of several: highest */
bool probe_is_relay(const struct audit_probe *p);
/* An accepted relay probe the verdict may rest on: not a routing trick
 * under a name that accepts any local part (C3). */
bool probe_is_evidence(const struct audit_target *t, const struct audit_probe *p);

/* destination.c: the second destination (--second-domain) */
/* Count the accepted relay probes' second-destination results into t;
 * true when every one was tried and refused as relaying (a refusal for
 * the recipient address itself, 5.1.x, says nothing about relaying). */
bool grade_second_destination(struct audit_target *t);
/* "; towards SECOND: ..." for a verdict that stands on both destinations */
void second_destination_note(const struct audit_target *t, char *why, size_t whylen);
/* The advice for VERDICT_DOMAIN_RELAY (relay_domains / backup MX) for the
 * MTA, one paragraph; NULL for any other verdict. */
const char *domain_relay_advice(const struct audit_target *t);
/* Outcome of a reply to HELO/EHLO or MAIL (stage "helo"/"mail"): a 5xx
 * refusal there leaves the trick untested, it is never "rejected". */
enum outcome grade_pre_rcpt(int code, const char *enhanced, bool tls_offered_in_clear);
/* The probe was refused before RCPT and its trick does not depend on its
 * sender (routing, identity, plain): run it again with baseline_from. */
bool probe_wants_retry(const struct audit_probe *p, const char *baseline_from);
/* An untested probe that leaves a relay hole unexplored. A sender-side
 * trick whose own sender was refused at MAIL cannot relay: not relevant. */
bool probe_untested_relevant(const struct audit_probe *p);
/* "critical" (open relay authorised by SPF), "high" (open relay), "medium"
 * (inconclusive), "low" (accept-all), "none" (closed), "unknown". */
const char *audit_severity(const struct audit_target *t);

/* fingerprint.c */
enum mta_kind mta_fingerprint(const char *banner, const char *ehlo_text);
const char *mta_name(enum mta_kind m);

/* remedy.c: fix advice as data per (MTA, hole class). A step: what was
 * found, the file, what to delete (POSIX EREs, each matched against one
 * whole statement of the file at a time, see enum remedy_unit), the lines
 * to add (after the deletions, in order), and how to check. */
#define REMEDY_MAX_LINES 8
/* What one delete pattern removes. A statement's text, for matching, is its
 * lines (comments and blank lines left out) with leading and trailing white
 * space and a trailing backslash cut, joined by single spaces. Deleting the
 * first line of a statement alone would join its continuation lines to the
 * statement before it: Exim and OpenSMTPD would parse that silently. */
enum remedy_unit {
	REMEDY_UNIT_LINE,	/* one line (sendmail's access file) */
	REMEDY_UNIT_EXIM,	/* an ACL statement: its verb line and every line
				 * up to the next verb, ACL name, macro or begin;
				 * elsewhere a setting with its \ continuations */
	REMEDY_UNIT_SMTPD,	/* an smtpd.conf rule with its \ continuations */
	REMEDY_UNIT_M4,		/* an m4 call of a .mc: every line up to its
				 * closing parenthesis */
};
struct remedy_step {
	enum rg_trick_class hole;
	const char *found;
	const char *config_file;
	const char *remove[REMEDY_MAX_LINES];	/* NULL-terminated EREs */
	const char *lines[REMEDY_MAX_LINES];	/* NULL-terminated */
	const char *check;
	const char *note;			/* comment, may be NULL */
	const char *shown[REMEDY_MAX_LINES];	/* typical statements the EREs
						 * delete, as an admin sees them */
	enum remedy_unit unit;			/* what each ERE deletes */
};
struct remedy {
	enum mta_kind mta;
	bool verified;		/* proven on that MTA by the test suite */
	bool holes[RG_CLASS_LAST + 1];	/* observed, by class */
	const struct remedy_step *steps[8];
	size_t nsteps;
};
/* remedy.c */
/* The hole class an accepted relay probe proves: its trick's class, but a
 * routing or identity probe accepted with its own local-looking sender that
 * the server also relays for with a plain recipient proves the sender-side
 * hole (sendmail relay_local_from), not the routing one. */
enum rg_trick_class remedy_hole_of(const struct audit_target *t,
    const struct audit_probe *p);
/* The steps for the holes observed on t (none when nothing was accepted). */
void remedy_build(const struct audit_target *t, struct remedy *r);
/* Whether the reports carry fix advice for t: only when a hole was
 * observed, i.e. the verdict is open_relay. An inconclusive result (relay
 * enforced at DATA, a possible accept-all server, untested probes) proves
 * no hole, so it gets no fix text - never advice for an unobserved hole. */
bool audit_fix_applies(const struct audit_target *t);
/* The concrete fix for that MTA as text, several lines. */
void mta_remedy(const struct audit_target *t, FILE *out, const char *indent);
char *mta_remedy_string(const struct audit_target *t);
/* Every step there is for MTA m, whatever was observed (tests apply them all
 * to the stock configuration files). */
void remedy_build_all(enum mta_kind m, struct remedy *r);
/* "line", "exim-statement", "smtpd-rule", "m4-call". */
const char *remedy_unit_name(enum remedy_unit u);
/* The remedy as the JSON report's "remedy" object. */
json_t *remedy_json_object(const struct remedy *r);

/* resolve.c */
/* Expand one --mx domain into targets appended to *targets (sorted MX,
 * every address of every host, duplicates once). 0 ok; -1 with err when
 * the domain cannot be resolved; 1 with err for a null MX (no mail). */
int audit_mx_targets(const char *domain, const struct audit_opts *o,
    struct audit_target **targets, size_t *n, char *err, size_t errlen);

/* dnsfacts.c */
/* PTR/FCrDNS, DNSBL listings and SPF of the target's address; raises the
 * verdict reason when an open relay is authorised by SPF. Call after
 * audit_run_target(). */
void audit_dns_facts(struct audit_target *t, const struct audit_opts *o);
/* PTR/FCrDNS only (its name joins the target's name set before the battery). */
void audit_dns_ptr(struct audit_target *t, const struct audit_opts *o);

/* preflight.c: -s checked by binding it (fatal, usage status, when it is
 * not an address of this machine); the targets in the lists when they can
 * be counted up front (not stdin, networks, --mx, --shard, --resume,
 * --exclude). */
void audit_check_source(const char *src);
bool audit_count_targets(const struct audit_opts *o, char **args, int nargs, size_t *n);

/* options.c: the option table; fills o (defaults first), returns the index
 * of the first TARGET; *action is "help", "version", "list-tricks" or NULL. */
int audit_options_parse(int argc, char **argv, struct audit_opts *o, const char **action);
/* EX_USAGE, or 3 (UNKNOWN) under --nagios: the exit status of a usage error */
int audit_usage_status(void);
void audit_usage(FILE *out);
void audit_print_version(FILE *out);

/* targets.c: target lists in (arguments, -iL, stdin, ZMap, CSV, --mx),
 * --shard, --resume, --exclude. */
struct target_feed {
	const struct audit_opts *o;
	char **args;
	int nargs, argi;
	size_t filei;			/* next -iL file */
	FILE *in;			/* list being read, or NULL */
	const char *inname;
	int lineno;
	char *line;
	size_t linecap;
	bool stdin_used;
	struct audit_target *pending;	/* --mx expansion of one domain */
	size_t npending, pendi;
	struct rg_cidr_list exclude;
	char **resume_keys;		/* sorted */
	size_t nresume;
	size_t skipped_shard, skipped_resume, skipped_excluded;
	size_t bad_lines;		/* list lines warned about and skipped */
	char **seen_tab;		/* host:port keys already taken */
	size_t seen_n, seen_cap;
	size_t skipped_duplicate;
	int mx_failed;
	struct feed_cidr {		/* a CIDR target being expanded */
		int family;
		unsigned char base[16];
		uint64_t count, next;
	} cidr;
};
/* spec -> t (zeroed); bare_v6 accepts "2001:db8::1" without brackets. */
int audit_target_init(const char *spec, int default_port, bool bare_v6,
    struct audit_target *t, char *err, size_t errlen);
/* "host:port" / "[v6]:port", lowercase: what --shard and --resume compare. */
void audit_target_key(const char *host, int port, char *buf, size_t len);
bool audit_shard_keeps(const char *key, unsigned i, unsigned n);
void feed_open(struct target_feed *f, const struct audit_opts *o, char **args, int nargs);
/* 1: *t is the next target to audit; 0: no more. Bad input is fatal. */
int feed_next(struct target_feed *f, struct audit_target *t);
/* Any address of t in --exclude (resolves names); call before connecting. */
bool feed_excluded(const struct target_feed *f, const struct audit_target *t);
void feed_close(struct target_feed *f);
/* A name target with no address, or an --mx domain whose DNS failed: a
 * result of its own (verdict unreachable, "unresolved": true, exit 3),
 * never contacted. resolves: false with why for a name without address. */
bool audit_target_resolves(const struct audit_target *t, char *why, size_t len);
void audit_target_unresolved(struct audit_target *t, const char *why);

/* nagios.c: --nagios, one plugin status line for the worst target */
struct audit_nagios {
	size_t targets, same;		/* audited; with the worst verdict */
	struct audit_nagios_worst {
		enum verdict verdict;
		size_t relay, accepted, refused, untested;
		double elapsed;
		char target[300];
	} worst;
};
void audit_nagios_add(struct audit_nagios *n, const struct audit_target *t);
int audit_nagios_print(const struct audit_nagios *n, FILE *out);

/* output.c: one JSON line per target (relayguard or IntelMQ names), progress */
struct audit_progress {
	double start;
	size_t done, total;
	size_t verdicts[VERDICT_COUNT];	/* results, by verdict */
	size_t unresolved;		/* of the unreachable: no address */
	bool total_known;
	bool shown;			/* the line is on the terminal, unended */
};
void audit_json_line(const struct audit_target *t, const struct audit_opts *o, FILE *out);
/* -f json is ONE document: one object when the command line names one
 * target (a host, not a network, no -iL, no --mx), else an array - also
 * when it holds one result or none ([] when nothing was audited). */
struct audit_json_doc {
	bool array;
	size_t n;			/* objects written */
};
void audit_json_doc_add(struct audit_json_doc *d, const struct audit_target *t,
    const struct audit_opts *o, FILE *out);
void audit_json_doc_end(const struct audit_json_doc *d, FILE *out);
/* A line of a -f json/jsonl file: true for the array's own lines ("[",
 * "]"); else its trailing comma and white space are cut, in place. */
bool audit_json_frame_line(char *line);
/* Once a second on a terminal; final: the last one, N/N, ended by a newline.
 * Any message on stderr clears it first (msg_stderr_before). */
void audit_progress(struct audit_progress *p, bool final);
/* The end line, as nmap's "Nmap done": "3 targets: 1 open_relay, ...,
 * in 11.4 s" (not with --nagios or -q). */
void audit_summary(const struct audit_progress *p);

/* output.c: where the report goes - standard output, or -o FILE written
 * through lib/base/outfile.c (complete or absent). Every report written is
 * checked with audit_out_ok(); audit_out_close() commits FILE or closes
 * stdout. A failure is one line on stderr and exit AUDIT_EXIT_OUTPUT. */
#define AUDIT_EXIT_OUTPUT	4
struct audit_out {
	FILE *fp;
	struct rg_outfile of;		/* -o FILE */
	const char *path;		/* NULL: standard output */
	bool failed;			/* a write failed: the run stops */
	int err;			/* its errno, when known */
	size_t carried;			/* -f json: objects carried over (--resume) */
};
/* Before anything opens a descriptor: a closed 0, 1 or 2 gets /dev/null,
 * so no socket or file can take its number (a report written into an SMTP
 * session); a closed stdout is remembered and refused by audit_out_open. */
void audit_out_guard_fds(void);
/* 0, or -1 with err. With -o FILE the same file as --resume, its earlier
 * complete lines are carried over first: the file grows, as >> did. */
int audit_out_open(struct audit_out *out, const struct audit_opts *o, char *err,
    size_t errlen);
/* After each report: false once any write failed (flush with flush). */
bool audit_out_ok(struct audit_out *out, bool flush);
/* Commit -o FILE (or remove it after a failure) or close stdout; -1 after
 * one line on stderr. */
int audit_out_close(struct audit_out *out);

/* canary.c: --confirm (see there); after grading, before the reports */
void audit_canary(struct audit_target *t, const struct audit_opts *o);
json_t *audit_canary_json(const struct audit_target *t);
void audit_canary_text(const struct audit_target *t, FILE *out);

/* baseline.c: --baseline (see there) */
struct audit_baseline;
/* NULL with err when PREVIOUS cannot be read */
struct audit_baseline *audit_baseline_load(const char *path, char *err, size_t errlen);
void audit_baseline_free(struct audit_baseline *b);
const char *audit_baseline_path(const struct audit_baseline *b);
void audit_baseline_compare(const struct audit_baseline *b, struct audit_target *t);
json_t *audit_baseline_json(const struct audit_target *t);
void audit_baseline_text(const struct audit_target *t, FILE *out);
/* "Compared with FILE: 1 fixed, 0 newly open, ..." after the text reports */
void audit_baseline_summary(const struct audit_baseline *b, const struct audit_target *t,
    const bool *have, size_t n, FILE *out);

/* report_*.c */
json_t *report_json_object(const struct audit_target *t, const struct audit_opts *o);
void report_text(const struct audit_target *t, const struct audit_opts *o, FILE *out);

#endif

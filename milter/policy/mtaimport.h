/*
 * mtaimport.h - read the relay settings an admin already gave the MTA and
 * write them as relayguard.conf lines (relayguard-milter --import).
 *
 * Postfix: rg_import_postfix() runs "postconf -c DIR -x" (postconf expands
 * $myhostname, $mydestination, ${...} itself) for mydestination,
 * relay_domains, mynetworks, virtual_mailbox_domains, virtual_alias_domains,
 * inet_interfaces, proxy_interfaces, myhostname and mydomain, and maps
 *	mydestination, virtual_*_domains	-> LocalDomains
 *	inet_interfaces, proxy_interfaces	-> LocalDomains ([address] literals)
 *	relay_domains				-> RelayDomains (and .subdomains
 *						   when relay_domains is in
 *						   parent_domain_matches_subdomains)
 *	mynetworks				-> TrustedNetworks
 * List items may be names, /file/name (read, items inside), or type:table:
 * texthash: and cidr: files are read directly, hash:, btree:, lmdb:, cdb:,
 * dbm: and sdbm: are listed with "postmap -s"; other types (regexp, pcre,
 * ldap, mysql, proxy: ...) cannot be listed and are reported as such.
 * mynetworks is imported only when every item of it is understood the way
 * Postfix matches it (mtaimport_postfix.c): otherwise none of it is.
 *
 * sendmail: rg_import_sendmail() reads, in DIR (default /etc/mail):
 * local-host-names (or sendmail.cw) and Cw lines of sendmail.cf -> class w
 * -> LocalDomains; relay-domains (class R) -> RelayDomains (domain and
 * subdomains) or TrustedNetworks (numeric prefixes); the text source of the
 * access map ("access"): Connect:IP / bare IP prefix RELAY ->
 * TrustedNetworks, To:domain / bare domain RELAY -> RelayDomains. The
 * access text is read as makemap reads it (the key up to the first blank,
 * the value all the rest of the line, '#' a comment only at the start of a
 * line), a value counts only when sendmail's rules see the single word
 * RELAY in it, and an entry is imported only when no entry that sendmail
 * looks up first for some client inside it (a longer prefix, a subdomain)
 * says anything else (mtaimport_sendmail.c).
 *
 * The import never trusts a client the MTA does not relay for
 * (tests/integration/280_milter_import_trust.sh asks the real MTAs,
 * tests/fuzz/fuzz_import.c checks against a model of them).
 * Files: mtaimport.c (lists, notes, output), mtaimport_postfix.c,
 * mtaimport_mynetworks.c, mtaimport_run.c (postconf, postmap),
 * mtaimport_sendmail.c.
 *
 * Every value keeps where it came from; what cannot be expressed in
 * relayguard terms (negations, client host names, per-address entries,
 * unreadable tables) is kept as a note. Networks wider than a /8 (the
 * open-relay mistake) are never imported: they become a note. Every item
 * is checked with the same parsers relayguard.conf uses, so the output
 * passes "relayguard-milter -t". rg_import_write() prints a comment header
 * (source, notes, one line per value with its origin) and the three lines
 * LocalDomains, RelayDomains, TrustedNetworks.
 */
#ifndef RELAYGUARD_MTAIMPORT_H
#define RELAYGUARD_MTAIMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct rg_import_item {
	char *value;		/* as written to relayguard.conf */
	char *source;		/* "mydestination ($myhostname)", "access:12" */
};

struct rg_import_list {
	struct rg_import_item *v;
	size_t n, cap;
};

struct rg_import {
	char *mta;			/* "Postfix", "sendmail" */
	char *where;			/* config directory read */
	struct rg_import_list local, relay, trusted;
	/* negated items ("!10.1.2.3", "!secret.example.com"): a list entry
	 * that covers one is dropped at the end (a relayguard list has no
	 * exceptions, and the import is never wider than the MTA) */
	struct rg_import_list negated;
	/* sendmail's access map: RELAY entries (lowercase key) and every
	 * other entry (lowercase key), which may hide a RELAY entry */
	struct rg_import_list sm_relay, sm_other;
	/* Postfix: mynetworks has an item relayguard cannot judge, so none
	 * of it is imported (mtaimport_mynetworks.c) */
	bool pf_unknown;
	char **notes;			/* what was not imported, and why */
	size_t nnotes, capnotes;
	char **raw;			/* "param = value" as the admin wrote it */
	size_t nraw, capraw;
};

#define RG_IMPORT_ERRLEN	512

/* 0, or -1 with err (postconf not runnable, DIR unreadable). dir NULL:
 * postconf's default config directory. */
int rg_import_postfix(const char *dir, struct rg_import *im, char *err,
    size_t errlen);
/* dir NULL: /etc/mail. 0, or -1 with err when nothing could be read. */
int rg_import_sendmail(const char *dir, struct rg_import *im, char *err,
    size_t errlen);
/* A negated item of kind 'T' (network) or 'L'/'R' (domain), value without
 * the '!': noted, and at the end of rg_import_run() every imported entry
 * that covers it is dropped with a note. */
void rg_import_negated(struct rg_import *im, int kind, const char *value,
    const char *source);
/* "postfix[:DIR]" or "sendmail[:DIR]". */
int rg_import_run(const char *spec, struct rg_import *im, char *err,
    size_t errlen);
void rg_import_write(FILE *out, const struct rg_import *im,
    const char *command);
void rg_import_free(struct rg_import *im);

/* Exposed for the unit tests: add one item, checked and deduplicated;
 * kind 'L' local, 'R' relay, 'T' trusted. */
void rg_import_add(struct rg_import *im, int kind, const char *value,
    const char *source);
void rg_import_note(struct rg_import *im, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* sendmail access-map text (one file) into im; name for notes. */
void rg_import_sendmail_access(struct rg_import *im, FILE *in,
    const char *name);
/* One Postfix list parameter (mynetworks, relay_domains, mydestination,
 * ...) as postconf -x prints its value; flags RG_IMPORT_NO_FILES: /files
 * and tables are not read (noted as such). Then rg_import_finish(). */
#define RG_IMPORT_NO_FILES	1
void rg_import_postfix_param(struct rg_import *im, const char *param,
    const char *value, unsigned flags);
/* The lines of a cidr: table named by mynetworks. */
void rg_import_postfix_cidr(struct rg_import *im, FILE *in, const char *src);
/* Drop what a negation covers; rg_import_run() calls it last. */
void rg_import_finish(struct rg_import *im);

/* Shared by the importers (mtaimport.c). */
void rg_import_raw(struct rg_import *im, const char *line);
void rg_import_list_add(struct rg_import_list *l, const char *v,
    const char *source);
void rg_import_list_clear(struct rg_import_list *l);
/* Drop (with a note saying why) every entry of l that param gave. */
void rg_import_drop_param(struct rg_import *im, struct rg_import_list *l,
    const char *param, const char *why);
/* mynetworks items as Postfix matches them (mtaimport_mynetworks.c):
 * an address or network ("addr/len" into out), one address as Postfix
 * spells a client address, a hash-like table key, a cidr: table; what is
 * not understood is noted and sets im->pf_unknown; the verdict drops all
 * of TrustedNetworks then. */
bool rg_import_pf_network(const char *item, char *out, size_t len);
bool rg_import_pf_address(const char *key);
void rg_import_pf_key(struct rg_import *im, const char *key, const char *src);
/* The keys of inline:{name=value, ...}, one a line (free it), or NULL
 * when Postfix would refuse the table or it nests braces (not read). */
char *rg_import_pf_inline_keys(const char *name);
void rg_import_pf_unknown(struct rg_import *im, const char *src,
    const char *item, const char *why);
void rg_import_pf_verdict(struct rg_import *im);
/* Run argv (no shell), collect stdout and stderr (at most 4 MB each):
 * the exit status, or -1 with errb saying why (mtaimport_run.c). */
struct rg_import_buf {
	char *s;
	size_t n, cap;
};
int rg_import_run_capture(char *const argv[], struct rg_import_buf *out,
    struct rg_import_buf *errb);
const char *rg_import_first_line(struct rg_import_buf *b);
/* "[::1]/128" -> "::1/128": Postfix brackets IPv6 in mynetworks. */
void rg_import_unbracket(const char *in, char *out, size_t len);

#endif

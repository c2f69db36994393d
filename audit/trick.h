/*
 * trick.h - the one catalogue of relay tricks (REFERENCE.md section 2).
 *
 * Each row of rg_trick_catalogue[] is one way to make a mail server relay:
 * an id (A1..A9 sender forms, B1..B16 recipient routing tricks, S1 session
 * variations, L1 relay after a local recipient, C1/C2/C3 controls), the MAIL FROM and RCPT TO arguments as
 * templates, and what it exploits. The auditor generates its probes from
 * the table (rg_battery_build); the milter's tests use the very same table
 * as their oracle: every non-control row must be refused for an untrusted
 * client. A new trick is one new row, and both sides learn it.
 *
 * Template placeholders:
 *   {F} sender local part      {T} recipient local part
 *   {D} victim (external) domain   {D2} other external (sender) domain
 *   {IP} the target's address literal, "[192.0.2.1]" or "[IPv6:2001:db8::1]"
 *   {SRV} the target's own name (banner or EHLO)
 *   {R} a random token (accept-all control)
 * Rows flagged RG_TRICK_PER_NAME are repeated with every name the target may
 * treat as local substituted for {IP} and {SRV} (the DSBL relaytest idea):
 * its literal, localhost, [127.0.0.1], banner and EHLO names. Duplicated
 * (helo, mail, rcpt) triples are dropped, the first one kept.
 */
#ifndef RELAYGUARD_TRICK_H
#define RELAYGUARD_TRICK_H

#include <stdbool.h>
#include <stddef.h>

#define RG_TRICK_PER_NAME	(1u << 0)	/* repeat for each local name */
#define RG_TRICK_CONTROL_LOCAL	(1u << 1)	/* control: must be accepted */
#define RG_TRICK_CONTROL_BOGUS	(1u << 2)	/* control: impossible recipient */
#define RG_TRICK_CONTROL_NAME	(1u << 3)	/* control: random local part at a local name */

#define RG_TRICK_IS_CONTROL(t) \
	(((t)->flags & (RG_TRICK_CONTROL_LOCAL | RG_TRICK_CONTROL_BOGUS | \
	RG_TRICK_CONTROL_NAME)) != 0)

/*
 * What a trick tests, so grading and fix advice read data, not ids:
 *   CONTROL   a control (C1 baseline, C2 accept-all detector), not a relay test
 *   PLAIN     plain relaying: any client, any sender, a plain outside recipient
 *   SENDER    sender-side: relays because of what MAIL FROM says (the sender
 *             itself is the trick; a refused MAIL means that sender cannot relay)
 *   ROUTING   recipient routing: the recipient form is the trick, the sender
 *             is incidental (a refused MAIL leaves the trick untested)
 *   IDENTITY  who the client claims to be (HELO/EHLO); runs on a fresh session
 *   AFTER_LOCAL  an earlier RCPT of the same transaction names one of the
 *             server's own domains (first_rcpt), and the relay RCPT follows:
 *             an ACL that marks the whole transaction as relaying
 */
enum rg_trick_class {
	RG_CLASS_CONTROL = 0,
	RG_CLASS_PLAIN,
	RG_CLASS_SENDER,
	RG_CLASS_ROUTING,
	RG_CLASS_IDENTITY,
	RG_CLASS_AFTER_LOCAL,
};
#define RG_CLASS_LAST RG_CLASS_AFTER_LOCAL

/* "control", "plain", "sender", "routing", "identity", "after_local" */
const char *rg_trick_class_name(enum rg_trick_class c);

struct rg_trick {
	const char *id;
	const char *helo;	/* NULL: the session's HELO name */
	const char *mail_from;	/* template, the whole argument as sent */
	const char *rcpt_to;	/* template */
	unsigned flags;
	enum rg_trick_class klass;
	const char *anchors;	/* which public testers run it: "nmap,msf" */
	const char *exploits;	/* one line: what a server must do wrong */
	const char *first_rcpt;	/* template of a RCPT sent before rcpt_to in
				 * the same transaction, or NULL */
};

extern const struct rg_trick rg_trick_catalogue[];
extern const size_t rg_trick_count;

const struct rg_trick *rg_trick_find(const char *id);

struct rg_trick_params {
	const char *from_local;		/* {F}, default "relaytest" */
	const char *to_local;		/* {T}, default "relaytest" */
	const char *domain;		/* {D} */
	const char *sender_domain;	/* {D2} */
	const char *ip_literal;		/* {IP} */
	const char *server_name;	/* {SRV} */
	const char *random;		/* {R} */
	const char *second_domain;	/* {D} of rcpt_to_second, or NULL */
};

/* Expand tmpl into out; with local_name non-NULL it replaces {IP} and {SRV}.
 * Returns 0, or -1 when out is too small or a placeholder is unknown/empty. */
int rg_trick_expand(const char *tmpl, const struct rg_trick_params *p,
    const char *local_name, char *out, size_t len);

/* One probe of a battery: a row instantiated for one local name. */
struct rg_probe_spec {
	char id[96];		/* "B1", or "B1@localhost" for a repeat */
	const struct rg_trick *trick;
	char helo[256];		/* "" = session default */
	char mail_from[600];
	char first_rcpt[600];	/* "" = none (trick->first_rcpt NULL) */
	char rcpt_to[600];
	/* rcpt_to towards the second destination ({D} = second_domain); ""
	 * when there is none or rcpt_to does not name {D} */
	char rcpt_to_second[600];
};

/* Build the battery: every row, then the per-name repeats, duplicates
 * dropped. names[] are the extra local names (the row's own {IP}/{SRV}
 * instance comes first). Returns the number of probes (*out allocated). */
size_t rg_battery_build(const struct rg_trick_params *p,
    const char *const *names, size_t nnames, struct rg_probe_spec **out);

#endif

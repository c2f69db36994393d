/*
 * trick.c - the relay-trick catalogue and battery generation; see trick.h.
 *
 * Sources: nmap scripts/smtp-open-relay.nse (16 forms), Metasploit
 * auxiliary/scanner/smtp/smtp_relay (EXTENDED), the DSBL relaytest idea of
 * repeating every routing trick for every local name, and Postfix
 * trivial-rewrite/resolve.c (percent hack, swap_bangpath,
 * resolve_dequoted_address) for why each one can work.
 */
#include "trick.h"
#include "lib/base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PN RG_TRICK_PER_NAME
#define CTL RG_CLASS_CONTROL
#define PLN RG_CLASS_PLAIN
#define SND RG_CLASS_SENDER
#define RTG RG_CLASS_ROUTING
#define IDN RG_CLASS_IDENTITY
#define AFL RG_CLASS_AFTER_LOCAL

/* Sender used with the recipient tricks, as nmap and Metasploit do: a
 * sender at the target itself passes "reject unknown sender domain". */
#define RT_FROM "<{F}@{IP}>"

const struct rg_trick rg_trick_catalogue[] = {
	/* Controls: they tell what a relay "yes" means on this server. */
	{"C1", NULL, "<{F}@{D}>", "<postmaster@{SRV}>", RG_TRICK_CONTROL_LOCAL, CTL, "",
	 "baseline: RFC 5321 4.5.1 requires postmaster to be accepted", NULL},
	{"C2", NULL, "<{F}@{D}>", "<{R}@{R}.invalid>", RG_TRICK_CONTROL_BOGUS, CTL, "",
	 "accept-all detector: a recipient in a domain that cannot exist (RFC 2606 .invalid)", NULL},

	/* Sender-side forms, recipient a plain external address. */
	{"A1", NULL, "<{F}@{D2}>", "<{T}@{D}>", 0, PLN, "nmap,msf",
	 "plain open relay: relays for any client (mynetworks too wide, permit before reject)", NULL},
	{"A2", NULL, "<>", "<{T}@{D}>", 0, SND, "nmap,msf",
	 "null sender let through before the relay check (bounce exemptions)", NULL},
	{"A3", NULL, "<{F}>", "<{T}@{D}>", 0, SND, "msf",
	 "unqualified sender completed with the server's own domain, then trusted", NULL},
	{"A4", NULL, "<{F}@{SRV}>", "<{T}@{D}>", PN, SND, "nmap,msf",
	 "relays when the sender is local (sendmail relay_local_from)", NULL},
	{"A5", NULL, "<{F}@{IP}>", "<{T}@{D}>", PN, SND, "nmap,msf",
	 "sender address literal treated as local", NULL},
	{"A6", NULL, "<{F}@localhost>", "<{T}@{D}>", 0, SND, "msf",
	 "trusts a localhost sender", NULL},
	{"A6b", NULL, "<root@[127.0.0.1]>", "<{T}@{D}>", 0, SND, "",
	 "trusts a loopback-literal sender", NULL},
	{"A7", NULL, "<postmaster@{SRV}>", "<{T}@{D}>", 0, SND, "",
	 "role sender (postmaster) exempted from relay control", NULL},
	{"A7b", NULL, "<mailer-daemon@{SRV}>", "<{T}@{D}>", 0, SND, "",
	 "role sender (mailer-daemon) exempted from relay control", NULL},
	{"A8", NULL, "<{D2}!{F}>", "<{T}@{D}>", 0, SND, "",
	 "UUCP bang-path sender rewritten to a local one", NULL},
	{"A9", NULL, "<{F}@{D2}>", "{T}@{D}", 0, PLN, "msf",
	 "recipient without angle brackets takes a lax parser path", NULL},

	/* Recipient routing tricks. */
	{"B1", NULL, RT_FROM, "<{T}%{D}@{IP}>", PN, RTG, "nmap,msf",
	 "percent hack under a local literal (Postfix allow_percent_hack, sendmail loose_relay_check)", NULL},
	{"B2", NULL, RT_FROM, "<{T}%{D}@{SRV}>", PN, RTG, "nmap,msf",
	 "percent hack under the server's name", NULL},
	{"B3", NULL, RT_FROM, "<\"{T}@{D}\">", 0, RTG, "nmap,msf",
	 "quoted local part dequoted and re-resolved (Postfix resolve_dequoted_address)", NULL},
	{"B4", NULL, RT_FROM, "<\"{T}%{D}\">", 0, RTG, "nmap,msf",
	 "unqualified quoted address, then percent hack (OpenSMTPD 5.7.3)", NULL},
	{"B5", NULL, RT_FROM, "<{T}@{D}@{IP}>", PN, RTG, "nmap,msf",
	 "parser takes the last '@' and routes the rest on", NULL},
	{"B6", NULL, RT_FROM, "<\"{T}@{D}\"@{IP}>", PN, RTG, "nmap,msf",
	 "quoted local part to a local domain routed on", NULL},
	{"B7", NULL, RT_FROM, "<{T}@{D}@{SRV}>", PN, RTG, "nmap,msf",
	 "as B5 under the server's name", NULL},
	{"B8", NULL, RT_FROM, "<@{IP}:{T}@{D}>", PN, RTG, "nmap,msf",
	 "RFC 821 source route through the server", NULL},
	{"B9", NULL, RT_FROM, "<@{SRV}:{T}@{D}>", PN, RTG, "nmap,msf",
	 "source route through the server's name", NULL},
	{"B10", NULL, RT_FROM, "<{D}!{T}>", 0, RTG, "nmap,msf",
	 "UUCP bang path (Postfix swap_bangpath)", NULL},
	{"B11", NULL, RT_FROM, "<{D}!{T}@{IP}>", PN, RTG, "nmap,msf",
	 "bang path under a local literal", NULL},
	{"B12", NULL, RT_FROM, "<{D}!{T}@{SRV}>", PN, RTG, "nmap,msf",
	 "bang path under the server's name", NULL},
	{"B13", NULL, RT_FROM, "<{T}@{D}@>", 0, RTG, "",
	 "empty trailing domain (OpenSMTPD accepted it at RCPT)", NULL},
	{"B14", NULL, RT_FROM, "<{T}%{D}@>", 0, RTG, "",
	 "percent hack with an empty domain", NULL},
	{"B15", NULL, RT_FROM, "<\"{T}%{D}\"@{IP}>", PN, RTG, "",
	 "quoted percent hack under a local literal", NULL},
	{"B16", NULL, RT_FROM, "<{T}%{D}>", 0, RTG, "",
	 "unqualified percent hack, completed with the server's own domain", NULL},

	/* Session variations. */
	{"S1", "{SRV}", "<{F}@{D2}>", "<{T}@{D}>", PN, IDN, "",
	 "trusts a client whose HELO names the server itself", NULL},
	{"S2", "{D}", "<{F}@{D2}>", "<{T}@{D}>", 0, IDN, "nmap",
	 "trusts a client whose HELO names the recipient's (victim) domain", NULL},

	/* Control per local name: a random local part at each name. Where it
	 * is accepted, the name takes any local part, and a routing trick
	 * under it cannot be told from local delivery (Courier, Haraka). */
	{"C3", NULL, "<{F}@{D}>", "<{R}@{IP}>", PN | RG_TRICK_CONTROL_NAME, CTL, "",
	 "any-local-part control: a random local part at a name the server may treat as local", NULL},

	/* Relay after a local recipient: one transaction, RCPT postmaster at
	 * a local name (RFC 5321 4.5.1 requires it), then the relay RCPT.
	 * Graded on the second RCPT alone; a refused first one leaves it a
	 * plain probe, never a weaker one. */
	{"L1", NULL, "<{F}@{D2}>", "<{T}@{D}>", PN, AFL, "",
	 "relays once an earlier RCPT of the transaction named a local domain (Haraka "
	 "relay dest_domains, an ACL that marks the whole transaction as relaying)",
	 "<postmaster@{SRV}>"},
};

const size_t rg_trick_count = RG_NELEM(rg_trick_catalogue);

const char *rg_trick_class_name(enum rg_trick_class c)
{
	static const char *const n[] = {"control", "plain", "sender", "routing",
	    "identity", "after_local"};

	return (size_t)c < RG_NELEM(n) ? n[c] : "control";
}

const struct rg_trick *rg_trick_find(const char *id)
{
	for (size_t i = 0; i < rg_trick_count; i++)
		if (strcmp(rg_trick_catalogue[i].id, id) == 0)
			return &rg_trick_catalogue[i];
	return NULL;
}

static const char *placeholder_value(const char *name, size_t nlen,
    const struct rg_trick_params *p, const char *local_name)
{
#define IS(s) (nlen == sizeof(s) - 1 && memcmp(name, s, nlen) == 0)
	if (IS("F"))
		return p->from_local ? p->from_local : "relaytest";
	if (IS("T"))
		return p->to_local ? p->to_local : "relaytest";
	if (IS("D"))
		return p->domain;
	if (IS("D2"))
		return p->sender_domain ? p->sender_domain : p->domain;
	if (IS("IP"))
		return local_name ? local_name : p->ip_literal;
	if (IS("SRV"))
		return local_name ? local_name : p->server_name;
	if (IS("R"))
		return p->random;
#undef IS
	return NULL;
}

int rg_trick_expand(const char *tmpl, const struct rg_trick_params *p,
    const char *local_name, char *out, size_t len)
{
	size_t o = 0;

	for (const char *s = tmpl; *s; s++) {
		const char *val;
		char one[2] = {*s, '\0'};

		if (*s == '{') {
			const char *end = strchr(s, '}');

			if (end == NULL)
				return -1;
			val = placeholder_value(s + 1, (size_t)(end - s - 1), p, local_name);
			if (val == NULL || *val == '\0')
				return -1;
			s = end;
		} else {
			val = one;
		}
		size_t vlen = strlen(val);

		if (o + vlen >= len)
			return -1;
		memcpy(out + o, val, vlen);
		o += vlen;
	}
	if (o >= len)
		return -1;
	out[o] = '\0';
	return 0;
}

static bool battery_has(const struct rg_probe_spec *v, size_t n,
    const struct rg_probe_spec *c)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].helo, c->helo) == 0 &&
		    strcmp(v[i].mail_from, c->mail_from) == 0 &&
		    strcmp(v[i].first_rcpt, c->first_rcpt) == 0 &&
		    strcmp(v[i].rcpt_to, c->rcpt_to) == 0)
			return true;
	return false;
}

/*
 * The relay recipient towards the second destination: {D} replaced by the
 * second domain, the rest as for the first. Only relay rows whose recipient
 * names {D} have one; the sender keeps {D2} as it was.
 */
static void second_rcpt(const struct rg_trick *t, const struct rg_trick_params *p,
    const char *local_name, struct rg_probe_spec *c)
{
	struct rg_trick_params q = *p;

	c->rcpt_to_second[0] = '\0';
	if (p->second_domain == NULL || *p->second_domain == '\0' ||
	    RG_TRICK_IS_CONTROL(t) || strstr(t->rcpt_to, "{D}") == NULL)
		return;
	q.domain = p->second_domain;
	if (rg_trick_expand(t->rcpt_to, &q, local_name, c->rcpt_to_second,
	    sizeof(c->rcpt_to_second)) != 0)
		c->rcpt_to_second[0] = '\0';
}

static bool probe_instantiate(const struct rg_trick *t,
    const struct rg_trick_params *p, const char *local_name,
    struct rg_probe_spec *c)
{
	memset(c, 0, sizeof(*c));
	c->trick = t;
	if (local_name)
		snprintf(c->id, sizeof(c->id), "%s@%s", t->id, local_name);
	else
		strlcpy_rg(c->id, t->id, sizeof(c->id));
	/* The local name goes where the trick is: into the recipient of a
	 * routing trick (its sender stays "<F@[IP]>") or the first recipient
	 * of an after-local one, else into the sender and HELO. */
	bool in_rcpt = strstr(t->rcpt_to, "{IP}") || strstr(t->rcpt_to, "{SRV}") ||
	    t->first_rcpt != NULL;
	const char *name_from = in_rcpt ? NULL : local_name;

	if (t->helo && rg_trick_expand(t->helo, p, name_from, c->helo,
	    sizeof(c->helo)) != 0)
		return false;
	if (t->first_rcpt && rg_trick_expand(t->first_rcpt, p, local_name,
	    c->first_rcpt, sizeof(c->first_rcpt)) != 0)
		return false;
	if (rg_trick_expand(t->mail_from, p, name_from, c->mail_from,
	    sizeof(c->mail_from)) != 0 ||
	    rg_trick_expand(t->rcpt_to, p, local_name, c->rcpt_to,
	    sizeof(c->rcpt_to)) != 0)
		return false;
	second_rcpt(t, p, local_name, c);
	return true;
}

size_t rg_battery_build(const struct rg_trick_params *p,
    const char *const *names, size_t nnames, struct rg_probe_spec **out)
{
	size_t cap = rg_trick_count * (nnames + 1), n = 0;
	struct rg_probe_spec *v = xcalloc(cap, sizeof(*v));
	struct rg_probe_spec cand;

	/* Every row as written first, so the familiar ids keep their forms. */
	for (size_t i = 0; i < rg_trick_count; i++) {
		if (probe_instantiate(&rg_trick_catalogue[i], p, NULL, &cand) &&
		    !battery_has(v, n, &cand))
			v[n++] = cand;
	}
	/* Then the per-name repeats. */
	for (size_t k = 0; k < nnames; k++) {
		if (names[k] == NULL || *names[k] == '\0')
			continue;
		for (size_t i = 0; i < rg_trick_count; i++) {
			const struct rg_trick *t = &rg_trick_catalogue[i];

			if (!(t->flags & RG_TRICK_PER_NAME))
				continue;
			if (probe_instantiate(t, p, names[k], &cand) &&
			    !battery_has(v, n, &cand))
				v[n++] = cand;
		}
	}
	*out = v;
	return n;
}

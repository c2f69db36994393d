/*
 * fingerprint.c - which MTA is this, and what exactly should its admin
 * change. The fingerprint reads the banner and EHLO text (identification is
 * the one place where text is all there is); the remedy is written from each
 * MTA's own documentation: Postfix postconf(5) and SMTPD_ACCESS_README,
 * sendmail cf/README ("anti-spam configuration control"), the Exim
 * specification ("Access control lists", default configure), OpenSMTPD
 * smtpd.conf(5), and Microsoft's Exchange Server receive connector docs.
 */
#include "audit.h"
#include "relayguard/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool has(const char *hay, const char *needle)
{
	return hay && strcasestr(hay, needle) != NULL;
}

enum mta_kind mta_fingerprint(const char *banner, const char *ehlo_text)
{
	static const struct { const char *needle; enum mta_kind kind; } table[] = {
		{"Postfix", MTA_POSTFIX},
		{"Sendmail", MTA_SENDMAIL},
		{"Exim", MTA_EXIM},
		{"OpenSMTPD", MTA_OPENSMTPD},
		{"Microsoft ESMTP MAIL Service", MTA_EXCHANGE},
		{"Microsoft Exchange", MTA_EXCHANGE},
	};

	for (size_t i = 0; i < RG_NELEM(table); i++)
		if (has(banner, table[i].needle) || has(ehlo_text, table[i].needle))
			return table[i].kind;
	return MTA_UNKNOWN;
}

const char *mta_name(enum mta_kind m)
{
	static const char *const n[] = {"unknown", "Postfix", "sendmail", "Exim",
	    "OpenSMTPD", "Microsoft Exchange"};

	return (size_t)m < RG_NELEM(n) ? n[m] : "unknown";
}

/* What kind of hole was found: decides which extra lines the fix needs. */
struct holes {
	bool plain;		/* A1: any sender, plain recipient */
	bool sender_based;	/* A2-A8 accepted while A1 was refused */
	bool routing;		/* B*: routing operators in the recipient */
	bool helo_based;	/* S1 */
};

static struct holes find_holes(const struct audit_target *t)
{
	struct holes h = {0};

	for (size_t i = 0; i < t->nprobes; i++) {
		const struct audit_probe *p = &t->probes[i];
		const char *id = p->spec.trick->id;

		if (p->outcome != OUT_ACCEPTED || !probe_is_relay(p))
			continue;
		if (strcmp(id, "A1") == 0 || strcmp(id, "A9") == 0)
			h.plain = true;
		else if (id[0] == 'A')
			h.sender_based = true;
		else if (id[0] == 'B')
			h.routing = true;
		else if (id[0] == 'S')
			h.helo_based = true;
	}
	if (h.plain)	/* everything else follows from the plain hole */
		h.sender_based = h.routing = h.helo_based = false;
	return h;
}

static void line(FILE *out, const char *indent, const char *s)
{
	fprintf(out, "%s%s\n", indent, s);
}

static void remedy_postfix(const struct holes *h, FILE *out, const char *in)
{
	line(out, in, "# /etc/postfix/main.cf - trust only your own networks:");
	line(out, in, "mynetworks = 127.0.0.1/32 [::1]/128   # plus your own LAN; never 0.0.0.0/0");
	line(out, in, "smtpd_relay_restrictions = permit_mynetworks,");
	line(out, in, "    permit_sasl_authenticated, reject_unauth_destination");
	line(out, in, "allow_untrusted_routing = no");
	if (h->routing) {
		line(out, in, "# routing tricks were accepted: also stop local rewriting");
		line(out, in, "allow_percent_hack = no");
		line(out, in, "swap_bangpath = no");
		line(out, in, "resolve_dequoted_address = no");
	}
	if (h->sender_based || h->helo_based)
		line(out, in, "# remove check_sender_access/check_helo_access OK or permit_* "
		    "entries that come before reject_unauth_destination");
	line(out, in, "# then: postfix reload; review: postconf -n | grep -E "
	    "'mynetworks|relay|restrictions'");
}

static void remedy_sendmail(const struct holes *h, FILE *out, const char *in)
{
	line(out, in, "dnl sendmail.mc - remove open-relay features, then rebuild sendmail.cf:");
	line(out, in, "dnl   FEATURE(`promiscuous_relay')     (relays for anyone)");
	line(out, in, "dnl   FEATURE(`relay_based_on_MX')");
	if (h->sender_based || h->plain)
		line(out, in, "dnl   FEATURE(`relay_local_from')      (trusts forged local senders)");
	if (h->routing || h->plain)
		line(out, in, "dnl   FEATURE(`loose_relay_check')     (percent hack)");
	line(out, in, "# /etc/mail/access: RELAY only for your own networks, e.g.");
	line(out, in, "Connect:127.0.0.1    RELAY");
	line(out, in, "# and no 'From:... RELAY' entries; /etc/mail/relay-domains: only");
	line(out, in, "# domains you really relay for. Then: make -C /etc/mail; restart sendmail");
}

static void remedy_exim(const struct holes *h, FILE *out, const char *in)
{
	line(out, in, "# exim configure - relay only from your hosts or after AUTH:");
	line(out, in, "hostlist relay_from_hosts = <; 127.0.0.1 ; ::1");
	line(out, in, "domainlist relay_to_domains =");
	line(out, in, "# in acl_check_rcpt, before any accept for outside domains:");
	line(out, in, "accept  hosts = +relay_from_hosts");
	line(out, in, "accept  authenticated = *");
	line(out, in, "require message = relay not permitted");
	line(out, in, "        domains = +local_domains : +relay_to_domains");
	if (h->routing || h->plain)
		line(out, in, "# and leave percent_hack_domains unset");
}

static void remedy_opensmtpd(const struct holes *h, FILE *out, const char *in)
{
	(void)h;
	line(out, in, "# smtpd.conf - relay only for local or authenticated senders:");
	line(out, in, "match from local for any action \"outbound\"");
	line(out, in, "match auth from any for any action \"outbound\"");
	line(out, in, "match from any for domain <localdomains> action \"local\"");
	line(out, in, "# and delete any 'match from any for any action \"outbound\"' rule");
}

static void remedy_exchange(const struct holes *h, FILE *out, const char *in)
{
	(void)h;
	line(out, in, "# Exchange Management Shell - find connectors that let anonymous");
	line(out, in, "# senders relay, and remove that right:");
	line(out, in, "Get-ReceiveConnector | Get-ADPermission -User \"NT AUTHORITY\\ANONYMOUS LOGON\" |");
	line(out, in, "  Where-Object {$_.ExtendedRights -like \"ms-Exch-SMTP-Accept-Any-Recipient\"}");
	line(out, in, "Remove-ADPermission -Identity \"<connector>\" -User \"NT AUTHORITY\\ANONYMOUS LOGON\"");
	line(out, in, "  -ExtendedRights \"Ms-Exch-SMTP-Accept-Any-Recipient\"");
	line(out, in, "# a relay connector must list only your hosts in -RemoteIPRanges");
}

static void remedy_unknown(const struct holes *h, FILE *out, const char *in)
{
	(void)h;
	line(out, in, "# The MTA could not be identified. In its configuration:");
	line(out, in, "# - relay only for your own networks and authenticated (SMTP AUTH) users;");
	line(out, in, "# - for everybody else accept only recipients in your own domains;");
	line(out, in, "# - refuse routing operators (%, !, extra @, source routes) in recipients.");
}

void mta_remedy(const struct audit_target *t, FILE *out, const char *indent)
{
	struct holes h = find_holes(t);

	if (h.plain)
		line(out, indent, "# found: relays plain outside mail for this client "
		    "(trusted networks too wide, or a permit before the relay check)");
	if (h.sender_based)
		line(out, indent, "# found: relays when the sender looks local or is null");
	if (h.routing)
		line(out, indent, "# found: relays through routing operators in the recipient");
	if (h.helo_based)
		line(out, indent, "# found: relays for a client whose HELO names the server");
	switch (t->mta) {
	case MTA_POSTFIX: remedy_postfix(&h, out, indent); break;
	case MTA_SENDMAIL: remedy_sendmail(&h, out, indent); break;
	case MTA_EXIM: remedy_exim(&h, out, indent); break;
	case MTA_OPENSMTPD: remedy_opensmtpd(&h, out, indent); break;
	case MTA_EXCHANGE: remedy_exchange(&h, out, indent); break;
	case MTA_UNKNOWN: remedy_unknown(&h, out, indent); break;
	}
}

char *mta_remedy_string(const struct audit_target *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return xstrdup("");
	mta_remedy(t, f, "");
	fclose(f);
	return buf;
}

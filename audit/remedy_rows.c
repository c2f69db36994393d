/*
 * remedy_rows.c - the fix advice as data, one row per (MTA, hole class);
 * see remedy.c for how rows are chosen and where each is proven.
 */
#include "remedy_impl.h"
#include "lib/base/util.h"

static const char FOUND_PLAIN[] = "relays plain outside mail for this client "
    "(trusted networks too wide, or a permit before the relay check)";
static const char FOUND_SENDER[] = "relays when the sender looks local "
    "(its own domains, localhost, its address literal) or is null";
static const char FOUND_ROUTING[] = "relays through routing operators in the "
    "recipient (%, !, extra @, source routes) under its own names";
static const char FOUND_IDENTITY[] = "relays for a client whose HELO/EHLO names "
    "the server itself (or localhost)";
static const char FOUND_AFTER_LOCAL[] = "relays once an earlier recipient of the "
    "same transaction is local: the relay decision is made for the whole "
    "transaction, not per recipient";

const char *found_text(int c)
{
	static const char *const f[] = {[PLAIN] = FOUND_PLAIN, [SENDER] = FOUND_SENDER,
	    [ROUTING] = FOUND_ROUTING, [IDENTITY] = FOUND_IDENTITY,
	    [AFTER_LOCAL] = FOUND_AFTER_LOCAL};

	return c > 0 && c <= RG_CLASS_LAST ? f[c] : FOUND_PLAIN;
}

#define PF_AGAIN "; then postfix reload and audit again from outside: relayguard-audit HOST"
#define PF_CHECK "postconf -n | grep -E 'mynetworks|relay|restrictions'" PF_AGAIN
/* The audit sees only SMTP: each check lists every setting that can hold
 * the hole found, with effective values (postconf NAME: mynetworks as
 * mynetworks_style computes it) and the master.cf overrides (postconf -P),
 * which beat main.cf. */
#define PF_CHECK_PLAIN "postconf mynetworks mynetworks_style; " \
	"postconf -n | grep -E '_restrictions|check_client_|check_reverse_client_'; " \
	"postconf -P | grep -E '/(mynetworks|mynetworks_style|smtpd_[a-z]+_restrictions) '" PF_AGAIN
#define PF_CHECK_SENDER "postconf -n | grep -E " \
	"'_restrictions|check_sender_|smtpd_null_access_lookup_key'; " \
	"postconf -P | grep -E '_restrictions '" PF_AGAIN
#define PF_CHECK_HELO "postconf -n | grep -E '_restrictions|check_helo_|smtpd_helo_required'; " \
	"postconf -P | grep -E '_restrictions '" PF_AGAIN
/* An -o override of master.cf, as the deleted line's text (leading white
 * space cut, so never the service line itself); "-o { name = value }" too. */
#define PF_OVERRIDE(names) "^-o[[:space:]]*\\{?[[:space:]]*(" names ")[[:space:]]*="
/* ... of smtpd_relay_restrictions, empty (smtpd_recipient_restrictions
 * decides alone) or holding one of the permits in PERMITS */
#define PF_RELAY_OVERRIDE(permits) PF_OVERRIDE("smtpd_relay_restrictions") \
	"([[:space:]]*\\}?[[:space:]]*$|[[:space:]]*(.*[,[:space:]])?(" permits "))"
#define PF_MASTER_NOTE "an -o override of the smtp service in master.cf beats " \
	"main.cf (postconf -P lists them): delete it and the service uses main.cf's " \
	"list above (postconf -PX SERVICE/inet/NAME does the same); a submission " \
	"service's own list that ends in reject is no hole"
#define SM_CHECK "make -C /etc/mail && systemctl restart sendmail; " \
	"then audit again from outside: relayguard-audit HOST"
#define EX_CHECK "update-exim4.conf && systemctl restart exim4; exim4 -bV; " \
	"then audit again from outside: relayguard-audit HOST"
#define HK_CHECK "haraka -c /etc/haraka -o"
#define CR_CHECK "cd /etc/courier && /usr/lib/courier/makedat -src=smtpaccess " \
	"-file=smtpaccess.dat -tmp=smtpaccess.tmp -cidr && /usr/lib/courier/makedat " \
	"-src=esmtpacceptmailfor.dir -file=esmtpacceptmailfor.dat " \
	"-tmp=esmtpacceptmailfor.tmp"
#define OS_CHECK "smtpd -n (syntax), systemctl restart opensmtpd; " \
	"then audit again from outside: relayguard-audit HOST"

/* A first octet other than 127: Debian's stock access file relays for
 * Connect:127 (loopback), which is no hole. */
#define SM_OCTET1 "([0-9]|[1-9][0-9]|1[013-9][0-9]|12[0-689]|[2-9][0-9][0-9])"
#define OS_RELAY_RULE "^match[[:space:]].*action[[:space:]]+\"relay\""
#define OS_LOCAL "match from any for local action \"local\""
#define OS_RELAY "match from local for any action \"relay\""

const struct remedy_row remedy_rows[] = {
	/* ---- Postfix: main.cf, postconf -e applies each line; the new
	 * smtpd_relay_restrictions denies relaying whatever the
	 * smtpd_recipient_restrictions after it permit. Then the master.cf
	 * overrides that would keep the hole. Proven on real Postfix with each
	 * hole in main.cf and in master.cf: tests/integration/600_remedy_postfix.sh,
	 * 630_remedy_postfix_holes.sh ---- */
	{MTA_POSTFIX, true, {PLAIN, FOUND_PLAIN, "/etc/postfix/main.cf", {NULL},
	    {"mynetworks = 127.0.0.1/32 [::1]/128",
	     "smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, "
	     "reject_unauth_destination",
	     "allow_untrusted_routing = no", NULL},
	    PF_CHECK_PLAIN, "trust only your own networks: add your LAN to mynetworks, "
	    "never a /8 you do not own or 0.0.0.0/0; with mynetworks unset, "
	    "mynetworks_style = subnet trusts every network of every interface; "
	    "the new smtpd_relay_restrictions replaces yours: a permit of yours "
	    "(check_client_access OK, permit_tls_all_clientcerts, permit) goes "
	    "after reject_unauth_destination or away", {NULL}, REMEDY_UNIT_LINE}},
	{MTA_POSTFIX, true, {PLAIN, FOUND_PLAIN, "/etc/postfix/master.cf",
	    {PF_OVERRIDE("mynetworks|mynetworks_style"),
	     PF_RELAY_OVERRIDE("check_(reverse_)?client_|permit_tls_all_clientcerts|"
	     "permit([,[:space:]]|$)"), NULL},
	    {NULL}, PF_CHECK_PLAIN, PF_MASTER_NOTE,
	    {"-o mynetworks=0.0.0.0/0", "-o smtpd_relay_restrictions=permit", NULL},
	    REMEDY_UNIT_LINE}},
	{MTA_POSTFIX, true, {SENDER, FOUND_SENDER, "/etc/postfix/main.cf", {NULL},
	    {"smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, "
	     "reject_unauth_destination", NULL},
	    PF_CHECK_SENDER, "check_sender_access (or check_sender_mx_access, "
	    "_ns_access, _a_access, a restriction class using them) whose map "
	    "answers OK or RELAY for a sender (postmap -s hash:FILE | grep -wE "
	    "'OK|RELAY'), or for <> (smtpd_null_access_lookup_key), relays for "
	    "anyone who forges that sender: the new smtpd_relay_restrictions "
	    "leaves it out; in smtpd_recipient_restrictions move it after "
	    "reject_unauth_destination", {NULL}, REMEDY_UNIT_LINE}},
	{MTA_POSTFIX, true, {SENDER, FOUND_SENDER, "/etc/postfix/master.cf",
	    {PF_RELAY_OVERRIDE("check_sender_"), NULL}, {NULL}, PF_CHECK_SENDER,
	    PF_MASTER_NOTE, {"-o smtpd_relay_restrictions=permit_mynetworks,"
	    "check_sender_access,hash:/etc/postfix/relay_senders,reject_unauth_destination",
	    NULL}, REMEDY_UNIT_LINE}},
	{MTA_POSTFIX, true, {ROUTING, FOUND_ROUTING, "/etc/postfix/main.cf", {NULL},
	    {"smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, "
	     "reject_unauth_destination",
	     "allow_untrusted_routing = no", "allow_percent_hack = no",
	     "swap_bangpath = no", "resolve_dequoted_address = no", NULL},
	    PF_CHECK, "stop local rewriting of routing operators", {NULL}, REMEDY_UNIT_LINE}},
	{MTA_POSTFIX, true, {IDENTITY, FOUND_IDENTITY, "/etc/postfix/main.cf", {NULL},
	    {"smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, "
	     "reject_unauth_destination", NULL},
	    PF_CHECK_HELO, "check_helo_access (or check_helo_mx_access, _ns_access, "
	    "_a_access) whose map answers OK for a name relays for anyone who says "
	    "that name in HELO/EHLO: the new smtpd_relay_restrictions leaves it "
	    "out; in smtpd_recipient_restrictions move it after "
	    "reject_unauth_destination", {NULL}, REMEDY_UNIT_LINE}},
	{MTA_POSTFIX, true, {IDENTITY, FOUND_IDENTITY, "/etc/postfix/master.cf",
	    {PF_RELAY_OVERRIDE("check_helo_"), NULL}, {NULL}, PF_CHECK_HELO,
	    PF_MASTER_NOTE, {"-o smtpd_relay_restrictions=permit_mynetworks,"
	    "check_helo_access,hash:/etc/postfix/helo_ok,reject_unauth_destination",
	    NULL}, REMEDY_UNIT_LINE}},

	/* ---- sendmail: Debian /etc/mail/sendmail.mc and the access db ---- */
	{MTA_SENDMAIL, true, {PLAIN, FOUND_PLAIN, "/etc/mail/sendmail.mc",
	    {"FEATURE\\(.?promiscuous_relay", "FEATURE\\(.?relay_based_on_MX",
	     "FEATURE\\(.?relay_entire_domain", NULL},
	    {NULL}, SM_CHECK, "FEATURE(`promiscuous_relay') relays for anyone; "
	    "relay only for the hosts in the access db (Connect:... RELAY) and "
	    "/etc/mail/relay-domains",
	    {"FEATURE(`promiscuous_relay')", "FEATURE(`relay_based_on_MX')",
	     "FEATURE(`relay_entire_domain')", NULL}, REMEDY_UNIT_M4}},
	{MTA_SENDMAIL, true, {PLAIN, FOUND_PLAIN, "/etc/mail/access",
	    {"^(Connect:)?(0\\.0\\.0\\.0|" SM_OCTET1 "|" SM_OCTET1 "\\.[0-9]{1,3})[[:space:]]+RELAY",
	     NULL},
	    {"Connect:127.0.0.1\tRELAY", NULL}, SM_CHECK,
	    "RELAY only for your own hosts and networks, never a /8 or wider", {NULL}, REMEDY_UNIT_LINE}},
	{MTA_SENDMAIL, true, {SENDER, FOUND_SENDER, "/etc/mail/sendmail.mc",
	    {"FEATURE\\(.?relay_local_from", "FEATURE\\(.?relay_mail_from", NULL},
	    {NULL}, SM_CHECK, "FEATURE(`relay_local_from') and FEATURE(`relay_mail_from') "
	    "relay when MAIL FROM names a local domain, which anyone can forge",
	    {"FEATURE(`relay_local_from')", "FEATURE(`relay_mail_from')", NULL},
	    REMEDY_UNIT_M4}},
	{MTA_SENDMAIL, true, {SENDER, FOUND_SENDER, "/etc/mail/access",
	    {"^From:.*[[:space:]]RELAY", NULL}, {NULL}, SM_CHECK,
	    "no From: entries with RELAY (used by relay_mail_from)", {NULL}, REMEDY_UNIT_LINE}},
	{MTA_SENDMAIL, true, {ROUTING, FOUND_ROUTING, "/etc/mail/sendmail.mc",
	    {"FEATURE\\(.?loose_relay_check", NULL}, {NULL}, SM_CHECK,
	    "FEATURE(`loose_relay_check') stops check_rcpt from stripping @yourhost "
	    "off user%site@yourhost and re-checking user@site for relaying; it does "
	    "not relay by itself, but lets a percent-hack recipient past the relay "
	    "check", {"FEATURE(`loose_relay_check')", NULL}, REMEDY_UNIT_M4}},
	{MTA_SENDMAIL, true, {IDENTITY, FOUND_IDENTITY, "/etc/mail/access",
	    {"^Connect:[A-Za-z][-.A-Za-z0-9]*[[:space:]]+RELAY", NULL},
	    {"Connect:127.0.0.1\tRELAY", NULL}, SM_CHECK,
	    "RELAY by address, not by a host name a client can claim", {NULL}, REMEDY_UNIT_LINE}},

	/* ---- Exim: Debian exim4 (split or unsplit). Each ERE deletes a whole
	 * statement: an ACL statement's continuation lines left behind would
	 * join the statement before it, silently (a "control = submission" so
	 * moved applies to outside mail). ---- */
	{MTA_EXIM, true, {PLAIN, FOUND_PLAIN,
	    "/etc/exim4/conf.d/main/01_exim4-config_listmacrosdefs (unsplit: "
	    "/etc/exim4/exim4.conf.template; a hand-written configure: its main section)",
	    {"^hostlist[[:space:]]+relay_from_hosts[[:space:]]*=", NULL},
	    {"hostlist relay_from_hosts = <; 127.0.0.1 ; ::1", NULL}, EX_CHECK,
	    "on Debian relay_from_hosts comes from dc_relay_nets: also set "
	    "dc_relay_nets='' in /etc/exim4/update-exim4.conf.conf (your LAN, "
	    "never 0.0.0.0/0 or *)", {"hostlist relay_from_hosts = *", NULL},
	    REMEDY_UNIT_EXIM}},
	{MTA_EXIM, true, {SENDER, FOUND_SENDER,
	    "/etc/exim4/conf.d/acl/30_exim4-config_check_rcpt (unsplit: "
	    "/etc/exim4/exim4.conf.template)",
	    /* not "senders = ${if exists{CONFDIR/local_sender_whitelist}...": the
	     * whitelists of Debian's acl_local_deny_exceptions */
	    {"^accept[[:space:]]+senders[[:space:]]*=[[:space:]]*[^$[:space:]]", NULL},
	    {NULL}, EX_CHECK,
	    "no accept by sender (senders = *@+local_domains) before the relay "
	    "check in acl_check_rcpt: anyone can forge a local sender",
	    {"accept senders = *@+local_domains", NULL}, REMEDY_UNIT_EXIM}},
	{MTA_EXIM, true, {ROUTING, FOUND_ROUTING,
	    "/etc/exim4/conf.d/main/02_exim4-config_options (unsplit: "
	    "/etc/exim4/exim4.conf.template; a hand-written configure: its main section)",
	    {"^percent_hack_domains[[:space:]]*=", NULL}, {NULL}, EX_CHECK,
	    "percent_hack_domains rewrites user%site@yourdomain to user@site and "
	    "sends it on; Debian leaves it unset", {"percent_hack_domains = *", NULL},
	    REMEDY_UNIT_EXIM}},
	{MTA_EXIM, true, {ROUTING, FOUND_ROUTING,
	    "/etc/exim4/conf.d/acl/30_exim4-config_check_rcpt (unsplit: "
	    "/etc/exim4/exim4.conf.template; a hand-written configure: acl_check_rcpt)",
	    {NULL},
	    {"deny    domains = +local_domains",
	     "        local_parts = ^[.] : ^.*[@%!/|]",
	     "        message = restricted characters in address", NULL}, EX_CHECK,
	    "in acl_check_rcpt before any accept for outside domains (Exim's default "
	    "configure has it; on Debian CHECK_RCPT_LOCAL_LOCALPARTS, which must "
	    "keep '%'); also remove any router that re-resolves '%' in local parts",
	    {NULL}, REMEDY_UNIT_EXIM}},
	{MTA_EXIM, true, {IDENTITY, FOUND_IDENTITY,
	    "/etc/exim4/conf.d/acl/30_exim4-config_check_rcpt (unsplit: "
	    "/etc/exim4/exim4.conf.template)",
	    {"^accept[[:space:]].*sender_helo_name", NULL}, {NULL}, EX_CHECK,
	    "no accept on $sender_helo_name before the relay check: the client "
	    "chooses its HELO name",
	    {"accept condition = ${if eq{$sender_helo_name}{$primary_hostname}}", NULL},
	    REMEDY_UNIT_EXIM}},

	/* ---- OpenSMTPD: Debian's default /etc/smtpd.conf (actions "local" and
	 * "relay"); first match wins, so every relay rule goes, with its
	 * continuation lines, and the two safe ones are re-added ---- */
	{MTA_OPENSMTPD, true, {PLAIN, FOUND_PLAIN, "/etc/smtpd.conf",
	    {OS_RELAY_RULE, NULL}, {OS_LOCAL, OS_RELAY, NULL}, OS_CHECK,
	    "relay only from local; keep any match from any for domain \"...\" "
	    "action \"local\" lines for the domains you receive",
	    {"match from any for any action \"relay\"", NULL}, REMEDY_UNIT_SMTPD}},
	{MTA_OPENSMTPD, true, {SENDER, FOUND_SENDER, "/etc/smtpd.conf",
	    {OS_RELAY_RULE, NULL}, {OS_LOCAL, OS_RELAY, NULL}, OS_CHECK,
	    "no match mail-from ... action \"relay\": anyone can forge the sender",
	    {"match from any mail-from \"@site.example\" for any action \"relay\"", NULL},
	    REMEDY_UNIT_SMTPD}},
	{MTA_OPENSMTPD, true, {ROUTING, FOUND_ROUTING, "/etc/smtpd.conf",
	    {OS_RELAY_RULE, NULL}, {OS_LOCAL, OS_RELAY, NULL}, OS_CHECK,
	    "relay rules only from local; update OpenSMTPD if it accepts "
	    "\"user%remote\" forms (fixed after 5.7.3)", {NULL}, REMEDY_UNIT_SMTPD}},
	{MTA_OPENSMTPD, true, {IDENTITY, FOUND_IDENTITY, "/etc/smtpd.conf",
	    {OS_RELAY_RULE, NULL}, {OS_LOCAL, OS_RELAY, NULL}, OS_CHECK,
	    "no match helo ... action \"relay\": the client chooses its HELO name",
	    {"match from any helo \"mail.site.example\" for any action \"relay\"", NULL},
	    REMEDY_UNIT_SMTPD}},

	/* ---- no test server: principle and where to look, not verified ---- */
	{MTA_EXCHANGE, false, {PLAIN, FOUND_PLAIN, "Exchange receive connectors",
	    {NULL}, {NULL},
	    "Get-ReceiveConnector | Get-ADPermission -User \"NT AUTHORITY\\ANONYMOUS LOGON\" "
	    "| Where-Object {$_.ExtendedRights -like \"ms-Exch-SMTP-Accept-Any-Recipient\"}",
	    "remove Ms-Exch-SMTP-Accept-Any-Recipient for ANONYMOUS LOGON (Remove-ADPermission); "
	    "a relay connector must list only your hosts in -RemoteIPRanges", {NULL}, REMEDY_UNIT_LINE}},
	{MTA_QMAIL, false, {PLAIN, FOUND_PLAIN, "/var/qmail/control/rcpthosts, "
	    "/etc/tcp.smtp", {NULL}, {NULL},
	    "tcprules /etc/tcp.smtp.cdb /etc/tcp.smtp.tmp < /etc/tcp.smtp; ls -l /var/qmail/control/rcpthosts",
	    "rcpthosts must exist and list only your domains; RELAYCLIENT=\"\" only for "
	    "your own networks in tcp.smtp", {NULL}, REMEDY_UNIT_LINE}},
	/* ---- Haraka 3.3 (npm; haraka -c /etc/haraka): the relay plugin opens
	 * it with [relay] all=true (everyone), dest_domains=true (a local
	 * recipient marks the transaction as relaying) or acl=true with a
	 * network too wide in relay_acl_allow. force_routing grants no
	 * relaying. haraka -o loads every plugin with the new files. ---- */
	{MTA_HARAKA, true, {PLAIN, FOUND_PLAIN, "/etc/haraka/config/relay.ini",
	    {"^[[:space:]]*(all|dest_domains)[[:space:]]*=[[:space:]]*(true|yes|on|1)"
	     "[[:space:]]*$", NULL},
	    {NULL}, HK_CHECK,
	    "under [relay] keep acl=true and nothing that relays for everyone "
	    "(all=true) or for whoever first names a local recipient (dest_domains); "
	    "then restart Haraka", {"all=true", "dest_domains=true", NULL}, REMEDY_UNIT_LINE}},
	{MTA_HARAKA, false, {AFTER_LOCAL, FOUND_AFTER_LOCAL, "/etc/haraka/config/relay.ini",
	    {"^[[:space:]]*dest_domains[[:space:]]*=[[:space:]]*(true|yes|on|1)[[:space:]]*$",
	     NULL}, {NULL}, HK_CHECK,
	    "relay plugin dest_domains: an entry with action \"continue\" marks the whole "
	    "transaction as relaying once one recipient is in that domain; give your own "
	    "domains action \"accept\" (or list them in host_list) and turn dest_domains "
	    "off unless you route other domains on", {"dest_domains=true", NULL},
	    REMEDY_UNIT_LINE}},
	{MTA_HARAKA, true, {PLAIN, FOUND_PLAIN, "/etc/haraka/config/relay_acl_allow",
	    {"^[[:space:]]*(0\\.0\\.0\\.0/0|::/0|[0-9.]+/([0-9]|1[0-5])|[0-9a-fA-F:]+/([0-9]|[1-3][0-9]|4[0-7]))"
	     "[[:space:]]*$", NULL},
	    {"127.0.0.1/32", NULL}, HK_CHECK,
	    "only your own hosts and networks, never 0.0.0.0/0 or a /8",
	    {"127.0.0.0/8", "0.0.0.0/0", NULL}, REMEDY_UNIT_LINE}},
	/* ---- Courier (Debian 1.0.16): smtpaccess/default sets RELAYCLIENT per
	 * address prefix; "*" or a one-octet prefix (a /8; Debian's own 10
	 * stays, as does its 192.168) opens it to the world or to a network
	 * too wide. makesmtpaccess calls /usr/bin/makedat, which Debian's
	 * courier packages do not ship: the check runs makedat itself, as
	 * makesmtpaccess and makeacceptmailfor would. ---- */
	{MTA_COURIER, true, {PLAIN, FOUND_PLAIN, "/etc/courier/smtpaccess/default "
	    "(compiled into /etc/courier/smtpaccess.dat)",
	    {"^(\\*|[0-9]|1[1-9]|[2-9][0-9]|[1-9][0-9][0-9])[[:space:]].*RELAYCLIENT",
	     NULL},
	    {"127.0.0.1\tallow,RELAYCLIENT", NULL}, CR_CHECK,
	    "RELAYCLIENT only for your own hosts and networks, never \"*\" or a /8; "
	    "the domains Courier receives for go in /etc/courier/esmtpacceptmailfor.dir/ "
	    "(Debian; one per line, then the same makedat for esmtpacceptmailfor.dat), "
	    "never an outside domain",
	    {"*\tallow,RELAYCLIENT", "127\tallow,RELAYCLIENT", NULL}, REMEDY_UNIT_LINE}},
	{MTA_MDAEMON, false, {PLAIN, FOUND_PLAIN, "Security > Relay Control", {NULL}, {NULL},
	    "audit again from outside",
	    "do not allow mail relaying; relay only for authenticated senders and "
	    "trusted IPs; SMTP authentication for local senders", {NULL}, REMEDY_UNIT_LINE}},
	{MTA_UNKNOWN, false, {PLAIN, FOUND_PLAIN, "the MTA's relay settings", {NULL}, {NULL},
	    "audit again from outside",
	    "relay only for your own networks and authenticated (SMTP AUTH) users; "
	    "for everybody else accept only recipients in your own domains; refuse "
	    "routing operators (%, !, extra @, source routes) in recipients", {NULL}, REMEDY_UNIT_LINE}},
	{MTA_UNKNOWN, false, {AFTER_LOCAL, FOUND_AFTER_LOCAL, "the MTA's recipient ACL",
	    {NULL}, {NULL}, "audit again from outside",
	    "decide relaying per recipient: a local recipient must not let the other "
	    "recipients of the same transaction through (no flag set on the transaction "
	    "by one RCPT and read by the next)", {NULL}, REMEDY_UNIT_LINE}},
};

const size_t remedy_nrows = RG_NELEM(remedy_rows);

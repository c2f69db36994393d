/*
 * configkeys.c - relayguard.conf's keys as data: name, type, default,
 * bounds, field and what each means (rg_config_schema[], config.h). Every
 * default lives here and nowhere else; the sample conf/relayguard.conf and
 * relayguard.conf(5) follow this table, config.c parses by it.
 */
#include "milter/policy/config.h"
#include "lib/base/util.h"

#include <stddef.h>

#define F(field) offsetof(struct rg_config, field)

const char *const rg_log_facility_names[] = {
	"mail", "daemon", "user", "local0", "local1", "local2", "local3",
	"local4", "local5", "local6", "local7", NULL
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

#!/bin/bash
# relayguard-milter --import: relay settings read from the MTA the admin
# already configured, written as relayguard.conf lines.
#   - Postfix (the harness instance, its own config dir): mydestination with
#     $myhostname/$mydomain, relay_domains = $mydestination plus a name, a
#     hash: table (postmap -s), a texthash: table, a /file list and a regexp:
#     table (cannot be listed: said so), mynetworks with 0.0.0.0/0 (never
#     imported), a negation and a cidr: table, virtual_alias_domains,
#     inet_interfaces. The imported config passes -t, and the milter running
#     on it in front of that (open) Postfix makes the expected decisions.
#   - sendmail: a hand-written /etc/mail-like directory (local-host-names,
#     relay-domains, access text with Connect:/bare/To: RELAY entries).
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/postfix.sh
source tests/milter/lib.sh

rg_built "$MILTER"
T=$(mktemp -d "${TMPDIR:-/tmp}/rg-import.XXXXXX") || tap_bail "mktemp"
[ "${RG_KEEP:-0}" = 1 ] || rg_cleanup_add "rm -rf '$T'"
chmod 755 "$T"

pf_start open || tap_bail "cannot start Postfix"

# --- Postfix: tables and lists of every kind ------------------------------------
printf 'hashed.example OK\n# comment\nhashed2.example OK\n' >"$T/relay_hash"
postmap -c "$PF_CONF" "hash:$T/relay_hash" || tap_bail "postmap"
printf 'text.example OK\n' >"$T/relay_text"
printf 'listed.example  # a comment\n\nlisted2.example\n' >"$T/relay_list"
printf '/^regexp-only\\.example$/ OK\n' >"$T/relay.regexp"
printf '# trusted office\n172.16.5.0/24 OK\n' >"$T/trusted.cidr"
pf_postconf "relay_domains = \$mydestination, relay.example, hash:$T/relay_hash, texthash:$T/relay_text, $T/relay_list, regexp:$T/relay.regexp" \
	"mynetworks = 127.0.0.1/32, [::1]/128, 0.0.0.0/0, !192.0.2.7, 10.1.0.0/16, cidr:$T/trusted.cidr" \
	"virtual_alias_domains = valias.example" ||
	tap_bail "postconf"

"$MILTER" --import "postfix:$PF_CONF" >"$T/pf.conf" 2>"$T/pf.err"
tap_is "$?" 0 "--import postfix:CONFIG_DIR exits 0" || tap_diag "$(cat "$T/pf.err")"
line() { grep -E "^$1( |\$)" "$2"; }
tap_is "$(line LocalDomains "$T/pf.conf")" \
	"LocalDomains mail.site.example, localhost, site.example, valias.example, [127.0.0.1]" \
	"LocalDomains: mydestination expanded by postconf, virtual_alias_domains, inet_interfaces literal" ||
	tap_diag "$(cat "$T/pf.conf")"
tap_is "$(line RelayDomains "$T/pf.conf")" \
	"RelayDomains .mail.site.example, .localhost, .site.example, relay.example, .relay.example, hashed.example, .hashed.example, hashed2.example, .hashed2.example, text.example, .text.example, listed.example, .listed.example, listed2.example, .listed2.example" \
	"RelayDomains: names, hash: (postmap -s), texthash:, /file list; subdomains (parent_domain_matches_subdomains, also of \$mydestination)" ||
	tap_diag "$(cat "$T/pf.conf")"
tap_is "$(line TrustedNetworks "$T/pf.conf")" \
	"TrustedNetworks 127.0.0.1/32, ::1/128, 10.1.0.0/16, 172.16.5.0/24" \
	"TrustedNetworks: mynetworks with the cidr: table, without 0.0.0.0/0" ||
	tap_diag "$(cat "$T/pf.conf")"
tap_like "$(cat "$T/pf.conf")" "NOT imported: 0\\.0\\.0\\.0/0 would let every address on the Internet relay" \
	"0.0.0.0/0 is refused with the reason"
tap_like "$(cat "$T/pf.conf")" "regexp:$T/relay.regexp: a regexp: table cannot be listed" \
	"a regexp: table is named as unreadable"
tap_like "$(cat "$T/pf.conf")" "negated item '!192.0.2.7' not imported" "a negation is named"
tap_like "$(cat "$T/pf.conf")" "mail.site.example, localhost, site.example: a local domain already|is a local domain already" \
	"relay_domains' \$mydestination items are recognised as local"
tap_like "$(grep -E '^#   mydestination = ' "$T/pf.conf")" 'mydestination = \$myhostname, localhost, \$mydomain +\(= mail.site.example, localhost, site.example\)' \
	"the header shows the value as written and as expanded"
tap_like "$(grep -E '^#   hashed.example ' "$T/pf.conf")" "from relay_domains hash:$T/relay_hash \\(hash:$T/relay_hash, postmap -s\\)" \
	"each value names its source"
grep -v '^#' "$T/pf.conf" | grep -v '^$' | grep -vE '^(LocalDomains|RelayDomains|TrustedNetworks) ' >"$T/other"
tap_is "$(cat "$T/other")" "" "nothing but comments and the three keys"

# --- the imported config in use ---------------------------------------------------
SOCK=$T/milter.sock
{
	printf 'Socket unix:%s\nSocketMode 0666\nEventLog %s/events.jsonl\nMode enforce\n' "$SOCK" "$T"
	cat "$T/pf.conf"
} >"$T/relayguard.conf"
out=$("$MILTER" -t -c "$T/relayguard.conf" 2>&1)
tap_is "$?" 0 "the imported config passes relayguard-milter -t" || tap_diag "$out"
tap_like "$out" "4 trusted networks, 5 local and 15 relay domains" "-t counts the imported values"
# the import appended twice (issue 19): -t names each second copy, with
# both lines, instead of silently listing every value twice
cat "$T/relayguard.conf" "$T/pf.conf" >"$T/twice.conf"
first=$(grep -n '^TrustedNetworks ' "$T/twice.conf" | head -1 | cut -d: -f1)
again=$(grep -n '^TrustedNetworks ' "$T/twice.conf" | tail -1 | cut -d: -f1)
out=$("$MILTER" -t -c "$T/twice.conf" 2>&1)
tap_like "$out" "twice\\.conf:$again: .*TrustedNetworks 10\\.1\\.0\\.0/16 given again \\(first at line $first\\)" \
	"--import appended twice: -t names the repeated network and both lines" || tap_diag "$out"
tap_like "$out" "RelayDomains hashed\\.example given again" "... and a repeated relay domain"
tap_is "$(grep -c 'given again' <<<"$out")" 23 "one warning per repeated value (4 networks, 4 local, 15 relay domains)"

rg_spawn "$T/milter.log" "$MILTER" -f -c "$T/relayguard.conf"
MPID=$RG_SPAWN_PID
rg_retry 5 test -S "$SOCK" || tap_bail "milter did not start: $(cat "$T/milter.log")"
pf_postconf "smtpd_milters = unix:$SOCK" "milter_default_action = tempfail" || tap_bail "postconf milter"

try() {	# SOURCE RCPT: the last SMTP reply code to RCPT (or DATA end)
	pf_swaks --local-interface "$1" --from a@outside.example --to "$2" >"$T/swaks.log" 2>&1
	grep -E '^<\*\* +[45][0-9][0-9]' "$T/swaks.log" | head -1 | sed -E 's/^<\*\* +([0-9]{3}).*/\1/' |
		grep . || echo 250
}
tap_is "$(try 127.0.0.2 b@victim.example)" 554 "outsider to victim.example: refused (554)"
tap_is "$(try 127.0.0.2 x@regexp-only.example)" 554 "outsider to the regexp-only domain: refused (not imported)"
sink0=$(pf_sink_count)
for r in x@hashed.example x@sub.relay.example x@text.example x@listed2.example; do
	tap_is "$(try 127.0.0.2 "$r")" 250 "outsider to $r (relay domain): accepted"
done
tap_is "$(try 127.0.0.2 postmaster@mail.site.example)" 250 "outsider to a local domain: accepted"
tap_is "$(try 127.0.0.1 friend@victim.example)" 250 "127.0.0.1 (imported mynetworks): may relay"
tap_check "the relayed messages reach smtp-sink" pf_wait_sink_count $((sink0 + 5)) 10
tap_is "$(jq -r 'select(.event=="relay_refused") | .recipient' "$T/events.jsonl" | sort | tr '\n' ' ')" \
	"<b@victim.example> <x@regexp-only.example> " "the milter refused exactly the two relay attempts"
rg_kill_pid "$MPID" 15

# --- never wider than the MTA (review 1, items 6-7) -------------------------------
# A negated item is an exception relayguard's lists cannot express: what
# covers it is left out (before: 10.1.0.0/16 and .example.com imported);
# a public suffix is no domain of this site.
pf_postconf "mynetworks = !10.1.2.3, 10.1.0.0/16, 127.0.0.1/32, [::1]/128" \
	"relay_domains = !secret.example.com, example.com, com, other.example" \
	"virtual_alias_domains =" || tap_bail "postconf"
"$MILTER" --import "postfix:$PF_CONF" >"$T/neg.conf" 2>"$T/neg.err"
tap_is "$(line TrustedNetworks "$T/neg.conf")" "TrustedNetworks 127.0.0.1/32, ::1/128" \
	"mynetworks = !10.1.2.3, 10.1.0.0/16: the /16 is not imported" || tap_diag "$(cat "$T/neg.conf")"
tap_like "$(cat "$T/neg.conf")" "TrustedNetworks 10\\.1\\.0\\.0/16 NOT imported: it covers the negated '!10\\.1\\.2\\.3'" \
	"and the note says why"
tap_is "$(line RelayDomains "$T/neg.conf" | tr ',' '\n' | grep -cE '^ *\.example\.com$|^ *\.?com$')" 0 \
	"relay_domains = !secret.example.com, example.com, com: neither .example.com nor com is imported"
tap_like "$(line RelayDomains "$T/neg.conf")" "example\\.com, .*other\\.example, \\.other\\.example" \
	"example.com (exact) and other.example are" || tap_diag "$(cat "$T/neg.conf")"
tap_like "$(cat "$T/neg.conf")" "'com' is a public suffix, not a domain of one site; not imported" \
	"a public suffix is named, not imported"
pf_postconf "mynetworks = 0.0.0.0/0" || tap_bail "postconf"	# the open profile again

# --- sendmail: a hand-written /etc/mail ----------------------------------------------
SM=$T/etc-mail
mkdir -p "$SM"
cat >"$SM/local-host-names" <<'EOF'
# local-host-names - include all aliases for your machine here.
mail.sm.example
sm.example
EOF
cat >"$SM/relay-domains" <<'EOF'
partner.example
192.168.7
EOF
cat >"$SM/access" <<'EOF'
# Check the /usr/share/doc/sendmail/README.cf file for a description
Connect:localhost.localdomain	RELAY
Connect:127.0.0.1		RELAY
Connect:10.9			RELAY
203.0.113.5			RELAY
Connect:IPv6:2001:db8:1		RELAY
To:gw.example			RELAY
To:user@single.example		RELAY
From:boss@sm.example		RELAY
Connect:198.51.100.1		REJECT
Connect:IPv6:2001		RELAY
To:co.uk			RELAY
EOF
"$MILTER" --import "sendmail:$SM" >"$T/sm.conf" 2>"$T/sm.err"
tap_is "$?" 0 "--import sendmail:DIR exits 0" || tap_diag "$(cat "$T/sm.err")"
host=$(hostname | tr 'A-Z' 'a-z')
tap_is "$(line LocalDomains "$T/sm.conf")" "LocalDomains mail.sm.example, sm.example, $host" \
	"LocalDomains: class w (local-host-names) and the host's own name" || tap_diag "$(cat "$T/sm.conf")"
tap_is "$(line RelayDomains "$T/sm.conf")" "RelayDomains gw.example, .gw.example, partner.example, .partner.example" \
	"RelayDomains: To: RELAY (the access map is read first) and relay-domains, with subdomains" || tap_diag "$(cat "$T/sm.conf")"
tap_is "$(line TrustedNetworks "$T/sm.conf")" \
	"TrustedNetworks 127.0.0.1/32, 10.9.0.0/16, 203.0.113.5/32, 2001:db8:1::/48, 192.168.7.0/24, ::1/128" \
	"TrustedNetworks: Connect: and bare-IP RELAY, relay-domains prefix, loopback" || tap_diag "$(cat "$T/sm.conf")"
tap_like "$(cat "$T/sm.conf")" "access:2: connect:localhost.localdomain RELAY names no client address" \
	"a host-name Connect: entry is named, not imported"
tap_like "$(cat "$T/sm.conf")" "access:8: to:user@single.example RELAY is not a domain" "a per-address To: entry is named"
tap_like "$(cat "$T/sm.conf")" "access:9: from:boss@sm.example RELAY is not imported" "a From: RELAY entry is named"
tap_unlike "$(cat "$T/sm.conf")" "198\\.51\\.100\\.1/" "REJECT entries are not relay settings"
tap_like "$(cat "$T/sm.conf")" "NOT imported: 2001::/16 would let a network wider than an IPv6 /32 relay" \
	"Connect:IPv6:2001 RELAY (a /16) is not imported (the IPv6 bound is a /32, as -t warns)"
tap_like "$(cat "$T/sm.conf")" "'co.uk' is a public suffix" "To:co.uk RELAY (a public suffix) is not imported"
{
	printf 'Socket unix:%s\nSocketMode 0666\nEventLog %s/events-sm.jsonl\nMode enforce\n' "$SOCK" "$T"
	cat "$T/sm.conf"
} >"$T/relayguard-sm.conf"
out=$("$MILTER" -t -c "$T/relayguard-sm.conf" 2>&1)
tap_is "$?" 0 "the sendmail import passes relayguard-milter -t" || tap_diag "$out"
rm -f "$SOCK"
rg_spawn "$T/milter-sm.log" "$MILTER" -f -c "$T/relayguard-sm.conf"
MPID=$RG_SPAWN_PID
rg_retry 5 test -S "$SOCK" || tap_bail "milter did not start: $(cat "$T/milter-sm.log")"
tap_is "$(try 127.0.0.2 x@sub.partner.example)" 250 "sendmail import: outsider to a relay-domains subdomain: accepted"
tap_is "$(try 127.0.0.2 x@gw.example)" 250 "sendmail import: outsider to a To: RELAY domain: accepted"
tap_is "$(try 127.0.0.2 x@single.example)" 554 "sendmail import: outsider to the per-address domain: refused"
tap_is "$(try 127.0.0.2 x@mail.sm.example)" 250 "sendmail import: outsider to class w: accepted"
tap_is "$(try 127.0.0.1 x@victim.example)" 250 "sendmail import: Connect:127.0.0.1 RELAY may relay"
rg_kill_pid "$MPID" 15

"$MILTER" --import "sendmail:$T/nonexistent" >/dev/null 2>"$T/err"
tap_is "$?" 1 "an unreadable directory: exit 1"
tap_like "$(cat "$T/err")" "cannot read $T/nonexistent" "with the reason"
"$MILTER" --import "exim" >/dev/null 2>"$T/err"
tap_like "$(cat "$T/err")" "expected postfix\\[:CONFIG_DIR\\] or sendmail" "an unknown MTA: usage"
tap_done

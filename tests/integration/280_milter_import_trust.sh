#!/bin/bash
# rg-timeout: 600
# relayguard-milter --import never trusts a client the MTA itself refuses
# (issue 16): a round trip with the real MTAs. For every address of every
# imported TrustedNetworks entry that matters (its first and last address,
# and each probe address inside it) the real MTA is asked whether it
# relays for a client there:
#   - sendmail (tests/lib/sendmail.sh, the closed profile): one access map
#     holding the trap lines of tests/unit/test_mtaimport.c and the lines
#     sendmail does relay for, built with sendmail's own makemap; the
#     relay decision comes from "sendmail -bt" (check_rcpt for a foreign
#     recipient with {client_addr} set), and two real SMTP sessions from
#     127.0.0.2 (RELAY # office) and 127.0.0.11 (RELAY) show the daemon
#     decides the same; then each fuzz seed of fuzz_import naming RELAY is
#     the access map in turn, and its import is checked the same way;
#   - Postfix (tests/lib/postfix.sh, closed): mynetworks variants (host bits,
#     a negated host name, hash: and cidr: tables, if/endif, negations);
#     the relay decision comes from an SMTP session whose client address and
#     name are set with XCLIENT (127.0.0.1 is authorized), for a client
#     without a name and one named badhost.example. The test Postfix speaks
#     IPv4 only (inet_protocols = ipv4): ::1 is not asked there; the
#     sendmail part asks about IPv6 clients.
# Every imported address must be relayed by the real MTA; some networks
# must be imported at all (the import is not simply empty).
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/sendmail.sh
source tests/lib/postfix.sh

rg_built "$MILTER"
PROBE="python3 tests/lib/import_probe.py"
T=$(mktemp -d "${TMPDIR:-/tmp}/rg-import-trust.XXXXXX") || tap_bail "mktemp"
[ "${RG_KEEP:-0}" = 1 ] || rg_cleanup_add "rm -rf '$T'"
chmod 755 "$T"

trusted() {	# CONF: the TrustedNetworks value of an import
	sed -n 's/^TrustedNetworks //p' "$1"
}

# --- sendmail ------------------------------------------------------------------
mta_start sendmail closed || tap_bail "cannot start sendmail"
E=$MTA_DIR/etc
{
	cat <<'EOF'
# trap lines: sendmail does not relay for these
Connect:127.0.0.2	RELAY # office
Connect:127.0.0.3	RELAY REJECT
Connect:10	RELAY # note
Connect:127.0.0.4	RELAY	# trusted host
Connect:127.0.0.5	"RELAY"
Connect:127.0.0.6	RELAY#x
Connect:172.16	RELAY
Connect:172.16.1	REJECT
Connect:127.1	RELAY
127.1.0	OK
Connect:127.0.0.8	RELAY
Connect:127.0.0.8	REJECT
Connect:IPv6:2001:db8:1	RELAY
Connect:IPv6:2001:db8:1:5	DISCARD
Connect:127.0.0.09	RELAY
Connect:127.0.0.9.	RELAY
Connect:IPv6:2001:db8:0	RELAY
Connect:IPv6:2001:0db8:2	RELAY
 Connect:127.0.0.10	RELAY
# lines sendmail relays for
Connect:127.0.0.11	RELAY
CONNECT:127.0.0.13	RELAY   
127.0.0.14	RELAY
Connect:192.168	RELAY
Connect:192.168.1	RELAY
From:192.168.2	REJECT
Connect:IPv6:2001:DB8::1	RELAY
Connect:IPv6:2001:db8:3	RELAY
# Connect:IPv6:2001:db8:3:5	REJECT
Connect:127.0.0.15	OK
EOF
	printf 'connect:127.0.0.12\trelay\r\n'
} >"$E/access"
# makemap complains about the duplicate key and the leading blank (exit 65)
# and builds the map from the rest, as it does for an admin.
"$SM_TREE/usr/sbin/makemap" -C "$E/sendmail.cf" hash "$E/access" <"$E/access" >"$T/makemap.log" 2>&1
tap_like "$(cat "$T/makemap.log")" "leading space" "makemap refuses the line with a leading blank"

"$MILTER" --import "sendmail:$E" >"$T/sm.conf" 2>"$T/sm.err"
tap_is "$?" 0 "--import sendmail exits 0" || tap_diag "$(cat "$T/sm.err")"
SM_NETS=$(trusted "$T/sm.conf")
tap_diag "imported: TrustedNetworks $SM_NETS"

sm_verdicts() {	# ADDR...: "ADDR RELAY|refused" as sendmail -bt decides
	local a
	for a in "$@"; do
		case $a in *:*) a="IPv6:$a" ;; esac
		printf '.D{client_addr}%s\n.D{client_name}unknown\ncheck_rcpt <x@victim.example>\n' "$a"
	done | mta__ns "$SM_BIN" -C "$E/sendmail.cf" -bt 2>&1 |
		sed -n 's/^check_rcpt *returns: *//p' | paste -d' ' <(printf '%s\n' "$@") - |
		sed -E 's/^([^ ]+) RELAY$/\1 RELAY/; t; s/^([^ ]+) .*/\1 refused/'
}

SM_PROBES="127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.6 127.0.0.8 127.0.0.9
127.0.0.10 127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14 127.0.0.15 127.1.0.5 127.1.2.3 10.0.0.1
10.1.2.3 172.16.1.5 172.16.2.5 192.168.1.5 192.168.2.5 192.168.3.5 2001:db8:1::5 2001:db8:1:5::1
2001:db8::1 2001:db8::5 2001:db8:2::1 2001:db8:3::5 2001:db8:3:5::1 ::1"
# shellcheck disable=SC2086
sm_verdicts $SM_PROBES >"$T/sm-probes"
tap_diag "sendmail -bt on the probe addresses: $(tr '\n' ';' <"$T/sm-probes")"
tap_is "$(grep -c . "$T/sm-probes")" "$(wc -w <<<"$SM_PROBES")" "sendmail -bt answered for every probe address"
tap_is "$(grep -E '^(127\.0\.0\.[2-6]|127\.0\.0\.9|127\.0\.0\.10|10\.1\.2\.3|172\.16\.1\.5|127\.1\.0\.5|2001:db8:1:5::1|2001:db8::5|2001:db8:2::1) ' "$T/sm-probes" | sort | tr '\n' ' ')" \
	"10.1.2.3 refused 127.0.0.10 refused 127.0.0.2 refused 127.0.0.3 refused 127.0.0.4 refused 127.0.0.5 refused 127.0.0.6 refused 127.0.0.9 refused 127.1.0.5 refused 172.16.1.5 refused 2001:db8:1:5::1 refused 2001:db8:2::1 refused 2001:db8::5 refused " \
	"sendmail refuses to relay for every trap line (RELAY # office, RELAY REJECT, a longer prefix or bare entry first, odd spellings, a leading blank)"
# makemap keeps the first of a duplicate key; the import leaves both out.
tap_like "$(grep '^127\.0\.0\.8 ' "$T/sm-probes")" "RELAY" "a duplicate key: makemap keeps the first line (RELAY)"
tap_is "$(grep -E '^127\.0\.0\.(11|12|13|14) ' "$T/sm-probes" | sort | tr '\n' ' ')" \
	"127.0.0.11 RELAY 127.0.0.12 RELAY 127.0.0.13 RELAY 127.0.0.14 RELAY " \
	"and relays for RELAY, relay<CR>, CONNECT: with trailing blanks, a bare address"

# shellcheck disable=SC2086
$PROBE candidates "$SM_NETS" $SM_PROBES >"$T/sm-cand" || tap_bail "candidates"
# shellcheck disable=SC2046
sm_verdicts $(cat "$T/sm-cand") >"$T/sm-check"
tap_is "$(grep -v ' RELAY$' "$T/sm-check")" "" \
	"every imported address ($(grep -c . "$T/sm-cand") checked) is one sendmail relays for" ||
	tap_diag "$(cat "$T/sm.conf")"
tap_is "$(grep -c ' RELAY$' "$T/sm-check")" "$(grep -c . "$T/sm-cand")" "sendmail answered for each of them"
for n in 127.0.0.11/32 127.0.0.12/32 127.0.0.13/32 127.0.0.14/32 192.168.0.0/16 2001:db8::1/128 2001:db8:3::/48 127.0.0.1/32; do
	tap_like ", $SM_NETS," ", $n," "$n is imported (sendmail relays for it)"
done

# The daemon decides as -bt does: a real session from the trap address.
last_reply() {	# SOURCE: the last reply before QUIT to MAIL, RCPT TO:<x@victim.example>
	mta_swaks --local-interface "$1" --from a@outside.example --to x@victim.example \
		--quit-after RCPT >"$T/swaks.log" 2>&1
	sed -n 's/^<[-*]\{1,2\} *\([0-9][0-9][0-9][ -].*\)/\1/p' "$T/swaks.log" | grep -v '^221' | tail -1
}
tap_like "$(last_reply 127.0.0.2)" "^553 5\\.3\\.0 RELAY # office" \
	"SMTP from 127.0.0.2: sendmail takes the whole value 'RELAY # office' as a refusal text"
tap_like "$(last_reply 127.0.0.11)" "^250 .*Recipient ok" "SMTP from 127.0.0.11 (RELAY): sendmail relays"
tap_unlike ", $SM_NETS," ", 127\\.0\\.0\\.2/32," "127.0.0.2 is not imported"

# The fuzz seeds (tests/fuzz/corpus/fuzz_import: the unit-test rows, fuzz
# finds) replayed as access maps: every address imported from each is
# relayed by the real sendmail.
bad= nseeds=0 nchecked=0
for seed in tests/fuzz/corpus/fuzz_import/*; do
	grep -qi relay "$seed" || continue
	nseeds=$((nseeds + 1))
	tr -d '\000' <"$seed" >"$E/access"
	"$SM_TREE/usr/sbin/makemap" -C "$E/sendmail.cf" hash "$E/access" <"$E/access" >/dev/null 2>&1
	"$MILTER" --import "sendmail:$E" >"$T/seed.conf" 2>/dev/null || { bad="$bad $seed(import failed)"; continue; }
	# shellcheck disable=SC2046
	$PROBE candidates "$(trusted "$T/seed.conf")" $(grep -oE '[0-9a-fA-F:.]{2,}' "$E/access") >"$T/seed-cand"
	nchecked=$((nchecked + $(grep -c . "$T/seed-cand")))
	[ -s "$T/seed-cand" ] || continue
	# shellcheck disable=SC2046
	sm_verdicts $(cat "$T/seed-cand") | grep -v ' RELAY$' | sed "s|^|$(basename "$seed"): |" >"$T/seed-bad"
	[ -s "$T/seed-bad" ] && bad="$bad$(cat "$T/seed-bad")"$'\n'
done
tap_diag "$nseeds seed access maps, $nchecked imported addresses asked"
tap_is "$bad" "" "every address imported from a fuzz seed is relayed by the real sendmail"
tap_check "more than 20 seeds replayed" test "$nseeds" -gt 20
mta_stop

# --- Postfix ---------------------------------------------------------------------
pf_start closed || tap_bail "cannot start Postfix"
pf_postconf "smtpd_authorized_xclient_hosts = 127.0.0.1" || tap_bail "postconf"
printf '10.0.0.0/8 OK\n' >"$T/trust_net"
printf '10.5.1.2 OK\n' >"$T/trust_host"
postmap -c "$PF_CONF" "hash:$T/trust_net" "hash:$T/trust_host" || tap_bail "postmap"
printf 'if !10.1.0.0/16\n10.0.0.0/8 OK\nendif\n' >"$T/ifblock.cidr"
printf '# offices\n10.3.0.0/16 REJECT\n10.4.0.0/16 OK\n' >"$T/values.cidr"
PF_PROBES="127.0.0.1 127.0.0.2 10.0.0.1 10.1.2.3 10.1.2.4 10.3.1.1 10.4.1.1 10.5.1.2 10.6.1.1 10.8.1.1 10.9.9.9"
VARIANTS=(
	"127.0.0.1/32, 10.1.2.3/8"
	"!badhost.example, 10.8.0.0/16"
	"hash:$T/trust_net"
	"cidr:$T/ifblock.cidr"
	"10.6.0.0/16 # office"
	"!10.1.2.3, 10.1.0.0/16, 127.0.0.0/8"
	"cidr:$T/values.cidr, hash:$T/trust_host"
	"[::1]/128, 10.9.0.0/16"
)
all_nets=
for v in "${VARIANTS[@]}"; do
	pf_postconf "mynetworks = $v" || tap_bail "postconf mynetworks = $v"
	"$MILTER" --import "postfix:$PF_CONF" >"$T/pf.conf" 2>"$T/pf.err" ||
		tap_fail "--import postfix with mynetworks = $v" "$(cat "$T/pf.err")"
	nets=$(trusted "$T/pf.conf")
	all_nets="$all_nets, $nets"
	# shellcheck disable=SC2086
	$PROBE candidates "${nets//::1\/128/}" $PF_PROBES >"$T/pf-cand" || tap_bail "candidates"
	bad=
	for name in '[UNAVAILABLE]' badhost.example; do
		# shellcheck disable=SC2046
		$PROBE xclient "$PF_PORT" "$name" $(cat "$T/pf-cand") >"$T/pf-check"
		bad="$bad$(grep -v ' 250$' "$T/pf-check" | sed "s/\$/ (name $name)/")"
		[ "$(grep -c . "$T/pf-check")" = "$(grep -c . "$T/pf-cand")" ] || bad="$bad (not every address answered)"
	done
	tap_is "$bad" "" "mynetworks = $v: every imported address is relayed by Postfix (imported: '${nets:-nothing}')" ||
		tap_diag "$(grep -A3 'Not imported' "$T/pf.conf")"
done
for n in 127.0.0.0/8 10.3.0.0/16 10.4.0.0/16 10.5.1.2/32 ::1/128 10.9.0.0/16; do
	tap_like "$all_nets," " $n," "$n is imported (Postfix relays for it)"
done
tap_unlike "$all_nets," " 10\\.0\\.0\\.0/8," "10.0.0.0/8 (host-bits item, hash key, if/endif block) is never imported"
tap_done

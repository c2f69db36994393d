#!/bin/bash
# relayguard-milter's SPF, DNSBL and reverse DNS in front of a real Postfix
# (profile "closed"), with NSD on loopback serving tests/dns/*.zone
# (mf.test: one sender domain per SPF result for the client 127.0.0.2):
#   - the exact Received-SPF header on delivered mail for pass, fail,
#     softfail, neutral, none, permerror (too many lookups), an include
#     chain and the null sender (postmaster@HELO); Authentication-Results
#     after a reload with SPFHeader authentication-results;
#   - SPFFail reject: 550 5.7.23 at MAIL FROM, nothing delivered;
#   - the DNSBL listing of 127.0.0.2 (bl.test) logged with codes and TXT,
#     the spoofing event for a LocalDomains sender that fails SPF, PTR and
#     FCrDNS in the relay decision events;
#   - a dead nameserver (a UDP black hole): mail still flows within the
#     budget, Received-SPF says temperror, one warning is logged.
# Nothing here queries a nameserver outside 127.0.0.1.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/postfix.sh
source tests/lib/dns.sh
source tests/milter/lib.sh

rg_built "$MILTER"
T0=$(rg_now_ms)
dns_start tests/dns/*.zone || tap_bail "cannot start NSD on loopback"
dns_blackhole || tap_bail "cannot start the black-hole UDP port"

DNS_CONF="Nameservers $DNS_NS
DNSTimeout 1
DNSRetries 0
DNSBudget 4
SPF yes
AuthservID mail.site.example
DNSBL bl.test
ReverseDNS yes
LocalDomains local.mf.test"
ml_start "$DNS_CONF" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"
tap_like "$(cat "$ML_DIR/milter.log")" "nameservers=$DNS_NS" "the milter uses the loopback nameserver"

PF_MAIN_EXTRA="smtpd_milters = unix:$ML_SOCK
milter_default_action = tempfail
milter_command_timeout = 10s" pf_start closed || tap_bail "cannot start Postfix (closed)"

N=0
# send FROM: mail from 127.0.0.2 (HELO helo.mf.test) to a local mailbox;
# sets LAST_MSG (the delivered file) and SENT, its first header named $HDR
# (default Received-SPF). Not in $(...): it counts connections in N.
send() {
	local before tag
	N=$((N + 1))
	tag="rg45-$N-$RANDOM"
	SENT="" LAST_MSG=/dev/null
	before=$(pf_mailbox_count root)
	pf_swaks --local-interface 127.0.0.2 --ehlo helo.mf.test --from "$1" \
		--to postmaster@mail.site.example --header "Subject: $tag" \
		>"$ML_DIR/swaks-$N.log" 2>&1 || { SENT="swaks failed"; return 1; }
	pf_wait_mailbox_count root $((before + 1)) 10 || { SENT="not delivered"; return 1; }
	LAST_MSG=$(grep -l "^Subject: $tag\$" "$PF_MAIL_DIR"/root/new/* | head -n 1)
	SENT=$(grep -m 1 "^${HDR:-Received-SPF}:" "$LAST_MSG")
}
rs() {	# RESULT ADDR [WHY] [IDENTITY]: the Received-SPF we expect
	local why
	case $1 in
	pass) why="domain of $2 designates 127.0.0.2 as permitted sender" ;;
	fail) why="domain of $2 does not designate 127.0.0.2 as permitted sender" ;;
	softfail) why="domain of transitioning $2 does not designate 127.0.0.2 as permitted sender" ;;
	neutral) why="127.0.0.2 is neither permitted nor denied by domain of $2" ;;
	none) why="domain of $2 does not provide an SPF record" ;;
	*) why=$3 ;;
	esac
	echo "Received-SPF: $1 (mail.site.example: $why) client-ip=127.0.0.2; envelope-from=\"$2\"; helo=helo.mf.test; receiver=mail.site.example; identity=${4:-mailfrom};"
}

# --- Received-SPF for each result ---------------------------------------------
send user@pass.mf.test; tap_is "$SENT" "$(rs pass user@pass.mf.test)" "SPF pass: Received-SPF on the delivered message"
tap_like "$(grep -n -m 1 -E '^(Received-SPF|Received):' "$LAST_MSG")" '^[0-9]+:Received-SPF:' \
	"the header is above Postfix's Received line (inserted at index 0)"
send user@fail.mf.test
tap_is "$SENT" "$(rs fail user@fail.mf.test)" "SPF fail recorded (SPFFail record: delivered)"
send user@softfail.mf.test; tap_is "$SENT" "$(rs softfail user@softfail.mf.test)" "SPF softfail"
send user@neutral.mf.test; tap_is "$SENT" "$(rs neutral user@neutral.mf.test)" "SPF neutral"
send user@none.mf.test; tap_is "$SENT" "$(rs none user@none.mf.test)" "SPF none"
send user@toomany.mf.test
tap_is "$SENT" "$(rs permerror user@toomany.mf.test "permanent error in processing domain of user@toomany.mf.test: error in processing during lookup of domain of toomany.mf.test: Mechanisms used too many DNS lookups")" \
	"SPF permerror: more than 10 DNS lookups"
send user@inc.mf.test; tap_is "$SENT" "$(rs pass user@inc.mf.test)" "SPF pass through a two-level include chain"
send '<>'
tap_is "$SENT" "$(rs pass postmaster@helo.mf.test "" helo)" \
	"null sender: postmaster@HELO checked, identity=helo"

# --- spoofing, DNSBL, reverse DNS -------------------------------------------------
send someone@local.mf.test; out=$SENT
tap_like "$out" '^Received-SPF: fail ' "a local domain's sender from an unauthorised client: fail"
tap_is "$(ml_event_count spoofing)" 1 "logged as one spoofing event"
tap_is "$(jq -r 'select(.event=="spoofing") | "\(.client_addr) \(.sender) \(.spf) \(.domain) \(.action)"' "$ML_DIR/events.jsonl")" \
	"127.0.0.2 <someone@local.mf.test> fail local.mf.test none" "the spoofing event names client, sender, result and domain"
tap_is "$(ml_event_count dnsbl_listed)" "$N" "DNSBL: one dnsbl_listed event per connection from 127.0.0.2"
tap_is "$(jq -r 'select(.event=="dnsbl_listed") | "\(.zone) \(.codes) \(.txt) \(.action)"' "$ML_DIR/events.jsonl" | sort -u)" \
	"bl.test 127.0.0.2 test entry (RFC 5782) log" "the DNSBL event has zone, return codes, TXT and action"
tap_like "$(grep -m 1 'event=dnsbl_listed' "$ML_DIR/milter.log")" 'client_addr=127.0.0.2 .*ptr=client.mf.test fcrdns=pass' \
	"its log line names the client with its PTR and FCrDNS result"
pf_swaks --local-interface 127.0.0.2 --ehlo helo.mf.test --from user@pass.mf.test \
	--to friend@victim.example >"$ML_DIR/swaks-relay.log" 2>&1
tap_like "$(cat "$ML_DIR/swaks-relay.log")" '554 5.7.1' "relay attempt from 127.0.0.2 refused"
tap_like "$(jq -c 'select(.event | test("relay_refused")) | {client_addr, ptr, fcrdns}' "$ML_DIR/events.jsonl" | tail -n 1)" \
	'"client_addr":"127.0.0.2","ptr":"client.mf.test","fcrdns":"pass"' "the relay decision event carries PTR and FCrDNS"
ms=$(sed -n 's/.*event=spf_checked .*dns_ms=\([0-9]*\).*/\1/p' "$ML_DIR/milter.log" | sort -n | tail -n 1)
tap_like "$ms" '^[0-9]{1,2}$' "every SPF check (plus PTR and DNSBL) on loopback took < 100 ms (max ${ms} ms)"
# (the start's config advice - root without UserID - is not about DNS)
tap_is "$(grep 'warning' "$ML_DIR/milter.log" | grep -v 'started as root without UserID' | grep -vc 'SocketMode 0666 lets every local user')" 0 "no warnings with a working nameserver"

# --- Authentication-Results (reload) ---------------------------------------------------
cp "$ML_DIR/relayguard.conf" "$ML_DIR/base.conf"
echo "SPFHeader authentication-results" >>"$ML_DIR/relayguard.conf"
kill -USR1 "$ML_PID"
tap_check "SIGUSR1 reloads the config with a new resolver" \
	rg_retry 5 grep -q "reloaded .*spf=yes dnsbl=1 reverse_dns=yes" "$ML_DIR/milter.log"
HDR=Authentication-Results send user@pass.mf.test; tap_is "$SENT" \
	"Authentication-Results: mail.site.example; spf=pass smtp.mailfrom=user@pass.mf.test" "Authentication-Results: spf=pass"
HDR=Authentication-Results send user@fail.mf.test; tap_is "$SENT" \
	"Authentication-Results: mail.site.example; spf=fail smtp.mailfrom=user@fail.mf.test" "Authentication-Results: spf=fail"
HDR=Authentication-Results send '<>'; tap_is "$SENT" \
	"Authentication-Results: mail.site.example; spf=pass smtp.helo=helo.mf.test" "Authentication-Results: null sender gives smtp.helo"
tap_is "$(grep -c '^Received-SPF:' "$LAST_MSG")" 0 "no Received-SPF then"

# --- SPFFail reject ------------------------------------------------------------------------
{ cat "$ML_DIR/base.conf"; echo "SPFFail reject"; } >"$ML_DIR/relayguard.conf"
kill -USR1 "$ML_PID"
rg_retry 5 rg_count_ge 2 grep -c 'reloaded ' "$ML_DIR/milter.log"
before=$(pf_mailbox_count root)
pf_swaks --local-interface 127.0.0.2 --ehlo helo.mf.test --from user@fail.mf.test \
	--to postmaster@mail.site.example >"$ML_DIR/swaks-reject.log" 2>&1
tap_like "$(grep -E '^<\*\* ' "$ML_DIR/swaks-reject.log" | head -n 1)" '^<\*\* +550 5\.7\.23 SPF fail: ' \
	"SPFFail reject: 550 5.7.23 at MAIL FROM" || tap_diag "$(tail -n 5 "$ML_DIR/swaks-reject.log")"
tap_is "$(ml_event_count spf_rejected)" 1 "logged as spf_rejected"
send user@softfail.mf.test; tap_is "$SENT" "$(rs softfail user@softfail.mf.test)" "softfail is still only recorded"
tap_is "$(pf_mailbox_count root)" $((before + 1)) "only the softfail message was delivered"

# --- DNSBL reject (return-code aware) ----------------------------------------------------
{ cat "$ML_DIR/base.conf"; echo "DNSBL bl.test:127.0.0.4=reject, bl.test:127.0.0.2=reject"; } >"$ML_DIR/relayguard.conf"
kill -USR1 "$ML_PID"
rg_retry 5 rg_count_ge 3 grep -c 'reloaded ' "$ML_DIR/milter.log"
pf_swaks --local-interface 127.0.0.2 --ehlo helo.mf.test --from user@pass.mf.test \
	--to postmaster@mail.site.example >"$ML_DIR/swaks-dnsbl.log" 2>&1
tap_like "$(grep -E '^<\*\* ' "$ML_DIR/swaks-dnsbl.log" | head -n 1)" \
	'^<\*\* +554 5\.7\.1 Service unavailable; client \[127\.0\.0\.2\] blocked using bl\.test' \
	"DNSBL =reject for code 127.0.0.2: every recipient refused with 554 5.7.1"
tap_is "$(ml_event_count dnsbl_refused)" 1 "logged as dnsbl_refused"
tap_is "$(jq -r 'select(.event=="dnsbl_listed") | .action' "$ML_DIR/events.jsonl" | tail -n 1)" reject \
	"the dnsbl_listed event says reject"

# --- a dead nameserver ---------------------------------------------------------------------
sed -e "s/^Nameservers .*/Nameservers $DNS_BLACKHOLE/" "$ML_DIR/base.conf" >"$ML_DIR/relayguard.conf"
kill -USR1 "$ML_PID"
rg_retry 5 rg_count_ge 4 grep -c 'reloaded ' "$ML_DIR/milter.log"
t0=$(rg_now_ms)
send user@pass.mf.test; out=$SENT
t=$(($(rg_now_ms) - t0))
tap_is "$out" "$(rs temperror user@pass.mf.test "error in processing during lookup of user@pass.mf.test: Temporary DNS failure for 'pass.mf.test'.")" \
	"black hole: mail still delivered, Received-SPF says temperror"
tap_like "$t" '^([0-9]{1,3}|[1-3][0-9]{3})$' "black hole: the message took ${t} ms (< 4 s DNSBudget)"
tap_is "$(grep -c 'warning: dns: no reply from' "$ML_DIR/milter.log")" 1 "black hole: one warning logged"
t0=$(rg_now_ms)
send user@pass.mf.test; out=$SENT
t2=$(($(rg_now_ms) - t0))
tap_like "$out" '^Received-SPF: temperror ' "black hole, next message: temperror again"
tap_like "$t2" '^[0-9]{1,3}$' "black hole, next message: no wait during the hold-down (${t2} ms)"
tap_is "$(grep -c 'warning: dns: no reply from' "$ML_DIR/milter.log")" 1 "still one warning"
tap_like "$(grep 'event=spf_checked' "$ML_DIR/milter.log" | tail -n 1)" 'spf=temperror' "the log says temperror"

ml_stop
tap_diag "268_milter_spf took $(( ($(rg_now_ms) - T0) / 1000 )) s"
tap_done

#!/bin/bash
# relayguard-milter at the floor, over the milter protocol with miltertest(8)
# (tests/milter/floor.lua) and NSD on loopback for SPF (tests/dns/mf.test):
#   - the negotiation: no replies for connect, HELO, MAIL (unless an
#     SPF* action may refuse there), headers, EOH and unknown commands;
#     replies for RCPT (relay) and DATA (accept); headers and body
#     kept for the bounce sensor; SMFIP_SKIP where offered, else
#     SMFIP_NR_BODY;
#   - a plain message with an SPF header to add: its body is skipped
#     (SMFIR_SKIP) and the header inserted; with SPFHeader none it is
#     accepted at DATA;
#   - relay policy alone (BounceSensor no, SPF no): the message is
#     accepted at DATA, so the MTA has no end-of-message round trip;
#   - an SPF pass is a counter, not a log line (LogVerbose off); a fail is
#     logged (spf_checked).
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/dns.sh
source tests/milter/lib.sh

rg_built "$MILTER"
command -v miltertest >/dev/null || { tap_skip "miltertest" "miltertest not installed"; tap_done; exit; }
dns_start tests/dns/*.zone || tap_bail "cannot start NSD on loopback"

DNS_CONF="Nameservers $DNS_NS
DNSTimeout 2
DNSRetries 0
SPF yes"

# run_case CASE: floor.lua's TAP lines as our own checks
run_case() { ml_miltertest tests/milter/floor.lua "$1"; }

ml_start "$DNS_CONF" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"
run_case spf
run_case noskip
tap_is "$(grep -c 'event=spf_checked' "$ML_DIR/milter.log")" 0 \
	"an SPF pass for an ordinary message leaves no spf_checked line"
RG_SPF=fail run_case spf
tap_is "$(grep 'event=spf_checked' "$ML_DIR/milter.log" | grep -c 'spf=fail')" 1 \
	"an SPF fail is evidence: one spf_checked line"
ml_stop

ml_start "$DNS_CONF
SPFFail reject" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"
run_case spfreject
ml_stop

ml_start "$DNS_CONF
SPFHeader none" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"
run_case noheader
ml_stop

ml_start "BounceSensor no" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"
run_case relay
ml_stop
tap_done

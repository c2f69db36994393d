#!/bin/bash
# What a real sendmail 8.17 sends the milter for "sendmail -bs" on a pipe
# (issue 9, item 2): stdin is no socket, so milter_connect() gets family
# unknown ('U') with host name "localhost" - an address-less client, refused
# relaying by default (fail closed), its local mail accepted; with
# TrustAddresslessClients yes (after a SIGUSR1 reload) it may relay.
# (sendmail's command-line mail otherwise goes through the MSP, which
# relays over SMTP from 127.0.0.1: an ordinary TrustedNetworks client.)
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/sendmail.sh
source tests/milter/lib.sh

rg_built "$MILTER"
ml_start "Mode enforce
LogVerbose yes" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"
MTA_EXTRA="INPUT_MAIL_FILTER(\`relayguard', \`S=unix:$ML_SOCK, F=T, T=C:1m;S:10s;R:10s;E:5m')dnl" \
	mta_start sendmail closed || tap_bail "cannot start sendmail (closed + milter)"

bs() {	# RCPT...: the dialogue of "sendmail -bs" (one command at a time:
	# sendmail refuses a client that talks before its reply)
	local cmds=("EHLO client.example" "MAIL FROM:<a@other.example>") r
	for r in "$@"; do cmds+=("RCPT TO:<$r>"); done
	cmds+=(QUIT)
	(for c in "${cmds[@]}"; do sleep 0.7; printf '%s\r\n' "$c"; done) |
		MTA_NS_DEVLOG=$MTA_DIR/log.sock mta__ns "$SM_BIN" -C "$MTA_DIR/etc/sendmail.cf" -bs 2>&1 | tr -d '\r'
}

out=$(bs x@victim.example postmaster@site.example)
tap_like "$out" $'\n554 5\\.7\\.1 <x@victim\\.example>: Relay access denied' \
	"default: sendmail -bs may not relay (the milter's 554)"
tap_like "$out" $'\n250 2\\.1\\.5 <postmaster@site\\.example>\\.\\.\\. Recipient ok' "its local recipient is accepted"
tap_is "$(jq -r 'select(.event=="relay_refused") | "\(.client_addr) \(.client_name)"' "$ML_DIR/events.jsonl")" \
	"unknown localhost" "sendmail sent it as family unknown, host name localhost"

echo "TrustAddresslessClients yes" >>"$ML_DIR/relayguard.conf"
kill -USR1 "$ML_PID"
rg_retry 10 grep -q "reloaded" "$ML_DIR/milter.log" || tap_diag "no reload line"
out=$(bs x@victim.example)
tap_like "$out" $'\n250 2\\.1\\.5 <x@victim\\.example>\\.\\.\\. Recipient ok' \
	"TrustAddresslessClients yes: sendmail -bs may relay"
tap_like "$(jq -r 'select(.event=="rcpt_permitted" and .recipient=="<x@victim.example>") | .reason' "$ML_DIR/events.jsonl")" \
	"trusted by TrustAddresslessClients" "and the decision says why"
mta_stop
ml_stop
tap_done

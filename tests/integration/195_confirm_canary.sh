#!/bin/bash
# relayguard-audit --confirm MAILBOX --confirm-maildir DIR (issue 12): the
# opt-in canary. An open Postfix relays the one canary message to the
# operator's mailbox (canary.test, which Postfix does not serve: relaying,
# routed by transport_maps to a Maildir): "confirmed". An accept-all server
# (RCPT 250, DATA 554) is settled: the canary is refused at DATA. A closed
# Postfix gets no message at all. Without --confirm nothing is ever completed.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/postfix.sh

TMP=$(mktemp -d "${TMPDIR:-/tmp}/rg-canary.XXXXXX")
rg_cleanup_add "rm -rf '$TMP'"
MD=$TMP/mail
mkdir -p "$MD" && chown postfix:postfix "$MD" && chmod 755 "$TMP"
BOX=$MD/box
PF_MAIN_EXTRA="transport_maps = inline:{canary.test=virtual:}
virtual_mailbox_base = $MD
virtual_mailbox_maps = inline:{canary@canary.test=box/}
virtual_uid_maps = static:$(id -u postfix)
virtual_gid_maps = static:$(id -g postfix)
virtual_minimum_uid = 1" pf_start open || tap_bail "cannot start Postfix (open)"

audit() { timeout 120 "$AUDIT" -s 127.0.0.2 -d victim.example -t 10 --budget 60 "$@"; }
maildir_count() { find "$BOX/new" "$BOX/cur" -type f 2>/dev/null | wc -l; }

# default: the battery never completes a message
audit -f json "127.0.0.1:$PF_PORT" > "$TMP/plain.json"
tap_is "$(jq -r .verdict "$TMP/plain.json")" open_relay "the open Postfix is graded open_relay"
tap_is "$(jq -r 'has("confirmation")' "$TMP/plain.json")" false "without --confirm: no canary"
pf_flush; sleep 1
tap_is "$(maildir_count)" 0 "and nothing reaches the mailbox"

# --confirm: one message, confirmed
t0=$(rg_now_ms)
audit -f json --confirm canary@canary.test --confirm-maildir "$BOX" --confirm-wait 30 \
	"127.0.0.1:$PF_PORT" > "$TMP/open.json"
secs=$(( ($(rg_now_ms) - t0) / 1000 ))
c=$(jq -c .confirmation "$TMP/open.json")
tap_is "$(jq -r .state <<<"$c")" confirmed "open Postfix: the canary arrived (confirmed)" || tap_diag "$c"
tap_like "$(jq -r .verdict_reason "$TMP/open.json")" 'CONFIRMED: the canary \(token [a-z0-9]+\) arrived' "the verdict says confirmed"
tap_is "$(maildir_count)" 1 "exactly one message in the Maildir"
token=$(jq -r .token <<<"$c")
tap_like "$token" '^[a-z0-9]{24}$' "a per-target token ($token)"
tap_check "the delivered message carries the token" grep -rq "X-Relayguard-Canary: $token" "$BOX"
tap_is "$(jq -r .probe <<<"$c")" "$(jq -r '[.tests[] | select((.control|not) and .outcome=="accepted")][0].id' "$TMP/open.json")" \
	"sent through the first accepted relay probe"
tap_check "bounded: the run took ${secs} s (< 90)" test "$secs" -lt 90
txt=$(audit --confirm canary@canary.test --confirm-maildir "$BOX" --confirm-wait 30 "127.0.0.1:$PF_PORT")
tap_like "$txt" 'Confirmation canary \(probe [^)]*\): confirmed - the canary' "the text report says so"
tap_is "$(maildir_count)" 2 "one more message for one more run"

# an accept-all server: the canary settles it
port=$(rg_free_port tcp)
"$HOSTILE" accept-all-nodata "$port" 100 > "$TMP/aa.ready" 2>/dev/null &
rg_cleanup_add "rg_kill_pid $!"
rg_retry 5 grep -q ready "$TMP/aa.ready" || tap_bail "hostile_smtpd did not start"
audit -f json --confirm canary@canary.test --confirm-maildir "$BOX" --confirm-wait 5 \
	"127.0.0.1:$port" > "$TMP/aa.json"
tap_is "$(jq -r .verdict "$TMP/aa.json")" accept_all "accept-all server: graded accept_all"
tap_is "$(jq -r .confirmation.state "$TMP/aa.json")" refused_at_data "settled: the canary is refused at DATA"
tap_like "$(jq -r .verdict_reason "$TMP/aa.json")" 'settled by the canary: data: 554' "the reason says how it was settled"
audit -f iodef --confirm canary@canary.test --confirm-maildir "$BOX" --confirm-wait 5 \
	"127.0.0.1:$port" > "$TMP/aa.xml"
aaexp=$(xmllint --nonet --xpath 'string(//*[local-name()="Expectation"]/*[local-name()="Description"])' "$TMP/aa.xml" 2>/dev/null)
tap_like "$aaexp" '^Investigate: ACCEPT-ALL \(not a relay at DATA\) - ' "IODEF Expectation: ACCEPT-ALL in the text report's words"
tap_unlike "$aaexp" 'inconclusive' "not called inconclusive"
tap_check "and the IODEF validates" xmllint --nonet --noout --schema schemas/iodef/iodef-2.0-offline.xsd "$TMP/aa.xml"

# a closed Postfix: nothing accepted, nothing sent
pf_postconf "mynetworks = 127.0.0.1/32" > /dev/null
audit -f json --confirm canary@canary.test --confirm-maildir "$BOX" "127.0.0.1:$PF_PORT" > "$TMP/closed.json"
tap_is "$(jq -r .verdict "$TMP/closed.json")" closed "closed Postfix: closed"
tap_is "$(jq -r 'has("confirmation")' "$TMP/closed.json")" false "and no canary is sent"
tap_is "$(maildir_count)" 2 "the mailbox got nothing more"

"$AUDIT" --confirm canary@canary.test 127.0.0.1 > /dev/null 2> "$TMP/err"
tap_is "$?" 64 "--confirm without --confirm-maildir is a usage error (64)"
tap_like "$(cat "$TMP/err")" 'confirm-maildir' "naming what is missing"
"$AUDIT" --confirm not-a-mailbox --confirm-maildir "$BOX" 127.0.0.1 > /dev/null 2>&1
tap_is "$?" 64 "a bad mailbox is refused (a usage error, 64)"
pf_stop
tap_done

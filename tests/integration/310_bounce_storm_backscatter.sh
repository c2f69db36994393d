#!/bin/bash
# Inbound backscatter on a real Postfix (profile "closed"): an outside
# client (127.0.0.2) delivers null-sender DSNs - bounces of mail some spammer
# sent elsewhere with our users as forged senders - to many local
# recipients. relayguard-milter (smtpd_milters only) with BounceWindow 10,
# BounceStormAction header and BounceHardLimit 25:
#   - one bounce-storm event of origin "inbound" names the client, and does
#     not call it open-relay abuse (the returned Received: line is not ours);
#   - bounces during the storm carry X-Relayguard-Bounce-Storm;
#   - bounces over the hard limit get 451 4.7.1 (tempfail), none before;
#   - a bounce-storm-end event follows when the rate falls back;
#   - a null-sender message with several recipients is logged as an anomaly.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/postfix.sh
source tests/milter/lib.sh

rg_built "$MILTER"
command -v python3 >/dev/null || tap_bail "python3 needed for tests/milter/send.py"
N=30
LIMIT=25
T0=$(rg_now_ms)

ml_start "Mode enforce
BounceWindow 10
BounceSummaryInterval 10
BounceStormAction header
BounceHardLimit $LIMIT" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"

aliases=
for i in $(seq 0 $((N + 5))); do aliases="${aliases}u$i: root
"; done
PF_ALIASES_EXTRA=$aliases PF_MAIN_EXTRA="smtpd_milters = unix:$ML_SOCK
milter_default_action = tempfail
milter_command_timeout = 10s" pf_start closed || tap_bail "cannot start Postfix (closed)"

# A DSN from a foreign MTA about a message it received from 203.0.113.9.
cat >"$ML_DIR/backscatter.eml" <<'EOM'
From: Mail Delivery System <MAILER-DAEMON@mx.elsewhere.example>
To: u0@site.example
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="B1.elsewhere"

--B1.elsewhere
Content-Type: text/plain

Your message could not be delivered.

--B1.elsewhere
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.elsewhere.example

Final-Recipient: rfc822; nobody@elsewhere.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <nobody@elsewhere.example>: Recipient address rejected

--B1.elsewhere
Content-Type: text/rfc822-headers

Return-Path: <u0@site.example>
Received: from spambot (unknown [203.0.113.9])
	by mx.elsewhere.example (Postfix) with ESMTP id 4711
From: u0@site.example
Subject: cheap watches

--B1.elsewhere--
EOM
sed -i 's/$/\r/' "$ML_DIR/backscatter.eml"

TS=$(rg_now_ms)
out=$(python3 tests/milter/send.py --port "$PF_PORT" --source 127.0.0.2 --sender '' \
	--rcpt 'u{i}@site.example' --count "$N" --body-file "$ML_DIR/backscatter.eml" \
	--timeout 30 -v)
tap_is "$(tail -1 <<<"$out")" "accepted=$LIMIT refused=0 tempfailed=$((N - LIMIT))" \
	"$N inbound bounces from one client: $LIMIT accepted, the rest over BounceHardLimit tempfailed"
tap_like "$(grep -m1 ' 451 ' <<<"$out")" "^# $LIMIT 451 .*4\.7\.1 Too many bounces" \
	"the first one over the limit gets 451 4.7.1 Too many bounces" || tap_diag "$out"

tap_check "a bounce-storm event appears" \
	rg_retry 10 grep -q '"event":"bounce_storm"' "$ML_DIR/events.jsonl"
ms=$(( $(rg_now_ms) - TS ))
storm=$(jq -c 'select(.event=="bounce_storm")' "$ML_DIR/events.jsonl")
tap_is "$(jq -s '[.[] | select(.event=="bounce_storm")] | length' "$ML_DIR/events.jsonl")" 1 "exactly one bounce-storm event"
tap_is "$(jq -r .origin <<<"$storm")" inbound "origin: inbound (backscatter)"
tap_is "$(jq -r .client_addr <<<"$storm")" 127.0.0.2 "it names the client delivering the bounces"
tap_like "$(jq -r .trigger <<<"$storm")" '^20 bounces from client 127\.0\.0\.2 in 10 s \(BounceClientThreshold 20\)' \
	"triggered by the per-client threshold (20 with the built-in default)"
tap_is "$(jq -r .relay_abuse <<<"$storm")" 0 "not open-relay abuse: the returned message was never ours"
tap_unlike "$(jq -r .reason <<<"$storm")" 'open-relay' "and the sentence does not say so"
tap_like "$(jq -r .reason <<<"$storm")" 'backscatter' "it says backscatter"
tap_like "$(jq -r '[.reporting_mtas[].value] | join(",")' <<<"$storm")" 'mx\.elsewhere\.example' \
	"it names the reporting MTA"
tap_like "$(jq -r '[.original_clients[].value] | join(",")' <<<"$storm")" '203\.0\.113\.9' \
	"and the client in the returned headers"
tap_is "$(jq -r .dominant_diagnostic <<<"$storm")" 'smtp; 550 5.1.1 <*>: Recipient address rejected' \
	"dominant diagnostic, addresses masked"
tap_is "$(ml_event_count bounce_tempfail)" $((N - LIMIT)) "each tempfail is logged"

tap_check "the accepted bounces are delivered" pf_wait_mailbox_count root "$LIMIT" 20
hdr=$(grep -l '^X-Relayguard-Bounce-Storm: origin=inbound' "$PF_MAIL_DIR"/root/new/* 2>/dev/null | wc -l)
tap_is "$hdr" $((LIMIT - 19)) "the bounces during the storm (from the 20th on) carry X-Relayguard-Bounce-Storm"

tap_check "a bounce-storm-end event follows when the rate falls back" \
	rg_retry 30 grep -q '"event":"bounce_storm_end"' "$ML_DIR/events.jsonl"
tap_like "$(jq -r 'select(.event=="bounce_storm_end") | .reason' "$ML_DIR/events.jsonl")" \
	'^bounce storm over after [0-9]+ s' "the end event says how long it lasted"

# --- anomaly: a null sender with several recipients -----------------------------
out=$(python3 tests/milter/send.py --port "$PF_PORT" --source 127.0.0.2 --sender '' \
	--rcpt 'u3{j}@site.example' --rcpts-per-message 3 --count 1 --timeout 10)
tap_is "$out" "accepted=1 refused=0 tempfailed=0" "a null-sender message with 3 recipients is accepted"
tap_is "$(ml_event_count null_sender_anomaly)" 1 "and logged once as null_sender_anomaly"
tap_like "$(jq -r 'select(.event=="null_sender_anomaly") | .reason' "$ML_DIR/events.jsonl")" \
	'3 recipients' "naming the recipient count"
tap_is "$(jq -c 'select(.event=="bounce_storm" and .origin=="generated")' "$ML_DIR/events.jsonl" | wc -l)" 0 \
	"nothing was counted as generated here"

ml_stop
tap_diag "backscatter storm event $((ms / 1000)).$(printf %03d $((ms % 1000))) s after the first bounce; 310_bounce_storm_backscatter took $(( ($(rg_now_ms) - T0) / 1000 )) s"
tap_done

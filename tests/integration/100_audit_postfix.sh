#!/bin/bash
# relayguard-audit against a real private Postfix: the open profile is an
# open relay (exit 2) and nothing reaches the next hop during the audit; the
# closed profile is closed (exit 0). A positive control proves the sink
# counter would have seen a relayed message.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/postfix.sh

audit() { "$AUDIT" -s 127.0.0.2 -p "$PF_PORT" -d victim.example -t 10 "$@" 127.0.0.1; }

# --- open profile ---------------------------------------------------------
pf_start open || tap_bail "cannot start Postfix (open)"
out=$(audit -f json -T); rc=$?
tap_is "$rc" 2 "open profile: exit status 2 (open_relay)"
tap_is "$(jq -r .verdict <<<"$out")" open_relay "open profile: verdict open_relay"
n=$(jq '.tests | length' <<<"$out")
tap_like "$n" '^([4-9][0-9]|[1-9][0-9]{2})$' "battery has at least 40 probes ($n)"
tap_check "open profile: every relay probe accepted at RCPT" jq -e \
	'[.tests[] | select(.control|not)] as $t | ($t|length) >= 38 and all($t[]; .outcome=="accepted")' <<<"$out"
tap_is "$(jq -r '.tests[] | select(.id=="C2") | .outcome' <<<"$out")" accepted \
	"open Postfix accepts the impossible control recipient too"
tap_like "$(jq -r '[.tests[] | select(.data=="taken")] | length' <<<"$out")" '^[1-9]' \
	"DATA taken (354) for a relay probe decides open_relay"
tap_like "$(jq -r '.transcript[] | select(.dir==">") | .line' <<<"$out")" $'(^|\n)DATA(\n|$)' \
	"the transcript records the DATA commands sent"
tap_is "$(jq -r '.transcript[] | select(.dir==">") | .line' <<<"$out" | grep -cx '\.')" 0 \
	"the transcript never shows a final dot sent"
tap_like "$(jq -r '.transcript[] | .line' <<<"$out")" 'dropping the connection before end of data' \
	"the transcript records the drop after 354"
tap_like "$(jq -r .recommended_fix <<<"$out")" 'reject_unauth_destination' \
	"the report names the Postfix fix"
tap_like "$(jq -r .start <<<"$out")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+[+-][0-9]{2}:[0-9]{2}$' \
	"start time is ISO 8601 with UTC offset"
tap_is "$(jq -r .mta <<<"$out")" Postfix "fingerprint: Postfix"
pf_flush
pf_wait_queue_empty 10
tap_is "$(pf_log_count 'status=sent')" 0 "Postfix delivered nothing during the audit (maillog: no status=sent)"
tap_is "$(pf_sink_count)" 0 "smtp-sink received zero messages during the audit"
tap_is "$(pf_queue_count)" 0 "nothing waits in the Postfix queue"
# Positive control: a real relayed message does reach the sink and is counted.
pf_swaks --local-interface 127.0.0.2 --from x@outside.example --to victim@faraway.example >/dev/null 2>&1
pf_wait_sink_count 1 10
tap_is "$(pf_sink_count)" 1 "positive control: one message relayed by swaks is counted"
txt=$(audit); rc=$?
tap_like "$txt" 'MAIL FROM:<relaytest@\[127\.0\.0\.1\]> -> RCPT TO:<relaytest%victim\.example@\[127\.0\.0\.1\]>' \
	"text report: one line per probe in MAIL FROM -> RCPT TO shape"
tap_like "$txt" 'Verdict: OPEN RELAY' "text report: verdict line"
pf_stop

# --- closed profile -------------------------------------------------------
pf_start closed || tap_bail "cannot start Postfix (closed)"
out=$(audit -f json); rc=$?
tap_is "$rc" 0 "closed profile: exit status 0"
tap_is "$(jq -r .verdict <<<"$out")" closed "closed profile: verdict closed"
tap_check "closed profile: every relay probe rejected" jq -e \
	'[.tests[] | select(.control|not)] as $t | ($t|length) >= 38 and all($t[]; .outcome=="rejected")' <<<"$out"
tap_is "$(jq -r '.tests[] | select(.id=="A1") | "\(.code) \(.enhanced)"' <<<"$out")" "554 5.7.1" \
	"closed profile: A1 refused with 554 5.7.1"
tap_is "$(jq -r '.tests[] | select(.id=="C1") | .outcome' <<<"$out")" accepted "baseline postmaster accepted"
# No probe may have waited out Postfix's error sleep (soft limit 10 errors).
tap_is "$(jq -r '[.tests[] | select(.code == null)] | length' <<<"$out")" 0 "every probe got a reply"
tap_check "sessions renewed before smtpd_soft_error_limit" \
	test "$(jq -r .sessions <<<"$out")" -ge 4
tap_is "$(pf_log_count 'too many errors')" 0 "Postfix never logged 'too many errors'"
# From a trusted address the closed server does relay: the vantage point matters.
"$AUDIT" -s 127.0.0.1 -p "$PF_PORT" -d victim.example -f json 127.0.0.1 >/dev/null; rc=$?
tap_is "$rc" 2 "from inside mynetworks the same server looks open (vantage point)"
pf_stop

# --- usage errors ---------------------------------------------------------
"$AUDIT" >/dev/null 2>&1; tap_is "$?" 64 "no target: usage error, exit 64"
err=$("$AUDIT" -p 99999 127.0.0.1 2>&1); rc=$?
tap_is "$rc" 64 "bad port: usage error, exit 64"
tap_like "$err" "--port" "bad port: the message names the option"
np=$(rg_free_port tcp)	# nothing listens: a regression never probes a real server
err=$("$AUDIT" -p "$np" --connect-timeout 1 '[::1' 2>&1); tap_like "$err" "missing '\]'" "bad target: clear error"
err=$("$AUDIT" -p "$np" --connect-timeout 1 -d 'bad domain!' 127.0.0.1 2>&1)
tap_like "$err" "not a domain" "bad --domain: clear error"
p=$(rg_free_port)
out=$("$AUDIT" -p "$p" --connect-timeout 2 -f json 127.0.0.1); rc=$?
tap_is "$rc" 3 "nothing listening: exit 3"
tap_is "$(jq -r .verdict <<<"$out")" unreachable "nothing listening: unreachable"
tap_done

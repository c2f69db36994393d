#!/bin/bash
# The penalty box (milter/abuser.h) in front of a real, open Postfix: a
# source (AbuserPrefix4 24: 127.0.0.0/24) that makes AbuserThreshold (3)
# refused relay attempts is boxed:
#   - log-only: abuser_would_box once, mail still flows;
#   - enforce: below the threshold local mail flows; at it, abuser_boxed once
#     with counts and evidence window; then every transaction of the /24
#     gets 554 5.7.1 at MAIL FROM, except the trusted 127.0.0.1 in that /24;
#     Prometheus counters; abuser_released after AbuserBlockTime, mail flows;
#   - AbuserStage connect with a 421 reply: the next connection is turned
#     away with a 421 greeting, before MAIL;
#   - -t shows the effective values, or that the box is off.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/postfix.sh
source tests/milter/lib.sh

rg_built "$MILTER"
for t in curl jq swaks; do
	command -v "$t" >/dev/null || tap_bail "$t not installed"
done
T0=$(rg_now_ms)
MPORT=$(rg_free_port tcp) || tap_bail "no free port"
BOX="AbuserThreshold 3
AbuserWindow 60
AbuserBlockTime 10
AbuserPrefix4 24
AbuserExempt 127.0.3.7
MetricsListen 127.0.0.1:$MPORT"

ml_start "Mode log-only
$BOX" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"
PF_MAIN_EXTRA="smtpd_milters = unix:$ML_SOCK
milter_default_action = tempfail
milter_connect_timeout = 5s
milter_command_timeout = 10s" pf_start open || tap_bail "cannot start Postfix (open)"

scrape() { curl -sS --max-time 5 "http://127.0.0.1:$MPORT/metrics"; }
# attempt FROM_ADDR N LOG: one transaction with N recipients at victim.example
attempt() {
	local to= i
	for ((i = 1; i <= $2; i++)); do to="$to${to:+,}r$i@victim.example"; done
	pf_swaks --local-interface "$1" --from a@other.example --to "$to" >"$ML_DIR/$3" 2>&1
}
# local FROM_ADDR LOG: mail to a local domain (never a relay attempt)
local_mail() {
	pf_swaks --local-interface "$1" --from a@other.example \
		--to postmaster@mail.site.example >"$ML_DIR/$2" 2>&1
}
event() { jq -c --arg e "$1" 'select(.event == $e)' "$ML_DIR/events.jsonl"; }
reload_with() {	# CONFIG LINES: replace the test's lines, SIGUSR1, wait
	local n
	n=$(grep -c "reloaded " "$ML_DIR/milter.log")
	sed -i -e '/^Mode /d' -e '/^Abuser/d' -e '/^MetricsListen /d' "$ML_DIR/relayguard.conf"
	printf '%s\n' "$1" >>"$ML_DIR/relayguard.conf"
	kill -USR1 "$ML_PID"
	rg_retry 10 rg_count_ge $((n + 1)) grep -c "reloaded " "$ML_DIR/milter.log"
}

# --- -t: the effective values ---------------------------------------------
out=$("$MILTER" -t -c "$ML_DIR/relayguard.conf" 2>&1)
tap_like "$out" 'penalty box: 3 refused relay attempts within 60 s from one /24 \(IPv4\) or /128 \(IPv6\) box it for 10 s; refused at MAIL FROM with "554 5.7.1 Too many refused relay attempts.*" \(Mode log-only: logged, never refused\)' \
	"-t shows the penalty box's effective values"
grep -v '^Abuser' "$ML_DIR/relayguard.conf" >"$ML_DIR/off.conf"
tap_like "$("$MILTER" -t -c "$ML_DIR/off.conf" 2>&1)" 'penalty box: off \(AbuserThreshold 0\)' \
	"-t says the box is off until configured"

# --- log-only: would box, refuses nothing ------------------------------------
attempt 127.0.1.2 4 lo.log
tap_is "$?" 0 "log-only: 4 relay recipients from 127.0.1.2 are accepted"
tap_is "$(event abuser_would_box | wc -l)" 1 "log-only: abuser_would_box logged once"
tap_is "$(event abuser_would_box | jq -r '"\(.source) \(.attempts) \(.action)"')" \
	"127.0.1.0/24 3 log-only" "log-only: it names the source, the count and the action"
local_mail 127.0.1.2 lo-local.log
tap_is "$?" 0 "log-only: the would-be boxed source still sends mail"
tap_is "$(event abuser_boxed | wc -l)" 0 "log-only: nothing is boxed"

# --- enforce, at MAIL FROM ------------------------------------------------------
reload_with "Mode enforce
$BOX" || tap_bail "reload to enforce failed: $(tail -3 "$ML_DIR/milter.log")"
attempt 127.0.0.2 2 e1.log
tap_like "$(cat "$ML_DIR/e1.log")" '554 5.7.1 <r1@victim.example>: Relay access denied' \
	"enforce: the relay attempts are refused"
local_mail 127.0.0.2 e1-local.log
tap_is "$?" 0 "2 attempts (below the threshold): local mail still flows"
tap_is "$(event abuser_boxed | wc -l)" 0 "not boxed below the threshold"
attempt 127.0.0.2 1 e2.log
tap_is "$(event abuser_boxed | wc -l)" 1 "the 3rd attempt boxes the source: abuser_boxed"
boxed=$(event abuser_boxed)
tap_is "$(jq -r '"\(.source) \(.client_addr) \(.attempts) \(.threshold) \(.window) \(.block_time) \(.action)"' <<<"$boxed")" \
	"127.0.0.0/24 127.0.0.2 3 3 60 10 reject" "abuser_boxed carries source, counts, window and block time"
tap_check "abuser_boxed carries the evidence window as ISO 8601 times with offset" \
	jq -e '(.first_attempt, .last_attempt, .until) | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+[+-][0-9]{2}:[0-9]{2}$")' <<<"$boxed"
tap_like "$(jq -r .evidence_seconds <<<"$boxed")" '^[0-9]+$' "and its length in seconds"

local_mail 127.0.0.2 boxed-local.log
tap_like "$(grep -E '^<\*\* +5' "$ML_DIR/boxed-local.log" | head -1)" \
	'554 5.7.1 Too many refused relay attempts' "boxed: even local mail is refused at MAIL FROM" ||
	tap_diag "$(tail -8 "$ML_DIR/boxed-local.log")"
tap_like "$(grep -B1 -E '^<\*\* +554' "$ML_DIR/boxed-local.log" | head -1)" 'MAIL FROM' \
	"the refusal comes at MAIL FROM, not RCPT"
local_mail 127.0.0.3 boxed-neighbour.log
tap_like "$(cat "$ML_DIR/boxed-neighbour.log")" '554 5.7.1 Too many' \
	"AbuserPrefix4 24: a neighbour in the /24 is boxed too"
before=$(pf_sink_count)
pf_swaks --local-interface 127.0.0.1 --from user@site.example --to friend@victim.example \
	>"$ML_DIR/trusted.log" 2>&1
tap_is "$?" 0 "TrustedNetworks (127.0.0.1, in the boxed /24) is never boxed: relaying accepted" ||
	tap_diag "$(tail -5 "$ML_DIR/trusted.log")"
tap_check "the trusted client's message reaches smtp-sink" pf_wait_sink_count $((before + 1)) 10
attempt 127.0.0.2 2 e3.log
tap_is "$(event abuser_boxed | wc -l)" 1 "abuser_boxed is logged once per box"
m=$(scrape)
tap_like "$m" $'relayguard_abuser_boxed_total\\{action="enforce"\\} 1\n' "metrics: one box"
tap_like "$m" $'relayguard_abuser_boxed_total\\{action="log-only"\\} 1\n' "metrics: one would-be box"
tap_like "$m" $'relayguard_abuser_refused_total\\{stage="mail"\\} [3-9]\n' "metrics: refused transactions at MAIL"
tap_like "$m" $'relayguard_abuser_boxed 1\n' "metrics: one source boxed now"

# an exempt address (our own auditor) is refused as before, never boxed
attempt 127.0.3.7 4 ex.log
tap_like "$(cat "$ML_DIR/ex.log")" '554 5.7.1 <r1@victim.example>: Relay access denied' \
	"AbuserExempt: its relay attempts are still refused"
local_mail 127.0.3.7 ex-local.log
tap_is "$?" 0 "AbuserExempt: 4 refused attempts (over the threshold) and it is not boxed"
tap_is "$(event abuser_boxed | jq -r 'select(.source=="127.0.3.0/24") | .source')" "" \
	"AbuserExempt: no abuser_boxed for it"
local_mail 127.0.3.8 ex-neighbour.log
tap_is "$?" 0 "and its /24 neighbour is not boxed through it"

# --- release after AbuserBlockTime ----------------------------------------------
tap_check "abuser_released after AbuserBlockTime (10 s)" \
	rg_retry 30 rg_count_ge 1 bash -c "jq -c 'select(.event==\"abuser_released\")' '$ML_DIR/events.jsonl' | wc -l"
rel=$(event abuser_released | jq -c 'select(.source == "127.0.0.0/24")')
tap_like "$(jq -r '"\(.client_addr) \(.refused) \(.boxed_seconds)"' <<<"$rel")" '^127\.0\.0\.2 [3-9] (9|1[0-9]|2[0-9])$' \
	"abuser_released names the source, what it refused and how long"
local_mail 127.0.0.2 released-local.log
tap_is "$?" 0 "released: local mail flows again"
tap_like "$(scrape)" $'relayguard_abuser_boxed 0\n' "metrics: nobody boxed now"

# --- AbuserStage connect, 421 ------------------------------------------------------
reload_with "Mode enforce
$BOX
AbuserStage connect
AbuserReply 421 4.7.1 Go away for a while" || tap_bail "reload to connect stage failed"
attempt 127.0.2.2 3 c1.log
tap_is "$(event abuser_boxed | jq -r 'select(.source=="127.0.2.0/24") | .action')" tempfail \
	"connect stage: 127.0.2.0/24 boxed (action tempfail for a 421)"
local_mail 127.0.2.2 c-local.log
# Postfix answers a milter's 421 at CONNECT with its own 421 greeting text
tap_like "$(grep -E '^<\*\* ' "$ML_DIR/c-local.log" | head -1)" '^<\*\* 421 ' \
	"connect stage: the next connection is greeted with 421" || tap_diag "$(tail -8 "$ML_DIR/c-local.log")"
tap_unlike "$(cat "$ML_DIR/c-local.log")" ' -> MAIL FROM' "connect stage: not even MAIL FROM is sent"
tap_like "$(scrape)" $'relayguard_abuser_refused_total\\{stage="connect"\\} [1-9]' "metrics: refused at connect"

pf_stop
ml_stop
tap_diag "288_milter_penalty_box took $(( ($(rg_now_ms) - T0) / 1000 )) s"
tap_done

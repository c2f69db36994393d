#!/bin/bash
# relayguard-milter in front of a real sendmail 8.17 that relays for anyone
# (tests/lib/sendmail.sh profile "open": FEATURE(promiscuous_relay)), wired
# in with INPUT_MAIL_FILTER(..., F=T) (REFERENCE.md 4):
#   - the recipient forms this sendmail itself accepts from an outsider
#     (measured first without the milter) and the auditor's whole battery are
#     refused from an untrusted client (127.0.0.2); the audit says closed;
#     smtp-sink receives nothing;
#   - local mail from the outsider, relaying from the trusted host and after
#     SMTP AUTH (Cyrus SASL sasldb, TRUST_AUTH_MECH) pass;
#   - milter killed: F=T makes sendmail answer 4xx, nothing is relayed;
#   - log-only: relayed mail flows and each attempt is logged.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/sendmail.sh
source tests/milter/lib.sh

rg_built "$MILTER"
T0=$(rg_now_ms)

# The routing forms sendmail resolves itself when it may relay
# (tests/tools/milter_macros.py: {rcpt_addr} becomes victim@victim.example,
# {rcpt_mailer} esmtp), and the plain one.
FORMS=(victim@victim.example
	'victim%victim.example@mail.site.example'
	'victim%victim.example@site.example'
	'"victim@victim.example"@site.example'
	'victim.example!victim@site.example'
	'@site.example:victim@victim.example'
	'@mail.site.example:victim@victim.example')

rcpt_reply() {	# FROM_IP RCPT: the RCPT reply code
	mta_swaks --local-interface "$1" --from x@outside.example --to "$2" \
		--quit-after RCPT 2>&1 | grep -E '^(<-|<\*\*) +[0-9]{3}' | tail -n 2 | head -n 1 |
		sed -E 's/^(<-|<\*\*) +([0-9]{3}).*/\2/'
}

# --- 1. without the milter: which forms does this sendmail accept? ---------
mta_start sendmail open || tap_bail "cannot start sendmail (open): see the reason above"
accepted=()
for f in "${FORMS[@]}"; do
	[ "$(rcpt_reply 127.0.0.2 "$f")" = 250 ] && accepted+=("$f")
done
tap_is "${#accepted[@]}" "${#FORMS[@]}" \
	"without the milter, the open sendmail accepts every form from an outsider (${accepted[*]})"
real=$(mta_relays_real 127.0.0.2 --to 'victim%victim.example@site.example')
tap_is "$real" relayed "without the milter, a percent-hack message really relays"
mta_stop

# --- 1b. what sendmail tells a milter (relayguard-milter.8, measured) -------
# The measuring milter (tests/tools/milter_macros.py, Debian python3-milter)
# asks for the same macro lists as relayguard-milter and logs them.
MD=$(mktemp -d "${TMPDIR:-/tmp}/rg-macros.XXXXXX")
chmod 755 "$MD"
rg_cleanup_add "rm -rf '$MD'"
rg_spawn "$MD/probe.log" /usr/bin/python3 tests/tools/milter_macros.py "unix:$MD/m.sock" "$MD/macros.jsonl"
PROBE_PID=$RG_SPAWN_PID
if rg_retry 10 test -S "$MD/m.sock"; then
	MTA_EXTRA="INPUT_MAIL_FILTER(\`probe', \`S=unix:$MD/m.sock, F=T, T=C:1m;S:10s;R:10s;E:5m')dnl" \
		mta_start sendmail open || tap_bail "cannot start sendmail (open + measuring milter)"
	for f in postmaster@site.example 'victim%victim.example@site.example' \
		'"victim@victim.example"@site.example' 'victim.example!victim@site.example' \
		'@site.example:victim@victim.example' victim@victim.example; do
		rcpt_reply 127.0.0.2 "$f" >/dev/null
	done
	mta_stop
	rcpt() { jq -r --arg a "$1" 'select(.stage=="envrcpt" and .arg==$a) | .macros | "\(.["{rcpt_mailer}"]) \(.["{rcpt_addr}"])"' "$MD/macros.jsonl" | head -n 1; }
	tap_is "$(rcpt '<postmaster@site.example>')" "local postmaster" \
		"sendmail: {rcpt_mailer} local, {rcpt_addr} without domain and before aliasing"
	tap_is "$(rcpt '<victim@victim.example>')" "esmtp victim@victim.example" "sendmail: relayed {rcpt_mailer} is esmtp"
	for f in 'victim%victim.example@site.example' '"victim@victim.example"@site.example' \
		'victim.example!victim@site.example' '@site.example:victim@victim.example'; do
		tap_is "$(rcpt "<$f>")" "esmtp victim@victim.example" \
			"sendmail resolves <$f> to the outside address before the milter sees it"
	done
	tap_like "$(jq -r 'select(.stage=="envfrom") | .macros.i // "none"' "$MD/macros.jsonl" | head -n 1)" '^[0-9A-Za-z]{10,}$' \
		"sendmail: the queue id i is set at MAIL already"
else
	tap_fail "the measuring milter (python3-milter) did not start" "$(cat "$MD/probe.log")"
fi
rg_kill_pid "$PROBE_PID" 5

# --- 2. with the milter, enforce --------------------------------------------
ml_start "Mode enforce" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"
tap_ok "relayguard-milter listens on unix:$ML_SOCK"
SM_AUTH=1 MTA_EXTRA="INPUT_MAIL_FILTER(\`relayguard', \`S=unix:$ML_SOCK, F=T, T=C:1m;S:10s;R:10s;E:5m')dnl" \
	mta_start sendmail open || tap_bail "cannot start sendmail (open + milter)"
tap_like "$(grep -E '^Xrelayguard' "$MTA_DIR/etc/sendmail.cf")" 'F=T' "the .cf names the milter with F=T"

for f in "${FORMS[@]}"; do
	code=$(rcpt_reply 127.0.0.2 "$f")
	tap_like "$code" '^5[0-9][0-9]$' "untrusted client: RCPT TO:<$f> refused ($code)"
done
out=$(mta_swaks --local-interface 127.0.0.2 --from x@outside.example --to victim@victim.example 2>&1)
tap_like "$out" '554 5.7.1 <victim@victim.example>: Relay access denied' \
	"the refusal is the milter's 554 5.7.1 Relay access denied"

json=$("$AUDIT" -s 127.0.0.2 -p "$MTA_PORT" -d victim.example -t 15 -f json 127.0.0.1); rc=$?
tap_is "$(jq -r .verdict <<<"$json")" closed "open sendmail + milter: the audit says closed"
tap_is "$rc" 0 "audit exit status 0"
tap_is "$(jq -r '[.tests[] | select(.control|not) | select(.outcome == "accepted")] | length' <<<"$json")" 0 \
	"no relay probe of the battery was accepted" ||
	tap_diag "$(jq -c '.tests[] | select(.control|not) | select(.outcome == "accepted") | {id,rcpt,code}' <<<"$json")"
nref=$(jq -r '[.tests[] | select(.control|not) | select(.outcome == "rejected")] | length' <<<"$json")
tap_like "$nref" '^[1-9][0-9]+$' "$nref relay probes reached RCPT and were refused"
tap_diag "untested (refused before RCPT by sendmail itself):" \
	"$(jq -r '[.tests[] | select(.control|not) | select(.outcome != "rejected" and .outcome != "accepted") | "\(.id)=\(.code)"] | join(" ")' <<<"$json")"
mta_flush
sleep 2
tap_is "$(mta_sink_count)" 0 "smtp-sink received nothing"
tap_like "$(ml_event_count relay_refused)" '^[1-9][0-9]*$' "the milter logged relay_refused events"
tap_like "$(grep -c 'Milter: to=<.*reject=554 5.7.1' "$MTA_LOG")" '^[1-9]' \
	"sendmail logs the milter's rejections"

# --- 3. what must still pass ------------------------------------------------
tap_check "untrusted client: mail to postmaster@site.example is delivered locally" mta_local_ok 127.0.0.2
tap_is "$(mta_relays_real 127.0.0.1)" relayed "trusted client (127.0.0.1): relaying works"
tap_is "$(mta_relays_real 127.0.0.2 --auth PLAIN --auth-user relayuser --auth-password relaypass)" relayed \
	"untrusted address after SMTP AUTH: relaying works (the milter sees {auth_authen})"

# --- 4. milter killed: F=T tempfails ----------------------------------------
kill -KILL "$ML_PID"
wait "$ML_PID" 2>/dev/null
rg_wait_pids_gone 5 "$ML_PID"
sink_before=$(mta_sink_count)
out=$(mta_swaks --local-interface 127.0.0.2 --from x@outside.example --to victim@victim.example 2>&1)
tap_like "$(grep -E '^<\*\* +[0-9]' <<<"$out" | head -n 1)" '^<\*\* +4[0-9][0-9] ' \
	"milter down: an outsider's relay attempt gets 4xx, not 250" || tap_diag "$(tail -n 6 <<<"$out")"
out=$(mta_swaks --local-interface 127.0.0.1 --from x@site.example --to victim@victim.example 2>&1)
tap_like "$(grep -E '^<\*\* +[0-9]' <<<"$out" | head -n 1)" '^<\*\* +4[0-9][0-9] ' \
	"milter down: the trusted host's mail is deferred too (F=T)" || tap_diag "$(tail -n 6 <<<"$out")"
mta_flush
sleep 2
tap_is "$(mta_sink_count)" "$sink_before" "milter down: nothing was relayed"
tap_is "$(mta_queue_count)" 0 "milter down: nothing was queued (the client keeps the message)"

# --- 5. log-only ---------------------------------------------------------------
rm -f "$ML_SOCK"
sed -i 's/^Mode enforce$/Mode log-only/' "$ML_DIR/relayguard.conf"
rg_spawn "$ML_DIR/milter2.log" "$MILTER" -f -c "$ML_DIR/relayguard.conf"
ML_PID=$RG_SPAWN_PID
rg_retry 5 test -S "$ML_SOCK" || tap_bail "the milter did not restart"
before=$(ml_event_count relay_would_refuse)
tap_is "$(mta_relays_real 127.0.0.2)" relayed "log-only: an outsider's relayed mail flows to the sink"
tap_is "$(ml_event_count relay_would_refuse)" $((before + 1)) "log-only: the attempt is logged as relay_would_refuse"
tap_is "$(jq -r 'select(.event=="relay_would_refuse") | "\(.client_addr) \(.recipient) \(.action)"' "$ML_DIR/events.jsonl" | tail -n 1)" \
	"127.0.0.2 <victim@victim.example> log-only" "log-only event names client, recipient and action"

ml_stop
mta_stop
tap_diag "240_milter_sendmail took $((($(rg_now_ms) - T0) / 1000)) s"
tap_done

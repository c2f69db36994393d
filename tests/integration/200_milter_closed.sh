#!/bin/bash
# relayguard-milter as a sensor behind a correctly configured Postfix
# (profile "closed"): Postfix refuses relaying itself (reject_unauth_destination
# runs before the milter), and thanks to SMFIP_RCPT_REJ the milter still sees
# and logs every one of those relay attempts ({rcpt_mailer} = error), counts
# them per client and writes the summary line.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/postfix.sh
source tests/milter/lib.sh

rg_built "$MILTER"
T0=$(rg_now_ms)
ml_start "Mode enforce" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"
PF_MAIN_EXTRA="smtpd_milters = unix:$ML_SOCK
milter_default_action = tempfail" pf_start closed || tap_bail "cannot start Postfix (closed)"

out=$("$AUDIT" -s 127.0.0.2 -p "$PF_PORT" -d victim.example -t 15 -f json 127.0.0.1); rc=$?
tap_is "$rc" 0 "closed Postfix + milter: relayguard-audit exits 0 (closed)"
nprobes=$(jq '[.tests[] | select(.control|not)] | length' <<<"$out")
# Postfix's own refusals (the milter's 554 uses the same words: not those)
nmta=$(($(pf_log_count 'Relay access denied') - $(pf_log_count 'milter-reject: RCPT')))
tap_like "$nmta" '^[1-9][0-9]*$' "Postfix itself refused $nmta relay attempts"
nlog=$(ml_event_count relay_refused_by_mta)
# The address literal [127.0.0.1] is the server's own address ({daemon_addr}):
# local to Postfix and, with no LocalDomains entry for it, to the milter
# too (RFC 5321 4.5.1). The control per local name there (C3, a random
# local part: "User unknown" from Postfix) is no relay attempt, and the
# local recipient the after-local probe sends first there (L1:
# postmaster@[127.0.0.1]) passes the milter.
nl1=$(jq '[.tests[] | select((.first_rcpt_to // "") | test("@\\[127\\.0\\.0\\.1\\]"))] | length' <<<"$out")
tap_like "$nl1" '^[1-9][0-9]*$' "the after-local probes sent $nl1 first recipients at [127.0.0.1]"
tap_is "$nlog" "$nmta" "the milter logged each of them as relay_refused_by_mta"
tap_is "$(ml_event_count relay_refused)" 0 \
	"and never had to refuse one itself (postmaster@[127.0.0.1] included)"
tap_is "$(jq -r 'select(.recipient // "" | test("@\\[127\\.0\\.0\\.1\\]>$")) | .recipient' "$ML_DIR/events.jsonl" | grep -vc '[%!]\|@.*@')" 0 \
	"no recipient at the server's own literal is logged as a relay attempt"
tap_is "$(jq -r 'select(.event=="relay_refused_by_mta") | .client_addr' "$ML_DIR/events.jsonl" | sort -u)" \
	127.0.0.2 "every event names the client 127.0.0.2"
tap_like "$(jq -r 'select(.event=="relay_refused_by_mta") | .reason' "$ML_DIR/events.jsonl" | sort -u | head -20)" \
	"routing operator|not local" "events carry the milter's own reason"
tap_diag "battery: $nprobes relay probes; Postfix refused $nmta recipients; milter logged $nlog"

# The per-client summary (SummaryInterval 10).
tap_check "the summary line counts the client's relay attempts" \
	rg_retry 15 grep -qE "reason=\"127\.0\.0\.2: [0-9]+ relay attempts in [0-9]+ s\"" "$ML_DIR/milter.log"
tap_like "$(jq -r 'select(.event=="relay_summary") | .count' "$ML_DIR/events.jsonl" | head -1)" "^$nlog\$" \
	"the summary's count equals the logged attempts"

ml_stop
tap_check "SIGTERM stops the milter cleanly" grep -q "stopping (smfi_main returned 0)" "$ML_DIR/milter.log"
tap_diag "200_milter_closed took $(( ($(rg_now_ms) - T0) / 1000 )) s"
tap_done

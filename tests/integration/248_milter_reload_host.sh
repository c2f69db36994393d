#!/bin/bash
# The host field's default follows a reload (review 1, item 13): events
# without the MTA's host name (no macro j) name AuthservID, else the host
# name. Before the fix it was set once at start: after AuthservID changed
# and SIGUSR1 reloaded the config, events still named the old one.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/milter/lib.sh

rg_built "$MILTER"
ml_start "Mode enforce
AuthservID first.example" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"
RAW=(python3 tests/milter/rawmilter.py --socket "unix:$ML_SOCK" --family 4 --addr 192.0.2.8 --myhostname '')
hosts() { jq -r 'select(.event=="relay_refused") | .host' "$ML_DIR/events.jsonl" | tr '\n' ' '; }

"${RAW[@]}" --rcpt '<a@victim.example>' >/dev/null
tap_is "$(hosts)" "first.example " "before the reload: host = AuthservID first.example"
sed -i 's/^AuthservID .*/AuthservID second.example/' "$ML_DIR/relayguard.conf"
kill -USR1 "$ML_PID"
rg_retry 10 grep -q "reloaded " "$ML_DIR/milter.log" || tap_diag "no reload: $(tail -3 "$ML_DIR/milter.log")"
"${RAW[@]}" --rcpt '<b@victim.example>' >/dev/null
tap_is "$(hosts)" "first.example second.example " "after the reload: host = the new AuthservID second.example"
sed -i '/^AuthservID /d' "$ML_DIR/relayguard.conf"
kill -USR1 "$ML_PID"
rg_retry 10 rg_count_ge 2 grep -c "reloaded " "$ML_DIR/milter.log"
"${RAW[@]}" --rcpt '<c@victim.example>' >/dev/null
tap_is "$(hosts)" "first.example second.example $(hostname) " "AuthservID removed: the host name"
tap_like "$(grep -c 'event=relay_refused host=mail' "$ML_DIR/milter.log")" "^0$" "no MTA host name was sent (macro j absent)"
ml_stop
tap_done

#!/bin/bash
# relayguard-milter over the milter protocol with miltertest(8): the cases a
# private Postfix cannot easily produce here - SMTP AUTH ({auth_authen}, no
# SASL needed) and {rcpt_mailer} = error - plus the config check (-t).
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/milter/lib.sh

rg_built "$MILTER"
command -v miltertest >/dev/null || { tap_skip "miltertest" "miltertest not installed"; tap_done; exit; }

# -t: exit 0 on a good file, 1 with file:line on a bad one.
tmp=$(mktemp -d); rg_cleanup_add "rm -rf '$tmp'"
# (the sample says UserID relayguard:postfix: make install creates the
# user; where it does not exist, the same file with nobody)
sample=conf/relayguard.conf
getent passwd relayguard >/dev/null || {
	sed 's/^UserID relayguard:/UserID nobody:/' conf/relayguard.conf >"$tmp/sample.conf"
	sample=$tmp/sample.conf
}
out=$("$MILTER" -t -c "$sample" 2>&1)
tap_is "$?" 0 "-t accepts the sample conf/relayguard.conf" || tap_diag "$out"
printf 'Mode enforce\nTrustedNetworks 10.0.0.0/8 10.0.0.1/8\n' >"$tmp/bad.conf"
out=$("$MILTER" -t -c "$tmp/bad.conf" 2>&1); rc=$?
tap_is "$rc" 1 "-t rejects a bad file with exit 1"
tap_is "$out" "$tmp/bad.conf:2: '10.0.0.1/8': host bits set beyond the /8 prefix (TrustedNetworks)" \
	"-t names file:line and what is wrong"
printf 'Colour blue\n' >"$tmp/bad2.conf"
tap_is "$("$MILTER" -t -c "$tmp/bad2.conf" 2>&1)" "$tmp/bad2.conf:1: unknown key 'Colour'" \
	"-t refuses an unknown key"

ml_start "Mode enforce" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"
ml_miltertest tests/milter/relay.lua
tap_is "$(ml_event_count relay_authenticated)" 2 "authenticated relays are logged"
tap_is "$(jq -r 'select(.event=="relay_authenticated") | .auth' "$ML_DIR/events.jsonl" | sort -u)" alice \
	"with the SMTP AUTH identity"
tap_is "$(ml_event_count relay_refused_by_mta)" 1 "an MTA-refused recipient is logged"
ml_stop

# the penalty box never counts nor boxes an authenticated client
ml_start "Mode enforce
AbuserThreshold 2
AbuserPrefix4 24" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"
ml_miltertest tests/milter/abuser.lua
tap_is "$(jq -r 'select(.event=="abuser_boxed") | .source' "$ML_DIR/events.jsonl")" 127.0.0.0/24 \
	"one box, for the outsider's /24"
ml_stop
tap_done

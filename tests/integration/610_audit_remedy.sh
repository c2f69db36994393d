#!/bin/bash
# Issue 10, finding 4: the fix is data per (MTA, hole class), applied
# literally from the JSON report's "remedy" (delete the lines matching each
# step's EREs, then add its lines), never advice for a hole not observed.
#  - OpenSMTPD with a mail-from rule: the remedy names Debian's default
#    actions ("local", "relay"), parses with smtpd -n from the unpacked
#    package both on Debian's default smtpd.conf and on the server's own, and
#    applied to the running server closes the hole while local mail and the
#    trusted host still work. The old advice (dispatcher "outbound") fails
#    smtpd -n: the check can fail.
#  - sendmail with relay_local_from: the accepted probes are the sender-side
#    hole, not "routing operators"; no loose_relay_check advice.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/opensmtpd.sh

audit() { "$AUDIT" -s 127.0.0.2 -p "$MTA_PORT" -d victim.example -t 10 -f json 127.0.0.1; }

# apply_remedy JSON FILE BASENAME: the steps for files named BASENAME, literally
apply_remedy() {
	local json=$1 file=$2 base=$3 n i re tmp
	n=$(jq '.remedy.steps | length' <<<"$json")
	for ((i = 0; i < n; i++)); do
		jq -e --arg b "$base" ".remedy.steps[$i].config_file | contains(\$b)" <<<"$json" >/dev/null || continue
		while IFS= read -r re; do
			[ -n "$re" ] || continue
			tmp=$(grep -Ev -- "$re" "$file")
			printf '%s\n' "$tmp" >"$file"
		done < <(jq -r ".remedy.steps[$i].remove[]" <<<"$json")
		jq -r ".remedy.steps[$i].lines[]" <<<"$json" | while IFS= read -r l; do
			grep -qxF -- "$l" "$file" || printf '%s\n' "$l" >>"$file"
		done
	done
}
smtpd_parses() { "$OS_BIN" -n -f "$1" >/dev/null 2>&1; }

# --- OpenSMTPD, mail-from "@site.example" ----------------------------------
mta_start opensmtpd sender || tap_bail "cannot start OpenSMTPD (sender profile)"
json=$(audit)
tap_is "$(jq -r .verdict <<<"$json")" open_relay "OpenSMTPD sender hole: open_relay"
tap_is "$(jq -c .remedy.holes <<<"$json")" '["sender"]' "remedy: the one hole observed, sender-side"
tap_is "$(jq -r '"\(.remedy.mta) \(.remedy.verified)"' <<<"$json")" "OpenSMTPD true" "remedy: OpenSMTPD, verified"
tap_is "$(jq -r '[.remedy.steps[].config_file] | unique | join(" ")' <<<"$json")" /etc/smtpd.conf \
	"remedy: Debian's /etc/smtpd.conf"
tap_unlike "$(jq -c .remedy <<<"$json")$(jq -r .recommended_fix <<<"$json")" 'outbound|localdomains' \
	"no dispatcher or table a Debian smtpd.conf does not have"
tap_check "relay only from local, with Debian's action name" \
	bash -c 'jq -r ".remedy.steps[].lines[]" <<<"$1" | grep -qx "match from local for any action \"relay\""' _ "$json"
# on Debian's default file, with the hole added as the profile has it
deb=$MTA_DIR/debian-smtpd.conf
cp "$OS_TREE/etc/smtpd.conf" "$deb"
echo 'match from any mail-from "@site.example" for any action "relay"' >>"$deb"
tap_check "Debian's default smtpd.conf with the hole parses (smtpd -n)" smtpd_parses "$deb"
apply_remedy "$json" "$deb" smtpd.conf
tap_check "Debian's default smtpd.conf with the remedy applied parses (smtpd -n)" smtpd_parses "$deb"
tap_unlike "$(cat "$deb")" 'mail-from' "the remedy deleted the mail-from rule"
old=$MTA_DIR/old-advice.conf
cp "$OS_TREE/etc/smtpd.conf" "$old"
echo 'match from local for any action "outbound"' >>"$old"
tap_check "negative control: the old advice (action \"outbound\") fails smtpd -n" \
	bash -c '! "$1" -n -f "$2" >/dev/null 2>&1' _ "$OS_BIN" "$old"
# on the running server, literally
apply_remedy "$json" "$MTA_CONF" smtpd.conf
tap_diag "smtpd.conf after the remedy:" "$(grep -E '^(match|action)' "$MTA_CONF")"
tap_check "the server's smtpd.conf with the remedy parses and the server restarts" mta_restart
json2=$(audit)
tap_is "$(jq -r .verdict <<<"$json2")" closed "after the JSON remedy: the re-audit says closed"
tap_is "$(mta_relays_real 127.0.0.2 --from x@site.example)" refused "after the remedy: the real message using the hole is refused"
tap_check "after the remedy: local mail from the outsider is delivered" mta_local_ok 127.0.0.2
tap_is "$(mta_relays_real 127.0.0.1)" relayed "after the remedy: the trusted host still relays"
mta_stop

# --- sendmail, FEATURE(relay_local_from) ------------------------------------
source tests/lib/sendmail.sh
mta_start sendmail sender || tap_bail "cannot start sendmail (sender profile)"
json=$(audit)
tap_is "$(jq -r .verdict <<<"$json")" open_relay "sendmail relay_local_from: open_relay"
tap_is "$(jq -c .remedy.holes <<<"$json")" '["sender"]' \
	"sendmail: probes accepted for their local-looking sender are the sender-side hole, not routing"
tap_like "$(jq -r .recommended_fix <<<"$json")" "relay_local_from" "the fix names relay_local_from"
tap_unlike "$(jq -r .recommended_fix <<<"$json")" "loose_relay_check|percent hack|routing operators" \
	"no routing advice for a hole not observed"
tap_is "$(jq -r '[.tests[] | select(.outcome=="accepted" and (.control|not)) | .hole] | unique | join(" ")' <<<"$json")" sender \
	"every accepted probe is attributed to the sender-side hole (its .hole)"
mta_stop
tap_done

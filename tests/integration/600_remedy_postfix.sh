#!/bin/bash
# The Postfix fix relayguard-audit recommends is proven on the real Postfix:
# take the main.cf lines from the report of the open server, apply them
# verbatim, audit again: closed. Mail from the trusted host still relays.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/postfix.sh

pf_start open || tap_bail "cannot start Postfix (open)"
json=$("$AUDIT" -s 127.0.0.2 -p "$PF_PORT" -d victim.example -f json 127.0.0.1)
tap_is "$(jq -r .verdict <<<"$json")" open_relay "before: open_relay"
fix=$(jq -r .recommended_fix <<<"$json")
# main.cf lines: drop comments (whole-line and trailing), join continuations.
settings=$(sed -e 's/[[:space:]]*#.*$//' -e '/^[[:space:]]*$/d' <<<"$fix" |
	awk '/^[[:space:]]/ {line = line " " $0; next} {if (line != "") print line; line = $0} END {if (line != "") print line}' |
	sed -E 's/[[:space:]]+/ /g')
tap_like "$settings" 'mynetworks = ' "the fix sets mynetworks"
tap_like "$settings" 'smtpd_relay_restrictions = .*reject_unauth_destination' "the fix sets smtpd_relay_restrictions"
tap_diag "applying: $(tr '\n' ';' <<<"$settings")"
args=()
while IFS= read -r l; do args+=("$l"); done <<<"$settings"
tap_check "postconf accepts every recommended line" pf_postconf "${args[@]}"
tap_is "$(postconf -c "$PF_CONF" -n 2>&1 >/dev/null)" "" \
	"no recommended parameter is unknown or unused (postconf -n warns about none)"
json=$("$AUDIT" -s 127.0.0.2 -p "$PF_PORT" -d victim.example -f json 127.0.0.1); rc=$?
tap_is "$(jq -r .verdict <<<"$json")" closed "after the recommended fix: closed"
tap_is "$rc" 0 "exit 0"
out=$(pf_swaks --local-interface 127.0.0.1 --from me@site.example --to friend@faraway.example 2>&1)
tap_check "the trusted host (127.0.0.1) still relays" pf_wait_sink_count 1 10
pf_stop
tap_done

#!/bin/bash
# relayguard-audit's second destination (issue 17 item 5) on a real Postfix
# (tests/lib/postfix.sh): a closed Postfix whose relay_domains covers the
# audit's -d domain (it is a backup MX for it) relays to that domain only.
# One real message from an outside address establishes the truth (relayed to
# victim.example, refused to example.net); the audit must then say "relays
# only for victim.example" (verdict domain_relay, exit 1) with advice about
# relay_domains and without the plain open-relay fix, and complete nothing.
# Controls: the same server audited towards a domain it does not relay for
# is closed and costs no second-destination probe; an open Postfix stays
# open_relay, its probes accepted towards the second domain too.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/postfix.sh

audit() { "$AUDIT" -s 127.0.0.2 -p "$PF_PORT" -t 10 "$@" 127.0.0.1; }
# The real message from the outsider: relayed | refused | error(swaks N)
real_message() {	# RCPT
	local before rc
	before=$(pf_sink_count)
	pf_swaks --local-interface 127.0.0.2 --from x@outside.example --to "$1" \
		--header "Subject: relay truth" >/dev/null 2>&1 && rc=0 || rc=$?
	case $rc in
	0) pf_wait_sink_count $((before + 1)) 10 && echo relayed || echo accepted-not-relayed ;;
	24) echo refused ;;
	*) echo "error(swaks $rc)" ;;
	esac
}

# --- backup MX: relay_domains = victim.example -------------------------------
PF_MAIN_EXTRA="relay_domains = victim.example" pf_start closed ||
	tap_bail "cannot start Postfix (closed, relay_domains = victim.example)"
tap_is "$(real_message victim@victim.example)" relayed \
	"backup MX: a real message from an outside address to victim.example is relayed"
tap_is "$(real_message victim@example.net)" refused \
	"backup MX: a real message from an outside address to example.net is refused"
before=$(pf_sink_count)
out=$(audit -d victim.example -f json) && rc=0 || rc=$?
tap_diag "backup MX: $(jq -r '"\(.verdict): \(.verdict_reason)"' <<<"$out")"
tap_is "$(jq -r .verdict <<<"$out")" domain_relay "backup MX: verdict domain_relay, not open_relay"
tap_is "$rc" 1 "backup MX: exit status 1"
tap_is "$(jq -r '.relays_only_for | "\(.domain) \(.refused_towards)"' <<<"$out")" \
	"victim.example example.net" "backup MX: JSON relays_only_for names the domain and the second one"
tap_like "$(jq -r .verdict_reason <<<"$out")" '^relays only for victim\.example: ' \
	"backup MX: the reason says relays only for victim.example"
tap_like "$(jq -r .relays_only_for.advice <<<"$out")" 'relay_domains.*backup MX' \
	"backup MX: the advice is about relay_domains and backup MX"
tap_is "$(jq -r '[has("remedy"), has("recommended_fix")] | join(" ")' <<<"$out")" "false false" \
	"backup MX: no plain open-relay fix"
tap_is "$(jq -r '.tests[] | select(.id == "A1") | "\(.outcome) \(.second_destination.rcpt_to) \(.second_destination.code) \(.second_destination.enhanced)"' <<<"$out")" \
	"accepted <relaytest@example.net> 554 5.7.1" \
	"backup MX: A1 accepted towards victim.example, 554 5.7.1 towards example.net"
tap_is "$(jq -r '[.tests[] | select(.outcome == "accepted" and (.control|not)) | select(.second_destination.outcome != "rejected")] | length' <<<"$out")" 0 \
	"backup MX: every probe accepted towards victim.example was refused towards example.net"
pf_flush
pf_wait_queue_empty 10
tap_is "$(pf_sink_count)" "$before" "backup MX: the audit completed no message (next hop count unchanged)"
txt=$(audit -d victim.example) && rc=0 || rc=$?
tap_like "$txt" 'Verdict: RELAYS ONLY FOR ONE DOMAIN' "backup MX: text report verdict line"
tap_like "$txt" 'Relays only for victim\.example \(refused towards example\.net\)' \
	"backup MX: text report names the finding"
tap_unlike "$txt" 'Recommended fix' "backup MX: text report has no plain open-relay fix"
tap_like "$txt" 'second destination RCPT TO:<relaytest@example\.net>: rejected 554' \
	"backup MX: text report shows the second destination per probe"

# --- the same server towards a domain it does not relay for -----------------
out=$(audit -d other.example -f json) && rc=0 || rc=$?
tap_is "$(jq -r .verdict <<<"$out") $rc" "closed 0" "towards other.example: closed, exit 0"
tap_is "$(jq -r '[.tests[] | select(has("second_destination"))] | length' <<<"$out")" 0 \
	"towards other.example: no second-destination probe on a closed server"
pf_stop

# --- an open Postfix: relays towards both ------------------------------------
pf_start open || tap_bail "cannot start Postfix (open)"
out=$(audit -d victim.example --second-domain example.org -f json) && rc=0 || rc=$?
tap_is "$(jq -r .verdict <<<"$out") $rc" "open_relay 2" "open Postfix: still open_relay, exit 2"
tap_is "$(jq -r '.tests[] | select(.id == "A1") | "\(.second_destination.rcpt_to) \(.second_destination.outcome)"' <<<"$out")" \
	"<relaytest@example.org> accepted" "open Postfix: A1 accepted towards --second-domain example.org too"
tap_like "$(jq -r .verdict_reason <<<"$out")" 'towards the second domain example\.org too .*relays for any domain' \
	"open Postfix: the reason says it relays for any domain"
pf_stop

# --- the option ------------------------------------------------------------
"$AUDIT" -d victim.example --second-domain VICTIM.example 127.0.0.1 >/dev/null 2>"$BUILD/54.err" && rc=0 || rc=$?
tap_is "$rc" 64 "--second-domain equal to --domain: usage error (64)"
tap_like "$(cat "$BUILD/54.err")" 'second-domain VICTIM\.example is --domain' "... with a clear message"
out=$("$AUDIT" -d example.net -p 1 --connect-timeout 1 -f json 127.0.0.1 2>/dev/null)
tap_is "$(jq -r .second_domain <<<"$out")" example.org \
	"-d example.net: the default second domain steps aside to example.org"
rm -f "$BUILD/54.err"
tap_done

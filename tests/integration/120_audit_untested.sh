#!/bin/bash
# Issue 10, findings 1 and 2, against hostile_smtpd imitations of real MTAs:
#  - a server that refuses the routing tricks' sender <F@[IP]> at MAIL (501,
#    as a default Exim does) but relays '%' recipients is never "closed": the
#    refused probes are untested, retried with the baseline sender, and the
#    retry finds the hole; both attempts are recorded; text, JSON and IODEF
#    carry the untested count.
#  - a server that answers a second EHLO with 503 (as OpenSMTPD does) and
#    relays for a client whose HELO is its own name is found: identity probes
#    run on fresh sessions, and the header does not claim "EHLO refused".
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/hostile.sh
audit() { timeout 60 "$AUDIT" -p "$HPORT" -t 5 --connect-timeout 2 --budget 40 \
	-d victim.example "$@" 127.0.0.1 2>/dev/null; }

# --- finding 1: MAIL refused is untested, not refused ----------------------
start_hostile exim-literal
out=$(audit -f json); rc=$?
tap_isnt "$(jq -r .verdict <<<"$out")" closed "exim-literal: the verdict is not closed"
tap_is "$(jq -r .verdict <<<"$out")" open_relay "exim-literal: the percent hack is found (open_relay)"
tap_is "$rc" 2 "exim-literal: exit 2"
tap_is "$(jq -r '[.tests[] | select(.stage=="mail" and .outcome=="rejected")] | length' <<<"$out")" 0 \
	"no probe refused at MAIL is graded rejected"
b1=$(jq -c '.tests[] | select(.id=="B1")' <<<"$out")
tap_is "$(jq -r '.attempts[0] | "\(.outcome) \(.stage) \(.code)"' <<<"$b1")" "untested mail 501" \
	"B1 first attempt: untested at MAIL (501), recorded"
tap_is "$(jq -r '.attempts[0].mail_from' <<<"$b1")" "<relaytest@[127.0.0.1]>" \
	"B1 first attempt used the trick's sender"
tap_is "$(jq -r '.attempts[1].mail_from' <<<"$b1")" "$(jq -r .baseline_sender <<<"$out")" \
	"B1 retried with the baseline sender the server accepted"
tap_is "$(jq -r '.attempts[1].outcome' <<<"$b1")" accepted "B1 retry: accepted at RCPT"
tap_is "$(jq -r .outcome <<<"$b1")" accepted "B1 graded on the retry: accepted"
tap_is "$(jq -r '.tests[] | select(.id=="A5") | "\(.outcome) \(.class)"' <<<"$out")" "untested sender" \
	"A5 (the sender literal is the trick): untested, not retried"
tap_like "$(jq -r .untested <<<"$out")" '^[1-9][0-9]*$' "JSON carries the untested count ($(jq -r .untested <<<"$out"))"
txt=$(audit)
tap_like "$txt" 'Relay probes: [0-9]+ \([0-9]+ accepted, [0-9]+ refused, [1-9][0-9]* untested' \
	"text report carries the untested count"
tap_like "$txt" 'first try with MAIL FROM:<relaytest@\[127\.0\.0\.1\]>: untested at mail 501' \
	"text report shows the first attempt"
xml=$(audit -f iodef)
tap_like "$xml" '<AdditionalData dtype="integer" meaning="untested relay probes">[1-9][0-9]*</AdditionalData>' \
	"IODEF carries the untested count"
tap_check "IODEF still validates against the schema" bash -c \
	'xmllint --nonet --noout --schema schemas/iodef/iodef-2.0-offline.xsd - <<<"$1"' _ "$xml"
stop_hostile

# --- finding 2: identity probes on fresh sessions ---------------------------
start_hostile helo-trust
out=$(audit -f json); rc=$?
tap_is "$(jq -r .verdict <<<"$out")" open_relay "helo-trust: relaying for HELO hostile.test found (open_relay)"
tap_is "$(jq -r '.tests[] | select(.id=="S1") | .outcome' <<<"$out")" accepted "S1 (HELO as the server's name) accepted"
tap_is "$(jq -r '[.tests[] | select(.text | test("Already identified"))] | length' <<<"$out")" 0 \
	"no probe ran into 503 Already identified"
tap_is "$(jq -r .ehlo_refused <<<"$out")" false "JSON: EHLO was not refused"
tap_check "each identity probe had a session of its own" jq -e \
	'[.tests[] | select(.helo)] as $i | [.tests[] | select(.helo|not) | .session] as $o |
	 ($i|length) >= 2 and ([$i[].session] | unique | length) == ($i|length) and
	 all($i[]; .session as $s | ($o | index($s)) == null)' <<<"$out"
txt=$(audit)
tap_unlike "$txt" 'EHLO refused' "text header does not claim 'EHLO refused, used HELO'"
out=$(audit -f json --helo client.example)
tap_is "$(jq -r '[.tests[] | select(.helo=="victim.example") | .id] | join(" ")' <<<"$out")" S2 \
	"with --helo client.example the victim-domain identity (S2) runs too"
tap_is "$(jq -r '.tests[] | select(.id=="S1") | .outcome' <<<"$out")" accepted \
	"with --helo client.example S1 (HELO hostile.test) is still found"
stop_hostile

# a closed server stays closed, with nothing untested
start_hostile normal-reject
out=$(audit -f json)
tap_is "$(jq -r '"\(.verdict) \(.untested)"' <<<"$out")" "closed 0" "normal-reject: closed, 0 untested"
stop_hostile
tap_done

#!/bin/bash
# relayguard-audit's evidence for a CSIRT (issue 12): the reporter profile
# (--reporter) in text, JSON and IODEF; the clock and time zone; the vantage
# address; UTF-8 server text kept in IODEF (a Japanese banner); an IODEF
# Expectation that matches the verdict; every IODEF valid against RFC 7970's
# schema, offline.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
XSD=schemas/iodef/iodef-2.0-offline.xsd

source tests/lib/hostile.sh
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rg-csirt.XXXXXX")
rg_cleanup_add "rm -rf '$TMP'"

xp() { xmllint --nonet --xpath "$1" "$2" 2>/dev/null; }
audit() { timeout 60 "$AUDIT" -p "$HPORT" -t 5 --connect-timeout 2 --budget 20 -d victim.example "$@" 127.0.0.1; }

cat > "$TMP/reporter.conf" <<'CONF'
Organisation = Example Corp. 情報システム部
ContactName = Hanako Yamada
Email = security@site.example
Phone = +81-3-0000-0000
TimeZone = Asia/Tokyo
Role = site
TLP = green
Disclosure = no
CONF

# --- a Japanese-speaking open relay, with a reporter profile -------------------
start_hostile japanese 60
audit --reporter "$TMP/reporter.conf" -f iodef > "$TMP/ja.xml"
tap_is "$?" 2 "the Japanese-speaking open relay is found open (exit 2)"
tap_check "its IODEF validates against the IODEF 2.0 schema (xmllint --nonet)" \
	xmllint --nonet --noout --schema "$XSD" "$TMP/ja.xml"
x=$(xp 'string(//*[local-name()="System"][@category="target"]/*[local-name()="Description"])' "$TMP/ja.xml")
tap_like "$x" '220 hostile\.test ESMTP 日本語メールサーバへようこそ' "the Japanese banner is kept as UTF-8 text"
tap_unlike "$(cat "$TMP/ja.xml")" '\?\?\?' "no text was replaced by question marks"
tap_like "$(xp 'string((//*[local-name()="RecordItem"])[last()-3])' "$TMP/ja.xml")$(cat "$TMP/ja.xml")" \
	'250 2\.1\.5 受信者を受け付けました' "the Japanese RCPT reply is in the transcript RecordItems"
tap_is "$(xp 'string(//*[local-name()="Contact"][@role="creator"]/*[local-name()="ContactName"])' "$TMP/ja.xml")" \
	"Example Corp. 情報システム部" "Contact role creator names the reporting organisation"
tap_is "$(xp 'string(//*[local-name()="Contact"][@role="creator"]/*[local-name()="Email"]/*[local-name()="EmailTo"])' "$TMP/ja.xml")" \
	"security@site.example" "with its e-mail"
tap_is "$(xp 'string(//*[local-name()="Contact"][@role="creator"]/*[local-name()="Telephone"]/*[local-name()="TelephoneNumber"])' "$TMP/ja.xml")" \
	"+81-3-0000-0000" "and telephone"
tap_is "$(xp 'string(//*[local-name()="Contact"]/*[local-name()="Contact"]/*[local-name()="ContactName"])' "$TMP/ja.xml")" \
	"Hanako Yamada" "and the contact person"
tap_is "$(xp 'string(//*[local-name()="Contact"][@role="creator"]/@restriction)' "$TMP/ja.xml")" private \
	"Disclosure = no marks the reporter's identity private"
tap_is "$(xp 'string(//*[local-name()="Contact"][@role="creator"]/*[local-name()="Timezone"])' "$TMP/ja.xml")" "+09:00" \
	"the reporter's time zone (Asia/Tokyo) is stated"
tap_like "$(xp 'string(//*[local-name()="DetectTime"])' "$TMP/ja.xml")" '\+09:00$' "times are written in the profile's zone"
tap_is "$(xp 'string(//*[local-name()="IncidentID"]/@name)' "$TMP/ja.xml")" site.example "IncidentID name is the reporter's domain"
tap_is "$(xp 'string(//*[local-name()="Incident"]/@restriction)' "$TMP/ja.xml")" green "the profile's TLP is the default restriction"
tap_is "$(xp 'string(//*[local-name()="System"][@category="source"]//*[local-name()="Address"])' "$TMP/ja.xml")" 127.0.0.1 \
	"a source System holds the vantage address"
tap_is "$(xp 'string(//*[local-name()="Expectation"]/@action)' "$TMP/ja.xml")" harden-asset "open relay: Expectation harden-asset"
tap_like "$(xp 'string(//*[local-name()="AdditionalData"][@meaning="clock-synchronisation"])' "$TMP/ja.xml")" \
	'^clock (synchronised|NOT known to be synchronised|synchronisation unknown)' "the clock state is carried"
tap_like "$(xp 'string(//*[local-name()="AdditionalData"][@meaning="time-zone"])' "$TMP/ja.xml")" \
	'JST \(Asia/Tokyo, UTC\+09:00\)' "and the time zone of the timestamps"
tap_is "$(xp 'string(//*[local-name()="Assessment"]/*[local-name()="AdditionalData"][@meaning="severity"])' "$TMP/ja.xml")" high \
	"the audit's severity is carried over"

audit --reporter "$TMP/reporter.conf" -T > "$TMP/ja.txt"
txt=$(cat "$TMP/ja.txt")
tap_like "$txt" 'reporter: Example Corp\. 情報システム部, Hanako Yamada <security@site\.example> \+81-3-0000-0000' \
	"the text report names the reporter"
tap_like "$txt" 'times: +times are JST \(Asia/Tokyo, UTC\+09:00\)' "and the zone of its times"
tap_like "$txt" 'clock: +clock ' "and the clock state"
tap_like "$txt" 'tested from: 127\.0\.0\.1' "and the vantage address"
audit --reporter "$TMP/reporter.conf" -f json > "$TMP/ja.json"
tap_is "$(jq -r '[.reporter.organisation, .reporter.tlp, .clock.utc_offset, .vantage] | join("|")' "$TMP/ja.json")" \
	"Example Corp. 情報システム部|green|+09:00|127.0.0.1" "JSON carries reporter, clock and vantage"
tap_like "$(jq -r .clock.clock "$TMP/ja.json")" '^(synchronised|unsynchronised|unknown)$' "JSON states the clock synchronisation"
rg_kill_pid "$HPID"

# --- no profile: the reports still work and say so ----------------------------
start_hostile greylist 60
audit -f iodef > "$TMP/grey.xml"
tap_check "inconclusive target: IODEF validates" xmllint --nonet --noout --schema "$XSD" "$TMP/grey.xml"
tap_is "$(xp 'string(//*[local-name()="Contact"][@role="creator"]/*[local-name()="ContactName"])' "$TMP/grey.xml")" \
	"reporter not identified" "without a profile the IODEF says the reporter is not identified"
tap_is "$(xp 'string(//*[local-name()="Expectation"]/@action)' "$TMP/grey.xml")" investigate \
	"inconclusive: Expectation investigate"
tap_like "$(xp 'string(//*[local-name()="Expectation"]/*[local-name()="Description"])' "$TMP/grey.xml")" \
	'[Ii]nvestigate and re-test' "which says to investigate and re-test"
tap_like "$(audit)" 'reporter: reporter not identified' "the text report says the reporter is not identified"
rg_kill_pid "$HPID"

port=$(rg_free_port tcp)
timeout 30 "$AUDIT" -p "$port" --connect-timeout 2 --budget 5 -f iodef 127.0.0.1 > "$TMP/down.xml"
tap_check "unreachable target: IODEF validates" xmllint --nonet --noout --schema "$XSD" "$TMP/down.xml"
tap_is "$(xp 'string(//*[local-name()="Expectation"]/@action)' "$TMP/down.xml")" nothing "unreachable: Expectation nothing"
tap_like "$(xp 'string(//*[local-name()="Expectation"]/*[local-name()="Description"])' "$TMP/down.xml")" \
	'could not be tested.*refused' "with the reason"

# --- a broken profile is refused with file:line --------------------------------
printf 'Organisation = x\nEmail = nobody\n' > "$TMP/bad.conf"
err=$("$AUDIT" --reporter "$TMP/bad.conf" 127.0.0.1 2>&1)
tap_is "$?" 3 "a broken reporter profile is a usage error (exit 3)"
tap_like "$err" "$TMP/bad.conf:2: Email: 'nobody' is not an e-mail address" "naming file and line"
tap_done

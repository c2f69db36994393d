#!/bin/bash
# make demo's assertions: open before, storm detected, closed after,
# nothing relayed after the fix, IODEF valid against the schema, the HTML
# report renders in a real browser.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
source tests/lib/tap.sh
source tests/lib/common.sh

TOP=$(mktemp -d "${TMPDIR:-/tmp}/rg-demo.XXXXXX")
[ "${RG_KEEP:-0}" = 1 ] || rg_cleanup_add "rm -rf '$TOP'"
OUT=$TOP/evidence
LOG=$TOP/demo.log
t0=$(rg_now_ms)
DEMO_OUT=$OUT BUILD=$BUILD bash scripts/demo.sh > "$LOG" 2>&1
rc=$?
secs=$(( ($(rg_now_ms) - t0) / 1000 ))
tap_is "$rc" 0 "the demo exits 0" || tap_diag "$(tail -20 "$LOG")"
tap_check "the demo takes under 3 minutes (${secs} s)" test "$secs" -lt 180
tap_like "$(cat "$LOG")" 'Step 1:.*' "the demo says what each step shows"

tap_is "$(jq -r .verdict "$OUT/audit-before.json")" open_relay "before: the auditor proves an open relay"
tap_is "$(jq -r .verdict "$OUT/audit-after.json")" closed "after: closed"
storm=$(jq -c 'select(.event=="bounce_storm")' "$OUT/milter-events.jsonl")
tap_is "$(jq -s '[.[] | select(.event=="bounce_storm")] | length' "$OUT/milter-events.jsonl")" 1 "one bounce-storm event"
tap_like "$(jq -r '[.original_clients[].value]|join(",")' <<<"$storm")" '127\.0\.0\.2' "the storm names the relaying client"
tap_like "$(jq -r .reason <<<"$storm")" 'open-relay abuse' "and calls it open-relay abuse"
tap_is "$(cat "$OUT/spammer-1.txt")" "accepted=60 refused=0 tempfailed=0" "before the fix the spammer relays 60 messages"
tap_like "$(tail -1 "$OUT/spammer-milter.txt")" '^accepted=0 refused=5' "milter in enforce refuses while Postfix is still open"
tap_like "$(tail -1 "$OUT/spammer-2.txt")" '^accepted=0 refused=' "after the fix the spammer's burst is refused"
tap_like "$(cat "$OUT/spammer-2.txt")" 'RCPT 554 5\.7\.1' "with 554 5.7.1"
tap_is "$(grep -c 'sender non-delivery notification' "$OUT/postfix-maillog")" 60 \
	"no new bounces after the fix: exactly the storm's 60"
fixed_bounces=$(awk -F, '$2=="fixed" {print $3}' "$OUT/bounces.csv" | sort -u)
tap_is "$fixed_bounces" 120 "the bounce series stays flat after the fix (120 = 60 bounces + 60 double bounces)"
tap_like "$(jq -r 'select(.event=="relay_refused") | .client_addr' "$OUT/milter-events.jsonl" | sort -u)" \
	'^127\.0\.0\.2$' "relay attempts are logged with the spammer's address"

tap_check "IODEF (before) is valid against the IODEF 2.0 schema" \
	xmllint --nonet --noout --schema schemas/iodef/iodef-2.0-offline.xsd "$OUT/audit-before.iodef.xml"
tap_check "IODEF (after) is valid too" \
	xmllint --nonet --noout --schema schemas/iodef/iodef-2.0-offline.xsd "$OUT/audit-after.iodef.xml"
x=$(xmllint --nonet --xpath 'string(//*[local-name()="Incident"]/@restriction)' "$OUT/audit-before.iodef.xml")
tap_is "$x" amber "IODEF restriction carries the TLP level"
x=$(xmllint --nonet --xpath 'string(//*[local-name()="Expectation"]/@action)' "$OUT/audit-before.iodef.xml")
tap_is "$x" harden-asset "IODEF expectation: harden-asset"
x=$(xmllint --nonet --xpath 'count(//*[local-name()="RecordItem"])' "$OUT/audit-before.iodef.xml")
tap_like "$x" '^([3-9]|[1-9][0-9]+)$' "IODEF carries the decisive transcript lines ($x)"
x=$(xmllint --nonet --xpath 'string(//*[local-name()="DetectTime"])' "$OUT/audit-before.iodef.xml")
tap_like "$x" '[+-][0-9]{2}:[0-9]{2}$' "IODEF detection time has a UTC offset"

html=$(cat "$OUT/report.html")
tap_like "$html" '<svg' "the HTML report draws its own SVG chart"
tap_unlike "$(sed 's/xmlns="[^"]*"//g' <<<"$html")" "(src|href|url\\()[^>]*(https?:)?//" \
	"the HTML report loads nothing from the network"
tap_like "$html" 'o-accepted' "the matrix shows accepted probes (before)"
tap_like "$html" 'o-rejected' "and rejected ones (after)"
if command -v chromium >/dev/null; then
	sz=$(stat -c %s "$OUT/report.png" 2>/dev/null || echo 0)
	tap_check "headless Chromium rendered the report (${sz} bytes)" test "$sz" -gt 50000
else
	tap_skip "headless Chromium screenshot" "chromium not installed"
fi
tap_done

#!/bin/bash
# rg-timeout: 600
# make demo's assertions: open before, storm detected, closed after,
# nothing relayed after the fix, IODEF valid against the schema, the HTML
# report renders in a real browser.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1

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
if [ "$(id -u)" = 0 ] && command -v fail2ban-server >/dev/null && command -v nft >/dev/null; then
	tap_like "$(sed -n '/Step 4/,/Step 5/p' "$LOG")" 'fail2ban: 127\.0\.0\.2 banned' \
		"step 4: fail2ban bans the spammer at the firewall"
	tap_like "$(sed -n '/Step 4/,/Step 5/p' "$LOG")" "next connection gets no SMTP greeting: Connection refused" \
		"and its next connection gets no SMTP greeting"
	tap_unlike "$(cat "$OUT/spammer-banned.txt")" '^accepted=' "send.py never got a session while banned"
else
	tap_skip "step 4: fail2ban bans the spammer" "needs root, fail2ban and nftables"
	tap_skip "and its next connection gets no SMTP greeting" "needs root, fail2ban and nftables"
	tap_skip "send.py never got a session while banned" "needs root, fail2ban and nftables"
fi
tap_is "$(grep -o '>abuser filtered</text>\|>relay fixed</text>' "$OUT/report.html" | tr '\n' ' ')" \
	">abuser filtered</text> >relay fixed</text> " "the report's timeline marks 'abuser filtered', then 'relay fixed'"
tap_like "$(tail -1 "$OUT/spammer-2.txt")" '^accepted=0 refused=' "after the fix the spammer's burst is refused"
tap_like "$(cat "$OUT/spammer-2.txt")" '(RCPT|MAIL) 554 5\.7\.1' "with 554 5.7.1 (at MAIL while the penalty box holds it)"
tap_like "$(sed -n '/Step 4/,/Step 5/p' "$LOG")" 'relayguard-milter: abuser_boxed 127\.0\.0\.2/32' \
	"step 4: the milter's penalty box boxes the spammer"
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
# --- step 6: the notification for the spammer (issue 12) -----------------------------
N_EN=$OUT/notify-en; N_JA=$OUT/notify-ja
tap_like "$(cat "$LOG")" 'Step 6: the notification for the spammer' "the demo ends with the notification step"
tap_like "$(sed -n '/Step 6/,$p' "$LOG")" 'Subject: \[relayguard\] relay attempts from 127\.0\.0\.2' "and shows the English body's first lines"
tap_like "$(sed -n '/Step 6/,$p' "$LOG")" '127\.0\.0\.2 からの不正中継の試み' "and the Japanese body's"
for f in txt iodef.xml xarf.json intelmq.json; do
	tap_check "notify-en/127.0.0.2.$f and notify-ja/127.0.0.2.$f written" test -s "$N_EN/127.0.0.2.$f" -a -s "$N_JA/127.0.0.2.$f"
done
tap_is "$(ls "$N_EN" | grep -vc '^127\.0\.0\.2\.\|^intelmq\.jsonl$')" 0 "only the spammer is notified (the auditor tested from 127.0.0.3)"
ev=$OUT/milter-events.jsonl
want=$(jq -s '[.[] | select(.client_addr=="127.0.0.2" and (.event|test("^relay_")) and .event!="relay_summary" and .event!="relay_authenticated")] | length' "$ev")
tap_is "$(jq '."extra.relay_attempts"' "$N_EN/127.0.0.2.intelmq.json")" "$want" "the notification counts the spammer's $want relay attempts"
logged=$(jq -s '[.[] | select(.client_addr=="127.0.0.2" and .event=="relay_would_refuse")] | length' "$ev")
tap_is "$logged" 60 "of which 60 were relayed while the milter only logged"
tap_like "$(cat "$N_EN/127.0.0.2.txt")" "recorded $want relay attempts from this source \\($((want - logged)) refused, $logged logged" "the body says so"
tap_is "$(jq '."extra.bounce_storms"' "$N_EN/127.0.0.2.intelmq.json")" 1 "and names the one bounce storm"
first=$(jq -r -s '[.[] | select(.client_addr=="127.0.0.2" or ([.original_clients[]?.value] | index("127.0.0.2")))] | first | .time' "$ev")
last=$(jq -r -s '[.[] | select(.client_addr=="127.0.0.2" or ([.original_clients[]?.value] | index("127.0.0.2")))] | last | .time' "$ev")
jst() { TZ=Asia/Tokyo date -d "$1" "+%Y-%m-%dT%H:%M:%S\.%3N\\+09:00"; }
tap_like "$(cat "$N_EN/127.0.0.2.txt")" "first: $(jst "$first")" "first time of the span, in JST ($first)"
tap_like "$(cat "$N_EN/127.0.0.2.txt")" "last:  $(jst "$last")" "last time of the span, in JST ($last)"
tap_check "the notification's IODEF validates (en, ja)" \
	xmllint --nonet --noout --schema schemas/iodef/iodef-2.0-offline.xsd "$N_EN/127.0.0.2.iodef.xml" "$N_JA/127.0.0.2.iodef.xml"
tap_check "its X-ARF validates against the X-ARF v4 schema" python3 tests/xarf/validate_xarf.py "$N_EN/127.0.0.2.xarf.json" "$N_JA/127.0.0.2.xarf.json"
tap_check "its IntelMQ JSON follows IntelMQ's harmonization" python3 tests/intelmq/check_harmonization.py "$N_EN/intelmq.jsonl"
tap_unlike "$(cat "$N_EN/127.0.0.2.txt" "$N_JA/127.0.0.2.txt")" 'user[0-9]+@victim|mail\.site\.example' \
	"recipients and internal host names are withheld (conf/reporter.conf)"
ja=$(cat "$N_JA/127.0.0.2.txt")
tap_like "$ja" '不正中継' "the Japanese body says 不正中継"
tap_like "$ja" '3\. 送信元' "names the 送信元"
tap_like "$ja" '時刻は JST \(Asia/Tokyo, UTC\+09:00\)' "and gives the times in JST"
x=$(xmllint --nonet --xpath 'string(//*[local-name()="Contact"][@role="creator"]/*[local-name()="ContactName"])' "$OUT/audit-before.iodef.xml")
tap_is "$x" "Example Corp. information systems department" "the audit's IODEF names the reporter"
x=$(xmllint --nonet --xpath 'count(//*[local-name()="AdditionalData"][@meaning="dnsbl" or @meaning="ptr" or @meaning="mx"])' "$OUT/audit-before.iodef.xml")
tap_like "$x" '^[3-9]$' "and carries the DNS facts (MX, PTR, DNSBL: $x)"
tap_done

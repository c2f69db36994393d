#!/bin/bash
# relayguard-report on hostile or broken input: everything from the JSON is
# escaped or refused, a bad series line is an error naming file and line.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1

d=$(mktemp -d "${TMPDIR:-/tmp}/rg-report.XXXXXX")
rg_cleanup_add "rm -rf '$d'"
cat > "$d/evil.json" <<'JEOF'
{"target":"<script>alert(1)</script>","verdict":"open_relay\"><script>x()</script>",
 "verdict_reason":"<img src=x onerror=y()>","banner":"220 <b>x</b>","mta":"<i>m</i>",
 "start":"<s>","finish":"2026-11-21T09:00:00+09:00",
 "tests":[{"id":"A1<x>","mail_from":"<a@b>","rcpt_to":"<c@d>","outcome":"accepted\" onmouseover=\"z()",
   "code":250,"enhanced":"2.1.5","text":"Ok <u>","control":false,"data":"taken"}]}
JEOF
out=$("$REPORT" --before "$d/evil.json" --after "$d/evil.json"); rc=$?
tap_is "$rc" 0 "a hostile audit JSON still gives a page"
tap_unlike "$out" '<script|<img|<b>x|<i>m|<u>|<s>|onmouseover="z' "nothing from the JSON becomes markup"
tap_like "$out" '&lt;script&gt;alert' "text is shown escaped"
tap_like "$out" 'class="o-invalid"' "a non-token outcome becomes 'invalid', not a class injection"
printf 'seconds,phase,bounces\n0,storm,0\n1;storm;3\n' > "$d/bad.csv"
err=$("$REPORT" --before "$d/evil.json" --series "$d/bad.csv" 2>&1 >/dev/null); rc=$?
tap_isnt "$rc" 0 "a malformed series line is an error"
tap_like "$err" 'bad\.csv:3: expected seconds,phase,bounces' "the error names file and line"
# the chart marks where the abuser was filtered and where the relay was fixed
printf 'seconds,phase,bounces\n0,storm,0\n5,storm,40\n8,filtered,60\n12,fixed,62\n15,fixed,62\n' > "$d/phases.csv"
out=$("$REPORT" --before "$d/evil.json" --series "$d/phases.csv")
tap_is "$(grep -o '>abuser filtered</text>\|>relay fixed</text>' <<<"$out" | tr '\n' ' ')" \
	">abuser filtered</text> >relay fixed</text> " "the timeline marks 'abuser filtered', then 'relay fixed'"
tap_is "$(grep -c 'polyline.*stroke="#e76f51"' <<<"$out")" 1 "the filtered phase has its own line"
out=$("$REPORT" --lang ja --before "$d/evil.json" --series "$d/phases.csv")
tap_like "$out" '不正利用元を遮断.*' "and in Japanese"
printf 'seconds,phase,bounces\n0,storm,0\n1,fxed,3\n' > "$d/typo.csv"
err=$("$REPORT" --before "$d/evil.json" --series "$d/typo.csv" 2>&1 >/dev/null); rc=$?
tap_like "$rc:$err" "^1:.*typo\.csv:3: phase 'fxed' is not storm, filtered or fixed" \
	"an unknown phase is an error naming file and line, not a silent storm"
# event logs written before 0.2 spelt the bounce events with '-': both read
cat > "$d/events.jsonl" <<'JEOF'
{"time":"2026-11-21T09:00:00+09:00","event":"bounce-storm","client_addr":"192.0.2.1","reason":"old spelling"}
{"time":"2026-11-21T09:01:00+09:00","event":"bounce_storm","host":"mx.site.example","client_addr":"192.0.2.2","reason":"new spelling"}
{"time":"2026-11-21T09:02:00+09:00","event":"null-sender-anomaly","client_addr":"192.0.2.3","reason":"old anomaly"}
{"time":"2026-11-21T09:03:00+09:00","event":"null_sender_anomaly","client_addr":"192.0.2.4","reason":"new anomaly"}
JEOF
out=$("$REPORT" --before "$d/evil.json" --storm "$d/events.jsonl")
tap_is "$(grep -o '<code>[a-z_-]*</code> 192\.0\.2\.[0-9]' <<<"$out" | tr '\n' ' ')" \
	"<code>bounce_storm</code> 192.0.2.1 <code>bounce_storm</code> 192.0.2.2 <code>null_sender_anomaly</code> 192.0.2.3 <code>null_sender_anomaly</code> 192.0.2.4 " \
	"old and new event names are both read, shown with the current names"
cat > "$d/storms.jsonl" <<'JEOF'
{"time":"2026-11-21T09:00:00+09:00","event":"relay_refused","action":"reject","client_addr":"192.0.2.9","recipient":"<a@victim.example>","reason":"x"}
{"time":"2026-11-21T09:01:00+09:00","event":"bounce-storm","original_clients":[{"value":"192.0.2.9","count":30}],"reason":"old spelling"}
{"time":"2026-11-21T09:02:00+09:00","event":"bounce_storm","host":"mx.site.example","original_clients":[{"value":"192.0.2.9","count":12}],"reason":"new spelling"}
{"time":"2026-11-21T09:03:00+09:00","event":"bounce_storm_end","original_clients":[{"value":"192.0.2.9","count":12}],"reason":"end"}
JEOF
tap_like "$("$REPORT" notify --events "$d/storms.jsonl" --out "$d/notify" 2>&1)" '192\.0\.2\.9: 1 relay attempts, 2 bounce storm' \
	"notify counts bounce storms under the old and the new name"
err=$("$REPORT" --before "$d/missing.json" 2>&1 >/dev/null); rc=$?
tap_isnt "$rc" 0 "a missing input file is an error"
tap_like "$err" 'missing\.json' "naming the file"
# an input that is JSON but no audit result is an error, not an empty page
printf '{"a":1}\n' >"$d/notaudit.json"
err=$("$REPORT" --before "$d/notaudit.json" -o "$d/na.html" 2>&1); rc=$?
tap_isnt "$rc" 0 "--before with a JSON file that is no audit result: an error"
tap_like "$err" 'notaudit\.json: not a relayguard-audit -f json result' "naming what is wrong"
tap_is "$(ls "$d/na.html" 2>/dev/null)" "" "and no page is written"
err=$("$REPORT" --bogus 2>&1); rc=$?
tap_is "$rc" 64 "an unknown option is a usage error (EX_USAGE, 64)"
tap_like "$("$REPORT" --help)" '^usage: relayguard-report' "--help prints the usage on stdout"
tap_done

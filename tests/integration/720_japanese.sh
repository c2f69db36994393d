#!/bin/bash
# Japanese (issue 12): gettext catalogue po/ja.po, chosen by --lang ja or by
# LANG/LC_MESSAGES even when no ja_JP locale is generated on the machine; the
# auditor's text report and verdict, the notification body and the HTML
# report in Japanese; the HTML rendered by headless Chromium with a CJK
# font: the screenshot is not blank, the glyphs are real (not tofu), the
# expected strings are in the DOM.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1

TMP=$(mktemp -d "${TMPDIR:-/tmp}/rg-ja.XXXXXX")
rg_cleanup_add "rm -rf '$TMP'"

tap_check "po/ja.po compiles (msgfmt --check)" msgfmt --check -o "$TMP/ja.mo" po/ja.po
stats=$(msgfmt --check --statistics -o /dev/null po/ja.po 2>&1)
tap_unlike "$stats" 'untranslated|fuzzy' "every message is translated ($stats)"
xgettext --from-code=UTF-8 -k_ -kN_ -o "$TMP/rg.pot" lib/*/*.c audit/*.c report/*.c
msgcmp po/ja.po "$TMP/rg.pot" > "$TMP/msgcmp.out" 2>&1
tap_is "$?" 0 "po/ja.po covers every message in the sources (msgcmp)" || tap_diag "$(head -5 "$TMP/msgcmp.out")"
tap_check "the catalogue is built next to the programs" test -s "$BUILD/locale/ja/LC_MESSAGES/relayguard.mo"

# --- the auditor -------------------------------------------------------------------
HPORT=$(rg_free_port tcp)
# the server lives as long as hostile_smtpd allows (120 s): every audit
# below on a loaded machine
coproc HOST_PROC { exec "$HOSTILE" japanese "$HPORT" 120 2>/dev/null; }
rg_cleanup_add "rg_kill_pid $HOST_PROC_PID"
read -r -t 5 line <&"${HOST_PROC[0]}"
[ "$line" = ready ] || tap_bail "hostile_smtpd did not start"
audit() { timeout 60 "$AUDIT" -p "$HPORT" -t 5 --budget 20 -d victim.example "$@" 127.0.0.1; }
ja=$(audit --lang ja)
tap_like "$ja" '判定: 不正中継可能 \(オープンリレー\)' "--lang ja: the verdict in Japanese"
tap_like "$ja" 'relayguard-audit 検査報告: 127\.0\.0\.1 ポート' "the report header in Japanese"
tap_like "$ja" 'スパムの踏み台にされます' "what the verdict means, in Japanese"
tap_like "$ja" '  検査ツールの記録 \(英語原文\): [a-z0-9]' "the verdict's English reason is marked as the auditor's record"
tap_like "$ja" '推奨する修正' "the fix heading in Japanese"
tap_like "$ja" '日本語メールサーバへようこそ' "the server's own Japanese banner is kept"
locale -a 2>/dev/null | grep -qi '^ja_JP' && have=yes || have=no
envja=$(env -u LANGUAGE -u LC_ALL LC_MESSAGES=ja_JP.UTF-8 LANG=ja_JP.UTF-8 "$AUDIT" -p "$HPORT" -t 5 --budget 20 -d victim.example 127.0.0.1)
tap_like "$envja" '判定: 不正中継可能' "LANG/LC_MESSAGES=ja_JP.UTF-8 choose Japanese (ja_JP locale generated: $have)"
en=$(env -u LANGUAGE -u LC_ALL -u LC_MESSAGES LANG=C.UTF-8 "$AUDIT" -p "$HPORT" -t 5 --budget 20 -d victim.example 127.0.0.1)
tap_like "$en" 'Verdict: OPEN RELAY' "LANG=C.UTF-8: English"
tap_unlike "$en" "auditor's record" "in English the reason stands unmarked"
tap_like "$(LANG=ja_JP.UTF-8 audit --lang en)" 'Verdict: OPEN RELAY' "--lang en wins over LANG"
printf 'Organisation = x\nLanguage = ja\n' > "$TMP/r.conf"
tap_like "$(env -u LANGUAGE -u LC_ALL -u LC_MESSAGES LANG=C.UTF-8 "$AUDIT" --reporter "$TMP/r.conf" -p "$HPORT" -t 5 --budget 20 127.0.0.1)" \
	'判定: 不正中継可能' "the reporter profile's Language = ja applies when the environment names none"
audit --lang ja -f iodef > "$TMP/ja.xml"
tap_check "Japanese IODEF validates" xmllint --nonet --noout --schema schemas/iodef/iodef-2.0-offline.xsd "$TMP/ja.xml"
tap_is "$(xmllint --nonet --xpath 'string(/*/@*[local-name()="lang"])' "$TMP/ja.xml")" ja "with xml:lang=\"ja\""

# --- a notification ----------------------------------------------------------------
cat > "$TMP/events.jsonl" <<'EV'
{"time":"2026-06-23T12:34:00.000+09:00","event":"milter_start","time_zone":"JST","zone_name":"Asia/Tokyo","utc_offset":"+09:00","clock":"synchronised","esterror_us":500,"maxerror_us":12000,"pid":4242,"reason":"clock synchronised (kernel NTP state; estimated error 0.5 ms, maximum error 12 ms)"}
{"time":"2026-06-23T12:35:00.000+09:00","event":"relay_refused","action":"reject","client_addr":"192.0.2.7","client_name":"unknown","helo":"spam.example","sender":"<a@spam.example>","recipient":"<user@victim.example>","mode":"enforce","client_port":40000,"reason":"untrusted client, recipient domain victim.example not local"}
EV
"$REPORT" notify --lang ja --events "$TMP/events.jsonl" --out "$TMP/n" --request question > /dev/null 2>&1
body=$(cat "$TMP/n/192.0.2.7.txt")
for s in 'Subject: \[relayguard\] 192\.0\.2\.7 からの不正中継の試み' '1\. 分類' '3\. 送信元' '4\. 時刻' \
	'6\. 依頼事項' '7\. 情報開示の条件' '8\. ログ抜粋' '結果.*をお知らせください' '報告者未設定'; do
	tap_like "$body" "$s" "notification body (ja): $s"
done
tap_like "$body" 'Jun 23 [0-9:]{8} [^ ]+ relayguard-milter\[4242\]: time=' "syslog month names stay English (LC_TIME C)"
tap_like "$body" '根拠資料: 当方メールサーバの relayguard-milter のイベントログ' "the evidence is named in Japanese"
tap_unlike "$body" "$TMP|events\\.jsonl" "the body names no local path of the analyst's machine"
tap_check "Japanese notification IODEF validates" \
	xmllint --nonet --noout --schema schemas/iodef/iodef-2.0-offline.xsd "$TMP/n/192.0.2.7.iodef.xml"
tap_check "Japanese X-ARF validates" python3 tests/xarf/validate_xarf.py "$TMP/n/192.0.2.7.xarf.json"

# --- the HTML report, rendered --------------------------------------------------------
audit --lang ja -f json > "$TMP/before.json"
"$REPORT" --lang ja --before "$TMP/before.json" --title "" > "$TMP/report.html" 2>/dev/null
"$REPORT" --lang ja --before "$TMP/before.json" > "$TMP/report.html"
html=$(cat "$TMP/report.html")
tap_like "$html" '<html lang="ja">' "the HTML page declares lang=\"ja\""
# Japanese throughout (issue 19): the verdict's reason, the milter's events
# and every time in the zone the header names (the profile's Asia/Tokyo;
# the event log and the audit are in UTC)
cat > "$TMP/storm.jsonl" <<'EV'
{"time":"2026-06-23T03:35:00.000+00:00","event":"relay_refused","action":"reject","client_addr":"192.0.2.7","reason":"untrusted client, recipient domain victim.example not local"}
{"time":"2026-06-23T03:36:00.000+00:00","event":"bounce_storm","count":120,"window_seconds":60,"reason":"120 bounces in 60 s"}
EV
printf 'Organisation = x\nTimeZone = Asia/Tokyo\n' > "$TMP/tokyo.conf"
acc=$(jq -r '"\(.relay_probes) 件中 \(.accepted) 件が受理"' "$TMP/before.json")
jhtml=$(TZ=UTC "$REPORT" --lang ja --reporter "$TMP/tokyo.conf" --before "$TMP/before.json" --storm "$TMP/storm.jsonl")
tap_like "$jhtml" "時刻は JST \\(Asia/Tokyo" "the header names JST"
tap_like "$jhtml" "<p>中継の検査 $acc" "the verdict's reason in Japanese, from the audit's counts ($acc)"
tap_like "$jhtml" '<b>中継の試行を拒否</b> <code>relay_refused</code>' "a milter event explained in Japanese"
tap_like "$jhtml" '<b>バウンスの嵐: エラーメールが溜まっています</b>' "a bounce storm explained in Japanese"
tap_like "$jhtml" '2026-06-23T12:35:00\.000\+09:00</span>' "an event logged in UTC is shown in JST"
tap_unlike "$jhtml" '03:3[56]:00\.000\+00:00|T[0-9:.]+\+00:00' "no UTC time under \"times are JST\" (events, audit start and finish)"
tap_like "$html" 'Noto Sans CJK JP' "and asks for a CJK font"
if ! command -v chromium >/dev/null; then
	tap_skip "Chromium rendering" "chromium not installed"
	tap_done
	exit 0
fi
tap_like "$(fc-match 'Noto Sans CJK JP' 2>/dev/null)" 'NotoSansCJK' "fonts-noto-cjk is installed (fc-match)"
chrome() {	# OUT.png|--dump-dom FILE.html [WxH]
	local profile rc
	profile=$(mktemp -d "$TMP/chromium.XXXXXX")
	if [ "$1" = --dump-dom ]; then
		timeout 60 chromium --headless --no-sandbox --disable-gpu --no-first-run \
			--disable-background-networking --host-resolver-rules="MAP * ~NOTFOUND" \
			--proxy-server=127.0.0.1:9 --user-data-dir="$profile" --dump-dom "file://$2" 2>/dev/null
		rc=$?
	else
		timeout 60 chromium --headless --no-sandbox --disable-gpu --no-first-run \
			--disable-background-networking --host-resolver-rules="MAP * ~NOTFOUND" \
			--proxy-server=127.0.0.1:9 --user-data-dir="$profile" --window-size="${3:-1100,900}" \
			--screenshot="$1" "file://$2" >/dev/null 2>&1
		rc=$?
	fi
	rm -rf "$profile"
	return $rc
}
dom=$(chrome --dump-dom "$TMP/report.html")
for s in 'relayguard: 不正中継 ― 修正前と修正後' '修正前' '検査結果一覧' '不正中継可能' '報告者: 報告者未設定'; do
	tap_like "$dom" "$s" "rendered DOM holds \"$s\""
done
chrome "$TMP/report.png" "$TMP/report.html"
st=$(python3 tests/tools/png_stats.py "$TMP/report.png" 2>&1)
tap_like "$(jq -r '.nonwhite > 0.02 and .colors > 16' <<<"$st" 2>/dev/null)" true "the screenshot is not blank ($st)"
# real glyphs: the same four characters in two orders render differently only
# when a font has them (missing glyphs all draw the same box)
n=0
for w in 不正中継 継中正不; do
	n=$((n + 1))
	printf '<!DOCTYPE html><html lang="ja"><meta charset="utf-8"><body style="margin:0;background:#fff">'\
'<p style="font:64px '\''Noto Sans CJK JP'\'';margin:0">%s</p></body></html>' "$w" > "$TMP/glyphs$n.html"
	chrome "$TMP/glyphs$n.png" "$TMP/glyphs$n.html" 600,200
done
a=$(python3 tests/tools/png_stats.py "$TMP/glyphs1.png"); b=$(python3 tests/tools/png_stats.py "$TMP/glyphs2.png")
tap_like "$(jq -r '.nonwhite' <<<"$a")" '^0\.0[1-9]|^0\.[1-9]' "Japanese text draws ink ($(jq -c '{nonwhite,colors}' <<<"$a"))"
tap_isnt "$(jq -r .pixels_sha256 <<<"$a")" "$(jq -r .pixels_sha256 <<<"$b")" "and the glyphs are real (different order, different pixels: no tofu)"
tap_done

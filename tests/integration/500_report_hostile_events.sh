#!/bin/bash
# relayguard-report reads event logs that may not be clean: one written by an
# older relayguard-milter (valid UTF-8 kept raw, controls JSON-escaped, so
# they come back raw when parsed) or edited by hand. Every string from it is
# cleaned again (lib/base/textclean.c) before it reaches the notification e-mail,
# X-ARF, IntelMQ and IODEF files, or the HTML page: no C0 control, DEL, C1
# control (U+0080-U+009F), bidi control or line separator comes out raw.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1

rg_built "$REPORT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rg-hostile-ev.XXXXXX")
[ "${RG_KEEP:-0}" = 1 ] || rg_cleanup_add "rm -rf '$TMP'"

# Three relay attempts from 203.0.113.9 whose values carry ESC, CR LF, the C1
# CSI U+009B, a right-to-left override U+202E and U+2028 (JSON-escaped, as
# jansson writes them).
for i in 1 2 3; do
	printf '{"time":"2026-06-23T12:34:0%d.000+09:00","event":"relay_refused","action":"reject","client_addr":"203.0.113.9","client_name":"evil\\u001b]0;x\\u0007.example","helo":"h\\r\\nrelayguard-milter: event=relay_refused client_addr=6.6.6.6","sender":"spam\\u009b2J\\u202e@evil.example","recipient":"<v%d@victim.example>","mode":"enforce","reason":"r\\u2028\\u001b[2J"}\n' \
		"$i" "$i"
done >"$TMP/events.jsonl"
"$REPORT" notify --events "$TMP/events.jsonl" --out "$TMP/out" --victim 127.0.0.1 \
	>"$TMP/notify.out" 2>"$TMP/notify.err"
tap_is "$?" 0 "relayguard-report notify reads the hostile event log" || tap_diag "$(cat "$TMP/notify.err")"
raw_bad() {	# FILE: count of C0 (but LF, TAB), DEL, C1 (U+0080-U+009F), bidi, U+2028/9
	LC_ALL=C grep -c -P '[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xa8\xa9\xaa-\xae]|\xe2\x81[\xa6-\xa9]' "$1"
}
for f in 203.0.113.9.txt 203.0.113.9.xarf.json 203.0.113.9.intelmq.json 203.0.113.9.iodef.xml; do
	if [ -s "$TMP/out/$f" ]; then
		tap_is "$(raw_bad "$TMP/out/$f")" 0 "$f: no raw control, C1, bidi or separator character"
	else
		tap_fail "$f: written" "$(ls "$TMP/out" 2>&1)"
	fi
done
tap_like "$(cat "$TMP/out/203.0.113.9.txt")" 'spam\\u009b2J\\u202e@evil\.example' \
	"the e-mail body shows the sender's C1 and bidi characters as escapes"
tap_is "$(raw_bad "$TMP/notify.out")" 0 "the summary on stdout is clean"

# The HTML page of a case: its event list comes from the same kind of file.
printf '{"verdict":"closed","target":"127.0.0.1:25","tests":[]}\n' >"$TMP/before.json"
"$REPORT" --before "$TMP/before.json" --storm "$TMP/events.jsonl" >"$TMP/page.html" 2>"$TMP/page.err"
tap_is "$?" 0 "relayguard-report renders a page with the hostile events" || tap_diag "$(cat "$TMP/page.err")"
tap_is "$(raw_bad "$TMP/page.html")" 0 "the HTML page has no raw control, C1, bidi or separator character"
tap_like "$(cat "$TMP/page.html")" 'r\\u2028\\x1b\[2J' "the event's reason is shown with escapes"
tap_done
